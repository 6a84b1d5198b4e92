/* Snapshots against real processes. Each test runs a tests/progs/snap_*.c debuggee to
 * its trap 1, checkpoints, lets it run on (changing what the checkpoint must bring
 * back), restores, checks the restored state from here, and lets the program run to
 * the end: its own output (it prints what it checked) and exit code must be right. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/elf.h>

#include "core/inject.h"
#include "core/log.h"
#include "core/regs.h"
#include "core/snapshot.h"
#include "core/target.h"

#ifndef PROGS_DIR
#define PROGS_DIR "tests/progs"
#endif

static struct target tg;
static char outpath[128];

static void setup(void)
{
	log_init();
	cr_assert_eq(target_init(&tg), 0);
	snprintf(outpath, sizeof outpath, "/tmp/rewind-snap-%d-%ld.out", getpid(),
		 (long)now_ns());
}

static void teardown(void)
{
	target_fini(&tg);
	unlink(outpath);
}

/* ---- running debuggees ---- */

struct launch_io {
	const char *out;
	int in_fd;         /* >= 0: becomes stdin */
};

static int redirect(void *arg)
{
	const struct launch_io *io = arg;
	int fd = open(io->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0)
		return -errno;
	close(fd);
	if (io->in_fd >= 0 && dup2(io->in_fd, 0) < 0)
		return -errno;
	return 0;
}

static struct launch_io io;

static struct proc *launch_args(char *const *argv)
{
	io.out = outpath;
	io.in_fd = -1;
	struct launch_spec ls = { .argv = argv, .exitkill = true, .child_setup = redirect,
				  .child_arg = &io };
	struct proc *p = NULL;
	int e = target_launch(&tg, &ls, &p);
	cr_assert_eq(e, 0, "launch %s: %s", argv[0], strerror(-e));
	return p;
}

static struct proc *launch(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", PROGS_DIR, name);
	char *argv[] = { path, NULL };
	return launch_args(argv);
}

struct outcome {
	struct tev ev;          /* the stop (a trap or breakpoint), or the last exit */
	int exits;              /* processes that exited while running */
	int status[8];          /* their wait statuses, in order */
	pid_t pid[8];
};

static bool ckpt_may_die;      /* a test kills a checkpoint process itself */

static bool live_procs(void)
{
	for (struct proc *p = tg.procs; p; p = p->next)
		if (!p->dead && !p->snapshot)
			return true;
	return false;
}

/* Resume everything and run until a program trap (int3 of SNAP_POINT), a breakpoint
 * stop, or until every process has exited. All-stop: the others are stopped then. */
static struct outcome run(void)
{
	struct outcome o;
	memset(&o, 0, sizeof o);
	for (struct proc *p = tg.procs; p; p = p->next)
		for (struct task *t = p->tasks; t && !p->snapshot; t = t->next)
			if (t->state == TS_STOPPED && t->pending_sig == SIGTRAP)
				t->pending_sig = 0;
	target_resume_all(&tg, NULL);
	for (;;) {
		struct tev ev;
		int r = target_wait(&tg, &ev, 30000);
		cr_assert_eq(r, 1, "target_wait: %d", r);
		if (ev.proc && ev.proc->snapshot) {
			cr_assert(ev.kind != TEV_EXITED || ckpt_may_die,
				  "a checkpoint process %d exited", ev.proc->pid);
			continue;
		}
		switch (ev.kind) {
		case TEV_EXITED:
			if (o.exits < 8) {
				o.pid[o.exits] = ev.proc ? ev.proc->pid : ev.tid;
				o.status[o.exits] = ev.status;
			}
			o.exits++;
			o.ev = ev;
			if (!live_procs())
				return o;
			continue;
		case TEV_BREAKPOINT:
			o.ev = ev;
			target_stop_all(&tg);
			return o;
		case TEV_SIGNAL:
			if (ev.sig == SIGTRAP) {
				o.ev = ev;
				ev.task->pending_sig = 0;
				target_stop_all(&tg);
				return o;
			}
			target_resume(&tg, ev.task, RESUME_CONT);   /* delivered */
			continue;
		case TEV_THREAD_EXITED:
			continue;
		default:
			if (ev.task && ev.task->state == TS_STOPPED)
				target_resume(&tg, ev.task, RESUME_CONT);
			continue;
		}
	}
}

