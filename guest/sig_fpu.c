/*
 * sig_fpu: the FPU and SSE state across a handler.
 *  - main loads XMM0-15, MXCSR and two x87 values, sends itself a signal
 *    from assembly (no libc in between) and reads them back: all intact,
 *    although the handler clobbered every XMM register, MXCSR and the x87
 *    stack;
 *  - the handler starts with the initial FPU: XMM registers zero, MXCSR
 *    0x1f80, x87 control word 0x37f, empty stack;
 *  - the frame's fpstate holds the interrupted values (XMM, MXCSR, x87
 *    control word and top of stack);
 *  - a handler that edits XMM1 and MXCSR in the frame changes them for
 *    the interrupted code.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

typedef struct { uint64_t lo, hi; } xmm_t;

static xmm_t before[16], after[16], in_handler[16], in_frame[16];
static uint32_t mxcsr_after, mxcsr_handler, mxcsr_frame;
static uint16_t fcw_handler, fsw_handler, fcw_frame, ftw_frame;
static long double x87_after[2];
static int edit_frame;

static void save_xmm(xmm_t *out)
{
	__asm__ volatile(
		"movdqu %%xmm0, 0(%0)\n movdqu %%xmm1, 16(%0)\n movdqu %%xmm2, 32(%0)\n"
		"movdqu %%xmm3, 48(%0)\n movdqu %%xmm4, 64(%0)\n movdqu %%xmm5, 80(%0)\n"
		"movdqu %%xmm6, 96(%0)\n movdqu %%xmm7, 112(%0)\n movdqu %%xmm8, 128(%0)\n"
		"movdqu %%xmm9, 144(%0)\n movdqu %%xmm10, 160(%0)\n movdqu %%xmm11, 176(%0)\n"
		"movdqu %%xmm12, 192(%0)\n movdqu %%xmm13, 208(%0)\n movdqu %%xmm14, 224(%0)\n"
		"movdqu %%xmm15, 240(%0)\n" : : "r"(out) : "memory");
}

static void handler(int sig, siginfo_t *si, void *p)
{
	/* First thing: what the handler starts with (before any C uses SSE). */
	save_xmm(in_handler);
	__asm__ volatile("stmxcsr %0\n fnstcw %1\n fnstsw %2"
			 : "=m"(mxcsr_handler), "=m"(fcw_handler), "=m"(fsw_handler));
	ucontext_t *uc = p;
	struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
	memcpy(in_frame, fp->_xmm, sizeof in_frame);
	mxcsr_frame = fp->mxcsr;
	fcw_frame = fp->cwd;
	ftw_frame = fp->ftw;
	if (edit_frame) {
		fp->_xmm[1].element[0] = 0xdddddddd;
		fp->mxcsr = 0x1f80 | 0x6000;			/* round toward zero */
	}
	/* Clobber everything the interrupted code had. */
	static const xmm_t junk = {0xbadbadbadbadbadbULL, 0xbadbadbadbadbadbULL};
	__asm__ volatile(
		"movdqu %0, %%xmm0\n movdqa %%xmm0, %%xmm1\n movdqa %%xmm0, %%xmm2\n"
		"movdqa %%xmm0, %%xmm3\n movdqa %%xmm0, %%xmm4\n movdqa %%xmm0, %%xmm5\n"
		"movdqa %%xmm0, %%xmm6\n movdqa %%xmm0, %%xmm7\n movdqa %%xmm0, %%xmm8\n"
		"movdqa %%xmm0, %%xmm9\n movdqa %%xmm0, %%xmm10\n movdqa %%xmm0, %%xmm11\n"
		"movdqa %%xmm0, %%xmm12\n movdqa %%xmm0, %%xmm13\n movdqa %%xmm0, %%xmm14\n"
		"movdqa %%xmm0, %%xmm15\n" : : "m"(junk)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	uint32_t m = 0x7f80;
	__asm__ volatile("ldmxcsr %0\n fninit\n fldpi\n fldpi\n fldpi" : : "m"(m));
}

/* Load XMM0-15 from before[], MXCSR 0x3f80 and two x87 values, send the
 * signal with tgkill, then store what is there afterwards. */
