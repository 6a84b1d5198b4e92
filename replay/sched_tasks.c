/* sched_tasks: one task at a time, recorded and followed (sched_tasks.h). */
#include "replay/sched_tasks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/log.h"
#include "core/maps.h"
#include "replay/record_int.h"

static uint64_t now_ms(void)
{
	return now_ns() / 1000000u;
}

void sched_set_opts(struct rec_engine *e, const struct sched_opts *o)
{
	e->sopts = *o;
	if (!e->sopts.slice_ms)
		e->sopts.slice_ms = 10;
	if (!e->sopts.block_ms)
		e->sopts.block_ms = 1;
	e->rng = o->seed ? o->seed : now_ns() | 1;
}

static uint64_t rnd(struct rec_engine *e)
{
	e->rng ^= e->rng << 13;   /* xorshift64 */
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	return e->rng;
}

unsigned sched_live_tasks(struct inferior *inf)
{
	unsigned n = 0;
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next)
			/* A thread at its exit stop still counts until it is reaped: the
			 * kernel clears its tid word (what pthread_join waits on) after
			 * that stop. A leader is reaped only with its group: it doesn't. */
			n += t->state != TS_DEAD && (!t->exiting || t->tid != p->pid);
	}
	return n;
}

struct task *sched_live_task(struct inferior *inf, pid_t tid)
{
	if (!tid)
		return NULL;
	struct task *t = target_find_task(&inf->tg, tid);
	return t && t->state != TS_DEAD && !t->proc->snapshot ? t : NULL;
}

void sched_reset(struct rec_engine *e, struct task *t)
{
	e->sched_cur = t ? t->tid : 0;
	e->slice_end = e->block_end = 0;
	e->preempting = 0;
	for (size_t i = 0; i < e->tasks.n; i++) {
		e->tasks.v[i]->held = false;
		e->tasks.v[i]->sstate = SS_READY;
	}
}

static void new_slice(struct rec_engine *e)
{
	unsigned s = e->sopts.slice_ms ? e->sopts.slice_ms : 10;
	if (e->sopts.chaos)
		s = 1 + (unsigned)(rnd(e) % (2 * s));
	e->slice_end = now_ms() + s;
}

/* A task that wants to run and is held, other than `except` (round-robin by tid, or
 * at random with chaos). */
static struct task *pick(struct rec_engine *e, struct inferior *inf, pid_t except)
{
	struct task *best = NULL, *first = NULL;
	unsigned n = 0;
	for (size_t i = 0; i < e->tasks.n; i++) {
		struct rec_task *rt = e->tasks.v[i];
		if (!rt->held || rt->tid == except || rt->sstate != SS_READY)
			continue;
		struct task *t = sched_live_task(inf, rt->tid);
		if (!t || t->state != TS_STOPPED || t->exiting)
			continue;
		n++;
		if (e->sopts.chaos) {
			if (!best || rnd(e) % n == 0)
				best = t;
			continue;
		}
		if (!first || t->tid < first->tid)
			first = t;
		if (t->tid > except && (!best || t->tid < best->tid))
			best = t;
	}
	return best ? best : first;
}

/* Make u current and let it run. */
static void run_next(struct rec_engine *e, struct inferior *inf, struct task *u)
{
	struct rec_task *ur = rec_task_of(e, u);
	e->sched_cur = u->tid;
	ur->held = false;
	ur->sstate = SS_READY;
	new_slice(e);
	e->block_end = 0;
	enum resume_mode m = ur->want == RESUME_SYSCALL ? RESUME_CONT : ur->want;
	if (rec_run(e, inf, u, m) < 0)
		pr_warn(LM_REPLAY, "tid %d: could not be resumed at its turn", u->tid);
}

static void log_sched(struct rec_engine *e, struct inferior *inf, struct task *from, pid_t to,
		      uint32_t reason, const struct trace_pos *pos)
{
	struct trace_ev ev = { .type = TR_SCHED, .tid = from ? from->tid : e->sched_cur };
	ev.sched.to = to;
	ev.sched.reason = reason;
	if (pos)
		ev.sched.pos = *pos;
	rec_log(e, inf, &ev);
}

/* ---- recording ---- */

int sched_rec_resume(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	struct task *cur = sched_live_task(inf, e->sched_cur);
	if (!cur || cur == t || sched_live_tasks(inf) <= 1) {
		if (cur != t)
			new_slice(e);
		e->sched_cur = t->tid;
		rt->held = false;
		if (!e->slice_end)
			new_slice(e);
		return 0;
	}
	rt->held = true;
	return 1;
}

