/* Inferior function calls: save the thread, build the call (agent or direct), run
 * only that thread until the call traps back or something stops it, read the
 * result, put everything back. See infcall.h for the contract.
 *
 * Scratch memory goes below the thread's red zone (rsp - 128) and is restored
 * afterwards, so the debuggee's memory is as it was except for what the called
 * function itself wrote. Events of other processes (children the function forks)
 * are handled quietly; events of other threads of the debuggee (threads it
 * creates) are kept and queued for the inferior's run loop afterwards. */
#include "infcall.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infcall_int.h"
#include "log.h"

#define RED_ZONE 128
#define EFLAGS_RF 0x10000ull

typedef VEC(struct tev) tevvec;

struct call {
	struct inferior *inf;
	struct target *tg;
	struct task *t;
	struct proc *p;
	const struct infcall_fn *fn;
	struct infcall_outcome *out;
	struct sbuf *err;
	bool agent;
	struct rwagent_info info;
	/* the thread as it was */
	struct user_regs_struct regs;
	uint8_t *xs;
	size_t xlen;
	uint64_t mask;
	int pending_sig;
	siginfo_t si;
	bool stepover;
	int last_ev, status;
	enum resume_mode last_resume;
	bool saved;
	/* scratch memory [lo, hi) and its original contents */
	uint64_t lo, hi;
	uint8_t *orig;
	uint64_t call_sp;     /* agent: rsp at the entry; direct: the return-address slot */
	uint64_t desc, res;   /* agent: descriptor and result buffer */
	uint64_t ret_site;    /* direct: the int3 the function returns onto */
	bool site_in;
	/* while it runs */
	uint64_t stepoff;     /* int3 of t being stepped off, 0 if none */
	bool interrupted;
	tevvec before, kept;  /* the event queue as it was; events kept for later */
	VEC(struct task *) released;  /* children to run at their first stop */
};

static const char *fname(struct call *c, char *buf, size_t len)
{
	if (c->fn->name)
		return c->fn->name;
	snprintf(buf, len, "0x%" PRIx64, c->fn->addr);
	return buf;
}

/* ---- preparing ---- */

static int check_threads(struct call *c)
{
	struct task *t = c->t;
	if (!t || t->state != TS_STOPPED || !t->proc || t->proc->dead) {
		sbuf_puts(c->err, "The program is not being run.");
		return -ESRCH;
	}
	if (t->proc->snapshot) {
		sbuf_puts(c->err, "Cannot call functions in a checkpoint; restore it first.");
		return -EBUSY;
	}
	if (t->exiting) {
		sbuf_printf(c->err, "Cannot call functions in thread %u: it is exiting.", t->num);
		return -EBUSY;
	}
	if (target_any_running(c->tg)) {
		sbuf_puts(c->err, "Cannot call functions while threads are running.");
		return -EBUSY;
	}
	return 0;
}

static const char *no_agent_phrase(struct call *c, int found)
{
	if (c->fn->flags & INFCALL_DIRECT)
		return "was not to be used for this call";
	if (ica_is_static(c->p))
		return "cannot be loaded into a static program";
	if (found == -EPROTO)
		return "in this process is a different version from this rewind";
	if (found == -EAGAIN)
		return "has not been initialised in this process yet (it is by the time main runs)";
	return "is not loaded in this process (rewind preloads it into the dynamic programs it "
	       "starts; set REWIND_AGENT if it was not found)";
}

static int save_thread(struct call *c)
{
	struct task *t = c->t;
	struct user_regs_struct *r;
	uint8_t *xs;
	int e;
	if ((e = task_get_regs(t, &r)) < 0 || (e = task_get_xstate(t, &xs, &c->xlen)) < 0 ||
	    (e = task_get_sigmask(t, &c->mask)) < 0) {
		sbuf_printf(c->err, "Cannot read the state of thread %u: %s.", t->num, strerror(-e));
		return e;
	}
	c->regs = *r;
	c->xs = xmalloc(c->xlen);
	memcpy(c->xs, xs, c->xlen);
	c->pending_sig = t->pending_sig;
	if (c->pending_sig && task_get_siginfo(t, &c->si) < 0)
		memset(&c->si, 0, sizeof c->si);
	c->stepover = t->stepover;
	c->last_ev = t->last_ev;
	c->status = t->status;
	c->last_resume = t->last_resume;
	c->saved = true;
	return 0;
}

