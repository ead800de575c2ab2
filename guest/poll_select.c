/*
 * poll_select: poll, ppoll, select and pselect6 on pipes.  Readiness of
 * both ends (POLLIN, POLLOUT, POLLHUP once the writer is gone, POLLERR
 * once the reader is), POLLNVAL and negative fds, zero and small
 * timeouts (select writes the time left back), a child that writes
 * later wakes the parent, a handler interrupts each call with EINTR
 * (even under SA_RESTART), ppoll/pselect6 swap the signal mask for the
 * call only, and bad arguments give Linux's errnos.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waitfiles.h"

static void show_revents(const char *what, struct pollfd *p, int n, int r)
{
	printf("%s: poll=%d", what, r);
	for (int i = 0; i < n; i++)
		printf(" [fd%d %#x]", i, p[i].revents);
	printf("\n");
}

static volatile int got_usr1;
static void on_usr1(int sig) { got_usr1++; }

/* A child that sends SIGUSR1 to its parent after ms milliseconds. */
static pid_t kill_me_later(int ms)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		msleep(ms);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	return pid;
}

static void pipe_states(void)
{
	int p[2];
	char c;
	pipe(p);
	struct pollfd fds[2] = { { p[0], POLLIN | POLLOUT, 0 }, { p[1], POLLIN | POLLOUT, 0 } };
	int r = poll(fds, 2, 0);
	show_revents("empty", fds, 2, r);
	write(p[1], "x", 1);
	r = poll(fds, 2, 0);
	show_revents("one byte", fds, 2, r);
	read(p[0], &c, 1);
	close(p[1]);
	fds[1].fd = -1;
	r = poll(fds, 2, 0);
	show_revents("writer closed", fds, 2, r);
	close(p[0]);
	r = poll(fds, 1, 0);
	show_revents("closed fd", fds, 1, r);

	pipe(p);
	close(p[0]);
	struct pollfd w = { p[1], POLLOUT, 0 };
	r = poll(&w, 1, 0);
	show_revents("reader closed", &w, 1, r);
	w.events = 0;
	r = poll(&w, 1, 0);
	show_revents("reader closed, no events", &w, 1, r);
	close(p[1]);

	/* A full pipe is not writable. */
	pipe(p);
	char buf[4096];
	memset(buf, 'a', sizeof buf);
	struct pollfd q = { p[1], POLLOUT, 0 };
	int chunks = 0;
	while (poll(&q, 1, 0) == 1) {
		write(p[1], buf, sizeof buf);
		chunks++;
	}
	printf("full after %d chunks\n", chunks);
	read(p[0], buf, sizeof buf);
	printf("writable after a read: %d\n", poll(&q, 1, 0));
	close(p[0]);
	close(p[1]);

	/* Regular files and /dev/null are always ready. */
	FILE *tf = tmpfile();
	struct pollfd reg[1] = { { fileno(tf), POLLIN | POLLOUT | POLLPRI, 0 } };
	r = poll(reg, 1, -1);
	show_revents("regular file", reg, 1, r);
	fclose(tf);
}

