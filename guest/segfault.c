/*
 * segfault: prints a line, flushes it, then dies by SIGSEGV writing through
 * a null pointer.  Natively a shell reports status 139 (128 + 11), and so
 * must `tinyunix run`.
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>

int main(void)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	printf("about to write through a null pointer\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	printf("still alive?\n");
	return 0;
}
