/* Source-level stepping with gdb's rules: step/next by line-table ranges, over or
 * into calls, out of returns; finish; until and advance. Instruction-level moves
 * come from runctl.c; line facts from inf->sym. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "disasm.h"
#include "inferior_int.h"
#include "log.h"

static int decode_at(struct task *t, uint64_t pc, struct insn *in)
{
	uint8_t code[16];
	int e = proc_read(t->proc, RADDR(pc), code, sizeof code);
	if (e < 0)
		return e;
	return disasm_one(code, sizeof code, pc, in);
}

static int error_stop(struct stop *st, int e, const char *fmt, const char *arg)
{
	memset(st, 0, sizeof *st);
	st->reason = SR_ERROR;
	snprintf(st->err, sizeof st->err, fmt, arg);
	return e;
}

/* Run every thread until internal breakpoint b is hit (or something the user must
 * see happens). Returns ER_INTERNAL or ER_STOP. */
static enum ev_result run_to_internal(struct inferior *inf, struct task *t, struct breakpoint *b,
				      struct breakpoint *b2, struct stop *st)
{
	struct run r = { .want = b->internal };
	t->stepover = true;
	int e = run_resume(inf, &r);
	if (e < 0) {
		error_stop(st, e, "Cannot resume: %s.", strerror(-e));
		return ER_STOP;
	}
	for (;;) {
		enum ev_result er = run_wait(inf, &r, st);
		if (er == ER_STOP)
			return er;
		if (er == ER_INTERNAL) {
			if (r.hit == b || (b2 && r.hit == b2)) {
				struct breakpoint *hit = r.hit;
				struct stop tmp;
				run_stop_all(inf, &tmp, r.hit->thread ? inf_thread(inf, r.hit->thread) : t);
				r.hit = hit;
				b->hits = hit == b;   /* tell the caller which one */
				return ER_INTERNAL;
			}
			/* Someone else's internal breakpoint: step it and go on. */
			r.hit = NULL;
			for (struct task *o = t->proc->tasks; o; o = o->next)
				if (o->state == TS_STOPPED && o->stepover)
					run_resume_task(inf, &r, o, RESUME_CONT);
		}
	}
}

/* Step over the call at pc (instruction `in`): run to its return address in this
 * frame. Returns ER_STEP_DONE when back, or ER_STOP. */
static enum ev_result step_over_call(struct inferior *inf, struct task *t, uint64_t ret_addr,
				     uint64_t sp_after_return, struct stop *st)
{
	struct breakpoint *b = run_internal_bp(inf, t, BPI_STEP_RESUME, ret_addr, sp_after_return);
	enum ev_result er = run_to_internal(inf, t, b, NULL, st);
	if (bp_find(&inf->bps, b->id))
		bp_delete(&inf->bps, b, inf->tg.procs);
	return er == ER_INTERNAL ? ER_STEP_DONE : er;
}

/* When stepping reached code without line info through a return or jump (main's
 * caller, a PLT entry): run until back in code with lines. Returns ER_STEP_DONE,
 * ER_STOP, or ER_RESUMED when there is nowhere to return to. */
static enum ev_result leave_lineless(struct inferior *inf, struct task *t, struct stop *st)
{
	const struct inf_symops *so = inf->sym;
	for (int depth = 0; depth < 64; depth++) {
		uint64_t pc = task_pc(t);
		if (so->has_line_info(inf, t, pc))
			return ER_STEP_DONE;
		uint64_t cfa, cpc, ccfa;
		if (!so->frame_info || so->frame_info(inf, t, &cfa, &cpc, &ccfa) < 0 || !cpc)
			return ER_RESUMED;
		enum ev_result er = step_over_call(inf, t, cpc, cfa, st);
		if (er != ER_STEP_DONE)
			return er;
	}
	return ER_STEP_DONE;
}

/* One step/next/until command, with gdb's rules: keep stepping while in the
 * current line's range; over calls (next) or into functions with line info (step);
 * after returning into the caller, finish the caller's statement; stop at the
 * first statement start of a different line. */
