/*
 * epoll_ops: epoll on pipes.  Level-triggered items are reported while
 * ready, edge-triggered ones once per new write, EPOLLONESHOT ones once
 * until EPOLL_CTL_MOD re-arms them; maxevents splits a ready list;
 * closing the last fd of a file removes it (a dup keeps it); an epoll
 * inside an epoll; a child's write wakes epoll_wait; a handler ends
 * epoll_wait and epoll_pwait with EINTR, and so does a stop and continue
 * (poll and select go on); epoll_ctl's and epoll_wait's
 * errnos (EEXIST, ENOENT, EINVAL, ELOOP, EPERM, EBADF, EFAULT).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waitfiles.h"

static void show(const char *what, int n, struct epoll_event *ev)
{
	printf("%s: %d", what, n);
	for (int i = 0; i < n; i++)
		printf(" [%lu %#x]", (unsigned long)ev[i].data.u64, ev[i].events);
	printf("\n");
}

static int add(int ep, int fd, unsigned events, unsigned long data)
{
	struct epoll_event e = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int mod(int ep, int fd, unsigned events, unsigned long data)
{
	struct epoll_event e = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static volatile int got_usr1;
static void on_usr1(int sig) { got_usr1++; }

static void triggers(void)
{
	struct epoll_event ev[8];
	int p[2], q[2], r[2];
	char buf[16];
	pipe(p);
	pipe(q);
	pipe(r);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	printf("cloexec: %d\n", fcntl(ep, F_GETFD));
	add(ep, p[0], EPOLLIN, 1);              /* level */
	add(ep, q[0], EPOLLIN | EPOLLET, 2);    /* edge */
	add(ep, r[0], EPOLLIN | EPOLLONESHOT, 3);
	show("nothing", epoll_wait(ep, ev, 8, 0), ev);
	write(p[1], "ab", 2);
	write(q[1], "ab", 2);
	write(r[1], "ab", 2);
	show("all three", epoll_wait(ep, ev, 8, 0), ev);
	show("again", epoll_wait(ep, ev, 8, 0), ev);
	write(q[1], "c", 1);
	write(r[1], "c", 1);
	show("new writes", epoll_wait(ep, ev, 8, 0), ev);
	mod(ep, r[0], EPOLLIN | EPOLLONESHOT, 33);
	show("re-armed", epoll_wait(ep, ev, 8, 0), ev);
	read(p[0], buf, sizeof buf);
	show("level drained", epoll_wait(ep, ev, 8, 0), ev);
	read(q[0], buf, sizeof buf);
	read(r[0], buf, sizeof buf);
	mod(ep, r[0], EPOLLIN | EPOLLONESHOT, 3);
	show("all drained", epoll_wait(ep, ev, 8, 0), ev);

	/* maxevents 1: the ready ones come in turn */
	write(p[1], "x", 1);
	write(q[1], "x", 1);
	write(r[1], "x", 1);
	for (int i = 0; i < 4; i++)
		show("one at a time", epoll_wait(ep, ev, 1, 0), ev);
	read(p[0], buf, sizeof buf);
	read(q[0], buf, sizeof buf);
	read(r[0], buf, sizeof buf);

	/* write ends: EPOLLOUT, then EPOLLERR once the reader is gone */
	add(ep, p[1], EPOLLOUT, 4);
	show("writable", epoll_wait(ep, ev, 8, 0), ev);
	close(p[0]);
	show("reader gone", epoll_wait(ep, ev, 8, 0), ev);
	/* HUP on the read end once the writer is gone (always reported) */
	if (add(ep, q[0], 0, 5))
		printf("q0 re-add: %s\n", en(-1));
	close(q[1]);
	show("writer gone", epoll_wait(ep, ev, 8, 0), ev);
	/* Closing the last fd removes the item; a dup keeps the file alive. */
	int d = dup(r[0]);
	close(r[0]);
	write(r[1], "y", 1);
	if (mod(ep, r[0], EPOLLIN, 6))
		printf("mod closed fd: %s\n", en(-1));
	show("dup keeps it", epoll_wait(ep, ev, 8, 0), ev);
	close(d);
	close(p[1]);
	close(q[0]);
	show("all closed", epoll_wait(ep, ev, 8, 0), ev);
	close(r[1]);
	close(ep);
}