static struct outcome run_to_trap(void)
{
	struct outcome o = run();
	cr_assert(o.ev.kind == TEV_SIGNAL || o.ev.kind == TEV_BREAKPOINT,
		  "expected a trap, got %s (status %#x)", tev_name(o.ev.kind), o.ev.status);
	return o;
}

/* Run to the end; the exit status of pid (0: the last process) must be `code`. */
static void run_to_exit(pid_t pid, int code)
{
	struct outcome o = run();
	cr_assert_eq(o.ev.kind, TEV_EXITED, "expected the end, got %s at %#lx",
		     tev_name(o.ev.kind), (unsigned long)o.ev.addr);
	for (int i = 0; i < o.exits && i < 8; i++)
		if (!pid || o.pid[i] == pid) {
			cr_assert(WIFEXITED(o.status[i]), "pid %d: status %#x", o.pid[i], o.status[i]);
			cr_assert_eq(WEXITSTATUS(o.status[i]), code, "pid %d exited with %d",
				     o.pid[i], WEXITSTATUS(o.status[i]));
			return;
		}
	cr_assert_fail("pid %d did not exit", pid);
}

static char *output(void)
{
	char *text = NULL;
	cr_assert_eq(read_file(outpath, &text, NULL), 0);
	return text;
}

static struct snapshot *take(const struct snap_opts *o)
{
	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	int e = snap_take(&tg, o, &s, &pb);
	cr_assert_eq(e, 0, "snap_take: %s: %s", strerror(-e), sbuf_str(&pb));
	cr_assert_not_null(s);
	sbuf_free(&pb);
	return s;
}

static void restore(struct snapshot *s)
{
	struct sbuf pb = { 0 };
	int e = snap_restore(&tg, s, &pb);
	cr_assert_eq(e, 0, "snap_restore: %s: %s", strerror(-e), sbuf_str(&pb));
	cr_assert_eq(pb.len, 0, "restore reported: %s", sbuf_str(&pb));
	sbuf_free(&pb);
	/* The former incarnation is dead: forget it. */
	for (struct proc *p = tg.procs, *n; p; p = n) {
		n = p->next;
		if (p->dead)
			target_forget(&tg, p);
	}
}

/* Address of a symbol of a PIE program in p (nm + the load base from maps). */
static uint64_t sym_addr(struct proc *p, const char *prog, const char *name)
{
	char cmd[512], line[256];
	snprintf(cmd, sizeof cmd, "nm %s/%s", PROGS_DIR, prog);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	uint64_t off = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long a;
		char kind, sym[200];
		if (sscanf(line, "%llx %c %199s", &a, &kind, sym) == 3 && !strcmp(sym, name))
			off = a;
	}
	pclose(f);
	cr_assert_neq(off, 0, "no symbol %s", name);
	snprintf(cmd, sizeof cmd, "/proc/%d/maps", p->pid);
	f = fopen(cmd, "r");
	uint64_t base = 0;
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, prog) && !base)
			base = strtoull(line, NULL, 16);
	if (f)
		fclose(f);
	cr_assert_neq(base, 0);
	return base + off;
}

static struct task *leader(pid_t pid)
{
	struct proc *p = target_find_proc(&tg, pid);
	cr_assert_not_null(p, "no live pid %d", pid);
	struct task *t = proc_task(p, pid);
	cr_assert_not_null(t);
	return t;
}

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
	run_to_trap();
	run_to_exit(pid, 0);
	char *text = output();
	cr_assert_str_eq(text, "start\nids ok\nthread ids ok\nkill ok\nraise ok\npthread_kill ok\n"
			 "done\n");
	free(text);
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

/* A scratch directory for a test program (argv[1]), removed at the end. */
static char tmpdir[128];

static const char *make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/rewind-snapdir-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	return tmpdir;
}

static void remove_tmpdir(void)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static struct proc *launch_in_dir(const char *name, const char *dir, const char *extra)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", PROGS_DIR, name);
	char *argv[] = { path, (char *)dir, (char *)extra, NULL };
	return launch_args(argv);
}

static char *file_text(const char *dir, const char *name)
{
	char path[256], *text = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_eq(read_file(path, &text, NULL), 0, "read %s", path);
	return text;
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
	run_to_trap();
	run_to_exit(pid, 0);
	char *t = output();
	cr_assert_str_eq(t, "start\nanon ok\nfile ok\nmemfd ok\nsysv ok\ndone\n");
	free(t);
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
	run_to_trap();
	run_to_exit(pid, 0);
	t = output();
	cr_assert_str_eq(t, "start\npending ok\nitimer ok\ntimers ok\ncwd ok\numask ok\nrlimit ok\n"
			 "delivered ok\nfired ok\ndone\n");
	free(t);
	snap_drop(&tg, s);
	remove_tmpdir();
}

