/* The inferior call's event loop: only the calling thread runs; its events end
 * the call or are dealt with (breakpoints stepped over, quiet signals delivered,
 * children let run); events of other processes are handled quietly and those of
 * other threads of the debuggee kept for the inferior's run loop. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "infcall_int.h"
#include "log.h"

#define EFLAGS_RF 0x10000ull

void icr_end_stepoff(struct call *c)
{
	if (c->stepoff && !c->p->dead && proc_bp_find(c->p, c->stepoff)) {
		uint8_t cc = 0xcc;
		proc_write_raw(c->p, RADDR(c->stepoff), &cc, 1);
	}
	c->stepoff = 0;
}

static void keep(struct call *c, const struct tev *ev)
{
	vec_push(&c->kept, *ev);
}

static int resume(struct call *c, enum resume_mode m)
{
	int e = target_resume(c->tg, c->t, m);
	if (e < 0) {
		sbuf_printf(c->err, "Cannot resume thread %u for the call: %s.", c->t->num,
			    strerror(-e));
		return e;
	}
	return 1;
}

/* Step t off the int3 at addr; the loop puts it back when the step is reported. */
static int begin_stepoff(struct call *c, uint64_t addr)
{
	struct bpsite *s = proc_bp_find(c->p, addr);
	if (!s)
		return resume(c, RESUME_CONT);
	uint8_t orig = s->orig;
	int e = proc_write_raw(c->p, RADDR(addr), &orig, 1);
	if (e < 0) {
		sbuf_printf(c->err, "Cannot step over the breakpoint at 0x%" PRIx64 ": %s.", addr,
			    strerror(-e));
		return e;
	}
	c->stepoff = addr;
	return resume(c, RESUME_STEP);
}

/* A task of another process (a vfork child sharing our int3s) stopped on one:
 * step it off right away and let it go on. */
static void other_stepoff(struct call *c, struct task *o, uint64_t addr)
{
	struct bpsite *s = proc_bp_find(o->proc, addr);
	if (s && proc_write_raw(o->proc, RADDR(addr), &s->orig, 1) == 0 &&
	    target_resume(c->tg, o, RESUME_STEP) == 0) {
		struct tev ev;
		while (target_wait_task(c->tg, o, &ev) == 1) {
			if (ev.kind == TEV_STEP || ev.kind == TEV_HWBP || ev.kind == TEV_BREAKPOINT)
				break;
			if (ev.kind == TEV_EXITED || ev.kind == TEV_THREAD_EXITED || ev.kind == TEV_EXEC ||
			    ev.kind == TEV_SIGNAL || ev.kind == TEV_EXITING) {
				target_queue_push(c->tg, &ev);   /* the loop sees it next */
				break;
			}
			if (target_resume(c->tg, o, RESUME_STEP) < 0)
				break;
		}
		if (!o->proc->dead && proc_bp_find(o->proc, addr)) {
			uint8_t cc = 0xcc;
			proc_write_raw(o->proc, RADDR(addr), &cc, 1);
		}
	}
	if (o->state == TS_STOPPED && o->last_ev != TEV_SIGNAL && o->last_ev != TEV_EXEC &&
	    o->last_ev != TEV_EXITING)
		target_resume(c->tg, o, RESUME_CONT);
}

/* A process or thread the called code created. Threads of the debuggee stay stopped
 * (their first stop is kept for the run loop); child processes lose the int3s they
 * copied and run. */
static void new_child(struct call *c, struct tev *ev)
{
	struct task *k = ev->child;
	struct proc *kp = k->proc;
	if (kp == c->p) {
		inf_notice(c->inf, "[New LWP %d]", k->tid);
		return;
	}
	if (!kp->vfork_child) {
		if (kp->sites.n)
			proc_bp_uninstall_all(kp);
		proc_bp_forget_all(kp);
	}
	for (int i = 0; i < 4; i++)
		kp->hw[i].used = false;
	kp->hw_gen++;
	if (k->state == TS_STOPPED)
		target_resume(c->tg, k, RESUME_CONT);
	else
		vec_push(&c->released, k);   /* run it at its first stop */
}

static void handle_other(struct call *c, struct tev *ev)
{
	struct task *o = ev->task;
	if (!o || ev->proc == c->p || !ev->proc || ev->proc->snapshot ||
	    ev->kind == TEV_EXITED || ev->kind == TEV_THREAD_EXITED) {
		keep(c, ev);
		return;
	}
	switch (ev->kind) {
	case TEV_INTERRUPT:
		/* A child's first stop: run it only once its fork event cleaned it up. */
		for (size_t i = 0; i < c->released.n; i++)
			if (c->released.v[i] == o) {
				c->released.v[i] = c->released.v[--c->released.n];
				if (o->state == TS_STOPPED)
					target_resume(c->tg, o, RESUME_CONT);
				return;
			}
		return;
	case TEV_BREAKPOINT:
		other_stepoff(c, o, ev->addr);
		return;
	case TEV_GROUP_STOP:
		target_resume(c->tg, o, RESUME_LISTEN);
		return;
	case TEV_FORK: case TEV_VFORK: case TEV_CLONE:
		if (ev->child)
			new_child(c, ev);
		break;
	default:
		break;
	}
	if (o->state == TS_STOPPED)
		target_resume(c->tg, o, RESUME_CONT);   /* signals are delivered as they came */
}

