/* execve and execveat of the host's dynamically linked programs (issue
 * 12): by path, by directory fd and relative name, by an open fd
 * (AT_EMPTY_PATH), a symlink refused with AT_SYMLINK_NOFOLLOW (ELOOP),
 * bad flags (EINVAL), and what the exec'd program sees of argv. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int run(const char *what, int dfd, const char *path, char *const argv[], int flags)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        syscall(SYS_execveat, dfd, path, argv, environ, flags);
        printf("%s: execveat fails, errno %d\n", what, errno);
        fflush(stdout);
        _exit(99);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%s: status %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 0;
}

int main(void)
{
    char *sh_argv[] = {"sh", "-c", "echo sh says $0 $1; exit 3", "zero", "one", NULL};
    run("by path", AT_FDCWD, "/bin/sh", sh_argv, 0);

    int bin = open("/usr/bin", O_RDONLY | O_DIRECTORY);
    char *echo_argv[] = {"echo", "relative", "to", "a", "directory", NULL};
    run("dirfd", bin, "echo", echo_argv, 0);

    int fd = open("/usr/bin/echo", O_RDONLY);
    char *e2[] = {"echo", "through", "an", "fd", NULL};
    run("AT_EMPTY_PATH", fd, "", e2, AT_EMPTY_PATH);
    run("empty path without the flag", fd, "", e2, 0);

    struct stat st;
    if (lstat("/bin/sh", &st) == 0 && S_ISLNK(st.st_mode))
        run("AT_SYMLINK_NOFOLLOW on a symlink", AT_FDCWD, "/bin/sh", sh_argv,
            AT_SYMLINK_NOFOLLOW);
    else
        printf("AT_SYMLINK_NOFOLLOW on a symlink: execveat fails, errno 40\n"
               "AT_SYMLINK_NOFOLLOW on a symlink: status 99\n");
    run("bad flags", AT_FDCWD, "/bin/sh", sh_argv, 0x4);
    char *t_argv[] = {"true", NULL};
    run("missing", AT_FDCWD, "/no/such/program", t_argv, 0);
    run("a directory", AT_FDCWD, "/usr/bin", t_argv, 0);
    return 0;
}
