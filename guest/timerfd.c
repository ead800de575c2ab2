/*
 * timerfd: timerfd_create/settime/gettime and read -- a one-shot timer
 * read blocking (count 1), a periodic one read after a sleep (the
 * intervals that passed), non-blocking reads (EAGAIN), gettime of armed
 * and disarmed timers, TFD_TIMER_ABSTIME, the old value from settime,
 * and the errno cases.  Only counts and facts are printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static long raw(long nr, long a, long b, long c, long d)
{
	long r = syscall(nr, a, b, c, d);
	return r < 0 ? -errno : r;
}

static struct itimerspec spec(long val_ms, long iv_ms)
{
	struct itimerspec s = {{iv_ms / 1000, (iv_ms % 1000) * 1000000},
			       {val_ms / 1000, (val_ms % 1000) * 1000000}};
	return s;
}

static void rd(int fd, const char *what)
{
	uint64_t n = 0;
	ssize_t r = read(fd, &n, sizeof n);
	if (r < 0)
		printf("%s: read: %s\n", what, strerrorname_np(errno));
	else
		printf("%s: read %zd bytes, count %llu\n", what, r, (unsigned long long)n);
}

int main(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	printf("timerfd_create(MONOTONIC, 0): fd >= 3: %s\n", yes(fd >= 3));
	struct itimerspec s = spec(20, 0), cur;
	printf("settime one-shot 20ms = %d\n", timerfd_settime(fd, 0, &s, NULL));
	timerfd_gettime(fd, &cur);
	printf("gettime: value in (0, 20ms]: %s, interval 0: %s\n",
	       yes(!cur.it_value.tv_sec && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000),
	       yes(!cur.it_interval.tv_sec && !cur.it_interval.tv_nsec));
	rd(fd, "blocking read");
	timerfd_gettime(fd, &cur);
	printf("gettime after expiry: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);

	/* Periodic 50 ms, read after sleeping 275 ms: 5 expirations. */
	s = spec(50, 50);
	timerfd_settime(fd, 0, &s, NULL);
	nanosleep(&(struct timespec){0, 275000000}, NULL);
	rd(fd, "after 275ms of 50ms periods");
	rd(fd, "next blocking read");
	timerfd_gettime(fd, &cur);
	printf("gettime: interval 50ms: %s, value in (0, 50ms]: %s\n",
	       yes(cur.it_interval.tv_nsec == 50000000),
	       yes(!cur.it_value.tv_sec && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 50000000));
	struct itimerspec old;
	s = spec(0, 0);
	int r = timerfd_settime(fd, 0, &s, &old);
	printf("disarm = %d, old interval 50ms: %s\n", r, yes(old.it_interval.tv_nsec == 50000000));
	close(fd);

	/* Non-blocking, absolute time on CLOCK_REALTIME. */
	fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	printf("O_NONBLOCK set: %s, FD_CLOEXEC set: %s\n", yes(fcntl(fd, F_GETFL) & O_NONBLOCK),
	       yes(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	rd(fd, "disarmed, non-blocking");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	s = spec(0, 0);
	s.it_value.tv_sec = now.tv_sec + 1;
	s.it_value.tv_nsec = now.tv_nsec;
	printf("settime ABSTIME now+1s = %d\n", timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL));
	rd(fd, "before it");
	nanosleep(&(struct timespec){1, 100000000}, NULL);
	rd(fd, "after 1.1s");
	s = spec(0, 0);
	s.it_value.tv_sec = 1;     /* absolute 1970: already past, fires at once */
	timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL);
	nanosleep(&(struct timespec){0, 1000000}, NULL);
	rd(fd, "absolute time in the past");

	/* Errors. */
	uint32_t small;
	printf("read 4 bytes: %ld\n", raw(SYS_read, fd, (long)&small, 4, 0));
	printf("timerfd_create(clock 99) = %ld\n", raw(SYS_timerfd_create, 99, 0, 0, 0));
	printf("timerfd_create(PROCESS_CPUTIME) = %ld\n",
	       raw(SYS_timerfd_create, CLOCK_PROCESS_CPUTIME_ID, 0, 0, 0));
	printf("timerfd_create(bad flags) = %ld\n", raw(SYS_timerfd_create, CLOCK_MONOTONIC, 1, 0, 0));
	s = spec(10, 0);
	printf("settime(bad flags) = %ld\n", raw(SYS_timerfd_settime, fd, 4, (long)&s, 0));
	s.it_value.tv_nsec = 1000000000;
	printf("settime(nsec 1e9) = %ld\n", raw(SYS_timerfd_settime, fd, 0, (long)&s, 0));
	printf("settime(bad pointer) = %ld\n", raw(SYS_timerfd_settime, fd, 0, 16, 0));
	s = spec(10, 0);
	printf("settime(bad old pointer) = %ld\n", raw(SYS_timerfd_settime, fd, 0, (long)&s, 16));
	printf("settime(bad fd) = %ld\n", raw(SYS_timerfd_settime, 999, 0, (long)&s, 0));
	printf("settime(stdout) = %ld\n", raw(SYS_timerfd_settime, 1, 0, (long)&s, 0));
	printf("gettime(stdout) = %ld\n", raw(SYS_timerfd_gettime, 1, (long)&cur, 0, 0));
	printf("gettime(bad pointer) = %ld\n", raw(SYS_timerfd_gettime, fd, 16, 0, 0));
	close(fd);
	return 0;
}
