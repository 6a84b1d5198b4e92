/* wait4/waitid, emulated in every supervised process.
 *
 * The kernel cannot answer them: a nested tracer's tracees are rewind's, and after a
 * restore every process is rewind's child. So nest keeps the model — tracee stops
 * (nest_task), live children with their group-stop/continue reports (nest_proc),
 * exits not yet collected (nest_zombie) — and answers from it with the selection
 * rules of kernel/exit.c (pid/pgid, __WCLONE/__WALL, __WNOTHREAD, WNOHANG, WNOWAIT).
 *
 * A wait that must block sleeps in the kernel: its syscall is turned into pause(),
 * so signals interrupt it as they would the real one. When something collectable
 * arrives the sleeper is interrupted and answered; any other stop gives it its
 * syscall back with -ERESTARTSYS, which the kernel restarts or fails with EINTR as it
 * would the real wait.
 *
 * An exit the kernel still holds as a zombie of the waiter (its real parent) is
 * reaped for real: the trapped call is turned into a waitid/wait4 of just that pid
 * (the kernel writes status and rusage) and its arguments are put back at its exit.
 *
 * Exits, zombies and SIGCHLD are in nest_exit.c. */
#include "nest_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

enum rep_kind { REP_NONE, REP_TRACEE, REP_ZOMBIE, REP_GSTOP, REP_CONT };

struct report {
	enum rep_kind kind;
	struct nest_task *nt;
	struct nest_zombie *z;
	struct nest_proc *np;
	uint64_t seq;
};

/* ---- pure helpers ---- */

void nw_status_to_info(int status, bool ptrace_stop, int *code, int *st)
{
	if (WIFEXITED(status)) {
		*code = CLD_EXITED;
		*st = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		*code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
		*st = WTERMSIG(status);
	} else if (WIFCONTINUED(status)) {
		*code = CLD_CONTINUED;
		*st = SIGCONT;
	} else {
		*code = ptrace_stop ? CLD_TRAPPED : CLD_STOPPED;
		*st = ptrace_stop ? (int)((unsigned)status >> 8) : WSTOPSIG(status);
	}
}

bool nw_selects(const struct nest_waitreq *w, pid_t pid, pid_t pgid, pid_t my_pgid,
		bool ptrace, bool wclone)
{
	switch (w->idtype) {
	case P_PID:
		if (pid != w->id)
			return false;
		break;
	case P_PGID:
		if (pgid != (w->id ? w->id : my_pgid))
			return false;
		break;
	default:
		break;
	}
	if (ptrace || (w->options & __WALL))
		return true;
	return wclone == !!(w->options & __WCLONE);
}

/* ---- the waits ---- */

static pid_t pgid_of(struct nest *n, pid_t pid)
{
	struct nest_proc *np = np_find(n, pid);
	return np ? np->pgid : pid;
}

static bool mine(const struct nest_waitreq *w, pid_t g, pid_t me, pid_t who_g, pid_t who_t)
{
	return (w->options & __WNOTHREAD) ? who_t == me : who_g == g;
}

static void consider(struct report *best, enum rep_kind k, uint64_t seq, struct nest_task *nt,
		     struct nest_zombie *z, struct nest_proc *np)
{
	if (best->kind != REP_NONE && best->seq <= seq)
		return;
	*best = (struct report){ k, nt, z, np, seq };
}

/* 1: something to report in *rep; 0: eligible children but nothing ready;
 * -ECHILD: nothing this wait could ever report. */
