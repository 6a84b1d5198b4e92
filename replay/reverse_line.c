/* reverse_line: reverse-step, reverse-next and reverse-finish.
 *
 * One replay (from the latest snapshot before P to P) with breakpoints at the sites
 * of the functions of P's frame and its callers (entry, row starts, jump targets,
 * after jumps) gives, per frame, the runs executed in it, in order; gdb's rules
 * (reverse_lines.c) pick the run whose start is the stop. Not enough runs (the
 * frame began before that snapshot): the same from an earlier one. reverse-step into
 * a callee: a second replay with the callee's sites finds its last row start. The
 * user's breakpoints and watchpoints are armed during the replays: one met between
 * the stop and P stops the command there instead, as gdb's do.
 *
 * reverse-finish: the last hit before P of the call instruction that made the frame
 * (its address is the return address minus the call's length, its stack pointer the
 * frame's CFA). */
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

#define MAX_FRAMES 3
#define TAG_CALLEE 7


/* gdb's find_pc_line row of pc (line 0 when none). */
static struct sym_line row_of(struct rv *r, struct task *t, uint64_t pc)
{
	struct sym_line l = { 0 };
	struct symtab *sym = t ? infsym_symtab(r->inf, t->proc) : NULL;
	if (!sym || symtab_pc_line(sym, pc, &l) < 0)
		memset(&l, 0, sizeof l);
	return l;
}

static bool has_lines(struct rv *r, struct task *t, uint64_t pc)
{
	const struct inf_symops *so = r->inf->sym;
	return so && so->has_line_info && so->has_line_info(r->inf, t, pc);
}

static bool func_of(struct rv *r, struct task *t, uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	const struct inf_symops *so = r->inf->sym;
	return so && so->func_range && so->func_range(r->inf, t, pc, lo, hi) == 0 && *hi > *lo;
}


static bool is_site(const struct rv_scan *sc, uint64_t pc)
{
	for (size_t i = 0; i < sc->pcs.n; i++)
		if (sc->pcs.v[i] == pc)
			return true;
	return false;
}

/* The instructions of the run from start that are gone back over: up to end
 * (exclusive) when end is set, else to the run's own end (a jump, a return, or the
 * next site). Counts them (2 means two or more) and finds the last call into a
 * function with line information (0: none; skip: a call not to count). */
static void run_extent(struct rv *r, struct task *t, const struct rv_scan *sc, uint64_t start,
		       uint64_t end, uint64_t skip, unsigned *ninsn, uint64_t *call_at)
{
	*ninsn = 0;
	*call_at = 0;
	uint64_t a = start;
	for (unsigned guard = 0; guard < 4096; guard++) {
		if (end && a >= end)
			break;
		if (!end && a != start && is_site(sc, a))
			break;
		struct insn in;
		if (rv_decode(t, a, &in) < 0 || !in.len)
			break;
		if (*ninsn < 2)
			(*ninsn)++;
		if (in.kind == IK_CALL && a != skip && (!in.target || has_lines(r, t, in.target)))
			*call_at = a;
		if (in.kind == IK_JMP || in.kind == IK_JCC || in.kind == IK_RET)
			break;
		a += in.len;
	}
	if (!*ninsn)
		*ninsn = 1;
}

/* The frames a reverse step may go back through: P's and its callers'. */
struct lframe {
	uint64_t lo, hi, cfa;
	uint64_t call;                /* frames > 0: the call instruction (in it) */
	unsigned call_len;
	bool handler;                 /* a signal handler's frame: the signal trampoline
	                                 called it (nothing above it is followed) */
};

static size_t frames_at(struct rv *r, struct task *t, struct lframe *f, size_t max)
{
	struct symtab *sym = infsym_symtab(r->inf, t->proc);
	struct sym_access acc;
	struct unwind_list fr = { 0 };
	size_t n = 0;
	sym_access_for_task(t, &acc);
	if (!sym || unwind_backtrace(sym, &acc, max, 0, &fr) < 0) {
		unwind_list_free(&fr);
		return 0;
	}
	for (size_t i = 0; i < fr.n && n < max; i++) {
		struct lframe x = { 0 };
		x.cfa = fr.v[i].cfa;
		uint64_t pc = fr.v[i].pc;
		if (i > 0) {
			/* pc is the return address: the call is just before it. */
			for (unsigned len = 2; len <= 7 && !x.call; len++) {
				struct insn in;
				if (rv_decode(t, pc - len, &in) == 0 && in.len == len && in.kind == IK_CALL) {
					x.call = pc - len;
					x.call_len = len;
				}
			}
			if (!x.call) {
				uint8_t code[9];
				if (n && proc_read(t->proc, RADDR(pc), code, sizeof code) == 0 &&
				    !memcmp(code, "\x48\xc7\xc0\x0f\x00\x00\x00\x0f\x05", sizeof code))
					f[n - 1].handler = true;   /* returns to rt_sigreturn */
				break;
			}
		}
		if (!func_of(r, t, i ? x.call : pc, &x.lo, &x.hi) || !x.cfa)
			break;
		f[n++] = x;
	}
	unwind_list_free(&fr);
	return n;
}

