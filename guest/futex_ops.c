/*
 * futex_ops: each futex(2) operation and its errors, printing only what does
 * not depend on the schedule.
 *
 * Waiters are counted asleep before anything is measured: the main thread
 * polls FUTEX_CMP_REQUEUE from the word to itself (wake 0, requeue all),
 * which moves nobody and returns how many sleep there, until all of them
 * do.  From then on every count (woken, requeued) is exact, whatever the
 * interleaving.  (Linux may wake a waiter spuriously; it then sleeps again
 * on the same word, so it is counted there again, and the clean-up wakes
 * every word until each waiter is back.)  Timeouts print ETIMEDOUT and
 * whether at least the timeout went by, never a duration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PRIV FUTEX_PRIVATE_FLAG
#define KERNEL_ADDR ((void *)0xffff800000000000UL)
#define MS 1000000L

/* The words under test live in private anonymous memory (and, for the
 * cross-process cases, in a MAP_SHARED page). */
struct words {
	uint32_t a, b, w1, w2;
};
static struct words *W;
static uint32_t *rdonly;        /* a read-only page holding 0 */
static void *noaccess;          /* a PROT_NONE page */

static long futex(void *uaddr, int op, uint32_t val, long timeout_or_val2, void *uaddr2,
		  uint32_t val3)
{
	long r = syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
	return r < 0 ? -errno : r;
}

static const char *res(long r)
{
	static char buf[32];
	if (r < 0)
		return strerrorname_np((int)-r);
	snprintf(buf, sizeof buf, "%ld", r);
	return buf;
}

static void show(const char *what, long r)
{
	printf("%-58s %s\n", what, res(r));
}

/* --- waiters ------------------------------------------------------------ */

struct waiter {
	pthread_t th;
	uint32_t *word;
	uint32_t bitset;
	int shared;
	long ret;
	int done;
};

