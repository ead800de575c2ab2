/*
 * sig_calls: the signal calls' argument checks and kill's targets, with
 * raw syscalls (errno printed by name):
 *  - rt_sigaction: sigset size, signal numbers, SIGKILL/SIGSTOP, bad
 *    pointers (a bad old-action pointer still installs the new one),
 *    unknown flag bits and SIGKILL in sa_mask read back cleared;
 *  - rt_sigprocmask, rt_sigpending, rt_sigsuspend: sizes, `how`, bad
 *    pointers; SIGKILL and SIGSTOP cannot be blocked;
 *  - kill: signal 0 as a probe of self, a zombie, a missing pid, our
 *    group, everyone; bad signals; kill(0, sig) reaches the whole group;
 *    tkill/tgkill: bad ids and a tid of another group;
 *  - in children: a handler address in the kernel half, and a handler
 *    installed without SA_RESTORER, end with SIGSEGV when the signal comes;
 *    SIGKILL "blocked" still kills.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SA_RESTORER 0x04000000	/* asm/signal.h; glibc does not export it */

struct ksigaction {
	uintptr_t handler;
	unsigned long flags;
	uintptr_t restorer;
	uint64_t mask;
};

extern void restore_rt(void);	/* what glibc gives as sa_restorer */
__asm__(".text\nrestore_rt:\n mov $15, %eax\n syscall\n");

static const char *ename(long r)
{
	if (r >= 0)
		return "ok";
	switch (errno) {
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ESRCH: return "ESRCH";
	case EPERM: return "EPERM";
	case EINTR: return "EINTR";
	default: return strerror(errno);
	}
}

static void result(const char *what, long r)
{
	printf("%-44s %ld %s\n", what, r, ename(r));
}

static long sigaction_raw(int sig, struct ksigaction *act, struct ksigaction *old, long size)
{
	return syscall(SYS_rt_sigaction, sig, act, old, size);
}

static volatile int usr1;
static void count(int sig) { usr1++; }

