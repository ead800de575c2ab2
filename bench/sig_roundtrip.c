/* sig_roundtrip N: raise(SIGUSR1) N times with a handler installed.  One
 * operation = raise (getpid, gettid, tgkill) + the handler's frame + its
 * rt_sigreturn. */
#include "bench.h"
#include <signal.h>

static volatile long handled;

static void handler(int sig __attribute__((unused)))
{
    handled++;
}

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 100000);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    if (sigaction(SIGUSR1, &sa, NULL))
        DIE("sigaction");
    for (long i = 0; i < n; i++)
        raise(SIGUSR1);
    if (handled != n) {
        fprintf(stderr, "sig_roundtrip: %ld of %ld handled\n", handled, n);
        return 1;
    }
    return 0;
}
