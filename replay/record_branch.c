/* record_branch: the recording's history as the user moves through it — going live
 * at the end of a log, forking a branch, the events checkpoints stand at, and the
 * user's own changes to the program (which fork history too). */
#include "replay/record_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* ---- going live, branches ---- */

void rec_go_live(struct rec_engine *e, struct inferior *inf, const char *why)
{
	if (e->mode != REC_REPLAYING)
		return;
	uint64_t len = rec_branch_len(e->branch);
	rpl_fd_sync(e, inf);
	if (e->cursor < len) {
		struct rec_branch *nb = rec_branch_fork(e->branch, e->cursor, e->next_branch++);
		rec_branch_unref(e->branch);
		e->branch = nb;
	}
	e->mode = REC_RECORDING;
	if (why)
		inf_notice(inf, "%s", why);
	if (!e->enabled)
		e->mode = REC_OFF;   /* `set record off` while replaying: live, unrecorded */
}

/* ---- checkpoints ---- */

void rec_checkpoint_taken(struct rec_engine *e, struct ckpt_list *l, const struct checkpoint *c)
{
	size_t j = 0;
	for (size_t i = 0; i < e->ckpts.n; i++) {
		struct rec_ckpt *k = &e->ckpts.v[i];
		if (!ckpt_by_id(l, k->id) || k->id == c->id) {
			rec_branch_unref(k->branch);
			vec_free(&k->incalls);
			vec_free(&k->since);
			vec_free(&k->sblast);
			vec_free(&k->tidmap);
			continue;
		}
		e->ckpts.v[j++] = *k;
	}
	e->ckpts.n = j;
	if (e->mode == REC_OFF || !e->branch)
		return;
	sb_flush_all(e, e->inf, NULL);   /* every call before it is in the log */
	struct rec_ckpt k = { .id = c->id, .branch = rec_branch_ref(e->branch), .event = e->cursor,
			      .turn = e->sched_cur };
	for (size_t i = 0; i < e->sblast.n; i++)
		vec_push(&k.sblast, e->sblast.v[i]);
	for (size_t i = 0; i < e->tidmap.n; i++)
		vec_push(&k.tidmap, e->tidmap.v[i]);
	for (size_t i = 0; i < e->tasks.n; i++) {
		struct rec_task *rt = e->tasks.v[i];
		struct task *t = sched_live_task(e->inf, rt->tid);
		uint64_t cpu = t && rt->last_cpu ? rec_task_cpu(rt, t) : 0;
		if (cpu && cpu >= rt->last_cpu) {
			struct rec_since s = { .tid = rt->tid, .ns = cpu - rt->last_cpu };
			vec_push(&k.since, s);
		}
		bool in_call = e->mode == REC_RECORDING ?
			       (rt->pend == RP_RECORD || rt->rs_pend) && rt->sstate == SS_KERNEL :
			       rt->sstate == SS_ENTRY;
		if (!in_call)
			continue;
		struct rec_incall ic = { .tid = rt->tid, .nr = rt->nr, .parked = rt->parked };
		memcpy(ic.args, rt->args, sizeof ic.args);
		vec_push(&k.incalls, ic);
	}
	vec_push(&e->ckpts, k);
}

/* Tasks that were inside a call at the checkpoint wait at its entry again (see
 * struct rec_incall); the turn is the one the checkpoint had. */
static void restore_incalls(struct rec_engine *e, struct inferior *inf, const struct rec_ckpt *k)
{
	for (size_t i = 0; i < k->incalls.n; i++) {
		const struct rec_incall *ic = &k->incalls.v[i];
		struct task *t = sched_live_task(inf, ic->tid);
		if (!t)
			continue;
		struct rec_task *rt = rec_task_of(e, t);
		rt->sstate = SS_ENTRY;
		rt->parked = ic->parked;
		rt->nr = ic->nr;
		memcpy(rt->args, ic->args, sizeof rt->args);
	}
	struct task *cur = sched_live_task(inf, k->turn);
	e->sched_cur = cur ? cur->tid : 0;
}

/* Restored tasks' CPU clocks continue from the checkpoint's distance to their
 * previous events (the untrapped runs towards positions measure from there). */
static void restore_since(struct rec_engine *e, struct inferior *inf, const struct rec_ckpt *k)
{
	const uint64_t base = 1ull << 40;   /* any nonzero coordinate */
	for (size_t i = 0; i < k->since.n; i++) {
		struct task *t = sched_live_task(inf, k->since.v[i].tid);
		if (!t)
			continue;
		struct rec_task *rt = rec_task_of(e, t);
		uint64_t raw = rec_task_cpu(rt, t);
		if (!raw)
			continue;
		rt->cpu_bias = base + k->since.v[i].ns - raw;
		rt->last_cpu = base;
	}
}

static void each_live_task(struct rec_engine *e, struct inferior *inf, bool release)
{
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next) {
			if (t->state == TS_DEAD)
				continue;
			struct rec_task *rt = rec_task_of(e, t);
			uint64_t now = rec_task_cpu(rt, t);
			if (!release)
				rt->held_at = now;
			else if (rt->held_at && now > rt->held_at)
				rt->cpu_bias -= now - rt->held_at;
			if (release)
				rt->held_at = 0;
		}
	}
}

void rec_cpu_hold(struct rec_engine *e, struct inferior *inf)
{
	if (e && e->mode != REC_OFF)
		each_live_task(e, inf, false);
}

