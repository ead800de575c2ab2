/*
 * sig_queue: queued signals and their siginfo.
 *  - while blocked, a standard signal sent three times is pending once;
 *    real-time signals queue every time, and on unblocking run lowest
 *    number first, each in send order, with the value sigqueue gave them
 *    (SI_QUEUE, si_pid, si_uid);
 *  - kill() gives SI_USER, tgkill SI_TKILL, a fault its own code;
 *  - RLIMIT_SIGPENDING (it counts the user's queued signals, and other
 *    processes may hold some): a limit 3 lower queues 3 fewer; sigqueue
 *    fails with EAGAIN at the limit, kill() of a real-time signal still
 *    sends it (without its siginfo: SI_USER, pid 0); all of them drain;
 *  - rt_sigqueueinfo: any si_code < 0 but SI_TKILL may be queued to
 *    another process; si_code >= 0 or SI_TKILL only to ourselves (EPERM
 *    otherwise); the kernel sets si_signo itself;
 *  - sigpending shows what is blocked and pending.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct { int sig, code, value, pid_ok, uid_ok; } seen[64];
static volatile int nseen, total;	/* changed by the handler */

static void handler(int sig, siginfo_t *si, void *uc)
{
	total++;
	if (nseen < 64) {
		seen[nseen].sig = sig;
		seen[nseen].code = si->si_code;
		seen[nseen].value = si->si_value.sival_int;
		seen[nseen].pid_ok = si->si_pid == getpid();
		seen[nseen].uid_ok = si->si_uid == getuid();
		nseen++;
	}
}

static void show_seen(const char *what)
{
	printf("%s:", what);
	for (int i = 0; i < nseen; i++)
		printf(" %d/%d/%d%s", seen[i].sig - SIGRTMIN, seen[i].code, seen[i].value,
		       seen[i].pid_ok && seen[i].uid_ok ? "" : "?");
	printf("\n");
	nseen = 0;
}

static void block(int how, int from, int to)
{
	sigset_t m;
	sigemptyset(&m);
	for (int s = from; s <= to; s++)
		sigaddset(&m, s);
	sigprocmask(how, &m, NULL);
}

static int queue_value(int sig, int v)
{
	union sigval sv = {.sival_int = v};
	return sigqueue(getpid(), sig, sv);
}

