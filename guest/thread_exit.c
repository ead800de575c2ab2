/*
 * thread_exit: exit() called from a thread that is not main ends the whole
 * process -- main, blocked in pthread_join, and a third thread blocked on a
 * condition variable all go -- with that thread's status, 7.  atexit
 * handlers run once, in the exiting thread, and stdio is flushed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t ready;

static void bye(void)
{
	printf("atexit handler ran\n");
}

static void *sleeper(void *arg)
{
	pthread_mutex_lock(&lock);
	pthread_barrier_wait(&ready);
	for (;;)
		pthread_cond_wait(&never, &lock);
	return NULL;
}

static void *exiter(void *arg)
{
	pthread_barrier_wait(&ready);
	printf("worker: calling exit(7) with main and a sleeper still running\n");
	exit(7);
}

int main(void)
{
	pthread_t s, e;

	atexit(bye);
	pthread_barrier_init(&ready, NULL, 2 + 1);
	printf("main: starting threads\n");
	pthread_create(&s, NULL, sleeper, NULL);
	pthread_create(&e, NULL, exiter, NULL);
	pthread_barrier_wait(&ready);
	pthread_join(e, NULL);
	printf("main: not reached\n");
	return 0;
}
