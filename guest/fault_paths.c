/*
 * fault_paths: one small program per page-fault path, for the fault-path
 * tests written with the Machine API (tests/api/).  `fault_paths MODE`
 * runs one: anon (read then write a fresh anonymous page), cow (fork, the
 * child writes a page, then the parent), rowrite (write to a read-only
 * mapping: SIGSEGV), stack (grow the stack by 64 KiB), guard (touch a
 * PROT_NONE guard page: SIGSEGV), brk (grow the heap by 16 pages).  With
 * no argument it runs the modes that do not kill it.  Built with -g, so
 * gdb can be pointed at it too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* One page of .data of its own: its first write after fork is the CoW one. */
volatile int page[1024] __attribute__((aligned(4096))) = {1};

static int anon(void)
{
	volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int before = p[100];     /* read: the zero page */
	p[100] = 7;              /* write: a page of its own */
	printf("anon: read %d, then wrote %d\n", before, p[100]);
	return 0;
}

static int cow(void)
{
	page[0] = 10;            /* private and written before the fork */
	pid_t pid = fork();
	if (pid == 0) {
		page[0] = 20;    /* the child's write: copied */
		_exit(page[0] == 20 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	page[0] += 1;            /* the parent's, after the child exited: reused */
	printf("cow: child %d, parent sees %d\n", WEXITSTATUS(st), page[0]);
	return 0;
}

static int rowrite(void)
{
	volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("rowrite: read %d\n", p[0]);
	fflush(stdout);
	p[0] = 1;                /* SIGSEGV, SEGV_ACCERR */
	return 1;
}

static int depth(int n)
{
	volatile char frame[1024];
	frame[0] = (char)n;
	frame[1023] = 1;
	return n == 0 ? frame[1023] : depth(n - 1) + frame[1023];
}

static int stack(void)
{
	printf("stack: %d frames of 1 KiB\n", depth(64));
	return 0;
}

static int guard(void)
{
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(p, 4096, PROT_NONE);      /* as a thread stack's guard page */
	p[4096] = 1;
	printf("guard: above the guard page is fine\n");
	fflush(stdout);
	((volatile char *)p)[10] = 1;      /* SIGSEGV, SEGV_ACCERR */
	return 1;
}

static int brk_grow(void)
{
	char *old = sbrk(0);
	char *p = sbrk(16 * 4096);
	for (int i = 0; i < 16; i++)
		p[i * 4096] = (char)i;
	printf("brk: grew by %ld pages\n", (long)((char *)sbrk(0) - old) / 4096);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(void); } modes[] = {
		{"anon", anon}, {"cow", cow}, {"rowrite", rowrite}, {"stack", stack},
		{"guard", guard}, {"brk", brk_grow},
	};
	if (argc < 2) {
		anon();
		cow();
		stack();
		brk_grow();
		return 0;
	}
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].fn();
	fprintf(stderr, "fault_paths: unknown mode %s\n", argv[1]);
	return 2;
}
