/*
 * tls: a __thread variable (initialised and zero-initialised ones) is
 * private to each thread: every thread starts from the initial value, its
 * changes stay its own, and main's copy is untouched.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define N 4

static __thread int counter = 100;      /* .tdata */
static __thread long scratch[64];       /* .tbss */
static int *addr_of[N + 1];
static pthread_barrier_t all_alive;

struct result {
	int started_with;
	int scratch_zero;
	int ended_with;
};

static void *run(void *arg)
{
	int id = (int)(intptr_t)arg;
	static struct result results[N];
	struct result *r = &results[id];

	r->started_with = counter;
	r->scratch_zero = 1;
	for (int i = 0; i < 64; i++)
		r->scratch_zero &= scratch[i] == 0;
	for (int i = 0; i < 64; i++)
		scratch[i] = id;
	for (int i = 0; i < 1000 * (id + 1); i++)
		counter++;
	addr_of[id] = &counter;
	r->ended_with = counter;
	/* Stay alive until all have noted &counter: an exited thread's
	 * stack and TLS block may be reused by the next one created. */
	pthread_barrier_wait(&all_alive);
	return r;
}

int main(void)
{
	pthread_t t[N];

	pthread_barrier_init(&all_alive, NULL, N);
	counter = 7;
	scratch[0] = 99;
	for (intptr_t i = 0; i < N; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (int i = 0; i < N; i++) {
		struct result *r;
		pthread_join(t[i], (void **)&r);
		printf("thread %d: counter started at %d, ended at %d, .tbss zero at start: %s\n",
		       i, r->started_with, r->ended_with, r->scratch_zero ? "yes" : "no");
	}
	addr_of[N] = &counter;
	int distinct = 1;
	for (int i = 0; i <= N; i++)
		for (int j = i + 1; j <= N; j++)
			distinct &= addr_of[i] != addr_of[j];
	printf("main: counter still %d, scratch[0] still %ld\n", counter, scratch[0]);
	printf("each thread's &counter distinct: %s\n", distinct ? "yes" : "no");
	return 0;
}
