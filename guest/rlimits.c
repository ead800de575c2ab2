/* rlimits: getrlimit/setrlimit/prlimit64 and what each limit refuses.
 * RLIMIT_NOFILE: open, dup, pipe, F_DUPFD give EMFILE past it, dup2 to an
 * fd at or above it EBADF; RLIMIT_AS and RLIMIT_DATA: mmap and brk give
 * ENOMEM; RLIMIT_STACK kept across fork and exec; RLIMIT_NPROC (root is
 * exempt, as natively); soft > hard EINVAL; raising the hard limit needs
 * CAP_SYS_RESOURCE (printed either way); bad resource, pid, pointers.
 * Prints only what it set itself or relations, never the host's values. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1UL << 20)

static const char *ename(int e)
{
    switch (e) {
    case 0: return "ok";
    case EMFILE: return "EMFILE";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    default: return strerror(e);
    }
}

/* Raw syscalls: glibc must not hide or rewrite anything. */
static int sys_prlimit(pid_t pid, int res, const struct rlimit *new, struct rlimit *old)
{
    long r = syscall(SYS_prlimit64, pid, res, new, old);
    return r < 0 ? errno : 0;
}

static int set_lim(int res, rlim_t cur, rlim_t max)
{
    struct rlimit r = {cur, max};
    return syscall(SYS_setrlimit, res, &r) < 0 ? errno : 0;
}

static struct rlimit get_lim(int res)
{
    struct rlimit r;
    if (syscall(SYS_getrlimit, res, &r) < 0)
        exit(90);
    return r;
}

static void show(const char *what, int err)
{
    printf("%-44s %s\n", what, ename(err));
}

static void nofile(void)
{
    struct rlimit saved = get_lim(RLIMIT_NOFILE);
    for (int i = 3; i < 64; i++)     /* whatever the caller left open */
        close(i);
    show("setrlimit NOFILE soft 16", set_lim(RLIMIT_NOFILE, 16, saved.rlim_max));
    printf("getrlimit NOFILE soft                        %lu\n", get_lim(RLIMIT_NOFILE).rlim_cur);
    int n = 0, last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
        n++;
        last = fd;
    }
    show("open beyond NOFILE", errno);
    printf("opened %d, last fd %d\n", n, last);
    show("dup beyond NOFILE", dup(0) < 0 ? errno : 0);
    show("fcntl F_DUPFD beyond NOFILE", fcntl(0, F_DUPFD, 3) < 0 ? errno : 0);
    show("fcntl F_DUPFD at NOFILE", fcntl(0, F_DUPFD, 16) < 0 ? errno : 0);
    show("dup2 to fd 16 (= NOFILE)", dup2(0, 16) < 0 ? errno : 0);
    show("dup2 to fd 15 (< NOFILE)", dup2(0, 15) < 0 ? errno : 0);
    close(last);
    int p[2];
    show("pipe with one free fd", pipe(p) < 0 ? errno : 0);
    fd = open("/dev/null", O_RDONLY);
    printf("the free fd is still free: open gives %d\n", fd);
    show("lower NOFILE below open fds (soft 4)", set_lim(RLIMIT_NOFILE, 4, saved.rlim_max));
    show("open with fds above the limit", open("/dev/null", O_RDONLY) < 0 ? errno : 0);
    for (int i = 3; i < 16; i++)
        close(i);
    show("restore NOFILE", set_lim(RLIMIT_NOFILE, saved.rlim_cur, saved.rlim_max));
    fd = open("/dev/null", O_RDONLY);
    printf("open after restore gives %d\n", fd);
    close(fd);
}

