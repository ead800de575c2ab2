/* fork_big N [MIB]: make 256 MiB (default) resident, then N times: fork; the
 * child _exit(0)s at once; the parent waits.  Measures a fork whose cost
 * should follow the page-table entries, not the bytes. */
#include "bench.h"

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 10);
    unsigned long size = 256ul << 20;
    if (argc > 2)
        size = (unsigned long)atol(argv[2]) << 20;
    bench_resident(size);
    for (long i = 0; i < n; i++)
        bench_fork_exit_wait();
    return 0;
}
