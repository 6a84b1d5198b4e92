/* How rewind's real stops become the stops a nested tracer sees (or stay rewind's
 * own and vanish): the handler of each kind of event, and the dispatch.
 *
 * A stop a tracer asked for is held (nt_report); any other resumes the task in its
 * tracer's mode (nt_resume). Stops rewind synthesizes: an auto-attached child's first
 * stop (SIGSTOP, or PTRACE_EVENT_STOP when seized), the SIGSTOP of PTRACE_ATTACH and
 * the SIGTRAP after exec of a PTRACE_TRACEME tracee (real signals rewind sends and
 * recognises by their siginfo), syscall exits of emulated waits. */
#include "nest_int.h"

#include <errno.h>
#include <linux/sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void synth_si(siginfo_t *si, int signo, int code, pid_t pid, uid_t uid)
{
	memset(si, 0, sizeof *si);
	si->si_signo = signo;
	si->si_code = code;
	si->si_pid = pid;
	si->si_uid = uid;
}

static uid_t uid_of(struct nest *n, pid_t tgid)
{
	struct nest_proc *np = np_find(n, tgid);
	return np ? np->uid : getuid();
}

/* A stop the tracer sees as PTRACE_EVENT_<ev> (SIGTRAP). */
static void report_event(struct nest *n, struct nest_task *nt, int ev, unsigned long msg)
{
	siginfo_t si;
	int code = SIGTRAP | (ev << 8);
	synth_si(&si, SIGTRAP, code, nt->tid, uid_of(n, nt->tgid));
	nt_report(n, nt, NS_EVENT, code, msg, &si);
}

void nest_first_stop(struct nest *n, struct nest_task *nt)
{
	bool auto_attached = nt->born_traced;
	nt->birth = 0;
	nt->born_traced = false;
	if (!nt->tracer || !auto_attached) {   /* attached later: no stop of its own */
		nt_resume(n, nt);
		return;
	}
	if (nt->seized) {
		report_event(n, nt, PTRACE_EVENT_STOP, 0);
		return;
	}
	/* An auto-attached child of a non-seized tracer starts with a SIGSTOP (queued
	 * without siginfo: SI_USER from pid 0). Its real stop is an interrupt stop. */
	siginfo_t si;
	synth_si(&si, SIGSTOP, SI_USER, 0, 0);
	nt->stop_sig = SIGSTOP;
	nt_report(n, nt, NS_SIGNAL, SIGSTOP, 0, &si);
}

int64_t nest_call(struct nest *n, struct nest_task *nt, long nr, const uint64_t a[6], bool *native)
{
	*native = false;
	switch (nr) {
	case SYS_ptrace:
		return nest_ptrace(n, nt, (long)a[0], (pid_t)a[1], a[2], a[3]);
	case SYS_wait4:
	case SYS_waitid:
		return nw_nohang(n, nt, nr, a, native);
	case SYS_kill:
	case SYS_tkill:
	case SYS_tgkill: {
		/* Signals go through the kernel, except to a zombie only nest still keeps
		 * (its process is gone): the kernel would accept and ignore them. */
		pid_t target = (pid_t)(nr == SYS_tgkill ? a[1] : a[0]);
		if (target > 0 && nw_is_zombie(n, target) && kill(target, 0) < 0 && errno == ESRCH)
			return 0;
		break;
	}
	case SYS_getppid: {
		struct nest_proc *np = np_find(n, nt->tgid);
		if (np && np->ppid)
			return np->ppid;
		break;
	}
	default:
		break;
	}
	*native = true;
	return 0;
}

static void on_seccomp(struct nest *n, struct nest_task *nt, struct task *t, struct tev *ev)
{
	struct user_regs_struct *r;
	nt->show_nr = -1;
	if (task_get_regs(t, &r) < 0)
		return;
	long nr = (long)r->orig_rax;
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	if ((long)ev->msg != nr) {
		/* Not our filter's (an i386 entry, or the program's own filter). */
		if (nt->tracer && (nt->options & PTRACE_O_TRACESECCOMP))
			report_event(n, nt, PTRACE_EVENT_SECCOMP, ev->msg);
		else
			nt_resume(n, nt);
		return;
	}
	if (nr == SYS_wait4 || nr == SYS_waitid) {
		nw_call(n, nt, nr, a);
		return;
	}
	bool native;
	int64_t res = nest_call(n, nt, nr, a, &native);
	if (native)
		nt_resume(n, nt);
	else
		nest_sys_return(n, nt, res);
}