/* Save [lo, hi) and write img over it. */
static int put_scratch(struct call *c, const uint8_t *img)
{
	size_t len = c->hi - c->lo;
	c->orig = xmalloc(len);
	int e = proc_read(c->p, RADDR(c->lo), c->orig, len);
	if (e == 0)
		e = proc_write(c->p, RADDR(c->lo), img, len);
	if (e < 0) {
		sbuf_printf(c->err, "Cannot use the stack of thread %u at 0x%" PRIx64 "-0x%" PRIx64
			    " for the call: %s.", c->t->num, c->lo, c->hi, strerror(-e));
		free(c->orig);
		c->orig = NULL;
	}
	return e;
}

static uint64_t align16(uint64_t v)
{
	return (v + 15) & ~15ull;
}

/* Lay out the descriptor, the type tables, the result buffer and the argument
 * bytes below the red zone; point the registers at the agent's entry. */
static int build_agent(struct call *c, const struct icl_args *a, const struct icl_tables *tb,
		       struct user_regs_struct *r)
{
	const struct infcall_type *ret = c->fn->ret;
	uint64_t o_types = align16(sizeof(struct rwagent_call));
	uint64_t o_elems = o_types + align16(tb->types.n * sizeof(struct rwagent_type));
	uint64_t o_argt = o_elems + align16(tb->elems.n * 4);
	uint64_t o_argv = o_argt + align16(a->n * 4);
	uint64_t o_res = o_argv + align16(a->n * 8);
	uint64_t o_data = o_res + icl_buf_size(ret), total = o_data;
	for (size_t i = 0; i < a->n; i++)
		total += icl_buf_size(a->v[i].type);
	c->hi = c->regs.rsp - RED_ZONE;
	if (c->hi < total + 65536) {
		sbuf_printf(c->err, "The stack pointer of thread %u (0x%llx) leaves no room for a call.",
			    c->t->num, c->regs.rsp);
		return -EFAULT;
	}
	c->lo = (c->hi - total) & ~15ull;
	uint8_t *img = xcalloc(1, c->hi - c->lo);
	struct rwagent_call d = {
		.magic = RWAGENT_CALL_MAGIC, .version = RWAGENT_VERSION,
		.flags = c->fn->variadic ? RWAGENT_F_VARIADIC : 0, .fn = c->fn->addr,
		.types = c->lo + o_types, .elems = c->lo + o_elems, .argtypes = c->lo + o_argt,
		.argvals = c->lo + o_argv, .result = c->lo + o_res,
		.ntypes = (uint32_t)tb->types.n, .nelems = (uint32_t)tb->elems.n,
		.nargs = (uint32_t)a->n, .nfixed = (uint32_t)(c->fn->variadic ? c->fn->nfixed : a->n),
		.rettype = tb->ret, .status = RWAGENT_E_PENDING,
	};
	memcpy(img, &d, sizeof d);
	memcpy(img + o_types, tb->types.v, tb->types.n * sizeof(struct rwagent_type));
	memcpy(img + o_elems, tb->elems.v, tb->elems.n * 4);
	uint64_t off = o_data;
	for (size_t i = 0; i < a->n; i++) {
		uint32_t ti = tb->args[i];
		uint64_t at = c->lo + off;
		memcpy(img + o_argt + 4 * i, &ti, 4);
		memcpy(img + o_argv + 8 * i, &at, 8);
		memcpy(img + off, a->v[i].data, a->v[i].type->size);
		off += icl_buf_size(a->v[i].type);
	}
	int e = put_scratch(c, img);
	free(img);
	if (e < 0)
		return e;
	c->desc = c->lo;
	c->res = c->lo + o_res;
	c->call_sp = c->lo;
	r->rip = c->info.call_entry;
	r->rdi = c->desc;
	r->rsp = c->call_sp;
	r->rax = 0;
	return 0;
}

/* Stack arguments and the return address below the red zone; the return address
 * is the program's entry point, where an int3 is inserted for the call. */
