#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/infsym.h"
#include "replay/record.h"
#include "replay/reverse.h"
#include "replay/timeline.h"

int session_init(struct session *s)
{
	memset(s, 0, sizeof *s);
	ckpt_init(&s->ckpts);
	rec_new(&s->rec);   /* record/replay: recording is on by default */
	tl_new(&s->tl);     /* reverse execution: the timeline */
	return inf_init(&s->inf);
}

void session_fini(struct session *s)
{
	tl_free(s->tl);   /* reverse execution: the timeline */
	s->tl = NULL;
	ckpt_fini(&s->ckpts, &s->inf);
	rec_free(s->rec, &s->inf);   /* record/replay */
	s->rec = NULL;
	inf_fini(&s->inf);
}

void session_describe_pc(struct session *s, struct task *t, struct sbuf *out)
{
	struct inferior *inf = &s->inf;
	struct symtab *st = infsym_symtab(inf, t ? t->proc : NULL);
	struct sym_addr_info ai;
	uint64_t pc = t && t->state == TS_STOPPED ? task_pc(t) : 0;
	if (st && symtab_describe(st, pc, &ai) == 0 && ai.func) {
		if (ai.base && ai.line)
			sbuf_printf(out, "%s (%s:%d)", ai.func, ai.base, ai.line);
		else
			sbuf_printf(out, "%s", ai.func);
		return;
	}
	sbuf_printf(out, "0x%llx", (unsigned long long)pc);
}

/* At every stop the user sees, a checkpoint, so any earlier stop can be returned to. */
static void auto_checkpoint(struct session *s, const struct stop *st)
{
	struct inferior *inf = &s->inf;
	if (!s->ckpts.auto_on || !inf_alive(inf) || !inf->cur)
		return;
	if (st->reason == SR_ERROR || st->reason == SR_EXITED || st->reason == SR_KILLED)
		return;
	struct sbuf where = { 0 }, msg = { 0 };
	session_describe_pc(s, inf->cur, &where);
	struct checkpoint *c;
	rec_cpu_hold(s->rec, inf);
	int e = ckpt_take(&s->ckpts, inf, NULL, true, false, sbuf_str(&where), &c, &msg);
	rec_cpu_release(s->rec, inf);
	if (e == 0)
		rec_checkpoint_taken(s->rec, &s->ckpts, c);   /* record/replay: its event */
	if (e == 0)
		tl_checkpoint_taken(s, c);   /* reverse execution: the stop's snapshot */
	if (e < 0 && strcmp(s->auto_problem, sbuf_str(&msg))) {
		snprintf(s->auto_problem, sizeof s->auto_problem, "%s", sbuf_str(&msg));
		inf_notice(inf, "[automatic checkpoint skipped: %s]", sbuf_str(&msg));
	}
	if (e == 0)
		ckpt_enforce_budget(&s->ckpts, inf, false);
	sbuf_free(&where);
	sbuf_free(&msg);
}

int session_checkpoint(struct session *s, const char *name, bool force, struct checkpoint **out,
		       struct sbuf *msg)
{
	struct sbuf where = { 0 };
	session_describe_pc(s, s->inf.cur, &where);
	rec_cpu_hold(s->rec, &s->inf);
	int e = ckpt_take(&s->ckpts, &s->inf, name, false, force, sbuf_str(&where), out, msg);
	rec_cpu_release(s->rec, &s->inf);
	sbuf_free(&where);
	if (e == 0)
		rec_checkpoint_taken(s->rec, &s->ckpts, *out);   /* record/replay: its event */
	if (e == 0)
		tl_checkpoint_taken(s, *out);   /* reverse execution */
	if (e == 0)
		ckpt_enforce_budget(&s->ckpts, &s->inf, false);
	return e;
}

int session_bookmark(struct session *s, const char *name, struct checkpoint **out, struct sbuf *msg)
{
	if (ckpt_find(&s->ckpts, name)) {
		sbuf_printf(msg, "A checkpoint named \"%s\" exists already.", name);
		return -EEXIST;
	}
	struct checkpoint *c = s->ckpts.current ? ckpt_by_id(&s->ckpts, s->ckpts.current) : NULL;
	if (c && !c->name && inf_alive(&s->inf) && s->inf.cur && task_pc(s->inf.cur) == c->pc) {
		c->name = xstrdup(name);
		c->automatic = false;
		*out = c;
		return 0;
	}
	return session_checkpoint(s, name, false, out, msg);
}

int session_restore(struct session *s, const char *id_or_name, struct stop *st, struct sbuf *msg)
{
	struct checkpoint *c = ckpt_find(&s->ckpts, id_or_name);
	memset(st, 0, sizeof *st);
	if (!c) {
		sbuf_printf(msg, "No checkpoint %s.", id_or_name);
		return -ENOENT;
	}
	int e = ckpt_restore(&s->ckpts, &s->inf, c, msg);
	if (e < 0)
		return e;
	/* record/replay: continuing from here replays the log from c's event. */
	rec_checkpoint_restored(s->rec, &s->inf, c);
	rec_after_stop(s->rec, &s->inf);
	tl_restored(s, c);   /* reverse execution: the current point */
	st->reason = SR_STEPPED;
	st->print = SP_SRC_AND_LOC;
	stop_fill_thread(st, s->inf.cur);
	return 0;
}