static void on_syscall_stop(struct nest *n, struct nest_task *nt, struct task *t, bool entry)
{
	struct user_regs_struct *r;
	if (entry) {
		nt->show_nr = -1;
		if (nt->hide_entry) {
			/* The re-executed entry of a syscall its tracer saw before the
			 * checkpoint: put back the registers the tracer saw (and perhaps
			 * changed) and go on in its mode. */
			nt->hide_entry = false;
			if (nt->entry_apply)
				task_set_regs(t, &nt->entry_view);
			nt->entry_apply = false;
			nt_resume(n, nt);
			return;
		}
	} else {
		int64_t rax = task_get_regs(t, &r) == 0 ? (int64_t)r->rax : 0;
		if (n->deferring && !nt->want_interrupt && !nt->conv && rax >= -516 && rax <= -512) {
			/* Stopping everyone for a checkpoint interrupted a syscall in
			 * progress: natively it runs on. Hide this exit and the entry of the
			 * syscall restarting. */
			if (nt->tracer && (nt->mode == RESUME_SYSCALL || nt->mode == RESUME_SYSEMU))
				nt->hide_entry = true;
			nt->show_nr = -1;
			nt_resume(n, nt);
			return;
		}
		if (nt->conv)
			nw_conv_exit(n, nt);
		if (nt->show_nr >= 0 && task_get_regs(t, &r) == 0) {
			r->orig_rax = (uint64_t)nt->show_nr;
			t->regs_dirty = true;
		}
		nt->show_nr = -1;
	}
	if (nt->tracer && (nt->mode == RESUME_SYSCALL || (entry && nt->mode == RESUME_SYSEMU))) {
		int code = SIGTRAP | (nt->options & PTRACE_O_TRACESYSGOOD ? 0x80 : 0);
		siginfo_t si;
		synth_si(&si, SIGTRAP, code, nt->tid, uid_of(n, nt->tgid));
		nt_report(n, nt, entry ? NS_SYSCALL_ENTRY : NS_SYSCALL_EXIT, code, 0, &si);
		return;
	}
	nt_resume(n, nt);
}

/* Is this signal stop one we caused with tgkill? */
static bool ours(struct nest *n, const siginfo_t *si)
{
	return si->si_code == SI_TKILL && si->si_pid == n->self;
}

static void on_signal(struct nest *n, struct nest_task *nt, struct task *t, struct tev *ev,
		      siginfo_t *sip)
{
	int sig = ev->kind == TEV_SIGNAL ? t->pending_sig : SIGTRAP;
	siginfo_t si;
	nt->real_sig = true;
	bool trap = ev->kind != TEV_SIGNAL;
	if (sip)
		si = *sip;
	else if (trap && nt->tracer && !nt->held)
		synth_si(&si, SIGTRAP, 0, 0, 0);   /* fetched when asked for (nt_siginfo) */
	else if (task_get_siginfo(t, &si) < 0)
		synth_si(&si, sig, SI_KERNEL, 0, 0);
	if (sig == SIGCHLD)
		nw_sigchld_stop(n, nt, &si);
	if (ev->kind == TEV_STEP || ev->kind == TEV_HWBP)
		nt->dr[6] = 0xffff0ff0 | (ev->kind == TEV_STEP ? 0x4000 : (ev->msg & 0xf));
	if (nt->inject_sent && sig == nt->inject_sig && ours(n, &si)) {
		/* A signal its tracer already let through at a stop that could not take it. */
		nt->inject_sent = false;
		nt->inject_sig = 0;
		task_set_siginfo(t, &nt->inject_si);
		t->pending_sig = sig;
		nt_resume(n, nt);
		return;
	}
	if (nt->attach_stop && sig == SIGSTOP && ours(n, &si)) {
		nt->attach_stop = false;
		synth_si(&si, SIGSTOP, SI_KERNEL, 0, 0);   /* PTRACE_ATTACH's SEND_SIG_PRIV */
		task_set_siginfo(t, &si);
	} else if (nt->exec_trap && sig == SIGTRAP && ours(n, &si)) {
		nt->exec_trap = false;
		synth_si(&si, SIGTRAP, SI_USER, nt->tgid, uid_of(n, nt->tgid));
		task_set_siginfo(t, &si);
	}
	if (nt->tracer && !nt->held) {
		nt->stop_sig = sig;
		nt_report(n, nt, NS_SIGNAL, sig, 0, &si);
		nt->si_lazy = trap && !sip;
		return;
	}
	t->pending_sig = sig;
	nt_resume(n, nt);
}

