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

#endif
