/*
 * fd_events: eventfd and signalfd.  An eventfd counts (EFD_SEMAPHORE
 * reads one at a time), blocks or says EAGAIN at 0 and near 2^64-1, and
 * wakes poll and epoll; a signalfd reads the siginfo of blocked pending
 * signals (kill, sigqueue, a child's SIGCHLD), blocks until one comes,
 * changes its mask through the same fd, and is readable to poll only
 * while one of its signals is pending.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waitfiles.h"

static int pollone(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };
	poll(&p, 1, 0);
	return p.revents;
}

static void eventfds(void)
{
	uint64_t v;
	int fd = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
	printf("flags %#x cloexec %d\n", fcntl(fd, F_GETFL) & ~0x8000, fcntl(fd, F_GETFD));
	printf("poll at 3: %#x\n", pollone(fd, POLLIN | POLLOUT));
	long r = read(fd, &v, 8);
	printf("read: %ld %llu\n", r, (unsigned long long)v);
	r = read(fd, &v, 8);
	printf("read at 0: %s\n", en(r));
	printf("poll at 0: %#x\n", pollone(fd, POLLIN | POLLOUT));
	r = read(fd, &v, 4);
	printf("read 4 bytes: %s\n", en(r));
	v = 5;
	r = write(fd, &v, 4);
	printf("write 4 bytes: %s\n", en(r));
	v = UINT64_MAX;
	r = write(fd, &v, 8);
	printf("write max: %s\n", en(r));
	v = UINT64_MAX - 1;
	r = write(fd, &v, 8);
	printf("write max-1: %ld\n", r);
	printf("poll full: %#x\n", pollone(fd, POLLIN | POLLOUT));
	v = 1;
	r = write(fd, &v, 8);
	printf("write over: %s\n", en(r));
	v = 0;
	r = write(fd, &v, 8);
	printf("write 0 when full: %s\n", en(r));
	read(fd, &v, 8);
	close(fd);

	/* Semaphore: one at a time */
	fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	for (int i = 0; i < 3; i++) {
		v = 0;
		r = read(fd, &v, 8);
		printf("sem read %d: %s %llu\n", i, en(r), (unsigned long long)v);
	}
	close(fd);
	printf("bad flags: %s\n", en(eventfd(0, 0x10)));
	printf("raw eventfd: %s\n", en(syscall(SYS_eventfd, 0) >= 0 ? 0 : -1));

	/* A child's write wakes a blocking read, a poll and an epoll_wait. */
	fd = eventfd(0, 0);
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.u64 = 42 }, ev[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	for (int which = 0; which < 3; which++) {
		pid_t pid = fork();
		if (pid == 0) {
			msleep(10);
			uint64_t one = 7;
			write(fd, &one, 8);
			_exit(0);
		}
		if (which == 0) {
			r = read(fd, &v, 8);
			printf("blocking read: %ld %llu\n", r, (unsigned long long)v);
		} else if (which == 1) {
			struct pollfd p = { fd, POLLIN, 0 };
			r = poll(&p, 1, -1);
			printf("poll woken: %ld %#x\n", r, p.revents);
			read(fd, &v, 8);
		} else {
			r = epoll_wait(ep, ev, 2, -1);
			printf("epoll woken: %ld %lu %#x\n", r, (unsigned long)ev[0].data.u64, ev[0].events);
			read(fd, &v, 8);
		}
		waitpid(pid, NULL, 0);
	}
	close(ep);
	close(fd);
}

static void show_ssi(const char *what, long r, struct signalfd_siginfo *si)
{
	if (r < 0) {
		printf("%s: %s\n", what, en(r));
		return;
	}
	printf("%s: %ld bytes signo=%u code=%d", what, r, si->ssi_signo, si->ssi_code);
	if (si->ssi_signo == SIGCHLD)
		printf(" status=%d from child=%d", si->ssi_status, si->ssi_pid != 0);
	else if (si->ssi_code == SI_QUEUE)
		printf(" int=%d ptr=%#llx", si->ssi_int, (unsigned long long)si->ssi_ptr);
	else if (si->ssi_code == SI_USER || si->ssi_code == SI_TKILL)
		printf(" from me=%d uid=%u", si->ssi_pid == (uint32_t)getpid(), si->ssi_uid);
	printf("\n");
}

static void signalfds(void)
{
	sigset_t m;
	struct signalfd_siginfo si[4];
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);
	int fd = signalfd(-1, &m, SFD_NONBLOCK);
	printf("flags %#x\n", fcntl(fd, F_GETFL) & ~0x8000);
	long r = read(fd, si, sizeof si);
	show_ssi("nothing", r, si);
	printf("poll idle: %#x\n", pollone(fd, POLLIN));
	kill(getpid(), SIGUSR1);
	printf("poll pending: %#x\n", pollone(fd, POLLIN));
	r = read(fd, si, sizeof si[0] - 1);
	show_ssi("short buffer", r, si);
	r = read(fd, si, sizeof si);
	show_ssi("kill", r, si);
	union sigval sv = { .sival_int = 1234 };
	sigqueue(getpid(), SIGUSR1, sv);
	r = read(fd, si, sizeof si);
	show_ssi("sigqueue", r, si);

	/* a child's exit, as SIGCHLD */
	pid_t pid = fork();
	if (pid == 0)
		_exit(5);
	struct pollfd p = { fd, POLLIN, 0 };
	r = poll(&p, 1, -1);
	printf("poll woken by SIGCHLD: %ld %#x\n", r, p.revents);
	r = read(fd, si, sizeof si);
	show_ssi("sigchld", r, si);
	waitpid(pid, NULL, 0);

	/* two at once, lowest number first */
	kill(getpid(), SIGCHLD);
	kill(getpid(), SIGUSR1);
	r = read(fd, si, sizeof si);
	printf("two: %ld bytes, %u then %u\n", r, si[0].ssi_signo, si[1].ssi_signo);

	/* change the mask through the same fd: SIGUSR1 no longer read */
	sigset_t only_chld;
	sigemptyset(&only_chld);
	sigaddset(&only_chld, SIGCHLD);
	printf("update: %d\n", signalfd(fd, &only_chld, 0) == fd);
	kill(getpid(), SIGUSR1);
	r = read(fd, si, sizeof si);
	show_ssi("after update", r, si);
	sigset_t pend;
	sigpending(&pend);
	printf("usr1 still pending: %d\n", sigismember(&pend, SIGUSR1));
	int fd2 = signalfd(-1, &m, 0);
	r = read(fd2, si, sizeof si);
	show_ssi("blocking read, already pending", r, si);

	/* a blocking read woken by a child's signal */
	pid_t parent = getpid();
	pid = fork();
	if (pid == 0) {
		msleep(10);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	r = read(fd2, si, sizeof si[0]);
	show_ssi("blocking read woken", r, si);
	waitpid(pid, NULL, 0);
	r = read(fd, si, sizeof si);       /* the child's SIGCHLD */
	show_ssi("its sigchld", r, si);

	printf("bad flags: %s\n", en(signalfd(-1, &m, 1)));
	printf("bad size: %s\n", en(syscall(SYS_signalfd4, -1, &m, 4, 0)));
	printf("bad mask ptr: %s\n", en(syscall(SYS_signalfd4, -1, 8L, 8, 0)));
	printf("not a signalfd: %s\n", en(signalfd(0, &m, 0)));
	printf("bad fd: %s\n", en(signalfd(99, &m, 0)));
	close(fd);
	close(fd2);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	eventfds();
	signalfds();
	return 0;
}
