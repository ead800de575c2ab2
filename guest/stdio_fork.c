/*
 * stdio_fork: printf without fflush before fork.  When stdout is a pipe or
 * a file, stdio buffers fully, so the unflushed line is copied into the
 * child with the rest of memory and both processes write it at exit.  (On
 * a terminal stdout is line-buffered and the line appears once.)  The
 * parent exits after reaping the child, so the order is fixed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	printf("written once, before fork, not flushed\n");
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		printf("child: adds its own line to the copied buffer\n");
		exit(0);        /* exit() flushes the child's copy */
	}
	int status;
	waitpid(pid, &status, 0);
	printf("parent: child exited with %d\n", WEXITSTATUS(status));
	return 0;
}
