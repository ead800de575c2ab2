/*
 * sig_frame: what a handler finds on entry and in its frame.
 *  - at entry (an assembly stub records the registers): rsp + 8 is 16-byte
 *    aligned, rdi = the signal, rsi = &siginfo, rdx = &ucontext, rax = 0;
 *  - the ucontext of a signal sent by tgkill from inline assembly: every
 *    general register as it was at the syscall, rip and rcx = the address
 *    after it, r11 = rflags, rax = tgkill's 0, cs 0x33 and ss 0x2b,
 *    trapno/err/cr2 (0 before any fault; 14, 4 and the address after a
 *    page fault, still there for a later signal), oldmask = uc_sigmask = the
 *    mask before, uc_link NULL, uc_stack empty, fpstate 64-byte aligned
 *    with the interrupted FPU's control words and Linux's FP_XSTATE_MAGIC1;
 *  - the mask while it runs: the signal and sa_mask (not with SA_NODEFER);
 *  - SA_RESETHAND: the disposition is SIG_DFL after one delivery;
 *  - a plain (non-SA_SIGINFO) handler gets rsi/rdx all the same.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

/* Registers at handler entry, stored by entry_stub before any C runs. */
uint64_t entry_regs[5];	/* rsp rdi rsi rdx rax */
void (*stub_target)(int, siginfo_t *, void *);
void entry_stub(int, siginfo_t *, void *);
__asm__(".text\n.globl entry_stub\nentry_stub:\n"
	"  mov %rsp, entry_regs(%rip)\n"
	"  mov %rdi, entry_regs+8(%rip)\n"
	"  mov %rsi, entry_regs+16(%rip)\n"
	"  mov %rdx, entry_regs+24(%rip)\n"
	"  mov %rax, entry_regs+32(%rip)\n"
	"  jmp *stub_target(%rip)\n");

static void set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int masked)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	sigaction(sig, &sa, NULL);
}

static void entry_handler(int sig, siginfo_t *si, void *uc)
{
	printf("entry: rsp+8 aligned %d, rdi=sig %d, rsi=&info %d, rdx=&uc %d, rax %lu\n",
	       (entry_regs[0] + 8) % 16 == 0, entry_regs[1] == (uint64_t)sig,
	       entry_regs[2] == (uint64_t)si, entry_regs[3] == (uint64_t)uc,
	       (unsigned long)entry_regs[4]);
	printf("entry: frame below the siginfo %d, ucontext between %d\n",
	       entry_regs[0] < (uint64_t)si, (uint64_t)uc > entry_regs[0] && (uint64_t)uc < (uint64_t)si);
}

/* --- the ucontext of a tgkill from known registers ----------------------- */

static ucontext_t seen;
static struct _libc_fpstate seen_fp;
uint64_t after_syscall, rsp_at_syscall, flags_at_syscall;	/* set by the asm below */
static sigset_t mask_in_handler;

static void copy_handler(int sig, siginfo_t *si, void *uc)
{
	memcpy(&seen, uc, sizeof seen);
	memcpy(&seen_fp, seen.uc_mcontext.fpregs, sizeof seen_fp);
	sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

static void tgkill_from_known_registers(int sig)
{
	uint64_t pid = getpid();
	__asm__ volatile(
		"sub $128, %%rsp\n"          /* keep clear of the caller's red zone */
		"push %%rbx\n push %%rbp\n push %%r12\n push %%r13\n push %%r14\n push %%r15\n"
		"mov $0x1111, %%rbx\n mov $0x2222, %%rbp\n mov $0x1212, %%r12\n"
		"mov $0x1313, %%r13\n mov $0x1414, %%r14\n mov $0x1515, %%r15\n"
		"mov $0x0808, %%r8\n mov $0x0909, %%r9\n mov $0x1010, %%r10\n"
		"mov %%rsp, rsp_at_syscall(%%rip)\n"
		"lea 1f(%%rip), %%rcx\n mov %%rcx, after_syscall(%%rip)\n"
		"mov $234, %%eax\n"          /* tgkill(pid, pid, sig) */
		"syscall\n"
		"1: pushf\n pop %%rcx\n mov %%rcx, flags_at_syscall(%%rip)\n"
		"pop %%r15\n pop %%r14\n pop %%r13\n pop %%r12\n pop %%rbp\n pop %%rbx\n"
		"add $128, %%rsp\n"
		: : "D"(pid), "S"(pid), "d"((uint64_t)sig)
		: "rax", "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
}

static void show_context(const char *what, sigset_t *before)
{
	greg_t *g = seen.uc_mcontext.gregs;
	printf("%s: rbx %llx rbp %llx r12 %llx r13 %llx r14 %llx r15 %llx\n", what,
	       g[REG_RBX], g[REG_RBP], g[REG_R12], g[REG_R13], g[REG_R14], g[REG_R15]);
	printf("%s: r8 %llx r9 %llx r10 %llx rdi=pid %d rsi=pid %d rdx %llx rax %lld\n", what,
	       g[REG_R8], g[REG_R9], g[REG_R10], g[REG_RDI] == getpid(), g[REG_RSI] == getpid(),
	       g[REG_RDX], g[REG_RAX]);
	printf("%s: rip after syscall %d, rcx %d, rsp %d, r11=rflags %d (IF %d)\n", what,
	       (uint64_t)g[REG_RIP] == after_syscall, (uint64_t)g[REG_RCX] == after_syscall,
	       (uint64_t)g[REG_RSP] == rsp_at_syscall,
	       (g[REG_R11] & 0xcd5) == (long long)(flags_at_syscall & 0xcd5),
	       !!(g[REG_EFL] & 0x200));
	unsigned long csgsfs = g[REG_CSGSFS];
	printf("%s: cs %#lx ss %#lx trapno %lld err %lld cr2 %#llx oldmask=sigmask %d\n", what,
	       csgsfs & 0xffff, csgsfs >> 48, g[REG_TRAPNO], g[REG_ERR], g[REG_CR2],
	       (unsigned long)g[REG_OLDMASK] == *(unsigned long *)&seen.uc_sigmask);
	printf("%s: uc_sigmask = mask before %d, uc_link %p, uc_stack %p/%zu/%d, uc_flags&6 %lu\n",
	       what, *(unsigned long *)&seen.uc_sigmask == *(unsigned long *)before,
	       (void *)seen.uc_link, seen.uc_stack.ss_sp, seen.uc_stack.ss_size,
	       seen.uc_stack.ss_flags, seen.uc_flags & 6);
	printf("%s: fpstate aligned %d, cwd %#x, mxcsr %#x, magic %#x\n", what,
	       seen.uc_mcontext.fpregs && ((uintptr_t)seen.uc_mcontext.fpregs % 64) == 0,
	       seen_fp.cwd, seen_fp.mxcsr, ((unsigned *)&seen_fp)[464 / 4]);
}

/* --- a page fault, then a signal ----------------------------------------- */

static sigjmp_buf jb;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	memcpy(&seen, uc, sizeof seen);
	printf("segv: si_code %d si_addr %p\n", si->si_code, si->si_addr);
	siglongjmp(jb, 1);
}

/* --- masks, SA_NODEFER, SA_RESETHAND, plain handlers ---------------------- */

static int depth, max_depth, deliveries;

static void nested_handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t m;
	sigprocmask(SIG_BLOCK, NULL, &m);
	depth++;
	deliveries++;
	if (depth > max_depth)
		max_depth = depth;
	printf("nested: depth %d, USR1 blocked %d\n", depth, sigismember(&m, SIGUSR1));
	if (deliveries < 3)
		raise(SIGUSR1);	/* blocked (deferred): runs after this handler returns */
	depth--;
}