static int build_direct(struct call *c, const struct icd_frame *f, struct user_regs_struct *r,
			uint8_t *xs)
{
	uint64_t entry = ica_entry_point(c->p);
	if (!entry) {
		sbuf_puts(c->err, "Cannot find the program's entry point to return to.");
		return -ENOEXEC;
	}
	c->hi = c->regs.rsp - RED_ZONE;
	if (c->hi < 8ull * f->nstack + 65536) {
		sbuf_printf(c->err, "The stack pointer of thread %u (0x%llx) leaves no room for a call.",
			    c->t->num, c->regs.rsp);
		return -EFAULT;
	}
	c->call_sp = ((c->hi - 8ull * f->nstack) & ~15ull) - 8;
	c->lo = c->call_sp;
	size_t len = c->hi - c->lo;
	uint8_t *img = xcalloc(1, len);
	memcpy(img, &entry, 8);
	memcpy(img + 8, f->stack, 8ull * f->nstack);
	int e = put_scratch(c, img);
	free(img);
	if (e < 0)
		return e;
	if ((e = proc_bp_insert(c->p, entry)) < 0) {
		sbuf_printf(c->err, "Cannot insert the return breakpoint at 0x%" PRIx64 ": %s.",
			    entry, strerror(-e));
		return e;
	}
	c->ret_site = entry;
	c->site_in = true;
	r->rip = c->fn->addr;
	r->rsp = c->call_sp;
	icd_load(f, r, xs, c->xlen);
	return 0;
}

/* ---- restoring ---- */

static void end_stepoff(struct call *c)
{
	if (c->stepoff && !c->p->dead && proc_bp_find(c->p, c->stepoff)) {
		uint8_t cc = 0xcc;
		proc_write_raw(c->p, RADDR(c->stepoff), &cc, 1);
	}
	c->stepoff = 0;
}

/* The event queue: what was there before, then what the call kept, then anything
 * queued meanwhile. */
static void merge_queue(struct call *c)
{
	tevvec now = { 0 };
	for (size_t i = 0; i < c->before.n; i++)
		vec_push(&now, c->before.v[i]);
	for (size_t i = 0; i < c->kept.n; i++)
		vec_push(&now, c->kept.v[i]);
	for (size_t i = 0; i < c->tg->queue.n; i++)
		vec_push(&now, c->tg->queue.v[i]);
	vec_free(&c->before);
	vec_free(&c->kept);
	vec_free(&c->tg->queue);
	c->tg->queue.v = now.v;
	c->tg->queue.n = now.n;
	c->tg->queue.cap = now.cap;
}

static void restore(struct call *c)
{
	struct task *t = c->t;
	end_stepoff(c);
	if (!c->p->dead) {
		if (c->site_in && proc_bp_remove(c->p, c->ret_site) < 0)
			pr_err(LM_CORE, "pid %d: cannot remove the call's breakpoint at %#" PRIx64,
			       c->p->pid, c->ret_site);
		if (c->orig && proc_write(c->p, RADDR(c->lo), c->orig, c->hi - c->lo) < 0)
			pr_err(LM_CORE, "pid %d: cannot restore the stack at %#" PRIx64, c->p->pid,
			       c->lo);
	}
	c->site_in = false;
	if (c->saved && t->state == TS_STOPPED) {
		task_set_regs(t, &c->regs);
		task_set_xstate(t, c->xs, c->xlen);
		if (task_set_sigmask(t, c->mask) < 0)
			pr_err(LM_CORE, "tid %d: cannot restore the signal mask", t->tid);
		t->pending_sig = c->pending_sig;
		if (c->pending_sig)
			task_set_siginfo(t, &c->si);
		t->stepover = c->stepover;
		t->last_ev = c->last_ev;
		t->status = c->status;
		t->last_resume = c->last_resume;
	}
	free(c->orig);
	c->orig = NULL;
	free(c->xs);
	c->xs = NULL;
}

/* A pending signal can only be handed back to the thread at a signal-delivery
 * stop. After an interrupt (an event stop), take one more instruction to get one;
 * the call is being abandoned anyway. */
