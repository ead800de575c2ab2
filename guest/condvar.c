/*
 * condvar: producers and consumers around a bounded queue of 4 slots, with
 * one mutex and two condition variables (not full / not empty).  Every item
 * is consumed exactly once; the totals are printed, not the interleaving.
 */
#include <pthread.h>
#include <stdio.h>

#define SLOTS 4
#define PRODUCERS 2
#define CONSUMERS 3
#define ITEMS 2000          /* per producer */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int queue[SLOTS], head, count, producers_left = PRODUCERS;
static int max_seen;

static void *producer(void *arg)
{
	int base = (int)(long)arg * ITEMS;

	for (int i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&lock);
		while (count == SLOTS)
			pthread_cond_wait(&not_full, &lock);
		queue[(head + count) % SLOTS] = base + i;
		count++;
		if (count > max_seen)
			max_seen = count;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
	}
	pthread_mutex_lock(&lock);
	if (--producers_left == 0)
		pthread_cond_broadcast(&not_empty);   /* wake consumers to finish */
	pthread_mutex_unlock(&lock);
	return NULL;
}

struct tally {
	long sum;
	long items;
};

static void *consumer(void *arg)
{
	struct tally *t = arg;

	for (;;) {
		pthread_mutex_lock(&lock);
		while (count == 0 && producers_left > 0)
			pthread_cond_wait(&not_empty, &lock);
		if (count == 0) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		int v = queue[head];
		head = (head + 1) % SLOTS;
		count--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);
		t->sum += v;
		t->items++;
	}
}

int main(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	struct tally tally[CONSUMERS] = { { 0, 0 } };

	for (int i = 0; i < CONSUMERS; i++)
		pthread_create(&c[i], NULL, consumer, &tally[i]);
	for (long i = 0; i < PRODUCERS; i++)
		pthread_create(&p[i], NULL, producer, (void *)i);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	long sum = 0, items = 0;
	for (int i = 0; i < CONSUMERS; i++) {
		pthread_join(c[i], NULL);
		sum += tally[i].sum;
		items += tally[i].items;
	}
	long n = (long)PRODUCERS * ITEMS;
	printf("items consumed: %ld (expected %ld)\n", items, n);
	printf("sum of items: %ld (expected %ld)\n", sum, n * (n + 1) / 2);
	printf("queue never overfilled: %s\n", max_seen <= SLOTS ? "yes" : "no");
	return 0;
}
