/* Snapshots: take and drop (restore is in snap_restore.c). The per-concept fix-ups live
 * in snap_threads.c, snap_fds.c, snap_shm.c and snap_signals.c; this file makes the
 * checkpoint processes of the whole tree at one stop.
 *
 * A checkpoint is made by injecting a raw clone() into the process's leader. When the
 * process's real parent is rewind (launched, or restored earlier) the clone uses
 * CLONE_PARENT: the checkpoint becomes rewind's child, invisible to the program, and
 * never a zombie in it. Otherwise (a child of another traced process, an attached
 * process) it is the process's own child with exit signal 0, which wait() without
 * __WALL/__WCLONE does not see; when the process dies it comes back to rewind (a
 * child subreaper) and stays traced. */
#include "snap_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- freeing ---- */

void snap_kill_ckpt(struct target *tg, struct snap_proc *sp)
{
	struct proc *c = sp->ckpt;
	if (!c)
		return;
	/* Its real parent, when not rewind, keeps it as a zombie after we reap it (exit
	 * signal 0: the parent is never told). Reap it there if that parent is stopped. */
	pid_t ppid = c->dead ? 0 : snap_real_parent(c->pid);
	if (!c->dead) {
		snap_quiet_death(c);
		target_kill(tg, c);
	}
	struct proc *parent = ppid && ppid != getpid() ? target_find_proc(tg, ppid) : NULL;
	struct task *pt = parent && !parent->snapshot ? proc_task(parent, parent->pid) : NULL;
	if (pt && pt->state == TS_STOPPED && !pt->in_syscall) {
		int64_t r;
		snap_sys(tg, pt, SYS_waitid, &r, P_PID, (uint64_t)c->pid, 0,
			 WEXITED | WNOHANG | __WALL, 0, 0);
	}
	target_forget(tg, c);
	sp->ckpt = NULL;
}

static void free_proc(struct target *tg, struct snap_proc *sp)
{
	snap_kill_ckpt(tg, sp);
	if (sp->ckpt_pidfd >= 0)
		close(sp->ckpt_pidfd);
	for (size_t i = 0; i < sp->threads.n; i++)
		snap_thread_free(&sp->threads.v[i]);
	vec_free(&sp->threads);
	vec_free(&sp->sites);
	vec_free(&sp->shared_pending);
	vec_free(&sp->timers);
	snap_shm_free(sp);
}

static void free_snapshot(struct target *tg, struct snapshot *s)
{
	/* Compacted snapshots are based on it: it goes with the last of them. */
	if (!snap_delta_release(tg, s))
		return;
	struct snapshot *base = s->base;
	snap_delta_free(tg, s);
	snap_reap_holders(tg, s, true);
	vec_free(&s->holders);
	snap_fds_free(s);
	for (size_t i = 0; i < s->procs.n; i++)
		free_proc(tg, &s->procs.v[i]);
	vec_free(&s->procs);
	free(s->marks);
	free(s);
	if (base && !base->deps.n && base->dropped)
		free_snapshot(tg, base);
}

void snap_drop(struct target *tg, struct snapshot *s)
{
	if (s)
		free_snapshot(tg, s);
}

/* ---- taking ---- */

static int read_status(struct snap_proc *sp)
{
	char path[64], *text, *f;
	snprintf(path, sizeof path, "/proc/%d/status", sp->pid);
	int e = read_file(path, &text, NULL);
	if (e < 0)
		return e;
	if ((f = strstr(text, "\nPPid:")))
		sp->parent_is_us = (pid_t)atoi(f + 6) == getpid();
	if ((f = strstr(text, "\nSigCgt:")))
		sp->sigcgt = strtoull(f + 8, NULL, 16);
	if ((f = strstr(text, "\nVmSize:")))
		sp->vm_kb = strtoull(f + 8, NULL, 10);
	free(text);
	return 0;
}

/* Does the process trace something? Tracees of a traced process cannot be rewind's,
 * and the link would not survive a restore. A waitid(WNOHANG|WNOWAIT) injected into a
 * process with no children fails with ECHILD unless it has tracees; only when it has
 * children (or tracees) is /proc searched for TracerPid, which costs a millisecond. */
