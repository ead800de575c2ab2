/* oom: made for `tinyunix run --memory 64M`.
 * 1. A child allocates and touches memory without bound while a bystander
 *    child holds 1 MiB and waits on a pipe: the OOM killer kills the hog
 *    (largest RSS) with SIGKILL; parent and bystander live on.
 * 2. A child touches 40 MiB and sleeps; then the parent touches 32 MiB:
 *    the parent's fault finds no frame, and the victim is still the
 *    sleeping child (larger), not the faulting parent.
 * Never run natively: part 1 would eat the host's memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static void report(const char *who, int status)
{
    if (WIFSIGNALED(status))
        printf("%s killed by signal %d\n", who, WTERMSIG(status));
    else if (WIFEXITED(status))
        printf("%s exited with %d\n", who, WEXITSTATUS(status));
    else
        printf("%s: status %#x\n", who, status);
}

int main(void)
{
    int p[2];
    if (pipe(p) < 0)
        return 1;
    pid_t bystander = fork();
    if (bystander == 0) {
        char *mine = malloc(CHUNK);
        memset(mine, 1, CHUNK);
        char c;
        close(p[1]);
        ssize_t n = read(p[0], &c, 1);   /* until the parent says so */
        _exit(n == 1 && mine[CHUNK - 1] == 1 ? 7 : 1);
    }
    close(p[0]);
    pid_t hog = fork();
    if (hog == 0) {
        for (unsigned long n = 0;; n++) {
            char *q = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (q == MAP_FAILED)
                _exit(2);
            memset(q, (int)n, CHUNK);
        }
    }
    int status;
    if (waitpid(hog, &status, 0) != hog)
        return 1;
    report("child", status);
    /* The parent still runs and can allocate again. */
    char *again = malloc(8 * CHUNK);
    memset(again, 3, 8 * CHUNK);
    printf("parent allocated %d MiB after the kill\n", 8);
    if (write(p[1], "x", 1) != 1)
        return 1;
    if (waitpid(bystander, &status, 0) != bystander)
        return 1;
    report("bystander", status);

    int ready[2], hold[2];
    if (pipe(ready) < 0 || pipe(hold) < 0)
        return 1;
    pid_t sleeper = fork();
    if (sleeper == 0) {
        char *big = malloc(40 * CHUNK);
        memset(big, 5, 40 * CHUNK);
        char c = 'r';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        ssize_t n = read(hold[0], &c, 1);
        _exit(n == 1 && big[0] == 5 ? 0 : 1);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        return 1;
    char *more = malloc(32 * CHUNK);
    memset(more, 6, 32 * CHUNK);
    printf("parent touched 32 MiB while the sleeper held 40 MiB\n");
    close(hold[1]);
    if (waitpid(sleeper, &status, 0) != sleeper)
        return 1;
    report("sleeping child", status);
    return 0;
}
