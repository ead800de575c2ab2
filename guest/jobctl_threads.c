/* Group stop: SIGSTOP stops every thread of a process, SIGCONT resumes
 * them all; a thread blocked in read or nanosleep carries on afterwards
 * without EINTR; raise(SIGSTOP) from one thread stops its siblings too;
 * SIGKILL ends a stopped multi-threaded process. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long *counters;   /* shared with the parent */
static int pfd[2];

static void *spinner(void *arg)
{
    volatile unsigned long *c = &counters[(long)arg];
    for (;;)
        (*c)++;
    return NULL;
}

static void *reader(void *arg)
{
    char buf[4];
    ssize_t n = read(pfd[0], buf, sizeof buf);
    counters[3] = n == 3 ? 1 : n < 0 ? 100 + errno : 50;
    return NULL;
}

static void *sleeper(void *arg)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    counters[4] = nanosleep(&ts, NULL) == 0 ? 1 : 100 + errno;
    return NULL;
}

/* Spin on the CPU for a while (virtual time passes under tinyunix). */
static void busy(void)
{
    for (int i = 0; i < 20; i++) {
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

static int frozen(void)
{
    unsigned long a = counters[0], b = counters[1];
    busy();
    return a == counters[0] && b == counters[1];
}

static void show(const char *what, int st)
{
    if (WIFSTOPPED(st))
        printf("%s: stopped by %d\n", what, WSTOPSIG(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", what, WTERMSIG(st));
    else
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

static pid_t start(int self_stop)
{
    memset((void *)counters, 0, 4096);
    pipe(pfd);
    pid_t c = fork();
    if (c == 0) {
        pthread_t t;
        close(pfd[1]);
        pthread_create(&t, NULL, spinner, (void *)0);
        pthread_create(&t, NULL, spinner, (void *)1);
        pthread_create(&t, NULL, reader, NULL);
        pthread_create(&t, NULL, sleeper, NULL);
        while (!counters[0] || !counters[1])
            sched_yield();
        counters[2] = 1;
        if (self_stop)
            raise(SIGSTOP);
        for (;;)
            pause();
    }
    close(pfd[0]);
    while (!counters[2])
        sched_yield();
    return c;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    counters = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int st;
    for (int self_stop = 0; self_stop < 2; self_stop++) {
        pid_t c = start(self_stop);
        if (!self_stop)
            kill(c, SIGSTOP);
        waitpid(c, &st, WUNTRACED);
        show(self_stop ? "raise(SIGSTOP)" : "kill(SIGSTOP)", st);
        printf("  every thread stopped: %d\n", frozen());
        busy();                      /* the sleeper's time runs out while stopped */
        printf("  sleeper done while stopped: %d\n", counters[4] != 0);
        kill(c, SIGCONT);
        while (!counters[4])
            sched_yield();
        write(pfd[1], "abc", 3);
        while (!counters[3])
            sched_yield();
        printf("  read after SIGCONT: %lu, nanosleep: %lu\n", counters[3], counters[4]);
        printf("  running again: %d\n", !frozen());
        kill(c, SIGSTOP);
        waitpid(c, &st, WUNTRACED);
        show("  again", st);
        kill(c, SIGKILL);
        waitpid(c, &st, 0);
        show("  SIGKILL", st);
        close(pfd[1]);
    }
    return 0;
}
