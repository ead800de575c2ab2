/*
 * pipes: pipe, pipe2, dup, dup2, close between a parent and its children.
 * The parent writes more than a pipe holds (so writes block and wake), the
 * child reads to EOF and reports a byte count and checksum back; fd numbers
 * are chosen lowest-first; flags live on the fd (FD_CLOEXEC) or on the
 * shared open file description (O_NONBLOCK, seen by both after fork);
 * writing with no reader kills with SIGPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL (200 * 1000)   /* larger than the 64 KiB pipe buffer */

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case EINVAL: return "EINVAL";
	default: return "other";
	}
}

/* The parent streams TOTAL bytes; the child sums them and answers back. */
static void stream(void)
{
	int down[2], up[2];

	pipe(down);
	pipe(up);
	pid_t pid = fork();
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		unsigned long count = 0, sum = 0;
		char buf[4096];
		ssize_t n;
		while ((n = read(down[0], buf, sizeof buf)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				sum = sum * 31 + (unsigned char)buf[i];
			count += n;
		}
		char msg[64];
		int len = snprintf(msg, sizeof msg, "%lu %lx", count, sum);
		write(up[1], msg, len);
		_exit(n == 0 ? 0 : 1);
	}
	close(down[0]);
	close(up[1]);
	unsigned long sum = 0;
	char chunk[1000];
	for (int done = 0; done < TOTAL; done += sizeof chunk) {
		for (size_t i = 0; i < sizeof chunk; i++) {
			chunk[i] = (char)((done + i) * 7 + 3);
			sum = sum * 31 + (unsigned char)chunk[i];
		}
		if (write(down[1], chunk, sizeof chunk) != sizeof chunk) {
			printf("stream: short write\n");
			break;
		}
	}
	close(down[1]);                 /* the child sees EOF */
	char msg[64] = { 0 };
	ssize_t got = 0, n;
	while ((n = read(up[0], msg + got, sizeof msg - 1 - got)) > 0)
		got += n;
	close(up[0]);
	int status;
	waitpid(pid, &status, 0);
	char expect[64];
	snprintf(expect, sizeof expect, "%d %lx", TOTAL, sum);
	printf("stream: child read to EOF and reported \"%s\", matches: %s, exit %d\n",
	       msg, strcmp(msg, expect) == 0 ? "yes" : "no", WEXITSTATUS(status));
}

/* fd numbers, dup/dup2/close and their errors. */
static void fds(void)
{
	int p[2];

	pipe(p);
	int base = p[0];                /* lowest free fd; normally 3 */
	printf("fds: pipe gave consecutive fds: %s\n", p[1] == base + 1 ? "yes" : "no");
	int d = dup(p[1]);
	printf("fds: dup took the next lowest: %s\n", d == base + 2 ? "yes" : "no");
	close(p[0]);
	int d2 = dup(p[1]);
	printf("fds: after close, dup reused the hole: %s\n", d2 == base ? "yes" : "no");
	int r = dup2(p[1], 50);
	printf("fds: dup2 to 50 returned %d\n", r);
	r = dup2(50, 50);
	printf("fds: dup2(50, 50) returned %d\n", r);
	/* Writes through any duplicate land in the same pipe. */
	close(d2);
	int q[2];
	pipe(q);
	write(q[1], "ab", 2);
	int qd = dup(q[1]);
	write(qd, "cd", 2);
	dup2(q[1], 60);
	write(60, "ef", 2);
	close(q[1]);
	close(qd);
	close(60);                      /* last writer gone */
	char buf[16] = { 0 };
	ssize_t n = read(q[0], buf, sizeof buf - 1);
	ssize_t eof = read(q[0], buf + n, 1);
	printf("fds: read through duplicates: \"%s\" then EOF (%zd)\n", buf, eof);
	close(q[0]);

	errno = 0;
	r = close(q[0]);
	printf("fds: close of a closed fd: %d %s\n", r, errname(errno));
	errno = 0;
	r = dup2(q[0], 61);
	printf("fds: dup2 from a closed fd: %d %s\n", r, errname(errno));
	errno = 0;
	r = (int)write(p[0], "x", 1);
	printf("fds: write to a closed fd: %d %s\n", r, errname(errno));
	errno = 0;
	r = (int)read(p[1] + 100, buf, 1);
	printf("fds: read from a never-opened fd: %d %s\n", r, errname(errno));
	errno = 0;
	r = (int)read(p[1], buf, 1);
	printf("fds: read from a pipe's write end: %d %s\n", r, errname(errno));
	close(p[1]);
	close(d);
	close(50);
}

/* pipe2 flags: FD_CLOEXEC is per fd, O_NONBLOCK is per file description. */
static void flags(void)
{
	int p[2];

	pipe2(p, O_CLOEXEC);
	int d = dup(p[0]);
	printf("flags: pipe2(O_CLOEXEC) sets FD_CLOEXEC: %s, dup clears it: %s\n",
	       (fcntl(p[0], F_GETFD) & FD_CLOEXEC) ? "yes" : "no",
	       (fcntl(d, F_GETFD) & FD_CLOEXEC) ? "no" : "yes");
	close(d);
	close(p[0]);
	close(p[1]);

	pipe2(p, O_NONBLOCK);
	char c;
	errno = 0;
	ssize_t n = read(p[0], &c, 1);
	printf("flags: O_NONBLOCK read of an empty pipe: %zd %s\n", n, errname(errno));
	/* Fill it: a non-blocking writer stops with EAGAIN. */
	static char block[4096];
	long total = 0;
	while ((n = write(p[1], block, sizeof block)) > 0)
		total += n;
	printf("flags: O_NONBLOCK writes filled the pipe to %ld bytes, then %s\n",
	       total, errname(errno));
	close(p[0]);
	close(p[1]);

	/* A child clears O_NONBLOCK; the parent's fd shares the description. */
	pipe2(p, O_NONBLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_NONBLOCK);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("flags: child's F_SETFL seen by parent (O_NONBLOCK now clear): %s\n",
	       (fcntl(p[0], F_GETFL) & O_NONBLOCK) ? "no" : "yes");
	close(p[0]);
	close(p[1]);
}

/* Writing to a pipe with no reader: SIGPIPE by default, EPIPE if ignored. */
static void broken(void)
{
	int p[2];

	pipe(p);
	close(p[0]);
	pid_t pid = fork();
	if (pid == 0) {
		write(p[1], "x", 1);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("broken: writer killed by signal: %s, signal %d\n",
	       WIFSIGNALED(status) ? "yes" : "no", WIFSIGNALED(status) ? WTERMSIG(status) : 0);

	pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		errno = 0;
		ssize_t n = write(p[1], "x", 1);
		_exit(n == -1 && errno == EPIPE ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	printf("broken: with SIGPIPE ignored the write failed with EPIPE: %s\n",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
	close(p[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	stream();
	fds();
	flags();
	broken();
	return 0;
}
