/*
 * sig_teardown [N]: N children (default 50) each loop on pause(); the
 * parent kills them all with SIGTERM and reaps them: every one is killed
 * by SIGTERM.  Children wait in pause, so killing them costs one wake-up
 * each (a pause that spun would make this quadratic).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 50;
	pid_t *kids = calloc(n, sizeof *kids);
	int p[2];
	pipe(p);
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(p[0]);
			write(p[1], "r", 1);	/* ready: about to pause */
			for (;;)
				pause();
		}
	}
	close(p[1]);
	char c;
	for (int i = 0; i < n; i++)
		read(p[0], &c, 1);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGTERM);
	int by_term = 0;
	for (int i = 0; i < n; i++) {
		int st;
		waitpid(kids[i], &st, 0);
		by_term += WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM;
	}
	printf("%d children, %d killed by SIGTERM\n", n, by_term);
	return 0;
}