static int on_signal(struct call *c, struct tev *ev)
{
	struct task *t = c->t;
	int sig = t->pending_sig;
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return -ESRCH;
	if (c->agent && sig == SIGTRAP && r->rip == c->info.call_trap + 1 && r->rsp == c->call_sp) {
		t->pending_sig = 0;
		c->out->end = ICE_RETURNED;
		return 0;
	}
	struct sig_disp d = sig > 0 && sig < NSIG ? c->inf->sigs[sig] : (struct sig_disp){ 1, 1, 1 };
	if (!d.stop) {
		if (d.print)
			inf_notice(c->inf, "\nThread %u received signal %s, %s.", t->num, sig_name(sig),
				   sig_desc(sig));
		if (!d.pass)
			t->pending_sig = 0;
		return resume(c, RESUME_CONT);
	}
	c->out->end = ICE_SIGNAL;
	c->out->sig = sig;
	c->out->pc = r->rip;
	task_get_siginfo(t, &c->out->si);
	t->pending_sig = 0;
	/* A signal sent to the program from outside (not a fault of the called code,
	 * nor one it sent itself) is the program's: it stays pending for when the
	 * program resumes. */
	if (c->out->si.si_code <= 0 && c->out->si.si_pid != c->p->pid && !c->pending_sig) {
		c->pending_sig = sig;
		c->si = c->out->si;
	}
	(void)ev;
	return 0;
}

static int on_breakpoint(struct call *c, struct tev *ev)
{
	struct inferior *inf = c->inf;
	struct task *t = c->t;
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return -ESRCH;
	if (!c->agent && ev->addr == c->ret_site && r->rsp == c->call_sp + 8) {
		c->out->end = ICE_RETURNED;
		return 0;
	}
	struct breakpoint *bs[32], *hit = NULL;
	bool solib = false;
	size_t n = c->p == inf->main ? bp_at(&inf->bps, c->p->pid, ev->addr, bs, ARRAY_SIZE(bs)) : 0;
	for (size_t i = 0; i < n; i++) {
		struct breakpoint *b = bs[i];
		if (b->internal == BPI_SOLIB)
			solib = true;
		if (b->internal != BPI_NONE || (b->thread && b->thread != t->num))
			continue;
		if (b->cond && inf->sym && inf->sym->eval_cond) {
			struct sbuf cerr = { 0 };
			int v = inf->sym->eval_cond(inf, t, b->cond, &cerr);
			if (v < 0)
				inf_notice(inf, "Error in testing condition for breakpoint %d:\n%s", b->id,
					   sbuf_str(&cerr));
			sbuf_free(&cerr);
			if (v == 0)
				continue;
		}
		if (b->ignore_count) {
			b->ignore_count--;
			b->hits++;
			continue;
		}
		b->hits++;
		if (!hit)
			hit = b;
	}
	if (solib && inf->sym && inf->sym->refresh && inf->sym->refresh(inf, c->p) > 0)
		inf_rebind(inf, c->p);
	if (hit) {
		c->out->end = ICE_BREAKPOINT;
		c->out->bp_id = hit->id;
		c->out->pc = ev->addr;
		if (hit->temporary)
			inf_delete(inf, hit);
		return 0;
	}
	return begin_stepoff(c, ev->addr);
}

static int on_hw(struct call *c, struct tev *ev)
{
	struct inferior *inf = c->inf;
	struct breakpoint *hit = NULL;
	for (int slot = 0; slot < 4 && !hit; slot++) {
		if (!(ev->msg & (1u << slot)))
			continue;
		struct breakpoint *b = bp_by_slot(&inf->bps, c->p->pid, slot);
		if (!b || !b->enabled)
			continue;
		if (b->kind == BPK_HBREAK) {
			if (!b->thread || b->thread == c->t->num)
				hit = b;
			continue;
		}
		uint8_t now[32];
		bool ok = proc_read(c->p, RADDR(b->waddr), now, b->wlen) == 0;
		bool changed = !ok || !b->old_valid || memcmp(now, b->old, b->wlen);
		if (b->kind == BPK_WATCH && !changed)
			continue;
		if (ok) {
			memcpy(b->old, now, b->wlen);
			b->old_valid = true;
		}
		hit = b;
	}
	if (hit) {
		hit->hits++;
		c->out->end = hit->kind == BPK_HBREAK ? ICE_BREAKPOINT : ICE_WATCHPOINT;
		c->out->bp_id = hit->id;
		c->out->pc = task_pc(c->t);
		return 0;
	}
	/* Not ours to stop at: an execution breakpoint is passed with RF set. */
	struct user_regs_struct *r;
	if (task_get_regs(c->t, &r) == 0) {
		r->eflags |= EFLAGS_RF;
		c->t->regs_dirty = true;
	}
	return resume(c, RESUME_CONT);
}

