/* futex_pingpong N: two threads hand a turn word back and forth N times with
 * raw futex(FUTEX_WAIT) / futex(FUTEX_WAKE) (no glibc locks).  One operation
 * = one round trip (main -> peer -> main). */
#include "bench.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>

static int turn;      /* 0: main's turn, 1: peer's turn */
static long rounds;

static long futex(int *uaddr, int op, int val)
{
    return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void pass_to(int who)
{
    __atomic_store_n(&turn, who, __ATOMIC_SEQ_CST);
    futex(&turn, FUTEX_WAKE, 1);
}

static void wait_for(int me)
{
    int v;
    while ((v = __atomic_load_n(&turn, __ATOMIC_SEQ_CST)) != me)
        if (futex(&turn, FUTEX_WAIT, v) < 0 && errno != EAGAIN && errno != EINTR)
            DIE("futex wait");
}

static void *peer(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        wait_for(1);
        pass_to(0);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = bench_count(argc, argv, 10000);
    pthread_t t;
    int e = pthread_create(&t, NULL, peer, NULL);
    if (e) { errno = e; DIE("pthread_create"); }
    for (long i = 0; i < rounds; i++) {
        pass_to(1);
        wait_for(0);
    }
    e = pthread_join(t, NULL);
    if (e) { errno = e; DIE("pthread_join"); }
    return 0;
}
