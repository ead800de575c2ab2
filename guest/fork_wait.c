/*
 * fork_wait: fork children that exit with known codes; the parent reaps each
 * one by pid and prints what WIFEXITED/WEXITSTATUS say.  Children print
 * nothing: they report by exit code only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	static const int codes[] = { 0, 1, 7, 42, 255 };
	pid_t pids[5];

	for (int i = 0; i < 5; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[i] == 0)
			_exit(codes[i]);
	}
	/* Reap in creation order, whatever order they actually died in. */
	for (int i = 0; i < 5; i++) {
		int status;
		pid_t r = waitpid(pids[i], &status, 0);
		printf("child %d: waitpid returned its pid: %s, WIFEXITED=%d WEXITSTATUS=%d\n",
		       i, r == pids[i] ? "yes" : "no", WIFEXITED(status),
		       WEXITSTATUS(status));
	}
	/* No children left. */
	pid_t r = wait(NULL);
	printf("wait with no children: %d\n", (int)r);
	return 0;
}
