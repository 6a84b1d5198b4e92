/* Compacted checkpoints (core/snap_delta.c): an older checkpoint kept as the pages in
 * which it differs from a newer one. Each test takes A, changes the program, takes B,
 * compacts A onto B, and checks that restoring A brings back A's state exactly and that
 * the program then runs to its normal end. Harness: snap_harness.h. */
#include "snap_harness.h"

#include <sys/mman.h>

static int count_ckpts(void)
{
	int n = 0;
	for (struct proc *p = tg.procs; p; p = p->next)
		n += p->snapshot && !p->dead;
	return n;
}

/* Compact a onto b; skips the test where page frame numbers are hidden. */
static void compact(struct snapshot *a, struct snapshot *b)
{
	struct sbuf why = { 0 };
	int e = snap_compact(&tg, a, b, true, &why);
	if (e == -EPERM)
		cr_skip_test("page frame numbers are hidden: %s", sbuf_str(&why));
	cr_assert_eq(e, 0, "snap_compact: %s: %s", strerror(-e), sbuf_str(&why));
	cr_assert(snap_compacted(a));
	cr_assert_not(snap_compacted(b));
	cr_assert(snap_alive(a));
	sbuf_free(&why);
}

static uint64_t read_u64(pid_t pid, uint64_t addr)
{
	uint64_t v = 0;
	cr_assert_eq(proc_read(target_find_proc(&tg, pid), RADDR(addr), &v, 8), 0);
	return v;
}

static void write_u64(pid_t pid, uint64_t addr, uint64_t v)
{
	cr_assert_eq(proc_write(target_find_proc(&tg, pid), RADDR(addr), &v, 8), 0);
}

/* Memory, registers, extended state and breakpoint sites come back from a compacted
 * checkpoint; its process is gone, the newer one's stays until the last user goes. */
Test(compact, registers_memory_and_sites, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_regs");
	pid_t pid = p->pid;
	uint64_t a = sym_addr(p, "snap_regs", "marker_a"), b = sym_addr(p, "snap_regs", "marker_b");
	uint64_t counter = sym_addr(p, "snap_regs", "counter");
	run_to_trap();
	struct task *t = leader(pid);
	struct user_regs_struct *r, saved_regs;
	cr_assert_eq(task_get_regs(t, &r), 0);
	saved_regs = *r;
	uint8_t *xs, a_orig, b_orig, byte;
	size_t xl;
	cr_assert_eq(task_get_xstate(t, &xs, &xl), 0);
	uint8_t *saved_xs = malloc(xl);
	memcpy(saved_xs, xs, xl);
	cr_assert_eq(proc_read(p, RADDR(a), &a_orig, 1), 0);
	cr_assert_eq(proc_read(p, RADDR(b), &b_orig, 1), 0);
	cr_assert_eq(proc_bp_insert(p, a), 0);
	struct snapshot *sa = take(NULL);
	int procs_before = count_ckpts();

	/* Another state: other site, memory, registers and vector registers. */
	cr_assert_eq(proc_bp_remove(p, a), 0);
	cr_assert_eq(proc_bp_insert(p, b), 0);
	memset(xs + FX_XMM(0), 0xee, 16 * 16);
	t->xs_dirty = true;
	write_u64(pid, counter, 555);
	r->r15 ^= 0x5a5a;
	t->regs_dirty = true;
	struct snapshot *sb = take(NULL);
	compact(sa, sb);
	cr_assert_eq(count_ckpts(), procs_before, "A's process went, B's came");

	restore(sa);
	t = leader(pid);
	p = target_find_proc(&tg, pid);
	cr_assert_eq(task_get_regs(t, &r), 0);
	cr_assert_eq(r->rip, saved_regs.rip);
	cr_assert_eq(r->rsp, saved_regs.rsp);
	cr_assert_eq(r->r15, saved_regs.r15);
	cr_assert_eq(task_get_xstate(t, &xs, &xl), 0);
	cr_assert_eq(memcmp(xs + FX_ST(0), saved_xs + FX_ST(0), 8 * 16 + 16 * 16), 0,
		     "x87 and xmm");
	cr_assert_eq(read_u64(pid, counter), 100, "memory as in A");
	cr_assert_not_null(proc_bp_find(p, a));
	cr_assert_null(proc_bp_find(p, b));
	cr_assert_eq(proc_read_raw(p, RADDR(a), &byte, 1), 0);
	cr_assert_eq(byte, 0xcc, "A's int3 in the text");
	cr_assert_eq(proc_read_raw(p, RADDR(b), &byte, 1), 0);
	cr_assert_eq(byte, b_orig, "B's int3 is not");

	/* B goes first: its process stays for A. */
	snap_drop(&tg, sb);
	cr_assert(snap_alive(sa));
	restore(sa);
	p = target_find_proc(&tg, pid);
	struct outcome oc = run();
	cr_assert_eq(oc.ev.kind, TEV_BREAKPOINT);
	cr_assert_eq(oc.ev.addr, a);
	cr_assert_eq(proc_bp_remove(p, a), 0);
	run_to_trap();
	run_to_exit(pid, 0);
	char *text = output(), want[128];
	snprintf(want, sizeof want, "start avx512=%d\nvectors ok\nx87 ok\nmemory ok\n"
		 "done counter=203\n", __builtin_cpu_supports("avx512f") != 0);
	cr_assert_str_eq(text, want);
	free(text);
	snap_drop(&tg, sa);
	cr_assert_eq(count_ckpts(), 0, "both processes went with A");
	free(saved_xs);
}

