/*
 * poll_stdin: waits for its stdin with poll and reads it to the end,
 * printing each line upper-cased, while a child sleeps and works on its
 * own (under tinyunix the wait for host input must not stop the other
 * tasks).  Fed slowly through a pipe by tests/guest/test_poll_stdin.py;
 * with /dev/null or a file as stdin it ends at once.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
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
		if (poll(&p, 1, -1) != 1) {
			printf("poll failed\n");
			return 1;
		}
		if (p.revents & POLLHUP)
			hup = 1;
		ssize_t n = read(0, buf, sizeof buf);
		if (n <= 0)
			break;
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
	}
	int st;
	waitpid(pid, &st, 0);
	printf("eof (hup seen: %s), child exit %d\n", hup ? "yes" : "no", WEXITSTATUS(st));
	return 0;
}
