/* forkbomb [depth]: every process forks once per round for `depth` rounds
 * (default 16: up to 65536 processes), so the tree doubles each round
 * until fork fails.  A process whose fork fails stops forking; everyone
 * reaps its children.  Counts of successful and failed forks (by errno)
 * live in a MAP_SHARED page; the first process prints which errors were
 * seen.  Run it only under tinyunix with a small --pid-max or --memory:
 * natively it is a real fork bomb. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct counts {
    long ok, eagain, enomem, other;
};

int main(int argc, char **argv)
{
    int depth = argc > 1 ? atoi(argv[1]) : 16;
    struct counts *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        return 1;
    pid_t root = getpid();
    for (int i = 0; i < depth; i++) {
        pid_t pid = fork();
        if (pid == 0)
            continue;
        if (pid > 0) {
            __atomic_add_fetch(&c->ok, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        long *slot = errno == EAGAIN ? &c->eagain : errno == ENOMEM ? &c->enomem : &c->other;
        __atomic_add_fetch(slot, 1, __ATOMIC_SEQ_CST);
        break;
    }
    while (wait(NULL) > 0)
        ;
    if (getpid() != root)
        _exit(0);
    printf("forks: %s\n", c->ok ? "some succeeded" : "none succeeded");
    printf("EAGAIN: %s\n", c->eagain ? "yes" : "no");
    printf("ENOMEM: %s\n", c->enomem ? "yes" : "no");
    printf("other errors: %ld\n", c->other);
    return 0;
}
