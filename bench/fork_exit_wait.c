/* fork_exit_wait N: N times fork; the child _exit(0)s; the parent waitpid()s. */
#include "bench.h"

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 1000);
    for (long i = 0; i < n; i++)
        bench_fork_exit_wait();
    return 0;
}
