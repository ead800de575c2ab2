/* isolation_fs OP:ARG[:ARG] ...: try to touch what a guest must not, one
 * operation per argument, and print one line per operation:
 * "OP ARG -> ok [detail]" or "OP ARG -> ERRNO-NAME".
 *
 * HOSTILE: it writes, truncates, unlinks and renames the paths it is
 * given and reads kernel addresses.  Run it only under tinyunix, never
 * natively; the Makefile lists it under list-hostile, not list-procs.
 *
 * Files:   create:P  write:P:DATA  append:P:DATA  trunc:P  ftrunc:P
 *          unlink:P  rename:A:B  mkdir:P  rmdir:P  symlink:TARGET:P
 *          read:P (prints the first 64 bytes)  stat:P  lstat:P
 *          readlink:P  chdir:P  cwd
 * Memory:  peek:ADDR  poke:ADDR  jump:ADDR  (the process dies by a signal
 *          if the access faults; the next operations do not run)
 *          mmap:BYTES  (prints ok or the errno; touches the first page)
 * Exec:    bigargv:N[:LEN]  execve itself with N copies of a LEN-byte
 *          argument (prints the errno; E2BIG past the argument limit)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EXDEV: return "EXDEV";
    case E2BIG: return "E2BIG";
    default: return "E?";
    }
}

static void result(const char *op, const char *a, long r, const char *detail)
{
    if (r < 0)
        printf("%s %s -> %s\n", op, a, ename(errno));
    else if (detail)
        printf("%s %s -> ok %s\n", op, a, detail);
    else
        printf("%s %s -> ok\n", op, a);
    fflush(stdout);
}

static long write_file(const char *p, const char *data, int flags)
{
    int fd = open(p, O_WRONLY | O_CREAT | flags, 0644);
    if (fd < 0)
        return -1;
    long n = write(fd, data, strlen(data));
    int e = errno;
    close(fd);
    errno = e;
    return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *op = argv[i];
        char *a = strchr(op, ':');
        char *b = NULL;
        if (a) {
            *a++ = '\0';
            b = strchr(a, ':');
            if (b)
                *b++ = '\0';
        } else {
            a = "";
        }
        char detail[160];
        if (!strcmp(op, "create")) {
            int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644);
            result(op, a, fd, NULL);
            if (fd >= 0)
                close(fd);
        } else if (!strcmp(op, "write")) {
            result(op, a, write_file(a, b ? b : "", O_TRUNC), NULL);
        } else if (!strcmp(op, "append")) {
            result(op, a, write_file(a, b ? b : "", O_APPEND), NULL);
        } else if (!strcmp(op, "trunc")) {
            result(op, a, truncate(a, 0), NULL);
        } else if (!strcmp(op, "ftrunc")) {
            int fd = open(a, O_WRONLY);
            long r = fd < 0 ? -1 : ftruncate(fd, 0);
            result(op, a, r, NULL);
            if (fd >= 0)
                close(fd);
        } else if (!strcmp(op, "unlink")) {
            result(op, a, unlink(a), NULL);
        } else if (!strcmp(op, "rename")) {
            result(op, a, rename(a, b ? b : ""), NULL);
        } else if (!strcmp(op, "mkdir")) {
            result(op, a, mkdir(a, 0755), NULL);
        } else if (!strcmp(op, "rmdir")) {
            result(op, a, rmdir(a), NULL);
        } else if (!strcmp(op, "symlink")) {
            result(op, b ? b : "", symlink(a, b ? b : ""), NULL);
        } else if (!strcmp(op, "read")) {
            char buf[65];
            int fd = open(a, O_RDONLY);
            long n = fd < 0 ? -1 : read(fd, buf, 64);
            int e = errno;
            if (fd >= 0)
                close(fd);
            errno = e;
            if (n >= 0) {
                buf[n] = '\0';
                for (long k = 0; k < n; k++)
                    if (buf[k] == '\n' || buf[k] < ' ')
                        buf[k] = '.';
                snprintf(detail, sizeof detail, "[%s]", buf);
            }
            result(op, a, n, detail);
        } else if (!strcmp(op, "stat") || !strcmp(op, "lstat")) {
            struct stat st;
            long r = op[0] == 's' ? stat(a, &st) : lstat(a, &st);
            if (r == 0)
                snprintf(detail, sizeof detail, "%s size %ld",
                         S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "file",
                         (long)st.st_size);
            result(op, a, r, detail);
        } else if (!strcmp(op, "readlink")) {
            char buf[128];
            long n = readlink(a, buf, sizeof buf - 1);
            if (n >= 0) {
                buf[n] = '\0';
                snprintf(detail, sizeof detail, "[%s]", buf);
            }
            result(op, a, n, detail);
        } else if (!strcmp(op, "chdir")) {
            result(op, a, chdir(a), NULL);
        } else if (!strcmp(op, "cwd")) {
            char buf[128];
            char *r = getcwd(buf, sizeof buf);
            if (r)
                snprintf(detail, sizeof detail, "[%s]", buf);
            result(op, a, r ? 0 : -1, detail);
        } else if (!strcmp(op, "peek")) {
            volatile unsigned char *p = (void *)strtoul(a, NULL, 0);
            printf("peek %s ...\n", a);
            fflush(stdout);
            snprintf(detail, sizeof detail, "%d", *p);
            result(op, a, 0, detail);
        } else if (!strcmp(op, "poke")) {
            volatile unsigned char *p = (void *)strtoul(a, NULL, 0);
            printf("poke %s ...\n", a);
            fflush(stdout);
            *p = 0x90;
            result(op, a, 0, NULL);
        } else if (!strcmp(op, "jump")) {
            void (*f)(void) = (void (*)(void))strtoul(a, NULL, 0);
            printf("jump %s ...\n", a);
            fflush(stdout);
            f();
            result(op, a, 0, NULL);
        } else if (!strcmp(op, "bigargv")) {
            /* execve ourselves with N pointers to one LEN-byte string */
            long n = strtol(a, NULL, 0), len = b ? strtol(b, NULL, 0) : 100000;
            char *str = malloc((size_t)len + 1);
            char **v = malloc(((size_t)n + 2) * sizeof *v);
            if (!str || !v) {
                result(op, a, -1, NULL);
                continue;
            }
            memset(str, 'A', (size_t)len);
            str[len] = '\0';
            v[0] = argv[0];
            for (long k = 1; k <= n; k++)
                v[k] = str;
            v[n + 1] = NULL;
            execve(argv[0], v, NULL);
            result(op, a, -1, NULL);
        } else if (!strcmp(op, "exec")) {
            /* exec:PROG -- run PROG with the remaining operations */
            argv[i] = a;
            fflush(stdout);
            execv(a, &argv[i]);
            result(op, a, -1, NULL);
            return 1;
        } else if (!strcmp(op, "execdata")) {
            /* write `mov eax, 42; ret` into a writable page, call it */
            unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            memcpy(p, "\xb8\x2a\x00\x00\x00\xc3", 6);
            if (!strcmp(a, "rx"))
                mprotect(p, 4096, PROT_READ | PROT_EXEC);
            printf("execdata %s ...\n", a);
            fflush(stdout);
            int r = ((int (*)(void))p)();
            snprintf(detail, sizeof detail, "returned %d", r);
            result(op, a, 0, detail);
        } else if (!strcmp(op, "mmap")) {
            unsigned long n = strtoul(a, NULL, 0);
            void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED)
                *(volatile char *)p = 1;
            result(op, a, p == MAP_FAILED ? -1 : 0, NULL);
        } else {
            fprintf(stderr, "isolation_fs: unknown operation %s\n", op);
            return 2;
        }
    }
    return 0;
}