static void timeouts(void)
{
	int p[2];
	pipe(p);
	struct pollfd fd = { p[0], POLLIN, 0 };
	printf("poll 0: %d\n", poll(&fd, 1, 0));
	printf("poll 20ms: %d\n", poll(&fd, 1, 20));
	struct timespec ts = { 0, 5000000 };
	printf("ppoll 5ms: %d\n", ppoll(&fd, 1, &ts, NULL));
	printf("ppoll ts left %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);

	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	struct timeval tv = { 0, 30000 };
	long r = syscall(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv);
	printf("select 30ms: %ld set=%d left %ld.%06ld\n", r, FD_ISSET(p[0], &rs), (long)tv.tv_sec, (long)tv.tv_usec);
	FD_SET(p[0], &rs);
	tv.tv_sec = 0;
	tv.tv_usec = 1500000;        /* more than a second of usec is normalised */
	write(p[1], "y", 1);
	r = syscall(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv);
	printf("select ready: %ld set=%d left ok=%d\n", r, FD_ISSET(p[0], &rs),
	       tv.tv_sec == 1 && tv.tv_usec > 400000);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	r = syscall(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv);
	printf("select 0: %ld\n", r);

	/* select counts each set separately */
	fd_set ws;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(p[0], &rs);
	FD_SET(p[1], &rs);
	FD_SET(p[0], &ws);
	FD_SET(p[1], &ws);
	struct timespec zero = { 0, 0 };
	r = syscall(SYS_pselect6, p[1] + 1, &rs, &ws, NULL, &zero, NULL);
	printf("pselect6 both: %ld r0=%d r1=%d w0=%d w1=%d\n", r, FD_ISSET(p[0], &rs), FD_ISSET(p[1], &rs),
	       FD_ISSET(p[0], &ws), FD_ISSET(p[1], &ws));
	close(p[0]);
	close(p[1]);
}

/* A child writes later: the parent's poll, select and ppoll sleep until then. */
static void wakeups(void)
{
	for (int which = 0; which < 3; which++) {
		int p[2];
		pipe(p);
		pid_t pid = fork();
		if (pid == 0) {
			msleep(10);
			write(p[1], "z", 1);
			_exit(0);
		}
		int r;
		if (which == 0) {
			struct pollfd fd = { p[0], POLLIN, 0 };
			r = poll(&fd, 1, -1);
			printf("woken poll: %d %#x\n", r, fd.revents);
		} else if (which == 1) {
			fd_set rs;
			FD_ZERO(&rs);
			FD_SET(p[0], &rs);
			r = select(p[0] + 1, &rs, NULL, NULL, NULL);
			printf("woken select: %d %d\n", r, FD_ISSET(p[0], &rs));
		} else {
			struct pollfd fd = { p[0], POLLIN, 0 };
			struct timespec ts = { 5, 0 };
			r = ppoll(&fd, 1, &ts, NULL);
			printf("woken ppoll: %d %#x\n", r, fd.revents);
		}
		waitpid(pid, NULL, 0);
		close(p[0]);
		close(p[1]);
	}
	/* HUP wakes a poller when the last writer goes. */
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		msleep(10);
		_exit(0);
	}
	close(p[1]);
	struct pollfd fd = { p[0], POLLIN, 0 };
	int r = poll(&fd, 1, -1);
	printf("woken by hup: %d %#x\n", r, fd.revents);
	waitpid(pid, NULL, 0);
	close(p[0]);
}

static void interrupted(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;   /* poll and select are never restarted after a handler */
	sigaction(SIGUSR1, &sa, NULL);
	int p[2];
	pipe(p);
	for (int which = 0; which < 4; which++) {
		got_usr1 = 0;
		pid_t pid = kill_me_later(10);
		long r;
		struct pollfd fd = { p[0], POLLIN, 0 };
		fd_set rs;
		FD_ZERO(&rs);
		FD_SET(p[0], &rs);
		if (which == 0)
			r = poll(&fd, 1, -1);
		else if (which == 1)
			r = poll(&fd, 1, 5000);
		else if (which == 2)
			r = syscall(SYS_select, p[0] + 1, &rs, NULL, NULL, NULL);
		else {
			struct timespec ts = { 5, 0 };
			r = syscall(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, &ts, NULL);
		}
		printf("interrupted %d: %ld %s handler=%d\n", which, r, en(r), got_usr1);
		waitpid(pid, NULL, 0);
	}

	/* ppoll with a mask that lets a blocked signal in: the handler runs,
	 * and the old mask is back afterwards. */
	sigset_t blk, old, now, empty;
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &blk, &old);
	got_usr1 = 0;
	pid_t pid = kill_me_later(10);
	struct pollfd fd = { p[0], POLLIN, 0 };
	int r = ppoll(&fd, 1, NULL, &empty);
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("ppoll mask: %d %s handler=%d blocked after=%d\n", r, en(r), got_usr1, sigismember(&now, SIGUSR1));
	waitpid(pid, NULL, 0);

	/* Already pending and let in by the mask: EINTR even with a zero timeout. */
	got_usr1 = 0;
	raise(SIGUSR1);
	struct timespec zero = { 0, 0 };
	r = ppoll(&fd, 1, &zero, &empty);
	printf("ppoll pending: %d %s handler=%d\n", r, en(r), got_usr1);
	got_usr1 = 0;
	raise(SIGUSR1);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	r = pselect(p[0] + 1, &rs, NULL, NULL, &zero, &empty);
	printf("pselect pending: %d %s handler=%d\n", r, en(r), got_usr1);
	/* A mask that keeps it blocked: the timeout ends the call, the
	 * signal stays pending, and the handler runs once unblocked. */
	got_usr1 = 0;
	raise(SIGUSR1);
	struct timespec small = { 0, 1000000 };
	r = ppoll(&fd, 1, &small, &blk);
	printf("ppoll blocked: %d %s handler=%d\n", r, en(r), got_usr1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("after unblock: handler=%d\n", got_usr1);
	close(p[0]);
	close(p[1]);
	signal(SIGUSR1, SIG_DFL);
}

