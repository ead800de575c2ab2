/*
 * cow: after fork, parent and child write the same global, static buffer,
 * small and large heap blocks and stack variable.  Each sees only its own
 * writes (copy-on-write).  A pipe orders things: the parent writes first,
 * then lets the child look; the parent prints only after reaping the child.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF_SIZE (3 * 4096 + 100)   /* spans four pages */
#define BIG_SIZE (256 * 1024)       /* malloc takes this from mmap */

static int global = 1;
static char buf[BUF_SIZE];

/* "all 'X'" when every byte of p[0..n) is the same, else "mixed". */
static const char *fill_of(const char *p, size_t n)
{
	static char out[16];

	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return "mixed";
	snprintf(out, sizeof out, "all '%c'", p[0]);
	return out;
}

static void show(const char *who, const char *when, int stack_var,
		 const int *small, const char *big)
{
	printf("%s %s: global=%d ", who, when, global);
	printf("buf=%s ", fill_of(buf, BUF_SIZE));
	printf("small=%d ", *small);
	printf("big=%s ", fill_of(big, BIG_SIZE));
	printf("stack=%d\n", stack_var);
}

static void write_all(int stack_val, int *stack_var, int val, char c,
		      int *small, char *big)
{
	global = val;
	memset(buf, c, BUF_SIZE);
	*small = val * 1000;
	memset(big, c, BIG_SIZE);
	*stack_var = stack_val;
}

int main(void)
{
	volatile int stack_var = 5;
	int *small = malloc(sizeof *small);
	char *big = malloc(BIG_SIZE);
	int go[2];
	char byte;

	write_all(5, (int *)&stack_var, 1, 'A', small, big);
	show("parent", "before fork", stack_var, small, big);
	fflush(stdout);
	if (pipe(go) < 0) {
		perror("pipe");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(go[1]);
		/* Wait until the parent has written its own values. */
		if (read(go[0], &byte, 1) != 1)
			_exit(99);
		show("child", "before its writes", stack_var, small, big);
		write_all(7, (int *)&stack_var, 2, 'C', small, big);
		show("child", "after its writes", stack_var, small, big);
		exit(0);
	}
	close(go[0]);
	write_all(9, (int *)&stack_var, 3, 'P', small, big);
	byte = 'g';
	write(go[1], &byte, 1);
	close(go[1]);
	int status;
	waitpid(pid, &status, 0);
	show("parent", "after child exited", stack_var, small, big);
	printf("child exit status: %d\n", WEXITSTATUS(status));
	free(big);
	free(small);
	return 0;
}
