/*
 * sig_faults: synchronous faults reach handlers with Linux's siginfo and
 * sigcontext: for each, si_signo, si_code, si_addr (relative to where it
 * should point), trapno and err, and whether rip points at the faulting
 * instruction (or, for int3, just past it):
 *  - SIGSEGV SEGV_MAPERR (unmapped), SEGV_ACCERR (write to a read-only
 *    page), a read of a kernel address (SEGV_MAPERR, err with the
 *    protection bit), a privileged instruction (#GP: SI_KERNEL, no address);
 *  - SIGFPE FPE_INTDIV (#DE), SIGILL ILL_ILLOPN (#UD), SIGTRAP (int3:
 *    SI_KERNEL);
 * then, in children: a fault while its signal is blocked, or ignored,
 * kills; a SIGSEGV handler that returns without fixing anything is run
 * again and again (here it gives up after three runs by exiting).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf jb;
static siginfo_t got;
static greg_t trapno, err, rip;

static void handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	got = *si;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	err = uc->uc_mcontext.gregs[REG_ERR];
	rip = uc->uc_mcontext.gregs[REG_RIP];
	siglongjmp(jb, 1);
}

/* Each fault is one instruction between two labels, so the test knows
 * where rip must be. */
extern char ud2_at[], int3_at[], int3_after[], div_at[], hlt_at[], load_at[], store_at[];
#define ONCE __attribute__((noinline, noclone))	/* the labels must exist once */
static ONCE void do_ud2(void) { __asm__ volatile("ud2_at: ud2"); }
static ONCE void do_int3(void) { __asm__ volatile("int3_at: int3\nint3_after: nop"); }
static ONCE void do_div(void)
{
	__asm__ volatile("xor %%ecx, %%ecx\n mov $1, %%eax\n xor %%edx, %%edx\n"
			 "div_at: div %%ecx" : : : "rax", "rcx", "rdx");
}
static ONCE void do_hlt(void) { __asm__ volatile("hlt_at: hlt"); }
uintptr_t target;	/* what do_load and do_store touch */
static ONCE void do_load(void)
{
	__asm__ volatile("mov target(%%rip), %%rax\n load_at: mov (%%rax), %%al" : : : "rax");
}
static ONCE void do_store(void)
{
	__asm__ volatile("mov target(%%rip), %%rax\n store_at: movb $1, (%%rax)" : : : "rax");
}

static void probe(const char *what, void (*fn)(void), char *where, uintptr_t addr)
{
	memset(&got, 0, sizeof got);
	if (!sigsetjmp(jb, 1))
		fn();
	printf("%-22s signo %2d code %3d addr %s trapno %2lld err %#llx rip %s\n", what,
	       got.si_signo, got.si_code,
	       (uintptr_t)got.si_addr == addr ? "as expected" : "OTHER",
	       trapno, err, (char *)rip == where ? "at it" : "OTHER");
}

static volatile uintptr_t bad = 8;

static void child_dies(const char *what, int block, int ignore)
{
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		if (block) {
			sigset_t m;
			sigemptyset(&m);
			sigaddset(&m, SIGSEGV);
			sigprocmask(SIG_BLOCK, &m, NULL);
		}
		if (ignore)
			signal(SIGSEGV, SIG_IGN);
		*(volatile int *)bad = 1;
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("%s: %s %d\n", what, WIFSIGNALED(st) ? "killed by signal" : "exit",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

static int runs;
static void returning_handler(int sig)
{
	if (++runs == 3) {
		printf("handler ran %d times on the same fault\n", runs);
		fflush(stdout);
		_exit(3);
	}
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
	for (int i = 0; i < 5; i++)
		sigaction(faults[i], &sa, NULL);

	target = 0x1000;
	probe("unmapped read", do_load, load_at, 0x1000);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	target = (uintptr_t)ro + 16;
	probe("read-only write", do_store, store_at, (uintptr_t)ro + 16);
	target = 0xffffffff81000000UL;
	probe("kernel address read", do_load, load_at, 0xffffffff81000000UL);
	probe("hlt", do_hlt, hlt_at, 0);
	probe("divide by zero", do_div, div_at, (uintptr_t)div_at);
	probe("ud2", do_ud2, ud2_at, (uintptr_t)ud2_at);
	probe("int3", do_int3, int3_after, 0);

	child_dies("fault with SIGSEGV blocked", 1, 0);
	child_dies("fault with SIGSEGV ignored", 0, 1);

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		signal(SIGSEGV, returning_handler);
		*(volatile int *)bad = 1;
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("returning handler: exit %d\n", WEXITSTATUS(st));
	return 0;
}