int session_delete_checkpoint(struct session *s, const char *id_or_name, struct sbuf *msg)
{
	struct checkpoint *c = ckpt_find(&s->ckpts, id_or_name);
	if (!c) {
		sbuf_printf(msg, "No checkpoint %s.", id_or_name);
		return -ENOENT;
	}
	return ckpt_delete(&s->ckpts, &s->inf, c);
}

int session_launch(struct session *s, struct sbuf *err)
{
	/* record/replay: the filter goes in before exec, the recording starts after. */
	int e = rec_prepare_launch(s->rec, &s->inf, err);
	if (e == 0)
		e = inf_launch(&s->inf, err);
	if (e == 0)
		e = rec_start(s->rec, &s->inf, err);
	if (e == 0) {
		s->started = true;
		tl_history_start(s);   /* reverse execution: the start of history */
		rec_after_stop(s->rec, &s->inf);
	}
	return e;
}

int session_attach(struct session *s, pid_t pid, struct sbuf *err)
{
	int e = inf_attach(&s->inf, pid, err);
	if (e == 0)
		s->started = true;
	return e;
}

int session_detach(struct session *s)
{
	rec_program_gone(s->rec, &s->inf);   /* record/replay */
	return inf_detach(&s->inf);
}

int session_kill(struct session *s)
{
	rec_program_gone(s->rec, &s->inf);   /* record/replay */
	return inf_kill(&s->inf);
}

/* gdb's frame id of the current thread's frame 0: its function's entry and its CFA
 * (both 0 if unknown). stepi and nexti print the location when it changes. */
static void frame_key(struct inferior *inf, uint64_t *func, uint64_t *cfa)
{
	const struct inf_symops *so = inf->sym;
	struct task *t = inf->cur;
	uint64_t hi, cpc, ccfa;
	*func = *cfa = 0;
	if (!t || t->state != TS_STOPPED || !so || !so->func_range || !so->frame_info)
		return;
	if (so->func_range(inf, t, task_pc(t), func, &hi) < 0)
		*func = 0;
	if (so->frame_info(inf, t, cfa, &cpc, &ccfa) < 0)
		*cfa = 0;
}

int session_exec(struct session *s, enum sess_cmd cmd, const struct sess_args *a, struct stop *st)
{
	struct inferior *inf = &s->inf;
	static const struct sess_args none = { .sig = -1 };
	if (!a)
		a = &none;
	if (a->dir == DIR_REVERSE)
		return rev_exec(s, cmd, a, st);   /* reverse execution (replay/reverse.h) */
	int e = -EINVAL;
	pid_t stepped = cmd == SC_STEPI && inf->cur ? inf->cur->tid : 0;
	uint64_t func0 = 0, cfa0 = 0;
	if ((cmd == SC_STEPI || cmd == SC_NEXTI) && !a->no_print)
		frame_key(inf, &func0, &cfa0);
	tl_before_resume(s, true);        /* reverse execution: where the command starts */
	rec_before_resume(s->rec, inf);   /* record/replay: a state change forks history */
	tl_before_resume(s, false);       /* reverse execution: ... a new history there */
	switch (cmd) {
	case SC_CONTINUE: e = tl_continue(s, a->sig, st); break;   /* with timeline snapshots */
	case SC_STEPI: e = inf_stepi(inf, false, st); break;
	case SC_NEXTI: e = inf_stepi(inf, true, st); break;
	case SC_STEP: e = inf_step(inf, false, st); break;
	case SC_NEXT: e = inf_step(inf, true, st); break;
	case SC_FINISH:
		e = a->frame_cfa ? inf_finish_frame(inf, a->addr, a->frame_cfa, a->func, st)
				 : inf_finish(inf, st);
		break;
	case SC_UNTIL: e = inf_until_next(inf, st); break;
	case SC_RUN_TO: e = inf_run_to(inf, a->addr, a->until_frame, st); break;
	}
	if ((cmd == SC_STEPI || cmd == SC_NEXTI) && st->reason == SR_STEPPED && st->task == inf->cur &&
	    !a->no_print) {
		uint64_t func1, cfa1;
		frame_key(inf, &func1, &cfa1);
		st->print = func1 == func0 && cfa1 == cfa0 ? SP_SRC_LINE : SP_SRC_AND_LOC;
	}
	s->ckpts.current = 0;
	rec_stopped(s->rec, inf);        /* record/replay: the agent's calls into the log */
	tl_after_stop(s, st, stepped);   /* reverse execution: the stop's place in the timeline */
	if (!a || !a->inner || st->reason != SR_STEPPED)
		auto_checkpoint(s, st);
	if (st->reason == SR_EXITED || st->reason == SR_KILLED)
		rec_program_gone(s->rec, inf);   /* record/replay: the log stays */
	else
		rec_after_stop(s->rec, inf);
	return e;
}
