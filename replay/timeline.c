/* timeline: known points of the history, their order, and the timeline snapshots
 * (timeline.h). The timer thread that interrupts long runs is in timeline_timer.c. */
#include "replay/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/inferior_int.h"
#include "replay/record_int.h"
#include "replay/session.h"
#include "replay/timeline_int.h"

/* Timeline snapshots: taken every TICK_FACTOR times what one costs (so a long run
 * spends about 1/TICK_FACTOR of its time on them), at least every TICK_MIN_NS and at
 * most every TICK_MAX_NS of running. */
#define TICK_FACTOR 12
#define TICK_MIN_NS 15000000ull
#define TICK_MAX_NS 1000000000ull
/* Thinning: the spacing grows by THIN_RATIO of the distance to the current point. */
#define THIN_RATIO 0.5

int tl_new(struct timeline **out)
{
	struct timeline *tl = xcalloc(1, sizeof *tl);
	tl->next_id = 1;
	tl->tick_ns = 2 * TICK_MIN_NS;
	tl_timer_init(tl);
	*out = tl;
	return 0;
}

static void free_nodes(struct timeline *tl)
{
	for (struct tl_node *n = tl->head, *x; n; n = x) {
		x = n->next;
		free(n->hit);
		free(n);
	}
	tl->head = tl->tail = NULL;
	tl->now = tl->base = NULL;
	tl->count = 0;
}

void tl_free(struct timeline *tl)
{
	if (!tl)
		return;
	tl_timer_fini(tl);
	free_nodes(tl);
	free(tl);
}

/* ---- the engine's view ---- */

unsigned tl_branch(struct session *s)
{
	struct rec_engine *e = s->rec;
	/* After the program exited the engine is off but still enabled: its history
	 * stays the current one (reverse commands go back from the end). */
	return e && e->branch && (e->mode != REC_OFF || e->enabled) ? rec_branch_id(e->branch) : 0;
}

bool tl_available(struct session *s, struct sbuf *err)
{
	struct rec_engine *e = s->rec;
	if (!inf_alive(&s->inf) || !s->inf.cur) {
		if (err)
			sbuf_puts(err, "The program is not being run.");
		return false;
	}
	if (!e || e->mode == REC_OFF || !e->branch) {
		if (err)
			sbuf_puts(err, "Reverse execution needs a recording; this session has none "
				  "(set record on, then run the program again).");
		return false;
	}
	if (e->disk) {
		if (err)
			sbuf_puts(err, "Reverse execution is not available while recording to disk "
				  "(replay the recording with `rewind replay`).");
		return false;
	}
	return true;
}

struct task *tl_running_task(struct session *s)
{
	struct rec_engine *e = s->rec;
	struct inferior *inf = &s->inf;
	struct task *t = e && e->sched_cur ? target_find_task(&inf->tg, e->sched_cur) : NULL;
	if (!t || t->state != TS_STOPPED || t->proc != inf->main)
		t = inf->cur;
	return t && t->state == TS_STOPPED ? t : NULL;
}

int tl_pos_here(struct session *s, struct pos_point *out)
{
	struct rec_engine *e = s->rec;
	struct task *t = tl_running_task(s);
	if (!e || e->mode == REC_OFF || !t)
		return -ENOENT;
	/* Inside a syscall the registers are no instruction boundary a replay shows:
	 * back the call out (it runs again when resumed), as a checkpoint does. */
	if (t->in_syscall && target_settle(&s->inf.tg, t) < 0)
		return -ESRCH;
	memset(out, 0, sizeof *out);
	out->event = rec_event_here(e);
	out->tid = rpl_rec_tid(e, t->tid);
	return pos_capture(t, rec_thread_events(e, out->tid), &out->pos);
}

static bool same_pos(const struct pos_point *a, const struct pos_point *b)
{
	return a->event == b->event && a->tid == b->tid && a->pos.pc == b->pos.pc &&
	       a->pos.k == b->pos.k && a->pos.reghash == b->pos.reghash;
}

struct tl_node *tl_find_pos(struct session *s, const struct pos_point *p)
{
	unsigned br = tl_branch(s);
	for (struct tl_node *n = s->tl->head; n; n = n->next)
		if (n->branch == br && same_pos(&n->pos, p))
			return n;
	return NULL;
}

struct tl_node *tl_node_by_id(struct session *s, unsigned id)
{
	for (struct tl_node *n = s->tl->head; n; n = n->next)
		if (n->id == id)
			return n;
	return NULL;
}

