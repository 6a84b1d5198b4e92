/* reverse_search: `last EXPR` (the most recent change of a value) and `bisect COND`
 * (the first point a condition holds).
 *
 * last, one lvalue of up to 32 bytes: a watchpoint of our own on it (debug
 * registers) and reverse-continue's search: the last write that changed the value
 * before now, and the program stops at the writing instruction. Any other
 * expression: its value at the snapshots going back finds the stretch of the last
 * change; a replay of that stretch with the debug registers on the memory the
 * expression reads (noted while evaluating it) evaluates it at every write.
 *
 * bisect: binary search over the snapshots before now for the first one where COND
 * holds (assumed to stay true once true), then the same replay with the memory COND
 * reads watched, evaluating it at every write: the first point it holds. An
 * expression of registers only is followed instruction by instruction.
 *
 * Expressions are evaluated in frame 0 of the thread selected when the command
 * started, at each point examined (a local of another frame does not resolve). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/infsym.h"
#include "core/log.h"
#include "core/sym/expr.h"
#include "core/sym/unwind.h"
#include "replay/record_int.h"
#include "replay/reverse_int.h"

#define MAX_VALUE 256
#define STEP_LIMIT 200000

struct range {
	uint64_t addr, len;
};

/* What an evaluation saw. */
struct evalr {
	uint8_t bytes[MAX_VALUE];
	size_t len;
	bool truth;
	bool lvalue;                  /* one lvalue in memory */
	uint64_t addr;
	VEC(struct range) reads;      /* memory read by the expression */
};

struct tracer {
	const struct sym_access *inner;
	struct evalr *out;
};

static int tr_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct tracer *tr = ctx;
	struct range rg = { addr, len };
	vec_push(&tr->out->reads, rg);
	return tr->inner->read_mem(tr->inner->ctx, addr, buf, len);
}
static int tr_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	(void)ctx; (void)addr; (void)buf; (void)len;
	return -EPERM;   /* a search never changes the program */
}
static int tr_get_regs(void *ctx, struct user_regs_struct *o)
{
	struct tracer *tr = ctx;
	return tr->inner->get_regs(tr->inner->ctx, o);
}
static int tr_set_regs(void *ctx, const struct user_regs_struct *i)
{
	(void)ctx; (void)i;
	return -EPERM;
}
static int tr_get_xstate(void *ctx, uint8_t **b, size_t *l)
{
	struct tracer *tr = ctx;
	return tr->inner->get_xstate(tr->inner->ctx, b, l);
}
static int tr_set_xstate(void *ctx, const uint8_t *b, size_t l)
{
	(void)ctx; (void)b; (void)l;
	return -EPERM;
}


/* Evaluate text in frame 0 of thread t. cond: as a condition. Returns 0, or -errno
 * with err. */
static int evaluate(struct rv *r, struct task *t, const char *text, bool cond, struct evalr *out,
		    struct sbuf *err)
{
	out->len = 0;
	out->truth = false;
	out->lvalue = false;
	out->reads.n = 0;
	struct symtab *sym = t ? infsym_symtab(r->inf, t->proc) : NULL;
	if (!sym) {
		sbuf_puts(err, "No symbol table is loaded.");
		return -ENOENT;
	}
	struct sym_access acc, tacc;
	sym_access_for_task(t, &acc);
	struct tracer tr = { &acc, out };
	tacc = (struct sym_access){ &tr, tr_read, tr_write, tr_get_regs, tr_set_regs, tr_get_xstate,
				    tr_set_xstate };
	struct unwind_list frames = { 0 };
	if (unwind_backtrace(sym, &acc, 2, 0, &frames) < 0 || !frames.n) {
		unwind_list_free(&frames);
		sbuf_puts(err, "Cannot unwind the thread's stack.");
		return -EIO;
	}
	struct expr_env env = { 0 };
	env.ctx.st = sym;
	env.ctx.acc = &tacc;
	env.ctx.frame = &frames.v[0];
	env.ctx.caller = frames.n > 1 ? &frames.v[1] : NULL;
	env.no_side_effects = false;
	char *msg = NULL;
	int e = 0;
	if (cond) {
		int c = expr_eval_cond(&env, text, &msg);
		if (c < 0)
			e = c;
		else
			out->truth = c != 0;
	} else {
		struct value *v = NULL;
		e = expr_eval(&env, text, &v, &msg);
		if (e == 0 && (e = value_fetch(&env.ctx, v)) == 0) {
			out->len = v->len < MAX_VALUE ? v->len : MAX_VALUE;
			memcpy(out->bytes, v->bytes, out->len);
			out->lvalue = v->lval == LV_MEM && !v->bitsize;
			out->addr = v->addr;
		}
		value_free(v);
	}
	if (e < 0)
		sbuf_puts(err, msg ? msg : "Cannot evaluate the expression.");
	free(msg);
	unwind_list_free(&frames);
	return e;
}

