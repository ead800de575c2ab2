/* A tour of signals: a handler with siginfo, a blocked signal delivered
 * on unblock, SIGSTOP and SIGCONT of a child seen through SIGCHLD and
 * waitpid, an alarm interrupting pause(), and a child killed by a signal.
 * Run it natively and under tinyunix: the output is the same. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_code, alarms, chld_codes[8], nchld;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    usr1_code = si->si_code;
}

static void on_alarm(int sig)
{
    alarms++;
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    if (nchld < 8)
        chld_codes[nchld++] = si->si_code;
}

static const char *cld(int code)
{
    return code == CLD_EXITED ? "exited" : code == CLD_KILLED ? "killed" :
           code == CLD_STOPPED ? "stopped" : code == CLD_CONTINUED ? "continued" : "?";
}

int main(void)
{
    struct sigaction sa;
    setvbuf(stdout, NULL, _IONBF, 0);

    /* 1. A handler with siginfo. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("SIGUSR1 handled, si_code %s\n", usr1_code == SI_TKILL ? "SI_TKILL" : "?");

    /* 2. Blocked, then delivered when unblocked. */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    usr1_code = 0;
    sigprocmask(SIG_BLOCK, &s, NULL);
    kill(getpid(), SIGUSR1);
    printf("while blocked: handled %d\n", usr1_code != 0);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("after unblock: si_code %s\n", usr1_code == SI_USER ? "SI_USER" : "?");

    /* 3. Stop and continue a child; SIGCHLD tells each step. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    int st;
    kill(c, SIGSTOP);
    waitpid(c, &st, WUNTRACED);
    printf("child stopped by signal %d\n", WSTOPSIG(st));
    kill(c, SIGCONT);
    waitpid(c, &st, WCONTINUED);
    printf("child continued: %d\n", WIFCONTINUED(st));
    while (nchld < 2)
        pause();
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    printf("child killed by signal %d\n", WTERMSIG(st));
    while (nchld < 3)
        pause();
    for (int i = 0; i < nchld; i++)
        printf("  SIGCHLD %d: %s\n", i + 1, cld(chld_codes[i]));

    /* 4. alarm() interrupts pause(). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    pause();
    printf("alarm rang %d time(s); pending alarm left: %u\n", alarms, alarm(0));
    return 0;
}
