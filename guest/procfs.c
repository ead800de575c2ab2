/*
 * procfs: the process's own /proc entries, field by field, against what
 * the syscalls say (getpid, getppid, getpgrp, getsid, sigprocmask,
 * sigaction, gettid, argv, environ), so the output is the same natively
 * and under tinyunix though the numbers differ: /proc/self/{stat,status,
 * statm,cmdline,environ,comm,maps,smaps_rollup,exe,cwd}, task/TID of a
 * thread, a child's stat as a zombie, read/pread/lseek semantics.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char buf[65536];

static ssize_t slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

static void say_yn(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
}

/* The fields of /proc/PID/stat after "(comm)": f[3] is the state. */
static int stat_fields(const char *s, char *comm, char *fields[64])
{
	const char *l = strchr(s, '('), *r = strrchr(s, ')');
	if (!l || !r)
		return 0;
	memcpy(comm, l + 1, r - l - 1);
	comm[r - l - 1] = 0;
	static char copy[4096];
	strncpy(copy, r + 2, sizeof copy - 1);
	int n = 3;
	for (char *t = strtok(copy, " \n"); t && n < 64; t = strtok(NULL, " \n"))
		fields[n++] = t;
	return n - 1;          /* fields numbered from 1 as in proc(5) */
}

static long status_num(const char *key)
{
	char *p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static unsigned long long status_hex(const char *key)
{
	char *p = strstr(buf, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ull;
}

static void on_usr1(int sig)
{
}

static void *thread_fn(void *arg)
{
	char path[128], comm[64], *f[64];
	pid_t tid = syscall(SYS_gettid);
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
	int fd = open(path, O_WRONLY);
	say_yn("thread: open own task comm for writing", fd >= 0);
	say_yn("thread: write comm", write(fd, "worker", 6) == 6);
	close(fd);
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	slurp(path);
	int n = stat_fields(buf, comm, f);
	printf("thread: task stat comm (%s), %d fields, pid is tid: %s\n", comm, n,
	       atoi(buf) == tid ? "yes" : "no");
	snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
	slurp(path);
	say_yn("thread: task status Pid is tid", status_num("\nPid:\t") == tid);
	say_yn("thread: task status Tgid is getpid", status_num("\nTgid:\t") == getpid());
	say_yn("thread: Threads is 2", status_num("\nThreads:\t") == 2);
	return NULL;
}

int main(int argc, char **argv)
{
	char comm[64], *f[64];
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* stat */
	ssize_t len = slurp("/proc/self/stat");
	int n = stat_fields(buf, comm, f);
	printf("stat: %d fields, comm (%s), state %s\n", n, comm, f[3]);
	say_yn("stat pid is getpid", atoi(buf) == getpid());
	say_yn("stat ppid is getppid", atoi(f[4]) == getppid());
	say_yn("stat pgrp is getpgrp", atoi(f[5]) == getpgrp());
	say_yn("stat session is getsid", atoi(f[6]) == getsid(0));
	printf("stat num_threads %s, exit_signal %s, priority %s, nice %s\n", f[20], f[38], f[18], f[19]);
	say_yn("stat vsize > rss pages", atoll(f[23]) > atoll(f[24]) * 4096 && atoll(f[24]) > 0);
	say_yn("stat startcode < endcode", strtoull(f[26], 0, 10) < strtoull(f[27], 0, 10));
	say_yn("stat arg_start < arg_end <= env_start < env_end",
	   strtoull(f[48], 0, 10) < strtoull(f[49], 0, 10) &&
	   strtoull(f[49], 0, 10) <= strtoull(f[50], 0, 10) &&
	   strtoull(f[50], 0, 10) < strtoull(f[51], 0, 10));

	/* read, pread, lseek on a generated file */
	int fd = open("/proc/self/stat", O_RDONLY);
	char small[8], again[8];
	say_yn("read 7 bytes", read(fd, small, 7) == 7);
	say_yn("pread at 0 gives them again", pread(fd, again, 7, 0) == 7 && memcmp(small, again, 7) == 0);
	say_yn("lseek SEEK_SET 0", lseek(fd, 0, SEEK_SET) == 0);
	long rv = lseek(fd, 0, SEEK_END);
	printf("lseek SEEK_END: %ld (%s)\n", rv, strerror(errno));
	rv = write(fd, "x", 1);
	printf("write to stat: %ld (%s)\n", rv, strerror(errno));
	close(fd);
	struct stat st;
	stat("/proc/self/stat", &st);
	printf("stat(2) of /proc/self/stat: size %ld, regular %s, mode %o\n", (long)st.st_size,
	       S_ISREG(st.st_mode) ? "yes" : "no", st.st_mode & 0777);
	(void)len;

	/* status */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGHUP, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	slurp("/proc/self/status");
	const char *keys[] = { "Name:", "Umask:", "State:", "Tgid:", "Pid:", "PPid:", "TracerPid:",
		"Uid:", "Gid:", "FDSize:", "Groups:", "NStgid:", "NSpid:", "NSpgid:", "NSsid:",
		"VmPeak:", "VmSize:", "VmHWM:", "VmRSS:", "RssAnon:", "RssFile:", "RssShmem:",
		"VmData:", "VmStk:", "VmExe:", "VmLib:", "VmPTE:", "VmSwap:", "Threads:", "SigQ:",
		"SigPnd:", "ShdPnd:", "SigBlk:", "SigIgn:", "SigCgt:", "CapInh:", "CapPrm:",
		"CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:", "Cpus_allowed:",
		"Cpus_allowed_list:", "Mems_allowed_list:", "voluntary_ctxt_switches:",
		"nonvoluntary_ctxt_switches:" };
	int missing = 0;
	for (unsigned i = 0; i < sizeof keys / sizeof *keys; i++) {
		char k[64];
		snprintf(k, sizeof k, "\n%s\t", keys[i]);
		if (i && !strstr(buf, k)) {
			printf("status lacks %s\n", keys[i]);
			missing++;
		}
	}
	printf("status: first line %.*s, fields missing %d\n", (int)strcspn(buf, "\n"), buf, missing);
	char *state = strstr(buf, "State:\t");
	printf("status: %.*s\n", (int)strcspn(state, "\n"), state);
	say_yn("status Pid/Tgid/PPid agree", status_num("\nPid:\t") == getpid() &&
	   status_num("\nTgid:\t") == getpid() && status_num("\nPPid:\t") == getppid());
	say_yn("status NSpid is Pid (one level)", status_num("\nNSpid:\t") == getpid());
	say_yn("status Uid is getuid", status_num("\nUid:\t") == (long)getuid());
	say_yn("status SigBlk is SIGUSR2", status_hex("\nSigBlk:\t") == 1ull << (SIGUSR2 - 1));
	say_yn("status SigIgn has SIGHUP", status_hex("\nSigIgn:\t") & 1ull << (SIGHUP - 1));
	say_yn("status SigCgt has SIGUSR1", status_hex("\nSigCgt:\t") & 1ull << (SIGUSR1 - 1));
	long rss = status_num("\nVmRSS:\t"), anon = status_num("\nRssAnon:\t"),
	     file = status_num("\nRssFile:\t"), shm = status_num("\nRssShmem:\t");
	say_yn("status VmRSS = RssAnon + RssFile + RssShmem", rss == anon + file + shm && rss > 0);
	say_yn("status VmPeak >= VmSize, VmHWM >= VmRSS",
	   status_num("\nVmPeak:\t") >= status_num("\nVmSize:\t") && status_num("\nVmHWM:\t") >= rss);

	/* statm agrees with status */
	slurp("/proc/self/statm");
	long sz, res, shared, text, lib, data, dt;
	n = sscanf(buf, "%ld %ld %ld %ld %ld %ld %ld", &sz, &res, &shared, &text, &lib, &data, &dt);
	printf("statm: %d numbers, lib %ld, dt %ld\n", n, lib, dt);
	slurp("/proc/self/status");
	say_yn("statm size = VmSize", sz * 4 == status_num("\nVmSize:\t"));

	/* RSS grows with touched memory, by the pages touched. */
	char *mem = malloc(64 << 12);
	slurp("/proc/self/status");
	long before = status_num("\nRssAnon:\t");
	for (int i = 0; i < 64; i++)
		mem[i << 12] = 1;
	slurp("/proc/self/status");
	long after = status_num("\nRssAnon:\t");
	say_yn("touching 64 pages adds about 256 kB to RssAnon", after - before >= 240 && after - before < 300);

	/* cmdline, environ, comm */
	ssize_t cl = slurp("/proc/self/cmdline");
	int same = 1;
	char *p = buf;
	for (int i = 0; i < argc; i++) {
		same &= strcmp(p, argv[i]) == 0;
		p += strlen(p) + 1;
	}
	say_yn("cmdline is argv", same && p - buf == cl);
	ssize_t el = slurp("/proc/self/environ");
	same = 1;
	p = buf;
	for (char **e = environ; *e; e++) {
		same &= strcmp(p, *e) == 0;
		p += strlen(p) + 1;
	}
	say_yn("environ is environ", same && p - buf == el);
	slurp("/proc/self/comm");
	printf("comm: %s", buf);
	fd = open("/proc/self/comm", O_WRONLY);
	write(fd, "renamed-process-name", 20);
	close(fd);
	slurp("/proc/self/comm");
	printf("comm after writing 20 bytes: %s", buf);

	/* maps and smaps_rollup */
	slurp("/proc/self/maps");
	int lines = 0, wellformed = 1, stack = 0, exe = 0;
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	self[sl > 0 ? sl : 0] = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long a, b, off, ino;
		char perms[8];
		unsigned maj, min;
		lines++;
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &a, &b, perms, &off, &maj, &min, &ino) != 7 || a >= b)
			wellformed = 0;
		stack |= strstr(line, "[stack]") != NULL;
		exe |= strstr(line, self) != NULL && strstr(line, "r-xp") != NULL;
	}
	say_yn("maps: every line parses", wellformed && lines > 3);
	say_yn("maps: has [stack]", stack);
	say_yn("maps: the executable's text is r-xp", exe);
	slurp("/proc/self/smaps_rollup");
	say_yn("smaps_rollup: first line ends in [rollup]", strstr(buf, "[rollup]\n") != NULL);
	char *r = strstr(buf, "\nRss:");
	say_yn("smaps_rollup: Rss field", r != NULL);

	/* links */
	char cwd[4096], link[4096];
	getcwd(cwd, sizeof cwd);
	ssize_t ll = readlink("/proc/self/cwd", link, sizeof link - 1);
	link[ll > 0 ? ll : 0] = 0;
	say_yn("cwd link is getcwd", strcmp(link, cwd) == 0);
	ll = readlink("/proc/self/root", link, sizeof link - 1);
	link[ll > 0 ? ll : 0] = 0;
	printf("root link: %s\n", link);
	char pidstr[32];
	ll = readlink("/proc/self", pidstr, sizeof pidstr - 1);
	pidstr[ll > 0 ? ll : 0] = 0;
	say_yn("/proc/self links to the pid", atoi(pidstr) == getpid());
	ll = readlink("/proc/thread-self", link, sizeof link - 1);
	link[ll > 0 ? ll : 0] = 0;
	char want[64];
	snprintf(want, sizeof want, "%d/task/%d", getpid(), getpid());
	say_yn("/proc/thread-self links to pid/task/tid", strcmp(link, want) == 0);
	say_yn("stat /proc/self/cwd/. is a directory", stat("/proc/self/cwd/.", &st) == 0 && S_ISDIR(st.st_mode));

	/* a thread: task/TID */
	pthread_t th;
	pthread_create(&th, NULL, thread_fn, NULL);
	pthread_join(th, NULL);

	/* a child, seen by its parent: sleeping, then a zombie, then gone */
	int pfd[2];
	pipe(pfd);
	pid_t c = fork();
	if (c == 0) {
		char x;
		close(pfd[1]);
		read(pfd[0], &x, 1);
		_exit(9);
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", c);
	for (;;) {                   /* until the child sleeps in read */
		slurp(path);
		stat_fields(buf, comm, f);
		if (f[3][0] == 'S')
			break;
		usleep(1000);
	}
	printf("child: state %s, ppid is us: %s\n", f[3], atoi(f[4]) == getpid() ? "yes" : "no");
	close(pfd[1]);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	slurp(path);
	stat_fields(buf, comm, f);
	printf("child: state after exit %s, exit_code field %s\n", f[3], f[52]);
	fd = open(path, O_RDONLY);
	waitpid(c, NULL, 0);
	errno = 0;
	ssize_t rr = read(fd, buf, 100);
	printf("reading a reaped child's stat: %ld (%s)\n", (long)rr, strerror(errno));
	rv = open(path, O_RDONLY);
	printf("open a reaped child's stat: %d (%s)\n", rv < 0 ? -1 : 0, strerror(errno));

	/* directories: readdir of /proc, /proc/self/fd and task */
	{
		DIR *d = opendir("/proc");
		int self_seen = 0, me = 0, dots = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			self_seen |= strcmp(e->d_name, "self") == 0 && e->d_type == DT_LNK;
			me |= atoi(e->d_name) == getpid() && e->d_type == DT_DIR;
			dots += strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
		}
		closedir(d);
		printf("readdir /proc: self link %s, our pid dir %s, dot entries %d\n",
		       self_seen ? "yes" : "no", me ? "yes" : "no", dots);
		d = opendir("/proc/self/fd");
		int own = 0, std = 0;
		while ((e = readdir(d))) {
			own |= atoi(e->d_name) == dirfd(d) && e->d_type == DT_LNK;
			std += strcmp(e->d_name, "1") == 0 || strcmp(e->d_name, "2") == 0;
		}
		closedir(d);
		printf("readdir /proc/self/fd: its own fd %s, fds 1 and 2 %s\n", own ? "yes" : "no",
		       std == 2 ? "yes" : "no");
		d = opendir("/proc/self/task");
		int tasks = 0;
		while ((e = readdir(d)))
			tasks += atoi(e->d_name) == getpid();
		closedir(d);
		printf("readdir /proc/self/task: the main thread %s\n", tasks == 1 ? "yes" : "no");
		d = opendir("/proc/self");
		int stat_seen = 0;
		while ((e = readdir(d)))
			stat_seen |= strcmp(e->d_name, "status") == 0 && e->d_type == DT_REG;
		closedir(d);
		say_yn("readdir /proc/self has status", stat_seen);
	}

	/* top-level files */
	say_yn("meminfo starts with MemTotal", slurp("/proc/meminfo") > 0 && strncmp(buf, "MemTotal:", 9) == 0);
	say_yn("stat starts with cpu", slurp("/proc/stat") > 0 && strncmp(buf, "cpu ", 4) == 0);
	double up, idle;
	say_yn("uptime has two numbers", slurp("/proc/uptime") > 0 && sscanf(buf, "%lf %lf", &up, &idle) == 2);
	say_yn("loadavg has 5 fields", slurp("/proc/loadavg") > 0 && strchr(buf, '/') != NULL);
	say_yn("cpuinfo has processor 0", slurp("/proc/cpuinfo") > 0 && strncmp(buf, "processor\t: 0", 13) == 0);
	say_yn("version starts with Linux version", slurp("/proc/version") > 0 && strncmp(buf, "Linux version ", 14) == 0);
	slurp("/proc/sys/kernel/ostype");
	printf("sys/kernel/ostype: %s", buf);
	say_yn("sys/kernel/pid_max is a number", slurp("/proc/sys/kernel/pid_max") > 0 && atoi(buf) > 300);
	rv = open("/proc/sys/kernel/ostype", O_WRONLY);
	printf("open sys/kernel/ostype for writing: %d (%s)\n", rv < 0 ? -1 : 0, strerror(errno));
	rv = open("/proc/self/nonexistent", O_RDONLY);
	printf("open /proc/self/nonexistent: %d (%s)\n", rv < 0 ? -1 : 0, strerror(errno));
	return 0;
}