static int check_tracees(struct target *tg, struct snap_proc *sp, struct sbuf *marks)
{
	bool children = false;
	for (size_t i = 0; i < sp->threads.n && !children; i++) {
		char path[96], *text;
		snprintf(path, sizeof path, "/proc/%d/task/%d/children", sp->pid,
			 sp->threads.v[i].tid);
		if (read_file(path, &text, NULL) == 0) {
			children = text[0] != 0;
			free(text);
		}
	}
	if (!children) {
		int64_t r = 0;
		int e = snap_sys(tg, proc_task(sp->live, sp->pid), SYS_waitid, &r, P_ALL, 0, 0,
				 WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT | __WALL, 0, 0);
		if (e < 0)
			return e;
		if (r == -ECHILD)
			return 0;
	}
	char path[64], *text;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || target_find_task(tg, pid))
			continue;
		snprintf(path, sizeof path, "/proc/%d/status", pid);
		if (read_file(path, &text, NULL) < 0)
			continue;
		char *f = strstr(text, "\nTracerPid:");
		pid_t tracer = f ? (pid_t)atoi(f + 11) : 0;
		char *name = strstr(text, "Name:");
		char comm[32] = "?";
		if (name)
			sscanf(name + 5, " %31[^\n]", comm);
		free(text);
		for (size_t i = 0; i < sp->threads.n && tracer; i++)
			if (sp->threads.v[i].tid == tracer) {
				sbuf_printf(marks, "pid %d traces pid %d (%s), which rewind does not own; "
					    "that ptrace link cannot be restored\n", sp->pid, pid, comm);
				break;
			}
	}
	if (d)
		closedir(d);
	return 0;
}

/* Fork the checkpoint of sp->live: an injected clone in its leader. */
static int make_ckpt(struct target *tg, struct snap_proc *sp)
{
	struct proc *p = sp->live, *cp;
	int e = snap_inject_fork(tg, proc_task(p, p->pid), sp->parent_is_us ? CLONE_PARENT | SIGCHLD : 0,
			    &cp);
	if (e < 0) {
		pr_err(LM_SNAP, "pid %d: the checkpoint clone failed: %s", p->pid, strerror(-e));
		return e;
	}
	sp->ckpt = cp;
	sp->ckpt_pidfd = snap_pidfd_open(cp->pid);
	if (sp->ckpt_pidfd < 0) {
		pr_err(LM_SNAP, "pid %d: pidfd of checkpoint %d: %s", p->pid, cp->pid,
		       strerror(-sp->ckpt_pidfd));
		return sp->ckpt_pidfd;
	}
	return 0;
}

/* Every task stopped and outside syscalls; no vfork under way. */
static int prepare(struct target *tg, struct sbuf *problems)
{
	bool running = false;
	int e;
	/* First what cannot be settled: a vfork parent cannot leave vfork before its child
	 * execs or exits, and the child shares its memory until then. */
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		if (p->vfork_child) {
			sbuf_printf(problems, "pid %d is a vfork child still sharing the memory of pid "
				    "%d; checkpoint it after its exec or exit\n", p->pid, p->parent_pid);
			return -EAGAIN;
		}
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->state == TS_STOPPED && t->in_syscall && t->last_ev == TEV_VFORK) {
				sbuf_printf(problems, "tid %d of pid %d is in vfork; checkpoint after its "
					    "child's exec or exit\n", t->tid, p->pid);
				return -EAGAIN;
			}
	}
	for (struct proc *p = tg->procs; p; p = p->next)
		for (struct task *t = p->tasks; t && !p->dead && !p->snapshot; t = t->next)
			if (t->state == TS_RUNNING) {
				sbuf_printf(problems, "tid %d of pid %d is running; stop it first\n",
					    t->tid, p->pid);
				return -EBUSY;
			}
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->state == TS_STOPPED && t->in_syscall && !t->exiting &&
			    (e = target_settle(tg, t)) < 0) {
				sbuf_printf(problems, "pid %d tid %d could not leave its syscall: %s\n",
					    p->pid, t->tid, strerror(-e));
				return e;
			}
	}
	/* Settling a fork finished it: the new child must reach its first stop too. */
	for (struct proc *p = tg->procs; p && !running; p = p->next)
		for (struct task *t = p->tasks; t && !p->dead && !p->snapshot; t = t->next)
			running |= t->state == TS_RUNNING;
	return running ? target_stop_all(tg) : 0;
}

/* A child in the tree whose every task has reached its exit stop: it is dying (its
 * exit is decided, its memory about to go), and the checkpoint is taken as the tree
 * will be a moment later, without it. The root is never left out. */
static bool dying_child(struct target *tg, const struct proc *p)
{
	if (!p->parent_pid || !target_find_proc(tg, p->parent_pid))
		return false;
	for (const struct task *t = p->tasks; t; t = t->next)
		if (t->state != TS_DEAD && !(t->state == TS_STOPPED && t->exiting))
			return false;
	return true;
}

