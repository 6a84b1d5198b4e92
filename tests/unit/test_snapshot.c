/* Snapshots against real processes. Each test runs a tests/progs/snap_*.c debuggee to
 * its trap 1, checkpoints, lets it run on (changing what the checkpoint must bring
 * back), restores, checks the restored state from here, and lets the program run to
 * the end: its own output (it prints what it checked) and exit code must be right. */
#include "snap_harness.h"

/* ---- 1. one thread: memory, registers, xstate, stop location, breakpoint sites ---- */

Test(snapshot, registers_memory_and_sites, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_regs");
	pid_t pid = p->pid;
	uint64_t a = sym_addr(p, "snap_regs", "marker_a"), b = sym_addr(p, "snap_regs", "marker_b");
	uint64_t counter = sym_addr(p, "snap_regs", "counter");
	run_to_trap();                                       /* trap 1, in the asm block */
	struct task *t = leader(pid);
	struct user_regs_struct *r, saved_regs;
	cr_assert_eq(task_get_regs(t, &r), 0);
	saved_regs = *r;
	uint8_t *xs;
	size_t xl;
	cr_assert_eq(task_get_xstate(t, &xs, &xl), 0);
	uint8_t *saved_xs = malloc(xl);
	memcpy(saved_xs, xs, xl);
	uint8_t a_orig, b_orig, byte;
	cr_assert_eq(proc_read(p, RADDR(a), &a_orig, 1), 0);
	cr_assert_eq(proc_read(p, RADDR(b), &b_orig, 1), 0);
	cr_assert_eq(proc_bp_insert(p, a), 0);               /* a site at checkpoint time */

	struct snap_opts o = { .files = true };
	struct snapshot *s = take(&o);
	cr_assert(snap_alive(s));
	cr_assert_null(snap_marks(s));

	/* Change everything the checkpoint must bring back. */
	cr_assert_eq(proc_bp_remove(p, a), 0);
	cr_assert_eq(proc_bp_insert(p, b), 0);
	memset(xs + FX_XMM(0), 0xee, 16 * 16);
	const struct xsave_layout *xl_ = regs_xsave_layout();
	if (xl_->avx_off)
		memset(xs + xl_->avx_off, 0xee, 16 * 16);
	if (xl_->hi16_off)
		memset(xs + xl_->hi16_off, 0xee, 16 * 64);
	t->xs_dirty = true;
	uint64_t junk = 555;
	cr_assert_eq(proc_write(p, RADDR(counter), &junk, 8), 0);
	struct outcome oc = run();                            /* the live run hits b */
	cr_assert_eq(oc.ev.kind, TEV_BREAKPOINT);
	cr_assert_eq(oc.ev.addr, b);
	cr_assert_eq(proc_bp_remove(p, b), 0);
	run_to_trap();                                        /* trap 2 */
	char *text = output();
	cr_assert(strstr(text, "FAIL"), "the clobbering showed in the live run: %s", text);
	free(text);

	restore(s);
	p = target_find_proc(&tg, pid);
	cr_assert_not_null(p, "restored with the same pid");
	t = leader(pid);
	cr_assert_eq(task_get_regs(t, &r), 0);
	cr_assert_eq(r->rip, saved_regs.rip, "stop location");
	cr_assert_eq(r->rsp, saved_regs.rsp);
	cr_assert_eq(r->rbp, saved_regs.rbp);
	cr_assert_eq(r->rax, saved_regs.rax);
	cr_assert_eq(r->r15, saved_regs.r15);
	cr_assert_eq(r->eflags & 0xcd5, saved_regs.eflags & 0xcd5);
	cr_assert_eq(r->fs_base, saved_regs.fs_base);
	cr_assert_eq(r->gs_base, saved_regs.gs_base);
	cr_assert_eq(task_get_xstate(t, &xs, &xl), 0);
	cr_assert_eq(memcmp(xs + FX_ST(0), saved_xs + FX_ST(0), 8 * 16 + 16 * 16), 0,
		     "x87 and xmm");
	if (xl_->avx_off)
		cr_assert_eq(memcmp(xs + xl_->avx_off, saved_xs + xl_->avx_off, 256), 0, "ymm");
	if (xl_->hi16_off)
		cr_assert_eq(memcmp(xs + xl_->hi16_off, saved_xs + xl_->hi16_off, 1024), 0,
			     "zmm16-31");
	if (xl_->k_off)
		cr_assert_eq(memcmp(xs + xl_->k_off, saved_xs + xl_->k_off, 64), 0, "opmasks");
	uint64_t cval;
	cr_assert_eq(proc_read(p, RADDR(counter), &cval, 8), 0);
	cr_assert_eq(cval, 100, "memory as it was");
	/* Sites: the checkpoint's, matching memory. */
	cr_assert_not_null(proc_bp_find(p, a));
	cr_assert_null(proc_bp_find(p, b));
	cr_assert_eq(proc_read_raw(p, RADDR(a), &byte, 1), 0);
	cr_assert_eq(byte, 0xcc);
	cr_assert_eq(proc_read_raw(p, RADDR(b), &byte, 1), 0);
	cr_assert_eq(byte, b_orig);
	cr_assert_eq(proc_read(p, RADDR(a), &byte, 1), 0);
	cr_assert_eq(byte, a_orig);

	oc = run();                                           /* the restored run hits a */
	cr_assert_eq(oc.ev.kind, TEV_BREAKPOINT);
	cr_assert_eq(oc.ev.addr, a);
	cr_assert_eq(proc_bp_remove(target_find_proc(&tg, pid), a), 0);
	run_to_trap();                                        /* trap 2 */
	run_to_exit(pid, 0);
	text = output();
	char want[128];
	snprintf(want, sizeof want, "start avx512=%d\nvectors ok\nx87 ok\nmemory ok\n"
		 "done counter=203\n", __builtin_cpu_supports("avx512f") != 0);
	cr_assert_str_eq(text, want);
	free(text);
	snap_drop(&tg, s);
	free(saved_xs);
}

