/* Names: mkdir, rmdir, unlink, link, symlink, readlink, rename (renameat2
 * flags), mknod, with the errno Linux gives for each misuse.  Works in a
 * fresh directory under /tmp and removes it; prints only results. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void r(const char *what, long ret) {
    if (ret < 0)
        printf("%-34s -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%-34s %ld\n", what, ret);
}

static void put(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) { perror(path); exit(1); }
    close(fd);
}

static void show(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0) { printf("%-20s missing (%s)\n", path, strerrorname_np(errno)); return; }
    char kind = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : S_ISFIFO(st.st_mode) ? 'p'
              : S_ISREG(st.st_mode) ? '-' : '?';
    printf("%-20s %c %04o nlink=%lu size=%ld\n", path, kind, st.st_mode & 07777,
           (unsigned long)st.st_nlink, S_ISDIR(st.st_mode) ? 0L : (long)st.st_size);
}

static long renameat2_(const char *a, const char *b, unsigned flags) {
    return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

int main(void) {
    char dir[] = "/tmp/fsnamesXXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    if (chdir(dir) < 0) { perror("chdir"); return 1; }
    umask(022);

    r("mkdir d 0777", mkdir("d", 0777));
    show("d");
    r("mkdir d again", mkdir("d", 0755));
    r("mkdir d/ (slash)", mkdir("d/", 0755));
    r("mkdir nodir/x", mkdir("nodir/x", 0755));
    put("f", "hello");
    r("mkdir f/x", mkdir("f/x", 0755));
    r("mkdir .", mkdir(".", 0755));
    r("mkdir d/sub", mkdir("d/sub", 0700));
    show("d");
    show("d/sub");
    r("mkdirat(dirfd, rel)", ({ int dfd = open("d", O_RDONLY | O_DIRECTORY);
                                long x = mkdirat(dfd, "viafd", 0750); close(dfd); x; }));
    show("d/viafd");
    r("mkdirat(file fd, rel)", ({ int ffd = open("f", O_RDONLY);
                                  long x = mkdirat(ffd, "z", 0750); close(ffd); x; }));

    r("rmdir d (not empty)", rmdir("d"));
    r("rmdir f (file)", rmdir("f"));
    r("rmdir missing", rmdir("missing"));
    r("rmdir d/sub/.", rmdir("d/sub/."));
    r("rmdir d/sub/..", rmdir("d/sub/.."));
    r("rmdir d/viafd", rmdir("d/viafd"));
    r("unlink d (dir)", unlink("d"));
    r("unlink f/ (slash)", unlink("f/"));
    r("unlink missing", unlink("missing"));
    r("unlinkat bad flag", unlinkat(AT_FDCWD, "f", 0x1));
    r("unlinkat AT_REMOVEDIR d/sub", unlinkat(AT_FDCWD, "d/sub", AT_REMOVEDIR));
    r("unlinkat AT_REMOVEDIR f", unlinkat(AT_FDCWD, "f", AT_REMOVEDIR));

    /* symlinks */
    r("symlink f sl", symlink("f", "sl"));
    r("symlink dangling", symlink("nowhere", "dang"));
    r("symlink exists", symlink("f", "sl"));
    r("symlink empty target", symlink("", "empty"));
    char buf[64] = {0};
    long n = readlink("sl", buf, sizeof buf);
    r("readlink sl", n);
    printf("  -> %.*s\n", (int)(n > 0 ? n : 0), buf);
    r("readlink sl bufsiz 1", readlink("sl", buf, 1));
    r("readlink f (not link)", readlink("f", buf, sizeof buf));
    r("readlink bufsiz 0", readlink("sl", buf, 0));
    show("sl");
    show("dang");
    r("open dangling O_RDONLY", open("dang", O_RDONLY));
    r("open sl O_NOFOLLOW", open("sl", O_RDONLY | O_NOFOLLOW));
    r("symlink loop a->b", symlink("lb", "la"));
    r("symlink loop b->a", symlink("la", "lb"));
    r("open loop", open("la", O_RDONLY));
    r("stat through sl", ({ struct stat st; stat("sl", &st) < 0 ? -1 : (long)st.st_size; }));
    r("mkdir over dangling", mkdir("dang", 0755));

    /* hard links */
    r("link f hl", link("f", "hl"));
    show("f");
    r("link exists", link("f", "hl"));
    r("link dir", link("d", "dl"));
    r("link missing", link("missing", "x"));
    r("linkat sl (no follow)", linkat(AT_FDCWD, "sl", AT_FDCWD, "hsl", 0));
    show("hsl");
    r("linkat sl FOLLOW", linkat(AT_FDCWD, "sl", AT_FDCWD, "hf", AT_SYMLINK_FOLLOW));
    show("f");
    put("hl", "changed");
    r("size of f after write to hl", ({ struct stat st; stat("f", &st); (long)st.st_size; }));
    r("unlink hl", unlink("hl"));
    show("f");

    /* rename */
    put("a", "A");
    put("b", "BB");
    r("rename a c", rename("a", "c"));
    show("a");
    show("c");
    r("rename c b (replace)", rename("c", "b"));
    show("b");
    r("rename missing", rename("missing", "x"));
    r("rename b d (file over dir)", rename("b", "d"));
    r("mkdir e", mkdir("e", 0755));
    r("rename d e (dir over empty)", rename("d", "e"));
    show("d");
    show("e");
    r("mkdir d2 + d2/x", mkdir("d2", 0755) | mkdir("d2/x", 0755));
    r("rename e d2 (dir over full)", rename("e", "d2"));
    r("rename d2 b (dir over file)", rename("d2", "b"));
    r("rename d2 d2/x/y (into self)", rename("d2", "d2/x/y"));
    r("rename d2/x d2 (over ancestor)", rename("d2/x", "d2"));
    r("rename d2 d2", rename("d2", "d2"));
    r("rename f hf (same inode)", rename("f", "hf"));
    show("f");
    r("rename . x", rename(".", "x"));
    r("rename b/ x", rename("b/", "x"));
    r("rename b x/", rename("b", "x/"));
    r("NOREPLACE b hf", renameat2_("b", "hf", RENAME_NOREPLACE));
    r("NOREPLACE b nb", renameat2_("b", "nb", RENAME_NOREPLACE));
    r("EXCHANGE nb d2", renameat2_("nb", "d2", RENAME_EXCHANGE));
    show("nb");
    show("d2");
    show("d2/x");
    show("nb/x");
    r("EXCHANGE nb missing", renameat2_("nb", "missing", RENAME_EXCHANGE));
    r("EXCHANGE|NOREPLACE", renameat2_("nb", "d2", RENAME_EXCHANGE | RENAME_NOREPLACE));
    r("renameat2 bad flags", renameat2_("nb", "d2", 0x80));
    r("rename dir with content", rename("nb", "moved"));
    show("moved/x");
    r("rmdir moved (not empty)", rmdir("moved"));

    /* mknod */
    r("mknod fifo", mknod("fifo", S_IFIFO | 0666, 0));
    show("fifo");
    r("mkfifo exists", mkfifo("fifo", 0600));
    r("mknod regular", mknod("reg", S_IFREG | 0600, 0));
    show("reg");
    r("mknod S_IFDIR", mknod("dd", S_IFDIR | 0755, 0));
    r("mknod bad type", mknod("bad", 0170000 | 0644, 0));

    /* names too long */
    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = 0;
    r("mkdir 299-char name", mkdir(longname, 0755));
    r("open 299-char name", open(longname, O_RDONLY));

    /* clean up */
    const char *files[] = {"f", "hf", "hsl", "sl", "dang", "empty", "la", "lb", "fifo", "reg", "d2"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++)
        unlink(files[i]);
    rmdir("e");
    rmdir("moved/x");
    rmdir("moved");
    r("chdir /", chdir("/"));
    r("rmdir the work dir", rmdir(dir));
    return 0;
}
