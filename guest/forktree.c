/*
 * forktree: a tree of processes, DEPTH levels below the root, each inner
 * node forking FANOUT children at once.  Every node waits for all of its
 * children and exits with the number of processes in its subtree, so the
 * root learns the tree's size from exit codes alone.
 *
 * usage: forktree [depth [fanout]]   (default 4 2: 31 processes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int fanout = 2;

/* Fork this node's children, reap them all; return its subtree size. */
static int node(int depth, int *bad)
{
	pid_t kids[16];
	int n = 0, total = 1;

	if (depth == 0)
		return 1;
	for (int i = 0; i < fanout; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			(*bad)++;
			continue;
		}
		if (pid == 0) {
			int child_bad = 0;
			int size = node(depth - 1, &child_bad);
			_exit(child_bad ? 255 : size);
		}
		kids[n++] = pid;
	}
	for (int i = 0; i < n; i++) {
		int status;
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) == 255) {
			(*bad)++;
			continue;
		}
		total += WEXITSTATUS(status);
	}
	return total;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 4;
	fanout = argc > 2 ? atoi(argv[2]) : 2;
	if (depth < 0 || fanout < 1 || fanout > 16) {
		fprintf(stderr, "usage: forktree [depth [fanout]]\n");
		return 2;
	}
	/* Each child subtree size must fit in an exit code below 255. */
	int expected = 1, level = 1;
	for (int d = 0; d < depth; d++) {
		level *= fanout;
		expected += level;
	}
	if ((expected - 1) / fanout >= 255) {
		fprintf(stderr, "forktree: tree too big for exit codes\n");
		return 2;
	}
	printf("forktree: depth %d, fanout %d\n", depth, fanout);
	fflush(stdout);
	int bad = 0;
	int total = node(depth, &bad);
	printf("processes in tree: %d (expected %d)\n", total, expected);
	printf("failures: %d\n", bad);
	return bad ? 1 : 0;
}
