/* fuzz_syscalls PROGRAM [-v]: run a syscall "program" written by
 * tests/fuzz/test_syscall_fuzz.py, one raw `syscall` per record.
 *
 * HOSTILE: this issues random syscalls with wild arguments (kill(-1, ...),
 * munmap of random ranges, ...).  Run it only under tinyunix, never
 * natively; the Makefile lists it under list-hostile, not list-procs.
 *
 * File format (little-endian):
 *   "TUFZ" u32 nrec  u32 init_len  init_len bytes (copied to the scratch area)
 *   nrec records of 64 bytes: i64 nr, u8 kind[6], u8 flags, u8 pad, u64 val[6]
 * An argument is built from (kind, val):
 *   K_LIT   val itself (wild pointers, sizes, fds, flags)
 *   K_BUF   scratch + val % SCRATCH (a valid buffer; the guard page follows)
 *   K_RES   the return value of record val % nrec (an fd, an mmap address)
 *   K_WORD  the int stored at scratch + val % SCRATCH (fds from pipe())
 *   K_FUNC  a function of ours: 0 a handler that returns, 1 a restorer
 *   K_RESOFF  K_RES plus a page offset: res[val & 0xffff] + (val >> 16)
 * Negative nr are pseudo-ops: -1 read every page of [a0, a0+a1) (at most
 * 64 pages), -2 write them, -3 store the 8-byte a1 at scratch + a0,
 * -4 execve(a0, a1, a2); execve itself (59, 322) is never issued, so only
 * the paths the test puts in a -4 record are ever executed.
 *
 * Children are bounded: a fork (57) child continues the program and exits
 * at its end, and no process forks more than MAX_FORKS times along its
 * line; a clone/clone3/vfork child exits at once (in the asm stub, without
 * touching a stack it may share).  Exit status 0 at the end of the program.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SCRATCH (64 * 1024)
#define MAX_FORKS 4
#define MAX_RECS 4096

enum { K_LIT, K_BUF, K_RES, K_WORD, K_FUNC, K_RESOFF };

struct rec {
    int64_t nr;
    uint8_t kind[6];
    uint8_t flags;
    uint8_t pad;
    uint64_t val[6];
};

static unsigned char *scratch;
static struct rec *prog;
static long *res;
static uint32_t nrec;
static int verbose;
static volatile int handled;

static long raw6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    long ret;
    register long r10 __asm__("r10") = a3;
    register long r8 __asm__("r8") = a4;
    register long r9 __asm__("r9") = a5;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* clone/clone3/vfork: the child may share our stack (or have none), so it
 * leaves with exit(0) from inside the asm without touching memory. */
static long raw6_child_exits(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    long ret;
    register long r10 __asm__("r10") = a3;
    register long r8 __asm__("r8") = a4;
    register long r9 __asm__("r9") = a5;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* A handler that returns; a fault handler returning would retry the fault
 * forever, so after 100 calls the process leaves. */
static void handler(int sig)
{
    (void)sig;
    if (++handled > 100)
        raw6(SYS_exit_group, 99, 0, 0, 0, 0, 0);
}

__attribute__((naked)) static void restorer(void)
{
    __asm__ volatile("mov $15, %eax\n\tsyscall\n\tud2");
}

static void put(const char *s)
{
    raw6(SYS_write, 2, (long)s, (long)strlen(s), 0, 0, 0);
}

static long arg(const struct rec *r, int i)
{
    uint64_t v = r->val[i];
    switch (r->kind[i]) {
    case K_BUF:
        return (long)(scratch + v % SCRATCH);
    case K_RES:
        return res[v % nrec];
    case K_WORD: {
        int w;
        memcpy(&w, scratch + (v % (SCRATCH - 4)), 4);
        return w;
    }
    case K_FUNC:
        return v & 1 ? (long)restorer : (long)handler;
    case K_RESOFF:
        return res[(v & 0xffff) % nrec] + ((int64_t)v >> 16);
    default:
        return (long)v;
    }
}

static void touch(unsigned long addr, unsigned long len, int write)
{
    unsigned long end = addr + (len > 64 * 4096 ? 64 * 4096 : len);
    for (unsigned long a = addr; a < end; a = (a | 4095) + 1) {
        volatile unsigned char *p = (volatile unsigned char *)a;
        if (write)
            *p = (unsigned char)a;
        else
            (void)*p;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_syscalls PROGRAM [-v]\n");
        return 2;
    }
    verbose = argc > 2 && strcmp(argv[2], "-v") == 0;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 2;
    }
    unsigned char hdr[12];
    if (read(fd, hdr, 12) != 12 || memcmp(hdr, "TUFZ", 4) != 0) {
        fprintf(stderr, "fuzz_syscalls: bad program file\n");
        return 2;
    }
    uint32_t init_len;
    memcpy(&nrec, hdr + 4, 4);
    memcpy(&init_len, hdr + 8, 4);
    if (nrec == 0 || nrec > MAX_RECS || init_len > SCRATCH) {
        fprintf(stderr, "fuzz_syscalls: bad program size\n");
        return 2;
    }
    /* Scratch area, then a guard page, in one mapping far from the
     * fuzzer's arena; the program and results in another. */
    scratch = mmap((void *)0x6f0000000000, SCRATCH + 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    size_t plen = nrec * sizeof(struct rec) + nrec * sizeof(long);
    unsigned char *pmem = mmap((void *)0x6f1000000000, plen, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (scratch == MAP_FAILED || pmem == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    mprotect(scratch + SCRATCH, 4096, PROT_NONE);
    prog = (struct rec *)pmem;
    res = (long *)(pmem + nrec * sizeof(struct rec));
    size_t want = init_len, got = 0;
    while (got < want) {
        ssize_t n = read(fd, scratch + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    want = nrec * sizeof(struct rec);
    got = 0;
    while (got < want) {
        ssize_t n = read(fd, (unsigned char *)prog + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != want) {
        fprintf(stderr, "fuzz_syscalls: truncated program\n");
        return 2;
    }

    int forks = 0;
    for (uint32_t i = 0; i < nrec; i++) {
        const struct rec *r = &prog[i];
        long a[6];
        for (int k = 0; k < 6; k++)
            a[k] = arg(r, k);
        long ret = 0;
        switch (r->nr) {
        case -1:
            touch((unsigned long)a[0], (unsigned long)a[1], 0);
            break;
        case -2:
            touch((unsigned long)a[0], (unsigned long)a[1], 1);
            break;
        case -3:
            memcpy(scratch + (unsigned long)a[0] % (SCRATCH - 8), &a[1], 8);
            break;
        case -4:   /* execve of a path the test chose (never a random one) */
            ret = raw6(SYS_execve, a[0], a[1], a[2], 0, 0, 0);
            break;
        case SYS_execve:
        case SYS_execveat:
            ret = -38;   /* never exec random paths */
            break;
        case SYS_fork:
            if (forks >= MAX_FORKS) {
                ret = -11;
                break;
            }
            forks++;
            ret = raw6(SYS_fork, 0, 0, 0, 0, 0, 0);
            break;
        case SYS_clone:
        case SYS_clone3:
        case SYS_vfork:
            if (forks >= MAX_FORKS) {
                ret = -11;
                break;
            }
            forks++;
            ret = raw6_child_exits(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            break;
        default:
            ret = raw6(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        }
        res[i] = ret;
        if (verbose) {
            char line[96];
            snprintf(line, sizeof line, "[%ld] %u: %ld = %ld\n",
                     raw6(SYS_getpid, 0, 0, 0, 0, 0, 0), i, (long)r->nr, ret);
            put(line);
        }
    }
    raw6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
    return 0;
}
