/* reverse_step: the instruction a thread executed just before a point — reverse-stepi
 * and reverse-nexti, and the writing instruction of a watchpoint stop.
 *
 * Cheap cases first: the point was reached by one stepi from a known node; the point
 * is a function's entry (the call site in the caller, found as the last hit of that
 * address with the caller's stack pointer); the point is a signal handler's entry
 * (the interrupted instruction: a recorded signal's position, or the faulting
 * instruction). Otherwise: a scan with breakpoints at the sites of the point's
 * function (entry, line starts, jump targets, after jumps) finds the start of the
 * run the point is in, and single steps from there, over calls, reach the point; the
 * step before it is the answer, unless it was a call (then the callee's `ret`,
 * found as the last hit of its ret instructions with the stack pointer just below
 * the return address). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/disasm.h"
#include "core/infsym.h"
#include "core/log.h"
#include "core/sym/unwind.h"
#include "replay/record_int.h"
#include "replay/reverse_int.h"

#define WALK_MAX_STEPS 200000
#define SIGRETURN_CODE "\x48\xc7\xc0\x0f\x00\x00\x00\x0f\x05"   /* mov $15,%rax; syscall */



static bool at_pos(struct rv *r, struct task *t, const struct pos_point *p)
{
	/* Other tasks' results given meanwhile do not move the point (rec_event_floor). */
	return rec_event_floor(r->e) <= p->event && rec_event_here(r->e) >= p->event &&
	       rpl_rec_tid(r->e, t->tid) == p->tid && pos_matches(t, &p->pos);
}

/* Run everything until internal breakpoint b is hit by t (ER_INTERNAL), or a stop
 * (the engine's target: SR_LOCATION). Every task is stopped afterwards. */
static enum ev_result run_to_bp(struct rv *r, struct task *t, struct breakpoint *b, struct stop *st)
{
	struct inferior *inf = r->inf;
	struct run run = { .want = b->internal };
	t->stepover = true;
	rv_pass_hw(r, NULL);
	if (run_resume(inf, &run) < 0) {
		if (!rv_pending_stop(r, st))
			rv_fail(st, -EIO, "Cannot resume.");
		return ER_STOP;
	}
	for (;;) {
		enum ev_result er = run_wait(inf, &run, st);
		if (er == ER_INTERNAL && run.hit == b) {
			struct stop tmp;
			run_stop_all(inf, &tmp, t);
			return ER_INTERNAL;
		}
		if (er == ER_INTERNAL || er == ER_STEP_DONE) {
			struct task *o = run.hit && run.hit->thread ? inf_thread(inf, run.hit->thread) : t;
			run.hit = NULL;
			rv_pass_hw(r, o);
			if (o && o->state == TS_STOPPED && run_resume_task(inf, &run, o, RESUME_CONT) < 0 &&
			    rv_pending_stop(r, st))
				return ER_STOP;
			continue;
		}
		if (st->reason == SR_SIGNAL) {
			run_resume(inf, &run);
			continue;
		}
		if (st->reason == SR_ERROR)
			rv_pending_stop(r, st);
		return ER_STOP;
	}
}

/* One step of a walk: a single instruction, or a whole call when over is set.
 * *called: the step was a call run to its return. Returns 0, 1 when the run reached
 * p inside the call (the program stands at p), or -errno with st. */
