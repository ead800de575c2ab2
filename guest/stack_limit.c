/*
 * stack_limit: RLIMIT_STACK decides how far a new program's stack may
 * grow.  For each limit, a child sets it and re-executes this program,
 * which recurses through about 6 MiB or 12 MiB of stack: within the
 * limit it exits 0, past it it dies by SIGSEGV.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int __attribute__((noinline)) recurse(int n)
{
	volatile char frame[4000];
	frame[0] = (char)n;
	if (n == 0)
		return frame[0];
	return recurse(n - 1) + frame[0];
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "recurse") == 0) {
		recurse(atoi(argv[2]) * 256);     /* about 1 MiB per 256 frames */
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "args") == 0)
		return 0;
	static const long limits_mib[] = { 1, 4, 8, 16, 64 };
	static const char *depths_mib[] = { "6", "12" };
	for (unsigned i = 0; i < sizeof limits_mib / sizeof *limits_mib; i++) {
		for (unsigned j = 0; j < 2; j++) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				struct rlimit r = { limits_mib[i] << 20, RLIM_INFINITY };
				if (setrlimit(RLIMIT_STACK, &r))
					_exit(100);
				char *av[] = { argv[0], "recurse", (char *)depths_mib[j], NULL };
				execv(argv[0], av);
				_exit(101);
			}
			int st;
			waitpid(pid, &st, 0);
			printf("limit %2ld MiB, %2s MiB deep: ", limits_mib[i], depths_mib[j]);
			if (WIFEXITED(st))
				printf("exit %d\n", WEXITSTATUS(st));
			else
				printf("signal %d\n", WTERMSIG(st));
		}
	}

	/* The room for argv and envp is a quarter of the stack limit (at
	 * least 128 KiB): 3 x 100 KiB of arguments fit under 8 MiB, not under
	 * 1 MiB, where exec fails with E2BIG and the caller carries on. */
	static char big[100 * 1024];
	memset(big, 'x', sizeof big - 1);
	for (unsigned i = 0; i < 2; i++) {
		long mib = i ? 1 : 8;
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			struct rlimit r = { mib << 20, RLIM_INFINITY };
			setrlimit(RLIMIT_STACK, &r);
			char *av[] = { argv[0], "args", big, big, big, NULL };
			execv(argv[0], av);
			printf("limit %ld MiB, 300 KiB of arguments: %s\n", mib,
			       errno == E2BIG ? "E2BIG" : "other error");
			fflush(stdout);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && i == 0)
			printf("limit %ld MiB, 300 KiB of arguments: exec'd\n", mib);
	}
	return 0;
}