static void nested_and_wakeups(void)
{
	struct epoll_event ev[4];
	int p[2];
	pipe(p);
	int inner = epoll_create1(0), outer = epoll_create(1);
	add(inner, p[0], EPOLLIN, 7);
	add(outer, inner, EPOLLIN, 8);
	show("outer idle", epoll_wait(outer, ev, 4, 0), ev);
	write(p[1], "a", 1);
	show("outer sees inner", epoll_wait(outer, ev, 4, 0), ev);
	show("inner", epoll_wait(inner, ev, 4, 0), ev);
	char c;
	read(p[0], &c, 1);
	show("outer after read", epoll_wait(outer, ev, 4, 0), ev);

	/* A child writes later: epoll_wait sleeps until then, also nested. */
	pid_t pid = fork();
	if (pid == 0) {
		msleep(10);
		write(p[1], "b", 1);
		_exit(0);
	}
	show("woken outer", epoll_wait(outer, ev, 4, -1), ev);
	waitpid(pid, NULL, 0);
	read(p[0], &c, 1);
	show("timeout 20ms", epoll_wait(outer, ev, 4, 20), ev);
	struct timespec ts = { 0, 5000000 };
	show("pwait2 5ms", syscall(SYS_epoll_pwait2, inner, ev, 4, &ts, NULL, 8), ev);

	/* Polling an epoll fd with poll(2) */
	write(p[1], "c", 1);
	struct pollfd { int fd; short events, revents; } pf = { inner, 1, 0 };
	int r = syscall(SYS_poll, &pf, 1, 0);
	printf("poll on epoll: %d %#x\n", r, pf.revents);
	read(p[0], &c, 1);
	r = syscall(SYS_poll, &pf, 1, 0);
	printf("poll on epoll after read: %d %#x\n", r, pf.revents);
	close(outer);
	close(inner);
	close(p[0]);
	close(p[1]);
}

static void interrupted(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	struct epoll_event ev[4];
	int p[2];
	pipe(p);
	int ep = epoll_create1(0);
	add(ep, p[0], EPOLLIN, 1);
	pid_t parent = getpid();
	for (int which = 0; which < 2; which++) {
		got_usr1 = 0;
		pid_t pid = fork();
		if (pid == 0) {
			msleep(10);
			kill(parent, SIGUSR1);
			_exit(0);
		}
		long r = which ? epoll_pwait(ep, ev, 4, -1, NULL) : epoll_wait(ep, ev, 4, 5000);
		printf("epoll interrupted %d: %ld %s handler=%d\n", which, r, en(r), got_usr1);
		waitpid(pid, NULL, 0);
	}
	/* epoll_pwait lets a blocked, pending signal in; the mask comes back. */
	sigset_t blk, empty, now;
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR1);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	got_usr1 = 0;
	raise(SIGUSR1);
	long r = epoll_pwait(ep, ev, 4, 0, &empty);
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("epoll_pwait zero timeout, pending: %ld %s handler=%d blocked=%d\n", r, en(r), got_usr1,
	       sigismember(&now, SIGUSR1));
	r = epoll_pwait(ep, ev, 4, 10, &empty);
	printf("epoll_pwait pending: %ld %s handler=%d\n", r, en(r), got_usr1);
	sigprocmask(SIG_UNBLOCK, &blk, NULL);
	signal(SIGUSR1, SIG_DFL);
	close(ep);
	close(p[0]);
	close(p[1]);
}

/* Stopped and continued while waiting, with no handler: poll and select
 * go on waiting (restarted), epoll_wait returns EINTR (signal(7)). */
static void stop_continue(void)
{
	for (int which = 0; which < 3; which++) {
		int p[2];
		pipe(p);
		int ep = epoll_create1(0);
		add(ep, p[0], EPOLLIN, 9);
		pid_t parent = getpid();
		pid_t pid = fork();
		if (pid == 0) {
			msleep(10);
			kill(parent, SIGSTOP);
			msleep(10);
			kill(parent, SIGCONT);
			msleep(10);
			write(p[1], "x", 1);
			_exit(0);
		}
		long r;
		errno = 0;
		if (which == 0) {
			struct pollfd { int fd; short events, revents; } f = { p[0], 1, 0 };
			r = syscall(SYS_poll, &f, 1, 5000);
		} else if (which == 1) {
			fd_set rs;
			FD_ZERO(&rs);
			FD_SET(p[0], &rs);
			struct timeval tv = { 5, 0 };
			r = select(p[0] + 1, &rs, NULL, NULL, &tv);
		} else {
			struct epoll_event ev;
			r = epoll_wait(ep, &ev, 1, 5000);
		}
		printf("stop/continue %d: %ld %s\n", which, r, en(r));
		waitpid(pid, NULL, 0);
		close(p[0]);
		close(p[1]);
		close(ep);
	}
}

