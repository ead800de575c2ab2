/*
 * sig_status: how children end by signals, seen by wait and by the
 * parent's SIGCHLD handler (SA_SIGINFO, waited for with sigsuspend).
 * Each child: exit(3), abort(), raise(SIGTERM), raise(SIGKILL),
 * kill(getpid(), SIGQUIT), raise(SIGSEGV), SIGUSR1 with no handler,
 * a handler that calls _exit(5), SIGUSR1 ignored then exit(0).  For each
 * the parent prints the raw wait status and the siginfo's si_code,
 * si_status and whether si_pid is the child.  Core dumps are off
 * (RLIMIT_CORE 0), so no status has the 0x80 bit and abort() is
 * CLD_KILLED, not CLD_DUMPED.  `sig_status core` leaves RLIMIT_CORE as it
 * is (tests/kernel/test_signal.py raises it, under tinyunix only: natively
 * that would write core files).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static siginfo_t info;

static void chld(int sig, siginfo_t *si, void *uc)
{
	info = *si;
	got = 1;
}

static void exit5(int sig)
{
	_exit(5);
}

static void child(int how)
{
	switch (how) {
	case 0: exit(3);
	case 1: abort();
	case 2: raise(SIGTERM); break;
	case 3: raise(SIGKILL); break;
	case 4: kill(getpid(), SIGQUIT); break;
	case 5: raise(SIGSEGV); break;
	case 6: raise(SIGUSR1); break;
	case 7: signal(SIGUSR1, exit5); raise(SIGUSR1); break;
	case 8: signal(SIGUSR1, SIG_IGN); raise(SIGUSR1); exit(0);
	}
	_exit(99);
}

static const char *names[] = {"exit(3)", "abort()", "raise(SIGTERM)", "raise(SIGKILL)",
			      "kill(self, SIGQUIT)", "raise(SIGSEGV)", "SIGUSR1 default",
			      "handler _exit(5)", "SIGUSR1 ignored"};

int main(int argc, char **argv)
{
	struct rlimit rl = {0, 0};
	if (argc < 2 || strcmp(argv[1], "core"))
		setrlimit(RLIMIT_CORE, &rl);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = chld;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGCHLD, &sa, NULL);
	sigset_t block, empty;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);

	for (int i = 0; i < 9; i++) {
		got = 0;
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			sigprocmask(SIG_SETMASK, &empty, NULL);
			signal(SIGCHLD, SIG_DFL);
			child(i);
		}
		while (!got)
			sigsuspend(&empty);
		int st;
		waitpid(c, &st, 0);
		printf("%-20s status %#06x signaled %d sig %2d core %d | si_code %d si_status %d"
		       " si_pid ok %d\n", names[i], st, WIFSIGNALED(st),
		       WIFSIGNALED(st) ? WTERMSIG(st) : 0, WIFSIGNALED(st) ? WCOREDUMP(st) : 0,
		       info.si_code, info.si_status, info.si_pid == c);
	}
	return 0;
}
