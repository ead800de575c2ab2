/*
 * posix_timers: timer_create/settime/gettime/getoverrun/delete -- the
 * default sigevent (SIGALRM, si_value = the id), SIGEV_SIGNAL with an
 * RT signal and SI_TIMER siginfo, a periodic timer whose signal waits
 * blocked (si_overrun and timer_getoverrun count the missed intervals),
 * SIGEV_NONE (timer_gettime only), TIMER_ABSTIME on CLOCK_REALTIME,
 * SIGEV_THREAD_ID to one thread, a timer on the process CPU clock, a
 * signal dropped when its timer is set again or deleted, timers deleted
 * by exec, and the errno cases.  Only counts and facts are printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static long raw(long nr, long a, long b, long c, long d)
{
	long r = syscall(nr, a, b, c, d);
	return r < 0 ? -errno : r;
}

static void set(timer_t t, long val_ns, long iv_ns, int flags)
{
	struct itimerspec its = {{iv_ns / 1000000000, iv_ns % 1000000000},
				 {val_ns / 1000000000, val_ns % 1000000000}};
	if (timer_settime(t, flags, &its, NULL))
		perror("timer_settime");
}

static int wait_sig(int sig, siginfo_t *si, long timeout_ms)
{
	sigset_t s;
	struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000};

	sigemptyset(&s);
	sigaddset(&s, sig);
	return sigtimedwait(&s, si, &ts);
}

static volatile int thread_hits;
static volatile pid_t hit_tid;

static void on_usr1(int sig)
{
	(void)sig;
	thread_hits++;
	hit_tid = gettid();
}

static volatile pid_t worker_tid;
static volatile int stop_worker;

static void *worker(void *arg)
{
	(void)arg;
	worker_tid = gettid();
	while (!stop_worker)
		usleep(1000);
	return NULL;
}

static volatile int cpu_fired;

static void on_rt2(int sig)
{
	(void)sig;
	cpu_fired = 1;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* After exec: a timer of the old program would kill us. */
		struct timespec ts = {0, 150000000};
		nanosleep(&ts, NULL);
		printf("after exec: no timer signal\n");
		return 0;
	}
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	siginfo_t si;

	/* Default sigevent: SIGALRM with si_value = the timer id. */
	timer_t t0;
	printf("timer_create(MONOTONIC, NULL) = %d\n", timer_create(CLOCK_MONOTONIC, NULL, &t0));
	set(t0, 10000000, 0, 0);
	int sig = wait_sig(SIGALRM, &si, 2000);
	printf("got %s, SI_TIMER: %s, si_timerid == id: %s, si_value == id: %s, overrun %d\n",
	       sigabbrev_np(sig), yes(si.si_code == SI_TIMER),
	       yes(si.si_timerid == (int)(intptr_t)t0), yes(si.si_value.sival_int == (int)(intptr_t)t0),
	       si.si_overrun);

	/* SIGEV_SIGNAL, RT signal, value 42, one shot. */
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 1;
	sev.sigev_value.sival_int = 42;
	timer_t t1;
	printf("timer_create(REALTIME, SIGRTMIN+1) = %d\n", timer_create(CLOCK_REALTIME, &sev, &t1));
	set(t1, 20000000, 0, 0);
	struct itimerspec cur;
	timer_gettime(t1, &cur);
	printf("gettime: value in (0, 20ms]: %s, interval 0: %s\n",
	       yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000),
	       yes(!cur.it_interval.tv_sec && !cur.it_interval.tv_nsec));
	sig = wait_sig(SIGRTMIN + 1, &si, 2000);
	printf("got SIGRTMIN+%d, si_value %d, overrun %d\n", sig - SIGRTMIN, si.si_value.sival_int,
	       si.si_overrun);
	timer_gettime(t1, &cur);
	printf("after it fired: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);

	/* Periodic every 50 ms while blocked for 275 ms: one signal, 4 overruns. */
	set(t1, 50000000, 50000000, 0);
	struct timespec ts = {0, 275000000};
	nanosleep(&ts, NULL);
	sigset_t pend;
	sigpending(&pend);
	printf("pending after 275ms: %s\n", yes(sigismember(&pend, SIGRTMIN + 1)));
	sig = wait_sig(SIGRTMIN + 1, &si, 0);
	printf("dequeued: %s, si_overrun %d, timer_getoverrun %d\n", yes(sig == SIGRTMIN + 1),
	       si.si_overrun, timer_getoverrun(t1));
	sig = wait_sig(SIGRTMIN + 1, &si, 2000);
	printf("next period: %s, si_overrun %d, timer_getoverrun %d\n", yes(sig == SIGRTMIN + 1),
	       si.si_overrun, timer_getoverrun(t1));

	/* Set again while its signal is pending: the old signal is dropped. */
	set(t1, 10000000, 0, 0);
	nanosleep(&(struct timespec){0, 50000000}, NULL);
	set(t1, 0, 0, 0);
	sig = wait_sig(SIGRTMIN + 1, &si, 0);
	printf("signal of a timer set again: %s\n", sig > 0 ? "delivered" : strerrorname_np(errno));
	set(t1, 10000000, 0, 0);
	nanosleep(&(struct timespec){0, 50000000}, NULL);
	printf("timer_delete = %d\n", timer_delete(t1));
	sig = wait_sig(SIGRTMIN + 1, &si, 0);
	printf("signal of a deleted timer: %s\n", sig > 0 ? "delivered" : strerrorname_np(errno));

	/* SIGEV_NONE: nothing is sent; gettime counts down and wraps. */
	sev.sigev_notify = SIGEV_NONE;
	timer_t tn;
	timer_create(CLOCK_MONOTONIC, &sev, &tn);
	set(tn, 30000000, 0, 0);
	nanosleep(&(struct timespec){0, 10000000}, NULL);
	timer_gettime(tn, &cur);
	printf("SIGEV_NONE one-shot after 10ms: value in (0, 20ms]: %s\n",
	       yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000));
	nanosleep(&(struct timespec){0, 40000000}, NULL);
	timer_gettime(tn, &cur);
	printf("  expired: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);
	set(tn, 30000000, 30000000, 0);
	nanosleep(&(struct timespec){0, 100000000}, NULL);
	timer_gettime(tn, &cur);
	printf("SIGEV_NONE periodic after 100ms: value in (0, 30ms]: %s, interval 30ms: %s\n",
	       yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 30000000),
	       yes(cur.it_interval.tv_nsec == 30000000));
	sigpending(&pend);
	printf("  nothing pending: %s\n", yes(!sigismember(&pend, SIGRTMIN + 1)));
	timer_delete(tn);

	/* TIMER_ABSTIME on CLOCK_REALTIME. */
	timer_t ta;
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_value.sival_int = 7;
	timer_create(CLOCK_REALTIME, &sev, &ta);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long until = now.tv_sec * 1000000000LL + now.tv_nsec + 30000000;
	struct itimerspec abs = {{0, 0}, {until / 1000000000, until % 1000000000}};
	printf("settime ABSTIME = %d\n", timer_settime(ta, TIMER_ABSTIME, &abs, NULL));
	sig = wait_sig(SIGRTMIN + 1, &si, 2000);
	clock_gettime(CLOCK_REALTIME, &now);
	printf("got it: %s, value %d, not early: %s\n", yes(sig == SIGRTMIN + 1), si.si_value.sival_int,
	       yes(now.tv_sec * 1000000000LL + now.tv_nsec >= until));
	struct itimerspec old;
	set(ta, 5000000000LL, 1000000000, 0);
	memset(&old, 0, sizeof old);
	timer_settime(ta, 0, &(struct itimerspec){{0, 0}, {0, 0}}, &old);
	printf("old setting: value in (4s, 5s]: %s, interval 1s: %s\n",
	       yes(old.it_value.tv_sec == 4 || (old.it_value.tv_sec == 5 && !old.it_value.tv_nsec)),
	       yes(old.it_interval.tv_sec == 1 && !old.it_interval.tv_nsec));
	timer_delete(ta);

	/* SIGEV_THREAD_ID: the signal goes to that thread. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t th;
	pthread_create(&th, NULL, worker, NULL);
	while (!worker_tid)
		usleep(1000);
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = worker_tid;
	timer_t tt;
	printf("timer_create(SIGEV_THREAD_ID) = %d\n", timer_create(CLOCK_MONOTONIC, &sev, &tt));
	set(tt, 10000000, 0, 0);
	while (!thread_hits)
		usleep(1000);
	printf("handled by that thread: %s\n", yes(hit_tid == worker_tid));
	stop_worker = 1;
	pthread_join(th, NULL);
	timer_delete(tt);

	/* A timer on the process CPU clock fires after CPU work. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_rt2;
	sigaction(SIGRTMIN + 2, &sa, NULL);
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 2;
	timer_t tc;
	printf("timer_create(PROCESS_CPUTIME_ID) = %d\n", timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &tc));
	set(tc, 5000000, 0, 0);
	volatile unsigned long spin = 0;
	while (!cpu_fired)
		spin++;
	printf("CPU-clock timer fired after a busy loop: %s\n", yes(cpu_fired && spin));
	timer_delete(tc);

	/* Errors. */
	timer_t bad;
	sev.sigev_notify = SIGEV_SIGNAL;
	printf("timer_create(clock 99) = %ld\n", raw(SYS_timer_create, 99, (long)&sev, (long)&bad, 0));
	printf("timer_create(MONOTONIC_RAW) = %ld\n",
	       raw(SYS_timer_create, CLOCK_MONOTONIC_RAW, (long)&sev, (long)&bad, 0));
	sev.sigev_signo = 0;
	printf("timer_create(signo 0) = %ld\n", raw(SYS_timer_create, CLOCK_MONOTONIC, (long)&sev, (long)&bad, 0));
	sev.sigev_signo = 65;
	printf("timer_create(signo 65) = %ld\n", raw(SYS_timer_create, CLOCK_MONOTONIC, (long)&sev, (long)&bad, 0));
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify = 99;
	printf("timer_create(notify 99) = %ld\n", raw(SYS_timer_create, CLOCK_MONOTONIC, (long)&sev, (long)&bad, 0));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev._sigev_un._tid = 1;
	printf("timer_create(THREAD_ID of init) = %ld\n",
	       raw(SYS_timer_create, CLOCK_MONOTONIC, (long)&sev, (long)&bad, 0));
	printf("timer_create(bad sigevent) = %ld\n", raw(SYS_timer_create, CLOCK_MONOTONIC, 16, (long)&bad, 0));
	printf("timer_create(bad id pointer) = %ld\n", raw(SYS_timer_create, CLOCK_MONOTONIC, 0, 16, 0));
	int kid;
	raw(SYS_timer_create, CLOCK_MONOTONIC, 0, (long)&kid, 0);
	struct itimerspec its = {{0, 0}, {0, 1000000000}};
	printf("timer_settime(nsec 1e9) = %ld\n", raw(SYS_timer_settime, kid, 0, (long)&its, 0));
	printf("timer_settime(NULL) = %ld\n", raw(SYS_timer_settime, kid, 0, 0, 0));
	printf("timer_settime(bad pointer) = %ld\n", raw(SYS_timer_settime, kid, 0, 16, 0));
	printf("timer_settime(id 12345) = %ld\n",
	       raw(SYS_timer_settime, 12345, 0, (long)&(struct itimerspec){{0, 0}, {1, 0}}, 0));
	printf("timer_gettime(id -1) = %ld\n", raw(SYS_timer_gettime, -1, (long)&cur, 0, 0));
	printf("timer_gettime(bad pointer) = %ld\n", raw(SYS_timer_gettime, kid, 16, 0, 0));
	printf("timer_getoverrun(id 12345) = %ld\n", raw(SYS_timer_getoverrun, 12345, 0, 0, 0));
	printf("timer_delete = %ld, again = %ld\n", raw(SYS_timer_delete, kid, 0, 0, 0),
	       raw(SYS_timer_delete, kid, 0, 0, 0));
	fflush(stdout);

	/* exec deletes the timers: a pending one must not follow. */
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		memset(&sev, 0, sizeof sev);
		sev.sigev_notify = SIGEV_SIGNAL;
		sev.sigev_signo = SIGUSR2;
		timer_t te;
		timer_create(CLOCK_MONOTONIC, &sev, &te);
		set(te, 50000000, 0, 0);
		execl(argv[0], argv[0], "after-exec", (char *)NULL);
		_exit(2);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("exec'd child exited 0: %s\n", yes(WIFEXITED(st) && WEXITSTATUS(st) == 0));
	return 0;
}
