/* reverse_scan: replays with breakpoints at chosen sites of a few functions, noting
 * every hit of the command's thread in execution order (its position, stack pointer
 * and frame), together with the user's breakpoint and watchpoint stops met on the
 * way. Reverse step, next, finish and stepi decide from such a list; reverse
 * continue from the user's stops alone. */
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

#define MAX_FUNC_BYTES (256 * 1024)
/* A loose end (rv_scan.loose_limit) is worth it when the stretch it may overrun
 * into is at least this long (CPU ns), and overruns end by at least half of it; what a trap adds to the program's CPU time,
 * counted generously (the CPU clock runs ahead of the program's progress by it). */
#define LOOSE_MIN_NS 2000000ull
#define TRAP_CPU_NS 30000ull

void rv_scan_init(struct rv_scan *sc)
{
	memset(sc, 0, sizeof *sc);
}

void rv_scan_free(struct rv_scan *sc)
{
	vec_free(&sc->rules);
	vec_free(&sc->pcs);
	vec_free(&sc->flags);
	vec_free(&sc->hits);
	memset(sc, 0, sizeof *sc);
}

void rv_site_add(struct rv_scan *sc, uint64_t pc, unsigned flags)
{
	for (size_t i = 0; i < sc->pcs.n; i++)
		if (sc->pcs.v[i] == pc) {
			sc->flags.v[i] |= flags;
			return;
		}
	vec_push(&sc->pcs, pc);
	vec_push(&sc->flags, flags);
}

static unsigned site_flags(const struct rv_scan *sc, uint64_t pc)
{
	for (size_t i = 0; i < sc->pcs.n; i++)
		if (sc->pcs.v[i] == pc)
			return sc->flags.v[i];
	return 0;
}

void rv_sites_function(struct rv *r, struct task *t, uint64_t lo, uint64_t hi, struct rv_scan *sc)
{
	struct inferior *inf = r->inf;
	const struct inf_symops *so = inf->sym;
	rv_site_add(sc, lo, SITE_ENTRY);
	if (hi <= lo || hi - lo > MAX_FUNC_BYTES)
		return;
	size_t n = hi - lo;
	uint8_t *code = xmalloc(n + 16);
	memset(code + n, 0, 16);
	if (proc_read(t->proc, RADDR(lo), code, n) < 0) {
		free(code);
		return;
	}
	for (uint64_t a = lo; a < hi;) {
		struct insn in;
		size_t off = a - lo;
		if (disasm_one(code + off, n - off, a, &in) < 0 || !in.len) {
			a++;
			continue;
		}
		uint64_t llo = 0, lhi = 0;
		int line = 0;
		if (so && so->line_range && so->line_range(inf, t, a, &llo, &lhi, &line) == 0 &&
		    llo == a && line)
			rv_site_add(sc, a, SITE_LINE);
		if (in.kind == IK_JMP || in.kind == IK_JCC) {
			if (in.target >= lo && in.target < hi)
				rv_site_add(sc, in.target, SITE_JUMP);
			if (a + in.len < hi)
				rv_site_add(sc, a + in.len, SITE_AFTER_JUMP);
		} else if (in.kind == IK_RET && a + in.len < hi) {
			rv_site_add(sc, a + in.len, SITE_AFTER_JUMP);
		}
		a += in.len;
	}
	free(code);
}

/* Registers as a CFA rule probe sees them: t's, with rsp or rbp moved. */
struct probe {
	struct sym_access real;
	struct user_regs_struct regs;
};

static int pr_read(void *ctx, uint64_t a, void *buf, size_t len)
{
	struct probe *p = ctx;
	return p->real.read_mem(p->real.ctx, a, buf, len);
}
static int pr_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
	(void)ctx; (void)a; (void)buf; (void)len;
	return -EPERM;
}
static int pr_regs(void *ctx, struct user_regs_struct *o)
{
	*o = ((struct probe *)ctx)->regs;
	return 0;
}
static int pr_setregs(void *ctx, const struct user_regs_struct *i)
{
	(void)ctx; (void)i;
	return -EPERM;
}
static int pr_xs(void *ctx, uint8_t **b, size_t *l)
{
	struct probe *p = ctx;
	return p->real.get_xstate(p->real.ctx, b, l);
}
static int pr_setxs(void *ctx, const uint8_t *b, size_t l)
{
	(void)ctx; (void)b; (void)l;
	return -EPERM;
}