static int step_line(struct inferior *inf, bool over_calls, bool until, struct stop *st)
{
	struct task *t = inf->cur;
	const struct inf_symops *so = inf->sym;
	uint64_t pc = task_pc(t), lo = 0, hi = 0;
	int line = 0;
	bool frame_changed = false;

	if (!so || !so->line_range || so->line_range(inf, t, pc, &lo, &hi, &line) < 0 ||
	    !so->has_line_info(inf, t, pc)) {
		/* No line info here: gdb runs until it returns to code that has some. */
		if (!so || !so->frame_info)
			return inf_stepi(inf, over_calls, st);
		inf_notice(inf, "Single stepping until exit from function %s,\nwhich has no line number information.",
			   "the current function");
		enum ev_result er = leave_lineless(inf, t, st);
		if (er == ER_STOP)
			return 0;
		if (er == ER_RESUMED)
			return inf_continue(inf, -1, st);
		pc = task_pc(t);
		frame_changed = true;
		if (so->line_range(inf, t, pc, &lo, &hi, &line) < 0)
			goto done;
		if (so->is_stmt_start(inf, t, pc))
			goto done;
	}
	uint64_t func_lo = 0, func_hi = 0;
	so->func_range(inf, t, pc, &func_lo, &func_hi);
	uint64_t start_pc = pc;
	int cur_line = line;

	for (;;) {
		struct insn in;
		struct user_regs_struct *regs;
		if (decode_at(t, pc, &in) < 0)
			in.kind = IK_OTHER, in.len = 1;
		if (task_get_regs(t, &regs) < 0)
			return error_stop(st, -ESRCH, "%s", "The program is not being run.");
		uint64_t sp = regs->rsp;

		if (in.kind == IK_CALL && over_calls) {
			enum ev_result er = step_over_call(inf, t, pc + in.len, sp, st);
			if (er == ER_STOP)
				return 0;
		} else {
			enum ev_result er = run_single_step(inf, t, st);
			if (er == ER_STOP)
				return 0;
		}
		uint64_t npc = task_pc(t);

		if (in.kind == IK_CALL && !over_calls) {
			/* Stepped into a function. */
			if (so->has_line_info(inf, t, npc)) {
				uint64_t flo = npc, fhi;
				so->func_range(inf, t, npc, &flo, &fhi);
				uint64_t body = so->func_body ? so->func_body(inf, t, flo) : 0;
				if (body && body != npc) {
					struct breakpoint *b = run_internal_bp(inf, t, BPI_STEP_INTO, body, 0);
					enum ev_result er = run_to_internal(inf, t, b, NULL, st);
					if (bp_find(&inf->bps, b->id))
						bp_delete(&inf->bps, b, inf->tg.procs);
					if (er == ER_STOP)
						return 0;
				}
				frame_changed = true;
				goto done;
			}
			/* No line info (PLT entries, libc): come back out to the return address. */
			uint64_t ret;
			struct user_regs_struct *r2;
			if (task_get_regs(t, &r2) == 0 &&
			    proc_read(t->proc, RADDR(r2->rsp), &ret, 8) == 0 && ret == pc + in.len) {
				enum ev_result er = step_over_call(inf, t, ret, r2->rsp + 8, st);
				if (er == ER_STOP)
					return 0;
				npc = task_pc(t);
			}
		}
		if (npc >= lo && npc < hi) {
			pc = npc;
			continue;
		}
		bool left_function = npc < func_lo || npc >= func_hi;
		if (left_function && !so->has_line_info(inf, t, npc)) {
			enum ev_result er = leave_lineless(inf, t, st);
			if (er == ER_STOP)
				return 0;
			if (er == ER_RESUMED)
				return inf_continue(inf, -1, st);
			npc = task_pc(t);
		}
		if (left_function || in.kind == IK_RET) {
			frame_changed = true;
			so->func_range(inf, t, npc, &func_lo, &func_hi);
			if (so->line_range(inf, t, npc, &lo, &hi, &line) < 0)
				goto done;
			if (in.kind == IK_RET) {
				/* Back in the caller, usually mid-statement: finish it. */
				cur_line = line;
				pc = npc;
				continue;
			}
			if (so->is_stmt_start(inf, t, npc))
				goto done;
			cur_line = line;
			pc = npc;
			continue;
		}
		if (so->line_range(inf, t, npc, &lo, &hi, &line) < 0)
			goto done;
		if (until && npc < start_pc) {
			/* until: a jump backwards (a loop) does not stop. */
			pc = npc;
			continue;
		}
		if (line != cur_line && so->is_stmt_start(inf, t, npc))
			goto done;
		pc = npc;
	}
done:
	memset(st, 0, sizeof *st);
	st->reason = SR_STEPPED;
	st->print = frame_changed ? SP_SRC_AND_LOC : SP_SRC_LINE;
	run_stopped_at(inf, t);
	stop_fill_thread(st, t);
	inf->cur = t;
	return 0;
}

