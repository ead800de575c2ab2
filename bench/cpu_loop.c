/* cpu_loop N: N iterations of a register-and-memory loop (see
 * cpu_loop_kernel.S), no syscalls inside the loop.  Prints one checksum line
 * so the work cannot be thrown away. */
#include "bench.h"

long cpu_loop_kernel(long n, unsigned long *buf);

static unsigned long buf[64];

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 100000000);
    for (int i = 0; i < 64; i++)
        buf[i] = i * 0x9e3779b97f4a7c15ul;
    long r = cpu_loop_kernel(n, buf);
    printf("cpu_loop %ld %lx\n", n, (unsigned long)r);
    return 0;
}