void sched_rec_blocking(struct rec_engine *e, struct task *t)
{
	if (t->tid == e->sched_cur)
		e->block_end = now_ms() + (e->sopts.block_ms ? e->sopts.block_ms : 1);
}

int sched_rec_back(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	rt->sstate = SS_READY;
	struct task *cur = sched_live_task(inf, e->sched_cur);
	if (!cur || cur == t) {
		if (cur != t)
			new_slice(e);
		e->sched_cur = t->tid;
		e->block_end = 0;
		return 0;
	}
	rt->held = true;
	return 1;
}

/* A mapping through which another process may change t's memory, or t its: shared
 * (MAP_SHARED, SysV shm, memfd), except read-only views of system files (glibc maps
 * gconv-modules.cache so; nothing in a recording writes under /usr). */
static bool shares_memory(const struct map_entry *m)
{
	if (!m->shared)
		return false;
	return (m->prot & PROT_WRITE) || strncmp(m->path, "/usr/", 5) != 0;
}

/* t is alone in its address space: the only live thread of a process that is no
 * vfork child and shares no memory (shares_memory): what another process does
 * cannot change what t computes, nor t what it does, between two system calls
 * (their effects reach t through calls, which are logged). */
static bool alone_in_memory(struct task *t)
{
	struct proc *p = t->proc;
	if (p->vfork_child)
		return false;
	for (struct task *o = p->tasks; o; o = o->next)
		if (o != t && o->state != TS_DEAD)
			return false;
	struct maps m = { 0 };
	if (maps_read(p->pid, &m) < 0)
		return false;
	bool shared = false;
	for (size_t i = 0; i < m.n && !shared; i++)
		shared = shares_memory(&m.v[i]);
	maps_free(&m);
	return !shared;
}

int sched_rec_interrupted(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	if (e->preempting != t->tid)
		return 0;
	e->preempting = 0;
	struct rec_task *rt = rec_task_of(e, t);
	struct task *u = pick(e, inf, t->tid);
	if (!u) {
		new_slice(e);
		rec_run(e, inf, t, rt->want);
		return 1;
	}
	if (e->disk && u->proc != t->proc && !getenv("REWIND_NO_YIELD") && alone_in_memory(t)) {
		/* No position: a replay switches at t's previous event (sched_tasks.h).
		 * Only on disk: in a session the user's stops are positions of this run,
		 * and a hit of t in the stretch it ran before giving way, at event E,
		 * would come after the other process's events in a replay. */
		log_sched(e, inf, t, u->tid, TRSCHED_YIELD, NULL);
	} else {
		struct trace_pos pos;
		pos_capture(t, rec_thread_events(e, t->tid), &pos);
		uint64_t cpu = rec_task_cpu(rt, t);
		pos.run_ns = cpu > rt->last_cpu && rt->last_cpu ? cpu - rt->last_cpu : 0;
		log_sched(e, inf, t, u->tid, TRSCHED_PREEMPT, &pos);
	}
	rt->held = true;
	rt->sstate = SS_READY;
	run_next(e, inf, u);
	return 1;
}

void sched_gone(struct rec_engine *e, struct inferior *inf, pid_t tid)
{
	if (tid != e->sched_cur)
		return;
	e->sched_cur = 0;
	e->slice_end = e->block_end = 0;
	if (e->mode != REC_RECORDING)
		return;   /* replay: the log says who is next */
	struct task *u = pick(e, inf, tid);
	if (!u)
		return;   /* the next task to come back from the kernel takes the turn */
	struct trace_ev ev = { .type = TR_SCHED, .tid = tid };
	ev.sched.to = u->tid;
	ev.sched.reason = TRSCHED_EXIT;
	rec_log(e, inf, &ev);
	run_next(e, inf, u);
}

void sched_new_task(struct rec_engine *e, struct task *child)
{
	struct rec_task *rt = rec_task_of(e, child);
	rt->sstate = SS_READY;
	rt->want = RESUME_CONT;
	/* Its CPU clock starts (about) now: known from here, so that its first position
	 * has a run_ns (a replay approaches it untrapped, and counts what its search
	 * costs beyond it). The bias keeps it nonzero: 0 says "unknown". */
	rt->cpu_bias = 1;
	rt->last_cpu = rec_task_cpu(rt, child);
	rt->young = true;
}