static void reach_signal_stop(struct call *c)
{
	struct task *t = c->t;
	struct user_regs_struct *r;
	if (!c->pending_sig || t->state != TS_STOPPED || t->last_ev != TEV_INTERRUPT)
		return;
	if (task_get_regs(t, &r) == 0) {
		r->orig_rax = (uint64_t)-1;   /* do not restart an interrupted syscall */
		t->regs_dirty = true;
	}
	t->pending_sig = 0;
	if (target_resume(c->tg, t, RESUME_STEP) < 0)
		return;
	struct tev ev;
	while (target_wait_task(c->tg, t, &ev) == 1) {
		if (ev.kind == TEV_EXITED || ev.kind == TEV_THREAD_EXITED)
			return;
		if (ev.kind == TEV_STEP || ev.kind == TEV_SIGNAL || ev.kind == TEV_BREAKPOINT ||
		    ev.kind == TEV_HWBP) {
			t->pending_sig = 0;
			return;
		}
		if (target_resume(c->tg, t, RESUME_STEP) < 0)
			return;
	}
}

/* ---- running ---- */

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
		end_stepoff(c);
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

/* Resume only t and wait until the call is over. Returns 0 (out->end set) or -errno
 * (the thread stays stopped). */
static int run_call(struct call *c)
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
			return w;
		}
		if (w == 0)
			continue;
		if (ev.task == t || (ev.kind == TEV_EXEC && ev.proc == c->p))
			e = on_event(c, &ev);
		else
			handle_other(c, &ev);
	}
	return e;
}

static int agent_result(struct call *c, uint8_t *result)
{
	struct rwagent_call d;
	int e = proc_read(c->p, RADDR(c->desc), &d, sizeof d);
	if (e < 0) {
		sbuf_printf(c->err, "Cannot read the call's result: %s.", strerror(-e));
		return e;
	}
	static const char *const ffi_err[] = { "ok", "bad type definition", "bad ABI",
					       "bad argument type" };
	switch (d.status) {
	case RWAGENT_OK:
		if (c->fn->ret && c->fn->ret->kind != IC_VOID)
			e = proc_read(c->p, RADDR(c->res), result, c->fn->ret->size);
		return e;
	case RWAGENT_E_PREP:
		sbuf_printf(c->err, "libffi cannot prepare this call: %s; the function was not called.",
			    d.detail < ARRAY_SIZE(ffi_err) ? ffi_err[d.detail] : "unknown error");
		break;
	case RWAGENT_E_LAYOUT:
		sbuf_printf(c->err, "libffi lays out a struct of this call (type node %u) differently "
			    "from its description; the function was not called.", d.detail);
		break;
	case RWAGENT_E_VERSION:
		sbuf_puts(c->err, "The rewind agent in the program speaks another version; the "
			  "function was not called.");
		break;
	default:
		sbuf_printf(c->err, "The rewind agent rejected the call (status %d, detail %u); the "
			    "function was not called.", d.status, d.detail);
		break;
	}
	c->out->end = ICE_FAILED;
	return -EINVAL;
}

static int direct_result(struct call *c, uint8_t *result)
{
	struct user_regs_struct *r;
	uint8_t *xs;
	size_t xlen;
	int e = task_get_regs(c->t, &r);
	if (e == 0)
		e = task_get_xstate(c->t, &xs, &xlen);
	if (e < 0) {
		sbuf_printf(c->err, "Cannot read the call's result: %s.", strerror(-e));
		return e;
	}
	icd_result(c->fn->ret, r, xs, xlen, result);
	return 0;
}

/* The call is over: the result, or the message saying why there is none. */
static int conclude(struct call *c, uint8_t *result)
{
	char buf[32];
	const char *f = fname(c, buf, sizeof buf);
	const char *tail = "rewind has restored the context to what it was before the call.\n"
			   "Evaluation of the expression containing the function\n(%s) will be abandoned.";
	switch (c->out->end) {
	case ICE_RETURNED:
		if (c->agent)
			return agent_result(c, result);
		return direct_result(c, result);
	case ICE_SIGNAL:
		sbuf_printf(c->err, "\nProgram received signal %s, %s.\nThe program being debugged was "
			    "signaled while in a function called from rewind.\n",
			    sig_name(c->out->sig), sig_desc(c->out->sig));
		break;
	case ICE_BREAKPOINT:
	case ICE_WATCHPOINT:
		sbuf_printf(c->err, "\n%s %d, 0x%016" PRIx64 " in the called code.\nThe program being "
			    "debugged stopped while in a function called from rewind.\n",
			    c->out->end == ICE_BREAKPOINT ? "Breakpoint" : "Watchpoint",
			    c->out->bp_id, c->out->pc);
		break;
	case ICE_INTERRUPTED:
		sbuf_puts(c->err, "\nThe program being debugged was interrupted while in a function "
			  "called from rewind.\n");
		break;
	case ICE_EXITED:
	case ICE_EXEC:
		sbuf_printf(c->err, "The program being debugged %s while in a function called from "
			    "rewind.\nEvaluation of the expression containing the function\n(%s) "
			    "will be abandoned.", c->out->end == ICE_EXEC ? "executed a new program" :
			    "exited", f);
		return -ESRCH;
	case ICE_FAILED:
		return -EIO;
	}
	sbuf_printf(c->err, tail, f);
	return -ECANCELED;
}

