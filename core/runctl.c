/* Forward execution: resuming with breakpoints stepped over, the event loop with
 * gdb's all-stop semantics, continue and instruction stepping. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "disasm.h"
#include "inferior_int.h"
#include "condtrap.h"
#include "log.h"

void stop_fill_thread(struct stop *st, struct task *t)
{
	st->task = t;
	if (!t)
		return;
	st->pid = t->proc->pid;
	st->tid = t->tid;
	st->thread = t->num;
	if (t->state == TS_STOPPED)
		st->pc = task_pc(t);
}

static bool followed(struct inferior *inf, struct proc *p)
{
	return p && p == inf->main;
}

/* Step t off an int3 sitting under its pc: take the int3 out, single-step with every
 * other task stopped, put it back. A signal arriving first is kept pending.
 * Returns 1 if it stepped, 0 if there was no int3 under pc, -errno. */
static int step_off_breakpoint(struct inferior *inf, struct task *t)
{
	struct proc *p = t->proc;
	uint64_t pc = task_pc(t);
	struct bpsite *s = proc_bp_find(p, pc);
	t->stepover = false;
	if (!s)
		return 0;
	uint8_t orig = s->orig;
	int e = proc_write_raw(p, RADDR(pc), &orig, 1);
	if (e < 0)
		return e;
	/* An instruction breakpoint in a debug register at pc came before the int3 and
	 * was dealt with: pass it (RF), or the step traps there for ever. */
	for (int i = 0; i < 4; i++) {
		struct user_regs_struct *regs;
		if (p->hw[i].used && p->hw[i].kind == HW_EXEC && p->hw[i].addr == pc &&
		    task_get_regs(t, &regs) == 0) {
			regs->eflags |= 0x10000;   /* RF */
			t->regs_dirty = true;
			break;
		}
	}
	int sig = t->pending_sig;
	e = target_resume(&inf->tg, t, RESUME_STEP);
	while (e == 0) {
		struct tev ev;
		int r = target_wait_task(&inf->tg, t, &ev);
		if (r < 0) {
			e = r;
			break;
		}
		if (ev.kind == TEV_HWBP) {
			/* The stepped instruction wrote a watched location: report it. */
			target_queue_push(&inf->tg, &ev);
			break;
		}
		if (ev.kind == TEV_STEP || ev.kind == TEV_BREAKPOINT)
			break;
		if (ev.kind == TEV_EXITED || ev.kind == TEV_THREAD_EXITED || ev.kind == TEV_EXITING) {
			target_queue_push(&inf->tg, &ev);
			return 0;
		}
		if (ev.kind == TEV_SIGNAL && t->pending_sig != sig) {
			/* Arrived before the instruction ran: report it later from here. */
			target_queue_push(&inf->tg, &ev);
			break;
		}
		if (ev.kind == TEV_FORK || ev.kind == TEV_VFORK || ev.kind == TEV_CLONE ||
		    ev.kind == TEV_EXEC) {
			target_queue_push(&inf->tg, &ev);
			if (ev.kind == TEV_EXEC)
				return 0;   /* the old image (and its int3) is gone */
		}
		e = target_resume(&inf->tg, t, RESUME_STEP);
	}
	if (!p->dead && proc_bp_find(p, pc)) {
		uint8_t cc = 0xcc;
		proc_write_raw(p, RADDR(pc), &cc, 1);
	}
	return e < 0 ? e : 1;
}

int run_resume_task(struct inferior *inf, struct run *r, struct task *t, enum resume_mode m)
{
	(void)r;
	if (t->state != TS_STOPPED || t->proc->snapshot || t->proc->dead)
		return 0;
	if (t->stepover && m != RESUME_LISTEN) {
		int e = step_off_breakpoint(inf, t);
		if (e < 0)
			return e;
		if (e == 0)
			goto resume;
		if (t->state != TS_STOPPED)
			return 0;
		/* The queued event (if any) is reported before this task runs again. */
		for (size_t i = 0; i < inf->tg.queue.n; i++)
			if (inf->tg.queue.v[i].task == t)
				return 0;
		if (m == RESUME_STEP)
			return 0;   /* the step-off was the step */
	}
resume:
	if (inf->policy && inf->policy->resume)
		return inf->policy->resume(inf->policy->ctx, inf, t, m);
	return target_resume(&inf->tg, t, m);
}