/* The runs of frames f[0..nf) among sc's hits, in execution order, for the backward
 * pass from P. rix[i] is the hit index of run i. Returns the number of runs; *full:
 * every frame's entry was seen (earlier runs would belong to its caller). */
static size_t build_runs(struct rv *r, struct task *t, const struct rv_scan *sc, const struct lframe *f,
			 size_t nf, uint64_t p_pc, bool step, struct rl_run *v, size_t *rix,
			 size_t max, bool *full)
{
	/* From the innermost frame outwards, hits after each frame's entry. */
	size_t end = sc->hits.n;   /* hits of frame k lie before `end` */
	size_t n = 0;
	struct rl_run tmp[256];
	size_t tix[256];
	*full = false;
	for (size_t k = 0; k < nf; k++) {
		size_t first = end, entry = SIZE_MAX;
		for (size_t i = end; i-- > 0;) {
			const struct rv_hit *h = &sc->hits.v[i];
			if (h->tag != (int)k)
				continue;
			first = i;
			if (h->pc == f[k].lo) {
				entry = i;
				break;
			}
		}
		/* Runs of frame k: hits [first, end), innermost frame's last partial. */
		size_t cnt = 0;
		for (size_t i = first; i < end; i++)
			cnt += sc->hits.v[i].tag == (int)k;
		size_t base = n;
		for (size_t i = first; i < end && n < ARRAY_SIZE(tmp); i++) {
			const struct rv_hit *h = &sc->hits.v[i];
			if (h->tag != (int)k)
				continue;
			struct rl_run *x = &tmp[n];
			struct sym_line l = row_of(r, t, h->pc);
			x->start = h->pc;
			x->lo = l.line ? l.lo : h->pc;
			x->hi = l.line ? l.hi : h->pc + 1;
			x->line = l.line;
			x->stmt = l.is_stmt;
			x->func_lo = f[k].lo;
			x->frame = (int)k;
			bool last = n - base + 1 == cnt;
			uint64_t stop = 0, skip = 0;
			if (last && k == 0)
				stop = is_site(sc, p_pc) ? 0 : p_pc;   /* P's own run, before P */
			else if (last) {
				stop = f[k].call + f[k].call_len;   /* up to the call into frame k-1 */
				skip = f[k].call;
			}
			run_extent(r, t, sc, h->pc, stop, skip, &x->ninsn, &x->call_at);
			if (!step)
				x->call_at = 0;
			tix[n] = i;
			n++;
		}
		/* Reverse the frame's block into the final order later (outer frames first). */
		for (size_t a = base, b = n; a + 1 < b; a++, b--) {
			struct rl_run xr = tmp[a];
			size_t xi = tix[a];
			tmp[a] = tmp[b - 1];
			tix[a] = tix[b - 1];
			tmp[b - 1] = xr;
			tix[b - 1] = xi;
		}
		if (entry == SIZE_MAX)
			break;   /* the frame began before the first hit */
		if (k + 1 == nf) {
			*full = true;
			break;
		}
		end = entry;
	}
	/* tmp holds frames innermost first, each block reversed: reverse all. */
	size_t m = n < max ? n : max;
	for (size_t i = 0; i < m; i++) {
		v[i] = tmp[n - 1 - i];
		rix[i] = tix[n - 1 - i];
	}
	return m;
}

/* The stop inside the callee of the call at run `run_hit` (reverse-step): the last
 * row start of that invocation. */
static const struct rv_hit *user_stop_after(const struct rv_scan *sc, size_t from);

