/*
 * thread_join: create N threads, each computes a value from its argument
 * and returns it; main joins them in order and prints what each returned.
 * Also: pthread_exit's value is what join sees, and a detached thread
 * cannot be joined.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N 8

static void *square(void *arg)
{
	intptr_t i = (intptr_t)arg;
	volatile long acc = 0;

	for (long k = 0; k < 10000 * (i + 1); k++)   /* uneven amounts of work */
		acc += k;
	(void)acc;
	return (void *)(i * i);
}

static void *leave_early(void *arg)
{
	pthread_exit((void *)((intptr_t)arg + 1000));
	return NULL;
}

static void *tid_differs(void *arg)
{
	pid_t main_tid = *(pid_t *)arg;
	return (void *)(intptr_t)(gettid() != main_tid && getpid() == main_tid);
}

int main(void)
{
	pthread_t t[N];
	void *ret;

	for (intptr_t i = 0; i < N; i++)
		if (pthread_create(&t[i], NULL, square, (void *)i) != 0) {
			printf("pthread_create failed\n");
			return 1;
		}
	for (int i = 0; i < N; i++) {
		int e = pthread_join(t[i], &ret);
		printf("thread %d: join=%d returned %ld\n", i, e, (long)(intptr_t)ret);
	}

	pthread_create(&t[0], NULL, leave_early, (void *)7);
	pthread_join(t[0], &ret);
	printf("pthread_exit value seen by join: %ld\n", (long)(intptr_t)ret);

	pid_t me = getpid();
	pthread_create(&t[0], NULL, tid_differs, &me);
	pthread_join(t[0], &ret);
	printf("thread has its own tid and the process's pid: %s\n", ret ? "yes" : "no");

	int e = pthread_join(pthread_self(), &ret);
	printf("joining itself: %s\n", e ? strerrorname_np(e) : "0");
	return 0;
}
