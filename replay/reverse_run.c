/* reverse_run: one reverse command's context and the replay primitives every reverse
 * command is made of: restore a snapshot for replay, replay forward to a position
 * (or to the user's next breakpoint), note points as timeline nodes. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/disasm.h"
#include "core/inject.h"
#include "core/log.h"
#include "replay/record_int.h"
#include "replay/reverse.h"
#include "replay/reverse_int.h"

/* A snapshot during a replay pays for itself when re-reaching the point would take
 * longer than this (a snapshot costs a few milliseconds). */
#define SNAPSHOT_WORTH_NS 40000000ull
/* A replay towards a position is given up after this long (it must have passed it). */
#define GIVE_UP_NS 20000000000ull

int rv_fail(struct stop *st, int e, const char *fmt, ...)
{
	va_list ap;
	memset(st, 0, sizeof *st);
	st->reason = SR_ERROR;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	return e;
}

struct task *rv_task(struct rv *r, pid_t rec_tid)
{
	pid_t live = rpl_live_tid(r->e, rec_tid);
	struct task *t = live ? target_find_task(&r->inf->tg, live) : NULL;
	return t && t->state != TS_DEAD && !t->proc->snapshot ? t : NULL;
}

/* During a reverse command threads come and go many times over: the user hears of
 * none of it (as under rr), only of the stop. Other notices pass. */
static void quiet_notice(void *ctx, const char *msg)
{
	struct rv *r = ctx;
	static const char *const dropped[] = { "[New Thread ", "[Thread ", "[LWP ", "[New LWP " };
	for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++)
		if (!strncmp(msg, dropped[i], strlen(dropped[i])))
			return;
	if (r->notice_fn)
		r->notice_fn(r->notice_ctx, msg);
	else
		vec_push(&r->inf->notices, xstrdup(msg));
}

/* The program exited normally in a history that is recorded: going back starts from
 * its exit. The restorable node latest in the recording, or NULL. */
static struct tl_node *exit_anchor(struct session *s)
{
	struct rec_engine *e = s->rec;
	if (inf_alive(&s->inf) || !e || !e->enabled || !e->branch || e->disk)
		return NULL;
	uint64_t len = rec_branch_len(e->branch);
	const struct trace_ev *last = NULL;
	while (len > 0 && (last = rec_branch_get(e->branch, len - 1)) && last->type == TR_END)
		len--;
	if (!last || last->type != TR_SYSCALL || last->sys.nr != 231)
		return NULL;   /* it did not end by its exit_group (killed, say) */
	struct tl_node *best = NULL;
	for (struct tl_node *n = tl_first(s); n; n = n->next)
		if (tl_ckpt(s, n) && (!best || n->pos.event >= best->pos.event))
			best = n;
	return best;
}

bool rev_from_exit(struct session *s)
{
	return exit_anchor(s) != NULL;
}

/* Bring the exited program back to its exit call (its exit_group, not made): restore
 * the latest snapshot and replay to the end of the recording, twice. The first replay
 * stops at the call's entry, which shows where its syscall instruction is; but there
 * the instruction has overwritten rcx and r11, so the second replay stops on that
 * instruction before it runs, with the registers the program had. */
static int revive_at_exit(struct rv *r, struct tl_node *n, struct stop *st)
{
	struct rec_engine *e = r->e;
	int x = rv_restore(r, n, st);
	if (x < 0)
		return x;
	e->stop_at_exit = true;
	x = rv_continue(r, NULL, st);
	e->stop_at_exit = false;
	if (x < 0)
		return x;
	struct task *t = st->task;
	if (st->reason != SR_LOCATION || !inf_alive(r->inf) || !t || t->state != TS_STOPPED ||
	    !inject_is_syscall_insn(t->proc, task_pc(t) - 2))
		return rv_fail(st, -ESRCH, "The program is not being run (the replay of its "
			       "recording did not reach its exit).");
	struct pos_point end = { .event = rec_event_here(e), .tid = rpl_rec_tid(e, t->tid) };
	end.pos.pc = task_pc(t) - 2;
	if ((x = rv_restore(r, n, st)) < 0 || (x = rv_continue(r, &end, st)) < 0)
		return x;
	if (st->reason != SR_LOCATION)
		return rv_fail(st, -ESRCH, "The program is not being run (the replay of its "
			       "recording did not come back to its exit).");
	if (r->notice_fn)
		r->notice_fn(r->notice_ctx, "[The program had exited: back at its exit call, the "
			     "end of the recording.]");
	return 0;
}