void sched_rec_vfork(struct rec_engine *e, struct inferior *inf, struct task *parent,
		     struct task *child)
{
	if (parent->tid != e->sched_cur)
		return;
	/* Logged like a call that blocked (replay finds it the same way). Without it
	 * the child was held until the parent came back, which it never did. */
	log_sched(e, inf, parent, child->tid, TRSCHED_BLOCK, NULL);
	rec_task_of(e, parent)->sstate = SS_KERNEL;
	struct rec_task *cr = rec_task_of(e, child);
	cr->held = false;
	e->sched_cur = child->tid;
	e->block_end = 0;
	new_slice(e);
}

int sched_timeout_ms(struct rec_engine *e, struct inferior *inf)
{
	if (e->mode != REC_RECORDING || sched_live_tasks(inf) <= 1)
		return -1;
	uint64_t now = now_ms(), next = 0;
	if (e->block_end)
		next = e->block_end;
	if (e->slice_end && !e->preempting && (!next || e->slice_end < next))
		next = e->slice_end;
	if (!next)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

void sched_on_timeout(struct rec_engine *e, struct inferior *inf)
{
	if (e->mode != REC_RECORDING)
		return;
	uint64_t now = now_ms();
	struct task *cur = sched_live_task(inf, e->sched_cur);
	if (!cur) {
		e->slice_end = e->block_end = 0;
		return;
	}
	struct rec_task *rt = rec_task_of(e, cur);
	if (e->block_end && now >= e->block_end) {
		e->block_end = 0;
		if (cur->state == TS_RUNNING && rt->pend == RP_RECORD) {
			struct task *u = pick(e, inf, cur->tid);
			if (!u) {
				e->block_end = now + 1;   /* look again: someone may come back */
				return;
			}
			/* The position of a BLOCK switch is the call's entry: its next event. */
			log_sched(e, inf, cur, u->tid, TRSCHED_BLOCK, NULL);
			rt->sstate = SS_KERNEL;
			run_next(e, inf, u);
			return;
		}
	}
	if (e->slice_end && now >= e->slice_end && !e->preempting) {
		if (cur->state != TS_RUNNING || rt->pend != RP_NONE || !pick(e, inf, cur->tid)) {
			new_slice(e);
			return;
		}
		e->preempting = cur->tid;
		task_interrupt(cur);
	}
}

/* ---- replaying ---- */

/* Replay: the task whose turn it is; when the log's current task is gone, the one
 * the next event belongs to. */
static struct task *turn(struct rec_engine *e, struct inferior *inf)
{
	struct task *cur = sched_live_task(inf, e->sched_cur);
	if (cur)
		return cur;
	const struct trace_ev *ev = rpl_peek(e);
	if (!ev || !ev->tid)
		return NULL;
	cur = sched_live_task(inf, rpl_live_tid(e, ev->tid));
	if (cur)
		e->sched_cur = cur->tid;
	return cur;
}

static int drive(struct rec_engine *e, struct inferior *inf, bool *moved);

bool sched_rpl_result_due(struct rec_engine *e, struct inferior *inf, const struct trace_ev *ev)
{
	if (!ev || (ev->type != TR_SYSCALL && ev->type != TR_MMAP))
		return false;
	if (e->have_target && rec_event_here(e) >= e->target.event)
		return false;   /* the target point comes first */
	struct task *o = sched_live_task(inf, rpl_live_tid(e, ev->tid));
	if (!o)
		return false;
	const struct rec_task *ort = rec_task_of(e, o);
	return ort->sstate == SS_ENTRY && !ort->parked;
}

bool sched_rpl_in_flight(struct rec_engine *e, struct inferior *inf, const struct trace_ev *ev)
{
	struct task *o = ev ? sched_live_task(inf, rpl_live_tid(e, ev->tid)) : NULL;
	return o && rec_task_of(e, o)->pend == RP_REPLAY;
}

/* The event at the cursor is another task's logged result that t must not pass. */
static bool behind_result(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	const struct trace_ev *next = rpl_peek(e);
	return next && rpl_live_tid(e, next->tid) != t->tid && sched_rpl_result_due(e, inf, next) &&
	       sched_live_tasks(inf) > 1;
}

int sched_rpl_resume(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (behind_result(e, inf, t)) {
		/* Recorded, that result came before anything t did next: apply it if its
		 * task stands at the call, else hold t until it does (run_turn). */
		rt->held = false;
		bool moved = false;
		if (drive(e, inf, &moved) < 0)
			return 1;
	}
	if (behind_result(e, inf, t)) {
		const struct trace_ev *next = rpl_peek(e);
		rt->held = true;
		pr_trace(LM_REPLAY, "tid %d held (event %" PRIu64 " is %d's result)", t->tid,
			 e->cursor, next->tid);
		return 1;
	}
	struct task *cur = turn(e, inf);
	if (!cur || cur == t || sched_live_tasks(inf) <= 1) {
		if (!cur)
			e->sched_cur = t->tid;
		rt->held = false;
		pr_trace(LM_REPLAY, "tid %d runs (turn of %d)", t->tid, e->sched_cur);
		return 0;
	}
	rt->held = true;
	pr_trace(LM_REPLAY, "tid %d held (turn of %d)", t->tid, cur->tid);
	return 1;
}

int sched_replay_switch(struct rec_engine *e, struct inferior *inf, struct task *t,
			const struct trace_ev *ev)
{
	pid_t to = rpl_live_tid(e, ev->sched.to);
	struct task *u = sched_live_task(inf, to);
	if (!u)
		return rpl_diverge(e, inf, t, "the recording switches to thread %d, which does not "
				   "exist in the replay", ev->sched.to);
	rpl_consume(e);
	pr_debug(LM_REPLAY, "turn: %d -> %d (%s)", t->tid, u->tid,
		 ev->sched.reason == TRSCHED_BLOCK ? "block" : ev->sched.reason == TRSCHED_EXIT ?
		 "exit" : ev->sched.reason == TRSCHED_YIELD ? "yield" : "preempt");
	struct rec_task *rt = rec_task_of(e, t);
	rt->held = true;
	e->sched_cur = u->tid;
	if (u->state == TS_STOPPED && rec_task_of(e, u)->sstate == SS_READY)
		run_next(e, inf, u);
	else
		e->sched_cur = u->tid;
	return 1;
}

int sched_rpl_kick(struct rec_engine *e, struct inferior *inf)
{
	int d = sched_rpl_drive(e, inf);
	if (d < 0)
		return d;
	struct task *u = turn(e, inf);
	if (!u || u->state != TS_STOPPED)
		return 0;
	struct rec_task *ur = rec_task_of(e, u);
	if (ur->held && ur->sstate == SS_READY && ur->pend == RP_NONE) {
		pr_debug(LM_REPLAY, "turn: %d, after the previous task ended", u->tid);
		run_next(e, inf, u);
	}
	return 0;
}

/* After the drive: the task whose turn it is, held behind results now applied, runs. */
static void run_turn(struct rec_engine *e, struct inferior *inf)
{
	struct task *u = turn(e, inf);
	if (!u || u->state != TS_STOPPED)
		return;
	struct rec_task *ur = rec_task_of(e, u);
	if (!ur->held || ur->sstate != SS_READY || ur->pend != RP_NONE)
		return;
	const struct trace_ev *next = rpl_peek(e);
	if (next && rpl_live_tid(e, next->tid) != u->tid && sched_rpl_result_due(e, inf, next))
		return;
	pr_debug(LM_REPLAY, "turn: %d, after the results logged before it", u->tid);
	run_next(e, inf, u);
}

int sched_rpl_drive(struct rec_engine *e, struct inferior *inf)
{
	bool moved = false;
	int r = drive(e, inf, &moved);
	if (r == 0 && moved && !e->have_stop)
		run_turn(e, inf);
	return r;
}

static int drive(struct rec_engine *e, struct inferior *inf, bool *moved)
{
	for (int guard = 0; guard < 1024; guard++) {
		const struct trace_ev *ev = rpl_peek(e);
		if (!ev || !ev->tid)
			return 0;
		if (e->have_target && rec_event_here(e) >= e->target.event)
			return 0;   /* the target point comes before this event */
		if (e->waiters) {
			/* A task that waited for this event of its own, behind results logged
			 * before it: at an rdtsc, at its exec stop, or at its position. */
			struct task *o = sched_live_task(inf, rpl_live_tid(e, ev->tid));
			struct rec_task *ort = o ? rec_task_of(e, o) : NULL;
			int want = ev->type == TR_RDTSC ? EW_RDTSC : ev->type == TR_TASK ? EW_EXEC :
				   ev->type == TR_SIGNAL || ev->type == TR_SCHED ? EW_POS : EW_NONE;
			if (ort && want != EW_NONE && (int)ort->ev_wait == want && o->state == TS_STOPPED) {
				ort->ev_wait = EW_NONE;
				e->waiters--;
				int r = want == EW_RDTSC ? rec_tsc_fault(e, inf, o) :
					want == EW_EXEC ? rpl_exec_event(e, inf, o) : 0;
				if (r < 0)
					return r;
				if (want != EW_RDTSC && rec_resume_want(e, inf, o) < 0)
					return 0;
				*moved = true;
				continue;
			}
		}
		struct task *owner = sched_live_task(inf, rpl_live_tid(e, ev->tid));
		if (ev->type == TR_SCHED && !owner) {
			/* The task that gave way is gone (EXIT): the next one runs. */
			struct task *u = sched_live_task(inf, rpl_live_tid(e, ev->sched.to));
			if (!u)
				return 0;
			rpl_consume(e);
			e->sched_cur = u->tid;
			if (u->state == TS_STOPPED)
				run_next(e, inf, u);
			continue;
		}
		if (!owner)
			return 0;
		struct rec_task *ort = rec_task_of(e, owner);
		if (owner->tid != e->sched_cur)
			pr_trace(LM_REPLAY, "drive: event %" PRIu64 " of %d: state %d sstate %d pend %d "
				 "in_syscall %d last_ev %s", e->cursor, owner->tid, owner->state,
				 ort->sstate, ort->pend, owner->in_syscall, tev_name(owner->last_ev));
		if (ort->parked) {
			/* Its call's entry waited for this event: deal with it now. */
			if (owner->state != TS_STOPPED)
				return 0;
			if (!(owner->in_syscall && owner->last_ev == TEV_SECCOMP)) {
				target_resume(&inf->tg, owner, RESUME_CONT);   /* restored: again */
				return 0;
			}
			ort->sstate = SS_READY;
			ort->parked = false;
			int r = rpl_sys_entry(e, inf, owner, ort->nr);
			if (r < 0)
				return r;
			if (owner->state == TS_STOPPED && !ort->parked && ort->sstate == SS_READY)
				return 0;   /* dealt with, and waiting: nothing more to drive */
			continue;
		}
		if ((ev->type == TR_SYSCALL || ev->type == TR_MMAP) && ort->sstate == SS_ENTRY) {
			/* The result of a call this task made before giving way. */
			if (owner->state != TS_STOPPED)
				return 0;
			if (!(owner->in_syscall && owner->last_ev == TEV_SECCOMP)) {
				if (rpl_call_done(owner, ort->nr)) {
					/* The snapshot finished the call (it was past its entry
					 * then): the result is given, the call not made again. */
					rpl_give_result(e, owner, ev);
					*moved = true;
					continue;
				}
				/* Settled by a snapshot meanwhile, backed out of the call: it
				 * makes the call again. */
				target_resume(&inf->tg, owner, RESUME_CONT);
				return 0;
			}
			ort->sstate = SS_READY;
			*moved = true;
			pr_debug(LM_REPLAY, "tid %d: result of its %s (event %" PRIu64 ")", owner->tid,
				 sc_name(ort->nr), e->cursor);
			int r = rpl_apply_entry(e, inf, owner, ort->nr, ort->args, ev);
			if (r < 0)
				return r;
			continue;
		}
		if (ev->type == TR_SYSCALL && ort->sstate == SS_WAIT && owner->state == TS_STOPPED) {
			ort->sstate = SS_READY;
			int r = rpl_apply_exit(e, inf, owner);
			if (r < 0)
				return r;
			continue;
		}
		if (ev->type == TR_SCHED && ev->sched.reason == TRSCHED_BLOCK &&
		    owner->tid == e->sched_cur && ort->pend == RP_REPLAY && owner->state == TS_RUNNING &&
		    ort->event == UINT64_MAX) {
			/* It gave way inside a call executed for real whose result is logged at
			 * its end (vfork: the parent waits for the child's exec). */
			struct task *u = sched_live_task(inf, rpl_live_tid(e, ev->sched.to));
			if (!u)
				return rpl_diverge(e, inf, owner, "the recording switches to thread %d, "
						   "which does not exist in the replay", ev->sched.to);
			rpl_consume(e);
			e->sched_cur = u->tid;
			if (u->state == TS_STOPPED)
				run_next(e, inf, u);
			continue;
		}
		return 0;
	}
	return 0;
}