static void bad_input(void)
{
	int p[2];
	pipe(p);
	struct pollfd fd = { p[0], POLLIN, 0 };
	long r = syscall(SYS_poll, 8L, 1, 0);
	printf("poll bad ptr: %s\n", en(r));
	r = poll(NULL, 0, 0);
	printf("poll nothing: %ld\n", r);
	r = syscall(SYS_poll, &fd, 1UL << 20, 0);
	printf("poll nfds too big: %s\n", en(r));
	struct timespec z0 = { 0, 0 };
	r = syscall(SYS_ppoll, &fd, 1, &z0, NULL, 8);
	printf("ppoll no mask: %ld\n", r);
	sigset_t s;
	sigemptyset(&s);
	r = syscall(SYS_ppoll, &fd, 1, NULL, &s, 4);
	printf("ppoll sigsetsize 4: %s\n", en(r));
	struct timespec bad = { 0, 1000000000 };
	r = syscall(SYS_ppoll, &fd, 1, &bad, NULL, 8);
	printf("ppoll bad timespec: %s\n", en(r));
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	r = syscall(SYS_ppoll, &fd, 1, &bad, NULL, 8);
	printf("ppoll negative timespec: %s\n", en(r));
	r = syscall(SYS_ppoll, &fd, 1, (void *)8, NULL, 8);
	printf("ppoll bad timespec ptr: %s\n", en(r));

	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	r = syscall(SYS_select, -1, &rs, NULL, NULL, NULL);
	printf("select nfds -1: %s\n", en(r));
	r = syscall(SYS_select, p[0] + 1, (void *)8, NULL, NULL, NULL);
	printf("select bad set: %s\n", en(r));
	struct timeval tv = { 0, -1 };
	r = syscall(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv);
	printf("select bad timeval: %s\n", en(r));
	r = syscall(SYS_select, -1, NULL, NULL, NULL, (void *)8);
	printf("select bad timeval ptr first: %s\n", en(r));
	FD_ZERO(&rs);
	FD_SET(40, &rs);
	struct timeval z = { 0, 0 };
	r = syscall(SYS_select, 41, &rs, NULL, NULL, &z);
	printf("select closed fd: %s\n", en(r));
	/* Bits past nfds are not looked at. */
	FD_ZERO(&rs);
	FD_SET(40, &rs);
	FD_SET(p[1], &rs);
	r = syscall(SYS_select, 40, NULL, &rs, NULL, &z);
	printf("select past nfds: %ld 40=%d\n", r, FD_ISSET(40, &rs));
	/* nfds above the fd table size is cut to it: a small set is enough. */
	FD_ZERO(&rs);
	FD_SET(p[1], &rs);
	r = syscall(SYS_select, 1 << 20, NULL, &rs, NULL, &z);
	printf("select huge nfds: %ld\n", r);
	struct { void *p; size_t n; } pack = { &s, 4 };
	r = syscall(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, NULL, &pack);
	printf("pselect6 sigsetsize 4: %s\n", en(r));
	r = syscall(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, NULL, (void *)8);
	printf("pselect6 bad pack: %s\n", en(r));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pipe_states();
	timeouts();
	wakeups();
	interrupted();
	bad_input();
	return 0;
}
