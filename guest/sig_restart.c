/*
 * sig_restart: a blocking call interrupted by a handled signal, with and
 * without SA_RESTART.  A helper child signals us 0.2 s into the call and,
 * for the calls that can finish, makes them finish 0.2 s later.
 *  - read on a pipe, wait4, futex wait: restarted under SA_RESTART (the
 *    call then returns its normal result), EINTR without it;
 *  - futex wait with a timeout, pause, sigsuspend, nanosleep: EINTR even
 *    with SA_RESTART (sigsuspend's mask is restored, nanosleep reports
 *    time left);
 *  - a write blocked on a full pipe returns what it wrote;
 *  - an ignored signal (SIG_IGN, or SIG_DFL whose default is to ignore) and
 *    a blocked one interrupt nothing: the read returns its data;
 *  - SIGSTOP then SIGCONT (no handler runs): a read restarts and returns
 *    its data, a futex wait with a timeout restarts through
 *    restart_syscall and still times out at its first deadline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int handled;
static int *word;		/* shared with the helper: a futex */
static int pfd[2];

static void handler(int sig)
{
	handled++;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

enum finish { NOTHING, WRITE_PIPE, WAKE_FUTEX, EXIT_SELF, CONTINUE, CONTINUE_WRITE };

/* Fork the helper: after a nap it sends `sig` to us, then after another
 * nap it finishes the call as `how` says. */
static pid_t helper(int sig, enum finish how)
{
	pid_t parent = getpid();
	pid_t c = fork();
	if (c)
		return c;
	nap();
	kill(parent, sig);
	nap();
	if (how == CONTINUE || how == CONTINUE_WRITE) {
		kill(parent, SIGCONT);
		nap();
		how = how == CONTINUE ? NOTHING : WRITE_PIPE;
	}
	if (how == WRITE_PIPE)
		write(pfd[1], "data", 4);
	if (how == WAKE_FUTEX) {
		*word = 1;
		syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	_exit(7);
}

static void report(const char *what, long r)
{
	printf("%-34s -> %ld (%s), handler ran %d\n", what, r, r < 0 ? strerror(errno) : "ok",
	       handled);
	handled = 0;
}

static void reap(pid_t c)
{
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
}

static void try_read(const char *what, int sig, enum finish how)
{
	char buf[16];
	pipe(pfd);
	pid_t c = helper(sig, how);
	long r = read(pfd[0], buf, sizeof buf);
	report(what, r);
	reap(c);
	close(pfd[0]);
	close(pfd[1]);
}

static void try_wait(const char *what, int flags)
{
	set_handler(SIGUSR1, handler, flags);
	pid_t c = helper(SIGUSR1, EXIT_SELF);
	int st;
	long r = wait4(c, &st, 0, NULL);
	report(what, r == c ? 1 : r);
	if (r != c)
		reap(c);
}

static void try_futex(const char *what, int flags, struct timespec *timeout)
{
	set_handler(SIGUSR1, handler, flags);
	*word = 0;
	pid_t c = helper(SIGUSR1, WAKE_FUTEX);
	long r = syscall(SYS_futex, word, FUTEX_WAIT, 0, timeout, NULL, 0);
	report(what, r);
	reap(c);
}

int main(void)
{
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	setvbuf(stdout, NULL, _IONBF, 0);

	set_handler(SIGUSR1, handler, SA_RESTART);
	try_read("read, SA_RESTART", SIGUSR1, WRITE_PIPE);
	set_handler(SIGUSR1, handler, 0);
	try_read("read, no SA_RESTART", SIGUSR1, WRITE_PIPE);

	try_wait("wait4, SA_RESTART", SA_RESTART);
	try_wait("wait4, no SA_RESTART", 0);

	try_futex("futex wait, SA_RESTART", SA_RESTART, NULL);
	try_futex("futex wait, no SA_RESTART", 0, NULL);
	struct timespec ten = {10, 0};
	try_futex("futex wait+timeout, SA_RESTART", SA_RESTART, &ten);

	set_handler(SIGUSR1, handler, SA_RESTART);
	pid_t c = helper(SIGUSR1, NOTHING);
	report("pause, SA_RESTART", pause());
	reap(c);

	sigset_t mask, old, now;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_SETMASK, &mask, &old);
	c = helper(SIGUSR1, NOTHING);
	sigset_t during;
	sigemptyset(&during);
	sigaddset(&during, SIGTERM);
	report("sigsuspend, SA_RESTART", sigsuspend(&during));
	sigprocmask(SIG_SETMASK, &old, &now);
	printf("  mask after sigsuspend: USR2 %d TERM %d\n", sigismember(&now, SIGUSR2),
	       sigismember(&now, SIGTERM));
	reap(c);

	c = helper(SIGUSR1, NOTHING);
	struct timespec req = {30, 0}, rem = {0, 0};
	report("nanosleep, SA_RESTART", nanosleep(&req, &rem));
	printf("  time left: between 29 and 30 s: %d\n", rem.tv_sec >= 29 && rem.tv_sec < 30);
	reap(c);

	/* A write that fills the pipe and waits for room. */
	static char big[100000];
	pipe(pfd);
	c = helper(SIGUSR1, NOTHING);
	report("write 100000 to a pipe, SA_RESTART", write(pfd[1], big, sizeof big));
	reap(c);
	close(pfd[0]);
	close(pfd[1]);

	/* Signals that interrupt nothing. */
	signal(SIGUSR2, SIG_IGN);
	try_read("read, SIGUSR2 ignored", SIGUSR2, WRITE_PIPE);
	signal(SIGWINCH, SIG_DFL);
	try_read("read, SIGWINCH default", SIGWINCH, WRITE_PIPE);
	set_handler(SIGUSR1, handler, 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	try_read("read, SIGUSR1 blocked", SIGUSR1, WRITE_PIPE);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	printf("  after unblocking: handler ran %d\n", handled);

	/* Stopped and continued: no handler, so every kind restarts. */
	handled = 0;
	try_read("read, SIGSTOP + SIGCONT", SIGSTOP, CONTINUE_WRITE);
	*word = 0;
	c = helper(SIGSTOP, CONTINUE);
	struct timespec one = {1, 0};
	double t0 = monotonic();
	long r = syscall(SYS_futex, word, FUTEX_WAIT, 0, &one, NULL, 0);
	report("futex wait 1 s, SIGSTOP", r);
	printf("  timed out after its one second: %d\n", monotonic() - t0 >= 0.99 && monotonic() - t0 < 1.5);
	reap(c);
	return 0;
}
