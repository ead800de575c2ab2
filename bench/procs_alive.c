/* procs_alive N [ALIVE]: N rounds of: fork ALIVE (default 1000) children that
 * all block reading one pipe, so that ALIVE processes are alive at once; then
 * close the pipe's write end (every child reads EOF and _exit(0)s) and reap
 * them all. */
#include "bench.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 1);
    long alive = argc > 2 ? atol(argv[2]) : 1000;
    for (long r = 0; r < n; r++) {
        int p[2];
        if (pipe(p))
            DIE("pipe");
        for (long i = 0; i < alive; i++) {
            pid_t pid = fork();
            if (pid < 0)
                DIE("fork");
            if (pid == 0) {
                char c;
                close(p[1]);
                ssize_t got = read(p[0], &c, 1);
                _exit(got == 0 ? 0 : 3);
            }
        }
        close(p[0]);
        close(p[1]);             /* release them all */
        for (long i = 0; i < alive; i++) {
            int st;
            if (wait(&st) < 0)
                DIE("wait");
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "procs_alive: child status %#x\n", st);
                return 1;
            }
        }
        if (wait(NULL) != -1 || errno != ECHILD) {
            fprintf(stderr, "procs_alive: a child too many\n");
            return 1;
        }
    }
    return 0;
}