static void plain_handler(int sig)
{
	siginfo_t *si = (siginfo_t *)entry_regs[2];
	ucontext_t *uc = (ucontext_t *)entry_regs[3];
	printf("plain: sig %d, rsi %d, rdx->uc_link %p\n", sig, si != NULL, (void *)uc->uc_link);
}

int main(void)
{
	sigset_t empty, before;
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);

	stub_target = entry_handler;
	set_handler(SIGUSR1, entry_stub, 0, 0);
	raise(SIGUSR1);

	/* Block SIGTERM first so the saved mask is not empty. */
	sigset_t t;
	sigemptyset(&t);
	sigaddset(&t, SIGTERM);
	sigprocmask(SIG_BLOCK, &t, &before);
	sigprocmask(SIG_BLOCK, NULL, &before);
	set_handler(SIGUSR2, copy_handler, 0, SIGHUP);
	tgkill_from_known_registers(SIGUSR2);
	show_context("tgkill", &before);
	printf("mask in handler: USR2 %d HUP %d TERM %d USR1 %d\n",
	       sigismember(&mask_in_handler, SIGUSR2), sigismember(&mask_in_handler, SIGHUP),
	       sigismember(&mask_in_handler, SIGTERM), sigismember(&mask_in_handler, SIGUSR1));
	sigset_t after;
	sigprocmask(SIG_BLOCK, NULL, &after);
	printf("mask after: USR2 %d HUP %d TERM %d\n", sigismember(&after, SIGUSR2),
	       sigismember(&after, SIGHUP), sigismember(&after, SIGTERM));
	sigprocmask(SIG_SETMASK, &empty, NULL);

	set_handler(SIGSEGV, segv_handler, 0, 0);
	if (!sigsetjmp(jb, 1))
		(void)*(volatile int *)0x1000;
	greg_t *g = seen.uc_mcontext.gregs;
	printf("fault: trapno %lld err %lld cr2 %#llx\n", g[REG_TRAPNO], g[REG_ERR], g[REG_CR2]);
	sigprocmask(SIG_BLOCK, NULL, &before);
	tgkill_from_known_registers(SIGUSR2);
	g = seen.uc_mcontext.gregs;
	printf("after the fault: trapno %lld err %lld cr2 %#llx\n", g[REG_TRAPNO], g[REG_ERR],
	       g[REG_CR2]);

	set_handler(SIGUSR1, nested_handler, SA_NODEFER, 0);
	raise(SIGUSR1);
	printf("nodefer: max depth %d\n", max_depth);

	set_handler(SIGUSR1, nested_handler, 0, 0);
	depth = max_depth = deliveries = 0;
	raise(SIGUSR1);
	printf("deferred: max depth %d\n", max_depth);	/* 1: one after the other */

	set_handler(SIGUSR1, entry_handler, SA_RESETHAND, 0);
	stub_target = entry_handler;
	raise(SIGUSR1);
	struct sigaction old;
	sigaction(SIGUSR1, NULL, &old);
	printf("resethand: now SIG_DFL %d\n", old.sa_handler == SIG_DFL);
	pid_t c = fork();
	if (c == 0) {
		raise(SIGUSR1);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("resethand: second delivery kills %d (signal %d)\n", WIFSIGNALED(st), WTERMSIG(st));

	/* A plain handler through the stub: rsi and rdx are set all the same. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = (void (*)(int))(void (*)(void))entry_stub;
	stub_target = (void (*)(int, siginfo_t *, void *))(void (*)(void))plain_handler;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	return 0;
}
