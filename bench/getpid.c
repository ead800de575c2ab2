/* getpid N: N raw getpid system calls (syscall(SYS_getpid), not glibc's
 * wrapper, so nothing is cached). */
#include "bench.h"
#include <sys/syscall.h>

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 1000000);
    long pid = syscall(SYS_getpid);
    for (long i = 0; i < n; i++)
        if (syscall(SYS_getpid) != pid) {
            fprintf(stderr, "getpid: pid changed\n");
            return 1;
        }
    return 0;
}