static int callee_stop(struct rv *r, struct tl_node *a, const struct rv_hit *run_hit, uint64_t call_at,
		       const struct lframe *f0, struct rv_hit *out, struct rv_hit *user, bool *have_user,
		       struct stop *st)
{
	struct task *t = rv_task(r, r->tid);
	struct insn in;
	uint64_t lo = 0, hi = 0;
	if (!t || rv_decode(t, call_at, &in) < 0)
		return rv_fail(st, -EIO, "Cannot decode the call at %#" PRIx64 ".", call_at);
	if (in.target) {
		if (!func_of(r, t, in.target, &lo, &hi))
			return -ENOENT;
	} else {
		/* An indirect call: where it went, by going there. */
		if (!rv_goto_pos(r, &run_hit->pos, run_hit->anchor, st))
			return -EIO;
		for (unsigned g = 0; g < 4096; g++) {
			t = rv_task(r, r->tid);
			if (!t)
				return -ESRCH;
			if (task_pc(t) == call_at)
				break;
			t->stepover = true;
			if (run_single_step(r->inf, t, st) != ER_STEP_DONE)
				return rv_fail(st, -EIO, "Stepping to the call failed.");
		}
		t->stepover = true;
		if (run_single_step(r->inf, t, st) != ER_STEP_DONE)
			return rv_fail(st, -EIO, "Stepping into the call failed.");
		if (!has_lines(r, t, task_pc(t)) || !func_of(r, t, task_pc(t), &lo, &hi))
			return -ENOENT;
	}
	struct rv_scan sc;
	rv_scan_init(&sc);
	rv_sites_function(r, t, f0->lo, f0->hi, &sc);
	rv_sites_function(r, t, lo, hi, &sc);
	sc.frames[0] = (struct rv_frame){ .lo = f0->lo, .hi = f0->hi, .cfa = f0->cfa, .tag = 0 };
	sc.frames[1] = (struct rv_frame){ .lo = lo, .hi = hi, .tag = TAG_CALLEE };
	sc.nframes = 2;
	int e = rv_scan_run(r, a, &r->origin->pos, &sc, st);
	if (e < 0) {
		rv_scan_free(&sc);
		return e;
	}
	/* The window: after the run's start, before the frame's next hit. */
	size_t i0 = SIZE_MAX, i1 = sc.hits.n;
	for (size_t i = 0; i < sc.hits.n; i++) {
		const struct rv_hit *h = &sc.hits.v[i];
		if (i0 == SIZE_MAX) {
			if (h->tag == 0 && h->pos.event == run_hit->pos.event &&
			    h->pos.pos.reghash == run_hit->pos.pos.reghash && h->pc == run_hit->pc)
				i0 = i;
		} else if (h->tag == 0) {
			i1 = i;
			break;
		}
	}
	e = -ENOENT;
	if (i0 != SIZE_MAX) {
		size_t entry = SIZE_MAX;
		for (size_t i = i1; i-- > i0 + 1;)
			if (sc.hits.v[i].tag == TAG_CALLEE && sc.hits.v[i].pc == lo) {
				entry = i;
				break;
			}
		if (entry != SIZE_MAX) {
			uint64_t cfa = sc.hits.v[entry].cfa;
			for (size_t i = i1; i-- > entry;) {
				const struct rv_hit *h = &sc.hits.v[i];
				if (h->tag != TAG_CALLEE || h->cfa != cfa)
					continue;
				struct sym_line l = row_of(r, rv_task(r, r->tid), h->pc);
				if (l.line && l.lo == h->pc) {
					*out = *h;
					/* The user's stops between it and P. */
					const struct rv_hit *u = user_stop_after(&sc, i);
					*have_user = u != NULL;
					if (u)
						*user = *u;
					e = 0;
					break;
				}
			}
		}
	}
	rv_scan_free(&sc);
	return e;
}

/* A user's stop met between the chosen hit (index from) and P: the last one. */
static const struct rv_hit *user_stop_after(const struct rv_scan *sc, size_t from)
{
	for (size_t i = sc->hits.n; i-- > from;)
		if (sc->hits.v[i].tag == RV_TAG_USER)
			return &sc->hits.v[i];
	return NULL;
}

/* Land at hit h, or at the user's stop u when there is one after it. */
static int land(struct rv *r, const struct rv_hit *h, const struct rv_hit *u, uint64_t func0,
		uint64_t cfa0, enum stop_reason why, struct stop *st)
{
	const struct rv_hit *to = u ? u : h;
	struct tl_node *x = rv_goto_pos(r, &to->pos, to->anchor, st);
	if (!x)
		return -EIO;
	if (u && u->user.reason == SR_WATCHPOINT)
		return rv_land_write(r, x, &u->user, st);
	if (u) {
		*st = u->user;
		st->print = SP_SRC_AND_LOC;
		struct task *t = rv_task(r, u->pos.tid);
		stop_fill_thread(st, t ? t : r->inf->cur);
		return 0;
	}
	rv_stop_here(r, why, st);
	st->print = why == SR_STEPPED ? rv_print_mode(r, func0, cfa0) : SP_SRC_AND_LOC;
	return 0;
}