const siginfo_t *nt_siginfo(struct nest *n, struct nest_task *nt)
{
	struct task *t = nt_task(n, nt);
	if (nt->si_lazy && nt->real_sig && t && t->state == TS_STOPPED)
		task_get_siginfo(t, &nt->si);
	nt->si_lazy = false;
	return &nt->si;
}

static void on_group_stop(struct nest *n, struct nest_task *nt, struct task *t, struct tev *ev)
{
	int sig = ev->sig;
	struct nest_proc *np = np_get(n, nt->tgid);
	if (!np->stopped) {
		np->stopped = true;
		np->gstop_code = sig;
		np->cont_pending = false;
		np->seq = ++n->seq;
		if (np->ppid) {
			siginfo_t c;
			synth_si(&c, SIGCHLD, CLD_STOPPED, np->pid, np->uid);
			c.si_status = sig;
			if (np->real_ppid != np->ppid)
				nw_notify(n, np->ppid, &c);
			else
				nw_wake(n, np->ppid);   /* the kernel signals the real parent */
		}
	}
	(void)t;
	if (nt->tracer && !nt->held && (!nt->listening || nt->want_interrupt)) {
		siginfo_t si, *sp = NULL;
		int code = nt->seized ? sig | (PTRACE_EVENT_STOP << 8) : sig;
		if (nt->seized) {
			synth_si(&si, sig, code, nt->tid, np->uid);
			sp = &si;
		}
		nt->want_interrupt = false;
		nt_report(n, nt, NS_GROUP, code, 0, sp);   /* legacy: GETSIGINFO fails */
		return;
	}
	/* Untraced, or listening already (our own interrupt): stay group-stopped. */
	nt->listening = !nt->held;
	nt_resume(n, nt);
}

/* The group stop of nt's process ended (SIGCONT). */
static void continued(struct nest *n, struct nest_task *nt)
{
	struct nest_proc *np = np_find(n, nt->tgid);
	nt->listening = false;
	if (!np || !np->stopped)
		return;
	np->stopped = false;
	np->gstop_code = 0;
	np->cont_pending = true;
	np->seq = ++n->seq;
	if (np->ppid) {
		siginfo_t c;
		synth_si(&c, SIGCHLD, CLD_CONTINUED, np->pid, np->uid);
		c.si_status = SIGCONT;
		if (np->real_ppid != np->ppid)
			nw_notify(n, np->ppid, &c);
		else
			nw_wake(n, np->ppid);
	}
}

void nest_notified(struct nest *n, struct nest_task *nt)
{
	nt->listening = false;
	if (nt->tracer && nt->seized) {
		nt->want_interrupt = false;
		report_event(n, nt, PTRACE_EVENT_STOP, 0);
		return;
	}
	nt_resume(n, nt);
}

void nest_continued(struct nest *n, struct nest_task *nt)
{
	continued(n, nt);
}

static void on_interrupt(struct nest *n, struct nest_task *nt, struct task *t, bool notify)
{
	if (nt->birth == 1) {
		nest_first_stop(n, nt);
		return;
	}
	if (nt->listening) {
		if (notify)
			continued(n, nt);
		nest_notified(n, nt);
		return;
	}
	if (nt->want_interrupt && nt->tracer) {
		nt->want_interrupt = false;
		report_event(n, nt, PTRACE_EVENT_STOP, 0);
		return;
	}
	(void)t;
	nt_resume(n, nt);
}

void nest_on_quiet_stop(struct nest *n, struct nest_task *nt)
{
	struct task *t = nt_task(n, nt);
	if (!t || t->state != TS_STOPPED || nt->held || nt->birth == 2)
		return;
	bool notify = (t->status >> 16) == PTRACE_EVENT_STOP && WSTOPSIG(t->status) == SIGTRAP;
	if (nt->listening && nt->restored) {
		nt_resume(n, nt);   /* a restored group stop: listen again */
		return;
	}
	if (nt->listening && !notify) {
		nt_resume(n, nt);
		return;
	}
	on_interrupt(n, nt, t, notify);
}

