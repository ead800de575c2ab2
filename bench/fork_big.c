/* fork_big N [MIB]: make 256 MiB (default) resident, then N times: fork; the
 * child _exit(0)s at once; the parent waits.  Measures a fork whose cost
 * should follow the page-table entries, not the bytes. */
#include "bench.h"
#include <sys/mman.h>
#include <sys/wait.h>

#define PAGE 4096ul

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 10);
    unsigned long size = 256ul << 20;
    if (argc > 2)
        size = (unsigned long)atol(argv[2]) << 20;
    volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        DIE("mmap");
    madvise((void *)p, size, MADV_NOHUGEPAGE);   /* 4 KiB pages natively too; ignore errors */
    for (unsigned long off = 0; off < size; off += PAGE)
        p[off] = 1;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            DIE("fork");
        if (pid == 0)
            _exit(0);
        int st;
        if (waitpid(pid, &st, 0) != pid)
            DIE("waitpid");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "fork_big: child status %#x\n", st);
            return 1;
        }
    }
    return 0;
}