static void *waiter_fn(void *p)
{
	struct waiter *w = p;
	w->ret = futex(w->word, FUTEX_WAIT_BITSET | (w->shared ? 0 : PRIV), 0, 0, NULL,
		       w->bitset);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Return once n waiters sleep on word (which holds 0). */
static void park(uint32_t *word, int n, int shared)
{
	for (;;) {
		long r = futex(word, FUTEX_CMP_REQUEUE | (shared ? 0 : PRIV), 0, INT_MAX, word, 0);
		if (r < 0 || r > n) {
			printf("park: %s\n", res(r));
			exit(1);
		}
		if (r == n)
			return;
		sched_yield();
	}
}

static void start(struct waiter *ws, int n, const uint32_t *bitsets, int shared, uint32_t *to)
{
	for (int i = 0; i < n; i++) {
		ws[i].bitset = bitsets ? bitsets[i] : FUTEX_BITSET_MATCH_ANY;
		ws[i].shared = shared;
		ws[i].done = 0;
		ws[i].ret = -1;
		ws[i].word = to;
		pthread_create(&ws[i].th, NULL, waiter_fn, &ws[i]);
	}
	park(to, n, shared);
}

static int count_done(struct waiter *ws, int n)
{
	int c = 0;
	for (int i = 0; i < n; i++)
		c += __atomic_load_n(&ws[i].done, __ATOMIC_SEQ_CST);
	return c;
}

static void wait_done(struct waiter *ws, int n, int want)
{
	while (count_done(ws, n) < want)
		sched_yield();
}

static void join_all(const char *what, struct waiter *ws, int n)
{
	int ok = 1;
	/* Only after a spurious wake-up is anyone left asleep here. */
	while (count_done(ws, n) < n) {
		for (int i = 0; i < n; i++) {
			futex(ws[i].word, FUTEX_WAKE | (ws[i].shared ? 0 : PRIV), INT_MAX, 0, NULL, 0);
			futex(&W->b, FUTEX_WAKE | (ws[i].shared ? 0 : PRIV), INT_MAX, 0, NULL, 0);
		}
		sched_yield();
	}
	for (int i = 0; i < n; i++) {
		pthread_join(ws[i].th, NULL);
		ok &= ws[i].ret == 0;
	}
	printf("  %s: %d waiters all returned 0: %s\n", what, n, ok ? "yes" : "no");
}

/* --- the cases ------------------------------------------------------------ */

static void wake_counts(void)
{
	struct waiter ws[5];

	printf("FUTEX_WAKE:\n");
	start(ws, 5, NULL, 0, &W->a);
	show("WAKE val 0 (wakes one anyway)", futex(&W->a, FUTEX_WAKE | PRIV, 0, 0, NULL, 0));
	show("WAKE val 2", futex(&W->a, FUTEX_WAKE | PRIV, 2, 0, NULL, 0));
	show("WAKE val INT_MAX", futex(&W->a, FUTEX_WAKE | PRIV, INT_MAX, 0, NULL, 0));
	show("WAKE with nobody waiting", futex(&W->a, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	join_all("WAKE", ws, 5);

	start(ws, 2, NULL, 0, &W->a);
	show("WAKE val -1 (as int: wakes one)", futex(&W->a, FUTEX_WAKE | PRIV, -1, 0, NULL, 0));
	show("WAKE val 1", futex(&W->a, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	join_all("WAKE", ws, 2);
}

static void wake_bitset(void)
{
	static const uint32_t bits[4] = { 1, 2, 4, 3 };
	struct waiter ws[4];

	printf("FUTEX_WAKE_BITSET:\n");
	start(ws, 4, bits, 0, &W->a);
	show("WAKE_BITSET all, bitset 2", futex(&W->a, FUTEX_WAKE_BITSET | PRIV, INT_MAX, 0, NULL, 2));
	wait_done(ws, 4, 2);
	printf("  woken: bitsets");
	for (int i = 0; i < 4; i++)
		if (ws[i].done)
			printf(" %u", ws[i].bitset);
	printf("\n");
	show("WAKE_BITSET all, bitset 0", futex(&W->a, FUTEX_WAKE_BITSET | PRIV, INT_MAX, 0, NULL, 0));
	show("WAKE_BITSET all, bitset 8 (nobody)", futex(&W->a, FUTEX_WAKE_BITSET | PRIV, INT_MAX, 0, NULL, 8));
	show("WAKE_BITSET 1, bitset 4", futex(&W->a, FUTEX_WAKE_BITSET | PRIV, 1, 0, NULL, 4));
	wait_done(ws, 4, 3);
	show("WAKE (any bitset) the last", futex(&W->a, FUTEX_WAKE | PRIV, INT_MAX, 0, NULL, 0));
	join_all("WAKE_BITSET", ws, 4);
}

static void requeue(void)
{
	struct waiter ws[5];

	printf("FUTEX_REQUEUE / FUTEX_CMP_REQUEUE:\n");
	start(ws, 5, NULL, 0, &W->a);
	show("REQUEUE a->b wake 0 requeue 0", futex(&W->a, FUTEX_REQUEUE | PRIV, 0, 0, &W->b, 0));
	show("REQUEUE a->b wake 1 requeue 2", futex(&W->a, FUTEX_REQUEUE | PRIV, 1, 2, &W->b, 0));
	W->a = 7;
	show("CMP_REQUEUE a->b, val3 wrong", futex(&W->a, FUTEX_CMP_REQUEUE | PRIV, 1, 1, &W->b, 6));
	show("CMP_REQUEUE a->b wake 0 requeue 1, val3 right",
	     futex(&W->a, FUTEX_CMP_REQUEUE | PRIV, 0, 1, &W->b, 7));
	W->a = 0;
	show("REQUEUE requeue -1", futex(&W->a, FUTEX_REQUEUE | PRIV, 1, -1, &W->b, 0));
	show("REQUEUE wake -1", futex(&W->a, FUTEX_REQUEUE | PRIV, -1, 1, &W->b, 0));
	show("CMP_REQUEUE from NULL", futex(NULL, FUTEX_CMP_REQUEUE | PRIV, 1, 1, &W->b, 0));
	show("REQUEUE to an unaligned word", futex(&W->a, FUTEX_REQUEUE | PRIV, 1, 1,
						    (char *)&W->b + 1, 0));
	show("WAKE a (left there)", futex(&W->a, FUTEX_WAKE | PRIV, INT_MAX, 0, NULL, 0));
	show("WAKE b (moved there)", futex(&W->b, FUTEX_WAKE | PRIV, INT_MAX, 0, NULL, 0));
	join_all("REQUEUE", ws, 5);
}

/* WAKE_OP: one waiter on w2 shows whether the comparison held. */
static struct waiter opw;

static void wake_op_case(const char *name, uint32_t before, uint32_t encoded)
{
	opw.done = 0;
	opw.word = &W->w2;
	W->w2 = 0;
	pthread_create(&opw.th, NULL, waiter_fn, &opw);
	park(&W->w2, 1, 0);
	W->w2 = before;
	long r = futex(&W->w1, FUTEX_WAKE_OP | PRIV, 1, 1, &W->w2, encoded);
	long rest = futex(&W->w2, FUTEX_WAKE | PRIV, 1, 0, NULL, 0);
	while (!__atomic_load_n(&opw.done, __ATOMIC_SEQ_CST)) {
		futex(&W->w2, FUTEX_WAKE | PRIV, 1, 0, NULL, 0);
		sched_yield();
	}
	pthread_join(opw.th, NULL);
	printf("%-40s %#10x -> %#10x  ret %-6s w2 woken %s\n", name, before, W->w2, res(r),
	       rest == 0 ? "yes" : "no");
}

#define OP(op, oparg, cmp, cmparg) FUTEX_OP((op), (oparg), (cmp), (cmparg))

static void wake_op(void)
{
	printf("FUTEX_WAKE_OP:\n");
	opw.bitset = FUTEX_BITSET_MATCH_ANY;
	wake_op_case("SET 5, CMP_EQ 3", 3, OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 3));
	wake_op_case("SET 5, CMP_EQ 4", 3, OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 4));
	wake_op_case("ADD 1, CMP_NE 3", 3, OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_NE, 3));
	wake_op_case("ADD 1, CMP_NE 4", 3, OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_NE, 4));
	wake_op_case("ADD -1 (0xfff), CMP_LT 0", 0, OP(FUTEX_OP_ADD, 0xfff, FUTEX_OP_CMP_LT, 0));
	wake_op_case("ADD 1, CMP_LT 0 (old -1)", 0xffffffff, OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_LT, 0));
	wake_op_case("ADD 1, CMP_LT -1 (old -1)", 0xffffffff,
		     OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_LT, 0xfff));
	wake_op_case("OR 0x30, CMP_LE 5", 5, OP(FUTEX_OP_OR, 0x30, FUTEX_OP_CMP_LE, 5));
	wake_op_case("OR 0x30, CMP_LE 4", 5, OP(FUTEX_OP_OR, 0x30, FUTEX_OP_CMP_LE, 4));
	wake_op_case("ANDN 0xf, CMP_GT 0x7ff", 0x1234, OP(FUTEX_OP_ANDN, 0xf, FUTEX_OP_CMP_GT, 0x7ff));
	wake_op_case("ANDN 0xf, CMP_GT -2048 (old negative)", 0x80000000,
		     OP(FUTEX_OP_ANDN, 0xf, FUTEX_OP_CMP_GT, 0x800));
	wake_op_case("XOR 0xff, CMP_GE 9", 9, OP(FUTEX_OP_XOR, 0xff, FUTEX_OP_CMP_GE, 9));
	wake_op_case("XOR 0xff, CMP_GE 10", 9, OP(FUTEX_OP_XOR, 0xff, FUTEX_OP_CMP_GE, 10));
	wake_op_case("SET 1<<4 (OPARG_SHIFT), CMP_EQ 0", 0,
		     OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_EQ, 0));
	wake_op_case("OR 1<<31 (OPARG_SHIFT), CMP_NE 0", 1,
		     OP(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 31, FUTEX_OP_CMP_NE, 0));
	wake_op_case("SET 1<<(40&31) (OPARG_SHIFT), CMP_EQ 0", 0,
		     OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 40, FUTEX_OP_CMP_EQ, 0));
	wake_op_case("op 5 (unknown)", 3, OP(5, 1, FUTEX_OP_CMP_EQ, 3));
	wake_op_case("op 7 (unknown)", 3, OP(7, 1, FUTEX_OP_CMP_EQ, 3));
	wake_op_case("SET 9, cmp 6 (unknown: the op is done)", 3, OP(FUTEX_OP_SET, 9, 6, 3));
	wake_op_case("SET 9, cmp 15 (unknown)", 3, OP(FUTEX_OP_SET, 9, 15, 3));

	/* A waiter on w1 too: it is woken whatever the comparison says. */
	struct waiter ws[1];
	W->w1 = 0;
	start(ws, 1, NULL, 0, &W->w1);
	W->w1 = W->w2 = 1;
	show("WAKE_OP w1 waiter, w2 SET 2 CMP_EQ 0 (false)",
	     futex(&W->w1, FUTEX_WAKE_OP | PRIV, 1, 1, &W->w2, OP(FUTEX_OP_SET, 2, FUTEX_OP_CMP_EQ, 0)));
	join_all("WAKE_OP", ws, 1);
	show("WAKE_OP uaddr2 read-only", futex(&W->w1, FUTEX_WAKE_OP | PRIV, 1, 1, rdonly,
					       OP(FUTEX_OP_SET, 2, FUTEX_OP_CMP_EQ, 0)));
	show("WAKE_OP uaddr2 NULL", futex(&W->w1, FUTEX_WAKE_OP | PRIV, 1, 1, NULL,
					  OP(FUTEX_OP_SET, 2, FUTEX_OP_CMP_EQ, 0)));
	show("WAKE_OP uaddr2 unaligned", futex(&W->w1, FUTEX_WAKE_OP | PRIV, 1, 1,
					       (char *)&W->w2 + 2, 0));
}