void rec_cpu_release(struct rec_engine *e, struct inferior *inf)
{
	if (e && e->mode != REC_OFF)
		each_live_task(e, inf, true);
}

int64_t rec_checkpoint_event(const struct rec_engine *e, int id)
{
	for (size_t i = 0; i < e->ckpts.n; i++)
		if (e->ckpts.v[i].id == id)
			return (int64_t)e->ckpts.v[i].event;
	return -1;
}

void rec_checkpoint_restored(struct rec_engine *e, struct inferior *inf, const struct checkpoint *c)
{
	struct rec_ckpt *k = NULL;
	for (size_t i = 0; i < e->ckpts.n; i++)
		if (e->ckpts.v[i].id == c->id)
			k = &e->ckpts.v[i];
	rec_drop_tasks(e);
	e->fdoffs.n = 0;
	e->have_stop = false;
	if (!k || !inf_alive(inf)) {
		/* Taken while not recording: the program runs unrecorded from here. */
		e->mode = REC_OFF;
		return;
	}
	rec_branch_ref(k->branch);
	rec_branch_unref(e->branch);
	e->branch = k->branch;
	e->cursor = k->event;
	/* The tid map is the checkpoint's: its tasks have the tids they had then. Kept
	 * from a later replay, a thread that replay re-created stood for the recorded
	 * one, and the restored thread's results went to nobody (a reverse-continue
	 * diverged on its way back). */
	e->tidmap.n = 0;
	for (size_t i = 0; i < k->tidmap.n; i++)
		vec_push(&e->tidmap, k->tidmap.v[i]);
	rec_recount(e);
	sched_reset(e, inf->cur);
	e->sched_cur = 0;   /* the next event's task takes the turn */
	e->mode = e->cursor < rec_branch_len(e->branch) ? REC_REPLAYING : REC_RECORDING;
	if (e->mode == REC_REPLAYING)
		restore_incalls(e, inf, k);
	restore_since(e, inf, k);
	e->sblast.n = 0;
	for (size_t i = 0; i < k->sblast.n; i++)
		vec_push(&e->sblast, k->sblast.v[i]);
	sb_trap_gate(e, inf);   /* it replays from here */
	if (e->mode == REC_RECORDING && !e->enabled)
		e->mode = REC_OFF;
	inf->policy = &e->policy;
	pr_info(LM_REPLAY, "checkpoint %d: %s from event %" PRIu64 " of branch %u", c->id,
		e->mode == REC_REPLAYING ? "replaying" : "recording", e->cursor,
		rec_branch_id(e->branch));
}

/* ---- state changes by the user ---- */

void rec_stopped(struct rec_engine *e, struct inferior *inf)
{
	if (e && inf_alive(inf))
		sb_flush_all(e, inf, NULL);
}

void rec_after_stop(struct rec_engine *e, struct inferior *inf)
{
	e->watching = false;
	if (e->mode == REC_OFF)
		return;
	/* Everyone stopped for the user; the run loop asks again on the next resume. The
	 * time slice starts again then: the user's pause is not the thread's run time
	 * (a slice that ran out meanwhile preempted the thread at once, on the breakpoint
	 * it stood at, a position the replay's step off the breakpoint goes past). */
	e->preempting = 0;
	e->slice_end = 0;
	for (size_t i = 0; i < e->tasks.n; i++)
		e->tasks.v[i]->held = false;
	e->writes.n = e->write_pids.n = 0;
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->state == TS_STOPPED)
				task_flush(t);
		vec_push(&e->writes, p->writes);
		vec_push(&e->write_pids, p->pid);
	}
	e->watching = true;
}

static bool state_changed(struct rec_engine *e, struct inferior *inf)
{
	size_t k = 0;
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->state == TS_STOPPED && (t->regs_dirty || t->xs_dirty))
				return true;
		for (k = 0; k < e->write_pids.n; k++)
			if (e->write_pids.v[k] == p->pid)
				break;
		if (k < e->write_pids.n && e->writes.v[k] != p->writes)
			return true;
	}
	return false;
}

void rec_before_resume(struct rec_engine *e, struct inferior *inf)
{
	if (!e->watching || e->mode == REC_OFF)
		return;
	e->watching = false;
	if (!state_changed(e, inf))
		return;
	uint64_t at = e->cursor;
	if (e->mode == REC_REPLAYING && e->offline) {
		/* A recording from disk has no live world to continue in: replay goes on
		 * with the changed state and stops at the first divergence it causes. */
		inf_notice(inf, "[the program's state was changed at event %" PRIu64 " of the replay; "
			   "replay continues and stops at the first divergence]", at);
		return;
	}
	if (e->mode == REC_REPLAYING) {
		uint64_t left = rec_branch_len(e->branch) - at;
		char msg[300];
		snprintf(msg, sizeof msg, "[the program's state was changed at event %" PRIu64
			 " of the replay: its recorded future (%" PRIu64 " events) is kept for the "
			 "checkpoints taken in it; the program now runs live]", at, left);
		rec_go_live(e, inf, msg);
		return;
	}
	/* Recording: checkpoints taken before now keep the branch without the change
	 * (replaying them ends here and goes live); the log continues in a copy. */
	struct rec_branch *nb = rec_branch_fork(e->branch, at, e->next_branch++);
	rec_branch_unref(e->branch);
	e->branch = nb;
	pr_info(LM_REPLAY, "state changed by the user at event %" PRIu64 ": branch %u", at,
		rec_branch_id(nb));
}