static int reverse_finish(struct rv *r, const struct sess_args *a, struct stop *st)
{
	struct task *t = rv_task(r, r->tid);
	if (!t)
		return rv_fail(st, -ESRCH, "The program is not being run.");
	struct lframe f[MAX_FRAMES];
	size_t nf = frames_at(r, t, f, MAX_FRAMES);
	uint64_t call = 0, sp = 0;
	if (a && a->frame_cfa) {
		/* An outer frame: its caller resumes at a->addr. */
		for (unsigned len = 2; len <= 7 && !call; len++) {
			struct insn in;
			if (rv_decode(t, a->addr - len, &in) == 0 && in.len == len && in.kind == IK_CALL)
				call = a->addr - len;
		}
		sp = a->frame_cfa;
	} else if (nf >= 2) {
		call = f[1].call;
		sp = f[0].cfa;
	}
	if (!call)
		return rv_fail(st, -EINVAL, "\"finish\" not meaningful in the outermost frame.");
	struct rv_scan sc;
	rv_scan_init(&sc);
	rv_site_add(&sc, call, SITE_CALL);
	sc.frames[0] = (struct rv_frame){ .lo = call, .hi = call + 1, .rsp = sp, .tag = 0 };
	sc.nframes = 1;
	rv_user(r, true);
	int e = -ENOENT;
	for (struct tl_node *an = tl_anchor_before(r->s, r->origin); an; an = tl_anchor_before(r->s, an)) {
		if ((e = rv_scan_run(r, an, &r->origin->pos, &sc, st)) < 0)
			break;
		size_t hi = SIZE_MAX;
		for (size_t i = sc.hits.n; i-- > 0 && hi == SIZE_MAX;)
			if (sc.hits.v[i].tag == 0)
				hi = i;
		if (hi == SIZE_MAX) {
			e = -ENOENT;
			continue;
		}
		struct rv_hit h = sc.hits.v[hi];
		const struct rv_hit *u = user_stop_after(&sc, hi + 1);
		struct rv_hit uc;
		if (u)
			uc = *u;
		rv_user(r, false);
		e = land(r, &h, u ? &uc : NULL, 0, 0, SR_FINISHED, st);
		if (e == 0 && !u) {
			st->reason = SR_STEPPED;
			st->print = SP_SRC_AND_LOC;
		}
		break;
	}
	rv_scan_free(&sc);
	if (e == -ENOENT) {
		/* The frame was made before the history began. */
		rv_user(r, false);
		struct tl_node *root = tl_root(r->s);
		if (root && root != r->origin && rv_restore(r, root, st) < 0)
			return -EIO;
		rv_stop_here(r, SR_HISTORY_BEGIN, st);
		return 0;
	}
	return e;
}

