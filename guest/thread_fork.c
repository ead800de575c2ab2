/*
 * thread_fork: a thread that is not main calls fork.  The child holds a
 * copy of all memory but only the forking thread: it is a fresh single-
 * threaded process (gettid() == getpid()), it sees values the other threads
 * wrote before the fork, and exit() in it ends only the child.  The forking
 * thread reaps it; main joins the thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int shared_value;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *forker(void *arg)
{
	printf("thread: in a thread, gettid() != getpid(): %s\n",
	       gettid() != getpid() ? "yes" : "no");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return (void *)1;
	}
	if (pid == 0) {
		printf("child: gettid() == getpid(): %s\n", gettid() == getpid() ? "yes" : "no");
		printf("child: sees main's write: %d\n", shared_value);
		/* The mutex was unlocked at fork time, so it works here. */
		pthread_mutex_lock(&lock);
		shared_value = 99;
		pthread_mutex_unlock(&lock);
		printf("child: wrote %d to its copy\n", shared_value);
		exit(9);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("thread: child exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	printf("thread: shared_value still %d\n", shared_value);
	return NULL;
}

int main(void)
{
	pthread_t t;

	shared_value = 41;
	pthread_mutex_lock(&lock);
	shared_value++;
	pthread_mutex_unlock(&lock);
	pthread_create(&t, NULL, forker, NULL);
	pthread_join(t, NULL);
	printf("main: joined the forking thread, still single: %s\n",
	       gettid() == getpid() ? "yes" : "no");
	return 0;
}
