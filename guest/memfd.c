/* memfd_create (issue 12): an anonymous in-memory file, written, mapped
 * shared across fork and privately, named in /proc/self/fd; bad flags and
 * names. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int fd = memfd_create("scratch", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        return 1;
    }
    char buf[8192];
    memset(buf, 'm', sizeof buf);
    printf("write: %zd\n", write(fd, buf, sizeof buf));
    struct stat st;
    fstat(fd, &st);
    printf("regular %d, size %lld, mode %o\n", S_ISREG(st.st_mode), (long long)st.st_size,
           st.st_mode & 07777);
    char link[64], path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("name: %s\n", link);

    char *s = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    pid_t pid = fork();
    if (pid == 0) {
        s[4096] = 'C';
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    p[0] = 'p';
    char c;
    pread(fd, &c, 1, 4096);
    printf("child's store: map %c, read %c, private %c; private write: map %c\n", s[4096], c,
           p[4096], s[0]);

    errno = 0;
    int bad = memfd_create("x", 0x100);
    printf("bad flags: %d %d\n", bad, errno);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    errno = 0;
    bad = memfd_create(longname, 0);
    printf("long name: %d %d\n", bad, errno);
    longname[249] = 0;
    int ok = memfd_create(longname, 0);
    printf("249 bytes: %s\n", ok >= 0 ? "ok" : "fails");
    return 0;
}