struct tl_node *tl_first(struct session *s)
{
	return s->tl->head;
}

struct checkpoint *tl_ckpt(struct session *s, const struct tl_node *n)
{
	if (!n || !n->ckpt || n->branch != tl_branch(s))
		return NULL;
	struct checkpoint *c = ckpt_by_id(&s->ckpts, n->ckpt);
	if (!c || !snap_alive(c->snap))
		return NULL;
	/* The engine must know where it lies in history (same branch and event). */
	for (size_t i = 0; i < s->rec->ckpts.n; i++) {
		const struct rec_ckpt *k = &s->rec->ckpts.v[i];
		if (k->id == c->id)
			return k->branch == s->rec->branch && k->event == n->pos.event ? c : NULL;
	}
	return NULL;
}

/* a is b or one of b's known predecessors. */
static bool is_ancestor(const struct tl_node *a, const struct tl_node *b)
{
	for (unsigned guard = 0; b && guard < 1000000; b = b->pred, guard++)
		if (a == b)
			return true;
	return false;
}

/* a is certainly later than b (both known to be before some point). */
static bool later(const struct tl_node *a, const struct tl_node *b)
{
	if (!b)
		return true;
	if (a->pos.event != b->pos.event)
		return a->pos.event > b->pos.event;
	return a != b && is_ancestor(b, a);
}

struct tl_node *tl_root(struct session *s)
{
	unsigned br = tl_branch(s);
	struct tl_node *best = NULL;
	for (struct tl_node *n = s->tl->head; n; n = n->next)
		if (n->branch == br && n->kind == TLK_START && (!best || n->pos.event < best->pos.event))
			best = n;
	return best;
}

struct tl_node *tl_anchor_before(struct session *s, struct tl_node *n)
{
	for (struct tl_node *m = n ? n->pred : NULL; m; m = m->pred)
		if (tl_ckpt(s, m))
			return m;
	return NULL;
}

struct tl_node *tl_anchor_for(struct session *s, const struct pos_point *p)
{
	struct tl_node *exact = tl_find_pos(s, p);
	if (exact && tl_ckpt(s, exact))
		return exact;
	if (exact)
		return tl_anchor_before(s, exact);
	unsigned br = tl_branch(s);
	struct tl_node *best = NULL;
	uint64_t before = rec_pos_floor(s->rec, p);   /* certainly before p (record_int.h) */
	for (struct tl_node *n = s->tl->head; n; n = n->next)
		if (n->branch == br && n->pos.event < before && tl_ckpt(s, n) &&
		    (!best || later(n, best) || (n->pos.event == best->pos.event && n->cpu > best->cpu)))
			best = n;
	if (!best) {
		struct tl_node *r = tl_root(s);
		if (r && r->pos.event <= p->event && tl_ckpt(s, r))
			best = r;
	}
	return best;
}

void tl_note_hit(struct tl_node *n, const struct stop *st)
{
	if (!n || (st->reason != SR_BREAKPOINT && st->reason != SR_WATCHPOINT))
		return;
	if (!n->hit)
		n->hit = xmalloc(sizeof *n->hit);
	*n->hit = *st;
	n->hit->task = NULL;
}

void tl_learn_before(struct session *s, struct tl_node *m, struct tl_node *n)
{
	(void)s;
	if (!m || !n || m == n || is_ancestor(n, m))
		return;
	if (!n->pred || is_ancestor(n->pred, m) ||
	    (m->pos.event > n->pred->pos.event && m->pos.event <= n->pos.event))
		n->pred = m;
}

/* The latest node certainly before a new node at position p reached from `from`. */
static struct tl_node *best_pred(struct session *s, struct tl_node *from,
				 const struct pos_point *p, unsigned br)
{
	struct tl_node *best = from;
	uint64_t before = rec_pos_floor(s->rec, p);
	for (struct tl_node *n = s->tl->head; n; n = n->next)
		if (n->branch == br && n->pos.event < before && later(n, best))
			best = n;
	return best;
}

static struct tl_node *new_node(struct session *s, enum tl_kind kind, const struct pos_point *p,
				struct tl_node *pred, uint64_t cpu)
{
	struct timeline *tl = s->tl;
	struct tl_node *n = xcalloc(1, sizeof *n);
	n->id = tl->next_id++;
	n->kind = kind;
	n->pos = *p;
	n->thread = s->inf.cur ? s->inf.cur->num : 0;
	n->branch = tl_branch(s);
	n->pred = pred;
	n->cpu = cpu;
	if (tl->tail)
		tl->tail->next = n;
	else
		tl->head = n;
	tl->tail = n;
	tl->count++;
	return n;
}

