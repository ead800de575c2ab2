/*
 * timer_thread: glibc's SIGEV_THREAD timers -- glibc runs them on a
 * helper thread that waits in rt_sigtimedwait for the kernel timer's
 * signal (SIGEV_THREAD_ID) and starts a thread per expiry.  A periodic
 * timer's function runs five times with its sigev_value, a one-shot one
 * once; timer_delete stops them.
 */
#define _GNU_SOURCE
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sem_t ticks;
static volatile int calls, bad_value, other_thread;
static pid_t main_tid;

static void fn(union sigval v)
{
	if (v.sival_int != 77)
		bad_value = 1;
	if (gettid() != main_tid)
		other_thread = 1;
	calls++;
	sem_post(&ticks);
}

int main(void)
{
	main_tid = gettid();
	sem_init(&ticks, 0, 0);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = fn;
	sev.sigev_value.sival_int = 77;
	timer_t t;
	printf("timer_create(SIGEV_THREAD) = %d\n", timer_create(CLOCK_MONOTONIC, &sev, &t));
	struct itimerspec its = {{0, 20000000}, {0, 20000000}};
	printf("timer_settime(20ms/20ms) = %d\n", timer_settime(t, 0, &its, NULL));
	for (int i = 0; i < 5; i++)
		sem_wait(&ticks);
	printf("timer_delete = %d\n", timer_delete(t));
	printf("five calls seen, value 77 each: %s, on another thread: %s\n",
	       bad_value ? "no" : "yes", other_thread ? "yes" : "no");

	timer_t t2;
	timer_create(CLOCK_REALTIME, &sev, &t2);
	struct itimerspec once = {{0, 0}, {0, 10000000}};
	timer_settime(t2, 0, &once, NULL);
	sem_wait(&ticks);
	struct timespec ts = {0, 100000000};
	nanosleep(&ts, NULL);
	int v;
	sem_getvalue(&ticks, &v);
	printf("one-shot ran once: %s\n", v == 0 ? "yes" : "no");
	timer_delete(t2);
	return 0;
}