int infcall_run(struct inferior *inf, struct task *t, const struct infcall_fn *fn,
		const struct infcall_arg *args, size_t nargs, uint8_t *result, size_t result_len,
		struct infcall_outcome *out, struct sbuf *err)
{
	struct infcall_outcome dummy;
	struct sbuf dummy_err = { 0 };
	if (!out)
		out = &dummy;
	memset(out, 0, sizeof *out);
	out->end = ICE_FAILED;
	if (!err)
		err = &dummy_err;
	struct call c = { .inf = inf, .tg = &inf->tg, .t = t, .p = t ? t->proc : NULL, .fn = fn,
			  .out = out, .err = err };
	struct icl_args *a = xcalloc(1, sizeof *a);
	struct icl_tables tb = { 0 };
	struct icd_frame frame;
	int e = check_threads(&c);
	if (e == 0)
		e = icl_prepare(fn, args, nargs, a, err);
	if (e == 0 && fn->ret && fn->ret->kind != IC_VOID && (!result || result_len < fn->ret->size)) {
		sbuf_printf(err, "The result buffer holds %zu bytes; the function returns %zu.",
			    result_len, fn->ret->size);
		e = -EINVAL;
	}
	if (e < 0)
		goto done;
	int found = (fn->flags & INFCALL_DIRECT) ? 0 : ica_find(c.p, &c.info);
	c.agent = found == 1;
	out->via_agent = c.agent;
	if (c.agent)
		e = icl_lower(fn->ret, a, &tb, err);
	else
		e = icd_build(a, fn->ret, no_agent_phrase(&c, found), &frame, err);
	if (e < 0)
		goto done;
	if (t->in_syscall && (e = target_settle(c.tg, t)) < 0) {
		sbuf_printf(err, "Cannot take thread %u out of its system call: %s.", t->num,
			    strerror(-e));
		goto done;
	}
	if ((e = save_thread(&c)) < 0)
		goto done;
	struct user_regs_struct r = c.regs;
	uint8_t *xs = xmalloc(c.xlen);
	memcpy(xs, c.xs, c.xlen);
	r.orig_rax = (uint64_t)-1;   /* not in a syscall: no restart logic on resume */
	icd_clean_fp(&r, xs, c.xlen);
	e = c.agent ? build_agent(&c, a, &tb, &r) : build_direct(&c, &frame, &r, xs);
	if (e == 0) {
		task_set_regs(t, &r);
		task_set_xstate(t, xs, c.xlen);
	}
	free(xs);
	if (e < 0) {
		restore(&c);
		goto done;
	}
	pr_debug(LM_CORE, "tid %d: calling %#" PRIx64 " (%s, %zu args), sp %#" PRIx64, t->tid,
		 fn->addr, c.agent ? "agent" : "direct", nargs, c.call_sp);
	e = run_call(&c);
	if (e == 0)
		e = conclude(&c, result);
	if (out->end != ICE_EXITED && out->end != ICE_EXEC) {
		reach_signal_stop(&c);
		restore(&c);
	} else {
		free(c.orig);
		free(c.xs);
		if (!c.p->dead && c.site_in)
			proc_bp_remove(c.p, c.ret_site);
	}
	merge_queue(&c);
	vec_free(&c.released);
done:
	icl_tables_free(&tb);
	free(a);
	sbuf_free(&dummy_err);
	return e;
}