/* ---- CPU coordinates ---- */

uint64_t tl_cpu_clock(struct session *s)
{
	struct timeline *tl = s->tl;
	struct proc *p = s->inf.main;
	if (!p || p->dead)
		return 0;
	if (tl->clock_pid != p->pid) {
		if (clock_getcpuclockid(p->pid, &tl->clock) != 0)
			return 0;
		tl->clock_pid = p->pid;
	}
	struct timespec ts;
	if (clock_gettime(tl->clock, &ts) < 0) {
		tl->clock_pid = 0;
		return 0;
	}
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void rebase(struct session *s, struct tl_node *n)
{
	s->tl->base = n;
	s->tl->base_clock = tl_cpu_clock(s);
	s->tl->base_drift = rec_cpu_drift_now(s->rec, &s->inf);
}

void tl_mark_restored(struct session *s, struct tl_node *n)
{
	rebase(s, n);
}

uint64_t tl_cpu_now(struct session *s)
{
	struct timeline *tl = s->tl;
	if (!tl->base)
		return 0;
	int64_t ran = (int64_t)(tl_cpu_clock(s) - tl->base_clock) -
		      (rec_cpu_drift_now(s->rec, &s->inf) - tl->base_drift);
	return tl->base->cpu + (ran > 0 ? (uint64_t)ran : 0);
}

/* ---- nodes at the current point ---- */

static struct checkpoint *snapshot_here(struct session *s, const char *what)
{
	struct sbuf where = { 0 }, msg = { 0 };
	session_describe_pc(s, s->inf.cur, &where);
	sbuf_printf(&where, " [%s]", what);
	struct checkpoint *c = NULL;
	uint64_t t0 = now_ns();
	rec_cpu_hold(s->rec, &s->inf);
	int e = ckpt_take_hidden(&s->ckpts, &s->inf, sbuf_str(&where), &c, &msg);
	rec_cpu_release(s->rec, &s->inf);
	if (e == 0) {
		rec_checkpoint_taken(s->rec, &s->ckpts, c);
		uint64_t cost = now_ns() - t0;
		struct timeline *tl = s->tl;
		tl->snap_cost = tl->snap_cost ? (tl->snap_cost * 3 + cost) / 4 : cost;
		uint64_t tick = tl->snap_cost * TICK_FACTOR;
		tl->tick_ns = tick < TICK_MIN_NS ? TICK_MIN_NS : tick > TICK_MAX_NS ? TICK_MAX_NS : tick;
	} else {
		pr_debug(LM_REPLAY, "timeline snapshot skipped: %s", sbuf_str(&msg));
	}
	sbuf_free(&where);
	sbuf_free(&msg);
	return e == 0 ? c : NULL;
}

struct tl_node *tl_add_here(struct session *s, enum tl_kind kind, struct tl_node *pred,
			    uint64_t cpu, bool snapshot)
{
	struct pos_point p;
	if (tl_pos_here(s, &p) < 0)
		return NULL;
	struct tl_node *n = tl_find_pos(s, &p);
	if (!n)
		n = new_node(s, kind, &p, best_pred(s, pred, &p, tl_branch(s)), cpu);
	else if (pred && pred != n)
		tl_learn_before(s, pred, n);
	if (snapshot && !tl_ckpt(s, n)) {
		struct checkpoint *c = snapshot_here(s, kind == TLK_TICK ? "timeline" :
						     kind == TLK_START ? "start of history" : "reverse");
		if (c) {
			n->ckpt = c->id;
			if (kind == TLK_START)
				c->automatic = false;   /* never thinned: the history's beginning */
		}
	}
	return n;
}

struct tl_node *tl_now(struct session *s)
{
	struct timeline *tl = s->tl;
	struct pos_point p;
	if (tl_pos_here(s, &p) < 0)
		return NULL;
	if (tl->now && tl->now->branch == tl_branch(s) && same_pos(&tl->now->pos, &p))
		return tl->now;
	struct tl_node *n = tl_find_pos(s, &p);
	if (!n)
		n = new_node(s, TLK_STOP, &p, best_pred(s, tl->now && tl->now->branch == tl_branch(s) ?
							tl->now : NULL, &p, tl_branch(s)),
			     tl_cpu_now(s));
	tl->now = n;
	return n;
}

void tl_set_now(struct session *s, struct tl_node *n)
{
	s->tl->now = n;
	rebase(s, n);
}

/* ---- hooks ---- */

void tl_history_start(struct session *s)
{
	struct timeline *tl = s->tl;
	tl->now = tl->base = NULL;
	if (tl_branch(s) == 0 || s->rec->disk)
		return;
	tl->base_clock = tl_cpu_clock(s);
	tl->base_drift = rec_cpu_drift_now(s->rec, &s->inf);
	struct tl_node *n = tl_add_here(s, TLK_START, NULL, 0, true);
	if (n) {
		n->kind = TLK_START;
		n->pred = NULL;
		tl_set_now(s, n);
	}
}

void tl_before_resume(struct session *s, bool before)
{
	struct timeline *tl = s->tl;
	if (before) {
		tl->resume_branch = tl_branch(s);
		return;
	}
	if (tl_branch(s) && tl_branch(s) != tl->resume_branch) {
		/* The user changed the program's state: a new history starts here. */
		pr_debug(LM_REPLAY, "timeline: branch %u starts at event %" PRIu64, tl_branch(s),
			 s->rec->cursor);
		tl_history_start(s);
	}
	tl->resume_clock = tl_cpu_clock(s);
	tl->resume_node = tl->now && tl->now->branch == tl_branch(s) ? tl->now : NULL;
	tl->stop_clock = 0;
	if (tl->resume_node)
		rebase(s, tl->resume_node);
}

void tl_after_stop(struct session *s, const struct stop *st, pid_t stepped_tid)
{
	struct timeline *tl = s->tl;
	if (st->reason == SR_EXITED || st->reason == SR_KILLED || !inf_alive(&s->inf) ||
	    !tl_branch(s)) {
		tl->now = tl->base = NULL;
		return;
	}
	struct tl_node *from = tl->resume_node;
	uint64_t cpu = tl_cpu_now(s);
	struct tl_node *n = tl_add_here(s, TLK_STOP, from, cpu, false);
	if (!n)
		return;
	tl_note_hit(n, st);
	if (stepped_tid && from && from != n && from->pos.tid == n->pos.tid &&
	    from->pos.tid == rpl_rec_tid(s->rec, stepped_tid))
		n->stepped_from = from->id;
	tl_set_now(s, n);
}

void tl_checkpoint_taken(struct session *s, struct checkpoint *c)
{
	struct tl_node *n = tl_now(s);
	if (n && !n->ckpt)
		n->ckpt = c->id;
	if (n)
		rebase(s, n);   /* the checkpoint's injections are not the program's running */
}

void tl_restored(struct session *s, struct checkpoint *c)
{
	struct timeline *tl = s->tl;
	for (struct tl_node *n = tl->head; n; n = n->next)
		if (n->ckpt == c->id && n->branch == tl_branch(s)) {
			tl_set_now(s, n);
			return;
		}
	tl->now = NULL;   /* a checkpoint of another history: its node comes with the next stop */
	struct tl_node *n = tl_now(s);
	if (n) {
		if (!n->ckpt)
			n->ckpt = c->id;
		tl_set_now(s, n);
	}
}

/* ---- timeline snapshots during a continue ---- */

/* No thread is inside a system call the engine follows (blocked in the kernel,
 * waiting for its turn at a call's entry or exit): a snapshot taken then would
 * settle calls the recorder is in the middle of. */
bool tl_quiet(struct session *s)
{
	struct rec_engine *e = s->rec;
	for (struct proc *p = s->inf.tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->state != TS_DEAD && (t->in_syscall || t->state != TS_STOPPED))
				return false;
	}
	for (size_t i = 0; i < e->tasks.n; i++) {
		const struct rec_task *rt = e->tasks.v[i];
		if (rt->pend != RP_NONE || rt->sstate != SS_READY)
			return false;
	}
	return true;
}