static int try_wait(struct nest *n, struct nest_task *me, const struct nest_waitreq *w,
		    struct report *rep)
{
	pid_t g = me->tgid, my_pgid = pgid_of(n, g);
	bool any = false;
	memset(rep, 0, sizeof *rep);
	for (struct nest_task *x = n->tasks; x; x = x->next) {
		if (!x->tracer || !mine(w, g, me->tid, x->tracer_tgid, x->tracer))
			continue;
		if (!nw_selects(w, x->tid, pgid_of(n, x->tgid), my_pgid, true, false))
			continue;
		any = true;
		if (x->held && x->pending)
			consider(rep, REP_TRACEE, x->seq, x, NULL, NULL);
	}
	for (struct nest_zombie *z = n->zombies; z; z = z->next) {
		if (z->then && mine(w, g, me->tid, z->then, z->then_tid) &&
		    nw_selects(w, z->tgid, z->pgid, my_pgid, false, z->wclone))
			any = true;   /* a child its tracer has not collected yet: it exists */
		if (!mine(w, g, me->tid, z->waiter, z->waiter_tid))
			continue;
		if (!nw_selects(w, z->thread ? z->tid : z->tgid, z->pgid, my_pgid, z->ptrace, z->wclone))
			continue;
		any = true;
		if (w->options & WEXITED)
			consider(rep, REP_ZOMBIE, z->seq, NULL, z, NULL);
	}
	for (struct nest_proc *c = n->procs; c; c = c->next) {
		if (!c->ppid || !mine(w, g, me->tid, c->ppid, c->ptid))
			continue;
		if (!nw_selects(w, c->pid, c->pgid, my_pgid, false, c->wclone))
			continue;
		any = true;
		struct nest_task *lead = nt_find(n, c->pid);
		if (lead && lead->tracer && lead->tracer_tgid == g)
			continue;   /* traced by its parent: its stops are reported as a tracee's */
		if (c->gstop_code && (w->options & WSTOPPED))
			consider(rep, REP_GSTOP, c->seq, NULL, NULL, c);
		if (c->cont_pending && (w->options & WCONTINUED))
			consider(rep, REP_CONT, c->seq, NULL, NULL, c);
	}
	if (rep->kind != REP_NONE)
		return 1;
	return any ? 0 : -ECHILD;
}

static struct proc *proc_of(struct nest *n, struct nest_task *nt)
{
	return target_find_proc(n->tg, nt->tgid);
}

/* Write what the wait returns into the waiter's memory. */
static int64_t write_result(struct nest *n, struct nest_task *me, const struct nest_waitreq *w,
			    pid_t who, int status, int code, int st, uid_t uid)
{
	struct proc *p = proc_of(n, me);
	if (!p)
		return -ESRCH;
	if (w->ru_at) {
		struct rusage ru;
		memset(&ru, 0, sizeof ru);
		if (proc_write_raw(p, RADDR(w->ru_at), &ru, sizeof ru) < 0)
			return -EFAULT;
	}
	if (w->nr == SYS_wait4) {
		if (w->status_at && proc_write_raw(p, RADDR(w->status_at), &status, sizeof status) < 0)
			return -EFAULT;
		return who;
	}
	if (w->info_at) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (who) {
			si.si_signo = SIGCHLD;
			si.si_code = code;
			si.si_pid = who;
			si.si_uid = uid;
			si.si_status = st;
		}
		/* The kernel writes these fields only (signo, errno, code, pid, uid, status). */
		if (proc_write_raw(p, RADDR(w->info_at), &si, 28) < 0)
			return -EFAULT;
	}
	return 0;
}

/* Report rep to the waiter (consuming it unless WNOWAIT); the syscall's result. */
static int64_t deliver(struct nest *n, struct nest_task *me, const struct nest_waitreq *w,
		       const struct report *rep)
{
	bool keep = w->options & WNOWAIT;
	pid_t who = 0;
	int status = 0, code = 0, st = 0;
	uid_t uid = getuid();
	struct nest_proc *np;
	switch (rep->kind) {
	case REP_TRACEE:
		who = rep->nt->tid;
		status = nest_wstatus(rep->nt->code);
		code = CLD_TRAPPED;
		st = rep->nt->code;
		if ((np = np_find(n, rep->nt->tgid)))
			uid = np->uid;
		if (!keep)
			rep->nt->pending = false;
		break;
	case REP_ZOMBIE:
		who = rep->z->thread ? rep->z->tid : rep->z->tgid;
		status = rep->z->status;
		uid = rep->z->uid;
		nw_status_to_info(status, false, &code, &st);
		if (!keep)
			nw_zombie_consume(n, rep->z);
		break;
	case REP_GSTOP:
		who = rep->np->pid;
		status = nest_wstatus(rep->np->gstop_code);
		code = CLD_STOPPED;
		st = rep->np->gstop_code;
		uid = rep->np->uid;
		if (!keep)
			rep->np->gstop_code = 0;
		break;
	case REP_CONT:
		who = rep->np->pid;
		status = 0xffff;
		code = CLD_CONTINUED;
		st = SIGCONT;
		uid = rep->np->uid;
		if (!keep)
			rep->np->cont_pending = false;
		break;
	default:
		return -ECHILD;
	}
	pr_debug(LM_NEST, "pid %d: wait reports %d status %#x", me->tid, who, status);
	return write_result(n, me, w, who, status, code, st, uid);
}

