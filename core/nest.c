/* Nested tracers: the tables, emulated stops and how every task resumes.
 *
 * Every real stop of a supervised task comes to nest_handle() (nest_stop.c). A task
 * traced by a nested tracer (nt->tracer) runs in the mode its tracer asked for
 * (nt->mode); a stop the tracer would see natively becomes an emulated stop: the task
 * stays really stopped (nt->held) and its tracer gets the wait status and SIGCHLD it
 * expects. Stops it would not see (rewind's own seccomp traps and interrupts, syscall
 * stops while it asked for PTRACE_CONT) resume the task at once, in its tracer's mode. */
#include "nest_int.h"

#include <errno.h>
#include <linux/sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const int nest_trapped[] = {
	SYS_ptrace, SYS_wait4, SYS_waitid, SYS_kill, SYS_tgkill, SYS_tkill, SYS_getppid,
};
const size_t nest_ntrapped = ARRAY_SIZE(nest_trapped);

/* ---- tables ---- */

struct nest_task *nt_find(struct nest *n, pid_t tid)
{
	for (struct nest_task *nt = n->tasks; nt; nt = nt->next)
		if (nt->tid == tid)
			return nt;
	return NULL;
}

struct nest_proc *np_find(struct nest *n, pid_t pid)
{
	for (struct nest_proc *np = n->procs; np; np = np->next)
		if (np->pid == pid)
			return np;
	return NULL;
}

/* Parent, uid and process group of pid from /proc. */
void nest_read_ids(pid_t pid, pid_t *ppid, uid_t *uid, pid_t *pgid)
{
	char path[64], *text, *f;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) == 0) {
		if ((f = strstr(text, "\nPPid:")) && ppid)
			*ppid = (pid_t)atoi(f + 6);
		if ((f = strstr(text, "\nUid:")) && uid)
			*uid = (uid_t)strtoul(f + 5, NULL, 10);
		free(text);
	}
	if (!pgid)
		return;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (read_file(path, &text, NULL) == 0) {
		/* pid (comm) state ppid pgrp: comm may hold spaces and parens */
		char *rp = strrchr(text, ')');
		int pg = 0;
		if (rp && sscanf(rp + 1, " %*c %*d %d", &pg) == 1)
			*pgid = pg;
		free(text);
	}
}

struct nest_proc *np_get(struct nest *n, pid_t pid)
{
	struct nest_proc *np = np_find(n, pid);
	if (np)
		return np;
	np = xcalloc(1, sizeof *np);
	np->pid = pid;
	np->born = ++n->seq;
	np->uid = getuid();
	np->pgid = pid;
	nest_read_ids(pid, &np->real_ppid, &np->uid, &np->pgid);
	np->next = n->procs;
	n->procs = np;
	return np;
}

struct nest_task *nt_of(struct nest *n, struct task *t)
{
	struct nest_task *nt = nt_find(n, t->tid);
	if (nt)
		return nt;
	nt = xcalloc(1, sizeof *nt);
	nt->tid = t->tid;
	nt->tgid = t->proc->pid;
	nt->mode = RESUME_CONT;
	nt->show_nr = -1;
	nt->dr[6] = 0xffff0ff0;
	nt->next = n->tasks;
	n->tasks = nt;
	np_get(n, nt->tgid);
	return nt;
}

void nt_free(struct nest *n, struct nest_task *nt)
{
	for (struct nest_task **pp = &n->tasks; *pp; pp = &(*pp)->next)
		if (*pp == nt) {
			*pp = nt->next;
			free(nt);
			return;
		}
}

void nest_warn_once(struct nest *n, int what, const char *fmt, ...)
{
	for (size_t i = 0; i < n->warned.n; i++)
		if (n->warned.v[i] == what)
			return;
	vec_push(&n->warned, what);
	if (!log_on(LM_NEST, LOG_WARN))
		return;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_msg(LM_NEST, LOG_WARN, "%s", buf);
}