/* The thread is on its way out: let it (and its process, for exit_group) go, and
 * keep the exit events for the run loop. */
static void let_exit(struct call *c)
{
	struct task *t = c->t;
	if (t->state == TS_STOPPED && target_resume(c->tg, t, RESUME_CONT) < 0)
		return;
	while (t->state != TS_DEAD) {
		struct tev ev;
		int w = target_wait(c->tg, &ev, -1);
		if (w < 0)
			break;
		if (w == 0)
			continue;
		if (ev.kind == TEV_EXITING && ev.proc == c->p && ev.task->state == TS_STOPPED) {
			target_resume(c->tg, ev.task, RESUME_CONT);
			continue;
		}
		if (ev.kind == TEV_EXITED && ev.proc == c->p)
			c->out->status = ev.status;
		if (ev.proc == c->p)
			keep(c, &ev);
		else
			handle_other(c, &ev);
	}
}

/* One event of t. Returns 1 (resumed, keep waiting), 0 (the call is over,
 * out->end says how) or -errno. */
static int on_event(struct call *c, struct tev *ev)
{
	struct task *t = c->t;
	if (c->stepoff) {
		icr_end_stepoff(c);
		if (ev->kind == TEV_STEP)
			return resume(c, RESUME_CONT);
	}
	switch (ev->kind) {
	case TEV_SIGNAL:
		return on_signal(c, ev);
	case TEV_BREAKPOINT:
		return on_breakpoint(c, ev);
	case TEV_HWBP:
		return on_hw(c, ev);
	case TEV_INTERRUPT:
		if (!c->interrupted)
			return resume(c, RESUME_CONT);   /* a stale interrupt */
		c->out->end = ICE_INTERRUPTED;
		c->out->pc = task_pc(t);
		return 0;
	case TEV_FORK: case TEV_VFORK: case TEV_CLONE:
		if (ev->child)
			new_child(c, ev);
		return resume(c, RESUME_CONT);
	case TEV_EXEC:
		keep(c, ev);
		c->out->end = ICE_EXEC;
		return 0;
	case TEV_EXITING:
		c->out->end = ICE_EXITED;
		c->out->status = ev->status;
		let_exit(c);
		return 0;
	case TEV_EXITED: case TEV_THREAD_EXITED:
		keep(c, ev);
		c->out->end = ICE_EXITED;
		c->out->status = ev->status;
		return 0;
	case TEV_GROUP_STOP:
		return resume(c, RESUME_LISTEN);   /* stopped by SIGSTOP: wait for SIGCONT */
	default:
		return resume(c, RESUME_CONT);
	}
}

/* After a failure while t runs: stop it, so that it can be put back. */
static void halt(struct call *c)
{
	struct task *t = c->t;
	struct tev ev;
	if (t->state != TS_RUNNING || task_interrupt(t) < 0)
		return;
	/* Whatever stops it belongs to the abandoned call. */
	while (t->state == TS_RUNNING && target_wait_task(c->tg, t, &ev) == 1)
		;
}

int icr_run(struct call *c)
{
	struct task *t = c->t;
	c->before.v = c->tg->queue.v;
	c->before.n = c->tg->queue.n;
	c->before.cap = c->tg->queue.cap;
	memset(&c->tg->queue, 0, sizeof c->tg->queue);
	t->pending_sig = 0;
	t->stepover = false;
	int e = resume(c, RESUME_CONT);
	while (e > 0) {
		struct tev ev;
		int w = target_wait(c->tg, &ev, -1);
		if (w == -EINTR) {
			/* Ctrl-C (inf_interrupt): stop the called code. */
			c->inf->interrupt_req = 0;
			if (!c->interrupted && task_interrupt(t) == 0)
				c->interrupted = true;
			continue;
		}
		if (w < 0) {
			sbuf_printf(c->err, "Waiting for the called function failed: %s.", strerror(-w));
			halt(c);
			return w;
		}
		if (w == 0)
			continue;
		if (ev.task == t || (ev.kind == TEV_EXEC && ev.proc == c->p))
			e = on_event(c, &ev);
		else
			handle_other(c, &ev);
	}
	/* All-stop again: threads the call created (their first stop may be on its
	 * way) and child processes still running stop now; their events are queued. */
	target_stop_all(c->tg);
	return e;
}
