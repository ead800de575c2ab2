/*
 * sig_altstack: the alternate signal stack.
 *  - sigaltstack: none at first (SS_DISABLE); ENOMEM below MINSIGSTKSZ,
 *    EINVAL for unknown flags, EFAULT for bad pointers; installed, it
 *    reads back with flags 0;
 *  - an SA_ONSTACK handler runs on it and sees SS_ONSTACK; changing the
 *    stack from there is EPERM; its frame's uc_stack describes the stack;
 *    a second signal nests on the same stack; a handler without
 *    SA_ONSTACK runs on the normal stack;
 *  - SS_AUTODISARM: inside the handler the stack reads as disabled, and
 *    it is back after the handler returns;
 *  - a stack overflow: SIGSEGV's handler runs on the alternate stack and
 *    the program recovers with siglongjmp; without an alternate stack the
 *    same overflow kills with SIGSEGV; a handler that keeps nesting on the
 *    alternate stack dies with SIGSEGV when it is full.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)	/* linux/signal.h */
#endif
#define ALT_SIZE (64 * 1024)
static char altstack[ALT_SIZE] __attribute__((aligned(16)));

static int on_alt(void *p)
{
	return (char *)p >= altstack && (char *)p < altstack + ALT_SIZE;
}

static void set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(sig, &sa, NULL);
}

static long raw_sigaltstack(const stack_t *ss, stack_t *old)
{
	return syscall(SYS_sigaltstack, ss, old);
}

static void result(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

static void show(const char *what)
{
	stack_t cur;
	raw_sigaltstack(NULL, &cur);
	printf("%s: sp %s size %zu flags %#x\n", what,
	       cur.ss_sp == NULL ? "NULL" : cur.ss_sp == altstack ? "altstack" : "other",
	       cur.ss_size, (unsigned)cur.ss_flags);
}

static int nested;

static void onstack_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	int local;
	printf("handler %d: on the alternate stack %d, frame there %d\n", sig, on_alt(&local),
	       on_alt(uc));
	printf("handler %d: uc_stack sp %d size %zu flags %d\n", sig,
	       uc->uc_stack.ss_sp == altstack, uc->uc_stack.ss_size, uc->uc_stack.ss_flags);
	show("  inside");
	stack_t ss = {.ss_sp = altstack, .ss_size = ALT_SIZE, .ss_flags = 0};
	result("  change it from here", raw_sigaltstack(&ss, NULL));
	if (sig == SIGUSR1 && !nested++)
		raise(SIGUSR2);
}

static void plain_handler(int sig, siginfo_t *si, void *p)
{
	int local;
	printf("handler without SA_ONSTACK: on the alternate stack %d\n", on_alt(&local));
}

/* --- overflow -------------------------------------------------------------------- */

static sigjmp_buf jb;
static volatile int depth;

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	depth++;
	return recurse(n + 1) + pad[0];
}

static void overflow_handler(int sig, siginfo_t *si, void *p)
{
	int local;
	printf("overflow: SIGSEGV code %d on the alternate stack %d\n", si->si_code,
	       on_alt(&local));
	siglongjmp(jb, 1);
}

static void nest_forever(int sig, siginfo_t *si, void *p)
{
	/* Each level takes 8 KiB, more than any frame: the stack runs out in
	 * a handler (the guard page) or in the kernel (no room for the next
	 * frame), never in between, where the next frame would start over at
	 * the top as the frame sizes of the kernel decide. */
	volatile char pad[8192];
	pad[0] = 1;
	raise(SIGUSR1);		/* SA_NODEFER: a new frame each time */
	pad[1] = pad[0];
}

static void child_status(const char *what, void (*fn)(void))
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		fn();
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("%s: %s %d\n", what, WIFSIGNALED(st) ? "killed by signal" : "exit",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static void overflow_without_altstack(void)
{
	stack_t off = {.ss_flags = SS_DISABLE};
	raw_sigaltstack(&off, NULL);
	set_handler(SIGSEGV, overflow_handler, SA_ONSTACK);
	recurse(0);
}

static void altstack_overflow(void)
{
	/* A stack with an inaccessible page below it: whether the kernel finds
	 * no room for a frame or the handler runs off the end, SIGSEGV. */
	char *m = mmap(NULL, ALT_SIZE + 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(m, 4096, PROT_NONE);
	stack_t ss = {.ss_sp = m + 4096, .ss_size = ALT_SIZE, .ss_flags = 0};
	raw_sigaltstack(&ss, NULL);
	signal(SIGSEGV, SIG_DFL);
	set_handler(SIGUSR1, nest_forever, SA_ONSTACK | SA_NODEFER);
	raise(SIGUSR1);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	show("at start");
	stack_t ss = {.ss_sp = altstack, .ss_size = 2047, .ss_flags = 0};
	result("size 2047", raw_sigaltstack(&ss, NULL));
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 7;
	result("flags 7", raw_sigaltstack(&ss, NULL));
	result("bad pointer", raw_sigaltstack((stack_t *)16, NULL));
	result("bad old pointer", raw_sigaltstack(NULL, (stack_t *)16));
	ss.ss_flags = 0;
	printf("install: %ld\n", raw_sigaltstack(&ss, NULL));
	show("installed");

	set_handler(SIGUSR1, onstack_handler, SA_ONSTACK);
	set_handler(SIGUSR2, onstack_handler, SA_ONSTACK);
	raise(SIGUSR1);
	set_handler(SIGUSR2, plain_handler, 0);
	raise(SIGUSR2);

	ss.ss_flags = SS_AUTODISARM;
	printf("autodisarm: %ld\n", raw_sigaltstack(&ss, NULL));
	show("armed");
	nested = 1;
	raise(SIGUSR1);
	show("after the handler");

	ss.ss_flags = 0;
	raw_sigaltstack(&ss, NULL);
	set_handler(SIGSEGV, overflow_handler, SA_ONSTACK);
	if (!sigsetjmp(jb, 1))
		recurse(0);
	printf("recovered from the overflow, deep %d\n", depth > 1000);

	child_status("overflow without an alternate stack", overflow_without_altstack);
	child_status("nesting until the alternate stack is full", altstack_overflow);

	ss.ss_flags = SS_DISABLE;
	printf("disable: %ld\n", raw_sigaltstack(&ss, NULL));
	show("disabled");
	return 0;
}