/* A chain A -> B -> C: each restores its own memory (a page absent in A is absent
 * again); dropping the middle one hands its pages to A. */
Test(compact, chain_and_drop_in_the_middle, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_regs");
	pid_t pid = p->pid;
	uint64_t counter = sym_addr(p, "snap_regs", "counter");
	run_to_trap();
	/* A stack page the program never touched: absent in the first checkpoint (a hole
	 * of its delta), written before the second. */
	struct user_regs_struct *r;
	cr_assert_eq(task_get_regs(leader(pid), &r), 0);
	uint64_t deep = (r->rsp & ~4095ull) - 16 * 4096, in_stack = 0;
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f)) {
		unsigned long long lo, hi;
		if (strstr(line, "[stack]") && sscanf(line, "%llx-%llx", &lo, &hi) == 2)
			in_stack = deep >= lo && deep < hi;
	}
	if (f)
		fclose(f);
	struct snapshot *s[3];
	for (int i = 0; i < 3; i++) {
		write_u64(pid, counter, 1000 + (uint64_t)i);
		s[i] = take(NULL);
		if (i == 0 && in_stack)
			write_u64(pid, deep, 0x77);
	}
	compact(s[0], s[1]);
	compact(s[1], s[2]);
	cr_assert_eq(count_ckpts(), 1, "one process for three checkpoints");
	for (int i = 2; i >= 0; i--) {
		restore(s[i]);
		cr_assert_eq(read_u64(pid, counter), 1000 + (uint64_t)i, "checkpoint %d", i);
		if (in_stack)
			cr_assert_eq(read_u64(pid, deep), i ? 0x77 : 0, "checkpoint %d: stack page", i);
	}
	snap_drop(&tg, s[1]);
	restore(s[0]);
	cr_assert_eq(read_u64(pid, counter), 1000);
	if (in_stack)
		cr_assert_eq(read_u64(pid, deep), 0, "the hole survives the merge");
	restore(s[2]);
	cr_assert_eq(read_u64(pid, counter), 1002);
	restore(s[0]);
	write_u64(pid, counter, 100);
	run_to_trap();
	run_to_exit(pid, 0);
	snap_drop(&tg, s[0]);
	snap_drop(&tg, s[2]);
}

/* Seven threads, some blocked in syscalls: they come back from A's saved state on B's
 * process, and the program finishes correctly. */
Test(compact, threads_blocked_in_syscalls, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_threads");
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *sa = take(NULL), *sb = take(NULL);
	compact(sa, sb);
	run_to_trap();                          /* the live run */
	restore(sa);
	p = target_find_proc(&tg, pid);
	cr_assert_eq(proc_live_tasks(p), 7);
	run_to_trap();
	run_to_exit(pid, 0);
	char *text = output();
	cr_assert_str_eq(text, "start\nt1 cond_wait: ok\nt2 read: ok\nt3 nanosleep: ok\n"
			 "t4 spin: ok\nt5 cond_timedwait: ok\nt6 handler on altstack: ok\n"
			 "joined all\n");
	free(text);
	snap_drop(&tg, sa);
	snap_drop(&tg, sb);
}

/* Refused, and nothing changes, when the processes differ outside memory. */
Test(compact, refused_when_mappings_differ, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_regs");
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *sa = take(NULL);
	int64_t ret;
	cr_assert_eq(inject_syscall6(&tg, leader(pid), SYS_mmap, &ret, 0, 4096,
				     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				     (uint64_t)-1, 0), 0);
	cr_assert_gt(ret, 0);
	struct snapshot *sb = take(NULL);
	struct sbuf why = { 0 };
	cr_assert_eq(snap_compact(&tg, sa, sb, true, &why), -EXDEV);
	cr_assert(strstr(sbuf_str(&why), "maps differ"), "%s", sbuf_str(&why));
	cr_assert_not(snap_compacted(sa));
	cr_assert_eq(count_ckpts(), 2);
	sbuf_free(&why);
	restore(sa);
	run_to_trap();
	run_to_exit(pid, 0);
	snap_drop(&tg, sa);
	snap_drop(&tg, sb);
}

/* The newer checkpoint's process killed from outside: the compacted one says so. */
Test(compact, base_process_killed, .init = setup, .fini = teardown)
{
	ckpt_may_die = true;
	struct proc *p = launch("snap_regs");
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *sa = take(NULL), *sb = take(NULL);
	compact(sa, sb);
	for (struct proc *c = tg.procs; c; c = c->next)
		if (c->snapshot && !c->dead)
			kill(c->pid, SIGKILL);
	usleep(100000);
	cr_assert_not(snap_alive(sa));
	struct sbuf pb = { 0 };
	cr_assert_eq(snap_restore(&tg, sa, &pb), -ESRCH);
	cr_assert(strstr(sbuf_str(&pb), "is gone"), "%s", sbuf_str(&pb));
	sbuf_free(&pb);
	cr_assert_not_null(target_find_proc(&tg, pid), "the program is untouched");
	snap_drop(&tg, sa);
	snap_drop(&tg, sb);
}
