/* threads_cpu N: two threads each run N/2 iterations of cpu_loop's loop
 * (cpu_loop_kernel.S, the same machine code) on a buffer of their own,
 * and are joined.  No syscalls while they spin: under tinyunix the two
 * contend for one vCPU and only the deterministic time slice (counted in
 * basic blocks) switches between them.  Prints one checksum line. */
#include "bench.h"
#include <pthread.h>

long cpu_loop_kernel(long n, unsigned long *buf);

struct work {
    long n;
    unsigned long buf[64];
    long result;
};

static void *spin(void *arg)
{
    struct work *w = arg;
    w->result = cpu_loop_kernel(w->n, w->buf);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 100000000);
    static struct work w[2];
    pthread_t t[2];
    for (int k = 0; k < 2; k++) {
        w[k].n = n / 2 + (k == 0 ? n % 2 : 0);
        for (int i = 0; i < 64; i++)
            w[k].buf[i] = (i + 64 * k) * 0x9e3779b97f4a7c15ul;
        int e = pthread_create(&t[k], NULL, spin, &w[k]);
        if (e) { errno = e; DIE("pthread_create"); }
    }
    for (int k = 0; k < 2; k++) {
        int e = pthread_join(t[k], NULL);
        if (e) { errno = e; DIE("pthread_join"); }
    }
    printf("threads_cpu %ld %lx %lx\n", n, (unsigned long)w[0].result, (unsigned long)w[1].result);
    return 0;
}