static uint64_t probe_cfa(struct symtab *sym, struct probe *p)
{
	struct sym_access acc = { p, pr_read, pr_write, pr_regs, pr_setregs, pr_xs, pr_setxs };
	uint64_t cfa = 0, cpc, ccfa;
	if (unwind_frame_info(sym, &acc, &cfa, &cpc, &ccfa) < 0 && !cfa)
		return 0;
	return cfa;
}

/* The CFA at t's pc from its registers, by a rule learnt once per pc: the CFI makes
 * the CFA the stack pointer or the frame pointer plus a constant. */
static uint64_t cfa_by_rule(struct rv *r, struct rv_scan *sc, struct task *t, uint64_t pc)
{
	struct user_regs_struct *regs;
	if (task_get_regs(t, &regs) < 0)
		return 0;
	for (size_t i = 0; i < sc->rules.n; i++) {
		const struct rv_cfa_rule *ru = &sc->rules.v[i];
		if (ru->pc != pc)
			continue;
		if (ru->base == 1)
			return regs->rsp + (uint64_t)ru->off;
		if (ru->base == 2)
			return regs->rbp + (uint64_t)ru->off;
		return rv_cfa(r, t);
	}
	struct rv_cfa_rule ru = { .pc = pc };
	struct symtab *sym = infsym_symtab(r->inf, t->proc);
	uint64_t c0 = rv_cfa(r, t);
	if (sym && c0) {
		struct probe p;
		sym_access_for_task(t, &p.real);
		p.regs = *regs;
		p.regs.rsp += 0x1000;
		uint64_t c1 = probe_cfa(sym, &p);
		p.regs = *regs;
		p.regs.rbp += 0x1000;
		uint64_t c2 = probe_cfa(sym, &p);
		if (c1 == c0 + 0x1000 && c2 == c0) {
			ru.base = 1;
			ru.off = (int64_t)(c0 - regs->rsp);
		} else if (c2 == c0 + 0x1000 && c1 == c0) {
			ru.base = 2;
			ru.off = (int64_t)(c0 - regs->rbp);
		}
	}
	vec_push(&sc->rules, ru);
	return c0;
}

uint64_t rv_cfa(struct rv *r, struct task *t)
{
	const struct inf_symops *so = r->inf->sym;
	uint64_t cfa = 0, cpc, ccfa;
	if (!t || !so || !so->frame_info || so->frame_info(r->inf, t, &cfa, &cpc, &ccfa) < 0)
		return 0;
	return cfa;
}

