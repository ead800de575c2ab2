/*
 * waitflags: wait4 and waitid selectors and flags -- WNOHANG, WNOWAIT,
 * pid -1 / >0 / 0 / <-1 (process groups made with setpgid), P_ALL, P_PID,
 * P_PGID, ECHILD and EINVAL.  Children are held at a gate (a pipe) so the
 * parent knows exactly which of them are zombies when it asks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case ECHILD: return "ECHILD";
	case EINVAL: return "EINVAL";
	default: return "other";
	}
}

struct child {
	pid_t pid;
	int gate;        /* write end: closing it lets the child exit */
};

/* Gates of children not yet released; a new child must not hold them. */
static int open_gates[8];
static int n_gates;

/* Fork a child that exits with `code` once released; own_pgrp puts it in a
 * new process group (set by both sides so neither order races). */
static struct child spawn(int code, int own_pgrp)
{
	int p[2];
	char c;

	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		if (own_pgrp)
			setpgid(0, 0);
		for (int i = 0; i < n_gates; i++)
			close(open_gates[i]);
		close(p[1]);
		read(p[0], &c, 1);
		_exit(code);
	}
	if (own_pgrp)
		setpgid(pid, pid);
	close(p[0]);
	open_gates[n_gates++] = p[1];
	return (struct child){ pid, p[1] };
}

/* Let the child exit and wait until it is a zombie, without reaping it. */
static void release(struct child ch)
{
	siginfo_t si;

	for (int i = 0; i < n_gates; i++)
		if (open_gates[i] == ch.gate)
			open_gates[i] = open_gates[--n_gates];
	close(ch.gate);
	waitid(P_PID, ch.pid, &si, WEXITED | WNOWAIT);
}

/* Name a wait4 result relative to the children we know of. */
static const char *who(pid_t r, const struct child *kids, int n)
{
	static char out[32];

	if (r == 0)
		return "0";
	if (r == -1)
		return "-1";
	for (int i = 0; i < n; i++)
		if (kids[i].pid == r) {
			snprintf(out, sizeof out, "child %c", 'A' + i);
			return out;
		}
	return "someone else";
}

static void show_wait4(const char *what, pid_t r, int status,
		       const struct child *kids, int n)
{
	printf("%-36s -> %s", what, who(r, kids, n));
	if (r > 0)
		printf(" status=0x%x exited=%d code=%d", status, WIFEXITED(status),
		       WEXITSTATUS(status));
	if (r < 0)
		printf(" errno=%s", errname(errno));
	printf("\n");
}

static void show_waitid(const char *what, int r, const siginfo_t *si,
			const struct child *kids, int n)
{
	printf("%-36s -> ret=%d", what, r);
	if (r == 0)
		printf(" si_pid=%s si_signo=%d si_code=%d si_status=%d",
		       who(si->si_pid, kids, n), si->si_signo, si->si_code, si->si_status);
	else
		printf(" errno=%s", errname(errno));
	printf("\n");
}

int main(void)
{
	struct child kids[5];
	siginfo_t si;
	int status;
	pid_t r;
	int w;

	setvbuf(stdout, NULL, _IONBF, 0);

	errno = 0;
	r = wait4(-1, &status, 0, NULL);
	show_wait4("wait4(-1) with no children", r, 0, kids, 0);
	errno = 0;
	w = waitid(P_ALL, 0, &si, WEXITED);
	show_waitid("waitid(P_ALL) with no children", w, &si, kids, 0);

	/* A in our group, B and C each in a group of their own. */
	kids[0] = spawn(10, 0);
	kids[1] = spawn(11, 1);
	kids[2] = spawn(12, 1);
	kids[3] = spawn(13, 0);

	r = wait4(-1, &status, WNOHANG, NULL);
	show_wait4("wait4(-1, WNOHANG), all running", r, 0, kids, 4);
	memset(&si, 0xff, sizeof si);
	w = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
	show_waitid("waitid(P_ALL, WNOHANG), all running", w, &si, kids, 4);

	errno = 0;
	r = wait4(-1, &status, 0x100 /* not a wait flag */, NULL);
	show_wait4("wait4 with a bad option bit", r, 0, kids, 4);
	errno = 0;
	r = wait4(-1, &status, WNOWAIT, NULL);  /* waitid only */
	show_wait4("wait4 with WNOWAIT", r, 0, kids, 4);
	errno = 0;
	w = waitid(P_ALL, 0, &si, WNOHANG);   /* no WEXITED/WSTOPPED/WCONTINUED */
	show_waitid("waitid without an event flag", w, &si, kids, 4);
	errno = 0;
	w = waitid(7 /* no such idtype */, 0, &si, WEXITED);
	show_waitid("waitid with a bad idtype", w, &si, kids, 4);

	/* pid > 0: only that child, even when another is a zombie too. */
	release(kids[0]);
	release(kids[3]);
	memset(&si, 0, sizeof si);
	w = waitid(P_PID, kids[3].pid, &si, WEXITED | WNOWAIT);
	show_waitid("waitid(P_PID D, WNOWAIT)", w, &si, kids, 4);
	memset(&si, 0, sizeof si);
	w = waitid(P_PID, kids[3].pid, &si, WEXITED | WNOWAIT);
	show_waitid("waitid(P_PID D, WNOWAIT) again", w, &si, kids, 4);
	r = wait4(kids[3].pid, &status, 0, NULL);
	show_wait4("wait4(D)", r, status, kids, 4);
	errno = 0;
	r = wait4(kids[3].pid, &status, WNOHANG, NULL);
	show_wait4("wait4(D, WNOHANG) after reaping", r, status, kids, 4);

	/* pid 0: children in our own process group only (A, not B or C). */
	release(kids[1]);
	r = wait4(0, &status, 0, NULL);
	show_wait4("wait4(0) with A and B zombies", r, status, kids, 4);
	errno = 0;
	r = wait4(0, &status, WNOHANG, NULL);
	show_wait4("wait4(0, WNOHANG), none in our group", r, status, kids, 4);

	/* pid < -1: the group of that number (B's). */
	r = wait4(-kids[2].pid, &status, WNOHANG, NULL);
	show_wait4("wait4(-pgid C, WNOHANG), C running", r, status, kids, 4);
	r = wait4(-kids[1].pid, &status, 0, NULL);
	show_wait4("wait4(-pgid B)", r, status, kids, 4);

	/* waitid(P_PGID) for C's group. */
	release(kids[2]);
	memset(&si, 0, sizeof si);
	w = waitid(P_PGID, kids[2].pid, &si, WEXITED);
	show_waitid("waitid(P_PGID C)", w, &si, kids, 4);

	/* A child that exits 0 and one that exits 255. */
	kids[4] = spawn(255, 0);
	release(kids[4]);
	r = wait4(-1, &status, 0, NULL);
	show_wait4("wait4(-1) exit 255", r, status, kids, 5);
	kids[4] = spawn(0, 0);
	release(kids[4]);
	memset(&si, 0, sizeof si);
	w = waitid(P_ALL, 0, &si, WEXITED);
	show_waitid("waitid(P_ALL) exit 0", w, &si, kids, 5);

	errno = 0;
	r = wait4(-1, &status, WNOHANG, NULL);
	show_wait4("wait4(-1, WNOHANG), no children left", r, status, kids, 5);
	errno = 0;
	r = wait4(1, &status, 0, NULL);
	show_wait4("wait4(1), not our child", r, status, kids, 5);
	return 0;
}
