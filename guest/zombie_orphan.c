/*
 * zombie_orphan: a child that has exited stays a zombie until its parent
 * reaps it; an orphaned grandchild is reparented -- to init, or to the
 * nearest PR_SET_CHILD_SUBREAPER ancestor.  No pids are printed (they differ
 * between runs): children report through exit codes and pipes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Part 1: a child becomes a zombie, WNOHANG sees it before and after. */
static void zombie(void)
{
	int gate[2];
	char c;

	pipe(gate);
	pid_t pid = fork();
	if (pid == 0) {
		close(gate[1]);
		read(gate[0], &c, 1);   /* EOF when the parent closes its end */
		_exit(7);
	}
	close(gate[0]);
	int status = 0;
	pid_t r = waitpid(pid, &status, WNOHANG);
	printf("zombie: WNOHANG while child runs: %d\n", (int)r);

	close(gate[1]);                 /* let the child exit */
	/* Block until it is a zombie, without reaping it (WNOWAIT). */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int w = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	printf("zombie: waitid WNOWAIT: ret=%d pid matches=%s code=%s status=%d\n",
	       w, si.si_pid == pid ? "yes" : "no",
	       si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);

	r = waitpid(pid, &status, WNOHANG);
	printf("zombie: WNOHANG after exit: returned pid matches=%s WIFEXITED=%d WEXITSTATUS=%d\n",
	       r == pid ? "yes" : "no", WIFEXITED(status), WEXITSTATUS(status));
	errno = 0;
	r = waitpid(pid, &status, WNOHANG);
	printf("zombie: WNOHANG after reaping: %d errno=%s\n", (int)r,
	       errno == ECHILD ? "ECHILD" : "other");
}

/*
 * Part 2: the middle child forks a grandchild and exits.  Once we have
 * reaped the middle child its exit_notify is done, so the grandchild's
 * parent must have changed; it checks that and reports through a pipe.
 */
static void orphan_to_init(void)
{
	int go[2], report[2];
	char c;

	pipe(go);
	pipe(report);
	pid_t middle = fork();
	if (middle == 0) {
		pid_t me = getpid();
		pid_t grandchild = fork();
		if (grandchild == 0) {
			close(go[1]);
			close(report[0]);
			read(go[0], &c, 1);     /* wait for the go signal */
			c = getppid() != me ? 'Y' : 'N';
			write(report[1], &c, 1);
			_exit(0);
		}
		_exit(grandchild > 0 ? 3 : 4);
	}
	close(go[0]);
	close(report[1]);
	int status;
	waitpid(middle, &status, 0);
	printf("orphan: middle child exited with %d\n", WEXITSTATUS(status));
	c = 'g';
	write(go[1], &c, 1);
	close(go[1]);
	char answer = '?';
	read(report[0], &answer, 1);
	close(report[0]);
	printf("orphan: grandchild was reparented away from its dead parent: %s\n",
	       answer == 'Y' ? "yes" : "no");
	/* We cannot wait for it: it is not our child. */
	errno = 0;
	pid_t r = waitpid(-1, &status, WNOHANG);
	printf("orphan: waitpid(-1, WNOHANG) from grandparent: %d errno=%s\n", (int)r,
	       errno == ECHILD ? "ECHILD" : "none");
}

/* Part 3: as a child subreaper we inherit the orphan and can reap it. */
static void orphan_to_subreaper(void)
{
	int go[2];
	char c;
	pid_t top = getpid();

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		printf("subreaper: prctl failed\n");
		return;
	}
	pipe(go);
	pid_t middle = fork();
	if (middle == 0) {
		pid_t grandchild = fork();
		if (grandchild == 0) {
			close(go[1]);
			read(go[0], &c, 1);
			/* Exit code says who our parent is now. */
			_exit(getppid() == top ? 11 : 12);
		}
		_exit(5);
	}
	close(go[0]);
	int status;
	waitpid(middle, &status, 0);
	printf("subreaper: middle child exited with %d\n", WEXITSTATUS(status));
	c = 'g';
	write(go[1], &c, 1);
	close(go[1]);
	/* The grandchild is now our child. */
	pid_t r = waitpid(-1, &status, 0);
	printf("subreaper: reaped the grandchild: %s, it exited with %d (11 = saw us as parent)\n",
	       r > 0 && r != middle ? "yes" : "no", WEXITSTATUS(status));
	errno = 0;
	r = waitpid(-1, &status, WNOHANG);
	printf("subreaper: no children left: %s\n", r == -1 && errno == ECHILD ? "yes" : "no");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);  /* children never inherit buffered text */
	zombie();
	orphan_to_init();
	orphan_to_subreaper();
	return 0;
}
