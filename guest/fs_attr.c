/* Attributes: chmod, chown (set-id bits dropped), umask, utimensat/utimes
 * (UTIME_NOW, UTIME_OMIT), truncate/ftruncate/fallocate, statx beside
 * stat, statfs, the sync calls, access(X_OK) for root, and the memory
 * devices (/dev/full must not hang).  Works in a fresh /tmp directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void r(const char *what, long ret) {
    if (ret < 0)
        printf("%-36s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-36s %ld\n", what, ret);
}

static void show(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0) { printf("%-12s missing\n", path); return; }
    printf("%-12s mode=%06o uid=%u gid=%u size=%ld\n", path, st.st_mode,
           st.st_uid, st.st_gid, (long)st.st_size);
}

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    char dir[] = "/tmp/fsattrXXXXXX";
    if (!mkdtemp(dir) || chdir(dir) < 0) { perror("mkdtemp"); return 1; }
    uid_t me = getuid();
    gid_t mygid = getgid();

    /* umask and creation modes */
    r("umask(027) returns old", umask(027));
    int fd = open("f", O_RDWR | O_CREAT, 0777);
    mkdir("d", 0777);
    show("f");
    show("d");
    r("umask(022)", umask(022));

    /* chmod family */
    r("chmod f 4755", chmod("f", 04755));
    show("f");
    r("fchmod f 0600", fchmod(fd, 0600));
    show("f");
    r("fchmodat d 1777", fchmodat(AT_FDCWD, "d", 01777, 0));
    show("d");
    r("chmod missing", chmod("missing", 0644));
    r("chmod f/x (ENOTDIR)", chmod("f/x", 0644));
    r("fchmod bad fd", fchmod(99, 0644));
    symlink("f", "sl");
    r("chmod through symlink", chmod("sl", 0640));
    show("f");

    /* chown family: set-id bits go on a change of owner */
    chmod("f", 06755);
    r("chown f (same ids)", chown("f", me, mygid));
    show("f");
    chmod("f", 06745);
    r("fchown f -1 -1", fchown(fd, -1, -1));
    show("f");
    r("lchown sl", lchown("sl", me, mygid));
    r("fchownat bad flag", fchownat(AT_FDCWD, "f", me, mygid, 0x4));
    r("chown missing", chown("missing", me, mygid));
    if (me == 0) {
        r("chown f 1234:5678 (root)", chown("f", 1234, 5678));
        struct stat st;
        stat("f", &st);
        printf("owner now %u:%u\n", st.st_uid, st.st_gid);
        chown("f", 0, 0);
    }

    /* access: root reads and writes anything, but X_OK needs an x bit */
    chmod("f", 0644);
    r("access f R_OK|W_OK", access("f", R_OK | W_OK));
    r("access f X_OK (0644)", access("f", X_OK));
    chmod("f", 0654);
    r("access f X_OK (0654)", access("f", X_OK));
    r("access d X_OK (dir)", access("d", X_OK));
    r("access bad mode", access("f", 8));
    r("faccessat2 AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, AT_EACCESS));
    r("faccessat2 bad flag", syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, 0x1));
    r("access /etc/passwd X_OK", access("/etc/passwd", X_OK));
    r("access /bin/sh X_OK", access("/bin/sh", X_OK));

    /* times */
    struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
    r("utimensat explicit", utimensat(AT_FDCWD, "f", ts, 0));
    struct stat st;
    stat("f", &st);
    printf("atime=%ld.%09ld mtime=%ld.%09ld\n", st.st_atim.tv_sec, st.st_atim.tv_nsec,
           st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    struct timespec before, after;
    clock_gettime(CLOCK_REALTIME, &before);
    struct timespec omit_now[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    r("utimensat OMIT, NOW", utimensat(AT_FDCWD, "f", omit_now, 0));
    clock_gettime(CLOCK_REALTIME, &after);
    stat("f", &st);
    printf("atime kept=%d mtime now=%d ctime now=%d\n", st.st_atim.tv_sec == 1000000000,
           ns(st.st_mtim) >= ns(before) - 20000000 && ns(st.st_mtim) <= ns(after) + 20000000,
           ns(st.st_ctim) >= ns(before) - 20000000);
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    r("utimensat bad nsec", utimensat(AT_FDCWD, "f", bad, 0));
    struct timespec omit2[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    r("utimensat OMIT OMIT missing", utimensat(AT_FDCWD, "missing", omit2, 0));
    r("utimensat missing", utimensat(AT_FDCWD, "missing", ts, 0));
    r("utimensat bad flags", utimensat(AT_FDCWD, "f", ts, 0x1));
    r("futimens", futimens(fd, ts));
    r("utimensat NOFOLLOW on link", utimensat(AT_FDCWD, "sl", ts, AT_SYMLINK_NOFOLLOW));
    lstat("sl", &st);
    printf("link mtime=%ld\n", st.st_mtim.tv_sec);
    struct timeval tv[2] = {{300, 5}, {400, 6}};
    r("utimes", utimes("f", tv));
    stat("f", &st);
    printf("atime=%ld.%09ld mtime=%ld.%09ld\n", st.st_atim.tv_sec, st.st_atim.tv_nsec,
           st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    struct timeval badtv[2] = {{1, 1000000}, {1, 0}};
    r("utimes bad usec", utimes("f", badtv));
    r("futimesat", futimesat(AT_FDCWD, "f", tv));

    /* truncate, ftruncate, fallocate */
    write(fd, "0123456789", 10);
    r("truncate f 4", truncate("f", 4));
    show("f");
    r("ftruncate f 10000", ftruncate(fd, 10000));
    show("f");
    char buf[16] = {0};
    pread(fd, buf, 4, 5000);
    printf("hole reads zeros: %d\n", !memcmp(buf, "\0\0\0\0", 4));
    r("truncate -1", truncate("f", -1));
    r("truncate dir", truncate("d", 0));
    r("truncate missing", truncate("missing", 0));
    int ro = open("f", O_RDONLY);
    r("ftruncate O_RDONLY fd", ftruncate(ro, 0));
    r("fallocate O_RDONLY fd", fallocate(ro, 0, 0, 10));
    r("fallocate grow to 20000", fallocate(fd, 0, 0, 20000));
    show("f");
    r("fallocate KEEP_SIZE", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 90000));
    r("fallocate len 0", fallocate(fd, 0, 0, 0));
    r("fallocate bad mode", fallocate(fd, 0x100, 0, 10));
    int p[2];
    pipe(p);
    r("fallocate pipe", fallocate(p[1], 0, 0, 10));
    r("ftruncate pipe", ftruncate(p[1], 0));

    /* statx against stat */
    struct statx sx;
    r("statx f", statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
    stat("f", &st);
    printf("statx agrees with stat: mode=%d size=%d ino=%d nlink=%d mtime=%d mask_basic=%d\n",
           sx.stx_mode == (st.st_mode & 0xffff), sx.stx_size == (unsigned long long)st.st_size,
           sx.stx_ino == st.st_ino, sx.stx_nlink == st.st_nlink,
           sx.stx_mtime.tv_sec == st.st_mtim.tv_sec,
           (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
    r("statx sl NOFOLLOW", statx(AT_FDCWD, "sl", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
    printf("statx link is a link: %d\n", S_ISLNK(sx.stx_mode));
    r("statx AT_EMPTY_PATH fd", statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    r("statx bad flags", statx(AT_FDCWD, "f", 0x1, STATX_BASIC_STATS, &sx));
    r("statx reserved mask", statx(AT_FDCWD, "f", 0, 0x80000000u, &sx));
    r("statx missing", statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx));

    /* statfs */
    struct statfs sf;
    r("statfs .", statfs(".", &sf));
    printf("namelen=%ld bsize=%ld\n", (long)sf.f_namelen, (long)sf.f_bsize);
    r("statfs /proc", statfs("/proc", &sf));
    printf("/proc magic=%#lx\n", (long)sf.f_type);
    r("fstatfs fd", fstatfs(fd, &sf));
    r("statfs missing", statfs("missing", &sf));
    r("fstatfs bad fd", fstatfs(99, &sf));

    /* sync family */
    r("fsync file", fsync(fd));
    r("fdatasync file", fdatasync(fd));
    r("fsync pipe", fsync(p[0]));
    r("fsync bad fd", fsync(99));
    r("syncfs", syncfs(fd));
    sync();

    /* the memory devices */
    int full = open("/dev/full", O_RDWR);
    r("open /dev/full", full >= 0 ? 0 : -1);
    r("write /dev/full", write(full, "x", 1));
    memset(buf, 1, sizeof buf);
    r("read /dev/full", read(full, buf, 8));
    printf("zeros: %d\n", !memcmp(buf, "\0\0\0\0\0\0\0\0", 8));
    close(full);
    int z = open("/dev/zero", O_RDONLY);
    memset(buf, 1, sizeof buf);
    r("read /dev/zero", read(z, buf, 16));
    close(z);
    int u = open("/dev/urandom", O_RDONLY);
    r("read /dev/urandom", read(u, buf, 16));
    close(u);
    int nul = open("/dev/null", O_WRONLY | O_TRUNC);
    r("write /dev/null", write(nul, "abc", 3));
    close(nul);
    stat("/dev/full", &st);
    printf("/dev/full chr=%d major=%u minor=%u\n", S_ISCHR(st.st_mode), major(st.st_rdev),
           minor(st.st_rdev));

    close(fd);
    close(ro);
    unlink("f");
    unlink("sl");
    rmdir("d");
    chdir("/");
    r("rmdir work dir", rmdir(dir));
    return 0;
}