int run_resume(struct inferior *inf, struct run *r)
{
	if (r->only) {
		struct task *t = r->only;
		bool was_stepover = t->stepover && proc_bp_find(t->proc, task_pc(t));
		int e = run_resume_task(inf, r, t, r->mode);
		if (e < 0)
			return e;
		if (was_stepover && r->mode == RESUME_STEP && t->state == TS_STOPPED) {
			/* The step-off already executed the instruction: synthesize its event. */
			struct tev ev = { .kind = TEV_STEP, .task = t, .proc = t->proc, .tid = t->tid };
			ev.addr = task_pc(t);
			target_queue_push(&inf->tg, &ev);
		}
		return 0;
	}
	r->all_running = true;
	int err = 0;
	/* Step every task off its int3 while all are stopped: a task already running
	 * could pass through a breakpoint that is out of memory during a step-off. */
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next) {
			if (t->state != TS_STOPPED || !t->stepover)
				continue;
			bool queued = false;
			for (size_t i = 0; i < inf->tg.queue.n && !queued; i++)
				queued = inf->tg.queue.v[i].task == t;
			if (queued)
				continue;   /* its event comes first; it steps off later */
			int e = step_off_breakpoint(inf, t);
			if (e < 0 && e != -ESRCH && !err)
				err = e;
		}
	}
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next) {
			if (t->state != TS_STOPPED)
				continue;
			bool queued = false;
			for (size_t i = 0; i < inf->tg.queue.n && !queued; i++)
				queued = inf->tg.queue.v[i].task == t;
			if (queued)
				continue;   /* its event is reported first */
			int e = run_resume_task(inf, r, t, RESUME_CONT);
			if (e < 0 && e != -ESRCH && !err)
				err = e;
		}
	}
	return err;
}

/* Resume a task after an event that needs no attention, in the mode it had. */
static void resume_quietly(struct inferior *inf, struct run *r, struct task *t)
{
	if (!t || t->state != TS_STOPPED || t->proc->snapshot)
		return;
	if (r->only && t != r->only && followed(inf, t->proc))
		return;   /* single-task stepping: others stay put */
	enum resume_mode m = t == r->only ? r->mode : RESUME_CONT;
	if (t->last_resume == RESUME_SYSCALL && t != r->only)
		m = RESUME_SYSCALL;
	run_resume_task(inf, r, t, m);
}

void run_stop_all(struct inferior *inf, struct stop *st, struct task *t)
{
	target_stop_all(&inf->tg);
	/* Breakpoint hits of other threads: their pc is back on the int3, they hit it
	 * again when resumed. Dropping keeps hit counts and conditions honest. */
	size_t j = 0;
	for (size_t i = 0; i < inf->tg.queue.n; i++) {
		struct tev *e = &inf->tg.queue.v[i];
		if (e->kind == TEV_BREAKPOINT || e->kind == TEV_INTERRUPT)
			continue;
		inf->tg.queue.v[j++] = *e;
	}
	inf->tg.queue.n = j;
	if (t && t->state != TS_DEAD && followed(inf, t->proc))
		inf->cur = t;
	run_stopped_at(inf, t);
	if (st)
		stop_fill_thread(st, t);
}

void run_stopped_at(struct inferior *inf, struct task *t)
{
	if (!t || t->state != TS_STOPPED || !proc_bp_find(t->proc, task_pc(t)))
		return;
	/* The user's breakpoints only: the engine's own (step, finish, reverse sites)
	 * are hits it takes at the pc it stands at. */
	struct breakpoint *bs[16];
	size_t n = bp_at(&inf->bps, t->proc->pid, task_pc(t), bs, 16);
	for (size_t i = 0; i < n && i < 16; i++)
		if (bs[i]->internal == BPI_NONE && bs[i]->enabled &&
		    (bs[i]->kind == BPK_BREAK || bs[i]->kind == BPK_HBREAK))
			t->stepover = true;
}

