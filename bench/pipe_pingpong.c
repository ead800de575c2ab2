/* pipe_pingpong N: parent and child bounce one byte N times over two pipes
 * (parent -> child on one, child -> parent on the other).  One operation =
 * one round trip, i.e. two context switches. */
#include "bench.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 10000);
    int down[2], up[2];
    if (pipe(down) || pipe(up))
        DIE("pipe");
    pid_t pid = fork();
    if (pid < 0)
        DIE("fork");
    char c = 'x';
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        for (;;) {
            ssize_t r = read(down[0], &c, 1);
            if (r == 0)
                _exit(0);
            if (r != 1)
                DIE("child read");
            if (write(up[1], &c, 1) != 1)
                DIE("child write");
        }
    }
    close(down[0]);
    close(up[1]);
    for (long i = 0; i < n; i++) {
        if (write(down[1], &c, 1) != 1)
            DIE("parent write");
        if (read(up[0], &c, 1) != 1)
            DIE("parent read");
    }
    close(down[1]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        DIE("waitpid");
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