static int walk_step(struct rv *r, struct task *t, bool over, const struct pos_point *p,
		     bool *called, struct stop *st)
{
	struct inferior *inf = r->inf;
	struct insn in;
	*called = false;
	if (over && rv_decode(t, task_pc(t), &in) == 0 && in.kind == IK_CALL) {
		struct user_regs_struct *regs;
		if (task_get_regs(t, &regs) < 0)
			return rv_fail(st, -ESRCH, "Cannot read the registers of thread %d.", t->tid);
		uint64_t ret = task_pc(t) + in.len, sp0 = regs->rsp;
		struct breakpoint *b = run_internal_bp(inf, t, BPI_STEP_RESUME, ret, sp0);
		r->e->target = *p;
		r->e->have_target = true;
		enum ev_result er = run_to_bp(r, t, b, st);
		r->e->have_target = false;
		if (bp_find(&inf->bps, b->id))
			bp_delete(&inf->bps, b, inf->tg.procs);
		struct task *rt = rv_task(r, p->tid);
		if (er == ER_STOP && st->reason == SR_LOCATION && rt && rt->state == TS_STOPPED &&
		    task_pc(rt) == ret && task_get_regs(rt, &regs) == 0 && regs->rsp == sp0) {
			/* p is the call's return itself: the call completed. */
			*called = true;
			return 0;
		}
		if (er == ER_STOP)
			return st->reason == SR_LOCATION ? 1 :
			       rv_fail(st, -EIO, "The replay stopped inside a call (%s).",
					 st->reason == SR_ERROR ? st->err : "an unexpected stop");
		*called = true;
		return 0;
	}
	t->stepover = true;
	rv_pass_hw(r, t);
	enum ev_result er = run_single_step(inf, t, st);
	if (er != ER_STEP_DONE)
		return rv_fail(st, -EIO, "A single step did not complete (%s).",
				 st->reason == SR_ERROR ? st->err : "an unexpected stop");
	return 0;
}

struct wstep {
	struct pos_point pos;         /* before the instruction */
	bool called;                  /* the instruction was a call run to its return */
};
struct wsteps {
	struct wstep *v;
	size_t n, cap;
};

/* Single-step thread r->tid (over calls when over) from where the program stands
 * until it stands at p. out gets the positions stepped from. Returns 0, 1 when a
 * stepped-over call contained p, or -errno with st. */
static int walk(struct rv *r, const struct pos_point *p, bool over, struct wsteps *out,
		struct stop *st)
{
	for (unsigned n = 0;; n++) {
		struct task *t = rv_task(r, p->tid);
		if (!t)
			return rv_fail(st, -ESRCH, "Thread %d is gone.", p->tid);
		if (at_pos(r, t, p))
			return 0;
		if (n >= WALK_MAX_STEPS)
			return rv_fail(st, -E2BIG, "More than %d instructions from the nearest known "
					 "point; giving up.", WALK_MAX_STEPS);
		if (rec_event_floor(r->e) > p->event)
			return rv_fail(st, -EIO, "Stepping passed the position (event %" PRIu64 ").",
					 p->event);
		struct wstep w = { 0 };
		w.pos.event = rec_event_here(r->e);
		w.pos.tid = p->tid;
		pos_capture(t, rec_thread_events(r->e, p->tid), &w.pos.pos);
		int e = walk_step(r, t, over, p, &w.called, st);
		vec_push(out, w);
		if (e != 0)
			return e;
		if (rv_worth_snapshot(r)) {
			target_stop_all(&r->inf->tg);
			rv_node_here(r, r->at, true);
		}
	}
}

/* The frame of thread t that has CFA cfa: run until t returns into it (t is in a
 * frame called from it). *callee: a pc in the function that returned into it (0
 * when t was in it already). Returns 0 (at once when t is in it), or -errno with st. */
static int return_to_frame(struct rv *r, struct task *t, uint64_t cfa, const struct pos_point *p,
			   uint64_t *callee, struct stop *st)
{
	*callee = 0;
	struct inferior *inf = r->inf;
	struct symtab *sym = infsym_symtab(inf, t->proc);
	if (!sym || !cfa)
		return 0;
	struct sym_access acc;
	sym_access_for_task(t, &acc);
	struct unwind_list fr = { 0 };
	if (unwind_backtrace(sym, &acc, 256, UNWIND_PAST_MAIN, &fr) < 0) {
		unwind_list_free(&fr);
		return 0;
	}
	size_t k = 0;
	while (k < fr.n && fr.v[k].cfa != cfa)
		k++;
	if (k == 0 || k >= fr.n) {
		unwind_list_free(&fr);
		return 0;
	}
	uint64_t ret = fr.v[k].pc, sp = fr.v[k - 1].cfa;
	*callee = fr.v[k - 1].pc;
	unwind_list_free(&fr);
	struct breakpoint *b = run_internal_bp(inf, t, BPI_STEP_RESUME, ret, sp);
	r->e->target = *p;
	r->e->have_target = true;
	enum ev_result er = run_to_bp(r, t, b, st);
	r->e->have_target = false;
	if (bp_find(&inf->bps, b->id))
		bp_delete(&inf->bps, b, inf->tg.procs);
	if (er == ER_STOP && st->reason != SR_LOCATION)
		return rv_fail(st, -EIO, "The replay stopped before returning to the frame.");
	return 0;
}

