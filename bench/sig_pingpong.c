/* sig_pingpong N: parent and child take turns N times: each sends SIGUSR1
 * to the other with kill and waits for the answer in sigsuspend (SIGUSR1
 * blocked outside it).  One operation = one round trip: two kills, two
 * sigsuspends, two handlers and their sigreturns, two context switches. */
#include "bench.h"
#include <signal.h>

static volatile sig_atomic_t got;

static void handler(int sig __attribute__((unused)))
{
    got = 1;
}

static void wait_turn(const sigset_t *unblocked)
{
    while (!got)
        sigsuspend(unblocked);
    got = 0;
}

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 10000);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, unblocked;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &unblocked);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0)
        DIE("fork");
    if (child == 0) {
        for (long i = 0; i < n; i++) {
            wait_turn(&unblocked);
            if (kill(parent, SIGUSR1))
                DIE("child kill");
        }
        _exit(0);
    }
    for (long i = 0; i < n; i++) {
        if (kill(child, SIGUSR1))
            DIE("parent kill");
        wait_turn(&unblocked);
    }
    bench_reap(child);
    return 0;
}