/* Decode the call; 0 or -EINVAL/-EBADF as the kernel. */
static int decode(struct nest *n, struct nest_task *me, long nr, const uint64_t a[6],
		  struct nest_waitreq *w)
{
	memset(w, 0, sizeof *w);
	w->nr = nr;
	memcpy(w->a, a, sizeof w->a);
	if (nr == SYS_wait4) {
		pid_t pid = (pid_t)a[0];
		w->status_at = a[1];
		w->options = (int)a[2];
		w->ru_at = a[3];
		if (w->options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
			return -EINVAL;
		w->options |= WEXITED;
		if (pid == INT32_MIN)
			return -ESRCH;
		if (pid > 0) {
			w->idtype = P_PID;
			w->id = pid;
		} else if (pid == -1) {
			w->idtype = P_ALL;
		} else {
			w->idtype = P_PGID;
			w->id = pid == 0 ? pgid_of(n, me->tgid) : -pid;
		}
		return 0;
	}
	w->idtype = (int)a[0];
	w->id = (pid_t)a[1];
	w->info_at = a[2];
	w->options = (int)a[3];
	w->ru_at = a[4];
	if (w->options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD |
			   __WCLONE | __WALL))
		return -EINVAL;
	if (!(w->options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	switch (w->idtype) {
	case P_ALL:
		return 0;
	case P_PID:
		return w->id > 0 ? 0 : -EINVAL;
	case P_PGID:
		if (w->id < 0)
			return -EINVAL;
		if (w->id == 0)
			w->id = pgid_of(n, me->tgid);
		return 0;
	case P_PIDFD: {
		char path[64], *text, *f;
		snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", me->tgid, (int)a[1]);
		if (read_file(path, &text, NULL) < 0)
			return -EBADF;
		f = strstr(text, "\nPid:");
		pid_t pid = f ? (pid_t)atoi(f + 5) : 0;
		free(text);
		if (pid <= 0)
			return pid == 0 ? -EBADF : -ECHILD;
		w->idtype = P_PID;
		w->id = pid;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* Turn the trapped call into a non-blocking wait for just pid, which the kernel holds
 * as the caller's zombie; its exit stop puts the arguments back (nw_conv_exit). */
static void convert(struct nest *n, struct nest_task *me, const struct nest_waitreq *w, pid_t pid)
{
	struct task *t = target_find_task(n->tg, me->tid);
	struct user_regs_struct *r;
	if (!t || task_get_regs(t, &r) < 0)
		return;
	me->conv_regs = *r;
	me->conv = true;
	me->conv_pid = pid;
	if (w->nr == SYS_wait4) {
		/* WCONTINUED changes nothing for a zombie, but keeps the rewritten call off
		 * the listener when the filter looks at it again (nest_wait_by_listener). */
		r->rdi = (uint64_t)pid;
		r->rdx = (uint64_t)(WCONTINUED | WNOHANG | __WALL);
	} else {
		r->rdi = P_PID;
		r->rsi = (uint64_t)pid;
		r->r10 = WEXITED | WNOHANG | __WALL;
	}
	t->regs_dirty = true;
	nt_resume_as(n, me, RESUME_SYSCALL);
}

void nw_conv_exit(struct nest *n, struct nest_task *nt)
{
	struct task *t = target_find_task(n->tg, nt->tid);
	struct user_regs_struct *r;
	nt->conv = false;
	if (!t || task_get_regs(t, &r) < 0)
		return;
	if ((int64_t)r->rax < 0)
		pr_warn(LM_NEST, "pid %d: reaping zombie %d failed: %s", nt->tgid, nt->conv_pid,
			strerror((int)-(int64_t)r->rax));
	r->rdi = nt->conv_regs.rdi;
	r->rsi = nt->conv_regs.rsi;
	r->rdx = nt->conv_regs.rdx;
	r->r10 = nt->conv_regs.r10;
	r->r8 = nt->conv_regs.r8;
	t->regs_dirty = true;
}

void nw_call(struct nest *n, struct nest_task *nt, long nr, const uint64_t a[6])
{
	struct nest_waitreq w;
	struct report rep;
	int e = decode(n, nt, nr, a, &w);
	if (e < 0) {
		nest_sys_return(n, nt, e);
		return;
	}
	int r = try_wait(n, nt, &w, &rep);
	if (r > 0) {
		if (rep.kind == REP_ZOMBIE && rep.z->real && !(w.options & WNOWAIT)) {
			pid_t pid = rep.z->tgid;
			nw_zombie_consume(n, rep.z);
			convert(n, nt, &w, pid);
			return;
		}
		nest_sys_return(n, nt, deliver(n, nt, &w, &rep));
		return;
	}
	if (r < 0 || (w.options & WNOHANG)) {
		if (r == 0 && nr == SYS_waitid)
			r = (int)write_result(n, nt, &w, 0, 0, 0, 0, 0);
		nest_sys_return(n, nt, r);
		return;
	}
	/* Block: sleep in pause() until interrupted. */
	struct task *t = target_find_task(n->tg, nt->tid);
	struct user_regs_struct *regs;
	if (!t || task_get_regs(t, &regs) < 0)
		return;
	nt->parked = true;
	nt->park_kicked = false;
	nt->park = w;
	nt->park_rip = regs->rip;
	regs->orig_rax = SYS_pause;
	t->regs_dirty = true;
	pr_debug(LM_NEST, "tid %d: wait blocks", nt->tid);
	nt_resume_as(n, nt, RESUME_CONT);
}

/* The zombie the kernel's own wait would return for w (it scans the caller's children,
 * oldest first, then its other threads'): one it holds for the caller, or NULL. */
static struct nest_zombie *kernel_choice(struct nest *n, struct nest_task *me,
					 const struct nest_waitreq *w)
{
	struct nest_zombie *best = NULL;
	pid_t my_pgid = pgid_of(n, me->tgid);
	for (struct nest_zombie *z = n->zombies; z; z = z->next) {
		if (!z->real || !mine(w, me->tgid, me->tid, z->waiter, z->waiter_tid) ||
		    !nw_selects(w, z->tgid, z->pgid, my_pgid, z->ptrace, z->wclone))
			continue;
		bool own = z->waiter_tid == me->tid, best_own = best && best->waiter_tid == me->tid;
		if (!best || (own && !best_own) || (own == best_own && z->born < best->born))
			best = z;
	}
	return best;
}

int64_t nw_nohang(struct nest *n, struct nest_task *nt, long nr, const uint64_t a[6],
		  bool *native)
{
	struct nest_waitreq w;
	struct report rep;
	*native = false;
	int e = decode(n, nt, nr, a, &w);
	if (e < 0)
		return e;
	if (!(w.options & WNOHANG) || (w.options & (WSTOPPED | WCONTINUED)) ||
	    !(w.options & WEXITED)) {
		/* The filter sends only these here: nothing else can be answered without
		 * blocking or a ptrace stop. */
		pr_warn(LM_NEST, "pid %d: wait with options %#x reached the listener", nt->tgid,
			w.options);
		return -EINVAL;
	}
	int r = try_wait(n, nt, &w, &rep);
	if (r < 0)
		return r;
	if (r == 0)
		return nr == SYS_waitid ? write_result(n, nt, &w, 0, 0, 0, 0, 0) : 0;
	if (rep.kind == REP_ZOMBIE && rep.z->real && !(w.options & WNOWAIT)) {
		/* The kernel holds it: let the call run and reap what the kernel picks
		 * (writing status and rusage itself), which nest then forgets too. */
		struct nest_zombie *k = kernel_choice(n, nt, &w);
		if (k) {
			nw_zombie_consume(n, k);
			*native = true;
			return 0;
		}
	}
	return deliver(n, nt, &w, &rep);
}

void nw_unpark(struct nest *n, struct nest_task *nt)
{
	struct task *t = target_find_task(n->tg, nt->tid);
	struct user_regs_struct *r;
	nt->parked = nt->park_kicked = false;
	if (!t || task_get_regs(t, &r) < 0)
		return;
	/* The state of a wait4/waitid interrupted in the kernel. */
	r->rip = nt->park_rip;
	r->orig_rax = (uint64_t)nt->park.nr;
	r->rax = (uint64_t)-NEST_ERESTARTSYS;
	t->regs_dirty = true;
}

/* The wait's syscall-exit stop, synthesized at a stop outside the syscall. */
static void report_exit(struct nest *n, struct nest_task *nt)
{
	siginfo_t si;
	int code = SIGTRAP | (nt->options & PTRACE_O_TRACESYSGOOD ? 0x80 : 0);
	memset(&si, 0, sizeof si);
	si.si_signo = SIGTRAP;
	si.si_code = code;
	si.si_pid = nt->tid;
	nt_report(n, nt, NS_SYSCALL_EXIT, code, 0, &si);
}

/* Reap a real zombie from a stop outside any syscall (an injected waitid). */
static void reap_injected(struct nest *n, struct task *t, pid_t pid)
{
	int64_t r = 0;
	siginfo_t si;
	bool had_si = task_get_siginfo(t, &si) == 0;   /* the injection's steps change it */
	int e = inject_syscall6(n->tg, t, SYS_waitid, &r, P_PID, (uint64_t)pid, 0,
				WEXITED | WNOHANG | __WALL, 0, 0);
	if (had_si && t->state == TS_STOPPED)
		task_set_siginfo(t, &si);
	if (e < 0 || r < 0)
		pr_warn(LM_NEST, "pid %d: reaping zombie %d failed: %s", t->proc->pid, pid,
			strerror(e < 0 ? -e : (int)-r));
}

bool nw_park_event(struct nest *n, struct nest_task *nt, struct tev *ev)
{
	if (ev->kind == TEV_EXITED || ev->kind == TEV_THREAD_EXITED)
		return false;
	struct task *t = ev->task;
	bool kick = ev->kind == TEV_INTERRUPT && nt->park_kicked && !nt->want_interrupt;
	struct report rep;
	nt->park_kicked = false;
	int r = try_wait(n, nt, &nt->park, &rep);
	if (r == 0 && kick) {
		nt_resume_as(n, nt, RESUME_CONT);   /* nothing after all: pause restarts */
		return true;
	}
	if (r == 0) {
		/* Another stop (a signal, a group stop, its tracer's interrupt): the wait
		 * is interrupted, to restart or fail with EINTR as the kernel decides. */
		nw_unpark(n, nt);
	} else {
		/* Something to report (or ECHILD): the wait returns, then the stop (if it
		 * was not just our kick) is seen on the way out, as natively. */
		int64_t res = r;
		if (r > 0) {
			if (rep.kind == REP_ZOMBIE && rep.z->real && !(nt->park.options & WNOWAIT)) {
				reap_injected(n, t, rep.z->tgid);
				rep.z->real = false;
			}
			res = deliver(n, nt, &nt->park, &rep);
		}
		nt->parked = false;
		struct user_regs_struct *regs;
		if (task_get_regs(t, &regs) == 0) {
			regs->rip = nt->park_rip;
			regs->rax = (uint64_t)res;
			regs->orig_rax = (uint64_t)nt->park.nr;
			t->regs_dirty = true;
		}
	}
	if (nt->tracer && nt->mode == RESUME_SYSCALL) {
		/* Its tracer sees the syscall's exit stop first. */
		if (!kick) {
			nt->deferred = true;
			nt->deferred_ev = *ev;
			nt->deferred_sig = t->pending_sig;
		}
		report_exit(n, nt);
		return true;
	}
	if (kick) {
		nt_resume(n, nt);
		return true;
	}
	return false;
}
