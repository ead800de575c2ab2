/*
 * clone_flags: the clone(2) and clone3(2) argument checks, one line per
 * case: the flags tried and what came back -- OK when a child was made
 * (it calls _exit(0) at once and is reaped with __WALL; a CLONE_THREAD
 * child just exits) or the errno name.
 *
 * Every call is a raw syscall through call_clone() below, whose child
 * half runs no C at all: it makes the exit syscall straight after the
 * clone syscall, so it needs no stack of its own even with CLONE_VM.
 *
 * We run as root natively, so namespace flags that would succeed there
 * (CLONE_NEWNS alone and so on) are never tried: only the combinations
 * Linux turns down with EINVAL before any namespace is made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define KERNEL_ADDR 0xffff800000000000UL   /* not a user address */
#define BAD_ADDR    ((void *)8)             /* unmapped user address */

struct args {                               /* struct clone_args, VER2 */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* One syscall that may create a child; the child exits with status 0
 * without returning here.  Returns the parent's raw result (-errno on
 * failure). */
static long call_clone(long nr, long a0, long a1, long a2, long a3, long a4)
{
	long ret;
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;

	__asm__ volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"mov $60, %%eax\n\t"      /* SYS_exit */
		"xor %%edi, %%edi\n\t"
		"syscall\n\t"
		"hlt\n"
		"1:"
		: "=a"(ret)
		: "0"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8)
		: "rcx", "r11", "memory");
	return ret;
}

