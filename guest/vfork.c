/*
 * vfork: the child borrows the parent's memory and the parent is suspended
 * until the child calls _exit.  The parent sees the child's writes and that
 * the child ran first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int shared_global = 1;
static volatile int step;

int main(void)
{
	volatile int on_stack = 10;
	int *heap = malloc(sizeof *heap);

	*heap = 100;
	fflush(stdout);
	pid_t pid = vfork();
	if (pid < 0) {
		perror("vfork");
		return 1;
	}
	if (pid == 0) {
		/* Only plain stores and _exit are allowed here. */
		shared_global = 2;
		on_stack = 20;
		*heap = 200;
		step = 1;
		_exit(5);
	}
	/* Back in the parent: the child has already exited. */
	int seen_step = step;
	step = 2;
	int status;
	waitpid(pid, &status, 0);
	printf("child ran before parent resumed: %s\n", seen_step == 1 ? "yes" : "no");
	printf("global after vfork: %d\n", shared_global);
	printf("stack variable after vfork: %d\n", on_stack);
	printf("heap after vfork: %d\n", *heap);
	printf("child exit status: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	free(heap);
	return 0;
}
