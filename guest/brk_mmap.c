/*
 * brk_mmap: the heap and anonymous mappings.  brk/sbrk growth, malloc small
 * (heap) and big (mmap), untouched memory reads as zero, MAP_PRIVATE is
 * copied on fork while MAP_SHARED stays shared, munmap (also of a middle
 * page) and mprotect make accesses fault, and madvise(MADV_DONTNEED) zeroes
 * private anonymous pages but keeps shared ones.  Faulting accesses happen
 * in children, which report by how they died.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static int all(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* Run `touch(p)` in a child; describe how the child ended.  The answer
 * lives in one of a few rotating buffers, so a printf may use several. */
static const char *in_child(void (*touch)(volatile char *), volatile char *p)
{
	static char bufs[4][32];
	static int next;
	char *out = bufs[next++ % 4];

	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		touch(p);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		snprintf(out, sizeof bufs[0], "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, sizeof bufs[0], "exited %d", WEXITSTATUS(status));
	return out;
}

static void do_read(volatile char *p)
{
	(void)*p;
}

static void do_write(volatile char *p)
{
	*p = 1;
}

static void heap(void)
{
	char *b0 = sbrk(0);
	char *b1 = sbrk(3 * PAGE);
	char *b2 = sbrk(0);
	printf("sbrk: returns the old break: %s, grew by %ld\n", yes(b1 == b0), (long)(b2 - b0));
	printf("sbrk: new heap memory reads as zero: %s\n", yes(all((unsigned char *)b1, 3 * PAGE, 0)));
	memset(b1, 0x5a, 3 * PAGE);
	printf("sbrk: and keeps what is written: %s\n", yes(all((unsigned char *)b1, 3 * PAGE, 0x5a)));
	sbrk(-3 * PAGE);
	printf("sbrk: shrinks back: %s\n", yes(sbrk(0) == b0));

	char *small = malloc(100);
	memset(small, 's', 100);
	size_t big_n = 4 << 20;
	unsigned char *big = malloc(big_n);
	printf("malloc: big block of 4 MiB reads as zero: %s\n", yes(all(big, big_n, 0)));
	for (size_t i = 0; i < big_n; i += PAGE)
		big[i] = (unsigned char)(i / PAGE);
	int ok = 1;
	for (size_t i = 0; i < big_n; i += PAGE)
		ok &= big[i] == (unsigned char)(i / PAGE);
	printf("malloc: big block holds a byte per page: %s\n", yes(ok));
	printf("malloc: small block intact: %s\n", yes(all((unsigned char *)small, 100, 's')));
	free(big);
	free(small);
}

static void private_and_shared(void)
{
	size_t n = 4 * PAGE;
	unsigned char *priv = mmap(NULL, n, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *shared = mmap(NULL, n, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	printf("mmap: fresh anonymous pages read as zero: private %s, shared %s\n",
	       yes(all(priv, n, 0)), yes(all(shared, n, 0)));
	memset(priv, 'p', n);
	memset(shared, 'p', n);
	pid_t pid = fork();
	if (pid == 0) {
		int saw = all(priv, n, 'p') && all(shared, n, 'p');
		memset(priv, 'c', n);
		memset(shared, 'c', n);
		_exit(saw ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("fork: child saw the parent's bytes in both: %s\n", yes(WEXITSTATUS(status) == 0));
	printf("fork: child's writes: private unchanged for parent: %s, shared seen by parent: %s\n",
	       yes(all(priv, n, 'p')), yes(all(shared, n, 'c')));

	/* MADV_DONTNEED: private anonymous pages come back zeroed; shared
	 * anonymous memory is backed by shmem and keeps its contents. */
	madvise(priv + PAGE, 2 * PAGE, MADV_DONTNEED);
	madvise(shared + PAGE, 2 * PAGE, MADV_DONTNEED);
	printf("madvise(DONTNEED) private: advised pages zero: %s, others kept: %s\n",
	       yes(all(priv + PAGE, 2 * PAGE, 0)),
	       yes(all(priv, PAGE, 'p') && all(priv + 3 * PAGE, PAGE, 'p')));
	printf("madvise(DONTNEED) shared: contents kept: %s\n", yes(all(shared, n, 'c')));
	munmap(priv, n);
	munmap(shared, n);
}

static void unmap_and_protect(void)
{
	size_t n = 3 * PAGE;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'x', n);

	munmap(p + PAGE, PAGE);      /* punch a hole in the middle */
	printf("munmap middle page: first page read %s, last page write %s, hole read %s\n",
	       in_child(do_read, p), in_child(do_write, p + 2 * PAGE),
	       in_child(do_read, p + PAGE));
	printf("munmap middle page: the rest kept its bytes: %s\n",
	       yes(p[0] == 'x' && p[PAGE - 1] == 'x' && p[2 * PAGE] == 'x'));

	mprotect(p, PAGE, PROT_READ);
	printf("mprotect(READ): read %s, write %s\n", in_child(do_read, p), in_child(do_write, p));
	mprotect(p, PAGE, PROT_NONE);
	printf("mprotect(NONE): read %s\n", in_child(do_read, p));
	mprotect(p, PAGE, PROT_READ | PROT_WRITE);
	p[1] = 'y';
	printf("mprotect(READ|WRITE): write works again, old bytes kept: %s\n",
	       yes(p[0] == 'x' && p[1] == 'y'));
	munmap(p, n);                /* unmapping a range with a hole is fine */
	printf("munmap whole range: read %s\n", in_child(do_read, p));

	void *bad = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap of length 0 fails: %s\n", yes(bad == MAP_FAILED));
	int r = munmap((void *)((uintptr_t)p + 1), PAGE);
	printf("munmap of an unaligned address fails: %s\n", yes(r == -1));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	heap();
	private_and_shared();
	unmap_and_protect();
	return 0;
}
