/*
 * proc_fd: /proc/self/fd/N and /dev/stdout open the file anew.  A pipe
 * end reopened is a new reader of the same pipe (data written to the
 * pipe reaches it, and it keeps the pipe open after the original end is
 * closed); a regular file reopened has its own offset; /dev/stdout (a
 * link to /proc/self/fd/1) writes where stdout goes.  readlink shows
 * pipe:[...] and the program's own path; a closed fd is ENOENT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, r);
}

int main(int argc, char **argv)
{
	char path[64], link[256];
	int p[2];

	/* /dev/stdout: goes where our stdout goes. */
	fflush(stdout);
	int out = open("/dev/stdout", O_WRONLY);
	say("open /dev/stdout", out >= 0 ? 0 : -1);
	if (out >= 0) {
		dprintf(out, "written through /dev/stdout\n");
		close(out);
	}

	/* A pipe's read end, reopened. */
	pipe(p);
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	int r2 = open(path, O_RDONLY);
	say("reopen pipe read end", r2 >= 0 ? 0 : -1);
	ssize_t n = readlink(path, link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	printf("readlink starts with pipe:[ : %s\n", strncmp(link, "pipe:[", 6) == 0 ? "yes" : "no");
	struct stat st;
	say("stat is a fifo", stat(path, &st) == 0 && S_ISFIFO(st.st_mode) ? 1 : 0);
	close(p[0]);
	say("write after the original reader closed", write(p[1], "hello", 5));
	char buf[16] = { 0 };
	say("read from the reopened end", read(r2, buf, sizeof buf - 1));
	printf("got: %s\n", buf);
	close(p[1]);
	say("read at EOF", read(r2, buf, sizeof buf));
	close(r2);

	/* A regular file reopened has an offset of its own. */
	int f = open(argv[0], O_RDONLY);
	lseek(f, 100, SEEK_SET);
	snprintf(path, sizeof path, "/proc/self/fd/%d", f);
	int f2 = open(path, O_RDONLY);
	say("reopened file's offset", lseek(f2, 0, SEEK_CUR));
	say("original file's offset", lseek(f, 0, SEEK_CUR));
	close(f2);
	close(f);

	/* The program's own path; a closed fd. */
	n = readlink("/proc/self/exe", link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	const char *base = strrchr(link, '/');
	printf("/proc/self/exe ends in /proc_fd: %s\n", base && strcmp(base, "/proc_fd") == 0 ? "yes" : "no");
	say("open a closed fd", open("/proc/self/fd/99", O_RDONLY));
	snprintf(path, sizeof path, "/proc/%d/fd/1", getpid());
	say("stat /proc/<pid>/fd/1", stat(path, &st));
	return 0;
}