static void die_child(const char *what, void (*fn)(void))
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		fn();
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("%-44s %s %d\n", what, WIFSIGNALED(st) ? "killed by" : "exit",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void kernel_handler(void)
{
	struct ksigaction a = {0xffffffff81000000UL, SA_RESTORER, (uintptr_t)restore_rt, 0};
	sigaction_raw(SIGUSR1, &a, NULL, 8);
	raise(SIGUSR1);
}

static void no_restorer(void)
{
	struct ksigaction a = {(uintptr_t)count, 0, 0, 0};
	sigaction_raw(SIGUSR1, &a, NULL, 8);
	raise(SIGUSR1);
}

static void kill_blocked(void)
{
	uint64_t all = ~0ULL;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, 8);
	kill(getpid(), SIGKILL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct ksigaction a = {(uintptr_t)count, SA_RESTORER | 0x400 | 0x20000000,
			       (uintptr_t)restore_rt, ~0ULL}, old;
	result("rt_sigaction sigsetsize 4", sigaction_raw(SIGUSR1, &a, NULL, 4));
	result("rt_sigaction sigsetsize 16", sigaction_raw(SIGUSR1, &a, NULL, 16));
	result("rt_sigaction signal 0", sigaction_raw(0, &a, NULL, 8));
	result("rt_sigaction signal 65", sigaction_raw(65, &a, NULL, 8));
	result("rt_sigaction signal -1", sigaction_raw(-1, &a, NULL, 8));
	result("rt_sigaction SIGKILL", sigaction_raw(SIGKILL, &a, NULL, 8));
	result("rt_sigaction SIGSTOP", sigaction_raw(SIGSTOP, &a, NULL, 8));
	result("rt_sigaction SIGKILL, query only", sigaction_raw(SIGKILL, NULL, &old, 8));
	result("rt_sigaction bad new pointer", sigaction_raw(SIGUSR1, (void *)8, NULL, 8));
	result("rt_sigaction bad old pointer", sigaction_raw(SIGUSR1, &a, (void *)8, 8));
	sigaction_raw(SIGUSR1, NULL, &old, 8);
	printf("installed anyway %d, flags %#lx, mask has KILL %d STOP %d USR2 %d\n",
	       old.handler == (uintptr_t)count, old.flags, !!(old.mask & (1ULL << (SIGKILL - 1))),
	       !!(old.mask & (1ULL << (SIGSTOP - 1))), !!(old.mask & (1ULL << (SIGUSR2 - 1))));
	a.flags = SA_RESTORER;
	a.mask = 0;
	sigaction_raw(SIGUSR1, &a, NULL, 8);

	uint64_t set = ~0ULL, got;
	result("rt_sigprocmask how 7", syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8));
	result("rt_sigprocmask sigsetsize 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4));
	result("rt_sigprocmask bad set", syscall(SYS_rt_sigprocmask, SIG_BLOCK, 8, NULL, 8));
	result("rt_sigprocmask bad old set", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, 8, 8));
	result("rt_sigprocmask block everything", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &got, 8);
	printf("blocked: KILL %d STOP %d USR1 %d (glibc's 32/33 %d/%d)\n",
	       !!(got & (1ULL << (SIGKILL - 1))), !!(got & (1ULL << (SIGSTOP - 1))),
	       !!(got & (1ULL << (SIGUSR1 - 1))), !!(got & (1ULL << 31)), !!(got & (1ULL << 32)));
	kill(getpid(), SIGUSR1);
	uint32_t half = 0;
	result("rt_sigpending sigsetsize 16", syscall(SYS_rt_sigpending, &got, 16));
	result("rt_sigpending sigsetsize 4", syscall(SYS_rt_sigpending, &half, 4));
	printf("pending (first half): USR1 %d\n", !!(half & (1U << (SIGUSR1 - 1))));
	result("rt_sigpending bad pointer", syscall(SYS_rt_sigpending, 8, 8));
	result("rt_sigsuspend sigsetsize 4", syscall(SYS_rt_sigsuspend, &set, 4));
	result("rt_sigsuspend bad pointer", syscall(SYS_rt_sigsuspend, 8, 8));
	set = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	printf("USR1 ran once unblocked: %d\n", usr1);

	fflush(stdout);
	pid_t zombie = fork();
	if (zombie == 0)
		_exit(0);
	usleep(100000);
	result("kill(self, 0)", kill(getpid(), 0));
	result("kill(zombie child, 0)", kill(zombie, 0));
	waitpid(zombie, NULL, 0);
	result("kill(reaped child, 0)", kill(zombie, 0));
	result("kill(0, 0)", kill(0, 0));
	result("kill(-1, 0)", kill(-1, 0));
	result("kill(-pgrp, 0)", kill(-getpgrp(), 0));
	result("kill(-INT_MAX, 0)", kill(-INT_MAX, 0));
	result("kill(INT_MIN, 0)", kill(INT_MIN, 0));
	result("kill(self, 65)", kill(getpid(), 65));
	result("kill(self, -1)", kill(getpid(), -1));
	result("kill(missing pid, 65)", kill(INT_MAX, 65));
	result("tkill(0, USR1)", syscall(SYS_tkill, 0, SIGUSR1));
	result("tkill(self, 65)", syscall(SYS_tkill, getpid(), 65));
	result("tgkill(0, self, USR1)", syscall(SYS_tgkill, 0, getpid(), SIGUSR1));
	result("tgkill(self, 0, USR1)", syscall(SYS_tgkill, getpid(), 0, SIGUSR1));
	result("tgkill(self+1 as tgid, self, 0)", syscall(SYS_tgkill, getpid() + 1, getpid(), 0));

	/* kill(0, sig): everyone in our process group, ourselves included
	 * (a group of our own, so nobody else is hit). */
	setpgid(0, 0);
	usr1 = 0;
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		while (!usr1)
			pause();
		write(p[1], "k", 1);
		_exit(0);
	}
	close(p[1]);
	usleep(100000);
	kill(0, SIGUSR1);
	char ch = 0;
	read(p[0], &ch, 1);
	waitpid(c, NULL, 0);
	printf("kill(0, USR1): we got it %d, the child %d\n", usr1, ch == 'k');

	die_child("handler in the kernel half", kernel_handler);
	die_child("handler without SA_RESTORER", no_restorer);
	die_child("SIGKILL while everything is blocked", kill_blocked);
	return 0;
}
