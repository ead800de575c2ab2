/*
 * uname_time: facts about identity and time that hold on every run --
 * uname says Linux/x86_64, getpid/getppid are stable, gettid equals getpid
 * in a single-threaded process, and CLOCK_MONOTONIC never goes backwards
 * (read through libc and as a raw syscall).  No pid, time or host name is
 * printed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static int ts_le(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

static void monotonic(const char *how, int raw)
{
	struct timespec prev, now;
	int ok = 1, valid = 1;

	for (int i = 0; i < 1000; i++) {
		if (raw)
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
		else
			clock_gettime(CLOCK_MONOTONIC, &now);
		valid &= now.tv_nsec >= 0 && now.tv_nsec < 1000000000L && now.tv_sec >= 0;
		if (i > 0)
			ok &= ts_le(&prev, &now);
		prev = now;
	}
	printf("clock_gettime(MONOTONIC) via %s: 1000 reads non-decreasing: %s, well-formed: %s\n",
	       how, yes(ok), yes(valid));
}

int main(void)
{
	struct utsname u;

	if (uname(&u) != 0) {
		perror("uname");
		return 1;
	}
	printf("uname sysname: %s\n", u.sysname);
	printf("uname machine: %s\n", u.machine);
	printf("uname release non-empty: %s\n", yes(u.release[0] != 0));
	printf("uname nodename non-empty: %s\n", yes(u.nodename[0] != 0));

	pid_t pid = getpid();
	printf("getpid() stable: %s\n", yes(getpid() == pid && syscall(SYS_getpid) == pid));
	printf("getppid() stable: %s\n", yes(getppid() == getppid()));
	printf("gettid() == getpid() in a single-threaded process: %s\n", yes(gettid() == pid));
	printf("getpid() != getppid(): %s\n", yes(getpid() != getppid()));

	monotonic("libc", 0);
	monotonic("raw syscall", 1);

	struct timespec res;
	clock_getres(CLOCK_MONOTONIC, &res);
	printf("clock_getres(MONOTONIC) at most 1 ms: %s\n",
	       yes(res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000));

	struct timeval tv;
	struct timespec rt;
	gettimeofday(&tv, NULL);
	clock_gettime(CLOCK_REALTIME, &rt);
	printf("gettimeofday well-formed: %s\n", yes(tv.tv_usec >= 0 && tv.tv_usec < 1000000));
	printf("realtime not before gettimeofday: %s\n",
	       yes(rt.tv_sec > tv.tv_sec ||
		   (rt.tv_sec == tv.tv_sec && rt.tv_nsec / 1000 >= tv.tv_usec)));
	return 0;
}