int rv_begin(struct rv *r, struct session *s, struct stop *st)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	r->inf = &s->inf;
	r->e = s->rec;
	r->t0 = now_ns();
	struct sbuf err = { 0 };
	struct tl_node *at_exit = exit_anchor(s);
	if (!at_exit && !tl_available(s, &err)) {
		rv_fail(st, -ENOTSUP, "%s", sbuf_str(&err));
		sbuf_free(&err);
		return -ENOTSUP;
	}
	sbuf_free(&err);
	for (struct breakpoint *b = r->inf->bps.list; b; b = b->next) {
		if (b->internal != BPI_NONE)
			continue;
		struct rv_bp sb = { b->id, b->enabled, b->temporary, b->hits, b->ignore_count };
		vec_push(&r->saved, sb);
		b->temporary = false;   /* a replay passes it many times; deleted at the end if
		                           the command stops there */
	}
	r->notice_fn = r->inf->notice_fn;
	r->notice_ctx = r->inf->notice_ctx;
	r->inf->notice_fn = quiet_notice;
	r->inf->notice_ctx = r;
	r->user_on = true;
	rv_user(r, false);
	r->live_saved = r->e->live_at_end;
	r->emit_saved = r->e->emit_fd;
	r->e->emit_fd = -1;   /* its replays print nothing of the program's output again */
	r->e->live_at_end = false;   /* an internal replay never goes live */
	int e = at_exit ? revive_at_exit(r, at_exit, st) : 0;
	if (!e && !(r->origin = tl_now(s)))
		e = rv_fail(st, -ESRCH, "Cannot take the program's position here.");
	if (e < 0) {
		struct stop keep = *st;
		rv_end(r, st);
		*st = keep;
		return e;
	}
	r->tid = r->origin->pos.tid;
	r->thread = s->inf.cur ? s->inf.cur->num : 0;
	return 0;
}

void rv_user(struct rv *r, bool on)
{
	if (r->user_on == on)
		return;
	r->user_on = on;
	for (size_t i = 0; i < r->saved.n; i++) {
		struct breakpoint *b = bp_find(&r->inf->bps, r->saved.v[i].id);
		if (b && b->enabled != (on && r->saved.v[i].enabled))
			inf_enable(r->inf, b, on && r->saved.v[i].enabled);
	}
}

void rv_end(struct rv *r, struct stop *st)
{
	struct inferior *inf = r->inf;
	if (inf->notice_fn == quiet_notice) {
		inf->notice_fn = r->notice_fn;
		inf->notice_ctx = r->notice_ctx;
	}
	run_drop_internal(inf, BPI_UNTIL);
	r->e->have_target = false;
	r->e->live_at_end = r->live_saved;
	r->e->emit_fd = r->emit_saved;
	struct breakpoint *del = NULL;
	for (size_t i = 0; i < r->saved.n; i++) {
		struct rv_bp *sb = &r->saved.v[i];
		struct breakpoint *b = bp_find(&inf->bps, sb->id);
		if (!b)
			continue;
		b->hits = sb->hits;
		b->ignore_count = sb->ignore;
		b->temporary = sb->temporary;
		b->enabled = sb->enabled;
		if ((st->reason == SR_BREAKPOINT || st->reason == SR_WATCHPOINT) && st->bp_id == b->id) {
			b->hits++;
			if (b->temporary) {
				st->temporary = true;
				del = b;
			}
		}
	}
	vec_free(&r->saved);
	if (inf_alive(inf)) {
		bp_sync(&inf->bps, inf->tg.procs);
		for (struct breakpoint *b = inf->bps.list; b; b = b->next)
			if (b->kind >= BPK_WATCH && b->enabled)
				b->old_valid = proc_read(inf->main, RADDR(b->waddr), b->old, b->wlen) == 0;
	}
	if (del)
		inf_delete(inf, del);
	/* The selected thread: the one the stop is about, else the one selected before. */
	struct task *t = st->tid ? target_find_task(&inf->tg, st->tid) : NULL;
	if (!t || t->state != TS_STOPPED) {
		t = r->thread ? inf_thread(inf, r->thread) : NULL;
		if (!t || t->state != TS_STOPPED)
			t = inf->cur;
	}
	if (t && t->state == TS_STOPPED)
		inf->cur = t;
	/* A thread standing on a breakpoint's address was stopped before it: the next
	 * forward command steps off it, as after a breakpoint stop. */
	if (inf->main)
		for (struct task *o = inf->main->tasks; o; o = o->next)
			if (o->state == TS_STOPPED)
				o->stepover = true;
	if (st->reason != SR_ERROR || st->task)
		stop_fill_thread(st, inf->cur);
	rec_after_stop(r->e, inf);
	/* The program stands after the node it was last restored to. */
	if (r->at)
		r->s->tl->now = r->at;
	struct tl_node *n = inf_alive(inf) ? tl_now(r->s) : NULL;
	if (n) {
		tl_set_now(r->s, n);
		if (n->ckpt > 0)
			r->s->ckpts.current = n->ckpt;
	}
	pr_debug(LM_REPLAY, "reverse: %u restores, %.1f ms", r->restores,
		 (double)(now_ns() - r->t0) / 1e6);
}