/* The last hit of a set of sites before p (the program stands at p), in frame f.
 * Returns 0 with *h, -ENOENT if none since the latest snapshot before p (searching
 * earlier snapshots as needed: up to `depth` of them), or -errno with st. */
static int last_site_hit(struct rv *r, struct tl_node *p, struct rv_scan *sc, unsigned depth,
			 struct rv_hit *h, struct stop *st)
{
	struct tl_node *a = p;
	for (unsigned i = 0; i < depth; i++) {
		/* Each replay covers the stretch before the previous one's start. */
		struct tl_node *end = a;
		a = tl_anchor_before(r->s, a);
		if (!a)
			return -ENOENT;
		sc->loose_limit = i ? p : NULL;   /* no hit between end and p: scanned */
		int e = rv_scan_run(r, a, &end->pos, sc, st);
		if (e < 0)
			return e;
		for (size_t j = sc->hits.n; j-- > 0;)
			if (sc->hits.v[j].tag >= 0) {
				*h = sc->hits.v[j];
				return 0;
			}
	}
	return -ENOENT;
}

static int handler_entry(struct rv *r, struct tl_node *p, struct task *t, struct pos_point *prev,
			 struct tl_node **from, struct stop *st)
{
	struct user_regs_struct *regs;
	uint64_t ra, uc_rip, uc_rsp;
	uint8_t code[9];
	if (task_get_regs(t, &regs) < 0 || proc_read(t->proc, RADDR(regs->rsp), &ra, 8) < 0 ||
	    proc_read(t->proc, RADDR(ra), code, sizeof code) < 0 ||
	    memcmp(code, SIGRETURN_CODE, sizeof code) ||
	    proc_read(t->proc, RADDR(regs->rsp + 8 + 40 + 16 * 8), &uc_rip, 8) < 0 ||
	    proc_read(t->proc, RADDR(regs->rsp + 8 + 40 + 15 * 8), &uc_rsp, 8) < 0)
		return 1;   /* not a handler's entry */
	/* An asynchronous signal: its delivery was recorded with its position. */
	struct rec_engine *e = r->e;
	for (uint64_t i = p->pos.event; i-- > 0;) {
		const struct trace_ev *ev = rec_branch_get(e->branch, i);
		if (!ev || ev->tid != p->pos.tid || rec_ev_bookkeeping(ev))
			continue;
		if (ev->type == TR_SIGNAL && ev->sig.pos.pc == uc_rip) {
			*prev = (struct pos_point){ .event = i, .tid = ev->tid, .pos = ev->sig.pos };
			*from = NULL;
			return 0;
		}
		break;   /* the thread's previous event is not that delivery */
	}
	/* A fault: the last time the interrupted instruction ran with that stack. */
	struct rv_scan sc;
	rv_scan_init(&sc);
	rv_site_add(&sc, uc_rip, SITE_PC);
	sc.frames[0] = (struct rv_frame){ .lo = uc_rip, .hi = uc_rip + 1, .rsp = uc_rsp, .tag = 0 };
	sc.nframes = 1;
	struct rv_hit h;
	int x = last_site_hit(r, p, &sc, 64, &h, st);
	rv_scan_free(&sc);
	if (x == 0) {
		*prev = h.pos;
		*from = h.anchor;
	}
	return x == -ENOENT ? 1 : x;
}

