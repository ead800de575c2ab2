/* cow_fault N [PAGES]: allocate and touch 16 MiB (4096 pages), then N times:
 * fork; the child writes one byte in each of the first PAGES pages (default
 * all 4096) and _exit(0)s; the parent waits.  Run with PAGES=0 too: the
 * difference per iteration, divided by 4096, is the cost of one CoW fault. */
#include "bench.h"

#define SIZE (16ul << 20)

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 100);
    long pages = SIZE / PAGE;
    if (argc > 2)
        pages = atol(argv[2]);
    if (pages < 0 || pages > (long)(SIZE / PAGE)) {
        fprintf(stderr, "cow_fault: pages must be 0..%lu\n", SIZE / PAGE);
        return 2;
    }
    volatile char *p = bench_resident(SIZE);
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            DIE("fork");
        if (pid == 0) {
            for (long pg = 0; pg < pages; pg++)
                p[pg * PAGE] = 2;
            _exit(0);
        }
        bench_reap(pid);
    }
    if (p[0] != 1) {
        fprintf(stderr, "cow_fault: the child's write reached the parent\n");
        return 1;
    }
    return 0;
}