int rv_reverse_line(struct rv *r, enum sess_cmd cmd, const struct sess_args *a, struct stop *st)
{
	if (cmd == SC_FINISH)
		return reverse_finish(r, a, st);
	bool step = cmd == SC_STEP;
	struct task *t = rv_task(r, r->tid);
	if (!t)
		return rv_fail(st, -ESRCH, "The program is not being run.");
	uint64_t p_pc = task_pc(t);
	struct sym_line prow = row_of(r, t, p_pc);
	if (!prow.line) {
		/* No line information here: back to the call of this function. */
		return reverse_finish(r, NULL, st);
	}
	struct lframe f[MAX_FRAMES];
	size_t nf = frames_at(r, t, f, MAX_FRAMES);
	if (!nf)
		return rv_fail(st, -EIO, "Cannot unwind the stack of thread %d.", t->tid);
	if (nf > 1 && p_pc == f[0].lo) {
		/* At a function's first instruction nothing of this call has run: its
		 * frame id (the CFA) equals that of an earlier call from the same place,
		 * whose lines must not be taken for this one's. Back to the call, then to
		 * the start of the caller's line, as gdb does. */
		struct pos_point prev;
		struct tl_node *from;
		int x = rv_prev_of(r, r->origin, false, &prev, &from, st);
		if (x < 0)
			return x == -ENOENT ? 0 : x;   /* the start of history: said */
		struct tl_node *n = rv_goto_pos(r, &prev, from, st);
		if (!n)
			return -EIO;
		r->origin = n;
		t = rv_task(r, r->tid);
		struct sym_line crow = t ? row_of(r, t, task_pc(t)) : (struct sym_line){ 0 };
		if (!t || !crow.line || task_pc(t) == crow.lo) {
			rv_stop_here(r, SR_STEPPED, st);
			st->print = SP_SRC_AND_LOC;
			return 0;
		}
		x = rv_reverse_line(r, cmd, a, st);
		if (x == 0 && st->reason == SR_STEPPED)
			st->print = SP_SRC_AND_LOC;   /* in the caller now */
		return x;
	}
	uint64_t func0 = f[0].lo, cfa0 = f[0].cfa;
	struct rv_scan sc;
	rv_scan_init(&sc);
	for (size_t k = 0; k < nf; k++) {
		rv_sites_function(r, t, f[k].lo, f[k].hi, &sc);
		sc.frames[k] = (struct rv_frame){ .lo = f[k].lo, .hi = f[k].hi, .cfa = f[k].cfa,
						  .tag = (int)k };
	}
	sc.nframes = (unsigned)nf;
	rv_user(r, true);
	int e = -ENOENT;
	struct rl_run *v = xcalloc(256, sizeof *v);
	size_t *rix = xcalloc(256, sizeof *rix);
	struct tl_node *an = tl_anchor_before(r->s, r->origin);
	for (; an; an = tl_anchor_before(r->s, an)) {
		if ((e = rv_scan_run(r, an, &r->origin->pos, &sc, st)) < 0)
			break;
		t = rv_task(r, r->tid);
		bool full;
		size_t n = build_runs(r, t, &sc, f, nf, p_pc, step, v, rix, 256, &full);
		struct rl_state s = { .lo = prow.lo, .hi = prow.hi, .line = prow.line, .frame = 0 };
		bool enter;
		int j = rl_pick(v, n, &s, step, &enter);
		if (j < 0 && !full) {
			e = -ENOENT;
			continue;   /* the frames began earlier: from an earlier snapshot */
		}
		if (j < 0 && n && f[nf - 1].handler && v[0].start == f[nf - 1].lo) {
			/* Back out of a signal handler: to the instruction it interrupted. */
			struct rv_hit eh = sc.hits.v[rix[0]];
			rv_user(r, false);
			struct tl_node *x = rv_goto_pos(r, &eh.pos, eh.anchor, st);
			struct pos_point prev;
			struct tl_node *from;
			if (!x || (e = rv_prev_of(r, x, true, &prev, &from, st)) < 0) {
				e = x ? e : -EIO;
				break;
			}
			if (!rv_goto_pos(r, &prev, from, st)) {
				/* The interrupted point is not reachable (a signal the replay
				 * delivers at a system call's return): the handler's entry. */
				inf_notice(r->inf, "[the point the signal interrupted cannot be replayed "
					   "to; stopping at the handler's entry]");
				if (!rv_goto_pos(r, &eh.pos, eh.anchor, st)) {
					e = -EIO;
					break;
				}
			}
			rv_stop_here(r, SR_STEPPED, st);
			st->print = SP_SRC_AND_LOC;
			e = 0;
			break;
		}
		if (j < 0)
			j = 0;   /* out of frames: the earliest start known */
		struct rv_hit h = sc.hits.v[rix[j]];
		struct rv_hit cu;
		bool have_cu = false, entered = false;
		if (enter) {
			struct rv_hit in = { 0 };
			int x = callee_stop(r, an, &h, v[j].call_at, &f[0], &in, &cu, &have_cu, st);
			if (x == 0) {
				h = in;
				entered = true;
			} else if (x != -ENOENT) {
				e = x;
				break;
			} else {
				/* No line information after all: step over it. */
				v[j].call_at = 0;
				struct rl_state s2 = { .lo = prow.lo, .hi = prow.hi, .line = prow.line };
				j = rl_pick(v, n, &s2, false, &enter);
				h = sc.hits.v[rix[j < 0 ? 0 : j]];
			}
		}
		/* The user's stops between the stop and P. */
		const struct rv_hit *u = entered ? (have_cu ? &cu : NULL) : user_stop_after(&sc, rix[j]);
		struct rv_hit uc;
		if (u)
			uc = *u;
		rv_user(r, false);
		e = land(r, &h, u ? &uc : NULL, func0, cfa0, SR_STEPPED, st);
		break;
	}
	free(v);
	free(rix);
	rv_scan_free(&sc);
	if (e == -ENOENT) {
		rv_user(r, false);
		struct tl_node *root = tl_root(r->s);
		if (root && root != r->origin && rv_restore(r, root, st) < 0)
			return -EIO;
		rv_stop_here(r, SR_HISTORY_BEGIN, st);
		return 0;
	}
	return e;
}