static int scan_fail(struct stop *st, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int scan_fail(struct stop *st, int e, const char *fmt, ...)
{
	va_list ap;
	memset(st, 0, sizeof *st);
	st->reason = SR_ERROR;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	return e;
}

/* Which of sc's frames the hit of t at pc belongs to (-1: none). */
static int frame_of(struct rv *r, struct rv_scan *sc, struct task *t, uint64_t pc, uint64_t rsp,
		    uint64_t *cfa)
{
	*cfa = 0;
	if (!sc->nframes)
		return 0;
	bool have_cfa = false;
	for (unsigned i = 0; i < sc->nframes; i++) {
		const struct rv_frame *f = &sc->frames[i];
		if (pc < f->lo || pc >= f->hi)
			continue;
		if (f->rsp && f->rsp != rsp)
			continue;
		if (f->cfa) {
			if (!have_cfa) {
				*cfa = cfa_by_rule(r, sc, t, pc);
				have_cfa = true;
			}
			if (*cfa != f->cfa)
				continue;
		}
		if (!have_cfa)
			*cfa = cfa_by_rule(r, sc, t, pc);
		return f->tag;
	}
	return -1;
}

static void keep_hit(struct rv_scan *sc, const struct rv_hit *h)
{
	/* The end itself (a site or breakpoint at the point the scan replays to, met
	 * before the engine reports reaching it) is not a point before the end; a
	 * watchpoint's stop there is (the write came just before). */
	if (!(h->tag == RV_TAG_USER && h->user.reason == SR_WATCHPOINT) &&
	    h->pos.event == sc->end.event && h->pos.tid == sc->end.tid &&
	    h->pos.pos.pc == sc->end.pos.pc && h->pos.pos.k == sc->end.pos.k &&
	    h->pos.pos.reghash == sc->end.pos.reghash)
		return;
	if (sc->hits.n >= RV_MAX_HITS) {
		memmove(sc->hits.v, sc->hits.v + RV_MAX_HITS / 2,
			(sc->hits.n - RV_MAX_HITS / 2) * sizeof *sc->hits.v);
		sc->hits.n -= RV_MAX_HITS / 2;
		sc->dropped += RV_MAX_HITS / 2;
	}
	vec_push(&sc->hits, *h);
}

static void note_hit(struct rv *r, struct rv_scan *sc, struct task *t, int tag, unsigned flags,
		     uint64_t cfa)
{
	struct rv_hit h = { 0 };
	struct user_regs_struct *regs;
	h.pc = task_pc(t);
	if (task_get_regs(t, &regs) == 0)
		h.rsp = regs->rsp;
	h.cfa = cfa;
	h.tag = tag;
	h.flags = flags;
	h.pos.event = rec_event_here(r->e);
	h.pos.tid = rpl_rec_tid(r->e, t->tid);
	h.anchor = r->at;
	pos_capture(t, rec_thread_events(r->e, h.pos.tid), &h.pos.pos);
	keep_hit(sc, &h);
}

static void note_user_stop(struct rv *r, struct rv_scan *sc, const struct stop *st)
{
	struct rv_hit h = { 0 };
	struct task *t = st->task;
	if (!t || t->state != TS_STOPPED)
		return;
	h.pc = task_pc(t);
	h.tag = RV_TAG_USER;
	h.user = *st;
	h.user.task = NULL;
	h.anchor = r->at;
	h.pos.event = rec_event_here(r->e);
	h.pos.tid = rpl_rec_tid(r->e, t->tid);
	pos_capture(t, rec_thread_events(r->e, h.pos.tid), &h.pos.pos);
	keep_hit(sc, &h);
}

/* The stop a user breakpoint at t's pc makes when t arrives there, if any. */
static bool user_break_here(struct rv *r, struct task *t, struct stop *st)
{
	struct inferior *inf = r->inf;
	struct breakpoint *bs[16];
	uint64_t pc = task_pc(t);
	size_t n = bp_at(&inf->bps, t->proc->pid, pc, bs, ARRAY_SIZE(bs));
	for (size_t i = 0; i < n; i++) {
		struct breakpoint *b = bs[i];
		if (b->internal != BPI_NONE || !b->enabled || (b->kind != BPK_BREAK && b->kind != BPK_HBREAK))
			continue;
		if (b->thread && b->thread != t->num)
			continue;
		if (b->cond && inf->sym && inf->sym->eval_cond) {
			struct sbuf err = { 0 };
			int c = inf->sym->eval_cond(inf, t, b->cond, &err);
			sbuf_free(&err);
			if (c == 0)
				continue;
		}
		memset(st, 0, sizeof *st);
		st->reason = SR_BREAKPOINT;
		st->print = SP_SRC_AND_LOC;
		st->bp_id = b->id;
		st->temporary = b->temporary;
		stop_fill_thread(st, t);
		return true;
	}
	return false;
}

static void at_start(struct rv *r, struct rv_scan *sc, struct tl_node *from, struct task *t,
		     bool sites)
{
	uint64_t pc = task_pc(t);
	if (sites && site_flags(sc, pc)) {
		uint64_t cfa = 0;
		struct user_regs_struct *regs;
		uint64_t rsp = task_get_regs(t, &regs) == 0 ? regs->rsp : 0;
		int tag = frame_of(r, sc, t, pc, rsp, &cfa);
		if (tag >= 0)
			note_hit(r, sc, t, tag, site_flags(sc, pc), cfa);
	}
	if (!r->user_on)
		return;
	/* The user's stop there was in the thread current at the snapshot, which need
	 * not be the one reversing (another thread's breakpoint hit). */
	struct task *ct = r->inf->cur && r->inf->cur->state == TS_STOPPED ? r->inf->cur : t;
	struct stop st;
	if (user_break_here(r, ct, &st)) {
		st.task = ct;
		note_user_stop(r, sc, &st);
	}
	if (from->hit && from->hit->reason == SR_WATCHPOINT) {
		struct breakpoint *b = bp_find(&r->inf->bps, from->hit->bp_id);
		if (b && b->enabled) {
			st = *from->hit;
			st.task = t;
			note_user_stop(r, sc, &st);
		}
	}
}

/* The task that hit a site breakpoint armed for every thread: the one stopped there
 * (the others run on between hits). */
static struct task *stopped_at_site(struct inferior *inf, const struct rv_scan *sc)
{
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *o = p->tasks; o; o = o->next)
			if (o->state == TS_STOPPED && site_flags(sc, task_pc(o)))
				return o;
	}
	return NULL;
}

