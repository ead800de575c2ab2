/* File-backed memory (issue 12): the page cache shared by mappings and by
 * read()/write().  MAP_SHARED stores are seen by read() and by every other
 * mapping, across fork; write() is seen by every mapping; MAP_PRIVATE
 * copies on the first write and never reaches the file; the last page's
 * bytes past EOF are zero; a page wholly past EOF is SIGBUS (BUS_ADRERR,
 * si_addr the address); truncation makes mapped pages SIGBUS; msync. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
static sigjmp_buf env;
static volatile int bus_code;
static volatile void *bus_addr;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
    bus_code = si->si_code;
    bus_addr = si->si_addr;
    siglongjmp(env, 1);
}

/* Read one byte at p; -2 after a SIGBUS. */
static int probe(volatile char *p)
{
    bus_code = 0;
    if (sigsetjmp(env, 1))
        return -2;
    return *p;
}

static void rd(int fd, off_t off, char *buf, size_t n)
{
    lseek(fd, off, SEEK_SET);
    if (read(fd, buf, n) != (ssize_t)n)
        printf("short read\n");
}

static void wr(int fd, off_t off, const char *buf, size_t n)
{
    lseek(fd, off, SEEK_SET);
    if (write(fd, buf, n) != (ssize_t)n)
        printf("short write\n");
}

int main(void)
{
    char path[] = "/tmp/mmap_fileXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);

    /* 3 pages and 100 bytes of 'a'..'d' by page. */
    size_t size = 3 * PG + 100;
    char *buf = malloc(size);
    for (size_t i = 0; i < size; i++)
        buf[i] = 'a' + i / PG;
    wr(fd, 0, buf, size);

    char *s = mmap(NULL, 5 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *s2 = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
    char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (s == MAP_FAILED || s2 == MAP_FAILED || p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    printf("mapped: %c %c %c %c\n", s[0], s[PG], s2[2 * PG], p[3 * PG]);
    printf("past EOF in last page: %d %d\n", s[3 * PG + 100], s[4 * PG - 1]);
    int r = probe(s + 4 * PG);
    printf("page past EOF: %d code %d addr ok %d\n", r, bus_code,
           bus_addr == (void *)(s + 4 * PG));

    /* A store through the shared map: read() and the other map see it. */
    s[10] = 'X';
    char c;
    rd(fd, 10, &c, 1);
    printf("store -> read: %c, other map: %c, private map: %c\n", c, s2[10], p[10]);

    /* write() -> every map, including a private page not yet copied. */
    wr(fd, PG + 5, "Y", 1);
    printf("write -> shared %c, other %c, private %c\n", s[PG + 5], s2[PG + 5], p[PG + 5]);

    /* A private write copies: neither the file nor the shared maps see it. */
    p[2 * PG] = 'P';
    wr(fd, 2 * PG + 1, "Q", 1);
    rd(fd, 2 * PG, &c, 1);
    printf("private write: file %c shared %c private %c%c\n", c, s[2 * PG], p[2 * PG],
           p[2 * PG + 1]);

    /* Across fork: the child's stores through the inherited shared map. */
    pid_t pid = fork();
    if (pid == 0) {
        s[20] = 'C';
        s[3 * PG] = 'D';
        p[20] = 'n';      /* private: the parent never sees it */
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    rd(fd, 20, &c, 1);
    printf("child stores: read %c, map %c %c, private %c\n", c, s[20], s2[3 * PG], p[20]);

    int m0 = msync(s, PG, MS_SYNC);
    errno = 0;
    int m1 = msync(s, PG, MS_SYNC | MS_ASYNC), e1 = errno;
    errno = 0;
    int m2 = msync(s + 1, PG, MS_SYNC), e2 = errno;
    char *hole = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, PG);
    errno = 0;
    int m3 = msync(hole, PG, MS_ASYNC), e3 = errno;
    printf("msync: %d, bad flags: %d %d, unaligned: %d %d, unmapped: %d %d\n", m0, m1, e1,
           m2, e2, m3, e3);

    /* Protections: a read-only fd cannot be mapped shared and writable. */
    int ro = open(path, O_RDONLY);
    errno = 0;
    void *bad = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
    printf("shared writable on O_RDONLY: %s %d\n", bad == MAP_FAILED ? "fails" : "maps", errno);
    char *ros = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
    errno = 0;
    int mp = mprotect(ros, PG, PROT_READ | PROT_WRITE);
    printf("mprotect it writable: %d %d\n", mp, errno);
    int wo = open(path, O_WRONLY);
    errno = 0;
    bad = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0);
    printf("map O_WRONLY: %s %d\n", bad == MAP_FAILED ? "fails" : "maps", errno);
    int dir = open("/", O_RDONLY);
    errno = 0;
    bad = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dir, 0);
    printf("map a directory: %s %d\n", bad == MAP_FAILED ? "fails" : "maps", errno);

    /* Unmapped: the data stays in the file. */
    munmap(s2, 4 * PG);
    munmap(ros, PG);
    rd(fd, 3 * PG, &c, 1);
    printf("after munmap: %c\n", c);

    /* Truncation to 1 page + 10: later pages are SIGBUS, the tail zero. */
    int t = open(path, O_RDWR | O_TRUNC);
    wr(t, 0, buf, PG + 10);
    printf("truncated: %c %d ", s[PG + 9], s[PG + 10]);
    r = probe(s + 2 * PG);
    printf("page 2: %d code %d, private page 2 (copied) %d\n", r, bus_code, probe(p + 2 * PG));
    munmap(s, 5 * PG);
    munmap(p, 4 * PG);
    close(t);
    close(wo);
    close(ro);
    close(dir);
    close(fd);
    unlink(path);
    return 0;
}