/* ---- 2. every thread, some blocked in syscalls ---- */

struct tsave {
	pid_t tid;
	unsigned num;
	struct user_regs_struct regs;
	uint64_t mask;
	uint64_t rseq;
	uint64_t robust;
};

static size_t save_tasks(struct proc *p, struct tsave *v, size_t max)
{
	size_t n = 0;
	for (struct task *t = p->tasks; t && n < max; t = t->next) {
		if (t->state == TS_DEAD)
			continue;
		struct user_regs_struct *r;
		cr_assert_eq(task_get_regs(t, &r), 0);
		v[n].tid = t->tid;
		v[n].num = t->num;
		v[n].regs = *r;
		cr_assert_eq(task_get_sigmask(t, &v[n].mask), 0);
		struct __ptrace_rseq_configuration rc = { 0 };
		ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof rc, &rc);
		v[n].rseq = rc.rseq_abi_pointer;
		size_t len;
		cr_assert_eq(syscall(SYS_get_robust_list, t->tid, &v[n].robust, &len), 0);
		n++;
	}
	return n;
}

Test(snapshot, threads_blocked_in_syscalls, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_threads");
	pid_t pid = p->pid;
	run_to_trap();
	p = target_find_proc(&tg, pid);
	cr_assert_eq(proc_live_tasks(p), 7);
	struct tsave before[8], after[8];
	size_t n = save_tasks(p, before, 8);
	int restartsys = 0, restartblock = 0;
	for (size_t i = 0; i < n; i++) {
		restartsys += (int64_t)before[i].regs.rax == -512;
		restartblock += (int64_t)before[i].regs.rax == -516;
	}
	cr_assert_geq(restartsys, 2, "futex/read interrupted with -ERESTARTSYS");
	cr_assert_geq(restartblock, 2, "nanosleep/timed futex with -ERESTART_RESTARTBLOCK");

	struct snapshot *s = take(NULL);
	run_to_trap();                          /* the live run: woken, joined */
	char *text = output();
	cr_assert(strstr(text, "t5 cond_timedwait: ok"), "%s", text);
	free(text);

	restore(s);
	p = target_find_proc(&tg, pid);
	cr_assert_not_null(p);
	cr_assert_eq(proc_live_tasks(p), 7);
	cr_assert_eq(save_tasks(p, after, 8), n);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < n && after[j].tid != before[i].tid)
			j++;
		cr_assert_lt(j, n, "tid %d restored", before[i].tid);
		const struct user_regs_struct *b = &before[i].regs, *a = &after[j].regs;
		bool block = (int64_t)b->rax == -516;
		cr_assert_eq(a->rip, block ? b->rip - 2 : b->rip, "tid %d rip", b->rip);
		if (block)
			cr_assert_eq(a->rax, b->orig_rax, "re-executes its syscall");
		else
			cr_assert_eq(a->rax, b->rax);
		cr_assert_eq(a->rsp, b->rsp);
		cr_assert_eq(a->rdi, b->rdi);
		cr_assert_eq(a->fs_base, b->fs_base);
		cr_assert_eq(after[j].mask, before[i].mask, "tid %d mask", before[i].tid);
		cr_assert_eq(after[j].rseq, before[i].rseq, "tid %d rseq", before[i].tid);
		cr_assert_eq(after[j].robust, before[i].robust, "tid %d robust list", before[i].tid);
		cr_assert_eq(after[j].num, before[i].num, "thread numbers kept");
	}
	run_to_trap();                          /* trap 2 in the restored run */
	run_to_exit(pid, 0);
	text = output();
	cr_assert_str_eq(text, "start\nt1 cond_wait: ok\nt2 read: ok\nt3 nanosleep: ok\n"
			 "t4 spin: ok\nt5 cond_timedwait: ok\nt6 handler on altstack: ok\n"
			 "joined all\n");
	free(text);
	snap_drop(&tg, s);
}