/* Clone flags of the syscall t is stopped in (fork/vfork give their own). */
static uint64_t clone_flags(struct task *t)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return 0;
	if (r->orig_rax == SYS_clone)
		return r->rdi;
	if (r->orig_rax == SYS_clone3) {
		uint64_t f = 0;
		proc_read_raw(t->proc, RADDR(r->rdi), &f, sizeof f);
		return f;
	}
	return r->orig_rax == SYS_vfork ? CLONE_VFORK | CLONE_VM : 0;
}

static void on_fork(struct nest *n, struct nest_task *nt, struct task *t, struct tev *ev)
{
	struct task *c = ev->child;
	if (!c) {
		nt_resume(n, nt);
		return;
	}
	struct nest_task *cn = nt_find(n, c->tid);
	bool stopped_already = cn && cn->birth == 2;
	if (!cn)
		cn = nt_of(n, c);
	if (c->proc != t->proc) {
		struct nest_proc *cp = np_get(n, c->proc->pid), *pp = np_find(n, nt->tgid);
		pid_t real = 0;
		nest_read_ids(c->proc->pid, &real, NULL, &cp->pgid);
		cp->real_ppid = real ? real : nt->tgid;
		if (cp->real_ppid == nt->tgid) {
			cp->ppid = nt->tgid;
			cp->ptid = nt->tid;
		} else {   /* CLONE_PARENT: a sibling */
			cp->ppid = pp ? pp->ppid : 0;
			cp->ptid = pp ? pp->ptid : 0;
		}
		cp->wclone = ev->kind == TEV_CLONE;
		cp->uid = pp ? pp->uid : cp->uid;
	}
	int event = ev->kind == TEV_FORK ? PTRACE_EVENT_FORK :
		    ev->kind == TEV_VFORK ? PTRACE_EVENT_VFORK : PTRACE_EVENT_CLONE;
	unsigned long opt = ev->kind == TEV_FORK ? PTRACE_O_TRACEFORK :
			    ev->kind == TEV_VFORK ? PTRACE_O_TRACEVFORK : PTRACE_O_TRACECLONE;
	uint64_t flags = nt->tracer ? clone_flags(t) : 0;
	bool traced = nt->tracer && !(flags & CLONE_UNTRACED) &&
		      ((nt->options & opt) || (flags & CLONE_PTRACE));
	if (traced) {
		cn->tracer = nt->tracer;
		cn->tracer_tgid = nt->tracer_tgid;
		cn->seized = nt->seized;
		cn->options = nt->options;
		cn->mode = RESUME_CONT;
		cn->born_traced = true;
	}
	/* Its first stop: seen already (or swallowed while stopping everyone), or to come. */
	if (stopped_already || c->state == TS_STOPPED)
		nest_first_stop(n, cn);
	else
		cn->birth = 1;
	if (nt->tracer && (nt->options & opt))
		report_event(n, nt, event, (unsigned long)c->tid);
	else
		nt_resume(n, nt);
}

static void on_exec(struct nest *n, struct nest_task *nt, struct task *t, struct tev *ev)
{
	pid_t former = (pid_t)ev->msg;
	/* The other threads are gone; an execing non-leader took the leader's tid. */
	for (struct nest_task *o = n->tasks, *next; o; o = next) {
		next = o->next;
		if (o != nt && o->tgid == nt->tgid)
			nt_free(n, o);
	}
	nt->tid = t->tid;
	memset(nt->dr, 0, sizeof nt->dr);   /* exec flushes hardware breakpoints */
	nt->dr[6] = 0xffff0ff0;
	nt->dr_used = false;
	struct nest_proc *np = np_find(n, nt->tgid);
	if (np)
		nest_read_ids(np->pid, NULL, NULL, &np->pgid);
	if (nt->tracer && (nt->options & PTRACE_O_TRACEEXEC)) {
		report_event(n, nt, PTRACE_EVENT_EXEC, (unsigned long)former);
		return;
	}
	if (nt->tracer && !nt->seized) {
		/* PTRACE_TRACEME/ATTACH without TRACEEXEC: a real SIGTRAP after exec. */
		nt->exec_trap = true;
		syscall(SYS_tgkill, nt->tgid, nt->tid, SIGTRAP);
	}
	nt_resume(n, nt);
}