/* With a loose end: the execution coordinate (CPU ns, timeline.h) the replay stops
 * at, past end's node by a quarter of the window (CPU time of a replay and of the
 * first run differ by much less) and at most halfway to sc->loose_limit; 0 to find
 * end exactly. */
static uint64_t loose_until(struct rv *r, const struct tl_node *from, const struct pos_point *end,
			    const struct rv_scan *sc)
{
	const struct tl_node *lim = sc->loose_limit;
	const struct tl_node *n = lim ? tl_find_pos(r->s, end) : NULL;
	if (!n || n == lim || n->cpu <= from->cpu || lim->cpu <= n->cpu ||
	    lim->cpu - n->cpu < LOOSE_MIN_NS || !tl_cpu_clock(r->s))
		return 0;
	uint64_t over = (n->cpu - from->cpu) / 4;
	if (over < LOOSE_MIN_NS / 2)
		over = LOOSE_MIN_NS / 2;
	return n->cpu + MIN(over, (lim->cpu - n->cpu) / 2);
}

/* Interrupt the replay when the program's coordinate reaches until, plus what the
 * traps so far added to its CPU clock. Returns false if it is there already. */
static bool arm_until(struct rv *r, uint64_t until, uint64_t traps)
{
	uint64_t want = until + traps * TRAP_CPU_NS, now = tl_cpu_now(r->s);
	if (now >= want)
		return false;
	tl_arm(r->s, tl_cpu_clock(r->s) + (want - now), 0);
	return true;
}

static int scan_once(struct rv *r, struct tl_node *from, const struct pos_point *end,
		     struct rv_scan *sc, struct stop *st);

int rv_scan_run(struct rv *r, struct tl_node *from, const struct pos_point *end,
		struct rv_scan *sc, struct stop *st)
{
	r->e->ff_retry = false;
	r->e->ff_can_retry = true;
	int e = scan_once(r, from, end, sc, st);
	r->e->ff_can_retry = false;
	if (e < 0 && r->e->ff_retry) {
		/* A position overshot by its untrapped approach: again, approaching less. */
		r->e->ff_retry = false;
		memset(st, 0, sizeof *st);
		e = scan_once(r, from, end, sc, st);
	}
	return e;
}

