/*
 * clone_raw: clone(2) through glibc's clone() wrapper, one flag at a time,
 * each child on a malloc'ed stack, each with SIGCHLD as exit signal so
 * waitpid reaps it.  The child changes a global, the fd table, the umask
 * and a signal handler; the parent then looks at which changes it sees:
 *   (none)                      nothing shared
 *   CLONE_VM                    memory shared
 *   CLONE_FILES                 fd table shared
 *   CLONE_FS                    umask (and cwd) shared
 *   CLONE_SIGHAND|CLONE_VM      signal handlers shared
 * and the invalid combinations Linux rejects with EINVAL.  Children make
 * only raw system calls (no stdio): without CLONE_SETTLS a CLONE_VM child
 * runs on its parent's TLS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)
#define PROBE_FD 40

static volatile int global;

static void handler(int sig)
{
	(void)sig;
}

/* The child's changes, one of each kind. */
static int child(void *arg)
{
	global = 1;
	dup2(2, PROBE_FD);
	umask(0077);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, NULL);
	return 5;
}

/* Put everything back the way it was before each experiment. */
static void reset(void)
{
	global = 0;
	close(PROBE_FD);
	umask(0022);
	signal(SIGUSR1, SIG_DFL);
}

static const char *yes(int ok)
{
	return ok ? "yes" : "no ";
}

static void experiment(const char *name, int flags)
{
	char *stack = malloc(STACK_SIZE);

	reset();
	pid_t pid = clone(child, stack + STACK_SIZE, flags | SIGCHLD, NULL);
	if (pid < 0) {
		printf("%-26s clone failed: %s\n", name, strerrorname_np(errno));
		free(stack);
		return;
	}
	int status;
	pid_t r = waitpid(pid, &status, 0);
	mode_t old_umask = umask(0022);
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	printf("%-26s exit=%d  memory %s  fd table %s  umask %s  handlers %s\n", name,
	       r == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	       yes(global == 1), yes(fcntl(PROBE_FD, F_GETFD) != -1),
	       yes(old_umask == 0077), yes(sa.sa_handler == handler));
	free(stack);
}

static void invalid(const char *name, int flags)
{
	char *stack = malloc(STACK_SIZE);

	errno = 0;
	pid_t pid = clone(child, stack + STACK_SIZE, flags | SIGCHLD, NULL);
	printf("%-26s -> %d %s\n", name, pid < 0 ? -1 : 0, pid < 0 ? strerrorname_np(errno) : "");
	if (pid > 0)
		waitpid(pid, NULL, __WALL);
	free(stack);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("%-26s what the parent saw change:\n", "flags");
	experiment("(none)", 0);
	experiment("CLONE_VM", CLONE_VM);
	experiment("CLONE_FILES", CLONE_FILES);
	experiment("CLONE_FS", CLONE_FS);
	experiment("CLONE_SIGHAND|CLONE_VM", CLONE_SIGHAND | CLONE_VM);
	experiment("CLONE_VM|FILES|FS|SIGHAND", CLONE_VM | CLONE_FILES | CLONE_FS | CLONE_SIGHAND);
	reset();

	printf("invalid combinations:\n");
	invalid("CLONE_SIGHAND", CLONE_SIGHAND);
	invalid("CLONE_THREAD|CLONE_VM", CLONE_THREAD | CLONE_VM);
	invalid("CLONE_FS|CLONE_NEWNS", CLONE_FS | CLONE_NEWNS);
	return 0;
}