/* ---- 3. a process tree joined by pipes ---- */

Test(snapshot, process_tree_with_pipes, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_tree");
	pid_t pid = p->pid;
	struct outcome o = run_to_trap();                  /* trap 1 in the parent */
	cr_assert_eq(o.ev.proc->pid, pid);
	pid_t child = 0;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (!q->dead && !q->snapshot && q->pid != pid)
			child = q->pid;
	cr_assert_neq(child, 0, "the child is traced");
	struct snap_opts so = { .files = true };
	struct snapshot *s = take(&so);

	/* The live run must finish too: the checkpoints hold no end of the pipes, so the
	 * child sees EOF. */
	o = run_to_trap();                                 /* trap 2 */
	cr_assert_eq(o.exits, 1);
	cr_assert_eq(o.pid[0], child);
	cr_assert(WIFEXITED(o.status[0]) && WEXITSTATUS(o.status[0]) == 0);
	char *text = output();
	cr_assert(strstr(text, "parent: child exited with 0"), "%s", text);
	free(text);

	restore(s);
	cr_assert_not_null(target_find_proc(&tg, pid));
	struct proc *rq = target_find_proc(&tg, child);
	cr_assert_not_null(rq, "the child is back with its pid");
	cr_assert_eq(rq->parent_pid, pid, "the engine keeps the original relation");
	/* The restored parent's waitpid fails at once (ECHILD): it may reach trap 2 before
	 * its child has exited. */
	o = run_to_trap();                                 /* trap 2 of the restored run */
	struct outcome end = run();
	cr_assert_eq(end.ev.kind, TEV_EXITED);
	cr_assert_eq(o.exits + end.exits, 2);
	for (int i = 0; i < o.exits + end.exits; i++) {
		int st = i < o.exits ? o.status[i] : end.status[i - o.exits];
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d: status %#x", i, st);
	}
	text = output();
	cr_assert_str_eq(text, "start\nchild counted 200 lines\nparent: child reported 200\n"
			 "parent: child not waitable (No child processes)\nparent done\n");
	free(text);

	/* Any number of times. */
	restore(s);
	run_to_trap();
	end = run();
	cr_assert_eq(end.ev.kind, TEV_EXITED);
	snap_drop(&tg, s);
}

/* ---- 4. the pid and tids the program sees ---- */

Test(snapshot, pids_and_tids_kept, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_pids");
	pid_t pid = p->pid;
	run_to_trap();
	pid_t tids[2] = { 0, 0 };
	int n = 0;
	for (struct task *t = p->tasks; t; t = t->next)
		if (t->state != TS_DEAD && n < 2)
			tids[n++] = t->tid;
	cr_assert_eq(n, 2);
	struct snapshot *s = take(NULL);
	run_to_trap();
	restore(s);
	p = target_find_proc(&tg, pid);
	cr_assert_not_null(p);
	cr_assert_not_null(proc_task(p, tids[0]));
	cr_assert_not_null(proc_task(p, tids[1]));
	finish_expect(pid, "start\nids ok\nthread ids ok\nkill ok\nraise ok\npthread_kill ok\ndone\n");
	snap_drop(&tg, s);
}

/* Without the privilege to choose pids, restore falls back to fresh ones and says so;
 * glibc's cached tids follow, so raise and pthread_kill still work. */