static int scan_once(struct rv *r, struct tl_node *from, const struct pos_point *end,
		     struct rv_scan *sc, struct stop *st)
{
	struct inferior *inf = r->inf;
	uint64_t traps = 0;
	sc->hits.n = 0;
	sc->dropped = 0;
	sc->reached = false;
	sc->from = from;
	sc->end = *end;
	int e = rv_restore(r, from, st);
	if (e < 0)
		return e;
	struct task *t = rv_task(r, r->tid);
	/* The thread is made later than the snapshot: the sites are armed for every
	 * thread and hits of the others are passed over. */
	struct task *any = t ? t : inf->cur && inf->cur->state == TS_STOPPED ? inf->cur : NULL;
	if (!any)
		return scan_fail(st, -ESRCH, "Thread %d does not exist at the snapshot.", r->tid);
	for (size_t i = 0; i < sc->pcs.n; i++) {
		struct breakpoint *b = run_internal_bp(inf, any, BPI_UNTIL, sc->pcs.v[i], 0);
		if (!t)
			b->thread = 0;
	}
	struct rec_engine *en = r->e;
	en->target = *end;
	en->have_target = true;
	uint64_t until = loose_until(r, from, end, sc);
	if (until) {
		en->have_target = false;
		en->halt_event = end->event + 1;   /* past end for sure: enough */
		en->halted = false;
		arm_until(r, until, 0);
		pr_debug(LM_REPLAY, "reverse scan: loose end, until coordinate %" PRIu64 " (end %" PRIu64
			 ", limit %" PRIu64 ")", until, tl_find_pos(r->s, end)->cpu, sc->loose_limit->cpu);
	}
	struct run run = { .want = BPI_UNTIL };
	/* Standing at the end already (the snapshot is the end's point). */
	if (t && rec_event_here(en) == end->event && pos_matches(t, &end->pos)) {
		sc->reached = true;
		goto out;
	}
	/* What happens at the snapshot's own point is not seen by the replay (a restored
	 * thread steps off a breakpoint under it): a site there, a user's stop there. */
	at_start(r, sc, from, any, t != NULL);
	if ((e = run_resume(inf, &run)) < 0) {
		if (rv_pending_stop(r, st) && st->reason == SR_LOCATION) {
			sc->reached = true;
			goto out;
		}
		scan_fail(st, e, "Cannot resume: %s.", strerror(-e));
		goto out;
	}
	for (;;) {
		enum ev_result er = run_wait(inf, &run, st);
		if (er == ER_INTERNAL) {
			traps++;
			struct task *ht = run.hit && run.hit->thread ? inf_thread(inf, run.hit->thread) :
					  stopped_at_site(inf, sc);
			run.hit = NULL;
			if (!ht || ht->state != TS_STOPPED)
				continue;
			uint64_t pc = task_pc(ht), cfa = 0;
			struct user_regs_struct *regs;
			uint64_t rsp = task_get_regs(ht, &regs) == 0 ? regs->rsp : 0;
			int tag = rpl_rec_tid(en, ht->tid) == r->tid ? frame_of(r, sc, ht, pc, rsp, &cfa) : -1;
			bool all = false;
			if (tag >= 0) {
				note_hit(r, sc, ht, tag, site_flags(sc, pc), cfa);
				if (rv_worth_snapshot(r)) {
					/* A closer starting point for the next replays. */
					target_stop_all(&inf->tg);
					rv_node_here(r, r->at, true);
					all = true;
				}
			}
			rv_pass_hw(r, all ? NULL : ht);
			e = all ? run_resume(inf, &run) : run_resume_task(inf, &run, ht, RESUME_CONT);
			if (e < 0) {
				if (rv_pending_stop(r, st) && st->reason == SR_LOCATION) {
					sc->reached = true;
					break;
				}
				scan_fail(st, e, "Cannot resume: %s.", strerror(-e));
				goto out;
			}
			continue;
		}
		if (er == ER_STEP_DONE)
			continue;
		/* ER_STOP */
		if (st->reason == SR_ERROR)
			rv_pending_stop(r, st);
		if (until && st->reason == SR_INTERRUPTED && en->halted) {
			sc->reached = true;   /* past end's event, short of the limit */
			break;
		}
		if (until && st->reason == SR_INTERRUPTED && tl_disarm(r->s)) {
			tl_drain_interrupt(r->s);
			if (!arm_until(r, until, traps)) {
				if (rec_event_here(en) < end->event) {
					/* The CPU clock ran ahead of the recording's (threads):
					 * the window's hits past here are unseen. Say so rather
					 * than stop at an earlier hit. */
					scan_fail(st, -EIO, "The replay lost track of the end of a "
						  "window (event %" PRIu64 " of %" PRIu64 " by CPU time; "
						  "multithreaded recordings): no stop is reported rather "
						  "than a wrong one.", rec_event_here(en), end->event);
					e = -EIO;
					break;
				}
				sc->reached = true;   /* past end, short of the limit */
				break;
			}
			rv_pass_hw(r, NULL);
			if ((e = run_resume(inf, &run)) < 0) {
				scan_fail(st, e, "Cannot resume: %s.", strerror(-e));
				goto out;
			}
			continue;
		}
		if (st->reason == SR_LOCATION) {
			sc->reached = true;
			break;
		}
		if (until && st->reason == SR_HISTORY_END && rec_event_here(en) >= end->event &&
		    rec_event_here(en) <= sc->loose_limit->pos.event) {
			/* The log ended before the CPU coordinate came (a replay's CPU clock
			 * runs slower where the recording trapped more): past end, and not
			 * past the limit, so nothing was missed. */
			sc->reached = true;
			break;
		}
		if (st->reason == SR_BREAKPOINT || st->reason == SR_WATCHPOINT ||
		    st->reason == SR_SIGNAL) {
			struct task *ut = st->task;
			if (st->reason == SR_BREAKPOINT && ut && ut->state == TS_STOPPED &&
			    rpl_rec_tid(en, ut->tid) == r->tid && site_flags(sc, task_pc(ut))) {
				/* A site under the user's breakpoint: its hit was not reported. */
				uint64_t cfa = 0;
				struct user_regs_struct *regs;
				uint64_t rsp = task_get_regs(ut, &regs) == 0 ? regs->rsp : 0;
				int tag = frame_of(r, sc, ut, task_pc(ut), rsp, &cfa);
				if (tag >= 0)
					note_hit(r, sc, ut, tag, site_flags(sc, task_pc(ut)), cfa);
			}
			note_user_stop(r, sc, st);
			traps++;
			if (rv_worth_snapshot(r)) {
				/* Everything is stopped here: a closer starting point. */
				struct tl_node *n = rv_node_here(r, r->at, true);
				if (n && n->ckpt)
					tl_note_hit(n, st);
			}
			rv_pass_hw(r, NULL);
			if ((e = run_resume(inf, &run)) < 0) {
				if (rv_pending_stop(r, st) && st->reason == SR_LOCATION) {
					sc->reached = true;
					break;
				}
				scan_fail(st, e, "Cannot resume: %s.", strerror(-e));
				goto out;
			}
			continue;
		}
		pr_debug(LM_REPLAY, "reverse scan: stop %d at %#" PRIx64 " (tid %d, event %" PRIu64 ")",
			 st->reason, t && t->state == TS_STOPPED ? task_pc(t) : 0, t ? t->tid : 0, rec_event_here(en));
		if (st->reason != SR_ERROR)
			scan_fail(st, -EIO, "The replay stopped before it reached the current point "
				  "(%s at %#" PRIx64 ").", st->reason == SR_EXITED ? "the program exited" :
				  "an unexpected stop", st->pc);
		e = -EIO;
		break;
	}
out:
	en->have_target = false;
	en->halt_event = 0;
	en->halted = false;
	if (until && tl_disarm(r->s))
		tl_drain_interrupt(r->s);
	run_drop_internal(inf, BPI_UNTIL);
	if (sc->reached)
		memset(st, 0, sizeof *st);
	pr_debug(LM_REPLAY, "reverse scan: %zu sites, %zu hits kept (%" PRIu64 " dropped), %s "
		 "(event %" PRIu64 " of %" PRIu64 ", target #%" PRIu64 " pc %#" PRIx64 ")%s%s",
		 sc->pcs.n, sc->hits.n, sc->dropped, sc->reached ? "reached the end" : "failed",
		 rec_event_here(en), rec_log_len(en), end->event, end->pos.pc, sc->reached ? "" : ": ",
		 sc->reached ? "" : st->err);
	return sc->reached ? 0 : (e < 0 ? e : -EIO);
}
