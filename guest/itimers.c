/*
 * itimers: alarm and setitimer/getitimer -- alarm's return value (whole
 * seconds, rounded), ITIMER_REAL firing periodically (counted, with
 * SIGALRM's si_code), ITIMER_VIRTUAL and ITIMER_PROF on the process's
 * CPU time during a busy loop, getitimer after each, the errno cases, an
 * alarm that survives exec, and one a fork does not inherit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int hits[65];
static volatile int last_code;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits[sig]++;
	last_code = si->si_code;
}

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static long raw(long nr, long a, long b, long c)
{
	long r = syscall(nr, a, b, c);
	return r < 0 ? -errno : r;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* After exec: the alarm set before it must still fire. */
		pause();
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);

	printf("alarm(5) = %u\n", alarm(5));
	printf("alarm(3) = %u\n", alarm(3));
	printf("alarm(0) = %u\n", alarm(0));
	printf("alarm(0) again = %u\n", alarm(0));

	/* ITIMER_REAL every 20 ms: five SIGALRMs, one per pause(). */
	struct itimerval it = {{0, 20000}, {0, 20000}}, old, cur;
	printf("setitimer(REAL, 20ms/20ms) = %d\n", setitimer(ITIMER_REAL, &it, NULL));
	getitimer(ITIMER_REAL, &cur);
	printf("getitimer: interval 20ms: %s, value in (0, 20ms]: %s\n",
	       yes(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 20000),
	       yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 20000));
	while (hits[SIGALRM] < 5)
		pause();
	printf("SIGALRM x%d, si_code SI_KERNEL: %s\n", hits[SIGALRM], yes(last_code == SI_KERNEL));
	memset(&it, 0, sizeof it);
	int r = setitimer(ITIMER_REAL, &it, &old);
	printf("disarm: %d, old interval 20ms: %s\n", r, yes(old.it_interval.tv_usec == 20000));
	getitimer(ITIMER_REAL, &cur);
	printf("after disarm: %ld %ld %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec,
	       (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);

	/* ITIMER_VIRTUAL and ITIMER_PROF count CPU time: a busy loop. */
	for (int which = ITIMER_VIRTUAL; which <= ITIMER_PROF; which++) {
		int sig = which == ITIMER_VIRTUAL ? SIGVTALRM : SIGPROF;
		struct itimerval v = {{0, 5000}, {0, 5000}};
		printf("setitimer(%s, 5ms/5ms) = %d\n", which == ITIMER_VIRTUAL ? "VIRTUAL" : "PROF",
		       setitimer(which, &v, NULL));
		getitimer(which, &cur);
		printf("  armed: %s, interval 5ms: %s\n", yes(cur.it_value.tv_sec || cur.it_value.tv_usec),
		       yes(cur.it_interval.tv_usec == 5000));
		volatile unsigned long spin = 0;
		while (hits[sig] < 3)
			spin++;
		memset(&v, 0, sizeof v);
		setitimer(which, &v, NULL);
		printf("  %s x%d, spun: %s\n", which == ITIMER_VIRTUAL ? "SIGVTALRM" : "SIGPROF",
		       hits[sig], yes(spin > 0));
	}

	/* Errors. */
	printf("setitimer(which 3) = %ld\n", raw(SYS_setitimer, 3, (long)&it, 0));
	it.it_value.tv_usec = 1000000;
	printf("setitimer(usec 1000000) = %ld\n", raw(SYS_setitimer, ITIMER_REAL, (long)&it, 0));
	it.it_value.tv_usec = -1;
	printf("setitimer(usec -1) = %ld\n", raw(SYS_setitimer, ITIMER_REAL, (long)&it, 0));
	printf("setitimer(bad pointer) = %ld\n", raw(SYS_setitimer, ITIMER_REAL, 16, 0));
	printf("setitimer(NULL value) = %ld\n", raw(SYS_setitimer, ITIMER_REAL, 0, 0));
	printf("getitimer(which 7) = %ld\n", raw(SYS_getitimer, 7, (long)&cur, 0));
	printf("getitimer(bad pointer) = %ld\n", raw(SYS_getitimer, ITIMER_REAL, 16, 0));
	fflush(stdout);

	/* fork: the child has no alarm; exec: the alarm stays. */
	alarm(1);
	pid_t pid = fork();
	if (pid == 0) {
		_exit(alarm(0));
	}
	int st;
	waitpid(pid, &st, 0);
	printf("forked child's alarm(0) = %d\n", WEXITSTATUS(st));
	alarm(0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		struct itimerval a = {{0, 0}, {0, 50000}};
		setitimer(ITIMER_REAL, &a, NULL);
		execl(argv[0], argv[0], "after-exec", (char *)NULL);
		_exit(2);
	}
	waitpid(pid, &st, 0);
	printf("exec'd child: killed by SIGALRM: %s\n", yes(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM));
	return 0;
}
