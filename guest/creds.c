/*
 * Credentials: the set*id family's transitions with and without
 * CAP_SETUID, what they do to the capability sets, keepcaps, capget and
 * capset, the bounding set, supplementary groups, kill's permission rule
 * and glibc's set*id on every thread.  Each case runs in a child that
 * starts as the parent (root, with the capabilities it was given) and
 * prints what it sees; the parent prints the children's statuses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(long r)
{
	if (r >= 0)
		return "ok";
	switch (errno) {
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ESRCH: return "ESRCH";
	default: return strerror(errno);
	}
}

static void ids(const char *when)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("%-28s uid %u/%u/%u fsuid %d gid %u/%u/%u fsgid %d\n", when, r, e, s,
	       setfsuid(-1), gr, ge, gs, setfsgid(-1));
}

static void caps(const char *when)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0) {
		printf("%s capget %s\n", when, err(-1));
		return;
	}
	printf("%-28s eff %08x%08x prm %08x%08x inh %08x%08x\n", when,
	       d[1].effective, d[0].effective, d[1].permitted, d[0].permitted,
	       d[1].inheritable, d[0].inheritable);
}

static int run(const char *name, void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("== %s\n", name);
		fn();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("   %s: status %d\n", name, WEXITSTATUS(st));
	return st;
}

static void drop_to_user(void)
{
	ids("start");
	printf("setgroups(0) %s\n", err(setgroups(0, NULL)));
	printf("setresgid(1000x3) %s\n", err(setresgid(1000, 1000, 1000)));
	printf("setresuid(1000x3) %s\n", err(setresuid(1000, 1000, 1000)));
	ids("after drop");
	caps("after drop");
	printf("setuid(0) %s\n", err(setuid(0)));
	printf("seteuid(0) %s\n", err(seteuid(0)));
	printf("setresuid(2000,-1,-1) %s\n", err(setresuid(2000, -1, -1)));
	printf("setgid(0) %s\n", err(setgid(0)));
	printf("setgroups(1) %s\n", err(setgroups(1, (gid_t[]){ 5 })));
	printf("kill(parent, 0) %s\n", err(kill(getppid(), 0)));
	printf("kill(self, 0) %s\n", err(kill(getpid(), 0)));
	printf("setfsuid(0) returns %d, now %d\n", setfsuid(0), setfsuid(-1));
	printf("setuid(1000) %s\n", err(setuid(1000)));
}

static void effective_only(void)
{
	printf("seteuid(1000) %s\n", err(seteuid(1000)));
	ids("euid 1000");
	caps("euid 1000");
	printf("kill(parent, 0) %s\n", err(kill(getppid(), 0)));
	printf("seteuid(0) %s\n", err(seteuid(0)));
	ids("euid 0 again");
	caps("euid 0 again");
	printf("setreuid(1000,2000) %s\n", err(setreuid(1000, 2000)));
	ids("setreuid");
	caps("setreuid");
	printf("setreuid(-1,1000) %s\n", err(setreuid(-1, 1000)));
	ids("setreuid back");
	printf("setreuid(2000,-1) %s\n", err(setreuid(2000, -1)));
	printf("setreuid(3000,-1) %s\n", err(setreuid(3000, -1)));
}

static void fsuid(void)
{
	printf("setfsuid(1000) returns %d\n", setfsuid(1000));
	ids("fsuid 1000");
	caps("fsuid 1000");
	printf("setfsuid(0) returns %d\n", setfsuid(0));
	caps("fsuid 0");
	printf("setfsgid(77) returns %d\n", setfsgid(77));
	ids("fsgid 77");
}

static void keepcaps(void)
{
	printf("PR_GET_KEEPCAPS %d\n", prctl(PR_GET_KEEPCAPS));
	printf("PR_SET_KEEPCAPS(2) %s\n", err(prctl(PR_SET_KEEPCAPS, 2)));
	printf("PR_SET_KEEPCAPS(1) %s\n", err(prctl(PR_SET_KEEPCAPS, 1)));
	printf("PR_GET_KEEPCAPS %d\n", prctl(PR_GET_KEEPCAPS));
	printf("setresuid(1000x3) %s\n", err(setresuid(1000, 1000, 1000)));
	caps("keepcaps, uid 1000");
	printf("setuid(0) %s\n", err(setuid(0)));
}

static void capabilities(void)
{
	struct __user_cap_header_struct h = { 0x12345678, 0 };
	struct __user_cap_data_struct d[2];
	const char *e = err(syscall(SYS_capget, &h, NULL));
	printf("capget(bad version, NULL) %s version %#x\n", e, h.version);
	h.version = 0x12345678;
	e = err(syscall(SYS_capget, &h, d));
	printf("capget(bad version, d) %s version %#x\n", e, h.version);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = -1;
	printf("capget(pid -1) %s\n", err(syscall(SYS_capget, &h, d)));
	h.pid = 999999;
	printf("capget(pid 999999) %s\n", err(syscall(SYS_capget, &h, d)));
	h.pid = getppid();
	printf("capget(parent) %s\n", err(syscall(SYS_capget, &h, d)));
	printf("capget(bad data) %s\n", err(syscall(SYS_capget, &h, (void *)8)));
	h.pid = 0;
	syscall(SYS_capget, &h, d);
	/* Drop CAP_KILL from the effective set, then raise it again. */
	d[0].effective &= ~(1u << CAP_KILL);
	printf("capset(-CAP_KILL eff) %s\n", err(syscall(SYS_capset, &h, d)));
	caps("without CAP_KILL eff");
	d[0].effective |= 1u << CAP_KILL;
	printf("capset(+CAP_KILL eff) %s\n", err(syscall(SYS_capset, &h, d)));
	/* Drop CAP_KILL from permitted: it cannot come back. */
	d[0].effective &= ~(1u << CAP_KILL);
	d[0].permitted &= ~(1u << CAP_KILL);
	printf("capset(-CAP_KILL prm) %s\n", err(syscall(SYS_capset, &h, d)));
	d[0].permitted |= 1u << CAP_KILL;
	printf("capset(+CAP_KILL prm) %s\n", err(syscall(SYS_capset, &h, d)));
	d[0].permitted &= ~(1u << CAP_KILL);
	d[0].effective |= 1u << CAP_KILL;
	printf("capset(eff not in prm) %s\n", err(syscall(SYS_capset, &h, d)));
	h.pid = getppid();
	printf("capset(parent) %s\n", err(syscall(SYS_capset, &h, d)));
	caps("end");
	printf("PR_CAPBSET_READ(KILL) %d\n", prctl(PR_CAPBSET_READ, CAP_KILL));
	printf("PR_CAPBSET_READ(99) %s\n", err(prctl(PR_CAPBSET_READ, 99)));
	printf("PR_CAPBSET_DROP(NET_RAW) %s\n", err(prctl(PR_CAPBSET_DROP, CAP_NET_RAW)));
	printf("PR_CAPBSET_READ(NET_RAW) %d\n", prctl(PR_CAPBSET_READ, CAP_NET_RAW));
	printf("PR_CAPBSET_DROP(99) %s\n", err(prctl(PR_CAPBSET_DROP, 99)));
	printf("PR_GET_NO_NEW_PRIVS %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	printf("PR_SET_NO_NEW_PRIVS(2) %s\n", err(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0)));
	printf("PR_SET_NO_NEW_PRIVS(1) %s\n", err(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
	printf("PR_GET_NO_NEW_PRIVS %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	printf("ambient raise(KILL) %s\n",
	       err(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0)));
	printf("ambient is_set(KILL) %d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	printf("setresuid(1000x3) %s\n", err(setresuid(1000, 1000, 1000)));
	caps("no caps left");
	printf("PR_CAPBSET_DROP as user %s\n", err(prctl(PR_CAPBSET_DROP, CAP_KILL)));
}

static void groups(void)
{
	gid_t g[8];
	printf("setgroups(3) %s\n", err(setgroups(3, (gid_t[]){ 30, 10, 20 })));
	int n = getgroups(8, g);
	printf("getgroups: %d:", n);
	for (int i = 0; i < n; i++)
		printf(" %u", g[i]);
	printf("\n");
	printf("getgroups(0) %d\n", getgroups(0, NULL));
	printf("getgroups(1) %s\n", err(getgroups(1, g)));
	printf("getgroups(-1) %s\n", err(syscall(SYS_getgroups, -1, g)));
	printf("setgroups(65537) %s\n", err(syscall(SYS_setgroups, 65537, g)));
	printf("setgroups(bad) %s\n", err(syscall(SYS_setgroups, 2, (void *)8)));
	printf("getresuid(bad) %s\n", err(syscall(SYS_getresuid, (void *)8, (void *)8, (void *)8)));
	printf("setuid(-1) %s\n", err(syscall(SYS_setuid, -1)));
}

static volatile int thread_uid = -1;
static pthread_barrier_t bar;

static void *thread_fn(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);     /* main has called setresuid */
	thread_uid = (int)syscall(SYS_geteuid);
	pthread_barrier_wait(&bar);
	return NULL;
}

static void threads(void)
{
	pthread_t t;
	pthread_barrier_init(&bar, NULL, 2);
	/* A raw syscall changes only the calling thread. */
	pthread_create(&t, NULL, thread_fn, NULL);
	printf("raw setresuid(-1,5,-1) %s\n", err(syscall(SYS_setresuid, -1, 5, -1)));
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	printf("euid here %d, euid there %d\n", (int)syscall(SYS_geteuid), thread_uid);
	printf("raw setresuid(-1,0,-1) %s\n", err(syscall(SYS_setresuid, -1, 0, -1)));
	/* glibc's setresuid changes every thread (SIGSETXID). */
	pthread_create(&t, NULL, thread_fn, NULL);
	printf("setresuid(1000x3) with a thread %s\n", err(setresuid(1000, 1000, 1000)));
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	printf("the thread's euid %d\n", thread_uid);
}

int main(void)
{
	ids("parent");
	run("drop to a user", drop_to_user);
	run("effective only", effective_only);
	run("fsuid", fsuid);
	run("keepcaps", keepcaps);
	run("capabilities", capabilities);
	run("groups", groups);
	run("threads", threads);
	return 0;
}
