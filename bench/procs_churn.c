/* procs_churn N: N processes created and reaped in turn (fork; the child
 * _exit(0)s; waitpid).  With N = 40000 the pids wrap around pid_max (32768 by
 * default, also in tinyunix).  Prints one line: how many times the child's pid
 * went down, i.e. wrapped. */
#include "bench.h"

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 40000);
    long wraps = 0;
    pid_t last = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = bench_fork_exit_wait();
        if (pid < last)
            wraps++;
        last = pid;
    }
    printf("procs_churn %ld wraps %ld\n", n, wraps);
    return 0;
}
