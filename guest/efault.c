/*
 * efault: wild pointers handed to system calls come back as EFAULT, never
 * as a crash: write/read with a bad buffer, pipe with a bad array (and no
 * fd leaks), uname, clock_gettime (as a raw syscall: glibc's vDSO would
 * fault in user space), wait4 with a bad status pointer (the child is still
 * reaped).  A zero-length write ignores its pointer.  Errno numbers and
 * names are printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <unistd.h>

/* Volatile so the compiler cannot see (and warn about) the bad values. */
static void *volatile kernel_ptr = (void *)0xffff888000000000UL;
static void *volatile low_ptr = (void *)1;
#define KERNEL_PTR kernel_ptr
#define LOW_PTR    low_ptr

static const char *name(int e)
{
	switch (e) {
	case 0: return "none";
	case EFAULT: return "EFAULT";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ECHILD: return "ECHILD";
	default: return "other";
	}
}

static void report(const char *what, long r)
{
	int e = r < 0 ? errno : 0;
	printf("%-44s = %ld errno=%d (%s)\n", what, r, e, name(e));
	errno = 0;
}

int main(void)
{
	int p[2];
	char buf[16];
	long r;

	setvbuf(stdout, NULL, _IONBF, 0);
	errno = 0;

	r = write(1, LOW_PTR, 5);
	report("write(1, (void *)1, 5)", r);
	r = write(1, KERNEL_PTR, 5);
	report("write(1, kernel address, 5)", r);
	r = write(1, NULL, 0);
	report("write(1, NULL, 0)", r);

	/* An unmapped page just after a mapped one. */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(two + 4096, 4096);
	r = write(1, two + 4096, 5);
	report("write(1, unmapped page, 5)", r);
	mprotect(two, 4096, PROT_NONE);
	r = write(1, two, 5);
	report("write(1, PROT_NONE page, 5)", r);

	pipe(p);
	write(p[1], "hello", 5);
	r = read(p[0], LOW_PTR, 5);
	report("read(pipe, (void *)1, 5)", r);
	mprotect(two, 4096, PROT_READ);
	r = read(p[0], two, 5);
	report("read(pipe, read-only page, 5)", r);
	memset(buf, 0, sizeof buf);
	r = read(p[0], buf, sizeof buf - 1);
	report("read(pipe, good buffer) after the faults", r);
	printf("  the data was still there: \"%s\"\n", buf);
	close(p[0]);
	close(p[1]);

	/* A failed pipe() must not leave its two fds behind. */
	int first[2], again[2];
	pipe(first);
	close(first[0]);
	close(first[1]);
	r = pipe((int *)LOW_PTR);
	report("pipe((int *)1)", r);
	r = pipe((int *)KERNEL_PTR);
	report("pipe(kernel address)", r);
	pipe(again);
	printf("  next pipe got the same fds as before: %s\n",
	       again[0] == first[0] && again[1] == first[1] ? "yes" : "no");
	close(again[0]);
	close(again[1]);

	r = uname((struct utsname *)LOW_PTR);
	report("uname((void *)1)", r);
	r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, LOW_PTR);
	report("clock_gettime(MONOTONIC, (void *)1)", r);
	r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, two);
	report("clock_gettime(MONOTONIC, read-only page)", r);

	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	r = syscall(SYS_wait4, pid, LOW_PTR, 0, NULL);
	printf("%-44s = %s errno=%d (%s)\n", "wait4(child, (int *)1, 0)",
	       r == pid ? "child's pid" : r < 0 ? "-1" : "?", r < 0 ? errno : 0,
	       name(r < 0 ? errno : 0));
	errno = 0;
	r = wait4(-1, NULL, WNOHANG, NULL);
	report("wait4(-1, WNOHANG) afterwards", r);

	r = write(-1, LOW_PTR, 5);
	report("write(-1, (void *)1, 5)", r);

	/* /dev/null never reads the buffer: no EFAULT. */
	int null = open("/dev/null", O_WRONLY);
	r = write(null, LOW_PTR, 5);
	report("write(/dev/null, (void *)1, 5)", r);
	struct iovec wild[2] = { { LOW_PTR, 3 }, { kernel_ptr, 4 } };
	r = writev(null, wild, 2);
	report("writev(/dev/null, wild bases, 3 + 4)", r);
	close(null);
	return 0;
}