int rv_restore(struct rv *r, struct tl_node *n, struct stop *st)
{
	struct session *s = r->s;
	struct checkpoint *c = tl_ckpt(s, n);
	if (!c)
		return rv_fail(st, -ENOENT, "The snapshot of timeline point %u is gone.", n ? n->id : 0);
	struct sbuf msg = { 0 };
	int e = ckpt_restore(&s->ckpts, r->inf, c, &msg);
	if (e < 0) {
		rv_fail(st, e, "Cannot restore a snapshot: %s", msg.len ? sbuf_str(&msg) : strerror(-e));
		sbuf_free(&msg);
		return e;
	}
	sbuf_free(&msg);
	struct rec_engine *en = r->e;
	rec_checkpoint_restored(en, r->inf, c);
	/* At the end of the log the engine would record; a reverse command replays, so
	 * that positions can be found: going live waits for the next trapped call. */
	if (en->mode == REC_RECORDING && en->branch && rec_event_here(en) == rec_branch_len(en->branch))
		en->mode = REC_REPLAYING;
	/* At the end of the log no event says whose turn it is: the thread that was
	 * running there runs on (only one runs between events). */
	struct task *t = n->pos.tid ? rv_task(r, n->pos.tid) : NULL;
	if (t && en->branch && rec_event_here(en) >= rec_branch_len(en->branch))
		en->sched_cur = t->tid;
	en->have_target = false;
	tl_mark_restored(s, n);
	r->at = n;
	r->t_restore = now_ns();
	r->restores++;
	return 0;
}

static void pass_hw_one(struct task *t)
{
	if (!t || t->state != TS_STOPPED || t->proc->dead || t->proc->snapshot)
		return;
	uint64_t pc = task_pc(t);
	for (int i = 0; i < 4; i++) {
		const struct hwslot *h = &t->proc->hw[i];
		if (h->used && h->kind == HW_EXEC && h->addr == pc) {
			struct user_regs_struct *regs;
			if (task_get_regs(t, &regs) == 0) {
				regs->eflags |= 0x10000;   /* RF */
				t->regs_dirty = true;
			}
			return;
		}
	}
}

void rv_pass_hw(struct rv *r, struct task *t)
{
	if (t) {
		pass_hw_one(t);
		return;
	}
	for (struct proc *p = r->inf->tg.procs; p; p = p->next)
		for (struct task *o = p->tasks; o; o = o->next)
			pass_hw_one(o);
}

int rv_decode(struct task *t, uint64_t pc, struct insn *in)
{
	uint8_t code[16];
	if (proc_read(t->proc, RADDR(pc), code, sizeof code) < 0)
		return -EIO;
	return disasm_one(code, sizeof code, pc, in);
}

bool rv_pending_stop(struct rv *r, struct stop *st)
{
	struct rec_engine *e = r->e;
	if (!e->have_stop)
		return false;
	*st = e->stop;
	e->have_stop = false;
	struct stop tmp;
	run_stop_all(r->inf, &tmp, st->task && st->task->state != TS_DEAD ? st->task : r->inf->cur);
	if (st->task)
		stop_fill_thread(st, st->task);
	return true;
}

/* Resume everything after a stop and wait for the next one (user breakpoints as
 * armed, the engine's target if set). */
static int cont(struct rv *r, struct stop *st)
{
	rv_pass_hw(r, NULL);
	int e = inf_continue(r->inf, -1, st);
	if (st->reason == SR_ERROR && rv_pending_stop(r, st))
		return 0;
	if (e < 0 && st->reason != SR_ERROR)
		return rv_fail(st, e, "Cannot resume: %s.", strerror(-e));
	return 0;
}