/* The last execution before p of the call instruction that returns to ra (calling
 * callee, 0: any), made with stack pointer rsp. 1 if there is no such call. */
static int call_before(struct rv *r, struct tl_node *p, struct task *t, uint64_t ra,
		       uint64_t callee, uint64_t rsp, struct pos_point *prev, struct tl_node **from,
		       struct stop *st)
{
	uint64_t site = 0;
	for (unsigned len = 2; len <= 7 && !site; len++) {
		struct insn in;
		if (rv_decode(t, ra - len, &in) == 0 && in.len == len && in.kind == IK_CALL &&
		    (in.target == 0 || !callee || in.target == callee))
			site = ra - len;
	}
	if (!site)
		return 1;
	struct rv_scan sc;
	rv_scan_init(&sc);
	rv_site_add(&sc, site, SITE_CALL);
	sc.frames[0] = (struct rv_frame){ .lo = site, .hi = site + 1, .rsp = rsp, .tag = 0 };
	sc.nframes = 1;
	struct rv_hit h;
	int x = last_site_hit(r, p, &sc, 64, &h, st);
	rv_scan_free(&sc);
	if (x == 0) {
		*prev = h.pos;
		*from = h.anchor;
	}
	return x == -ENOENT ? 1 : x;
}

/* p at a function's entry, called: the call instruction (return address - its
 * length, stack pointer 8 above). 1 if p is not that. */
static int function_entry(struct rv *r, struct tl_node *p, struct task *t, struct pos_point *prev,
			  struct tl_node **from, struct stop *st)
{
	const struct inf_symops *so = r->inf->sym;
	uint64_t pc = task_pc(t), lo = 0, hi = 0, ra;
	struct user_regs_struct *regs;
	if (!so || !so->func_range || so->func_range(r->inf, t, pc, &lo, &hi) < 0 || lo != pc ||
	    task_get_regs(t, &regs) < 0 || proc_read(t->proc, RADDR(regs->rsp), &ra, 8) < 0)
		return 1;
	return call_before(r, p, t, ra, pc, regs->rsp + 8, prev, from, st);
}

/* The last `ret` before p of the function holding pc func that returned to p (p.rsp -
 * 8 held the return address). Returns 0 with *prev, -ENOENT if none was found (not a
 * plain ret of that function: a tail call...), or -errno with st. */
static int ret_of_function(struct rv *r, struct tl_node *p, uint64_t func, uint64_t p_rsp,
			   struct pos_point *prev, struct tl_node **from, struct stop *st)
{
	struct task *t = rv_task(r, p->pos.tid);
	const struct inf_symops *so = r->inf->sym;
	struct rv_scan sc;
	rv_scan_init(&sc);
	int x = -ENOENT;
	if (t && func && so && so->func_range) {
		uint64_t lo, hi;
		if (so->func_range(r->inf, t, func, &lo, &hi) == 0 && hi > lo &&
		    hi - lo < (1u << 20)) {
			uint8_t *code = xmalloc(hi - lo + 16);
			memset(code + (hi - lo), 0, 16);
			if (proc_read(t->proc, RADDR(lo), code, hi - lo) == 0)
				for (uint64_t a = lo; a < hi;) {
					struct insn k;
					if (disasm_one(code + (a - lo), hi - a, a, &k) < 0 || !k.len) {
						a++;
						continue;
					}
					if (k.kind == IK_RET)
						rv_site_add(&sc, a, SITE_RET);
					a += k.len;
				}
			free(code);
		}
	}
	if (sc.pcs.n) {
		sc.frames[0] = (struct rv_frame){ .lo = 0, .hi = UINT64_MAX, .rsp = p_rsp - 8, .tag = 0 };
		sc.nframes = 1;
		struct rv_hit h;
		x = last_site_hit(r, p, &sc, 1, &h, st);
		if (x == 0) {
			*prev = h.pos;
			*from = h.anchor;
		}
	}
	rv_scan_free(&sc);
	return x;
}

