/* Directory listings: getdents64 and getdents with small buffers, d_type,
 * d_off with lseek (telldir/seekdir), rewinddir seeing changes, listings
 * of host directories (/etc, /tmp with our entry merged in) and errnos.
 * Listings are printed sorted: the order differs between file systems. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ent { char name[256]; int type; long off; };
static struct ent ents[512];

static int cmp(const void *a, const void *b) {
    return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

/* Read the whole directory with getdents64 in chunks of `bufsz` bytes. */
static int list64(int fd, int bufsz, int *calls) {
    char buf[4096];
    int n = 0;
    *calls = 0;
    for (;;) {
        long got = syscall(SYS_getdents64, fd, buf, bufsz);
        if (got < 0) return -errno;
        if (got == 0) break;
        ++*calls;
        for (long pos = 0; pos < got;) {
            struct dirent64 *d = (struct dirent64 *)(buf + pos);
            if (n < 512) {
                snprintf(ents[n].name, sizeof ents[n].name, "%s", d->d_name);
                ents[n].type = d->d_type;
                ents[n].off = d->d_off;
                n++;
            }
            pos += d->d_reclen;
        }
    }
    return n;
}

struct linux_dirent { unsigned long d_ino, d_off; unsigned short d_reclen; char d_name[]; };

static int list_old(int fd, int bufsz) {
    char buf[4096];
    int n = 0;
    for (;;) {
        long got = syscall(SYS_getdents, fd, buf, bufsz);
        if (got < 0) return -errno;
        if (got == 0) break;
        for (long pos = 0; pos < got;) {
            struct linux_dirent *d = (struct linux_dirent *)(buf + pos);
            snprintf(ents[n].name, sizeof ents[n].name, "%s", d->d_name);
            ents[n].type = buf[pos + d->d_reclen - 1];
            n++;
            pos += d->d_reclen;
        }
    }
    return n;
}

static void print_sorted(const char *title, int n, int with_type) {
    qsort(ents, n, sizeof ents[0], cmp);
    printf("%s (%d):", title, n);
    for (int i = 0; i < n; i++)
        printf(with_type ? " %s/%d" : " %s", ents[i].name, ents[i].type);
    printf("\n");
}

static void touch(const char *p) {
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) { perror(p); exit(1); }
    close(fd);
}

int main(void) {
    char dir[] = "/tmp/fsdentsXXXXXX";
    if (!mkdtemp(dir) || chdir(dir) < 0) { perror("mkdtemp"); return 1; }
    char name[64];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "file-%02d-with-a-longer-name", i);
        touch(name);
    }
    mkdir("sub", 0755);
    mkdir("sub2", 0755);
    symlink("file-00-with-a-longer-name", "link");
    mkfifo("fifo", 0644);

    int fd = open(".", O_RDONLY | O_DIRECTORY);
    int calls;
    int n = list64(fd, 4096, &calls);
    print_sorted("getdents64 4096", n, 1);
    lseek(fd, 0, SEEK_SET);
    n = list64(fd, 100, &calls);
    printf("getdents64 100-byte buffer: %d entries, several calls: %s\n", n, calls > 5 ? "yes" : "no");
    lseek(fd, 0, SEEK_SET);
    errno = 0;
    long r = syscall(SYS_getdents64, fd, name, 10);
    printf("getdents64 buffer too small: %ld %s\n", r, strerrorname_np(errno));
    lseek(fd, 0, SEEK_SET);
    n = list_old(fd, 128);
    print_sorted("getdents (old) 128", n, 1);

    /* d_off: seek back to the offset after entry 9 and read entry 10 again. */
    lseek(fd, 0, SEEK_SET);
    n = list64(fd, 4096, &calls);
    char want[256];
    snprintf(want, sizeof want, "%s", ents[10].name);
    lseek(fd, ents[9].off, SEEK_SET);
    char buf[512];
    r = syscall(SYS_getdents64, fd, buf, sizeof buf);
    printf("lseek to d_off of entry 9 gives entry 10 again: %s\n",
           r > 0 && !strcmp(((struct dirent64 *)buf)->d_name, want) ? "yes" : "no");
    printf("read past the end: %ld\n", (lseek(fd, 0, SEEK_SET), list64(fd, 4096, &calls),
                                       syscall(SYS_getdents64, fd, buf, sizeof buf)));
    close(fd);

    /* opendir/readdir/telldir/seekdir/rewinddir. */
    DIR *d = opendir(".");
    struct dirent *de;
    long pos5 = 0;
    char after5[256] = "";
    for (int i = 0; (de = readdir(d)); i++) {
        if (i == 5) pos5 = telldir(d);
        if (i == 6) snprintf(after5, sizeof after5, "%s", de->d_name);
    }
    seekdir(d, pos5);
    de = readdir(d);
    printf("seekdir(telldir) returns to the same entry: %s\n",
           de && !strcmp(de->d_name, after5) ? "yes" : "no");
    unlink("file-00-with-a-longer-name");
    rmdir("sub2");
    touch("new-after-opendir");
    rewinddir(d);
    n = 0;
    while ((de = readdir(d)))
        snprintf(ents[n++].name, 256, "%s", de->d_name);
    print_sorted("after rewinddir", n, 0);
    closedir(d);

    /* Host directories, and ours merged into a host one. */
    fd = open("/etc", O_RDONLY | O_DIRECTORY);
    n = list64(fd, 4096, &calls);
    close(fd);
    int host_ok = n > 5;
    for (int i = 0; i < n; i++)
        if (!strcmp(ents[i].name, "passwd") && ents[i].type != DT_REG) host_ok = 0;
    printf("/etc listed with passwd a regular file: %s\n", host_ok ? "yes" : "no");
    fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    n = list64(fd, 4096, &calls);
    close(fd);
    int found = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(ents[i].name, dir + 5) && ents[i].type == DT_DIR) found = 1;
    printf("/tmp lists our directory: %s\n", found ? "yes" : "no");
    fd = open("sub", O_RDONLY | O_DIRECTORY);
    n = list64(fd, 4096, &calls);
    print_sorted("empty sub", n, 1);
    close(fd);

    /* Errors. */
    fd = open("file-01-with-a-longer-name", O_RDONLY);
    errno = 0;
    r = syscall(SYS_getdents64, fd, buf, sizeof buf);
    printf("getdents64 on a file: %ld %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = syscall(SYS_getdents64, 999, buf, sizeof buf);
    printf("getdents64 bad fd: %ld %s\n", r, strerrorname_np(errno));
    close(fd);
    fd = open(".", O_RDONLY | O_DIRECTORY);
    errno = 0;
    r = syscall(SYS_getdents64, fd, (void *)8, 4096);
    printf("getdents64 bad buffer: %ld %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = read(fd, buf, sizeof buf);
    printf("read on a directory: %ld %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = open(".", O_WRONLY);
    printf("open directory O_WRONLY: %ld %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = open("file-01-with-a-longer-name", O_RDONLY | O_DIRECTORY);
    printf("open file O_DIRECTORY: %ld %s\n", r, strerrorname_np(errno));
    struct stat st;
    fstat(fd, &st);
    printf("fstat of directory fd: dir=%d\n", S_ISDIR(st.st_mode));
    close(fd);

    /* Clean up. */
    d = opendir(".");
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            (de->d_type == DT_DIR ? rmdir : unlink)(de->d_name);
    closedir(d);
    chdir("/");
    printf("rmdir work dir: %d\n", rmdir(dir));
    return 0;
}