/* inf_continue after our own interrupt: the thread it stopped may be on its way out
 * (an exit raced with the interrupt), so no "not being run"; events queued meanwhile
 * (that exit) are handled first. */
static int resume_after_tick(struct inferior *inf, struct stop *st)
{
	struct task *t = inf->cur;
	if (t && t->state == TS_STOPPED)
		return inf_continue(inf, -1, st);
	struct run r = { 0 };
	int e = run_resume(inf, &r);
	if (e < 0 && e != -ESRCH) {
		memset(st, 0, sizeof *st);
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "Cannot resume: %s.", strerror(-e));
		return e;
	}
	for (;;) {
		enum ev_result er = run_wait(inf, &r, st);
		if (er == ER_STOP)
			return 0;
		if (er == ER_INTERNAL) {
			r.hit = NULL;
			for (struct proc *p = inf->tg.procs; p; p = p->next)
				for (struct task *o = p->tasks; o; o = o->next)
					if (o->state == TS_STOPPED && !p->snapshot && !p->dead && o->stepover)
						run_resume_task(inf, &r, o, RESUME_CONT);
		}
	}
}

int tl_continue(struct session *s, int sig, struct stop *st)
{
	struct timeline *tl = s->tl;
	struct inferior *inf = &s->inf;
	bool ticks = tl_branch(s) && s->ckpts.auto_on && !s->rec->disk;
	for (bool first = true;; first = false) {
		if (ticks)
			tl_arm(s, 0, tl->tick_ns);
		int e = first ? inf_continue(inf, sig, st) : resume_after_tick(inf, st);
		bool fired = ticks && tl_disarm(s);
		if (fired && st->reason != SR_INTERRUPTED)
			tl_drain_interrupt(s);   /* it came too late: not for the next command */
		if (!fired || st->reason != SR_INTERRUPTED || e < 0)
			return e;
		/* Ours: a timeline snapshot (when every thread is in order), and on. The
		 * run loop may have honoured the request before reading the wake (at a
		 * policy deadline): drain it, or it would stop the next run as a ^C. If
		 * the program exited meanwhile, the next wait reports the exit. */
		tl_drain_interrupt(s);
		if (inf_alive(inf) && inf->cur && inf->cur->state == TS_STOPPED && tl_quiet(s)) {
			uint64_t cpu = tl_cpu_now(s);
			struct tl_node *n = tl_add_here(s, TLK_TICK, tl->resume_node, cpu, true);
			if (n) {
				tl->now = tl->resume_node = n;
				rebase(s, n);
				tl_thin_now(s);
			}
		}
		rec_after_stop(s->rec, inf);
	}
}

