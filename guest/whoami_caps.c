/*
 * Prints the ids, groups, capability sets and AT_SECURE the program
 * starts with: run as another user (tinyunix run --user, setpriv natively)
 * or as a set-user-ID copy, it shows what exec gave it.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs, g[16];
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("uid %u/%u/%u gid %u/%u/%u secure %lu\n", r, e, s, gr, ge, gs,
	       getauxval(AT_SECURE));
	int n = getgroups(16, g);
	printf("groups %d:", n);
	for (int i = 0; i < n; i++)
		printf(" %u", g[i]);
	printf("\n");
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	syscall(SYS_capget, &h, d);
	printf("eff %08x%08x prm %08x%08x inh %08x%08x\n", d[1].effective, d[0].effective,
	       d[1].permitted, d[0].permitted, d[1].inheritable, d[0].inheritable);
	printf("bounding has CAP_KILL %d, no_new_privs %d\n", prctl(PR_CAPBSET_READ, 5),
	       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	return 0;
}