/* ---- 8. resources that cannot be restored: refused, or taken and marked ---- */

static int count_ckpts(void)
{
	int n = 0;
	for (struct proc *p = tg.procs; p; p = p->next)
		n += p->snapshot && !p->dead;
	return n;
}

Test(snapshot, unrestorable_resources, .init = setup, .fini = teardown)
{
	pid_t outsider = fork();
	if (outsider == 0) {
		pause();
		_exit(0);
	}
	char arg[16];
	snprintf(arg, sizeof arg, "%d", outsider);
	static char path[256];
	snprintf(path, sizeof path, "%s/snap_unrestorable", PROGS_DIR);
	char *argv[] = { path, arg, NULL };
	struct proc *p = launch_args(argv);
	pid_t pid = p->pid;
	run_to_trap();

	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	cr_assert_eq(snap_take(&tg, NULL, &s, &pb), -EBUSY);
	cr_assert_null(s);
	const char *txt = sbuf_str(&pb);
	char want[64];
	snprintf(want, sizeof want, "pid %d fd ", pid);
	cr_assert(strstr(txt, want), "%s", txt);
	cr_assert(strstr(txt, ": TCP socket to 127.0.0.1:"), "%s", txt);
	cr_assert(strstr(txt, ": eventfd;"), "%s", txt);
	cr_assert(strstr(txt, ": epoll instance;"), "%s", txt);
	cr_assert(strstr(txt, ": timerfd;"), "%s", txt);
	cr_assert(strstr(txt, ": signalfd;"), "%s", txt);
	cr_assert(strstr(txt, ": device /dev/kmsg (1:11)"), "%s", txt);
	snprintf(want, sizeof want, "pid %d traces pid %d", pid, outsider);
	cr_assert(strstr(txt, want), "%s", txt);
	cr_assert_eq(count_ckpts(), 0, "nothing left behind");
	for (struct task *t = p->tasks; t; t = t->next)
		cr_assert(t->state == TS_STOPPED || t->state == TS_DEAD);
	sbuf_free(&pb);

	struct snap_opts o = { .force = true };
	cr_assert_eq(snap_take(&tg, &o, &s, &pb), 0, "%s", sbuf_str(&pb));
	cr_assert_not_null(snap_marks(s));
	cr_assert(strstr(snap_marks(s), ": eventfd;"));
	cr_assert(strstr(sbuf_str(&pb), ": eventfd;"), "problems say it too");
	sbuf_free(&pb);
	run_to_trap();
	restore(s);
	run_to_trap();
	run_to_exit(pid, 0);
	char *t = output();
	cr_assert_str_eq(t, "start\neventfd+epoll usable\ntcp usable\ndone\n");
	free(t);
	snap_drop(&tg, s);
	kill(outsider, SIGKILL);
	waitpid(outsider, NULL, 0);
}

/* ---- 9. death: of a checkpoint process, and of the program while checkpointing ---- */

Test(snapshot, checkpoint_process_killed_from_outside, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_regs");
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *s1 = take(NULL);
	pid_t c1 = 0;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (q->snapshot && !q->dead)
			c1 = q->pid;
	cr_assert_neq(c1, 0);
	struct snapshot *s2 = take(NULL);
	cr_assert_eq(count_ckpts(), 2);
	cr_assert_eq(kill(c1, SIGKILL), 0);
	for (int i = 0; i < 200 && snap_alive(s1); i++)
		usleep(1000);
	cr_assert(!snap_alive(s1));
	cr_assert(snap_alive(s2));

	struct sbuf pb = { 0 };
	cr_assert_eq(snap_restore(&tg, s1, &pb), -ESRCH);
	char want[96];
	snprintf(want, sizeof want, "the checkpoint process of pid %d (pid %d) is gone", pid, c1);
	cr_assert(strstr(sbuf_str(&pb), want), "%s", sbuf_str(&pb));
	sbuf_free(&pb);
	cr_assert_not_null(target_find_proc(&tg, pid), "the program was not touched");
	ckpt_may_die = true;
	restore(s2);
	run_to_trap();
	run_to_exit(pid, 0);
	snap_drop(&tg, s1);
	snap_drop(&tg, s2);
	cr_assert_eq(count_ckpts(), 0);
}

