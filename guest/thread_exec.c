/*
 * thread_exec: execve from a multi-threaded process.  A failed exec (no
 * such file) harms nobody: every thread keeps running.  A successful exec
 * from a thread that is not main ends all other threads first, and the
 * new program runs as the whole process: getpid() and gettid() both equal
 * the old pid, and the parent reaps it by that pid with the new program's
 * exit status.  The same from main, with a thread spinning meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *self;
static volatile int spins;
static char pidarg[32];

static void *spinner(void *arg)
{
	for (;;) {
		spins++;
		sched_yield();
	}
	return NULL;
}

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

static void do_exec(void)
{
	char *argv[] = { (char *)self, "after", pidarg, NULL };
	execv(self, argv);
	printf("execv: %s\n", strerror(errno));
	exit(99);
}

static void *execer(void *arg)
{
	do_exec();
	return NULL;
}

/* In a child: start threads, then exec from a thread (or from main). */
static void run_child(int from_main)
{
	pthread_t a, b, c;
	snprintf(pidarg, sizeof pidarg, "%d", getpid());
	pthread_create(&a, NULL, spinner, NULL);
	pthread_create(&b, NULL, sleeper, NULL);
	if (from_main) {
		while (spins < 3)
			sched_yield();
		do_exec();
	}
	pthread_create(&c, NULL, execer, NULL);
	pthread_join(a, NULL);   /* never returns: the exec ends this thread */
	exit(98);
}

static void reap(pid_t pid, const char *what)
{
	int st;
	pid_t got = waitpid(pid, &st, 0);
	printf("%s: reaped by the same pid: %s, ", what, got == pid ? "yes" : "no");
	if (WIFEXITED(st))
		printf("exited %d\n", WEXITSTATUS(st));
	else
		printf("signal %d\n", WTERMSIG(st));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 3 && strcmp(argv[1], "after") == 0) {
		int old = atoi(argv[2]);
		printf("after exec: getpid() is the old pid: %s, gettid() == getpid(): %s\n",
		       getpid() == old ? "yes" : "no", gettid() == getpid() ? "yes" : "no");
		return 5;
	}

	/* A failed exec from a thread: the other threads live on. */
	pthread_t a, b;
	pthread_create(&a, NULL, spinner, NULL);
	char *bad[] = { "/nonexistent/program", NULL };
	int before = spins;
	int r = execv(bad[0], bad);
	printf("failed exec: %d %s\n", r, strerror(errno));
	while (spins < before + 3)
		sched_yield();
	printf("failed exec: the other thread still runs: yes\n");
	(void)b;
	fflush(stdout);

	pid_t pid = fork();
	if (pid == 0)
		run_child(0);
	reap(pid, "exec from a thread");

	pid = fork();
	if (pid == 0)
		run_child(1);
	reap(pid, "exec from main");
	exit(0);   /* ends the spinner too */
}
