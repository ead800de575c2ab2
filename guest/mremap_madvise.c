/* mremap, madvise, mincore and mlock (issue 12): contents survive a move,
 * a grow in place, a shrink; MREMAP_FIXED and MREMAP_DONTUNMAP; the errors
 * Linux gives (MREMAP_DONTUNMAP's success cases depend on VMA merging the
 * kernel does and we do not, so only its argument errors are here);
 * MADV_DONTNEED drops private pages (zero again, or the
 * file's bytes again) but not a shared file's; mincore shows what is
 * resident; mlock faults pages in. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define PG 4096

static void show_core(const char *what, void *p, size_t n)
{
    unsigned char v[16];
    errno = 0;
    int r = mincore(p, n * PG, v);
    printf("%s: %d %d [", what, r, errno);
    for (size_t i = 0; r == 0 && i < n; i++)
        printf("%d", v[i] & 1);
    printf("]\n");
}

int main(void)
{
    /* A hole we know is free, for the error cases. */
    char *hole = mmap(NULL, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, 16 * PG);

    char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4; i++)
        memset(a + i * PG, 'A' + i, PG);
    show_core("touched", a, 4);

    /* Shrink in place. */
    char *b = mremap(a, 4 * PG, 2 * PG, 0);
    printf("shrink: same %d, %c%c\n", b == a, b[0], b[PG]);
    show_core("after shrink", a, 4);

    /* Move to a fixed place: the bytes go with it. */
    char *c = mremap(a, 2 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, hole + 8 * PG);
    printf("fixed: at hole %d, %c%c, new page %d\n", c == hole + 8 * PG, c[0], c[PG], c[2 * PG]);
    show_core("old place", a, 2);

    /* Grow without MAYMOVE where the room is taken: ENOMEM. */
    char *block = mmap(c + 3 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    errno = 0;
    void *r = mremap(c, 3 * PG, 5 * PG, 0);
    printf("grow blocked: %s %d\n", r == MAP_FAILED ? "fails" : "ok", errno);
    char *d = mremap(c, 3 * PG, 5 * PG, MREMAP_MAYMOVE);
    printf("grow moved: moved %d, %c%c, tail %d\n", d != c, d[0], d[PG], d[4 * PG]);
    munmap(block, PG);

    /* Errors. */
    errno = 0;
    r = mremap(d + 1, PG, PG, 0);
    printf("unaligned: %d\n", r == MAP_FAILED ? errno : 0);
    errno = 0;
    r = mremap(d, PG, 2 * PG, MREMAP_FIXED, hole);
    printf("fixed without maymove: %d\n", r == MAP_FAILED ? errno : 0);
    errno = 0;
    r = mremap(hole, PG, 2 * PG, MREMAP_MAYMOVE);
    printf("unmapped: %d\n", r == MAP_FAILED ? errno : 0);
    errno = 0;
    r = mremap(d, PG, 0, MREMAP_MAYMOVE);
    printf("zero new length: %d\n", r == MAP_FAILED ? errno : 0);
    errno = 0;
    r = mremap(d, 2 * PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    printf("dontunmap, other size: %d\n", r == MAP_FAILED ? errno : 0);

    /* madvise(MADV_DONTNEED) on private anonymous memory: zeros again. */
    show_core("before dontneed", d + PG, 2);
    printf("dontneed: %d", madvise(d + PG, PG, MADV_DONTNEED));
    printf(" -> %d\n", d[PG]);
    errno = 0;
    int m = madvise(d, PG, 12345);
    printf("bad advice: %d %d\n", m, errno);
    errno = 0;
    m = madvise(d + 1, PG, MADV_DONTNEED);
    printf("unaligned advice: %d %d\n", m, errno);
    errno = 0;
    m = madvise(hole, PG, MADV_DONTNEED);
    printf("advice on a hole: %d %d\n", m, errno);

    /* A file: private CoW copies are dropped (the file's bytes return),
     * a shared mapping keeps its stores (they are the file). */
    char path[] = "/tmp/mremapXXXXXX";
    int fd = mkstemp(path);
    char buf[2 * PG];
    memset(buf, 'f', sizeof buf);
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
        return 1;
    char *fp = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char *fs = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show_core("file, untouched here", fp, 2);
    fp[0] = 'p';
    fs[PG] = 's';
    madvise(fp, 2 * PG, MADV_DONTNEED);
    madvise(fs, 2 * PG, MADV_DONTNEED);
    printf("file dontneed: private %c, shared %c\n", fp[0], fs[PG]);
    errno = 0;
    m = madvise(fp, PG, MADV_FREE);
    printf("free on a file: %d %d\n", m, errno);

    /* A shared file mapping moved keeps pointing at the file. */
    char *fm = mremap(fs, 2 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, hole);
    printf("moved shared: %c %c\n", fm[0], fm[PG]);

    /* mlock: pages resident at once; munlock; mlockall/munlockall. */
    char *l = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show_core("before mlock", l, 3);
    printf("mlock: %d\n", mlock(l + 1, PG));
    show_core("after mlock", l, 3);
    printf("munlock: %d\n", munlock(l, 3 * PG));
    errno = 0;
    m = mlock(hole + 12 * PG, PG);
    printf("mlock a hole: %d %d\n", m, errno);
    errno = 0;
    m = mlockall(0);
    printf("mlockall(0): %d %d\n", m, errno);
    printf("munlockall: %d\n", munlockall());

    unlink(path);
    return 0;
}