static void address_space(void)
{
    struct rlimit saved = get_lim(RLIMIT_AS);
    show("setrlimit AS soft 64 MiB", set_lim(RLIMIT_AS, 64 * MiB, saved.rlim_max));
    void *a = mmap(NULL, 16 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap 16 MiB under AS 64 MiB", a == MAP_FAILED ? errno : 0);
    void *b = mmap(NULL, 128 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap 128 MiB under AS 64 MiB", b == MAP_FAILED ? errno : 0);
    errno = 0;
    void *m = malloc(100 * MiB);
    show("malloc 100 MiB under AS 64 MiB", m ? 0 : errno);
    void *cur = sbrk(0);
    void *r = sbrk(100 * MiB);
    show("sbrk 100 MiB under AS 64 MiB", r == (void *)-1 ? errno : 0);
    printf("break unchanged: %s\n", sbrk(0) == cur ? "yes" : "no");
    show("raise AS soft back", set_lim(RLIMIT_AS, saved.rlim_cur, saved.rlim_max));
    b = mmap(NULL, 128 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap 128 MiB after", b == MAP_FAILED ? errno : 0);
    munmap(b, 128 * MiB);
    munmap(a, 16 * MiB);

    saved = get_lim(RLIMIT_DATA);
    show("setrlimit DATA soft 32 MiB", set_lim(RLIMIT_DATA, 32 * MiB, saved.rlim_max));
    a = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap private rw 64 MiB under DATA 32 MiB", a == MAP_FAILED ? errno : 0);
    a = mmap(NULL, 64 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap private ro 64 MiB under DATA 32 MiB", a == MAP_FAILED ? errno : 0);
    munmap(a, 64 * MiB);
    a = mmap(NULL, 64 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    show("mmap shared rw 64 MiB under DATA 32 MiB", a == MAP_FAILED ? errno : 0);
    munmap(a, 64 * MiB);
    show("sbrk 64 MiB under DATA 32 MiB", sbrk(64 * MiB) == (void *)-1 ? errno : 0);
    show("restore DATA", set_lim(RLIMIT_DATA, saved.rlim_cur, saved.rlim_max));

    /* No limit needed: sizes past the address space. */
    a = mmap(NULL, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap 2^62 bytes", a == MAP_FAILED ? errno : 0);
    a = mmap(NULL, (size_t)-4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap 2^64-4096 bytes", a == MAP_FAILED ? errno : 0);
    a = mmap(NULL, 1UL << 48, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    show("mmap 2^48 bytes", a == MAP_FAILED ? errno : 0);
}

static void stack_inherit(const char *self)
{
    struct rlimit saved = get_lim(RLIMIT_STACK);
    show("setrlimit STACK soft 4 MiB", set_lim(RLIMIT_STACK, 4 * MiB, saved.rlim_max));
    pid_t pid = fork();
    if (pid == 0)
        _exit(get_lim(RLIMIT_STACK).rlim_cur == 4 * MiB ? 0 : 1);
    int st;
    waitpid(pid, &st, 0);
    printf("fork child sees STACK 4 MiB: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execl(self, self, "show-stack", (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    printf("exec'd program sees STACK 4 MiB: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    set_lim(RLIMIT_STACK, saved.rlim_cur, saved.rlim_max);
}

static void nproc(void)
{
    struct rlimit saved = get_lim(RLIMIT_NPROC);
    show("setrlimit NPROC 1/1", set_lim(RLIMIT_NPROC, 1, 1));
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    /* Root in the initial user namespace is exempt (copy_process). */
    show(getuid() == 0 ? "fork over NPROC as root" : "fork over NPROC", pid < 0 ? errno : 0);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    int e = set_lim(RLIMIT_NPROC, saved.rlim_cur, saved.rlim_max);
    printf("raise NPROC hard back: %s\n", e == 0 || e == EPERM ? "ok or EPERM" : ename(e));
}

static void checks(void)
{
    struct rlimit saved = get_lim(RLIMIT_NOFILE), r;
    show("soft > hard", set_lim(RLIMIT_NOFILE, 100, 50));
    show("NOFILE hard > nr_open", set_lim(RLIMIT_NOFILE, 64, (1 << 20) + 1));
    show("resource 16", set_lim(16, 1, 1));
    show("getrlimit resource 99", syscall(SYS_getrlimit, 99, &r) < 0 ? errno : 0);
    show("prlimit64 pid -1", sys_prlimit(-1, RLIMIT_NOFILE, NULL, &r));
    show("prlimit64 pid INT_MAX", sys_prlimit(0x7fffffff, RLIMIT_NOFILE, NULL, &r));
    show("setrlimit from a wild pointer", syscall(SYS_setrlimit, RLIMIT_NOFILE, (void *)8) < 0 ? errno : 0);
    show("getrlimit to a wild pointer", syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)8) < 0 ? errno : 0);
    show("lower NOFILE hard to 200", set_lim(RLIMIT_NOFILE, 100, 200));
    int e = set_lim(RLIMIT_NOFILE, 100, 300);
    printf("raise NOFILE hard 200 -> 300: %s\n", e == 0 || e == EPERM ? "ok or EPERM" : ename(e));
    r = get_lim(RLIMIT_NOFILE);
    printf("hard is 300 exactly when the raise worked: %s\n",
           (e == 0) == (r.rlim_max == 300) ? "yes" : "no");
    /* prlimit64 with new and old: old comes back, new goes in. */
    struct rlimit nw = {90, 200}, old;
    show("prlimit64 new 90/200 with old", sys_prlimit(getpid(), RLIMIT_NOFILE, &nw, &old));
    printf("old soft %lu\n", old.rlim_cur);
    /* A bad old pointer: EFAULT, but the new limit is already in. */
    nw.rlim_cur = 80;
    show("prlimit64 new 80 with a wild old", sys_prlimit(0, RLIMIT_NOFILE, &nw, (void *)8));
    printf("soft now %lu\n", get_lim(RLIMIT_NOFILE).rlim_cur);
    /* Another process's limit, by pid. */
    int go[2];
    if (pipe(go) < 0)
        exit(91);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(get_lim(RLIMIT_NOFILE).rlim_cur == 42 ? 0 : 1);
    }
    close(go[0]);
    nw.rlim_cur = 42;
    show("prlimit64 child's NOFILE to 42", sys_prlimit(pid, RLIMIT_NOFILE, &nw, NULL));
    printf("own soft still %lu\n", get_lim(RLIMIT_NOFILE).rlim_cur);
    if (write(go[1], "g", 1) != 1)
        exit(92);
    int st;
    waitpid(pid, &st, 0);
    printf("child saw 42: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    close(go[1]);
    set_lim(RLIMIT_NOFILE, saved.rlim_cur > 200 ? 200 : saved.rlim_cur, 200);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "show-stack"))
        return get_lim(RLIMIT_STACK).rlim_cur == 4 * MiB ? 0 : 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    nofile();
    address_space();
    stack_inherit(argv[0]);
    nproc();
    checks();
    return 0;
}
