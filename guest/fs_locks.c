/* Advisory locks between processes: fcntl F_GETLK/F_SETLK/F_SETLKW (range
 * splitting, read sharing, blocking, EDEADLK, release on any close),
 * OFD locks, flock (shared by the open file description), and the errnos.
 * Children report by printing before they exit; the parent waits first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];

static int lk(int fd, int cmd, short type, short whence, off_t start, off_t len) {
    struct flock fl = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

static void getlk(const char *what, int fd, int cmd, off_t start, off_t len) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) < 0) { printf("%s: -1 %s\n", what, strerrorname_np(errno)); return; }
    const char *t = fl.l_type == F_UNLCK ? "UNLCK" : fl.l_type == F_RDLCK ? "RDLCK" : "WRLCK";
    if (fl.l_type == F_UNLCK)
        printf("%s: %s\n", what, t);
    else
        printf("%s: %s start=%ld len=%ld pid=%s\n", what, t, (long)fl.l_start, (long)fl.l_len,
               fl.l_pid == getppid() ? "parent" : fl.l_pid == -1 ? "-1" :
               fl.l_pid == getpid() ? "self" : "other");
}

static void r(const char *what, long ret) {
    if (ret < 0) printf("%-40s -1 %s\n", what, strerrorname_np(errno));
    else printf("%-40s %ld\n", what, ret);
}

/* Run fn in a child with its own fd on the file; wait for it. */
static void in_child(void (*fn)(int)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        fn(fd);
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void probe_basic(int fd) {
    getlk("child GETLK [5,15)", fd, F_GETLK, 5, 10);
    r("child SETLK [5,15) write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 10));
    r("child SETLK [20,30) write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 10));
    getlk("child GETLK [50,51) in hole", fd, F_GETLK, 50, 1);
    getlk("child GETLK [30,31)", fd, F_GETLK, 30, 1);
    getlk("child GETLK [61,62) to EOF lock", fd, F_GETLK, 61, 1);
}

static void probe_read(int fd) {
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    r("child SETLK read on read-locked", fcntl(fd, F_SETLK, &fl));
    r("child SETLK write on read-locked", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
}

static void probe_free(int fd) {
    getlk("child GETLK [0,100)", fd, F_GETLK, 0, 100);
}

static void probe_ofd(int fd) {
    getlk("child OFD_GETLK [0,10)", fd, F_OFD_GETLK, 0, 10);
    getlk("child GETLK [0,10)", fd, F_GETLK, 0, 10);
}

int main(void) {
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    strcpy(path, "/tmp/fslocksXXXXXX");
    int fd = mkstemp(path);
    write(fd, "0123456789abcdef", 16);

    printf("F_GETFL has O_LARGEFILE|O_RDWR: %d\n",
           (fcntl(fd, F_GETFL) & (O_LARGEFILE | O_ACCMODE)) == (O_LARGEFILE | O_RDWR));
    r("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
    printf("F_GETFL now append=%d nonblock=%d\n", !!(fcntl(fd, F_GETFL) & O_APPEND),
           !!(fcntl(fd, F_GETFL) & O_NONBLOCK));
    fcntl(fd, F_SETFL, 0);
    r("fcntl bad cmd", fcntl(fd, 9999));

    /* Ranges: lock [0,100) then [60,EOF), unlock [40,60). */
    r("SETLK [0,100) write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100));
    r("SETLK [60,EOF) write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 60, 0));
    r("SETLK unlock [40,60)", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 20));
    getlk("self GETLK (own locks never conflict)", fd, F_GETLK, 0, 10);
    in_child(probe_basic);
    r("unlock all", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
    r("SETLK read [0,10)", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
    in_child(probe_read);
    r("SETLK write over own read (upgrade)", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    r("SETLK negative len from SEEK_END", lk(fd, F_SETLK, F_WRLCK, SEEK_END, 0, -6));
    getlk("self GETLK", fd, F_GETLK, 0, 1);

    /* Any close of the file drops the process's POSIX locks. */
    int fd2 = open(path, O_RDONLY);
    close(fd2);
    in_child(probe_free);

    /* Errnos. */
    int ro = open(path, O_RDONLY);
    r("write lock on O_RDONLY fd", lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    r("bad l_type", lk(fd, F_SETLK, 7, SEEK_SET, 0, 1));
    r("bad whence", lk(fd, F_SETLK, F_WRLCK, 9, 0, 1));
    r("negative start", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -5, 1));
    r("bad fd", lk(99, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    r("bad pointer", fcntl(fd, F_SETLK, (void *)8));
    struct flock ofd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10, .l_pid = 5};
    r("OFD lock with l_pid set", fcntl(fd, F_OFD_SETLK, &ofd));
    close(ro);

    /* OFD locks: owned by the open file description. */
    r("OFD SETLK [0,10)", lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    int other = open(path, O_RDWR);
    r("POSIX lock same process, other fd", lk(other, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    r("OFD lock same process, other open", lk(other, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    in_child(probe_ofd);
    close(other);
    r("OFD unlock", lk(fd, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0));

    /* F_SETLKW waits for the holder; the parent writes to a pipe before
     * unlocking, so the child finds the byte once it has the lock. */
    int p[2];
    pipe(p);
    r("parent SETLK [0,1)", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open(path, O_RDWR);
        int ret = lk(cfd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        char c = 0;
        long got = read(p[0], &c, 1);
        printf("child SETLKW returned %d after the parent's unlock: %s\n", ret,
               got == 1 && c == 'U' ? "yes" : "no");
        fflush(stdout);
        _exit(0);
    }
    usleep(100000);
    write(p[1], "U", 1);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
    waitpid(pid, NULL, 0);

    /* Deadlock: the parent holds byte 0, the child byte 1; the child
     * waits for byte 0, then the parent asking for byte 1 gets EDEADLK. */
    r("parent SETLK byte 0", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int cfd = open(path, O_RDWR);
        lk(cfd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
        int ret = lk(cfd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
        printf("child got byte 0: %d\n", ret);
        fflush(stdout);
        _exit(0);
    }
    usleep(200000);
    r("parent SETLKW byte 1 (deadlock)", lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1));
    fflush(stdout);
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
    waitpid(pid, NULL, 0);

    /* flock: shared by dup and fork, exclusive against another open. */
    r("flock LOCK_EX", flock(fd, LOCK_EX));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        r("child flock inherited fd LOCK_EX|NB", flock(fd, LOCK_EX | LOCK_NB));
        int cfd = open(path, O_RDWR);
        r("child flock own open LOCK_EX|NB", flock(cfd, LOCK_EX | LOCK_NB));
        r("child flock own open LOCK_SH|NB", flock(cfd, LOCK_SH | LOCK_NB));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    r("flock bad op", flock(fd, 0));
    r("flock bad fd", flock(99, LOCK_SH));
    r("flock LOCK_SH (convert)", flock(fd, LOCK_SH));
    int f3 = open(path, O_RDONLY);
    r("flock LOCK_SH|NB other open", flock(f3, LOCK_SH | LOCK_NB));
    r("flock LOCK_EX|NB other open", flock(f3, LOCK_EX | LOCK_NB));
    r("flock LOCK_UN", flock(fd, LOCK_UN));
    r("flock LOCK_UN f3", flock(f3, LOCK_UN));
    r("flock LOCK_EX|NB after unlock", flock(f3, LOCK_EX | LOCK_NB));
    close(f3);
    r("flock LOCK_EX|NB after close", flock(fd, LOCK_EX | LOCK_NB));

    /* Pipes. */
    r("flock on a pipe", flock(p[0], LOCK_EX));
    r("fcntl lock on a pipe", lk(p[1], F_SETLK, F_WRLCK, SEEK_SET, 0, 1));

    close(fd);
    unlink(path);
    return 0;
}