/* The `ret` that returned to p (p.rsp - 8 held the return address), the callee having
 * been called by the call at c (position known). */
static int callee_ret(struct rv *r, struct tl_node *p, const struct pos_point *c, uint64_t p_rsp,
		      struct pos_point *prev, struct tl_node **from, struct stop *st)
{
	struct task *t = rv_task(r, p->pos.tid);
	struct insn in;
	int x = -ENOENT;
	if (t && rv_decode(t, c->pos.pc, &in) == 0 && in.kind == IK_CALL && in.target)
		x = ret_of_function(r, p, in.target, p_rsp, prev, from, st);
	if (x != -ENOENT)
		return x;
	/* Not a plain ret of the callee (a tail call, an indirect call): step through it. */
	if (!rv_goto_pos(r, c, NULL, st))
		return -EIO;
	struct wsteps w = { 0 };
	bool called;
	struct task *ct = rv_task(r, c->tid);
	if (!ct || walk_step(r, ct, false, &p->pos, &called, st) < 0) {
		vec_free(&w);
		return -EIO;
	}
	x = walk(r, &p->pos, true, &w, st);
	if (x == 0 && w.n) {
		*prev = w.v[w.n - 1].pos;
		*from = NULL;
	} else if (x == 0) {
		x = rv_fail(st, -EIO, "The call did not return to the current point.");
	} else if (x == 1) {
		x = rv_fail(st, -EIO, "The return could not be found.");
	}
	vec_free(&w);
	return x;
}