static void add_proc(struct snapshot *s, struct proc *p)
{
	struct snap_proc sp;
	memset(&sp, 0, sizeof sp);
	sp.pid = p->pid;
	sp.num = p->num;
	sp.parent_pid = p->parent_pid;
	sp.attached = p->attached;
	sp.live = p;
	sp.ckpt_pidfd = -1;
	for (size_t i = 0; i < p->sites.n; i++)
		vec_push(&sp.sites, p->sites.v[i]);
	memcpy(sp.hw, p->hw, sizeof sp.hw);
	sp.syscall_insn = p->syscall_insn;
	sp.tags = p->tags;
	vec_push(&s->procs, sp);
}

int snap_take(struct target *tg, const struct snap_opts *o, struct snapshot **out,
	      struct sbuf *problems)
{
	static const struct snap_opts defaults;
	struct sbuf marks = { 0 };
	struct snapshot *s = xcalloc(1, sizeof *s);
	int e;

	uint64_t t0 = now_ns(), t_clone = 0;
	size_t noted = 0;
	struct snap_pin pn;
	if (!o)
		o = &defaults;
	*out = NULL;
	snap_pin_begin(&pn);
	if ((e = prepare(tg, problems)) < 0)
		goto err;
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		if (dying_child(tg, p))
			sbuf_printf(problems, "pid %d is exiting; the checkpoint leaves it out\n",
				    p->pid);
		else
			add_proc(s, p);
	}
	noted = problems->len;          /* the notes above are not why it failed */
	if (!s->procs.n) {
		sbuf_printf(problems, "no live process to checkpoint\n");
		e = -ESRCH;
		goto err;
	}
	/* Everything that needs the live processes, before the first checkpoint exists. */
	for (size_t i = 0; i < s->procs.n; i++) {
		struct snap_proc *sp = &s->procs.v[i];
		if (!inject_find_syscall_insn(sp->live)) {
			sbuf_printf(problems, "pid %d: no syscall instruction to inject through (no "
				    "vDSO, no executable mapping holding one)\n", sp->pid);
			e = -ENOEXEC;
			goto died;
		}
		if ((e = read_status(sp)) < 0 || (e = snap_threads_save(tg, sp, problems)) < 0)
			goto died;
		/* After their affinity was saved: the checkpoint inherits this pinning and
		 * passes it on to the restored process, which gets the saved one back. */
		for (size_t k = 0; k < sp->threads.n; k++)
			snap_pin_task(&pn, sp->threads.v[k].tid);
	}
	if ((e = snap_fds_save(tg, s, o, &marks)) < 0 || (e = snap_groups_save(s)) < 0)
		goto died;
	for (size_t i = 0; i < s->procs.n; i++) {
		struct snap_proc *sp = &s->procs.v[i];
		if ((e = check_tracees(tg, sp, &marks)) < 0 || (e = snap_signals_save(tg, sp)) < 0 ||
		    (e = snap_shm_save(sp, s)) < 0)
			goto died;
	}
	if (marks.len && !o->force) {
		e = -EBUSY;
		goto err;
	}
	/* The checkpoints. */
	for (size_t i = 0; i < s->procs.n; i++) {
		struct snap_proc *sp = &s->procs.v[i];
		sp->syscall_insn = sp->live->syscall_insn;
		uint64_t tc = now_ns();
		if ((e = make_ckpt(tg, sp)) < 0)
			goto died;
		t_clone += now_ns() - tc;
		if ((e = snap_group_leave(tg, s, sp)) < 0 || (e = snap_fds_detach_ckpt(tg, sp)) < 0 ||
		    (e = snap_shm_check_ckpt(sp, &marks)) < 0)
			goto died;
	}
	if (marks.len && !o->force) {
		e = -EBUSY;
		goto err;
	}
	for (size_t i = 0; i < s->procs.n; i++)
		s->procs.v[i].live = NULL;
	if (marks.len) {
		sbuf_puts(problems, sbuf_str(&marks));
		s->marks = sbuf_steal(&marks);
	}
	snap_pin_end(&pn);
	pr_debug(LM_SNAP, "checkpoint of %zu process(es) in %lu us, %lu us of it in clone",
		 s->procs.n, (unsigned long)(now_ns() - t0) / 1000, (unsigned long)t_clone / 1000);
	*out = s;
	return 0;

