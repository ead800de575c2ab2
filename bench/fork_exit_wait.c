/* fork_exit_wait N: N times fork; the child _exit(0)s; the parent waitpid()s. */
#include "bench.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 1000);
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
            fprintf(stderr, "fork_exit_wait: child status %#x\n", st);
            return 1;
        }
    }
    return 0;
}