int nest_new(struct target *tg, struct nest **out)
{
	struct nest *n = xcalloc(1, sizeof *n);
	n->tg = tg;
	n->self = getpid();
	n->uid = getuid();
	n->listener = -1;
	*out = n;
	return 0;
}

void nest_free(struct nest *n)
{
	if (!n)
		return;
	struct nest_state s = { n->tasks, n->procs, n->zombies, 0, { 0 } };
	nest_state_clear(&s);
	vec_free(&n->warned);
	if (n->listener >= 0)
		close(n->listener);
	free(n);
}

void nest_adopt(struct nest *n, struct proc *top)
{
	struct nest_proc *np = np_get(n, top->pid);
	np->ppid = np->ptid = 0;
	np->real_ppid = n->self;
	for (struct task *t = top->tasks; t; t = t->next)
		if (t->state != TS_DEAD)
			nt_of(n, t);
}

/* ---- resuming and holding ---- */

struct task *nt_task(struct nest *n, struct nest_task *nt)
{
	struct task *t = target_find_task(n->tg, nt->tid);
	return t && !t->proc->snapshot ? t : NULL;
}

/* Resume in mode m regardless of the tracer's mode (internal needs). */
static void resume_as(struct nest *n, struct nest_task *nt, struct task *t, enum resume_mode m)
{
	/* rewind sets no debug registers of its own here: keep the engine from writing
	 * its (empty) set over the nested tracer's. */
	t->dr_gen = t->proc->hw_gen;
	nt->real_sig = false;
	nt->restored = false;
	int e = target_resume(n->tg, t, m);
	if (e < 0 && e != -ESRCH)
		pr_warn(LM_NEST, "tid %d: cannot resume (mode %d): %s", t->tid, m, strerror(-e));
	if (nt->want_interrupt && nt->tracer)
		task_interrupt(t);
}

void nt_resume_as(struct nest *n, struct nest_task *nt, enum resume_mode m)
{
	struct task *t = nt_task(n, nt);
	if (t && t->state == TS_STOPPED)
		resume_as(n, nt, t, m);
}

void nt_resume(struct nest *n, struct nest_task *nt)
{
	struct task *t = nt_task(n, nt);
	if (!t || t->state != TS_STOPPED || nt->held || nt->birth)
		return;
	if (n->deferring) {
		nt->kick = true;
		return;
	}
	nt->kick = false;
	if (nt->deferred) {
		/* The stop it really sits in comes now (after a synthesized syscall exit). */
		struct tev ev = nt->deferred_ev;
		nt->deferred = false;
		ev.task = t;
		ev.proc = t->proc;
		if (ev.kind == TEV_SIGNAL)
			t->pending_sig = nt->deferred_sig;
		nest_handle(n, &ev);
		return;
	}
	enum resume_mode m = nt->tracer ? nt->mode : RESUME_CONT;
	if (nt->listening)
		m = RESUME_LISTEN;
	if (nt->inject_sig && !nt->inject_sent) {
		if (nt->real_sig && m != RESUME_LISTEN) {
			t->pending_sig = nt->inject_sig;
			task_set_siginfo(t, &nt->inject_si);
			nt->inject_sig = 0;
		} else {
			/* The stop cannot take a signal: queue it; its stop is recognised by
			 * si_code SI_TKILL from us and delivered without a report. */
			syscall(SYS_tgkill, nt->tgid, nt->tid, nt->inject_sig);
			nt->inject_sent = true;
		}
	}
	if (nt->entry_settled) {
		/* The checkpoint backed the syscall out: run it again, hiding its entry. */
		nt->entry_settled = false;
		nt->hide_entry = nt->entry_apply = true;
		m = RESUME_SYSCALL;
	} else if (m != RESUME_SYSCALL && m != RESUME_SYSEMU) {
		nt->show_nr = -1;
	}
	resume_as(n, nt, t, m);
}