struct breakpoint *run_internal_bp(struct inferior *inf, struct task *t, enum bp_internal kind,
				   uint64_t addr, uint64_t frame_cfa)
{
	struct breakpoint *b = bp_new(&inf->bps, BPK_BREAK, kind);
	b->frame_cfa = frame_cfa;
	b->thread = t ? t->num : 0;
	bp_add_loc(b, t->proc->pid, addr, NULL, NULL, 0);
	bp_sync(&inf->bps, inf->tg.procs);
	return b;
}

void run_drop_internal(struct inferior *inf, enum bp_internal kind)
{
	for (struct breakpoint *b = inf->bps.list, *n; b; b = n) {
		n = b->next;
		if (b->internal == kind)
			bp_delete(&inf->bps, b, inf->tg.procs);
	}
}

/* ---- event handling ---- */

/* A user breakpoint or watchpoint that triggered in t: whether it stops, by its
 * condition (an error in it stops, as in gdb) and ignore count (counted as a hit). */
static bool user_stop_wanted(struct inferior *inf, struct task *t, struct breakpoint *b)
{
	if (b->cond && inf->sym && inf->sym->eval_cond) {
		struct sbuf err = { 0 };
		int c = inf->sym->eval_cond(inf, t, b->cond, &err);
		if (c < 0) {
			inf_notice(inf, "Error in testing condition for breakpoint %d:\n%s",
				   b->id, sbuf_str(&err));
			c = 1;
		}
		sbuf_free(&err);
		if (!c)
			return false;
	}
	if (b->ignore_count) {
		b->ignore_count--;
		b->hits++;
		return false;
	}
	return true;
}

static enum ev_result on_breakpoint(struct inferior *inf, struct run *r, struct tev *ev,
				    struct stop *st)
{
	struct task *t = ev->task;
	struct breakpoint *bs[32];
	size_t n = bp_at(&inf->bps, t->proc->pid, ev->addr, bs, ARRAY_SIZE(bs));
	struct breakpoint *stop_bp = NULL;
	bool solib = false;

	for (size_t i = 0; i < n; i++) {
		struct breakpoint *b = bs[i];
		if (b->internal == BPI_SOLIB) {
			solib = true;
			continue;
		}
		if (b->internal != BPI_NONE) {
			if (b->thread && b->thread != t->num)
				continue;
			if (b->frame_cfa) {
				/* Right frame: after a return, sp is one past the CFA of the
				 * frame that called (the return address was popped). */
				struct user_regs_struct *regs;
				if (task_get_regs(t, &regs) < 0 || regs->rsp < b->frame_cfa)
					continue;
			}
			if (!r->hit && (r->want == BPI_NONE || r->want == b->internal ||
					b->internal == BPI_STEP_RESUME || b->internal == BPI_STEP_INTO ||
					b->internal == BPI_FINISH || b->internal == BPI_UNTIL))
				r->hit = b;
			continue;
		}
		if (!followed(inf, t->proc))
			continue;
		if (b->thread && b->thread != t->num)
			continue;
		if (!user_stop_wanted(inf, t, b))
			continue;
		b->hits++;
		if (!stop_bp)
			stop_bp = b;
	}
	if (solib && inf->sym && inf->sym->refresh) {
		if (inf->sym->refresh(inf, t->proc) > 0)
			inf_rebind(inf, t->proc);
	}
	if (stop_bp) {
		memset(st, 0, sizeof *st);
		st->reason = SR_BREAKPOINT;
		st->print = SP_SRC_AND_LOC;
		st->bp_id = stop_bp->id;
		st->temporary = stop_bp->temporary;
		t->stepover = true;
		run_stop_all(inf, st, t);
		if (stop_bp->temporary)
			inf_delete(inf, stop_bp);
		return ER_STOP;
	}
	t->stepover = true;
	if (r->hit)
		return ER_INTERNAL;
	resume_quietly(inf, r, t);
	return ER_RESUMED;
}

