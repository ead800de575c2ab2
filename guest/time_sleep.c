/*
 * time_sleep: nanosleep and clock_nanosleep on the virtual clock --
 * relative and TIMER_ABSTIME sleeps last at least what was asked, a
 * handled signal ends a sleep early with EINTR and the time left written,
 * an absolute sleep in the past returns at once, and the errno cases
 * (EINVAL for a bad timespec or clock, EOPNOTSUPP for a clock that cannot
 * sleep, EFAULT for a bad pointer); a sleep stopped by SIGSTOP goes on
 * after SIGCONT through restart_syscall.  Only facts, never raw times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static volatile int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static long raw_nanosleep(const void *req, void *rem)
{
	long r = syscall(SYS_nanosleep, req, rem);
	return r < 0 ? -errno : r;
}

static long raw_clock_nanosleep(long clk, long flags, const void *req, void *rem)
{
	long r = syscall(SYS_clock_nanosleep, clk, flags, req, rem);
	return r < 0 ? -errno : r;
}

int main(void)
{
	struct timespec req = {0, 50 * 1000000}, rem;
	long long t0 = now_ns(CLOCK_MONOTONIC);

	printf("nanosleep 50ms: %d\n", nanosleep(&req, NULL));
	printf("  lasted at least 50ms: %s\n", yes(now_ns(CLOCK_MONOTONIC) - t0 >= 50000000));

	t0 = now_ns(CLOCK_MONOTONIC);
	printf("clock_nanosleep(MONOTONIC, 0, 30ms): %d\n",
	       clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, 30000000}, NULL));
	printf("  lasted at least 30ms: %s\n", yes(now_ns(CLOCK_MONOTONIC) - t0 >= 30000000));

	long long until = now_ns(CLOCK_MONOTONIC) + 40000000;
	struct timespec abs = {until / 1000000000, until % 1000000000};
	printf("clock_nanosleep(MONOTONIC, ABSTIME, now+40ms): %d\n",
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL));
	printf("  woke at or after it: %s\n", yes(now_ns(CLOCK_MONOTONIC) >= until));

	until = now_ns(CLOCK_REALTIME) + 40000000;
	abs = (struct timespec){until / 1000000000, until % 1000000000};
	printf("clock_nanosleep(REALTIME, ABSTIME, now+40ms): %d\n",
	       clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL));
	printf("  woke at or after it: %s\n", yes(now_ns(CLOCK_REALTIME) >= until));

	t0 = now_ns(CLOCK_MONOTONIC);
	abs = (struct timespec){1, 0};
	printf("clock_nanosleep(MONOTONIC, ABSTIME, 1s after boot: past): %d, at once: %s\n",
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL),
	       yes(now_ns(CLOCK_MONOTONIC) - t0 < 10000000));
	printf("clock_nanosleep(BOOTTIME, 0, 10ms): %d\n",
	       clock_nanosleep(CLOCK_BOOTTIME, 0, &(struct timespec){0, 10000000}, NULL));

	/* A handled SIGALRM ends a 2 s sleep after about 100 ms: EINTR and
	 * the rest in rem; an absolute sleep gives EINTR without rem. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
	req = (struct timespec){2, 0};
	memset(&rem, 0, sizeof rem);
	int r = nanosleep(&req, &rem);
	int e = errno;
	printf("nanosleep 2s, SIGALRM after 100ms: %d %s, alarms %d\n", r, strerrorname_np(e), alarms);
	long long left = rem.tv_sec * 1000000000LL + rem.tv_nsec;
	printf("  rem between 1.5s and 2s: %s, tv_nsec valid: %s\n",
	       yes(left > 1500000000LL && left < 2000000000LL), yes(rem.tv_nsec < 1000000000));

	setitimer(ITIMER_REAL, &it, NULL);
	until = now_ns(CLOCK_MONOTONIC) + 2000000000LL;
	abs = (struct timespec){until / 1000000000, until % 1000000000};
	memset(&rem, 0x55, sizeof rem);
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, &rem);
	printf("clock_nanosleep ABSTIME +2s, SIGALRM: returns %s, rem untouched: %s\n",
	       strerrorname_np(r), yes(rem.tv_sec == 0x5555555555555555LL));

	setitimer(ITIMER_REAL, &it, NULL);
	r = clock_nanosleep(CLOCK_REALTIME, 0, &(struct timespec){3, 0}, &rem);
	printf("clock_nanosleep REALTIME 3s, SIGALRM: returns %s, rem > 2s: %s\n",
	       strerrorname_np(r), yes(rem.tv_sec >= 2));

	/* Errors. */
	printf("nanosleep nsec=1e9: %ld\n", raw_nanosleep(&(struct timespec){0, 1000000000}, NULL));
	printf("nanosleep sec=-1: %ld\n", raw_nanosleep(&(struct timespec){-1, 0}, NULL));
	printf("nanosleep bad pointer: %ld\n", raw_nanosleep((void *)16, NULL));
	printf("clock_nanosleep clock 99: %ld\n", raw_clock_nanosleep(99, 0, &req, NULL));
	printf("clock_nanosleep MONOTONIC_RAW: %ld\n",
	       raw_clock_nanosleep(CLOCK_MONOTONIC_RAW, 0, &(struct timespec){0, 1000}, NULL));
	printf("clock_nanosleep REALTIME_COARSE: %ld\n",
	       raw_clock_nanosleep(CLOCK_REALTIME_COARSE, 0, &(struct timespec){0, 1000}, NULL));
	printf("clock_nanosleep THREAD_CPUTIME: %ld\n",
	       raw_clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){0, 1000}, NULL));
	printf("clock_nanosleep bad nsec: %ld\n",
	       raw_clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, -1}, NULL));
	printf("clock_nanosleep other flag bits ignored: %ld\n",
	       raw_clock_nanosleep(CLOCK_MONOTONIC, 6, &(struct timespec){0, 1000}, NULL));
	printf("clock_nanosleep bad pointer: %ld\n", raw_clock_nanosleep(CLOCK_MONOTONIC, 0, (void *)16, NULL));

	/* No handler runs for SIGSTOP/SIGCONT: the child's nanosleep is
	 * restarted through restart_syscall and sleeps to the same end. */
	fflush(stdout);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		long long t = now_ns(CLOCK_MONOTONIC);
		write(p[1], "x", 1);
		struct timespec r300 = {0, 300000000}, left = {0, 0};
		int rr = nanosleep(&r300, &left);
		_exit(rr == 0 && now_ns(CLOCK_MONOTONIC) - t >= 300000000 ? 0 : 1);
	}
	char c;
	read(p[0], &c, 1);
	struct timespec d = {0, 50000000};
	nanosleep(&d, NULL);
	kill(pid, SIGSTOP);
	int st;
	waitpid(pid, &st, WUNTRACED);
	printf("sleeping child stopped: %s\n", yes(WIFSTOPPED(st)));
	nanosleep(&d, NULL);
	kill(pid, SIGCONT);
	waitpid(pid, &st, 0);
	printf("its nanosleep went on after SIGCONT and lasted 300ms: %s\n",
	       yes(WIFEXITED(st) && WEXITSTATUS(st) == 0));
	return 0;
}