void nt_report(struct nest *n, struct nest_task *nt, enum nstop kind, int code,
	       unsigned long msg, const siginfo_t *si)
{
	struct task *t = nt_task(n, nt);
	nt->held = true;
	nt->kind = kind;
	nt->code = code;
	nt->pending = true;
	nt->seq = ++n->seq;
	nt->msg = msg;
	nt->listening = false;
	nt->si_lazy = false;
	if (si)
		nt->si = *si;
	else
		memset(&nt->si, 0, sizeof nt->si);
	if (t)
		t->pending_sig = 0;   /* the tracer decides; a checkpoint must not re-queue it */
	pr_debug(LM_NEST, "tid %d: stop %d code %#x for tracer %d", nt->tid, kind, code,
		 nt->tracer);
	siginfo_t c;
	memset(&c, 0, sizeof c);
	c.si_signo = SIGCHLD;
	bool jobctl = kind == NS_GROUP || (kind == NS_EVENT && (code >> 8) == PTRACE_EVENT_STOP);
	c.si_code = jobctl ? CLD_STOPPED : CLD_TRAPPED;
	c.si_pid = nt->tid;
	struct nest_proc *np = np_find(n, nt->tgid);
	c.si_uid = np ? np->uid : getuid();
	c.si_status = jobctl ? (np && np->stopped ? np->gstop_code : 0) : (code & 0x7f);
	nw_notify(n, nt->tracer_tgid, &c);
}

void nt_unlink(struct nest *n, struct nest_task *nt, bool resume)
{
	struct task *t = nt_task(n, nt);
	bool was_held = nt->held;
	struct nest_proc *np = np_find(n, nt->tgid);
	nt->tracer = nt->tracer_tgid = 0;
	nt->seized = false;
	nt->options = 0;
	nt->held = nt->pending = false;
	nt->want_interrupt = nt->attach_stop = nt->exec_trap = false;
	nt->entry_settled = nt->hide_entry = nt->entry_apply = nt->deferred = false;
	nt->mode = RESUME_CONT;
	nt->kind = NS_NONE;
	/* Detach flushes the tracer's hardware breakpoints. */
	if (nt->dr_used && t && t->state == TS_STOPPED) {
		task_set_dr(t, 7, 0);
		for (int i = 0; i < 4; i++)
			task_set_dr(t, i, 0);
	}
	memset(nt->dr, 0, sizeof nt->dr);
	nt->dr[6] = 0xffff0ff0;
	nt->dr_used = false;
	/* A process still group-stopped stays stopped. */
	nt->listening = np && np->stopped;
	if (resume && (was_held || nt->listening))
		nt_resume(n, nt);
}

void nest_sys_return(struct nest *n, struct nest_task *nt, int64_t r)
{
	struct task *t = nt_task(n, nt);
	struct user_regs_struct *regs;
	if (!t || task_get_regs(t, &regs) < 0)
		return;
	nt->show_nr = (long)regs->orig_rax;
	regs->orig_rax = (uint64_t)-1;   /* skipped: rax stays as we set it */
	regs->rax = (uint64_t)r;
	t->regs_dirty = true;
	nt_resume(n, nt);
}

void nest_describe(struct nest *n, struct sbuf *out)
{
	for (struct nest_task *nt = n->tasks; nt; nt = nt->next) {
		if (!nt->tracer)
			continue;
		sbuf_printf(out, "tid %d (pid %d) traced by %d%s, %s", nt->tid, nt->tgid, nt->tracer,
			    nt->seized ? " (seized)" : "", nt->held ? "stopped" :
			    nt->listening ? "listening" : "running");
		if (nt->held)
			sbuf_printf(out, ", status %#x%s", nest_wstatus(nt->code),
				    nt->pending ? " not yet waited for" : "");
		sbuf_putc(out, '\n');
	}
}