static enum ev_result on_hw(struct inferior *inf, struct run *r, struct tev *ev, struct stop *st)
{
	struct task *t = ev->task;
	unsigned mask = (unsigned)ev->msg;
	struct breakpoint *stop_bp = NULL;
	for (int slot = 0; slot < 4; slot++) {
		if (!(mask & (1u << slot)))
			continue;
		struct breakpoint *b = bp_by_slot(&inf->bps, t->proc->pid, slot);
		if (!b || !b->enabled || stop_bp)
			continue;
		if (b->thread && b->thread != t->num)
			continue;
		if (b->kind == BPK_HBREAK) {
			if (!user_stop_wanted(inf, t, b))
				continue;
			stop_bp = b;
			break;
		}
		uint8_t now[32];
		bool ok = proc_read(t->proc, RADDR(b->waddr), now, b->wlen) == 0;
		bool changed = !ok || !b->old_valid || memcmp(now, b->old, b->wlen);
		if (b->kind == BPK_WATCH && !changed && !b->every_write)
			continue;
		memset(st, 0, sizeof *st);
		st->waddr = b->waddr;
		st->wlen = b->wlen;
		st->wold_valid = b->old_valid;
		memcpy(st->wold, b->old, b->wlen);
		memcpy(st->wnew, now, b->wlen);
		if (ok) {
			memcpy(b->old, now, b->wlen);
			b->old_valid = true;
		}
		if (!user_stop_wanted(inf, t, b))
			continue;   /* the old value moves on all the same, as in gdb */
		stop_bp = b;
	}
	if (!stop_bp) {
		if (r->only == t && t->last_resume == RESUME_STEP)
			return ER_STEP_DONE;
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	}
	stop_bp->hits++;
	uint64_t waddr = st->waddr;
	unsigned wlen = st->wlen;
	bool wov = st->wold_valid;
	uint8_t o[32], nw[32];
	memcpy(o, st->wold, 32);
	memcpy(nw, st->wnew, 32);
	memset(st, 0, sizeof *st);
	st->reason = stop_bp->kind == BPK_HBREAK ? SR_BREAKPOINT : SR_WATCHPOINT;
	st->print = SP_SRC_AND_LOC;
	st->bp_id = stop_bp->id;
	st->waddr = waddr;
	st->wlen = wlen;
	st->wold_valid = wov;
	memcpy(st->wold, o, 32);
	memcpy(st->wnew, nw, 32);
	if (stop_bp->kind == BPK_HBREAK) {
		/* The trap comes before the instruction: resume with RF set to pass it. */
		struct user_regs_struct *regs;
		if (task_get_regs(t, &regs) == 0) {
			regs->eflags |= 0x10000;
			t->regs_dirty = true;
		}
	}
	run_stop_all(inf, st, t);
	return ER_STOP;
}

static enum ev_result on_signal(struct inferior *inf, struct run *r, struct tev *ev, struct stop *st)
{
	struct task *t = ev->task;
	int sig = t->pending_sig;
	if (!followed(inf, t->proc)) {
		resume_quietly(inf, r, t);   /* children get their signals as usual */
		return ER_RESUMED;
	}
	struct sig_disp d = sig > 0 && sig < NSIG ? inf->sigs[sig] : (struct sig_disp){ 1, 1, 1 };
	if (!d.stop) {
		if (d.print)
			inf_notice(inf, "\nThread %u received signal %s, %s.", t->num, sig_name(sig),
				   sig_desc(sig));
		if (!d.pass)
			t->pending_sig = 0;
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	}
	memset(st, 0, sizeof *st);
	st->reason = SR_SIGNAL;
	st->print = SP_SRC_AND_LOC;
	st->sig = sig;
	task_get_siginfo(t, &st->si);
	if (!d.pass)
		t->pending_sig = 0;
	run_stop_all(inf, st, t);
	return ER_STOP;
}