static struct task *eval_task(struct rv *r)
{
	struct task *t = r->thread ? inf_thread(r->inf, r->thread) : NULL;
	return t && t->state == TS_STOPPED ? t : r->inf->cur;
}

/* A watchpoint of the engine's own over [addr, addr+len): aligned pieces of 1..8
 * bytes, one debug register each. every: report every write. NULL if it does not
 * fit the free debug registers. */
static struct breakpoint *watch(struct rv *r, const struct range *rg, size_t n, bool every)
{
	struct inferior *inf = r->inf;
	struct breakpoint *b = bp_new(&inf->bps, BPK_WATCH, BPI_UNTIL);
	unsigned pieces = 0, used = 0;
	for (int i = 0; i < 4; i++)
		used += inf->main->hw[i].used;
	for (size_t k = 0; k < n; k++) {
		uint64_t a = rg[k].addr, end = rg[k].addr + rg[k].len;
		while (a < end) {
			unsigned w = 8;
			while (w > 1 && ((a & (w - 1)) || a + w > end))
				w /= 2;
			bool dup = false;
			for (size_t i = 0; i < b->locs.n; i++)
				dup |= b->locs.v[i].addr <= a && a + w <= b->locs.v[i].addr + b->locs.v[i].len;
			if (!dup) {
				if (++pieces + used > 4) {
					bp_delete(&inf->bps, b, inf->tg.procs);
					return NULL;
				}
				bp_add_watch_loc(b, inf->main->pid, a, w);
			}
			a += w;
		}
	}
	b->expr = xstrdup("");
	b->waddr = rg[0].addr;
	b->wlen = (unsigned)MIN(rg[0].len, 32);
	b->every_write = every;
	b->old_valid = proc_read(inf->main, RADDR(b->waddr), b->old, b->wlen) == 0;
	if (bp_sync(&inf->bps, inf->tg.procs) < 0) {
		bp_delete(&inf->bps, b, inf->tg.procs);
		return NULL;
	}
	return b;
}

/* Merge ranges into at most a few aligned 8-byte words. */
static size_t words(const struct evalr *a, const struct evalr *b, struct range *out, size_t max)
{
	size_t n = 0;
	const struct evalr *v[2] = { a, b };
	for (int k = 0; k < 2; k++) {
		if (!v[k])
			continue;
		for (size_t i = 0; i < v[k]->reads.n; i++) {
			const struct range *rg = &v[k]->reads.v[i];
			for (uint64_t w = rg->addr & ~7ull; w < rg->addr + rg->len; w += 8) {
				bool have = false;
				for (size_t j = 0; j < n && !have; j++)
					have = out[j].addr == w;
				if (have)
					continue;
				if (n == max)
					return max + 1;
				out[n++] = (struct range){ w, 8 };
			}
		}
	}
	return n;
}

/* Go back to the start of the command (after a failed or fruitless search). */
static void back_to_origin(struct rv *r)
{
	struct stop tmp;
	if (r->restores)
		rv_goto_pos(r, &r->origin->pos, r->origin, &tmp);
}

/* What following the writes found. */
struct found {
	bool any;
	struct pos_point pos;         /* the point after the write */
	struct tl_node *from;         /* a snapshot node before it */
	struct evalr before, after;
	struct stop stop;             /* the watchpoint stop there */
};

static void evalr_free(struct evalr *v)
{
	vec_free(&v->reads);
}