static int need_stopped(struct inferior *inf, struct stop *st)
{
	if (inf_alive(inf) && inf->cur && inf->cur->state == TS_STOPPED)
		return 0;
	return error_stop(st, -ESRCH, "%s", "The program is not being run.");
}

int inf_step(struct inferior *inf, bool over_calls, struct stop *st)
{
	if (need_stopped(inf, st) < 0)
		return -ESRCH;
	return step_line(inf, over_calls, false, st);
}

int inf_until_next(struct inferior *inf, struct stop *st)
{
	if (need_stopped(inf, st) < 0)
		return -ESRCH;
	return step_line(inf, true, true, st);
}

int inf_finish(struct inferior *inf, struct stop *st)
{
	if (need_stopped(inf, st) < 0)
		return -ESRCH;
	struct task *t = inf->cur;
	const struct inf_symops *so = inf->sym;
	uint64_t cfa, cpc, ccfa, flo = 0, fhi = 0;
	if (!so || !so->frame_info || so->frame_info(inf, t, &cfa, &cpc, &ccfa) < 0 || !cpc)
		return error_stop(st, -EINVAL, "%s", "\"finish\" not meaningful in the outermost frame.");
	if (so->func_range)
		so->func_range(inf, t, task_pc(t), &flo, &fhi);
	return inf_finish_frame(inf, cpc, cfa, flo, st);
}

int inf_finish_frame(struct inferior *inf, uint64_t cpc, uint64_t cfa, uint64_t flo, struct stop *st)
{
	if (need_stopped(inf, st) < 0)
		return -ESRCH;
	struct task *t = inf->cur;
	struct breakpoint *b = run_internal_bp(inf, t, BPI_FINISH, cpc, cfa);
	enum ev_result er = run_to_internal(inf, t, b, NULL, st);
	if (bp_find(&inf->bps, b->id))
		bp_delete(&inf->bps, b, inf->tg.procs);
	if (er == ER_STOP)
		return 0;
	memset(st, 0, sizeof *st);
	st->reason = SR_FINISHED;
	st->print = SP_SRC_AND_LOC;
	st->finish_func = flo;
	stop_fill_thread(st, t);
	inf->cur = t;
	return 0;
}

int inf_run_to(struct inferior *inf, uint64_t addr, bool until, struct stop *st)
{
	if (need_stopped(inf, st) < 0)
		return -ESRCH;
	struct task *t = inf->cur;
	const struct inf_symops *so = inf->sym;
	uint64_t cfa = 0, cpc = 0, ccfa = 0;
	struct breakpoint *fin = NULL;
	if (so && so->frame_info && so->frame_info(inf, t, &cfa, &cpc, &ccfa) == 0 && cpc)
		fin = run_internal_bp(inf, t, BPI_FINISH, cpc, cfa);
	/* until LOCATION stops only in the current frame (or outer); advance anywhere. */
	struct breakpoint *b = run_internal_bp(inf, t, BPI_UNTIL, addr, 0);
	(void)until;
	enum ev_result er = run_to_internal(inf, t, b, fin, st);
	bool at_loc = er == ER_INTERNAL && b->hits;
	if (bp_find(&inf->bps, b->id))
		bp_delete(&inf->bps, b, inf->tg.procs);
	if (fin && bp_find(&inf->bps, fin->id))
		bp_delete(&inf->bps, fin, inf->tg.procs);
	if (er == ER_STOP)
		return 0;
	memset(st, 0, sizeof *st);
	st->reason = at_loc ? SR_LOCATION : SR_FINISHED;
	st->print = SP_SRC_AND_LOC;
	stop_fill_thread(st, t);
	inf->cur = t;
	return 0;
}
