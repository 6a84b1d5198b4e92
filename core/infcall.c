/* Inferior function calls: save the thread, build the call (agent or direct), run
 * only that thread until the call traps back or something stops it, read the
 * result, put everything back. See infcall.h for the contract.
 *
 * Scratch memory goes below the thread's red zone (rsp - 128), where the ABI lets
 * anything write, and what rewind wrote there is put back afterwards. The event
 * loop of the running call is in infcall_run.c. */
#include "infcall.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infcall_int.h"
#include "log.h"

#define RED_ZONE 128


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

/* By-reference arguments go at the top of the scratch area, just below the red
 * zone; their addresses become the arguments' values. */
static int place_refs(struct call *c, struct icl_args *a)
{
	c->hi = c->regs.rsp - RED_ZONE;
	if (c->hi < a->refs_len + 65536) {
		sbuf_printf(c->err, "The stack pointer of thread %u (0x%llx) leaves no room for a call.",
			    c->t->num, c->regs.rsp);
		return -EFAULT;
	}
	c->top = (c->hi - a->refs_len) & ~15ull;
	uint64_t at = c->top;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].copy_len) {
			memcpy(a->promoted[i], &at, 8);
			at += align16(a->v[i].copy_len);
		}
	return 0;
}

/* The image of [lo, hi): the by-reference bytes at their places. */
static uint8_t *new_image(struct call *c, const struct icl_args *a)
{
	uint8_t *img = xcalloc(1, c->hi - c->lo);
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].copy_len) {
			uint64_t at;
			memcpy(&at, a->promoted[i], 8);
			memcpy(img + (at - c->lo), a->ref[i], a->v[i].copy_len);
		}
	return img;
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
	if (c->top < total + 65536) {
		sbuf_printf(c->err, "The stack pointer of thread %u (0x%llx) leaves no room for a call.",
			    c->t->num, c->regs.rsp);
		return -EFAULT;
	}
	c->lo = (c->top - total) & ~15ull;
	uint8_t *img = new_image(c, a);
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
	memcpy_n(img + o_types, tb->types.v, tb->types.n * sizeof(struct rwagent_type));
	memcpy_n(img + o_elems, tb->elems.v, tb->elems.n * 4);
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
static int build_direct(struct call *c, const struct icl_args *a, struct user_regs_struct *r,
			uint8_t *xs)
{
	struct icd_frame fr, *f = &fr;
	uint64_t entry = ica_entry_point(c->p);
	if (!entry) {
		sbuf_puts(c->err, "Cannot find the program's entry point to return to.");
		return -ENOEXEC;
	}
	icd_build(a, f);
	if (c->top < 8ull * f->nstack + 65536) {
		sbuf_printf(c->err, "The stack pointer of thread %u (0x%llx) leaves no room for a call.",
			    c->t->num, c->regs.rsp);
		return -EFAULT;
	}
	c->call_sp = ((c->top - 8ull * f->nstack) & ~15ull) - 8;
	c->lo = c->call_sp;
	uint8_t *img = new_image(c, a);
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

/* ---- restoring and concluding ---- */

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
	icr_end_stepoff(c);
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
		e = icd_check(a, fn->ret, no_agent_phrase(&c, found), err);
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
	e = place_refs(&c, a);
	if (e == 0)
		e = c.agent ? build_agent(&c, a, &tb, &r) : build_direct(&c, a, &r, xs);
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
	e = icr_run(&c);
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
