/*
 * signals_death: children die by SIGSEGV (null write), SIGILL (ud2 from
 * __builtin_trap), SIGABRT (abort), SIGKILL (kill self), SIGFPE (integer
 * divide by zero) and SIGSEGV from a write to a kernel address; the parent
 * prints WIFSIGNALED/WTERMSIG and the raw wait status for each.  Children
 * turn core dumps off first, so the raw status has no core-dump bit.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int zero = 0;

static void die_segv_null(void)
{
	*(volatile int *)0 = 1;
}

static void die_segv_kernel(void)
{
	*(volatile int *)0xffffffff81000000UL = 1;
}

static void die_ill(void)
{
	__builtin_trap();
}

static void die_abrt(void)
{
	abort();
}

static void die_kill(void)
{
	kill(getpid(), SIGKILL);
}

static void die_fpe(void)
{
	volatile int n = 1;
	n = n / zero;
}

static const struct {
	const char *what;
	void (*die)(void);
} deaths[] = {
	{ "null write", die_segv_null },
	{ "kernel-address write", die_segv_kernel },
	{ "__builtin_trap", die_ill },
	{ "abort()", die_abrt },
	{ "kill(self, SIGKILL)", die_kill },
	{ "divide by zero", die_fpe },
};

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (size_t i = 0; i < sizeof deaths / sizeof deaths[0]; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			/* No core file, hence no 0x80 bit, whatever core_pattern is. */
			struct rlimit no_core = { 0, 0 };
			setrlimit(RLIMIT_CORE, &no_core);
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			deaths[i].die();
			_exit(100);     /* should not get here */
		}
		int status;
		waitpid(pid, &status, 0);
		printf("%-22s WIFEXITED=%d WIFSIGNALED=%d WTERMSIG=%d (%s) WCOREDUMP=%d status=0x%x\n",
		       deaths[i].what, WIFEXITED(status), WIFSIGNALED(status),
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		       WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "-",
		       WCOREDUMP(status) ? 1 : 0, status);
	}
	return 0;
}