static void result(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	for (int s = SIGRTMIN; s <= SIGRTMIN + 4; s++)
		sigaction(s, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	/* Coalescing and ordering. */
	block(SIG_BLOCK, SIGUSR1, SIGUSR1);
	block(SIG_BLOCK, SIGRTMIN, SIGRTMIN + 4);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	queue_value(SIGRTMIN + 3, 30);
	queue_value(SIGRTMIN + 1, 10);
	queue_value(SIGRTMIN + 3, 31);
	queue_value(SIGRTMIN + 1, 11);
	kill(getpid(), SIGRTMIN + 2);
	queue_value(SIGRTMIN + 1, 12);
	syscall(SYS_tgkill, getpid(), getpid(), SIGRTMIN + 4);
	sigset_t pend;
	sigpending(&pend);
	printf("pending: USR1 %d RT1 %d RT2 %d RT3 %d RT0 %d\n", sigismember(&pend, SIGUSR1),
	       sigismember(&pend, SIGRTMIN + 1), sigismember(&pend, SIGRTMIN + 2),
	       sigismember(&pend, SIGRTMIN + 3), sigismember(&pend, SIGRTMIN));
	block(SIG_UNBLOCK, SIGUSR1, SIGUSR1);
	printf("USR1 ran %d time(s), code %d\n", nseen, seen[0].code);
	nseen = 0;
	block(SIG_UNBLOCK, SIGRTMIN, SIGRTMIN + 4);
	show_seen("order (rt-SIGRTMIN/code/value)");

	/* RLIMIT_SIGPENDING counts the user's queued signals, other
	 * processes' too: what fits under two limits differs by the
	 * difference of the limits. */
	struct rlimit rl, saved;
	getrlimit(RLIMIT_SIGPENDING, &saved);
	rl = saved;
	int fit[2];
	for (int i = 0; i < 2; i++) {
		rl.rlim_cur = 200 - 3 * i;
		setrlimit(RLIMIT_SIGPENDING, &rl);
		block(SIG_BLOCK, SIGRTMIN, SIGRTMIN + 4);
		fit[i] = 0;
		while (queue_value(SIGRTMIN, fit[i]) == 0 && fit[i] < 300)
			fit[i]++;
		if (i == 0)
			printf("limit reached: %s\n", strerror(errno));
		block(SIG_UNBLOCK, SIGRTMIN, SIGRTMIN + 4);
		nseen = 0;
	}
	printf("a limit 3 lower queues 3 fewer: %d\n", fit[0] - fit[1] == 3);
	block(SIG_BLOCK, SIGRTMIN, SIGRTMIN + 4);
	for (int v = 0; queue_value(SIGRTMIN, v) == 0 && v < 300; v++)
		;
	result("kill of an RT signal past the limit", kill(getpid(), SIGRTMIN + 1));
	result("sigqueue of an RT signal past the limit", queue_value(SIGRTMIN + 1, 99));
	nseen = 0;
	block(SIG_UNBLOCK, SIGRTMIN + 1, SIGRTMIN + 1);
	show_seen("the one kill sent (no siginfo)");
	total = 0;
	block(SIG_UNBLOCK, SIGRTMIN, SIGRTMIN + 4);
	printf("all the queued ones ran: %d\n", total == fit[1]);
	nseen = 0;
	setrlimit(RLIMIT_SIGPENDING, &saved);

	/* rt_sigqueueinfo and forged codes. */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR2;		/* the kernel puts the real number in */
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 77;
	si.si_pid = getpid();
	si.si_uid = getuid();
	result("rt_sigqueueinfo SI_QUEUE to self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &si));
	si.si_code = SI_USER;
	result("rt_sigqueueinfo SI_USER to self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &si));
	si.si_code = SI_KERNEL;
	result("rt_sigqueueinfo SI_KERNEL to self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &si));
	show_seen("to self");

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		pause();
		_exit(0);
	}
	si.si_code = SI_USER;
	result("SI_USER to another", syscall(SYS_rt_sigqueueinfo, c, SIGRTMIN, &si));
	si.si_code = SI_TKILL;
	result("SI_TKILL to another", syscall(SYS_rt_sigqueueinfo, c, SIGRTMIN, &si));
	si.si_code = SI_KERNEL;
	result("SI_KERNEL to another", syscall(SYS_rt_sigqueueinfo, c, SIGRTMIN, &si));
	si.si_code = SI_QUEUE;
	result("SI_QUEUE to another", syscall(SYS_rt_sigqueueinfo, c, SIGRTMIN, &si));
	si.si_code = -50;
	result("code -50 to another", syscall(SYS_rt_sigqueueinfo, c, SIGRTMIN, &si));
	si.si_code = SI_QUEUE;
	result("tgsigqueueinfo SI_QUEUE", syscall(SYS_rt_tgsigqueueinfo, c, c, SIGRTMIN, &si));
	result("tgsigqueueinfo wrong tgid", syscall(SYS_rt_tgsigqueueinfo, getpid(), c, SIGRTMIN, &si));
	result("tgsigqueueinfo tid 0", syscall(SYS_rt_tgsigqueueinfo, c, 0, SIGRTMIN, &si));
	result("rt_sigqueueinfo bad pointer", syscall(SYS_rt_sigqueueinfo, c, SIGRTMIN, (void *)8));
	result("rt_sigqueueinfo bad signal", syscall(SYS_rt_sigqueueinfo, c, 65, &si));
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return 0;
}
