/* Process groups and sessions: setpgid's errors (EINVAL, ESRCH, EPERM,
 * EACCES after the child's exec), setsid (EPERM for a group leader),
 * getsid/getpgid, kill(0, sig) and kill(-pgrp, sig), and an orphaned
 * process group with a stopped member (SIGHUP then SIGCONT; SIGTSTP is
 * ignored there but stops a member of a group that is not orphaned). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int r)
{
    static char buf[32];
    if (r >= 0)
        return "ok";
    snprintf(buf, sizeof buf, "%s", errno == EPERM ? "EPERM" : errno == ESRCH ? "ESRCH" :
             errno == EINVAL ? "EINVAL" : errno == EACCES ? "EACCES" : strerror(errno));
    return buf;
}

static int status_of(pid_t c)
{
    int st;
    waitpid(c, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A child that waits for a byte on fd `r` (or for it to close), then exits. */
static pid_t waiter(int r, int w, int new_session)
{
    pid_t c = fork();
    if (c == 0) {
        char b;
        close(w);
        if (new_session)
            setsid();
        read(r, &b, 1);
        _exit(0);
    }
    return c;
}

static void setpgid_errors(const char *self)
{
    int p[2];
    printf("setpgid(0, -1): %s\n", err(setpgid(0, -1)));
    printf("setpgid(999999, 0): %s\n", err(setpgid(999999, 0)));
    printf("setpgid(getppid(), 0): %s\n", err(setpgid(getppid(), 0)));
    printf("getpgid(999999): %s\n", err(getpgid(999999)));
    printf("getsid(999999): %s\n", err(getsid(999999)));

    pipe(p);
    pid_t c = waiter(p[0], p[1], 0);
    printf("setpgid(child, child): %s", err(setpgid(c, c)));
    printf(", getpgid is child %d\n", getpgid(c) == c);
    printf("setpgid(child, 0) again: %s\n", err(setpgid(c, 0)));
    printf("setpgid(child, own pgrp): %s", err(setpgid(c, getpgrp())));
    printf(", back in ours %d\n", getpgid(c) == getpgrp());
    printf("setpgid(child, unused pgid 999999): %s\n", err(setpgid(c, 999999)));
    printf("getsid(child) is ours: %d\n", getsid(c) == getsid(0));
    close(p[1]);
    status_of(c);
    close(p[0]);

    /* A child in another session: EPERM. */
    int q[2];
    pipe(p);
    pipe(q);
    c = fork();
    if (c == 0) {
        close(p[1]);
        pid_t s = setsid();
        char b = s == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
        b |= (setpgid(0, 0) < 0 && errno == EPERM) << 1;   /* a session leader */
        b |= (setsid() < 0 && errno == EPERM) << 2;         /* already a group leader */
        write(q[1], &b, 1);
        read(p[0], &b, 1);
        _exit(0);
    }
    char b;
    read(q[0], &b, 1);
    printf("child setsid: leader %d, its setpgid EPERM %d, setsid again EPERM %d\n",
           b & 1, (b >> 1) & 1, (b >> 2) & 1);
    printf("setpgid(child in another session): %s\n", err(setpgid(c, c)));
    printf("getsid(child) is child: %d\n", getsid(c) == c);
    close(p[1]);
    status_of(c);
    close(p[0]);
    close(q[0]);
    close(q[1]);

    /* After the child's exec: EACCES. */
    pipe(p);
    c = fork();
    if (c == 0) {
        char fd[16];
        close(p[1]);
        snprintf(fd, sizeof fd, "%d", p[0]);
        execl(self, self, "wait", fd, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    usleep(20000);
    int r;
    for (int i = 0; i < 1000; i++) {
        r = setpgid(c, c);
        if (r < 0)
            break;
        setpgid(c, getpgrp());
        usleep(1000);
    }
    printf("setpgid(child after exec): %s\n", err(r));
    close(p[1]);
    status_of(c);
}

static volatile sig_atomic_t got1, got2;

static void on_usr(int s)
{
    if (s == SIGUSR1)
        got1 = 1;
    else
        got2 = 1;
}

/* kill(-pgrp, SIGUSR1) from outside and kill(0, SIGUSR2) from inside reach
 * everyone in the group. */
static void kill_groups(void)
{
    int ready[2];
    pipe(ready);
    pid_t leader = fork();
    if (leader == 0) {
        signal(SIGUSR1, on_usr);
        signal(SIGUSR2, on_usr);
        setpgid(0, 0);
        pid_t g = fork();
        if (g == 0) {
            while (!got1 || !got2)
                pause();
            _exit(3);
        }
        char b = 0;
        write(ready[1], &b, 1);
        while (!got1)
            pause();
        kill(0, SIGUSR2);           /* to itself and the grandchild */
        while (!got2)
            pause();
        _exit(status_of(g) * 10 + got1 + got2);
    }
    char b;
    read(ready[0], &b, 1);
    printf("kill(-pgrp): %s\n", err(kill(-leader, SIGUSR1)));
    printf("group child status %d (grandchild 3, each got both)\n", status_of(leader));
    printf("kill(-pgrp) of an empty group: %s\n", err(kill(-leader, SIGUSR1)));
    close(ready[0]);
    close(ready[1]);
}

static void say(int s)
{
    const char *m = s == SIGHUP ? "  grandchild got SIGHUP\n" : "  grandchild got SIGCONT\n";
    write(1, m, strlen(m));
}

/* A stopped member of a group that becomes orphaned gets SIGHUP, SIGCONT. */
static void orphaned(void)
{
    int done[2];
    pipe(done);
    pid_t c = fork();
    if (c == 0) {
        setsid();                    /* the grandchild's group: in this session only */
        pid_t g = fork();
        if (g == 0) {
            setpgid(0, 0);
            signal(SIGHUP, say);
            signal(SIGCONT, say);
            raise(SIGTSTP);          /* its parent is in the session: it stops */
            raise(SIGTSTP);          /* orphaned now: ignored */
            write(1, "  SIGTSTP ignored in an orphaned group\n", 39);
            char b = 0;
            write(done[1], &b, 1);
            _exit(0);
        }
        int st;
        waitpid(g, &st, WUNTRACED);
        printf("  grandchild %s by %d\n", WIFSTOPPED(st) ? "stopped" : "not stopped",
               WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
        _exit(0);                    /* orphans the stopped group */
    }
    printf("orphaned group:\n");
    status_of(c);
    char b;
    read(done[0], &b, 1);
    printf("  done\n");
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "wait")) {
        char b;
        read(atoi(argv[2]), &b, 1);
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    setpgid_errors(argv[0]);
    kill_groups();
    orphaned();
    return 0;
}
