/* Job control: SIGSTOP/SIGCONT of a child, what the parent learns (wait4
 * WUNTRACED/WCONTINUED, waitid WSTOPPED/WCONTINUED/WNOWAIT, SIGCHLD with
 * CLD_STOPPED/CLD_CONTINUED, SA_NOCLDSTOP), a blocked read that restarts
 * after the stop (no EINTR), SIGKILL of a stopped child, a stop signal
 * dropping a pending SIGCONT and SIGCONT dropping pending stops, SIGCHLD
 * ignored or SA_NOCLDWAIT (children reaped at once, wait gets ECHILD),
 * and waitpid on a process group. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void show_status(const char *what, int st)
{
    if (WIFSTOPPED(st))
        printf("%s: stopped by %d\n", what, WSTOPSIG(st));
    else if (WIFCONTINUED(st))
        printf("%s: continued\n", what);
    else if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", what, WTERMSIG(st));
    else
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

/* The next SIGCHLD, taken synchronously (SIGCHLD is blocked).  With
 * `block`, wait for it: CLD_CONTINUED is sent when the child runs again,
 * after wait can already report it. */
static void sigchld(int block)
{
    sigset_t s;
    siginfo_t si;
    struct timespec ts = { block ? 10 : 0, 0 };
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    if (sigtimedwait(&s, &si, &ts) < 0) {
        printf("  no SIGCHLD\n");
        return;
    }
    const char *c = si.si_code == CLD_STOPPED ? "CLD_STOPPED" :
                    si.si_code == CLD_CONTINUED ? "CLD_CONTINUED" :
                    si.si_code == CLD_EXITED ? "CLD_EXITED" :
                    si.si_code == CLD_KILLED ? "CLD_KILLED" : "?";
    printf("  SIGCHLD %s status %d\n", c, si.si_status);
}

static void show_sigchld(void)
{
    sigchld(0);
}

/* A child blocked in read(2) is stopped and continued; the read then
 * gets the data written after SIGCONT, not EINTR. */
static void stop_cont_read(void)
{
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        char buf[8];
        close(p[1]);
        ssize_t n = read(p[0], buf, sizeof buf);
        _exit(n == 5 && !memcmp(buf, "hello", 5) ? 7 : n < 0 ? 100 + errno : 99);
    }
    close(p[0]);
    int st;
    usleep(1000);                   /* let it block in read */
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    show_status("read child", st);
    show_sigchld();
    printf("  again WNOHANG|WUNTRACED: %d\n", waitpid(c, &st, WNOHANG | WUNTRACED));
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    show_status("read child", st);
    sigchld(1);
    write(p[1], "hello", 5);
    waitpid(c, &st, 0);
    show_status("read child", st);
    show_sigchld();
    close(p[1]);
}

/* waitid: WSTOPPED with WNOWAIT leaves the report for the next wait. */
static void waitid_reports(void)
{
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    kill(c, SIGSTOP);
    waitid(P_PID, c, &si, WSTOPPED | WNOWAIT);
    printf("waitid WNOWAIT: code %s status %d pid ok %d\n",
           si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "?", si.si_status, si.si_pid == c);
    memset(&si, 0, sizeof si);
    waitid(P_PID, c, &si, WSTOPPED);
    printf("waitid: code %s status %d\n", si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "?",
           si.si_status);
    memset(&si, 0, sizeof si);
    printf("waitid WNOHANG again: %d pid %d\n", waitid(P_PID, c, &si, WSTOPPED | WNOHANG),
           si.si_pid);
    show_sigchld();
    kill(c, SIGCONT);
    memset(&si, 0, sizeof si);
    waitid(P_PID, c, &si, WCONTINUED);
    printf("waitid: code %s status %d\n", si.si_code == CLD_CONTINUED ? "CLD_CONTINUED" : "?",
           si.si_status);
    sigchld(1);
    /* A stopped child is killed by SIGKILL. */
    kill(c, SIGSTOP);
    int st;
    waitpid(c, &st, WUNTRACED);
    show_status("pause child", st);
    show_sigchld();
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    show_status("pause child", st);
    show_sigchld();
}