static void bad_input(void)
{
	struct epoll_event e = { .events = EPOLLIN }, ev[2];
	int p[2];
	pipe(p);
	int ep = epoll_create1(0);
	long r;
	printf("create1 bad flags: %s\n", en(epoll_create1(1)));
	printf("create size 0: %s\n", en(epoll_create(0)));
	printf("add: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e)));
	printf("add again: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e)));
	printf("mod absent: %s\n", en(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &e)));
	printf("del absent: %s\n", en(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL)));
	printf("del: %s\n", en(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL)));
	printf("bad op: %s\n", en(epoll_ctl(ep, 99, p[0], &e)));
	printf("bad event ptr: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)8)));
	printf("self: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e)));
	printf("not an epoll: %s\n", en(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &e)));
	printf("bad epfd: %s\n", en(epoll_ctl(99, EPOLL_CTL_ADD, p[1], &e)));
	printf("bad fd: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, 99, &e)));
	int nul = open("/dev/null", O_RDONLY);
	printf("/dev/null: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, nul, &e)));
	close(nul);
	int reg = open("/proc/self/exe", O_RDONLY);
	printf("regular file: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &e)));
	close(reg);
	/* EPOLLEXCLUSIVE: ADD only, with the allowed bits, never an epoll */
	e.events = EPOLLIN | EPOLLEXCLUSIVE;
	printf("exclusive add: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e)));
	printf("exclusive mod: %s\n", en(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e)));
	e.events = EPOLLIN;
	printf("mod of exclusive: %s\n", en(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e)));
	e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	printf("exclusive oneshot: %s\n", en(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &e)));
	/* loops */
	int a = epoll_create1(0), b = epoll_create1(0);
	e.events = EPOLLIN;
	printf("a in b: %s\n", en(epoll_ctl(b, EPOLL_CTL_ADD, a, &e)));
	printf("b in a: %s\n", en(epoll_ctl(a, EPOLL_CTL_ADD, b, &e)));
	e.events = EPOLLIN | EPOLLEXCLUSIVE;
	int c = epoll_create1(0);
	printf("exclusive epoll: %s\n", en(epoll_ctl(c, EPOLL_CTL_ADD, a, &e)));
	/* too deep: a chain of six epolls */
	int ch[6];
	e.events = EPOLLIN;
	for (int i = 0; i < 6; i++)
		ch[i] = epoll_create1(0);
	for (int i = 0; i < 5; i++)
		printf("chain %d: %s\n", i, en(epoll_ctl(ch[i + 1], EPOLL_CTL_ADD, ch[i], &e)));
	/* epoll_wait */
	r = epoll_wait(ep, ev, 0, 0);
	printf("maxevents 0: %s\n", en(r));
	r = syscall(SYS_epoll_wait, ep, ev, -1, 0);
	printf("maxevents -1: %s\n", en(r));
	r = syscall(SYS_epoll_wait, ep, ev, 0x7fffffff, 0);
	printf("maxevents huge: %s\n", en(r));
	r = epoll_wait(ep, (void *)0xffff800000000000UL, 1, 0);
	printf("kernel events ptr: %s\n", en(r));
	r = epoll_wait(p[0], ev, 1, 0);
	printf("not an epoll: %s\n", en(r));
	r = epoll_wait(99, ev, 1, 0);
	printf("bad epfd: %s\n", en(r));
	write(p[1], "x", 1);
	r = syscall(SYS_epoll_wait, ep, 8L, 1, 0);
	printf("unmapped events: %s\n", en(r));
	r = epoll_wait(ep, ev, 2, 0);
	printf("still there: %ld\n", r);
	sigset_t s;
	sigemptyset(&s);
	r = syscall(SYS_epoll_pwait, ep, ev, 2, 0, &s, 4);
	printf("pwait sigsetsize 4: %s\n", en(r));
	struct timespec bad = { 0, -1 };
	r = syscall(SYS_epoll_pwait2, ep, ev, 2, &bad, NULL, 8);
	printf("pwait2 bad timespec: %s\n", en(r));
	r = syscall(SYS_epoll_pwait2, ep, ev, 2, (void *)8, NULL, 8);
	printf("pwait2 bad timespec ptr: %s\n", en(r));
	printf("closed all: %d\n", close(ep) | close(a) | close(b) | close(c));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	triggers();
	nested_and_wakeups();
	interrupted();
	stop_continue();
	bad_input();
	return 0;
}
