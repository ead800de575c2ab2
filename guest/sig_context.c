/*
 * sig_context: rt_sigreturn honours what a handler edits in its frame, and
 * refuses what would give user code kernel privilege.
 *  - a SIGILL handler moves rip past the ud2, sets rax and CF, and tries
 *    to set IOPL and NT: the code resumes after the ud2 with rax and CF as
 *    set, IOPL and NT still 0 (rt_sigreturn keeps only the user flags);
 *  - a SIGSEGV handler points rbx at good memory: the load is retried and
 *    succeeds;
 *  - a handler adds SIGUSR2 to uc_sigmask: it is blocked afterwards;
 *  - forged frames, each in a child: a copy of a real frame returns
 *    normally; with IOPL set it returns with IOPL 0; a kernel code segment,
 *    a kernel stack segment (strict), a non-canonical rip, a kernel-half
 *    rip, an all-zero frame, a frame on unmapped memory, an fpstate on
 *    unmapped memory and reserved MXCSR bits each end the child with
 *    SIGSEGV; a bad stack segment without UC_STRICT_RESTORE_SS is
 *    replaced and the child goes on.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static void set_handler(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
}

/* --- editing registers and flags ------------------------------------------ */

static void ill_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	greg_t *g = uc->uc_mcontext.gregs;
	g[REG_RIP] += 2;				/* past the ud2 */
	g[REG_RAX] = 42;
	g[REG_EFL] |= 0x1 | 0x3000 | 0x4000;		/* CF, IOPL 3, NT */
}

static void edit_registers(void)
{
	uint64_t rax, flags;
	__asm__ volatile("xor %%eax, %%eax\n"
			 "clc\n"
			 "ud2\n"
			 "setc %%cl\n"			/* CF as the handler left it */
			 "pushf\n pop %0\n"
			 "movzbl %%cl, %%ecx\n or %%rcx, %0\n"
			 : "=r"(flags), "=a"(rax) : : "rcx", "cc");
	printf("edited: rax %lu CF %lu IOPL %lu NT %lu\n", (unsigned long)rax,
	       (unsigned long)(flags & 1), (unsigned long)((flags >> 12) & 3),
	       (unsigned long)((flags >> 14) & 1));
}

static int good_word = 1234;

static void segv_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	uc->uc_mcontext.gregs[REG_RBX] = (greg_t)&good_word;
}

static void fix_pointer(void)
{
	int v;
	__asm__ volatile("xor %%ebx, %%ebx\n"
			 "mov (%%rbx), %0\n"
			 : "=r"(v) : : "rbx", "memory");
	printf("fixed pointer: read %d\n", v);
}

static void mask_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	sigaddset(&uc->uc_sigmask, SIGUSR2);
}

/* --- forged frames ----------------------------------------------------------- */

/* A copy of a real frame: pretcode, then the kernel's ucontext (uc_flags,
 * uc_link, uc_stack, sigcontext, uc_sigmask), then the siginfo. */
static unsigned char real_frame[440];
static unsigned char real_fp[512] __attribute__((aligned(64)));

static void capture_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	memcpy(real_frame, (char *)p - 8, sizeof real_frame);
	memcpy(real_fp, uc->uc_mcontext.fpregs, sizeof real_fp);
}

static unsigned char landing_stack[65536] __attribute__((aligned(16)));
static void landing(void)
{
	uint64_t flags;
	__asm__ volatile("pushf\n pop %0" : "=r"(flags));
	printf("landed: IOPL %lu\n", (unsigned long)((flags >> 12) & 3));
	fflush(stdout);
	_exit(0);
}

enum { F_REAL, F_IOPL, F_KCS, F_KSS, F_KSS_LAX, F_NONCANON, F_KRIP, F_ZERO, F_UNMAPPED,
       F_BADFP, F_MXCSR, F_COUNT };
static const char *names[] = {"copy of a real frame", "IOPL 3", "kernel CS", "kernel SS (strict)",
			      "kernel SS (not strict)", "non-canonical rip", "kernel-half rip",
			      "all zero", "frame on unmapped memory", "fpstate unmapped",
			      "reserved MXCSR bits"};

static unsigned char forged[1024] __attribute__((aligned(16)));	/* a glibc ucontext_t fits */

static void sigreturn_on(void *uc)
{
	__asm__ volatile("mov %0, %%rsp\n"
			 "mov $15, %%eax\n"
			 "syscall\n"
			 "ud2\n" : : "r"(uc) : "memory");
}

static void forge(int which)
{
	unsigned char *frame = forged;
	memcpy(frame, real_frame, sizeof real_frame);
	ucontext_t *uc = (ucontext_t *)(frame + 8);
	greg_t *g = uc->uc_mcontext.gregs;
	uint16_t *seg = (uint16_t *)&g[REG_CSGSFS];	/* cs gs fs ss */
	g[REG_RIP] = (greg_t)landing;
	g[REG_RSP] = (greg_t)(landing_stack + sizeof landing_stack - 8);
	uc->uc_mcontext.fpregs = (struct _libc_fpstate *)real_fp;
	sigemptyset(&uc->uc_sigmask);
	switch (which) {
	case F_IOPL:
		g[REG_EFL] |= 0x3000;
		break;
	case F_KCS:
		seg[0] = 0x10;
		break;
	case F_KSS:
		seg[3] = 0x18;
		uc->uc_flags |= 4;		/* UC_STRICT_RESTORE_SS */
		break;
	case F_KSS_LAX:
		seg[3] = 0x18;
		uc->uc_flags &= ~4UL;
		break;
	case F_NONCANON:
		g[REG_RIP] = (greg_t)0x8000000000000000UL;
		break;
	case F_KRIP:
		g[REG_RIP] = (greg_t)0xffffffff81000000UL;
		break;
	case F_ZERO:
		memset(frame, 0, sizeof real_frame);
		break;
	case F_UNMAPPED:
		frame = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(frame, 4096);
		break;
	case F_BADFP:
		uc->uc_mcontext.fpregs = (struct _libc_fpstate *)0x10000;
		break;
	case F_MXCSR:
		((struct _libc_fpstate *)real_fp)->mxcsr |= 0x10000000;
		break;
	}
	sigreturn_on(frame + 8);
}

int main(void)
{
	set_handler(SIGILL, ill_handler);
	edit_registers();
	set_handler(SIGSEGV, segv_handler);
	fix_pointer();
	signal(SIGSEGV, SIG_DFL);

	set_handler(SIGUSR1, mask_handler);
	raise(SIGUSR1);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("mask edited: USR2 blocked %d, USR1 blocked %d\n", sigismember(&now, SIGUSR2),
	       sigismember(&now, SIGUSR1));
	sigemptyset(&now);
	sigprocmask(SIG_SETMASK, &now, NULL);

	set_handler(SIGUSR1, capture_handler);
	raise(SIGUSR1);
	for (int i = 0; i < F_COUNT; i++) {
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			forge(i);
			_exit(99);
		}
		int st;
		waitpid(c, &st, 0);
		if (WIFSIGNALED(st))
			printf("%s: killed by signal %d\n", names[i], WTERMSIG(st));
		else
			printf("%s: exit %d\n", names[i], WEXITSTATUS(st));
	}
	return 0;
}