/* ---- thinning ---- */

size_t tl_thin_select(const uint64_t *x, size_t n, uint64_t now, uint64_t min_gap, double ratio,
		      bool *keep)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		keep[i] = false;
	/* i0: the first at or after now. */
	size_t i0 = 0;
	while (i0 < n && x[i0] < now)
		i0++;
	/* Going back in time from now. */
	bool have = false;
	uint64_t last = 0;
	for (size_t j = i0; j-- > 0;) {
		uint64_t d_last = have ? last - x[j] : 0;
		uint64_t age = have ? now - last : 0;
		if (!have || (d_last >= min_gap && (double)d_last >= ratio * (double)age)) {
			keep[j] = true;
			kept++;
			last = x[j];
			have = true;
		}
	}
	/* Going forward in time from now. */
	have = false;
	for (size_t j = i0; j < n; j++) {
		uint64_t d_last = have ? x[j] - last : 0;
		uint64_t age = have ? last - now : 0;
		if (!have || (d_last >= min_gap && (double)d_last >= ratio * (double)age)) {
			keep[j] = true;
			kept++;
			last = x[j];
			have = true;
		}
	}
	return kept;
}

void tl_thin_now(struct session *s)
{
	struct timeline *tl = s->tl;
	unsigned br = tl_branch(s);
	size_t n = 0;
	for (struct tl_node *m = tl->head; m; m = m->next)
		n += m->branch == br && m->ckpt < 0 && m->kind != TLK_START;
	if (n < 4)
		return;
	struct tl_node **v = xcalloc(n, sizeof *v);
	uint64_t *x = xcalloc(n, sizeof *x);
	bool *keep = xcalloc(n, sizeof *keep);
	size_t k = 0;
	for (struct tl_node *m = tl->head; m; m = m->next)
		if (m->branch == br && m->ckpt < 0 && m->kind != TLK_START)
			v[k++] = m;
	/* By execution coordinate (insertion sort: the list is nearly sorted). */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1]->cpu > v[j]->cpu; j--) {
			struct tl_node *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		x[i] = v[i]->cpu;
	uint64_t gap = tl->tick_ns / 2;
	tl_thin_select(x, n, tl_cpu_now(s), gap, THIN_RATIO, keep);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] || v[i] == tl->now)
			continue;
		struct checkpoint *c = ckpt_by_id(&s->ckpts, v[i]->ckpt);
		if (c && c->automatic)
			ckpt_delete(&s->ckpts, &s->inf, c);
		v[i]->ckpt = 0;
	}
	free(v);
	free(x);
	free(keep);
}
