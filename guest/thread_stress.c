/*
 * thread_stress: 200 threads created (all alive at once) and joined.  Each
 * does a little work and returns its index plus a checksum; main checks
 * every return value.  Then 5 more waves of 40 short-lived threads reuse
 * the exited threads' stacks.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define N 200

static pthread_barrier_t all_alive;

static void *work(void *arg)
{
	intptr_t i = (intptr_t)arg;
	long sum = 0;

	for (int k = 0; k <= (int)i; k++)
		sum += k;
	pthread_barrier_wait(&all_alive);   /* all N exist at once */
	return (void *)(sum * 1000 + i);
}

static void *quick(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t[N];
	int created = 0, good = 0;

	pthread_barrier_init(&all_alive, NULL, N);
	for (intptr_t i = 0; i < N; i++)
		if (pthread_create(&t[i], NULL, work, (void *)i) == 0)
			created++;
	for (intptr_t i = 0; i < created; i++) {
		void *ret;
		if (pthread_join(t[i], &ret) == 0 && (intptr_t)ret == i * (i + 1) / 2 * 1000 + i)
			good++;
	}
	printf("created %d threads, all alive at once, %d joined with the right value\n",
	       created, good);

	int waves_good = 0;
	for (int w = 0; w < 5; w++) {
		int ok = 0;
		for (intptr_t i = 0; i < 40; i++)
			pthread_create(&t[i], NULL, quick, (void *)(i + w));
		for (intptr_t i = 0; i < 40; i++) {
			void *ret;
			ok += pthread_join(t[i], &ret) == 0 && (intptr_t)ret == i + w;
		}
		waves_good += ok == 40;
	}
	printf("waves of 40 short-lived threads all right: %d of 5\n", waves_good);
	return created == N && good == N && waves_good == 5 ? 0 : 1;
}