Test(snapshot, program_dies_while_checkpointing, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_tree");
	pid_t pid = p->pid;
	run_to_trap();
	pid_t child = 0;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (!q->dead && !q->snapshot && q->pid != pid)
			child = q->pid;
	struct snap_opts so = { .files = true };
	struct snapshot *good = take(&so);
	int before = count_ckpts();
	cr_assert_eq(before, 2);

	cr_assert_eq(kill(child, SIGKILL), 0);         /* the engine does not know yet */
	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	int e = snap_take(&tg, &so, &s, &pb);
	cr_assert_eq(e, -ESRCH, "got %d: %s", e, sbuf_str(&pb));
	cr_assert_null(s);
	char want[96];
	snprintf(want, sizeof want, "pid %d exited while the checkpoint was being taken", child);
	cr_assert(strstr(sbuf_str(&pb), want), "%s", sbuf_str(&pb));
	sbuf_free(&pb);
	cr_assert_eq(count_ckpts(), before, "no checkpoint process left behind");
	struct proc *lp = target_find_proc(&tg, pid);
	cr_assert_not_null(lp);
	for (struct task *t = lp->tasks; t; t = t->next)
		cr_assert(t->state == TS_STOPPED || t->state == TS_DEAD);

	/* The earlier checkpoint still brings the whole tree back. */
	restore(good);
	cr_assert_not_null(target_find_proc(&tg, child));
	run_to_trap();
	struct outcome end = run();
	cr_assert_eq(end.ev.kind, TEV_EXITED);
	char *t = output();
	cr_assert_str_eq(t, "start\nchild counted 200 lines\nparent: child reported 200\n"
			 "parent: child not waitable (No child processes)\nparent done\n");
	free(t);
	snap_drop(&tg, good);
}

/* A checkpoint taken while a thread is stopped delivering a signal: the signal is out
 * of the kernel's queues then; the restore queues it again. */
Test(snapshot, signal_held_by_a_delivery_stop, .init = setup, .fini = teardown)
{
	const char *dir = make_tmpdir();
	char real[PATH_MAX];
	cr_assert_not_null(realpath(dir, real));
	struct proc *p = launch_in_dir("snap_signals", real, NULL);
	pid_t pid = p->pid;
	run_to_trap();                                /* trap 1 */
	leader(pid)->pending_sig = 0;
	target_resume_all(&tg, NULL);
	struct tev ev;
	for (;;) {                                    /* until SIGUSR1 is being delivered */
		cr_assert_eq(target_wait(&tg, &ev, 10000), 1);
		if (ev.kind == TEV_SIGNAL && ev.sig == SIGUSR1)
			break;
		if (ev.task && ev.task->state == TS_STOPPED)
			target_resume(&tg, ev.task, RESUME_CONT);
	}
	target_stop_all(&tg);
	struct snap_opts o = { .files = true };
	struct snapshot *s = take(&o);
	ev.task->pending_sig = 0;                     /* the live run loses it */
	run_to_trap();
	char *t = output();
	cr_assert(strstr(t, "delivered WRONG"), "%s", t);
	free(t);
	restore(s);
	run_to_trap();
	run_to_exit(pid, 0);
	t = output();
	cr_assert_str_eq(t, "start\npending ok\nitimer ok\ntimers ok\ncwd ok\numask ok\nrlimit ok\n"
			 "delivered ok\nfired ok\ndone\n");
	free(t);
	snap_drop(&tg, s);
	remove_tmpdir();
}

/* A vfork under way cannot be checkpointed (the child shares the parent's memory, the
 * parent cannot leave vfork): refused, and nothing is disturbed. */