static int drop_pid_privilege(void *arg)
{
	int e = redirect(arg);
	if (e < 0)
		return e;
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0 ||
	    prctl(PR_CAPBSET_DROP, CAP_CHECKPOINT_RESTORE, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

Test(snapshot, fresh_pids_without_privilege, .init = setup, .fini = teardown)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/snap_pids", PROGS_DIR);
	char *argv[] = { path, NULL };
	io.out = outpath;
	io.in_fd = -1;
	struct launch_spec ls = { .argv = argv, .exitkill = true,
				  .child_setup = drop_pid_privilege, .child_arg = &io };
	struct proc *p = NULL;
	cr_assert_eq(target_launch(&tg, &ls, &p), 0);
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *s = take(NULL);
	run_to_trap();
	struct sbuf pb = { 0 };
	cr_assert_eq(snap_restore(&tg, s, &pb), 0, "%s", sbuf_str(&pb));
	cr_assert(strstr(sbuf_str(&pb), "choosing a pid needs CAP_SYS_ADMIN"), "%s",
		  sbuf_str(&pb));
	sbuf_free(&pb);
	cr_assert_null(target_find_proc(&tg, pid), "not with its old pid");
	struct proc *r = NULL;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (!q->dead && !q->snapshot)
			r = q;
	cr_assert_not_null(r);
	cr_assert_eq(proc_live_tasks(r), 2);
	run_to_trap();
	run_to_exit(r->pid, 1);                       /* its own pid checks fail, as they must */
	char *text = output();
	cr_assert(strstr(text, "ids CHANGED\n"), "%s", text);
	cr_assert(strstr(text, "raise ok\npthread_kill ok\n"), "%s", text);
	free(text);
	snap_drop(&tg, s);
}

/* ---- 5. file offsets and, with files, contents ---- */

Test(snapshot, file_offsets_and_contents, .init = setup, .fini = teardown)
{
	const char *dir = make_tmpdir();
	struct proc *p = launch_in_dir("snap_files", dir, NULL);
	pid_t pid = p->pid;
	run_to_trap();
	struct snap_opts o = { .files = true };
	struct snapshot *s = take(&o);
	cr_assert_gt(snap_private_bytes(s), 0);
	run_to_trap();                                /* the live run wrote and truncated */
	char *t = file_text(dir, "out.txt");
	cr_assert_str_eq(t, "bef");
	free(t);
	restore(s);
	/* Contents are back before the program runs again. */
	t = file_text(dir, "out.txt");
	cr_assert_str_eq(t, "before\n");
	free(t);
	t = file_text(dir, "log.txt");
	cr_assert_str_eq(t, "A\n");
	free(t);
	run_to_trap();
	run_to_exit(pid, 0);
	t = output();
	cr_assert_str_eq(t, "start\nread offset ok\nout.txt ok\nlog.txt ok\ndone\n");
	free(t);
	t = file_text(dir, "out.txt");
	cr_assert_str_eq(t, "bef");
	free(t);
	snap_drop(&tg, s);
	remove_tmpdir();
}

/* ---- 6. shared memory: anonymous, file, memfd, SysV ---- */

Test(snapshot, shared_memory, .init = setup, .fini = teardown)
{
	const char *dir = make_tmpdir();
	struct proc *p = launch_in_dir("snap_shm", dir, NULL);
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *s = take(NULL);
	/* The copies: anon (2 pages of data, holes skipped) + file 4 + memfd 2 + SysV 2. */
	uint64_t held = snap_private_bytes(s);
	cr_assert_geq(held, 10 * 4096ull, "%lu", (unsigned long)held);
	run_to_trap();
	restore(s);
	finish_expect(pid, "start\nanon ok\nfile ok\nmemfd ok\nsysv ok\ndone\n");
	snap_drop(&tg, s);
	remove_tmpdir();
}

/* ---- 7. pending signals, timers; what fork carries (cwd, umask, rlimits) ---- */

Test(snapshot, signals_timers_and_inherited_state, .init = setup, .fini = teardown)
{
	const char *dir = make_tmpdir();
	char real[PATH_MAX];
	cr_assert_not_null(realpath(dir, real));
	struct proc *p = launch_in_dir("snap_signals", real, NULL);
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *s = take(NULL);
	run_to_trap();                                /* the live run used everything up */
	char *t = output();
	cr_assert(strstr(t, "fired ok"), "%s", t);
	free(t);
	restore(s);
	snap_signals_finish(pid, s);
}
