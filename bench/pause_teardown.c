/* pause_teardown N: N children park in `for (;;) pause();`; the parent
 * kills each with SIGTERM and reaps it.  One operation = one child's fork,
 * park, kill and reap: the time per child must not grow with N. */
#include "bench.h"
#include <signal.h>

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 100);
    pid_t *kids = calloc(n ? n : 1, sizeof *kids);
    int ready[2];
    if (!kids || pipe(ready))
        DIE("setup");
    for (long i = 0; i < n; i++) {
        kids[i] = fork();
        if (kids[i] < 0)
            DIE("fork");
        if (kids[i] == 0) {
            if (write(ready[1], "r", 1) != 1)
                DIE("child write");
            for (;;)
                pause();
        }
    }
    char c;
    for (long i = 0; i < n; i++)
        if (read(ready[0], &c, 1) != 1)
            DIE("read");
    for (long i = 0; i < n; i++)
        if (kill(kids[i], SIGTERM))
            DIE("kill");
    for (long i = 0; i < n; i++) {
        int st;
        if (waitpid(kids[i], &st, 0) != kids[i] || !WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
            DIE("waitpid");
    }
    return 0;
}