int rv_continue(struct rv *r, const struct pos_point *target, struct stop *st)
{
	struct rec_engine *e = r->e;
	if (target) {
		struct task *t = rv_task(r, target->tid);
		if (t && rec_event_here(e) == target->event && pos_matches(t, &target->pos)) {
			memset(st, 0, sizeof *st);
			st->reason = SR_LOCATION;
			stop_fill_thread(st, t);
			return 0;
		}
		if (rec_event_here(e) > target->event)
			return rv_fail(st, -EINVAL, "Position #%" PRIu64 " is behind the replay (event %" PRIu64 ").",
				    target->event, rec_event_here(e));
		e->target = *target;
		e->have_target = true;
		/* A replay that passes its target runs on to the end of the log, or for
		 * ever in a loop without events: give up after a while. */
		tl_arm(r->s, 0, GIVE_UP_NS);
	}
	int x = cont(r, st);
	if (target) {
		bool late = tl_disarm(r->s);
		if (late && st->reason == SR_INTERRUPTED)
			x = rv_fail(st, -ETIMEDOUT, "The replay did not reach position #%" PRIu64 ":%d:%#" PRIx64
				 " (it ran past it or never came there).", target->event, target->tid,
				 target->pos.pc);
		else if (late)
			tl_drain_interrupt(r->s);
	}
	e->have_target = false;
	return x;
}

struct tl_node *rv_goto_pos(struct rv *r, const struct pos_point *p, struct tl_node *from,
			    struct stop *st)
{
	struct session *s = r->s;
	struct tl_node *a = tl_find_pos(s, p);
	if (!a || !tl_ckpt(s, a))
		a = !from ? NULL : tl_ckpt(s, from) ? from : tl_anchor_before(s, from);
	if (!a)
		a = tl_anchor_for(s, p);
	if (!a) {
		rv_fail(st, -ENOENT, "No snapshot before position #%" PRIu64 " is left.", p->event);
		return NULL;
	}
	if (rv_restore(r, a, st) < 0)
		return NULL;
	bool was = r->user_on;
	rv_user(r, false);
	int e = rv_continue(r, p, st);
	rv_user(r, was);
	if (e < 0)
		return NULL;
	if (st->reason != SR_LOCATION) {
		if (st->reason != SR_ERROR)
			rv_fail(st, -EIO, "The replay did not reach position #%" PRIu64 ":%d:%#" PRIx64
			     " (it stopped at %#" PRIx64 ").", p->event, p->tid, p->pos.pc, st->pc);
		return NULL;
	}
	return rv_node_here(r, a, rv_worth_snapshot(r));
}

bool rv_worth_snapshot(struct rv *r)
{
	return now_ns() - r->t_restore > SNAPSHOT_WORTH_NS;
}

struct tl_node *rv_node_here(struct rv *r, struct tl_node *pred, bool snapshot)
{
	struct session *s = r->s;
	if (snapshot && !tl_quiet(s))
		snapshot = false;   /* a thread is inside a followed call: not here */
	struct tl_node *n = tl_add_here(s, TLK_REVERSE, pred, tl_cpu_now(s), snapshot);
	if (!n)
		return NULL;
	if (snapshot) {
		r->at = n;
		r->t_restore = now_ns();
		tl_mark_restored(s, n);   /* the snapshot's injections are not the program's */
		tl_thin_now(s);
	}
	if (r->origin && n != r->origin)
		tl_learn_before(s, n, r->origin);
	return n;
}

void rv_stop_here(struct rv *r, enum stop_reason why, struct stop *st)
{
	memset(st, 0, sizeof *st);
	st->reason = why;
	st->print = SP_SRC_AND_LOC;
	struct task *t = rv_task(r, r->tid);
	stop_fill_thread(st, t ? t : r->inf->cur);
}

enum stop_print rv_print_mode(struct rv *r, uint64_t func0, uint64_t cfa0)
{
	struct task *t = rv_task(r, r->tid);
	const struct inf_symops *so = r->inf->sym;
	uint64_t lo = 0, hi = 0;
	if (!t || !so || !so->func_range || so->func_range(r->inf, t, task_pc(t), &lo, &hi) < 0)
		return SP_SRC_AND_LOC;
	return lo == func0 && rv_cfa(r, t) == cfa0 ? SP_SRC_LINE : SP_SRC_AND_LOC;
}