int rv_prev_of(struct rv *r, struct tl_node *p, bool over, struct pos_point *prev,
	       struct tl_node **from, struct stop *st)
{
	struct session *s = r->s;
	struct task *t = rv_task(r, p->pos.tid);
	*from = NULL;
	if (!t)
		return rv_fail(st, -ESRCH, "Thread %d is not in the program here.", p->pos.tid);
	r->tid = p->pos.tid;
	if (!tl_anchor_before(s, p)) {
		rv_stop_here(r, SR_HISTORY_BEGIN, st);
		return -ENOENT;
	}
	/* Reached from a known node by one stepi (over: not by a return, whose call is
	 * the answer). */
	if (p->stepped_from) {
		struct tl_node *f = tl_node_by_id(s, p->stepped_from);
		struct insn fi;
		if (f && f->branch == p->branch && f->pos.tid == p->pos.tid &&
		    !(over && (rv_decode(t, f->pos.pos.pc, &fi) < 0 || fi.kind == IK_RET))) {
			*prev = f->pos;
			*from = tl_ckpt(s, f) ? f : NULL;
			return 0;
		}
	}
	struct user_regs_struct *regs;
	if (task_get_regs(t, &regs) < 0)
		return rv_fail(st, -ESRCH, "Cannot read the registers of thread %d.", t->tid);
	uint64_t p_rsp = regs->rsp, pc = regs->rip;
	int x = handler_entry(r, p, t, prev, from, st);
	if (x <= 0)
		return x;
	x = function_entry(r, p, t, prev, from, st);
	if (x <= 0)
		return x;
	/* The run p is in: the last hit of a site of its function, in its frame. */
	const struct inf_symops *so = r->inf->sym;
	uint64_t lo = 0, hi = 0, cfa = rv_cfa(r, t);
	struct rv_scan sc;
	rv_scan_init(&sc);
	if (so && so->func_range && so->func_range(r->inf, t, pc, &lo, &hi) == 0 && hi > lo) {
		rv_sites_function(r, t, lo, hi, &sc);
		sc.frames[0] = (struct rv_frame){ .lo = lo, .hi = hi, .cfa = cfa, .tag = 0 };
		sc.nframes = 1;
	}
	struct rv_hit h;
	struct tl_node *start_from = NULL;
	const struct pos_point *start = NULL;
	x = sc.pcs.n ? last_site_hit(r, p, &sc, 1, &h, st) : -ENOENT;
	rv_scan_free(&sc);
	if (x < 0 && x != -ENOENT)
		return x;
	if (x == 0) {
		start = &h.pos;
		start_from = h.anchor;
	}
	/* Walk to p from the run's start (or from the snapshot, leaving deeper frames). */
	struct tl_node *wfrom;
	uint64_t callee = 0;
	if (start) {
		if (!(wfrom = rv_goto_pos(r, start, start_from, st)))
			return -EIO;
	} else {
		struct tl_node *a = tl_anchor_before(s, p);
		wfrom = a;
		if (rv_restore(r, a, st) < 0)
			return -EIO;
		struct task *at = rv_task(r, p->pos.tid);
		if (at && cfa && return_to_frame(r, at, cfa, &p->pos, &callee, st) < 0)
			return -EIO;
	}
	struct wsteps w = { 0 };
	x = walk(r, &p->pos, true, &w, st);
	if (x == 0 && !w.n && callee) {
		/* The return into p's frame landed at p: the callee's ret came just before
		 * (over: its call). */
		vec_free(&w);
		struct task *pt = rv_task(r, p->pos.tid);
		if (over && pt) {
			x = call_before(r, p, pt, pc, 0, p_rsp, prev, from, st);
			if (x <= 0)
				return x;
		}
		x = ret_of_function(r, p, callee, p_rsp, prev, from, st);
		if (x != -ENOENT)
			return x;
		/* Not a plain ret: single-step from the snapshot through the callee's rest. */
		if (rv_restore(r, wfrom, st) < 0)
			return -EIO;
		x = walk(r, &p->pos, true, &w, st);
	}
	if (x == 1) {
		/* p is inside the last call stepped over: step through it instead. */
		struct wstep c = w.v[w.n - 1];
		w.n = 0;
		if (!rv_goto_pos(r, &c.pos, NULL, st)) {
			vec_free(&w);
			return -EIO;
		}
		struct task *ct = rv_task(r, p->pos.tid);
		bool called;
		x = ct ? walk_step(r, ct, false, &p->pos, &called, st) : -ESRCH;
		if (x == 0)
			x = walk(r, &p->pos, true, &w, st);
		if (x == 0 && !w.n)
			vec_push(&w, c);
	}
	if (x != 0) {
		vec_free(&w);
		return x < 0 ? x : rv_fail(st, -EIO, "The previous instruction could not be found.");
	}
	if (!w.n) {
		vec_free(&w);
		return rv_fail(st, -EIO, "The walk did not move.");
	}
	struct wstep last = w.v[w.n - 1];
	vec_free(&w);
	if (last.called && !over)
		return callee_ret(r, p, &last.pos, p_rsp, prev, from, st);
	*prev = last.pos;
	*from = wfrom;   /* the walk started there: certainly before prev */
	return 0;
}

int rv_land_write(struct rv *r, struct tl_node *x, const struct stop *hit, struct stop *st)
{
	struct pos_point prev;
	struct tl_node *from;
	int e = rv_prev_of(r, x, false, &prev, &from, st);
	if (e == -ENOENT) {
		/* The write was the history's first instruction: report at x itself. */
		if (!rv_goto_pos(r, &x->pos, x, st))
			return -EIO;
	} else if (e < 0) {
		return e;
	} else if (!rv_goto_pos(r, &prev, from, st)) {
		return -EIO;
	}
	*st = *hit;
	st->task = NULL;
	/* Going backwards the value goes from what it is after the write to what it was. */
	uint8_t tmp[32];
	memcpy(tmp, st->wold, sizeof tmp);
	memcpy(st->wold, st->wnew, sizeof tmp);
	memcpy(st->wnew, tmp, sizeof tmp);
	st->wold_valid = true;
	st->print = SP_SRC_AND_LOC;
	struct task *t = rv_task(r, prev.tid ? prev.tid : x->pos.tid);
	stop_fill_thread(st, t ? t : r->inf->cur);
	return 0;
}
