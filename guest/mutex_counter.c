/*
 * mutex_counter: 4 threads each add 1 to a shared counter 100000 times
 * under a mutex; the total is exact.  A second counter is bumped with an
 * atomic add, which needs no lock.
 */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 100000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long atomic_counter;

static void *work(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		__atomic_fetch_add(&atomic_counter, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("mutex counter: %ld (expected %d)\n", counter, THREADS * ROUNDS);
	printf("atomic counter: %ld (expected %d)\n", atomic_counter, THREADS * ROUNDS);
	return counter == THREADS * ROUNDS && atomic_counter == THREADS * ROUNDS ? 0 : 1;
}
