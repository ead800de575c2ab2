/* fork_exec_wait N [PROGRAM [ARGS...]]: N times fork; the child execve()s
 * PROGRAM with ARGS (default: true_static beside this binary, a tiny static
 * program that only exits 0); the parent waits.  PROGRAM may be a wrapper:
 * under qemu-user, run.py passes qemu-x86_64-static true_static so that the
 * exec'd program is emulated too (qemu-user runs an exec'd x86-64 binary
 * natively on an x86-64 host otherwise). */
#include "bench.h"
#include <limits.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 1000);
    char prog[PATH_MAX];
    char *cargv_default[] = { prog, NULL };
    char **cargv = cargv_default;
    if (argc > 2) {
        snprintf(prog, sizeof prog, "%s", argv[2]);
        cargv = argv + 2;
    } else {
        snprintf(prog, sizeof prog, "%s", argv[0]);
        char *slash = strrchr(prog, '/');
        size_t dir = slash ? (size_t)(slash + 1 - prog) : 0;
        snprintf(prog + dir, sizeof prog - dir, "true_static");
    }
    char *cenv[] = { NULL };
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            DIE("fork");
        if (pid == 0) {
            execve(prog, cargv, cenv);
            fprintf(stderr, "fork_exec_wait: execve %s: %s\n", prog, strerror(errno));
            _exit(127);
        }
        bench_reap(pid);
    }
    return 0;
}