static void round_trip(int sig)
{
	pid_t pid = getpid();
	uint32_t m = 0x3f80;				/* round down */
	long double a = 1.5L, b = -2.25L;
	__asm__ volatile(
		"fninit\n fldt %[b]\n fldt %[a]\n ldmxcsr %[m]\n"
		"movdqu 0(%[in]), %%xmm0\n movdqu 16(%[in]), %%xmm1\n movdqu 32(%[in]), %%xmm2\n"
		"movdqu 48(%[in]), %%xmm3\n movdqu 64(%[in]), %%xmm4\n movdqu 80(%[in]), %%xmm5\n"
		"movdqu 96(%[in]), %%xmm6\n movdqu 112(%[in]), %%xmm7\n movdqu 128(%[in]), %%xmm8\n"
		"movdqu 144(%[in]), %%xmm9\n movdqu 160(%[in]), %%xmm10\n movdqu 176(%[in]), %%xmm11\n"
		"movdqu 192(%[in]), %%xmm12\n movdqu 208(%[in]), %%xmm13\n movdqu 224(%[in]), %%xmm14\n"
		"movdqu 240(%[in]), %%xmm15\n"
		"mov $234, %%eax\n syscall\n"			/* tgkill(pid, pid, sig) */
		"movdqu %%xmm0, 0(%[out])\n movdqu %%xmm1, 16(%[out])\n movdqu %%xmm2, 32(%[out])\n"
		"movdqu %%xmm3, 48(%[out])\n movdqu %%xmm4, 64(%[out])\n movdqu %%xmm5, 80(%[out])\n"
		"movdqu %%xmm6, 96(%[out])\n movdqu %%xmm7, 112(%[out])\n movdqu %%xmm8, 128(%[out])\n"
		"movdqu %%xmm9, 144(%[out])\n movdqu %%xmm10, 160(%[out])\n movdqu %%xmm11, 176(%[out])\n"
		"movdqu %%xmm12, 192(%[out])\n movdqu %%xmm13, 208(%[out])\n movdqu %%xmm14, 224(%[out])\n"
		"movdqu %%xmm15, 240(%[out])\n"
		"stmxcsr %[ma]\n fstpt %[xa]\n fstpt %[xb]\n fninit\n"
		: [ma] "=m"(mxcsr_after), [xa] "=m"(x87_after[0]), [xb] "=m"(x87_after[1])
		: [in] "r"(before), [out] "r"(after), [m] "m"(m), [a] "m"(a), [b] "m"(b),
		  "D"((long)pid), "S"((long)pid), "d"((long)sig)
		: "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
		  "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 16; i++) {
		before[i].lo = 0x0101010101010101ULL * (i + 1);
		before[i].hi = 0x1000000000000000ULL | i;
	}

	round_trip(SIGUSR1);
	int same = 0, zero = 0, saved = 0;
	for (int i = 0; i < 16; i++) {
		same += !memcmp(&before[i], &after[i], sizeof(xmm_t));
		zero += !in_handler[i].lo && !in_handler[i].hi;
		saved += !memcmp(&before[i], &in_frame[i], sizeof(xmm_t));
	}
	printf("after the handler: %d of 16 XMM intact, MXCSR %#x, x87 %.2Lf %.2Lf\n", same,
	       mxcsr_after, x87_after[0], x87_after[1]);
	printf("handler starts with: %d of 16 XMM zero, MXCSR %#x, FCW %#x, FSW %#x\n", zero,
	       mxcsr_handler, fcw_handler, fsw_handler);
	printf("frame holds: %d of 16 XMM, MXCSR %#x, FCW %#x, tags %#x\n", saved, mxcsr_frame,
	       fcw_frame, ftw_frame);

	edit_frame = 1;
	round_trip(SIGUSR1);
	printf("edited frame: XMM1 low %#llx (XMM2 intact %d), MXCSR %#x\n",
	       (unsigned long long)after[1].lo, !memcmp(&before[2], &after[2], sizeof(xmm_t)),
	       mxcsr_after);
	return 0;
}