static void on_vfork_done(struct nest *n, struct nest_task *nt, struct task *t)
{
	unsigned long msg = 0;
	task_get_eventmsg(t, &msg);
	if (nt->tracer && (nt->options & PTRACE_O_TRACEVFORKDONE))
		report_event(n, nt, PTRACE_EVENT_VFORK_DONE, msg);
	else
		nt_resume(n, nt);
}

static void on_exiting(struct nest *n, struct nest_task *nt, struct tev *ev)
{
	struct nest_proc *np = np_find(n, nt->tgid);
	/* SIGKILL takes a task out of any stop, the ones held for its tracer too. */
	nt->held = nt->pending = nt->listening = false;
	nt->birth = 0;
	if (np && nt->tid == np->pid)
		nest_read_ids(np->pid, NULL, NULL, &np->pgid);
	if (nt->tracer && (nt->options & PTRACE_O_TRACEEXIT))
		report_event(n, nt, PTRACE_EVENT_EXIT, (unsigned long)(unsigned)ev->status);
	else
		nt_resume(n, nt);
}

int nest_handle(struct nest *n, struct tev *ev)
{
	if (ev->proc && ev->proc->snapshot)
		return 0;
	if (ev->kind == TEV_EXITED) {
		pid_t pid = ev->proc ? ev->proc->pid : ev->tid;
		/* Threads that died with the process without an event of their own. */
		for (struct nest_task *o = n->tasks, *next; o; o = next) {
			next = o->next;
			if (o->tgid == pid && o->tid != pid)
				nw_task_exited(n, o->tid, pid, ev->status, false);
		}
		nw_task_exited(n, pid, pid, ev->status, true);
		return 0;
	}
	if (ev->kind == TEV_THREAD_EXITED) {
		nw_task_exited(n, ev->tid, ev->proc ? ev->proc->pid : ev->tid, ev->status, false);
		return 0;
	}
	struct task *t = ev->task;
	if (!t || t->state != TS_STOPPED)
		return 0;
	struct nest_task *nt = nt_find(n, t->tid);
	if (!nt) {
		nt = nt_of(n, t);
		if (ev->kind == TEV_INTERRUPT || ev->kind == TEV_GROUP_STOP) {
			/* A new task's first stop before its parent's fork/clone event. */
			nt->birth = 2;
			return 0;
		}
	}
	siginfo_t si, *sip = NULL;
	if (ev->kind == TEV_SIGNAL && t->pending_sig == SIGCHLD && task_get_siginfo(t, &si) == 0) {
		sip = &si;
		if (nw_early_sigchld(n, nt, sip))
			return 0;
	}
	if (nt->parked && nw_park_event(n, nt, ev))
		return 0;
	switch (ev->kind) {
	case TEV_SECCOMP:
		on_seccomp(n, nt, t, ev);
		break;
	case TEV_SYSCALL_ENTRY:
	case TEV_SYSCALL_EXIT:
		on_syscall_stop(n, nt, t, ev->kind == TEV_SYSCALL_ENTRY);
		break;
	case TEV_SIGNAL:
	case TEV_STEP:
	case TEV_HWBP:
	case TEV_BREAKPOINT:
		on_signal(n, nt, t, ev, sip);
		break;
	case TEV_GROUP_STOP:
		if (nt->birth == 1) {
			nest_first_stop(n, nt);
			break;
		}
		on_group_stop(n, nt, t, ev);
		break;
	case TEV_INTERRUPT:
		on_interrupt(n, nt, t, WSTOPSIG(ev->status) == SIGTRAP && nt->listening);
		break;
	case TEV_FORK:
	case TEV_VFORK:
	case TEV_CLONE:
		on_fork(n, nt, t, ev);
		break;
	case TEV_VFORK_DONE:
		on_vfork_done(n, nt, t);
		break;
	case TEV_EXEC:
		on_exec(n, nt, t, ev);
		break;
	case TEV_EXITING:
		on_exiting(n, nt, ev);
		break;
	default:
		nt_resume(n, nt);
	}
	return 0;
}