static void note_new_thread(struct inferior *inf, struct task *parent, struct task *c)
{
	if (!c || !followed(inf, c->proc))
		return;
	struct user_regs_struct *regs;
	uint64_t tls = 0;
	if (task_get_regs(parent, &regs) == 0) {
		if (regs->orig_rax == 56)          /* clone: tls is the 5th argument */
			tls = regs->r8;
		else if (regs->orig_rax == 435) {  /* clone3: struct clone_args.tls at +56 */
			uint64_t v;
			if (proc_read(parent->proc, RADDR(regs->rdi + 56), &v, 8) == 0)
				tls = v;
		}
	}
	c->thread_pointer = tls;
	if (tls)
		inf_notice(inf, "[New Thread 0x%" PRIx64 " (LWP %d)]", tls, c->tid);
	else
		inf_notice(inf, "[New LWP %d]", c->tid);
}

static enum ev_result on_fork(struct inferior *inf, struct run *r, struct tev *ev)
{
	struct task *t = ev->task, *c = ev->child;
	if (ev->kind == TEV_CLONE && c && c->proc == t->proc) {
		note_new_thread(inf, t, c);
		/* The new thread starts when its first stop arrives (see on_first_stop). */
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	}
	if (c && c->proc != t->proc) {
		struct proc *cp = c->proc;
		if (!cp->vfork_child) {
			/* Not followed: take the copied int3s out of the child. */
			if (cp->sites.n)
				proc_bp_uninstall_all(cp);
			proc_bp_forget_all(cp);
		}
		for (int i = 0; i < 4; i++)
			cp->hw[i].used = false;
		cp->hw_gen++;
		if (followed(inf, t->proc))
			inf_notice(inf, "[New process %d (%s of %d), not followed]", cp->pid,
				   ev->kind == TEV_VFORK ? "vfork" : "fork", t->proc->pid);
		if (c->state == TS_STOPPED)
			resume_quietly(inf, r, c);
	}
	resume_quietly(inf, r, t);
	return ER_RESUMED;
}

static enum ev_result on_exited(struct inferior *inf, struct run *r, struct tev *ev, struct stop *st)
{
	struct proc *p = ev->proc;
	(void)r;
	if (ev->kind == TEV_THREAD_EXITED) {
		if (followed(inf, p) && ev->task && ev->task->thread_pointer)
			inf_notice(inf, "[Thread 0x%" PRIx64 " (LWP %d) exited]", ev->task->thread_pointer, ev->tid);
		else if (followed(inf, p) && ev->task)
			inf_notice(inf, "[LWP %d exited]", ev->tid);
		if (inf->cur == ev->task)
			inf->cur = proc_main_task(p);
		return ER_RESUMED;
	}
	if (!followed(inf, p)) {
		if (!p->snapshot && p->parent_pid)
			pr_debug(LM_CORE, "child process %d exited", p->pid);
		return ER_RESUMED;
	}
	memset(st, 0, sizeof *st);
	if (WIFSIGNALED(ev->status)) {
		st->reason = SR_KILLED;
		st->sig = WTERMSIG(ev->status);
	} else {
		st->reason = SR_EXITED;
		st->code = WEXITSTATUS(ev->status);
	}
	st->pid = p->pid;
	inf_release_others(inf);
	if (p->user && inf->sym && inf->sym->detach_proc)
		inf->sym->detach_proc(inf, p);
	inf->main = NULL;
	inf->cur = NULL;
	for (struct breakpoint *b = inf->bps.list; b; b = b->next)
		for (size_t i = 0; i < b->locs.n; i++)
			if (b->locs.v[i].pid == p->pid)
				b->locs.v[i].inserted = false;
	target_stop_all(&inf->tg);
	return ER_STOP;
}