died:
	if (e == -ESRCH) {
		bool named = false;
		for (size_t i = 0; i < s->procs.n; i++) {
			struct proc *p = s->procs.v[i].live;
			if (p && (p->dead || snap_dying(p->pid))) {
				sbuf_printf(problems, "pid %d exited while the checkpoint was being "
					    "taken\n", p->pid);
				named = true;
			}
		}
		if (!named)
			sbuf_printf(problems, "a process exited while the checkpoint was being "
				    "taken\n");
	} else if (problems->len == noted) {
		sbuf_printf(problems, "the checkpoint could not be taken: %s\n", strerror(-e));
	}
err:
	snap_pin_end(&pn);
	sbuf_puts(problems, sbuf_str(&marks));
	sbuf_free(&marks);
	free_snapshot(tg, s);
	return e;
}

/* ---- accounting ---- */

uint64_t snap_proc_field(pid_t pid, const char *file, const char *field)
{
	char path[64], *text, *v;
	uint64_t r = 0;
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	if (read_file(path, &text, NULL) < 0)
		return 0;
	if ((v = strstr(text, field)))
		r = strtoull(v + strlen(field), NULL, 10) * 1024;
	free(text);
	return r;
}

uint64_t snap_copied_bytes(const struct snapshot *s)
{
	uint64_t total = s->copied_bytes;
	for (size_t i = 0; i < s->procs.n; i++)
		for (size_t k = 0; k < s->procs.v[i].threads.n; k++)
			total += s->procs.v[i].threads.v[k].xstate_len;
	return total;
}

/* What the accounting needs of one process: one smaps_rollup walk, one status read. */
struct proc_mem {
	const struct proc *p;
	uint64_t pss_anon, anon, private_dirty, pte;
};

static void read_proc_mem(const struct proc *p, struct proc_mem *m)
{
	static const struct { const char *field; size_t off; } rollup[] = {
		{ "\nPss_Anon:", offsetof(struct proc_mem, pss_anon) },
		{ "\nAnonymous:", offsetof(struct proc_mem, anon) },
		{ "\nPrivate_Dirty:", offsetof(struct proc_mem, private_dirty) },
	};
	char path[64], *text, *v;
	memset(m, 0, sizeof *m);
	m->p = p;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", p->pid);
	if (read_file(path, &text, NULL) == 0) {
		for (size_t k = 0; k < ARRAY_SIZE(rollup); k++)
			if ((v = strstr(text, rollup[k].field)))
				*(uint64_t *)((char *)m + rollup[k].off) =
					strtoull(v + strlen(rollup[k].field), NULL, 10) * 1024;
		free(text);
	}
	if (p->snapshot)
		m->pte = snap_proc_field(p->pid, "status", "\nVmPTE:");
}

/* What dropping s alone frees: rewind's copies, compacted pages, and each checkpoint
 * process's private dirty pages and page tables (taken from mem when it has that
 * process, else read now). */
static uint64_t own_bytes(const struct snapshot *s, const struct proc_mem *mem, size_t n)
{
	uint64_t total = snap_copied_bytes(s) + s->delta_bytes;
	for (size_t i = 0; i < s->procs.n; i++) {
		const struct proc *c = s->procs.v[i].ckpt;
		if (!c || c->dead)
			continue;
		struct proc_mem fresh;
		const struct proc_mem *m = NULL;
		for (size_t j = 0; j < n && !m; j++)
			if (mem[j].p == c)
				m = &mem[j];
		if (!m) {
			read_proc_mem(c, &fresh);
			m = &fresh;
		}
		total += m->private_dirty + m->pte;
	}
	return total;
}

uint64_t snap_private_bytes(const struct snapshot *s)
{
	return own_bytes(s, NULL, 0);
}

uint64_t snap_measure(struct target *tg, struct snapshot *const *v, size_t n, uint64_t *each)
{
	/* Anonymous memory only: file pages are shared with the rest of the system too. */
	uint64_t pss = 0, live = 0, tables = 0;
	VEC(struct proc_mem) mem = { 0 };
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead)
			continue;
		struct proc_mem m;
		read_proc_mem(p, &m);
		pss += m.pss_anon;
		if (p->snapshot)
			tables += m.pte;
		else
			live += m.anon;
		vec_push(&mem, m);
	}
	for (size_t i = 0; i < n; i++)
		each[i] = own_bytes(v[i], mem.v, mem.n);
	vec_free(&mem);
	return (pss > live ? pss - live : 0) + tables + tg->snap_delta_bytes;
}

uint64_t snap_held_bytes(struct target *tg)
{
	return snap_measure(tg, NULL, 0, NULL);
}

const char *snap_marks(const struct snapshot *s)
{
	return s->marks;
}
