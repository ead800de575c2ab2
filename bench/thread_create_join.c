/* thread_create_join N: N times pthread_create a thread that returns at
 * once, and pthread_join it. */
#include "bench.h"
#include <pthread.h>

static void *body(void *arg) { return arg; }

int main(int argc, char **argv)
{
    long n = bench_count(argc, argv, 1000);
    for (long i = 0; i < n; i++) {
        pthread_t t;
        void *ret;
        int e = pthread_create(&t, NULL, body, (void *)i);
        if (e) { errno = e; DIE("pthread_create"); }
        e = pthread_join(t, &ret);
        if (e) { errno = e; DIE("pthread_join"); }
        if (ret != (void *)i) {
            fprintf(stderr, "thread_create_join: wrong return value\n");
            return 1;
        }
    }
    return 0;
}