static bool same_value(const struct evalr *a, const struct evalr *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* (Re)arm the watchpoint over what the evaluations read (start and now). NULL when
 * it needs more than the free debug registers. */
static struct breakpoint *rearm(struct rv *r, struct breakpoint *b, const struct evalr *a,
				const struct evalr *c, bool every)
{
	struct range w[8];
	size_t n = words(a, c, w, 4);
	if (b)
		bp_delete(&r->inf->bps, b, r->inf->tg.procs);
	if (n == 0 || n > 4)
		return NULL;
	return watch(r, w, n, every);
}

/* Replay from node `from` to position end, stopping at every write to what text
 * reads: with cond, until it holds (the program then stands there, *f filled);
 * without, noting the last write that changed its value (*f; the program ends at
 * end). Without memory to watch (registers only, or too much), single steps. Returns
 * 0, or -errno with st. */
static int follow_writes(struct rv *r, struct tl_node *from, const struct pos_point *end,
			 const char *text, bool cond, const struct evalr *at_end, struct found *f,
			 struct stop *st)
{
	struct sbuf err = { 0 };
	int e = rv_restore(r, from, st);
	if (e < 0)
		return e;
	struct evalr cur = { 0 }, now = { 0 };
	struct task *t = eval_task(r);
	if (evaluate(r, t, text, cond, &cur, &err) < 0 && !cond) {
		e = rv_fail(st, -EINVAL, "%s", sbuf_str(&err));
		goto out;
	}
	if (cond && cur.truth) {
		f->any = true;
		f->pos = from->pos;
		f->from = from;
		goto out;
	}
	struct breakpoint *b = rearm(r, NULL, &cur, at_end, !cond);
	unsigned steps = 0;
	for (;;) {
		if (b) {
			e = rv_continue(r, end, st);
		} else {
			/* Nothing to watch: one instruction at a time. */
			struct task *rt = rv_task(r, r->tid);
			if (!rt) {
				e = rv_fail(st, -ESRCH, "The thread is gone.");
				break;
			}
			if (rec_event_here(r->e) == end->event && pos_matches(rt, &end->pos)) {
				st->reason = SR_LOCATION;
				e = 0;
			} else if (++steps > STEP_LIMIT) {
				e = rv_fail(st, -E2BIG, "The expression reads no memory the debug registers can "
					      "watch, and following it instruction by instruction takes more than "
					      "%d steps.", STEP_LIMIT);
			} else {
				rt->stepover = true;
				rv_pass_hw(r, rt);
				if (run_single_step(r->inf, rt, st) == ER_STEP_DONE) {
					memset(st, 0, sizeof *st);
					st->reason = SR_WATCHPOINT;
					stop_fill_thread(st, rt);
				}
				e = 0;
			}
		}
		if (e < 0 || st->reason == SR_ERROR) {
			e = e < 0 ? e : -EIO;
			break;
		}
		if (st->reason == SR_LOCATION)
			break;   /* end reached */
		if (st->reason == SR_SIGNAL)
			continue;
		if (st->reason != SR_WATCHPOINT) {
			e = rv_fail(st, -EIO, "The replay stopped unexpectedly.");
			break;
		}
		struct stop ws = *st;
		t = eval_task(r);
		sbuf_reset(&err);
		if (evaluate(r, t, text, cond, &now, &err) < 0 && !cond)
			continue;   /* cannot be evaluated here: not a change */
		if (cond) {
			if (now.truth) {
				f->any = true;
				f->from = r->at;
				tl_pos_here(r->s, &f->pos);
				f->stop = ws;
				break;
			}
		} else if (!same_value(&cur, &now)) {
			f->any = true;
			f->from = r->at;
			tl_pos_here(r->s, &f->pos);
			evalr_free(&f->before);
			evalr_free(&f->after);
			f->before = cur;
			f->before.reads = (typeof(cur.reads)){ 0 };
			f->after = now;
			f->after.reads = (typeof(now.reads)){ 0 };
			f->stop = ws;
			f->stop.task = NULL;
			cur.len = now.len;
			memcpy(cur.bytes, now.bytes, now.len);
		}
		if (b && rv_worth_snapshot(r))
			rv_node_here(r, r->at, true);
		if (b && now.reads.n) {
			struct breakpoint *nb = rearm(r, b, &now, at_end, !cond);
			if (nb)
				b = nb;
			else
				b = NULL;   /* too much to watch now: steps from here */
		}
	}
	if (b)
		bp_delete(&r->inf->bps, b, r->inf->tg.procs);
out:
	evalr_free(&cur);
	evalr_free(&now);
	sbuf_free(&err);
	return e;
}

int rev_last(struct session *s, const char *expr, struct rev_change *ch, struct stop *st,
	     struct sbuf *msg)
{
	struct rv r;
	memset(ch, 0, sizeof *ch);
	int e = rv_begin(&r, s, st);
	if (e < 0) {
		sbuf_puts(msg, st->err);
		return e;
	}
	struct evalr atp = { 0 };
	struct found f = { 0 };
	struct sbuf err = { 0 };
	if ((e = evaluate(&r, eval_task(&r), expr, false, &atp, &err)) < 0) {
		rv_fail(st, e, "%s", sbuf_str(&err));
		goto out;
	}
	ch->addr = atp.lvalue ? atp.addr : 0;
	ch->len = (unsigned)MIN(atp.len, sizeof ch->new_val);
	struct tl_node *end = r.origin;
	for (;;) {
		struct tl_node *a = tl_anchor_before(s, end);
		if (!a)
			break;
		if ((e = follow_writes(&r, a, &end->pos, expr, false, &atp, &f, st)) < 0)
			goto out;
		if (f.any)
			break;
		end = a;
	}
	if (!f.any) {
		back_to_origin(&r);
		rv_stop_here(&r, SR_NONE, st);
		e = 0;
		goto out;
	}
	ch->found = true;
	memcpy(ch->old_val, f.before.bytes, MIN(f.before.len, sizeof ch->old_val));
	memcpy(ch->new_val, f.after.bytes, MIN(f.after.len, sizeof ch->new_val));
	struct tl_node *x = rv_goto_pos(&r, &f.pos, f.from, st);
	if (!x) {
		e = -EIO;
		goto out;
	}
	if ((e = rv_land_write(&r, x, &f.stop, st)) == 0) {
		st->reason = SR_LOCATION;
		st->bp_id = 0;
	}
out:
	if (e < 0 && st->reason == SR_ERROR) {
		sbuf_puts(msg, st->err);
		char why[sizeof st->err];
		snprintf(why, sizeof why, "%s", st->err);
		back_to_origin(&r);
		memset(st, 0, sizeof *st);
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "%s", why);
	}
	evalr_free(&atp);
	evalr_free(&f.before);
	evalr_free(&f.after);
	sbuf_free(&err);
	rv_end(&r, st);
	return e;
}

