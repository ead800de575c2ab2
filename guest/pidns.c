/*
 * pidns: PID namespaces (clone and unshare with CLONE_NEWPID).  The first
 * child of a new namespace is its pid 1 and sees its parent as 0; pids
 * inside are numbered from 1; the namespace init reaps orphans, takes only
 * the signals it handles from inside, and its death kills every task of
 * the namespace; fork into a namespace whose init is gone is ENOMEM.
 * Without CAP_SYS_ADMIN every step is EPERM, natively as under tinyunix.
 * Prints only values that are the same on every run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int new_ns_child(int (*fn)(void *), void *arg)
{
	/* fork into a new pid namespace: clone with no new stack (like fork) */
	long pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(fn(arg));
	return (int)pid;
}

static volatile sig_atomic_t got_usr1, usr1_pid;
static int ready[2];         /* init -> parent: its namespace is set up */

static int nested(void *arg)
{
	printf("nested: getpid %d getppid %d\n", getpid(), getppid());
	fflush(stdout);
	return 7;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	got_usr1 = 1;
	usr1_pid = si->si_pid;
}

/* The namespace's init: its view of itself, its children, orphans, signals. */
static int ns_init(void *arg)
{
	int st;
	printf("init: getpid %d getppid %d\n", getpid(), getppid());
	fflush(stdout);

	pid_t c = fork();
	if (c == 0) {
		printf("child: getpid %d getppid %d\n", getpid(), getppid());
		/* From inside, signals without a handler do nothing to init. */
		int r1 = kill(1, SIGTERM), r2 = kill(1, SIGKILL), r3 = kill(1, SIGUSR1);
		printf("child: kill(1, SIGTERM) = %d, SIGKILL = %d, SIGUSR1 = %d\n", r1, r2, r3);
		fflush(stdout);
		_exit(5);
	}
	pid_t w = waitpid(c, &st, 0);
	printf("init: fork returned %d\n", c);
	printf("init: waitpid -> %d, exit %d, init alive, SIGUSR1 %s from pid %d\n", w,
	       WEXITSTATUS(st), got_usr1 ? "caught" : "not caught", (int)usr1_pid);

	/* An orphan is reparented to the namespace's init. */
	int p[2];
	if (pipe(p))
		return 1;
	c = fork();
	if (c == 0) {
		if (fork() == 0) {
			close(p[0]);
			while (getppid() != 1)
				usleep(1000);
			printf("grandchild: pid %d reparented to %d\n", getpid(), getppid());
			fflush(stdout);
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	waitpid(c, &st, 0);
	char b;
	while (read(p[0], &b, 1) > 0)
		;
	/* The grandchild is init's child now: init reaps it. */
	while ((w = wait(&st)) > 0)
		printf("init: reaped orphan %d\n", w);

	/* A nested namespace. */
	w = new_ns_child(nested, NULL);
	waitpid(w, &st, 0);
	printf("init: nested child had pid %d here\n", w);
	printf("init: nested exit %d\n", WEXITSTATUS(st));

	/* Something for the parent to see killed with init. */
	int q[2];
	if (pipe(q))
		return 1;
	if (fork() == 0) {
		close(q[0]);
		write(q[1], "r", 1);
		for (;;)
			pause();
	}
	close(q[1]);
	read(q[0], &b, 1);
	printf("init: sleeper ready\n");
	fflush(stdout);
	write(ready[1], "r", 1);
	for (;;)
		pause();
}

int main(void)
{
	int st;
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	pid_t me = getpid();

	if (pipe(ready))
		return 1;
	pid_t init = new_ns_child(ns_init, NULL);
	if (init < 0) {
		printf("clone(CLONE_NEWPID): %s\n", strerror(errno));
		printf("unshare(CLONE_NEWPID): %s\n", unshare(CLONE_NEWPID) ? strerror(errno) : "ok");
		return 0;
	}
	/* Wait for init to say it is ready, then kill it: all its namespace dies. */
	char r, a[64], b2[64], path[64];
	close(ready[1]);
	read(ready[0], &r, 1);
	printf("parent: clone returned a pid other than 1: %s\n", init != 1 ? "yes" : "no");

	ssize_t n1 = readlink("/proc/self/ns/pid", a, sizeof a - 1);
	snprintf(path, sizeof path, "/proc/%d/ns/pid", init);
	ssize_t n2 = readlink(path, b2, sizeof b2 - 1);
	if (n1 > 0 && n2 > 0) {
		a[n1] = b2[n2] = 0;
		printf("parent: ns/pid looks like pid:[N]: %s, child's differs: %s\n",
		       strncmp(a, "pid:[", 5) == 0 ? "yes" : "no", strcmp(a, b2) ? "yes" : "no");
	}

	/* setns: the next child is born in init's namespace (and sees no parent
	   there), then back to our own for the rest. */
	int self_ns = open("/proc/self/ns/pid", O_RDONLY);
	int child_ns = open(path, O_RDONLY);
	printf("parent: setns into init's namespace = %d\n", setns(child_ns, CLONE_NEWPID));
	pid_t sc = fork();
	if (sc == 0) {
		printf("setns child: getpid %d getppid %d\n", getpid(), getppid());
		fflush(stdout);
		_exit(4);
	}
	waitpid(sc, &st, 0);
	printf("parent: setns child exit %d; back to our namespace = %d\n", WEXITSTATUS(st),
	       setns(self_ns, CLONE_NEWPID));
	close(self_ns);
	close(child_ns);
	int bad = setns(0, CLONE_NEWPID);
	printf("setns on a tty/pipe fd: %d (%s)\n", bad, strerror(errno));

	/* From the parent namespace too, SIGTERM without a handler is ignored. */
	printf("parent: kill(init, SIGTERM) = %d\n", kill(init, SIGTERM));
	usleep(10000);
	printf("parent: init still alive after SIGTERM: %s\n",
	       waitpid(init, &st, WNOHANG) == 0 ? "yes" : "no");
	printf("parent: kill(init, SIGKILL) = %d\n", kill(init, SIGKILL));
	pid_t w = waitpid(init, &st, 0);
	printf("parent: waitpid -> init: %s, killed by %d\n", w == init ? "yes" : "no",
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	printf("parent: no other child left: %s\n", waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD ? "yes" : "no");

	/* unshare: the caller stays; its next child is init of the new namespace. */
	printf("unshare(CLONE_NEWPID) = %d\n", unshare(CLONE_NEWPID));
	printf("getpid unchanged: %s\n", getpid() == me ? "yes" : "no");
	int again = unshare(CLONE_NEWPID);
	printf("unshare again before a child = %d (%s)\n", again, strerror(errno));
	n1 = readlink("/proc/self/ns/pid", a, sizeof a - 1);
	n2 = readlink("/proc/self/ns/pid_for_children", b2, sizeof b2 - 1);
	if (n1 > 0 && n2 > 0) {
		a[n1] = b2[n2] = 0;
		printf("pid_for_children differs from pid: %s\n", strcmp(a, b2) ? "yes" : "no");
	}
	pid_t c = fork();
	if (c == 0) {
		printf("unshared child: getpid %d getppid %d\n", getpid(), getppid());
		fflush(stdout);
		_exit(3);
	}
	waitpid(c, &st, 0);
	printf("unshared child exit %d\n", WEXITSTATUS(st));
	errno = 0;
	c = fork();
	if (c == 0)
		_exit(0);
	printf("fork after the namespace's init died: %d (%s)\n", c < 0 ? -1 : 0, strerror(errno));
	if (c > 0)
		waitpid(c, &st, 0);
	return 0;
}