/* The core of every command: one event. */
static enum ev_result handle_event(struct inferior *inf, struct run *r, struct tev *ev,
				   struct stop *st)
{
	if (inf->policy && inf->policy->on_event) {
		int h = inf->policy->on_event(inf->policy->ctx, inf, ev);
		if (h > 0)
			return ER_RESUMED;
		/* The policy ends the command with its own stop (replay divergence, end of
		 * a replay): report it like any other, with every task stopped. */
		if (h < 0 && inf->policy->take_stop &&
		    inf->policy->take_stop(inf->policy->ctx, inf, st) == 0) {
			struct task *t = st->task ? st->task : ev->task;
			run_stop_all(inf, st, t && t->state != TS_DEAD ? t : inf->cur);
			return ER_STOP;
		}
	}
	struct task *t = ev->task;
	switch (ev->kind) {
	case TEV_BREAKPOINT:
		return on_breakpoint(inf, r, ev, st);
	case TEV_HWBP:
		return on_hw(inf, r, ev, st);
	case TEV_STEP:
		if (t == r->only)
			return ER_STEP_DONE;
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	case TEV_SIGNAL:
		return on_signal(inf, r, ev, st);
	case TEV_FORK: case TEV_VFORK: case TEV_CLONE:
		return on_fork(inf, r, ev);
	case TEV_EXEC:
		if (followed(inf, t->proc)) {
			char path[64], exe[4096];
			snprintf(path, sizeof path, "/proc/%d/exe", t->proc->pid);
			ssize_t n = readlink(path, exe, sizeof exe - 1);
			exe[n > 0 ? n : 0] = 0;
			inf_notice(inf, "process %d is executing new program: %s", t->proc->pid, exe);
			inf->cur = t;
			inf_image_changed(inf, t->proc);
		}
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	case TEV_EXITING:
		/* Let it finish dying: the exit itself is reported when reaped. */
		if (t->state == TS_STOPPED)
			target_resume(&inf->tg, t, RESUME_CONT);
		return ER_RESUMED;
	case TEV_THREAD_EXITED:
	case TEV_EXITED:
		return on_exited(inf, r, ev, st);
	case TEV_GROUP_STOP:
		/* Stay stopped as the signal asked until SIGCONT, as without rewind. */
		target_resume(&inf->tg, t, RESUME_LISTEN);
		return ER_RESUMED;
	case TEV_INTERRUPT:
		/* A new task's first stop, or a stale interrupt. */
		if (r->only && t != r->only && followed(inf, t->proc) && !r->all_running)
			return ER_RESUMED;   /* stays stopped while one task steps */
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	case TEV_CONDTRAP:
		/* Nobody's search (a stale trap): past its check, on. */
		condtrap_pass(t);
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	case TEV_SYSCALL_ENTRY: case TEV_SYSCALL_EXIT: case TEV_SECCOMP: case TEV_VFORK_DONE:
	default:
		resume_quietly(inf, r, t);
		return ER_RESUMED;
	}
}

enum ev_result run_wait(struct inferior *inf, struct run *r, struct stop *st)
{
	for (;;) {
		struct tev ev;
		/* The policy may have a deadline (a time slice, a syscall that may block). */
		int tmo = inf->policy && inf->policy->timeout ?
			  inf->policy->timeout(inf->policy->ctx, inf) : -1;
		int w = target_wait(&inf->tg, &ev, tmo);
		if (w == -EINTR || (w >= 0 && inf->interrupt_req && w == 0)) {
			inf->interrupt_req = 0;
			memset(st, 0, sizeof *st);
			st->reason = SR_INTERRUPTED;
			st->print = SP_SRC_AND_LOC;
			run_stop_all(inf, st, r->only ? r->only : inf->cur);
			return ER_STOP;
		}
		if (w < 0) {
			memset(st, 0, sizeof *st);
			st->reason = SR_ERROR;
			snprintf(st->err, sizeof st->err, "%s", w == -EDEADLK ?
				 "The program is not running any thread (all are stopped or gone)." :
				 strerror(-w));
			run_stop_all(inf, st, inf->cur);
			return ER_STOP;
		}
		if (w == 0) {
			if (inf->policy && inf->policy->on_timeout)
				inf->policy->on_timeout(inf->policy->ctx, inf);
			continue;
		}
		if (inf->interrupt_req && ev.kind != TEV_EXITED) {
			/* Handle the event first; the interrupt is honoured at the next wait. */
		}
		enum ev_result er = handle_event(inf, r, &ev, st);
		if (er != ER_RESUMED)
			return er;
	}
}

/* ---- commands ---- */

static int need_alive(struct inferior *inf, struct stop *st)
{
	memset(st, 0, sizeof *st);
	if (inf_alive(inf) && inf->cur && inf->cur->state == TS_STOPPED)
		return 0;
	st->reason = SR_ERROR;
	snprintf(st->err, sizeof st->err, "The program is not being run.");
	return -ESRCH;
}

