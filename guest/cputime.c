/*
 * cputime: CPU time on the process and thread clocks, times(),
 * getrusage(SELF/CHILDREN/THREAD), wait4's rusage and SIGCHLD's
 * si_utime/si_stime after a child that used at least 30 ms of CPU time,
 * the clockids of clock_getcpuclockid/pthread_getcpuclockid, and the
 * errno cases.  Only facts (non-decreasing, at least what was used).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static long long ns(clockid_t c)
{
	struct timespec t;

	if (clock_gettime(c, &t))
		return -errno;
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

static volatile long chld_utime, chld_stime;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chld_utime = si->si_utime;
	chld_stime = si->si_stime;
}

/* Burn CPU in user mode until the process clock says `ns_wanted`. */
static void burn(long long ns_wanted)
{
	volatile unsigned long x = 0;

	while (ns(CLOCK_PROCESS_CPUTIME_ID) < ns_wanted)
		for (int i = 0; i < 100000; i++)
			x += i;
}

int main(void)
{
	long long p0 = ns(CLOCK_PROCESS_CPUTIME_ID), t0 = ns(CLOCK_THREAD_CPUTIME_ID);
	int mono = 1;
	long long prev = p0;
	for (int i = 0; i < 200; i++) {
		long long p = ns(CLOCK_PROCESS_CPUTIME_ID);
		mono &= p >= prev;
		prev = p;
	}
	burn(p0 + 2000000);
	printf("process CPU clock non-decreasing and advancing: %s %s\n", yes(mono),
	       yes(ns(CLOCK_PROCESS_CPUTIME_ID) >= p0 + 2000000));
	printf("thread CPU clock advancing: %s\n", yes(ns(CLOCK_THREAD_CPUTIME_ID) > t0));
	clockid_t cid;
	int r = clock_getcpuclockid(getpid(), &cid);
	printf("clock_getcpuclockid(self) = %d, readable: %s\n", r, yes(ns(cid) > 0));
	r = pthread_getcpuclockid(pthread_self(), &cid);
	printf("pthread_getcpuclockid(self) = %d, readable: %s\n", r, yes(ns(cid) > 0));
	printf("clock_gettime(CPU clock of pid 1's thread) = %lld\n", ns((clockid_t)(~1U << 3 | 4 | 2)));
	printf("clock_gettime(CPU clock kind 3) = %lld\n", ns((clockid_t)(~0U << 3 | 3)));
	printf("clock_gettime(clock 99) = %lld\n", ns(99));

	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("RUSAGE_CHILDREN before any child: %lld\n", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime));

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGCHLD, &sa, NULL);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		burn(30000000);
		_exit(0);
	}
	int st;
	struct rusage cru;
	while (wait4(pid, &st, 0, &cru) < 0 && errno == EINTR)
		;
	long long used = tv_ns(cru.ru_utime) + tv_ns(cru.ru_stime);
	printf("wait4 rusage of the child: at least 30ms: %s\n", yes(used >= 30000000));
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("RUSAGE_CHILDREN after: the same: %s\n",
	       yes(tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) == used));
	struct tms tm;
	times(&tm);
	printf("times: children's ticks at least 2: %s\n", yes(tm.tms_cutime + tm.tms_cstime >= 2));
	printf("SIGCHLD si_utime + si_stime at least 2 ticks: %s\n", yes(chld_utime + chld_stime >= 2));
	getrusage(RUSAGE_SELF, &ru);
	struct rusage th;
	getrusage(RUSAGE_THREAD, &th);
	printf("RUSAGE_SELF and RUSAGE_THREAD at least 2ms: %s %s\n",
	       yes(tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 2000000),
	       yes(tv_ns(th.ru_utime) + tv_ns(th.ru_stime) >= 2000000));
	errno = 0;
	r = getrusage(5, &ru);
	printf("getrusage(5) = %d %s\n", r, strerrorname_np(errno));
	long lr = syscall(SYS_getrusage, RUSAGE_SELF, 16);
	printf("getrusage(bad pointer) = %ld %s\n", lr, strerrorname_np(errno));
	return 0;
}
