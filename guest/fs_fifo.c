/* Named pipes: mkfifo, the open rules (a reader waits for a writer and a
 * writer for a reader; O_NONBLOCK readers open at once, lone O_NONBLOCK
 * writers get ENXIO; O_RDWR never waits), data through the FIFO between
 * processes, unread bytes dropped when the last end closes, ESPIPE. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void r(const char *what, long ret) {
    if (ret < 0) printf("%-40s -1 %s\n", what, strerrorname_np(errno));
    else printf("%-40s %ld\n", what, ret);
}

int main(void) {
    char dir[] = "/tmp/fsfifoXXXXXX";
    if (!mkdtemp(dir) || chdir(dir) < 0) { perror("mkdtemp"); return 1; }
    r("mkfifo", mkfifo("ff", 0644));
    struct stat st;
    stat("ff", &st);
    printf("S_ISFIFO=%d mode=%o size=%ld\n", S_ISFIFO(st.st_mode), st.st_mode & 0777, (long)st.st_size);

    r("open O_WRONLY|O_NONBLOCK, no reader", open("ff", O_WRONLY | O_NONBLOCK));
    int rd = open("ff", O_RDONLY | O_NONBLOCK);
    r("open O_RDONLY|O_NONBLOCK, no writer", rd >= 0 ? 0 : -1);
    char buf[64];
    r("read, no writer (EOF)", read(rd, buf, sizeof buf));
    int wr = open("ff", O_WRONLY | O_NONBLOCK);
    r("open O_WRONLY|O_NONBLOCK with a reader", wr >= 0 ? 0 : -1);
    r("read, writer but empty", read(rd, buf, sizeof buf));
    r("write 5", write(wr, "hello", 5));
    memset(buf, 0, sizeof buf);
    r("read", read(rd, buf, sizeof buf));
    printf("got '%s'\n", buf);
    r("lseek on FIFO", lseek(rd, 0, SEEK_SET));
    fstat(rd, &st);
    printf("fstat S_ISFIFO=%d\n", S_ISFIFO(st.st_mode));
    close(wr);
    r("read after writer closed (EOF)", read(rd, buf, sizeof buf));
    close(rd);

    /* O_RDWR never waits; bytes left when the last end closes are lost. */
    int rw = open("ff", O_RDWR);
    r("open O_RDWR", rw >= 0 ? 0 : -1);
    r("write through O_RDWR", write(rw, "abc", 3));
    close(rw);
    rw = open("ff", O_RDWR | O_NONBLOCK);
    r("read after reopen (bytes dropped)", read(rw, buf, sizeof buf));
    close(rw);

    /* Blocking opens meet: the child opens for writing first and waits;
     * the parent's blocking open for reading lets both go on. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int w = open("ff", O_WRONLY);
        write(w, "from child", 10);
        close(w);
        _exit(w >= 0 ? 0 : 1);
    }
    usleep(100000);
    rd = open("ff", O_RDONLY);
    memset(buf, 0, sizeof buf);
    long n = 0, k;
    while ((k = read(rd, buf + n, sizeof buf - 1 - n)) > 0) n += k;
    int status;
    waitpid(pid, &status, 0);
    printf("parent read '%s', child status %d\n", buf, WEXITSTATUS(status));
    close(rd);

    /* The reader waits for a writer this time. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int r2 = open("ff", O_RDONLY);
        char b[16] = {0};
        long got = read(r2, b, sizeof b - 1);
        printf("child reader got %ld '%s'\n", got, b);
        fflush(stdout);
        _exit(0);
    }
    usleep(100000);
    wr = open("ff", O_WRONLY);
    write(wr, "ping", 4);
    close(wr);
    waitpid(pid, NULL, 0);

    /* A FIFO stays usable through an fd after unlink. */
    rw = open("ff", O_RDWR);
    r("unlink while open", unlink("ff"));
    write(rw, "x", 1);
    r("read after unlink", read(rw, buf, 1));
    close(rw);
    r("open after unlink", open("ff", O_RDONLY | O_NONBLOCK));
    chdir("/");
    r("rmdir", rmdir(dir));
    return 0;
}
