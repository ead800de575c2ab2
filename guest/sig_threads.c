/*
 * sig_threads: signals and threads.
 *  - pthread_kill (tgkill) reaches exactly the thread it names;
 *  - a process-directed signal (kill) runs in the one thread that does
 *    not block it;
 *  - pthread_cancel (glibc: signal 32 with an SA_SIGINFO handler) of a
 *    thread blocked in read, of one looping on pthread_testcancel, of one
 *    waiting on a condition variable and of one spinning with
 *    asynchronous cancellation (interrupted between instructions, at a
 *    time slice): the cleanup handlers run, join returns PTHREAD_CANCELED;
 *  - setuid/setgid to the current ids from a process with threads: glibc
 *    runs the call on every thread through signal 33 (SIGSETXID), and it
 *    succeeds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 4
static pthread_barrier_t ready;
static pid_t tids[N];
static volatile pid_t handled_by[64];
static volatile int stop;

static void handler(int sig)
{
	handled_by[sig] = (pid_t)syscall(SYS_gettid);
}

static void *waiter(void *arg)
{
	int i = (int)(long)arg;
	tids[i] = (pid_t)syscall(SYS_gettid);
	if (i == 2) {			/* only thread 2 takes SIGUSR2 */
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGUSR2);
		pthread_sigmask(SIG_UNBLOCK, &m, NULL);
	}
	pthread_barrier_wait(&ready);
	while (!stop)
		usleep(1000);
	return NULL;
}

static int which(pid_t tid)
{
	for (int i = 0; i < N; i++)
		if (tids[i] == tid)
			return i;
	return tid == getpid() ? -1 : -2;
}

/* --- cancellation ------------------------------------------------------------ */

static volatile int cleaned[4];
static int pfd[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void cleanup(void *arg)
{
	cleaned[(long)arg] = 1;
}

static void unlock_cleanup(void *arg)
{
	cleaned[(long)arg] = 1;
	pthread_mutex_unlock(&mu);
}

static void *in_read(void *arg)
{
	char c;
	pthread_cleanup_push(cleanup, (void *)0);
	pthread_barrier_wait(&ready);
	read(pfd[0], &c, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *testcancel_loop(void *arg)
{
	pthread_cleanup_push(cleanup, (void *)1);
	pthread_barrier_wait(&ready);
	for (;;)
		pthread_testcancel();
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_condwait(void *arg)
{
	pthread_mutex_lock(&mu);
	pthread_cleanup_push(unlock_cleanup, (void *)2);
	pthread_barrier_wait(&ready);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *async_spin(void *arg)
{
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	pthread_cleanup_push(cleanup, (void *)3);
	pthread_barrier_wait(&ready);
	for (volatile unsigned long n = 0;; n++)
		;
	pthread_cleanup_pop(0);
	return NULL;
}

static void cancel(const char *what, void *(*fn)(void *))
{
	pthread_t t;
	void *ret;
	pthread_barrier_init(&ready, NULL, 2);
	pthread_create(&t, NULL, fn, NULL);
	pthread_barrier_wait(&ready);
	usleep(20000);
	pthread_cancel(t);
	pthread_join(t, &ret);
	pthread_barrier_destroy(&ready);
	printf("cancel %s: joined %s\n", what, ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "other");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, handler);
	signal(SIGUSR2, handler);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &m, NULL);	/* inherited by the threads */

	pthread_t th[N];
	pthread_barrier_init(&ready, NULL, N + 1);
	for (long i = 0; i < N; i++)
		pthread_create(&th[i], NULL, waiter, (void *)i);
	pthread_barrier_wait(&ready);
	pthread_barrier_destroy(&ready);

	for (int i = 0; i < N; i++) {
		handled_by[SIGUSR1] = 0;
		pthread_kill(th[i], SIGUSR1);
		while (!handled_by[SIGUSR1])
			usleep(1000);
		printf("pthread_kill to thread %d: handled by thread %d\n", i, which(handled_by[SIGUSR1]));
	}
	kill(getpid(), SIGUSR2);
	while (!handled_by[SIGUSR2])
		usleep(1000);
	printf("kill to the process: handled by thread %d\n", which(handled_by[SIGUSR2]));

	printf("setuid(getuid()) with threads: %d\n", setuid(getuid()));
	printf("setgid(getgid()) with threads: %d\n", setgid(getgid()));
	stop = 1;
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);

	pipe(pfd);
	cancel("blocked in read", in_read);
	cancel("looping on pthread_testcancel", testcancel_loop);
	cancel("in pthread_cond_wait", in_condwait);
	cancel("spinning, asynchronous", async_spin);
	printf("cleanup handlers ran: %d %d %d %d\n", cleaned[0], cleaned[1], cleaned[2], cleaned[3]);
	printf("mutex free after the cond_wait cancel: %d\n", pthread_mutex_trylock(&mu) == 0);
	return 0;
}
