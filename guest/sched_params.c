/* Scheduling policy and nice values, stored per thread: sched_* calls and
 * getpriority/setpriority with their errors, SCHED_RESET_ON_FORK, nice
 * inherited by fork, affinity.  Only what an unprivileged caller may do
 * (raising nice, SCHED_BATCH/SCHED_IDLE), so the output is the same as
 * root or not. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *e(long r)
{
    if (r >= 0)
        return "ok";
    return errno == EINVAL ? "EINVAL" : errno == ESRCH ? "ESRCH" : errno == EPERM ? "EPERM" :
           errno == E2BIG ? "E2BIG" : errno == EFAULT ? "EFAULT" : strerror(errno);
}

static int nice_of(int which, int who)
{
    errno = 0;
    return getpriority(which, who);
}

int main(void)
{
    struct sched_param sp = { 0 };
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("policy %d, FIFO %d..%d, RR %d..%d, OTHER %d..%d, BATCH max %d\n",
           sched_getscheduler(0), sched_get_priority_min(SCHED_FIFO),
           sched_get_priority_max(SCHED_FIFO), sched_get_priority_min(SCHED_RR),
           sched_get_priority_max(SCHED_RR), sched_get_priority_min(SCHED_OTHER),
           sched_get_priority_max(SCHED_OTHER), sched_get_priority_max(SCHED_BATCH));
    printf("priority_max(42): %s\n", e(sched_get_priority_max(42)));
    printf("getscheduler(-1): %s\n", e(sched_getscheduler(-1)));
    printf("getscheduler(999999): %s\n", e(sched_getscheduler(999999)));
    printf("getparam(0, NULL): %s\n", e(syscall(SYS_sched_getparam, 0, NULL)));
    printf("setscheduler(0, 42): %s\n", e(sched_setscheduler(0, 42, &sp)));
    sp.sched_priority = 3;
    printf("setscheduler(0, OTHER, prio 3): %s\n", e(sched_setscheduler(0, SCHED_OTHER, &sp)));
    sp.sched_priority = 0;
    printf("setscheduler(0, BATCH): %s", e(sched_setscheduler(0, SCHED_BATCH, &sp)));
    printf(" -> %d\n", sched_getscheduler(0));
    printf("setparam(0, prio 1) under BATCH: %s\n",
           e(sched_setparam(0, &(struct sched_param){ .sched_priority = 1 })));
    printf("getparam: %s", e(sched_getparam(0, &sp)));
    printf(" prio %d\n", sp.sched_priority);
    struct timespec ts = { 9, 9 };
    printf("rr_get_interval: %s", e(sched_rr_get_interval(0, &ts)));
    printf(" %ld.%09ld\n", ts.tv_sec, ts.tv_nsec);

    printf("nice %d\n", nice_of(PRIO_PROCESS, 0));
    printf("setpriority(PROCESS, 0, 5): %s", e(setpriority(PRIO_PROCESS, 0, 5)));
    printf(", nice %d\n", nice_of(PRIO_PROCESS, 0));
    printf("setpriority(PROCESS, 0, 100): %s", e(setpriority(PRIO_PROCESS, 0, 100)));
    printf(", nice %d (clamped)\n", nice_of(PRIO_PROCESS, 0));
    printf("setpriority(42, 0, 1): %s\n", e(setpriority(42, 0, 1)));
    printf("getpriority(PROCESS, 999999): %s\n", e(nice_of(PRIO_PROCESS, 999999)));
    setpriority(PRIO_PROCESS, 0, 7);

    /* sched_getattr: the size is checked, nice and policy are there. */
    unsigned char attr[64];
    memset(attr, 0, sizeof attr);
    printf("getattr(size 40): %s\n", e(syscall(SYS_sched_getattr, 0, attr, 40, 0)));
    printf("getattr(flags 1): %s\n", e(syscall(SYS_sched_getattr, 0, attr, 56, 1)));
    long r = syscall(SYS_sched_getattr, 0, attr, 64, 0);
    unsigned size, policy;
    int nice;
    memcpy(&size, attr, 4);
    memcpy(&policy, attr + 4, 4);
    memcpy(&nice, attr + 16, 4);
    printf("getattr: %s size %u policy %u nice %d\n", e(r), size, policy, nice);
    /* sched_setattr: SCHED_IDLE with SCHED_FLAG_RESET_ON_FORK. */
    memset(attr, 0, sizeof attr);
    size = 48;
    policy = SCHED_IDLE;
    unsigned long long flags = 1;
    memcpy(attr, &size, 4);
    memcpy(attr + 4, &policy, 4);
    memcpy(attr + 8, &flags, 8);
    nice = 9;
    memcpy(attr + 16, &nice, 4);
    printf("setattr(IDLE, reset on fork, nice 9): %s", e(syscall(SYS_sched_setattr, 0, attr, 0)));
    printf(" -> policy %#x", sched_getscheduler(0));
    printf(" nice %d (not set for SCHED_IDLE)\n", nice_of(PRIO_PROCESS, 0));
    size = 40;
    memcpy(attr, &size, 4);
    printf("setattr(size 40): %s", e(syscall(SYS_sched_setattr, 0, attr, 0)));
    memcpy(&size, attr, 4);
    printf(", size written back %u\n", size);

    pid_t c = fork();
    if (c == 0) {
        /* SCHED_RESET_ON_FORK: the child is SCHED_NORMAL again, nice as
         * the parent's (not negative). */
        int pol = sched_getscheduler(0);
        _exit(pol * 10 + (nice_of(PRIO_PROCESS, 0) == 7));
    }
    int st;
    waitpid(c, &st, 0);
    printf("child of a reset-on-fork parent: policy %d, nice inherited %d\n",
           WEXITSTATUS(st) / 10, WEXITSTATUS(st) % 10);

    /* PRIO_PGRP: a child in its own group. */
    int p[2];
    pipe(p);
    c = fork();
    if (c == 0) {
        char b;
        setpgid(0, 0);
        close(p[1]);
        read(p[0], &b, 1);
        _exit(nice_of(PRIO_PROCESS, 0));
    }
    close(p[0]);
    setpgid(c, c);
    printf("setpriority(PGRP, child, 12): %s", e(setpriority(PRIO_PGRP, c, 12)));
    printf(", getpriority(PGRP) %d\n", nice_of(PRIO_PGRP, c));
    close(p[1]);
    waitpid(c, &st, 0);
    printf("child saw nice %d\n", WEXITSTATUS(st));

    cpu_set_t set;
    CPU_ZERO(&set);
    printf("setaffinity(empty): %s\n", e(sched_setaffinity(0, sizeof set, &set)));
    CPU_SET(0, &set);
    printf("setaffinity({0}): %s\n", e(sched_setaffinity(0, sizeof set, &set)));
    CPU_ZERO(&set);
    printf("getaffinity: %s", e(sched_getaffinity(0, sizeof set, &set)));
    printf(", cpu0 %d count %d\n", CPU_ISSET(0, &set), CPU_COUNT(&set));
    return 0;
}