int inf_continue(struct inferior *inf, int sig, struct stop *st)
{
	if (need_alive(inf, st) < 0)
		return -ESRCH;
	struct run r = { 0 };
	if (sig >= 0)
		inf->cur->pending_sig = sig;
	/* Events already waiting (another thread's signal) are reported first. */
	while (inf->tg.queue.n) {
		struct tev ev;
		target_wait(&inf->tg, &ev, 0);
		enum ev_result er = handle_event(inf, &r, &ev, st);
		if (er == ER_STOP)
			return 0;
	}
	int e = run_resume(inf, &r);
	if (e < 0) {
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "Cannot resume: %s.", strerror(-e));
		return e;
	}
	for (;;) {
		enum ev_result er = run_wait(inf, &r, st);
		if (er == ER_STOP)
			return 0;
		if (er == ER_INTERNAL) {
			/* An internal breakpoint of an earlier command: not ours; go on. */
			struct task *t = r.hit && inf->cur ? inf->cur : NULL;
			r.hit = NULL;
			(void)t;
			for (struct proc *p = inf->tg.procs; p; p = p->next)
				for (struct task *tt = p->tasks; tt; tt = tt->next)
					if (tt->state == TS_STOPPED && !p->snapshot && !p->dead &&
					    tt->stepover)
						resume_quietly(inf, &r, tt);
		}
	}
}

enum ev_result run_single_step(struct inferior *inf, struct task *t, struct stop *st)
{
	struct run r = { .only = t, .mode = RESUME_STEP };
	int e = run_resume(inf, &r);
	if (e < 0) {
		memset(st, 0, sizeof *st);
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "Cannot step: %s.", strerror(-e));
		return ER_STOP;
	}
	for (;;) {
		enum ev_result er = run_wait(inf, &r, st);
		if (er == ER_STEP_DONE || er == ER_STOP)
			return er;
		if (er == ER_INTERNAL) {
			/* Stepped onto an internal breakpoint address: that is just a step. */
			if (t->state == TS_STOPPED)
				return ER_STEP_DONE;
			r.hit = NULL;
		}
	}
}

int inf_stepi(struct inferior *inf, bool over_calls, struct stop *st)
{
	if (need_alive(inf, st) < 0)
		return -ESRCH;
	struct task *t = inf->cur;
	uint8_t code[16];
	struct insn in;
	uint64_t pc = task_pc(t);
	bool is_call = over_calls && proc_read(t->proc, RADDR(pc), code, sizeof code) == 0 &&
		       disasm_one(code, sizeof code, pc, &in) == 0 && in.kind == IK_CALL;
	if (is_call) {
		/* nexti over a call: run to the return address in this frame. */
		struct user_regs_struct *regs;
		task_get_regs(t, &regs);
		uint64_t sp = regs->rsp;
		struct breakpoint *b = run_internal_bp(inf, t, BPI_STEP_RESUME, pc + in.len, sp);
		struct run r = { .want = BPI_STEP_RESUME };
		t->stepover = true;
		run_resume(inf, &r);
		enum ev_result er;
		do {
			er = run_wait(inf, &r, st);
			if (er == ER_INTERNAL && r.hit != b) {
				r.hit = NULL;
				er = ER_RESUMED;
				resume_quietly(inf, &r, t);
			}
		} while (er == ER_RESUMED);
		if (bp_find(&inf->bps, b->id))
			bp_delete(&inf->bps, b, inf->tg.procs);
		if (er == ER_STOP)
			return 0;
		memset(st, 0, sizeof *st);
		st->reason = SR_STEPPED;
		run_stop_all(inf, st, t);
		return 0;
	}
	t->stepover = true;
	enum ev_result er = run_single_step(inf, t, st);
	if (er == ER_STOP)
		return 0;
	memset(st, 0, sizeof *st);
	st->reason = SR_STEPPED;
	run_stopped_at(inf, t);
	stop_fill_thread(st, t);
	inf->cur = t;
	return 0;
}