/* ---- bisect ---- */

int rev_bisect(struct session *s, const char *cond, struct stop *st, struct sbuf *msg)
{
	struct rv r;
	int e = rv_begin(&r, s, st);
	if (e < 0) {
		sbuf_puts(msg, st->err);
		return e;
	}
	struct evalr v = { 0 }, atp = { 0 };
	struct found f = { 0 };
	struct sbuf err = { 0 };
	struct tl_node **chain = NULL;
	if ((e = evaluate(&r, eval_task(&r), cond, true, &atp, &err)) < 0) {
		rv_fail(st, e, "%s", sbuf_str(&err));
		goto out;
	}
	if (!atp.truth) {
		e = rv_fail(st, -ENOENT, "The condition is false here: bisect looks for where it "
			      "became true before now.");
		goto out;
	}
	/* The snapshots before now, oldest first. */
	size_t n = 0, cap = 16;
	chain = xcalloc(cap, sizeof *chain);
	for (struct tl_node *a = tl_anchor_before(s, r.origin); a; a = tl_anchor_before(s, a)) {
		if (n == cap)
			chain = xrealloc(chain, (cap *= 2) * sizeof *chain);
		chain[n++] = a;
	}
	for (size_t i = 0; i < n / 2; i++) {
		struct tl_node *x = chain[i];
		chain[i] = chain[n - 1 - i];
		chain[n - 1 - i] = x;
	}
	if (!n) {
		rv_stop_here(&r, SR_HISTORY_BEGIN, st);
		goto out;
	}
	/* chain[lo] false, chain[hi] (or now, hi == n) true. */
	size_t lo = 0, hi = n;
	if ((e = rv_restore(&r, chain[0], st)) < 0)
		goto out;
	sbuf_reset(&err);
	if (evaluate(&r, eval_task(&r), cond, true, &v, &err) == 0 && v.truth) {
		rv_stop_here(&r, SR_HISTORY_BEGIN, st);
		e = 0;
		goto out;
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if ((e = rv_restore(&r, chain[mid], st)) < 0)
			goto out;
		sbuf_reset(&err);
		bool t = evaluate(&r, eval_task(&r), cond, true, &v, &err) == 0 && v.truth;
		pr_debug(LM_REPLAY, "bisect: snapshot %u (event %" PRIu64 "): %s", chain[mid]->id,
			 chain[mid]->pos.event, t ? "true" : "false");
		if (t)
			hi = mid;
		else
			lo = mid;
	}
	const struct pos_point *end = hi == n ? &r.origin->pos : &chain[hi]->pos;
	if ((e = follow_writes(&r, chain[lo], end, cond, true, &atp, &f, st)) < 0)
		goto out;
	if (!f.any) {
		/* True at the end of the stretch but never seen becoming true: the end. */
		f.pos = *end;
		f.from = chain[lo];
	}
	if (!rv_goto_pos(&r, &f.pos, f.from, st)) {
		e = -EIO;
		goto out;
	}
	if (f.pos.tid)
		r.tid = f.pos.tid;   /* the thread that made it true */
	rv_stop_here(&r, SR_LOCATION, st);
out:
	if (e < 0 && st->reason == SR_ERROR) {
		sbuf_puts(msg, st->err);
		char why[sizeof st->err];
		snprintf(why, sizeof why, "%s", st->err);
		back_to_origin(&r);
		memset(st, 0, sizeof *st);
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "%s", why);
	}
	free(chain);
	evalr_free(&v);
	evalr_free(&atp);
	evalr_free(&f.before);
	evalr_free(&f.after);
	sbuf_free(&err);
	rv_end(&r, st);
	return e;
}