/* Print the outcome; reap a child that is not a thread. */
static void report(const char *name, long ret, int is_thread)
{
	if (ret < 0) {
		printf("%-54s %s\n", name, strerrorname_np((int)-ret));
		return;
	}
	if (is_thread) {
		printf("%-54s OK\n", name);
		return;
	}
	int status;
	pid_t r = waitpid((pid_t)ret, &status, __WALL);
	if (r != ret)
		printf("%-54s OK, but waitpid: %s\n", name, strerrorname_np(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("%-54s OK, but status 0x%x\n", name, status);
	else
		printf("%-54s OK\n", name);
}

static int ptid, ctid;

static void legacy(const char *name, unsigned long flags)
{
	long ret = call_clone(SYS_clone, (long)flags, 0, (long)&ptid, (long)&ctid, 0);
	report(name, ret, (flags & CLONE_THREAD) != 0);
}

static void legacy4(const char *name, unsigned long flags, void *pt, void *ct, long tls)
{
	long ret = call_clone(SYS_clone, (long)flags, 0, (long)pt, (long)ct, tls);
	report(name, ret, (flags & CLONE_THREAD) != 0);
}

static char *page;          /* two pages: read-write, then PROT_NONE */

/* clone3 with *a copied to the start of the read-write page. */
static void c3(const char *name, const struct args *a, size_t size)
{
	memset(page, 0, 4096);
	memcpy(page, a, sizeof *a);
	long ret = call_clone(SYS_clone3, (long)page, (long)size, 0, 0, 0);
	report(name, ret, (a->flags & CLONE_THREAD) != 0);
}

static void c3_flags(const char *name, uint64_t flags, uint64_t exit_signal)
{
	struct args a = { .flags = flags, .exit_signal = exit_signal };
	c3(name, &a, sizeof a);
}

static void c3_raw(const char *name, void *uargs, size_t size)
{
	report(name, call_clone(SYS_clone3, (long)uargs, (long)size, 0, 0, 0), 0);
}

#define TVS (CLONE_THREAD | CLONE_VM | CLONE_SIGHAND)

static void legacy_cases(void)
{
	printf("clone:\n");
	legacy("0 (no exit signal)", 0);
	legacy("SIGCHLD", SIGCHLD);
	legacy("CLONE_VM", CLONE_VM | SIGCHLD);
	legacy("CLONE_FS|CLONE_FILES", CLONE_FS | CLONE_FILES | SIGCHLD);
	legacy("CLONE_SIGHAND", CLONE_SIGHAND | SIGCHLD);
	legacy("CLONE_SIGHAND|CLONE_VM", CLONE_SIGHAND | CLONE_VM | SIGCHLD);
	legacy("CLONE_THREAD", CLONE_THREAD);
	legacy("CLONE_THREAD|CLONE_VM", CLONE_THREAD | CLONE_VM);
	legacy("CLONE_THREAD|CLONE_SIGHAND", CLONE_THREAD | CLONE_SIGHAND);
	legacy("CLONE_THREAD|CLONE_SIGHAND|CLONE_VM", TVS);
	legacy("CLONE_THREAD|CLONE_SIGHAND|CLONE_VM|SIGCHLD", TVS | SIGCHLD);
	legacy("CLONE_THREAD|CLONE_SIGHAND|CLONE_VM|CLONE_FS|FILES",
	       TVS | CLONE_FS | CLONE_FILES);
	legacy("CLONE_NEWNS|CLONE_FS", CLONE_NEWNS | CLONE_FS | SIGCHLD);
	legacy("CLONE_NEWUSER|CLONE_FS", CLONE_NEWUSER | CLONE_FS | SIGCHLD);
	legacy("CLONE_NEWNS|CLONE_NEWUSER|CLONE_FS",
	       CLONE_NEWNS | CLONE_NEWUSER | CLONE_FS | SIGCHLD);
	legacy("CLONE_NEWPID|CLONE_NEWNS|CLONE_FS", CLONE_NEWPID | CLONE_NEWNS | CLONE_FS | SIGCHLD);
	legacy("CLONE_NEWNET|CLONE_SIGHAND", CLONE_NEWNET | CLONE_SIGHAND | SIGCHLD);
	legacy("CLONE_NEWUTS|CLONE_THREAD|CLONE_VM", CLONE_NEWUTS | CLONE_THREAD | CLONE_VM);
	legacy("CLONE_NEWIPC|CLONE_SYSVSEM (root)", CLONE_NEWIPC | CLONE_SYSVSEM | SIGCHLD);
	legacy("CLONE_THREAD|SIGHAND|VM|CLONE_NEWUSER", TVS | CLONE_NEWUSER);
	legacy("CLONE_THREAD|SIGHAND|VM|CLONE_NEWPID", TVS | CLONE_NEWPID);
	legacy("CLONE_PIDFD|CLONE_PARENT_SETTID", CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD);
	legacy("CLONE_PIDFD|CLONE_DETACHED", CLONE_PIDFD | CLONE_DETACHED | SIGCHLD);
	legacy("CLONE_PIDFD|CLONE_SIGHAND", CLONE_PIDFD | CLONE_SIGHAND | SIGCHLD);
	legacy("CLONE_DETACHED", CLONE_DETACHED | SIGCHLD);
	legacy("CLONE_PTRACE|CLONE_UNTRACED", CLONE_PTRACE | CLONE_UNTRACED | SIGCHLD);
	legacy("CLONE_SYSVSEM|CLONE_IO", CLONE_SYSVSEM | CLONE_IO | SIGCHLD);
	legacy("CLONE_VFORK", CLONE_VFORK | SIGCHLD);
	legacy("CLONE_VFORK|CLONE_VM", CLONE_VFORK | CLONE_VM | SIGCHLD);
	legacy("exit signal SIGUSR2 (blocked)", SIGUSR2);
	legacy("exit signal 64 (blocked)", 64);
	legacy("exit signal 65", 65);
	legacy("exit signal 0xff", 0xff);
	legacy("bits 32..63 set (ignored)", 0xffffffff00000000UL | SIGCHLD);
	legacy("CLONE_CLEAR_SIGHAND|CLONE_SIGHAND (bit 32 ignored)",
	       CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM | SIGCHLD);

	ptid = -1;
	legacy("CLONE_PARENT_SETTID", CLONE_PARENT_SETTID | SIGCHLD);
	printf("  parent_tid written: %s\n", ptid > 0 ? "yes" : "no");
	legacy4("CLONE_PARENT_SETTID, bad pointer", CLONE_PARENT_SETTID | SIGCHLD,
		BAD_ADDR, NULL, 0);
	ctid = -1;
	legacy("CLONE_CHILD_SETTID|CLONE_VM", CLONE_CHILD_SETTID | CLONE_VM | SIGCHLD);
	printf("  child_tid written: %s\n", ctid > 0 ? "yes" : "no");
	legacy4("CLONE_CHILD_SETTID, bad pointer", CLONE_CHILD_SETTID | SIGCHLD,
		NULL, BAD_ADDR, 0);
	legacy4("CLONE_CHILD_CLEARTID, bad pointer", CLONE_CHILD_CLEARTID | SIGCHLD,
		NULL, BAD_ADDR, 0);
	legacy4("CLONE_SETTLS, tls 0", CLONE_SETTLS | SIGCHLD, NULL, NULL, 0);
	legacy4("CLONE_SETTLS, tls a kernel address", CLONE_SETTLS | SIGCHLD, NULL, NULL,
		(long)KERNEL_ADDR);
	legacy4("CLONE_SETTLS, tls not canonical", CLONE_SETTLS | SIGCHLD, NULL, NULL,
		0x0000800000000000L);

	/* CLONE_PARENT: made from a child of ours, the new process is our
	 * child too, and we reap both. */
	pid_t helper = fork();
	if (helper == 0) {
		long r = call_clone(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		_exit(r > 0 ? 0 : 1);
	}
	int reaped = 0, ok = 1, status;
	while (waitpid(-1, &status, __WALL) > 0) {
		reaped++;
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	printf("%-54s %d children reaped by us, %s\n", "CLONE_PARENT (from a child)",
	       reaped, ok ? "all status 0" : "a bad status");
}

static void clone3_cases(void)
{
	struct args a;

	printf("clone3:\n");
	c3_raw("size 0", page, 0);
	c3_raw("size 63", page, 63);
	c3_raw("size 64, NULL", NULL, 64);
	c3_raw("size 64, bad pointer", BAD_ADDR, 64);
	c3_raw("size 64, last 8 bytes unreadable", page + 4096 - 56, 64);
	c3_raw("size 4097", page, 4097);
	c3_raw("size 4097, NULL", NULL, 4097);
	c3_raw("size 96, NULL", NULL, 96);
	c3_raw("size 10, NULL", NULL, 10);

	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	c3("size 64 (VER0)", &a, 64);
	c3("size 80 (VER1)", &a, 80);
	c3("size 88 (VER2)", &a, 88);
	c3("size 96, zero tail", &a, 96);
	c3("size 4096, zero tail", &a, 4096);
	memset(page, 0, 4096);
	memcpy(page, &a, sizeof a);
	page[100] = 1;
	c3_raw("size 128, non-zero byte at 100", page, 128);
	memset(page, 0, 4096);
	memcpy(page, &a, sizeof a);
	page[4095] = 1;
	c3_raw("size 4096, non-zero last byte", page, 4096);
	c3_raw("size 4096, non-zero byte beyond size", page, 4095);

	c3_flags("exit_signal 0", 0, 0);
	c3_flags("exit_signal SIGCHLD", 0, SIGCHLD);
	c3_flags("exit_signal 64 (blocked)", 0, 64);
	c3_flags("exit_signal 65", 0, 65);
	c3_flags("exit_signal 0x1_0000_0011", 0, 0x100000000ULL | SIGCHLD);
	c3_flags("exit_signal -1", 0, (uint64_t)-1);
	c3_flags("flags CSIGNAL bits (SIGCHLD in flags)", SIGCHLD, 0);
	c3_flags("flags CLONE_NEWTIME|CLONE_FS|CLONE_NEWNS", CLONE_NEWTIME | CLONE_FS | CLONE_NEWNS,
		 SIGCHLD);
	c3_flags("CLONE_DETACHED", CLONE_DETACHED, SIGCHLD);
	c3_flags("unknown flag bit 34", 1ULL << 34, SIGCHLD);
	c3_flags("unknown flag bit 63", 1ULL << 63, SIGCHLD);
	c3_flags("CLONE_CLEAR_SIGHAND", CLONE_CLEAR_SIGHAND, SIGCHLD);
	c3_flags("CLONE_CLEAR_SIGHAND|CLONE_SIGHAND|CLONE_VM",
		 CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM, SIGCHLD);
	c3_flags("CLONE_SIGHAND (no CLONE_VM)", CLONE_SIGHAND, SIGCHLD);
	c3_flags("CLONE_THREAD (no CLONE_SIGHAND)", CLONE_THREAD | CLONE_VM, 0);
	c3_flags("CLONE_THREAD|SIGHAND|VM, exit_signal 0", TVS, 0);
	c3_flags("CLONE_THREAD|SIGHAND|VM, exit_signal SIGCHLD", TVS, SIGCHLD);
	c3_flags("CLONE_THREAD, exit_signal SIGCHLD (no SIGHAND)", CLONE_THREAD, SIGCHLD);
	c3_flags("CLONE_PARENT, exit_signal SIGCHLD", CLONE_PARENT, SIGCHLD);
	c3_flags("CLONE_FS|CLONE_NEWNS", CLONE_FS | CLONE_NEWNS, SIGCHLD);
	c3_flags("CLONE_NEWUSER|CLONE_FS", CLONE_NEWUSER | CLONE_FS, SIGCHLD);
	c3_flags("CLONE_THREAD|SIGHAND|VM|CLONE_NEWPID", TVS | CLONE_NEWPID, 0);
	c3_flags("CLONE_PIDFD|CLONE_DETACHED", CLONE_PIDFD | CLONE_DETACHED, SIGCHLD);
	c3_flags("CLONE_VFORK|CLONE_VM", CLONE_VFORK | CLONE_VM, SIGCHLD);
	c3_flags("CLONE_INTO_CGROUP, cgroup fd 0 (not a cgroup)", CLONE_INTO_CGROUP, SIGCHLD);

	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
	a.pidfd = a.parent_tid = (uint64_t)(uintptr_t)&ptid;
	c3("CLONE_PIDFD|CLONE_PARENT_SETTID, same pointer", &a, sizeof a);

	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.flags = CLONE_INTO_CGROUP;
	a.cgroup = 0x80000000ULL;
	c3("CLONE_INTO_CGROUP, cgroup 2^31", &a, sizeof a);
	c3("CLONE_INTO_CGROUP, size 80", &a, 80);
	a.cgroup = 99;
	c3("CLONE_INTO_CGROUP, cgroup fd 99 (not open)", &a, sizeof a);

	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.stack = (uint64_t)(uintptr_t)(page + 2048);
	c3("stack, stack_size 0", &a, sizeof a);
	a.stack = 0;
	a.stack_size = 4096;
	c3("stack 0, stack_size 4096", &a, sizeof a);
	a.stack = (uint64_t)(uintptr_t)page;
	a.stack_size = 2048;
	c3("stack and stack_size", &a, sizeof a);
	a.stack = KERNEL_ADDR;
	a.stack_size = 4096;
	c3("stack a kernel address", &a, sizeof a);
	a.stack = 0x7ffffffff000ULL;
	a.stack_size = 0x2000;
	c3("stack + stack_size past the user range", &a, sizeof a);

	static int32_t tids[2];
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	a.set_tid_size = 1;
	c3("set_tid NULL, set_tid_size 1", &a, sizeof a);
	a.set_tid = (uint64_t)(uintptr_t)tids;
	a.set_tid_size = 0;
	c3("set_tid, set_tid_size 0", &a, sizeof a);
	a.set_tid_size = 33;
	c3("set_tid_size 33", &a, sizeof a);
	a.set_tid = (uint64_t)(uintptr_t)BAD_ADDR;
	a.set_tid_size = 1;
	c3("set_tid bad pointer", &a, sizeof a);
	a.set_tid = (uint64_t)(uintptr_t)tids;
	a.set_tid_size = 2;
	c3("set_tid_size 2 (one pid namespace level)", &a, sizeof a);
	a.set_tid_size = 1;
	tids[0] = 0;
	c3("set_tid {0}", &a, sizeof a);
	tids[0] = -5;
	c3("set_tid {-5}", &a, sizeof a);
	tids[0] = 1;
	c3("set_tid {1} (taken by init)", &a, sizeof a);
	a.set_tid = (uint64_t)(uintptr_t)BAD_ADDR;
	a.exit_signal = 65;
	c3("set_tid bad pointer, exit_signal 65", &a, sizeof a);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	/* Children whose exit signal would kill us. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, 64);
	sigprocmask(SIG_BLOCK, &set, NULL);

	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || mprotect(page + 4096, 4096, PROT_NONE)) {
		perror("mmap");
		return 1;
	}
	legacy_cases();
	clone3_cases();
	return 0;
}