static long ns_of(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void timed(const char *what, int op, uint32_t val, long rel_ns, clockid_t abs_clock,
		  long min_ns)
{
	struct timespec ts;
	long start = ns_of(CLOCK_MONOTONIC);
	long t = abs_clock == (clockid_t)-1 ? rel_ns : ns_of(abs_clock) + rel_ns;
	ts.tv_sec = t / 1000000000L;
	ts.tv_nsec = t % 1000000000L;
	long r = futex(&W->a, op, val, (long)&ts, NULL, FUTEX_BITSET_MATCH_ANY);
	long took = ns_of(CLOCK_MONOTONIC) - start;
	printf("%-58s %s%s\n", what, res(r),
	       r == -ETIMEDOUT ? (took >= min_ns ? ", at least the timeout went by" : ", too early")
	       : "");
}

static void timeouts(void)
{
	struct timespec bad_nsec = { 0, 1000000000L }, neg = { -1, 0 }, ok = { 0, MS };

	printf("timeouts:\n");
	W->a = 0;
	timed("WAIT relative 20 ms", FUTEX_WAIT | PRIV, 0, 20 * MS, (clockid_t)-1, 20 * MS);
	timed("WAIT relative 0", FUTEX_WAIT | PRIV, 0, 0, (clockid_t)-1, 0);
	timed("WAIT relative 20 ms, shared", FUTEX_WAIT, 0, 20 * MS, (clockid_t)-1, 20 * MS);
	timed("WAIT_BITSET absolute CLOCK_MONOTONIC +20 ms", FUTEX_WAIT_BITSET | PRIV, 0, 20 * MS,
	      CLOCK_MONOTONIC, 20 * MS);
	timed("WAIT_BITSET absolute CLOCK_MONOTONIC 1 ns (past)", FUTEX_WAIT_BITSET | PRIV, 0,
	      1, (clockid_t)-1, 0);
	timed("WAIT_BITSET|CLOCK_REALTIME absolute +20 ms",
	      FUTEX_WAIT_BITSET | PRIV | FUTEX_CLOCK_REALTIME, 0, 20 * MS, CLOCK_REALTIME, 20 * MS);
	timed("WAIT_BITSET|CLOCK_REALTIME absolute 0 (1970)",
	      FUTEX_WAIT_BITSET | PRIV | FUTEX_CLOCK_REALTIME, 0, 0, (clockid_t)-1, 0);
	timed("WAIT|CLOCK_REALTIME relative 20 ms", FUTEX_WAIT | PRIV | FUTEX_CLOCK_REALTIME, 0,
	      20 * MS, (clockid_t)-1, 20 * MS);
	timed("WAIT relative 20 ms, wrong value", FUTEX_WAIT | PRIV, 1, 20 * MS, (clockid_t)-1, 0);
	show("WAIT timeout tv_nsec 1e9", futex(&W->a, FUTEX_WAIT | PRIV, 0, (long)&bad_nsec, NULL, 0));
	show("WAIT timeout tv_sec -1", futex(&W->a, FUTEX_WAIT | PRIV, 0, (long)&neg, NULL, 0));
	show("WAIT timeout tv_nsec 1e9, wrong value",
	     futex(&W->a, FUTEX_WAIT | PRIV, 1, (long)&bad_nsec, NULL, 0));
	show("WAIT timeout bad pointer", futex(&W->a, FUTEX_WAIT | PRIV, 0, 8, NULL, 0));
	show("WAIT timeout bad pointer, unaligned word",
	     futex((char *)&W->a + 1, FUTEX_WAIT | PRIV, 0, 8, NULL, 0));
	show("WAIT_BITSET timeout tv_nsec 1e9, bitset 0",
	     futex(&W->a, FUTEX_WAIT_BITSET | PRIV, 0, (long)&bad_nsec, NULL, 0));
	show("WAIT|CLOCK_REALTIME timeout bad pointer",
	     futex(&W->a, FUTEX_WAIT | PRIV | FUTEX_CLOCK_REALTIME, 0, 8, NULL, 0));
	show("WAIT on a read-only page, 1 ms", futex(rdonly, FUTEX_WAIT | PRIV, 0, (long)&ok, NULL, 0));
	show("WAIT on a read-only page, 1 ms, shared", futex(rdonly, FUTEX_WAIT, 0, (long)&ok, NULL, 0));
}

static void errors(void)
{
	printf("errors:\n");
	W->a = 5;
	show("WAIT wrong value", futex(&W->a, FUTEX_WAIT | PRIV, 4, 0, NULL, 0));
	show("WAIT wrong value, shared", futex(&W->a, FUTEX_WAIT, 4, 0, NULL, 0));
	show("WAIT_BITSET wrong value", futex(&W->a, FUTEX_WAIT_BITSET | PRIV, 4, 0, NULL, 1));
	show("WAIT_BITSET bitset 0", futex(&W->a, FUTEX_WAIT_BITSET | PRIV, 5, 0, NULL, 0));
	show("WAIT_BITSET bitset 0, wrong value", futex(&W->a, FUTEX_WAIT_BITSET | PRIV, 4, 0, NULL, 0));
	show("WAIT NULL", futex(NULL, FUTEX_WAIT | PRIV, 0, 0, NULL, 0));
	show("WAIT NULL, shared", futex(NULL, FUTEX_WAIT, 0, 0, NULL, 0));
	show("WAIT kernel address", futex(KERNEL_ADDR, FUTEX_WAIT | PRIV, 0, 0, NULL, 0));
	show("WAIT PROT_NONE page", futex(noaccess, FUTEX_WAIT | PRIV, 0, 0, NULL, 0));
	show("WAIT PROT_NONE page, shared", futex(noaccess, FUTEX_WAIT, 0, 0, NULL, 0));
	show("WAIT unaligned", futex((char *)&W->a + 1, FUTEX_WAIT | PRIV, 0, 0, NULL, 0));
	show("WAIT unaligned NULL+2", futex((void *)2, FUTEX_WAIT | PRIV, 0, 0, NULL, 0));
	show("WAKE unaligned", futex((char *)&W->a + 2, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	show("WAKE NULL", futex(NULL, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	show("WAKE NULL, shared", futex(NULL, FUTEX_WAKE, 1, 0, NULL, 0));
	show("WAKE kernel address", futex(KERNEL_ADDR, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	show("WAKE PROT_NONE page", futex(noaccess, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	show("WAKE PROT_NONE page, shared", futex(noaccess, FUTEX_WAKE, 1, 0, NULL, 0));
	show("WAKE_BITSET bitset 0", futex(&W->a, FUTEX_WAKE_BITSET | PRIV, 1, 0, NULL, 0));
	show("WAKE|CLOCK_REALTIME", futex(&W->a, FUTEX_WAKE | PRIV | FUTEX_CLOCK_REALTIME, 1, 0, NULL, 0));
	show("REQUEUE|CLOCK_REALTIME", futex(&W->a, FUTEX_REQUEUE | FUTEX_CLOCK_REALTIME, 1, 0, &W->b, 0));
	show("op 14 (unknown)", futex(&W->a, 14 | PRIV, 1, 0, NULL, 0));
	show("op 20 (unknown)", futex(&W->a, 20, 1, 0, NULL, 0));
	show("op 127 (unknown)", futex(&W->a, 127, 1, 0, NULL, 0));
	show("op 127|CLOCK_REALTIME", futex(&W->a, 127 | FUTEX_CLOCK_REALTIME, 1, 0, NULL, 0));
	show("op 0x200 (WAIT with bit 9)", futex(&W->a, 0x200, 4, 0, NULL, 0));
	show("FUTEX_FD (2, removed)", futex(&W->a, FUTEX_FD, 0, 0, NULL, 0));
	W->a = 0;
}

/* A private waiter and a shared waiter on the same word do not meet. */
static void keys(void)
{
	struct waiter ws[1];

	printf("private and shared keys:\n");
	start(ws, 1, NULL, 0, &W->a);
	show("private waiter: WAKE (shared)", futex(&W->a, FUTEX_WAKE, 1, 0, NULL, 0));
	show("private waiter: WAKE_PRIVATE", futex(&W->a, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	join_all("private", ws, 1);
	start(ws, 1, NULL, 1, &W->a);
	show("shared waiter: WAKE_PRIVATE", futex(&W->a, FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	show("shared waiter: WAKE (shared)", futex(&W->a, FUTEX_WAKE, 1, 0, NULL, 0));
	join_all("shared", ws, 1);
}

/* Parent and child meet on a MAP_SHARED page; on a private page (even
 * one the two still share copy-on-write) they never do. */
static void cross_process(void)
{
	uint32_t *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;

	printf("across fork:\n");
	sh[0] = sh[1] = 0;
	pid_t pid = fork();
	if (pid == 0) {
		long r;
		do      /* sh[1] says when the wake is meant (spurious wake-ups) */
			r = futex(&sh[0], FUTEX_WAIT, 0, 0, NULL, 0);
		while (r == 0 && !__atomic_load_n(&sh[1], __ATOMIC_SEQ_CST));
		_exit(r == 0 ? 0 : 1);
	}
	long seen;
	while ((seen = futex(&sh[0], FUTEX_CMP_REQUEUE, 0, INT_MAX, &sh[0], 0)) == 0)
		sched_yield();
	show("MAP_SHARED: child seen asleep by the parent", seen);
	show("MAP_SHARED: WAKE_PRIVATE from the parent", futex(&sh[0], FUTEX_WAKE | PRIV, 1, 0, NULL, 0));
	__atomic_store_n(&sh[1], 1, __ATOMIC_SEQ_CST);
	show("MAP_SHARED: WAKE from the parent", futex(&sh[0], FUTEX_WAKE, 1, 0, NULL, 0));
	waitpid(pid, &status, 0);
	printf("  child's wait returned 0: %s\n", WIFEXITED(status) && !WEXITSTATUS(status) ? "yes" : "no");

	W->w1 = 0;                  /* private, and written: copy-on-write after fork */
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 100 * MS };
		long r = futex(&W->w1, FUTEX_WAIT, 0, (long)&ts, NULL, 0);
		_exit(r == -ETIMEDOUT ? 0 : 1);
	}
	struct timespec nap = { 0, 20 * MS };
	nanosleep(&nap, NULL);
	show("MAP_PRIVATE: WAKE from the parent", futex(&W->w1, FUTEX_WAKE, 1, 0, NULL, 0));
	waitpid(pid, &status, 0);
	printf("  child's wait timed out: %s\n", WIFEXITED(status) && !WEXITSTATUS(status) ? "yes" : "no");
	munmap(sh, 4096);
}

/* --- robust futexes ----------------------------------------------------- */

static pthread_mutex_t rm;
static volatile int holding;

static void *die_holding(void *arg)
{
	pthread_mutex_lock(&rm);
	holding = 1;
	if (arg) {                  /* let the main thread block on it first */
		struct timespec nap = { 0, 20 * MS };
		nanosleep(&nap, NULL);
	}
	return NULL;                /* exits without unlocking */
}

static void robust_mutexes(void)
{
	pthread_mutexattr_t at;
	pthread_t th;

	printf("robust mutexes:\n");
	pthread_mutexattr_init(&at);
	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rm, &at);

	pthread_create(&th, NULL, die_holding, NULL);
	pthread_join(th, NULL);
	show("lock after the owner died", -pthread_mutex_lock(&rm));
	show("pthread_mutex_consistent", -pthread_mutex_consistent(&rm));
	show("unlock", -pthread_mutex_unlock(&rm));
	show("lock again", -pthread_mutex_lock(&rm));
	show("unlock", -pthread_mutex_unlock(&rm));

	holding = 0;
	pthread_create(&th, NULL, die_holding, (void *)1);
	while (!holding)
		sched_yield();
	int r = pthread_mutex_lock(&rm);
	show("lock blocked while the owner died", -r);
	pthread_join(th, NULL);
	show("unlock without consistent", -pthread_mutex_unlock(&rm));
	show("lock: not recoverable", -pthread_mutex_lock(&rm));

	/* Process-shared, in MAP_SHARED memory: the child dies holding it. */
	pthread_mutex_t *pm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				   -1, 0);
	pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(pm, &at);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(pm);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	show("pshared: lock after the child died holding it", -pthread_mutex_lock(pm));
	pthread_mutex_consistent(pm);
	pthread_mutex_unlock(pm);
	munmap(pm, 4096);
}

/* The robust list by hand: a thread registers its own list and exits. */
struct rentry {
	struct rentry *next;
	uint32_t word;
};
static struct {
	struct robust_list_head head;
	struct rentry e[4];
} R;

static void *raw_robust(void *arg)
{
	uint32_t tid = (uint32_t)gettid();

	R.head.list.next = (struct robust_list *)&R.e[0];
	R.e[0].next = &R.e[1];
	R.e[1].next = (struct rentry *)((uintptr_t)&R.e[2] | 1);   /* a PI entry next */
	R.e[2].next = (struct rentry *)&R.head;
	R.head.futex_offset = offsetof(struct rentry, word);
	R.head.list_op_pending = (struct robust_list *)&R.e[3];
	R.e[0].word = tid | FUTEX_WAITERS;
	R.e[1].word = 12345;        /* someone else's */
	R.e[2].word = tid;          /* PI: marked, not woken here */
	R.e[3].word = tid;          /* pending */
	syscall(SYS_set_robust_list, &R.head, sizeof R.head);
	syscall(SYS_exit, 0);       /* no glibc exit path: only the kernel walks it */
	return NULL;
}

static void robust_raw(void)
{
	struct robust_list_head *h = NULL, *mine = NULL;
	size_t len = 0;
	pthread_t th;

	printf("robust lists by hand:\n");
	show("set_robust_list len 23", syscall(SYS_set_robust_list, &R.head, 23) ? -errno : 0);
	show("set_robust_list len 32", syscall(SYS_set_robust_list, &R.head, 32) ? -errno : 0);
	long r = syscall(SYS_get_robust_list, 0, &mine, &len);
	show("get_robust_list(0)", r ? -errno : 0);
	printf("  len %zu, head set: %s\n", len, mine ? "yes" : "no");
	show("set_robust_list(NULL, 24)", syscall(SYS_set_robust_list, NULL, 24) ? -errno : 0);
	syscall(SYS_get_robust_list, 0, &h, &len);
	printf("  get_robust_list gives NULL back: %s\n", h == NULL ? "yes" : "no");
	syscall(SYS_set_robust_list, mine, 24);
	syscall(SYS_get_robust_list, 0, &h, &len);
	printf("  and the old head back: %s\n", h == mine ? "yes" : "no");
	show("get_robust_list(-1)", syscall(SYS_get_robust_list, -1, &h, &len) ? -errno : 0);
	show("get_robust_list head_ptr NULL", syscall(SYS_get_robust_list, 0, NULL, &len) ? -errno : 0);
	show("get_robust_list len_ptr NULL", syscall(SYS_get_robust_list, 0, &h, NULL) ? -errno : 0);

	pthread_create(&th, NULL, raw_robust, NULL);
	pthread_join(th, NULL);
	printf("  after the thread died: owned+waiters %#x, other owner's %u, PI %#x, pending %#x\n",
	       R.e[0].word, R.e[1].word, R.e[2].word, R.e[3].word);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	W = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rdonly = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(W, 0, sizeof *W);

	wake_counts();
	wake_bitset();
	requeue();
	wake_op();
	timeouts();
	errors();
	keys();
	cross_process();
	robust_mutexes();
	robust_raw();
	return 0;
}
