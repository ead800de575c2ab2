/* Shared helpers for the bench guests.  Every guest takes an iteration count
 * as argv[1], does its workload that many times, prints nothing on the hot
 * path, and exits 0 on success (non-zero with a message on any error, so a
 * runner that breaks a workload shows up as a failure, not as a fast run). */
#ifndef BENCH_H
#define BENCH_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static inline long bench_count(int argc, char **argv, long dflt)
{
    if (argc < 2)
        return dflt;
    char *end;
    long n = strtol(argv[1], &end, 10);
    if (*end || n < 0) {
        fprintf(stderr, "%s: bad iteration count '%s'\n", argv[0], argv[1]);
        exit(2);
    }
    return n;
}

#define DIE(what) do { fprintf(stderr, "%s: %s: %s\n", __FILE__, what, strerror(errno)); _exit(1); } while (0)

#define PAGE 4096ul

/* Wait for child `pid`, which must exit 0; else the run fails. */
static inline void bench_reap(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        DIE("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s: child status %#x\n", program_invocation_short_name, st);
        exit(1);
    }
}

/* fork a child that only _exit(0)s, and reap it; returns its pid. */
static inline pid_t bench_fork_exit_wait(void)
{
    pid_t pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0)
        _exit(0);
    bench_reap(pid);
    return pid;
}

/* `size` bytes of private anonymous memory with every page written, in
 * 4 KiB pages natively too (MADV_NOHUGEPAGE; its failure is ignored). */
static inline volatile char *bench_resident(unsigned long size)
{
    volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        DIE("mmap");
    madvise((void *)p, size, MADV_NOHUGEPAGE);
    for (unsigned long off = 0; off < size; off += PAGE)
        p[off] = 1;
    return p;
}

#endif