Test(snapshot, refused_during_vfork, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_vfork");
	pid_t pid = p->pid;
	/* To trap 1, in the vfork child. Its parent waits in vfork, where no ptrace
	 * interrupt reaches it: it stays running. */
	target_resume_all(&tg, NULL);
	struct tev ev;
	for (;;) {
		cr_assert_eq(target_wait(&tg, &ev, 10000), 1);
		if (ev.kind == TEV_SIGNAL && ev.sig == SIGTRAP)
			break;
		if (ev.task && ev.task->state == TS_STOPPED)
			target_resume(&tg, ev.task, RESUME_CONT);
	}
	cr_assert_neq(ev.proc->pid, pid);
	cr_assert(ev.proc->vfork_child);
	ev.task->pending_sig = 0;
	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	int e = snap_take(&tg, NULL, &s, &pb);
	cr_assert_eq(e, -EAGAIN, "%d: %s", e, sbuf_str(&pb));
	cr_assert(strstr(sbuf_str(&pb), "vfork"), "%s", sbuf_str(&pb));
	cr_assert_eq(count_ckpts(), 0);
	sbuf_free(&pb);
	struct outcome o = run_to_trap();                 /* trap 2, in the parent */
	cr_assert_eq(o.ev.proc->pid, pid);
	s = take(NULL);
	restore(s);
	run_to_exit(pid, 0);
	char *t = output();
	cr_assert_str_eq(t, "start\nchild exited with 0\n");
	free(t);
	snap_drop(&tg, s);
}

/* Pages the program changes after two checkpoints are held by both: each one's private
 * bytes leave them out, the total counts them once. */
Test(snapshot, memory_held_by_checkpoints, .init = setup, .fini = teardown)
{
	launch("snap_regs");
	cr_assert_eq(snap_held_bytes(&tg), 0, "no checkpoint, nothing held");
	run_to_trap();
	struct snapshot *s1 = take(NULL), *s2 = take(NULL);
	uint64_t held0 = snap_held_bytes(&tg);
	uint64_t priv0 = snap_private_bytes(s1) + snap_private_bytes(s2);
	run_to_trap();                  /* the program wrote its data, heap and stack */
	uint64_t held1 = snap_held_bytes(&tg);
	uint64_t priv1 = snap_private_bytes(s1) + snap_private_bytes(s2);
	cr_assert_geq(held1, held0 + 3 * 4096, "%lu -> %lu", (unsigned long)held0,
		      (unsigned long)held1);
	cr_assert_lt(priv1 - priv0, held1 - held0, "shared by both: private to neither");
	snap_drop(&tg, s1);
	snap_drop(&tg, s2);
	cr_assert_eq(snap_held_bytes(&tg), 0);
	run_to_exit(0, 0);
}

/* A process rewind attached to, whose parent is another program: its checkpoints are
 * its own children (exit signal 0, invisible to its wait()); a dropped one is reaped
 * inside it; a restore brings it back as rewind's child with its pid. */
static pid_t ppid_of(pid_t pid)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) < 0)
		return -1;
	char *f = strstr(text, "\nPPid:");
	pid_t r = f ? atoi(f + 6) : -1;
	free(text);
	return r;
}

static char *children_of(pid_t pid)
{
	char path[64], *text = NULL;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
	cr_assert_eq(read_file(path, &text, NULL), 0);
	return text;
}

Test(snapshot, attached_process_with_another_parent, .init = setup, .fini = teardown)
{
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t mid = fork();
	if (mid == 0) {
		pid_t c = fork();
		if (c == 0) {
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
			_exit(127);
		}
		if (write(pfd[1], &c, sizeof c) != sizeof c)
			_exit(1);
		waitpid(c, NULL, 0);
		_exit(0);
	}
	pid_t pid;
	cr_assert_eq(read(pfd[0], &pid, sizeof pid), (ssize_t)sizeof pid);
	usleep(50 * 1000);
	struct proc *p = NULL;
	cr_assert_eq(target_attach(&tg, pid, &p), 0);
	struct snapshot *s1 = take(NULL), *s2 = take(NULL);
	pid_t c1 = 0, c2 = 0;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (q->snapshot && !q->dead) {
			if (!c1)
				c1 = q->pid;
			else
				c2 = q->pid;
		}
	cr_assert_eq(ppid_of(c1), pid, "the checkpoint is the attached process's child");
	cr_assert_eq(ppid_of(c2), pid);
	snap_drop(&tg, s2);
	char *kids = children_of(pid);
	char want[32];
	snprintf(want, sizeof want, "%d ", c1);
	cr_assert_str_eq(kids, want, "the dropped checkpoint was reaped inside its parent");
	free(kids);

	restore(s1);
	p = target_find_proc(&tg, pid);
	cr_assert_not_null(p);
	cr_assert_eq(ppid_of(pid), getpid(), "restored as rewind's child");
	cr_assert(p->attached);
	cr_assert_eq(waitpid(mid, NULL, 0), mid, "its old parent saw it die");
	target_kill(&tg, p);
	snap_drop(&tg, s1);
	cr_assert_eq(count_ckpts(), 0);
}
