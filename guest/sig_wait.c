/*
 * sig_wait: waiting for signals.
 *  - sigtimedwait with a zero timeout and nothing pending: EAGAIN; with
 *    0.1 s: EAGAIN after (at least) that long; with a pending signal: that
 *    signal and its siginfo (lowest number first, a thread-directed one
 *    before a process-directed one);
 *  - sigwaitinfo/sigwait wake for a signal a child sends while we wait;
 *    a handled signal outside the set interrupts the wait (EINTR, never
 *    restarted, even with SA_RESTART) and its handler runs;
 *  - a waited-for signal that is ignored by default (SIGCHLD) is still
 *    taken;
 *  - errors: a bad timespec EINVAL, bad pointers EFAULT, a sigset size
 *    other than 8 EINVAL; SIGKILL/SIGSTOP in the set are ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int handled;
static void handler(int sig) { handled = sig; }

static void result(const char *what, long r)
{
	printf("%-36s %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pid_t send_later(int sig)
{
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		kill(parent, sig);
		_exit(0);
	}
	return c;
}

int main(void)
{
	sigset_t set, blocked;
	siginfo_t si;
	struct timespec zero = {0, 0}, tenth = {0, 100 * 1000 * 1000};
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	blocked = set;
	sigprocmask(SIG_BLOCK, &blocked, NULL);

	result("nothing pending, zero timeout", sigtimedwait(&set, &si, &zero));
	double t0 = now();
	result("nothing pending, 0.1 s", sigtimedwait(&set, &si, &tenth));
	printf("  waited at least 0.1 s: %d\n", now() - t0 >= 0.099);

	kill(getpid(), SIGUSR2);
	syscall(SYS_tgkill, getpid(), getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	memset(&si, 0, sizeof si);
	long r = sigtimedwait(&set, &si, &zero);
	printf("three pending: %ld code %d pid ok %d\n", r, si.si_code, si.si_pid == getpid());
	r = sigtimedwait(&set, &si, &zero);
	printf("  then: %ld code %d\n", r, si.si_code);
	r = sigtimedwait(&set, &si, &zero);
	printf("  then: %ld code %d\n", r, si.si_code);
	result("  then", sigtimedwait(&set, &si, &zero));

	pid_t c = send_later(SIGUSR1);
	r = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %ld from the child %d\n", r, si.si_pid == c);
	memset(&si, 0, sizeof si);
	r = sigwaitinfo(&set, &si);		/* the child's exit */
	printf("sigwaitinfo: SIGCHLD %d code %d status %d\n", r == SIGCHLD, si.si_code,
	       si.si_status);
	waitpid(c, NULL, 0);

	c = send_later(SIGUSR2);
	int sig = 0;
	int e = sigwait(&set, &sig);
	printf("sigwait: %d sig %d\n", e, sig);
	waitpid(c, NULL, 0);
	sigtimedwait(&set, &si, &zero);		/* SIGCHLD */

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	c = send_later(SIGHUP);
	struct timespec ten = {10, 0};
	sigset_t usr;				/* not SIGCHLD: the child's exit races */
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	result("interrupted by a handled SIGHUP", sigtimedwait(&usr, &si, &ten));
	printf("  handler ran for %d\n", handled);
	waitpid(c, NULL, 0);
	sigtimedwait(&set, &si, &zero);

	struct timespec bad = {0, 1000000000};
	result("tv_nsec 1e9", sigtimedwait(&set, &si, &bad));
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	result("tv_sec -1", sigtimedwait(&set, &si, &bad));
	result("bad set pointer", syscall(SYS_rt_sigtimedwait, 8, &si, &zero, 8));
	result("bad timespec pointer", syscall(SYS_rt_sigtimedwait, &set, &si, 8, 8));
	result("sigsetsize 4", syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 4));
	kill(getpid(), SIGUSR1);
	result("bad siginfo pointer (signal taken)", syscall(SYS_rt_sigtimedwait, &set, 8, &zero, 8));
	result("  then nothing", sigtimedwait(&set, &si, &zero));
	sigset_t k;
	sigemptyset(&k);
	sigaddset(&k, SIGKILL);
	sigaddset(&k, SIGSTOP);
	result("only SIGKILL and SIGSTOP", sigtimedwait(&k, &si, &tenth));
	return 0;
}
