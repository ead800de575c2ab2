/*
 * poll_stdin: waits for its stdin with poll (with "epoll": epoll_wait,
 * edge-triggered) and reads it to the end,
 * printing each line upper-cased, while a child sleeps and works on its
 * own (under tinyunix the wait for host input must not stop the other
 * tasks).  Fed slowly through a pipe by tests/guest/test_poll_stdin.py;
 * with /dev/null or a file as stdin it ends at once.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int use_epoll = argc > 1 && strcmp(argv[1], "epoll") == 0;
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.u64 = 0 };
	if (use_epoll && epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e) != 0)
		use_epoll = 0;      /* stdin is a file: epoll refuses it */
	if (use_epoll)
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t pid = fork();
	if (pid == 0) {
		unsigned long sum = 0;
		for (int i = 0; i < 20; i++) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			for (int j = 0; j < 10000; j++)
				sum += (unsigned long)j * i;
		}
		_exit(sum % 100);
	}
	char buf[4096], line[4096];
	size_t have = 0;
	int hup = 0;
	for (;;) {
		struct pollfd p = { 0, POLLIN, 0 };
		if (use_epoll) {
			if (epoll_wait(ep, &e, 1, -1) != 1) {
				printf("epoll_wait failed\n");
				return 1;
			}
			p.revents = e.events;
		} else if (poll(&p, 1, -1) != 1) {
			printf("poll failed\n");
			return 1;
		}
		if (p.revents & POLLHUP)
			hup = 1;
		/* Edge-triggered: read until EAGAIN (stdin is O_NONBLOCK then). */
		for (;;) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0)
				goto eof;
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] == '\n' || have == sizeof line - 1) {
					line[have] = 0;
					for (size_t k = 0; k < have; k++)
						line[k] = toupper((unsigned char)line[k]);
					printf("%s\n", line);
					have = 0;
				} else {
					line[have++] = buf[i];
				}
			}
			if (!use_epoll)
				break;
		}
	}
eof:;
	int st;
	waitpid(pid, &st, 0);
	printf("eof (hup seen: %s), child exit %d\n", use_epoll ? "-" : hup ? "yes" : "no", WEXITSTATUS(st));
	return 0;
}