/* SA_NOCLDSTOP: no SIGCHLD for a stop or a continue, wait still reports. */
static void nocldstop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    int st;
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    show_status("SA_NOCLDSTOP", st);
    show_sigchld();
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    show_status("SA_NOCLDSTOP", st);
    show_sigchld();
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    show_status("SA_NOCLDSTOP", st);
    show_sigchld();
    sa.sa_flags = 0;
    sigaction(SIGCHLD, &sa, NULL);
}

/* A stop signal drops a pending SIGCONT; SIGCONT drops pending stops. */
static void flush_each_other(void)
{
    int go[2], back[2];
    pipe(go);
    pipe(back);
    pid_t c = fork();
    if (c == 0) {
        sigset_t s, pend;
        sigemptyset(&s);
        sigaddset(&s, SIGCONT);
        sigaddset(&s, SIGTSTP);
        sigprocmask(SIG_BLOCK, &s, NULL);
        char b = 0;
        write(back[1], &b, 1);
        read(go[0], &b, 1);          /* parent sent SIGCONT then SIGTSTP */
        sigpending(&pend);
        b = sigismember(&pend, SIGCONT) * 2 + sigismember(&pend, SIGTSTP);
        write(back[1], &b, 1);
        read(go[0], &b, 1);          /* parent sent SIGCONT */
        sigpending(&pend);
        b = sigismember(&pend, SIGCONT) * 2 + sigismember(&pend, SIGTSTP);
        write(back[1], &b, 1);
        _exit(0);
    }
    char b;
    read(back[0], &b, 1);
    kill(c, SIGCONT);
    kill(c, SIGTSTP);
    write(go[1], &b, 1);
    read(back[0], &b, 1);
    printf("after CONT, TSTP: CONT pending %d TSTP pending %d\n", b >> 1, b & 1);
    kill(c, SIGCONT);
    write(go[1], &b, 1);
    read(back[0], &b, 1);
    printf("after CONT: CONT pending %d TSTP pending %d\n", b >> 1, b & 1);
    int st;
    waitpid(c, &st, 0);
    show_status("flush child", st);
    show_sigchld();
    close(go[0]); close(go[1]); close(back[0]); close(back[1]);
}

/* SIGCHLD ignored, or SA_NOCLDWAIT: no zombies, wait says ECHILD. */
static void autoreap(void)
{
    struct sigaction sa;
    for (int k = 0; k < 2; k++) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = k ? SIG_DFL : SIG_IGN;
        sa.sa_flags = k ? SA_NOCLDWAIT : 0;
        sigaction(SIGCHLD, &sa, NULL);
        pid_t c = fork();
        if (c == 0)
            _exit(3);
        int st;
        errno = 0;
        pid_t r = waitpid(c, &st, 0);
        printf("%s: wait %d errno %s\n", k ? "SA_NOCLDWAIT" : "SIG_IGN", r,
               errno == ECHILD ? "ECHILD" : strerror(errno));
        if (k)
            show_sigchld();          /* SA_NOCLDWAIT still sends SIGCHLD */
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
}

/* waitpid(-pgid) and waitpid(0) pick children by process group. */
static void wait_pgrp(void)
{
    int sync_[2];
    pipe(sync_);
    pid_t a = fork();
    if (a == 0) {
        setpgid(0, 0);
        close(sync_[1]);
        char b;
        read(sync_[0], &b, 1);
        _exit(4);
    }
    setpgid(a, a);                   /* both sides, as shells do */
    pid_t b = fork();
    if (b == 0)
        _exit(5);
    int st;
    pid_t r = waitpid(0, &st, 0);
    printf("waitpid(0): is b %d\n", r == b);
    show_status("same-pgrp child", st);
    show_sigchld();
    close(sync_[1]);
    close(sync_[0]);
    r = waitpid(-a, &st, 0);
    show_sigchld();
    printf("waitpid(-pgid): is a %d\n", r == a);
    show_status("pgrp child", st);
    printf("waitpid(-pgid) after: %d\n", waitpid(-a, &st, WNOHANG));
    show_sigchld();
}

int main(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    sigprocmask(SIG_BLOCK, &s, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    stop_cont_read();
    waitid_reports();
    nocldstop();
    flush_each_other();
    autoreap();
    wait_pgrp();
    return 0;
}
