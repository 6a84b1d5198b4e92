/* replay_async: asynchronous signals — logged at their position while recording,
 * delivered again at the same instruction while replaying.
 *
 * Recording: a signal-delivery stop of an asynchronous signal (sent: si_code <= 0,
 * or one the kernel raises for a reason outside the instruction stream: SIGALRM,
 * SIGCHLD, SIGPIPE, SIGIO...) notes the thread's position and the siginfo; when the
 * thread resumes with a signal (the user may have discarded or replaced it) the
 * delivery is logged. Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS raised
 * by an instruction) recur by themselves and are not logged.
 *
 * Replaying: signals that really arrive are dropped (timers are not armed, kill is
 * not executed; a child's SIGCHLD comes from the log). Before a thread resumes, if
 * its next event is a signal, it is delivered now when the thread stands at the
 * recorded position, else a breakpoint (a debug register when one is free) goes at
 * the position's pc and each hit is compared. Delivery injects rt_tgsigqueueinfo
 * with the recorded siginfo; the signal-delivery stop that follows is let through. */
#include "replay/record_int.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/condtrap.h"
#include "core/cpu_alarm.h"
#include "core/inject.h"
#include "core/disasm.h"
#include "core/infsym.h"
#include "core/log.h"
#include "core/sym/symtab.h"

/* Positions more than FF_MIN_NS of CPU time after the thread's previous event are
 * approached untrapped for e->ff_part of that time (FF_PART at first; the rest is
 * searched by condtrap or hit by hit). */
#define FF_MIN_NS 4000000ull
#define FF_PART 0.85
#define FF_PART_MIN 0.2
#define FF_SLACK_NS 1000000ull   /* the run loop's deadlines are milliseconds */

static bool is_sync(int sig, const siginfo_t *si)
{
	switch (sig) {
	case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGSYS:
		return si->si_code > 0;
	default:
		return false;
	}
}

/* The signal frame the kernel writes holds an XSAVE image whose header says which
 * vector components are in use — a processor detail (init tracking) that differs
 * between two runs of the same code. Marking x87, SSE, AVX and AVX-512 in use
 * before every delivery (values unchanged) makes the frame the same in recording
 * and replay. */
static void xstate_all_in_use(struct task *t)
{
	/* The saved eflags too: RF is the debugger's (set after a debug-register hit). */
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) == 0 && (r->eflags & 0x10000)) {
		r->eflags &= ~(uint64_t)0x10000;
		t->regs_dirty = true;
	}
	uint8_t *xs;
	size_t xl;
	if (task_get_xstate(t, &xs, &xl) < 0 || xl < 520)
		return;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	uint64_t mask = (((uint64_t)hi << 32) | lo) & 0xe7;   /* x87 SSE AVX opmask ZMM */
	uint64_t bv;
	memcpy(&bv, xs + 512, 8);
	if ((bv | mask) == bv)
		return;
	bv |= mask;
	memcpy(xs + 512, &bv, 8);
	t->xs_dirty = true;
}

/* t stands at the exit of a call that runs with a mask of its own (pselect6,
 * ppoll, epoll_pwait, epoll_pwait2, rt_sigsuspend, io_pgetevents), interrupted. */
static bool swapped_mask(struct task *t)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return false;
	int64_t nr = (int64_t)r->orig_rax, ret = (int64_t)r->rax;
	bool masked = nr == 270 || nr == 271 || nr == 281 || nr == 441 || nr == 130 || nr == 333;
	return masked && (ret == -4 || (ret <= -512 && ret >= -516));
}

/* The mask call nr installs while it waits (pselect6, ppoll, epoll_pwait/2,
 * rt_sigsuspend): false if it has none. */
static bool call_mask(struct task *t, long nr, const uint64_t args[6], uint64_t *mask)
{
	uint64_t ptr;
	switch (nr) {
	case 270: {   /* pselect6: {const sigset_t *ss; size_t len} */
		uint64_t pair[2];
		if (!args[5] || proc_read(t->proc, RADDR(args[5]), pair, sizeof pair) < 0)
			return false;
		ptr = pair[0];
		break;
	}
	case 271: ptr = args[3]; break;
	case 281: case 441: ptr = args[4]; break;
	case 130: ptr = args[0]; break;
	default: return false;
	}
	return ptr && proc_read(t->proc, RADDR(ptr), mask, sizeof *mask) == 0;
}

/* One single step of t, waited for here. Returns 1 (stepped: a step stop, or a
 * debug-register hit when hw_ok), 0 (another event came: queued for the run loop),
 * <0 (t is gone). */
static int step_here(struct inferior *inf, struct task *t, bool hw_ok)
{
	struct tev ev;
	int e = task_resume(t, RESUME_STEP);
	if (e == 0)
		e = target_wait_task(&inf->tg, t, &ev);
	if (e < 0)
		return e;
	if (ev.kind == TEV_STEP || (hw_ok && ev.kind == TEV_HWBP))
		return 1;
	target_queue_push(&inf->tg, &ev);
	return 0;
}

/* t stands at the delivery stop of sig with a call's mask in force (swap_in_call_mask):
 * deliver it by a step into the handler, then make the frame save `saved`, the mask
 * the kernel would have saved (the call's own mask is only for its wait). Returns 0
 * (t at the handler's first instruction) or <0 (delivered by the run loop instead). */
static int enter_with_saved_mask(struct inferior *inf, struct task *t, int sig, uint64_t saved)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return -ESRCH;
	uint64_t pc = r->rip;
	t->pending_sig = sig;
	int e = step_here(inf, t, false);
	if (e <= 0)
		return e < 0 ? e : -EAGAIN;
	/* rt_sigframe at rsp: pretcode, then the ucontext: its mcontext's rip at +48+128,
	 * its sigmask at +8+296. */
	uint64_t rsp = task_get_regs(t, &r) == 0 ? r->rsp : 0, frame_rip = 0;
	if (!rsp || proc_read(t->proc, RADDR(rsp + 176), &frame_rip, 8) < 0 || frame_rip != pc) {
		pr_warn(LM_REPLAY, "tid %d: signal %d: no frame of %#" PRIx64 " at the handler's "
			"entry; the handler returns with the call's mask", t->tid, sig, pc);
		return 0;
	}
	proc_write(t->proc, RADDR(rsp + 304), &saved, sizeof saved);
	return 0;
}

/* ---- recording ---- */

/* The mask of the call t stands at the exit of (swapped_mask). */
static bool call_mask_here(struct task *t, uint64_t *mask)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return false;
	uint64_t args[6];
	rec_regs_args(r, args);
	return call_mask(t, (long)r->orig_rax, args, mask);
}

static void note_sig(struct rec_engine *e, struct task *t, struct rec_task *rt, int sig,
		     const siginfo_t *si)
{
	rt->sig_seen = true;
	rt->sig_signo = sig;
	rt->sig_info = *si;
	pos_capture(t, rec_thread_events(e, t->tid), &rt->sig_pos);
	uint64_t cpu = rec_task_cpu(rt, t);
	rt->sig_pos.run_ns = cpu > rt->last_cpu && rt->last_cpu ? cpu - rt->last_cpu : 0;
}

/* Deliver at the exit of a call that swapped the mask without the trapno injection
 * (the user stops at this signal and may change it). */
static int rec_sig_stop_plain(struct rec_engine *e, struct task *t, int sig, const siginfo_t *si)
{
	note_sig(e, t, rec_task_of(e, t), sig, si);
	return 0;
}

/* At the exit of a call that swapped the mask, after the trapno injection: its exit
 * put the program's mask back, so the signal would be blocked again; deliver it now
 * with the call's mask in force and the program's saved in the frame, as the kernel
 * does and as the replay will (rpl_sig_stop). The signal is logged first. */
static int deliver_swapped(struct rec_engine *e, struct inferior *inf, struct task *t, int sig,
			   const siginfo_t *si, uint64_t tmp)
{
	struct rec_task *rt = rec_task_of(e, t);
	uint64_t saved;
	note_sig(e, t, rt, sig, si);
	if (task_get_sigmask(t, &saved) < 0 || task_set_sigmask(t, tmp) < 0)
		return 0;   /* the run loop delivers it as it can */
	rec_sig_resume(e, inf, t);   /* logs it (pending_sig is still sig) */
	if (enter_with_saved_mask(inf, t, sig, saved) < 0) {
		task_set_sigmask(t, saved);
		return 0;
	}
	t->pending_sig = 0;
	return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
}

int rec_sig_stop(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	siginfo_t si;
	if (task_get_siginfo(t, &si) < 0)
		memset(&si, 0, sizeof si);
	int sig = t->pending_sig;
	if (is_sync(sig, &si)) {
		/* It recurs by itself in a replay: noted so that rec_sig_resume does not
		 * log it as a signal the user gave. */
		rt->sig_seen = true;
		rt->sig_signo = sig;
		rt->sig_info = si;
		return 0;
	}
	xstate_all_in_use(t);
	/* The frame also records the thread's last trap (trapno): a replay delivers
	 * through an injected call, a debug trap; so does this one. Not at the exit of
	 * a call that swapped the signal mask: the injected call's exit would put the
	 * program's mask back before the handler runs, the signal (blocked again) is
	 * queued anew, the call restarts and takes it: deliveries without end. */
	int64_t x;
	uint64_t tmp = 0;
	bool swapped = swapped_mask(t);
	if (swapped && (sig <= 0 || sig >= NSIG || inf->sigs[sig].stop || !call_mask_here(t, &tmp)))
		return rec_sig_stop_plain(e, t, sig, &si);   /* the user sees it: as before */
	inject_syscall6(&inf->tg, t, 39, &x, 0, 0, 0, 0, 0, 0);
	/* The injection's single step replaced the stop's siginfo: put it back, or
	 * the kernel would deliver the signal as one sent by the debugger. */
	task_set_siginfo(t, &si);
	if (swapped)
		return deliver_swapped(e, inf, t, sig, &si, tmp);
	note_sig(e, t, rt, sig, &si);
	return 0;
}

void rec_sig_resume(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	int sig = t->pending_sig;
	bool seen = rt->sig_seen;
	rt->sig_seen = false;
	if (sig <= 0)
		return;
	struct trace_ev ev = { .type = TR_SIGNAL, .tid = t->tid };
	ev.sig.signo = sig;
	if (seen && rt->sig_signo == sig) {
		if (is_sync(sig, &rt->sig_info))
			return;
		memcpy(ev.sig.siginfo, &rt->sig_info, sizeof ev.sig.siginfo);
		ev.sig.pos = rt->sig_pos;
	} else {
		/* A signal the user gave (`signal SIGUSR1`): sent by the debugger. */
		siginfo_t si = { .si_signo = sig, .si_code = SI_USER };
		memcpy(ev.sig.siginfo, &si, sizeof ev.sig.siginfo);
		pos_capture(t, rec_thread_events(e, t->tid), &ev.sig.pos);
	}
	rec_log(e, inf, &ev);
}

/* ---- replaying ---- */

/* A signal recorded at the exit of a call with a mask of its own came while that
 * mask was in force; the replay skipped the call, so put the mask in place for the
 * delivery (rpl_sig_stop puts the program's back before the frame saves it). */
static void swap_in_call_mask(struct task *t, struct rec_task *rt, int signo)
{
	uint64_t cur = 0, tmp = 0, bit = 1ull << (signo - 1);
	if (task_get_sigmask(t, &cur) < 0 || !(cur & bit) || !call_mask(t, rt->nr, rt->args, &tmp) ||
	    (tmp & bit))
		return;
	if (task_set_sigmask(t, tmp) < 0)
		return;
	rt->mask_swapped = true;
	rt->mask_restore = cur;
}

/* Queue the recorded signal in t (stopped outside a syscall) with its siginfo. */
static int deliver(struct rec_engine *e, struct inferior *inf, struct task *t,
		   const struct trace_signal *s)
{
	struct rec_task *rt = rec_task_of(e, t);
	swap_in_call_mask(t, rt, s->signo);
	struct user_regs_struct *r;
	int err = task_get_regs(t, &r);
	if (err < 0)
		return err;
	uint64_t at = (r->rsp - 128 - 256) & ~(uint64_t)15;
	uint8_t saved[128];
	if ((err = proc_read_raw(t->proc, RADDR(at), saved, sizeof saved)) < 0)
		return err;
	proc_write_raw(t->proc, RADDR(at), s->siginfo, sizeof s->siginfo);
	int64_t x;
	err = inject_syscall6(&inf->tg, t, 297, &x, (uint64_t)t->proc->pid, (uint64_t)t->tid,
			      (uint64_t)s->signo, at, 0, 0);
	proc_write_raw(t->proc, RADDR(at), saved, sizeof saved);
	if (err == 0 && x < 0)
		err = (int)x;
	if (err < 0) {
		pr_warn(LM_REPLAY, "tid %d: signal %d not queued: %s", t->tid, s->signo, strerror(-err));
		if (rt->mask_swapped) {
			task_set_sigmask(t, rt->mask_restore);
			rt->mask_swapped = false;
		}
		return err;
	}
	rt->delivering = s->signo;
	memcpy(&rt->deliver_info, s->siginfo, sizeof rt->deliver_info);
	pr_debug(LM_REPLAY, "tid %d: signal %d delivered at %#" PRIx64 " (event %" PRIu64 ")",
		 t->tid, s->signo, s->pos.pc, e->cursor);
	return 0;
}

void rpl_search_cancel(struct rec_engine *e, struct task *t, struct rec_task *rt)
{
	(void)e;
	if (rt->search == SRCH_HW)
		proc_hw_clear(t->proc, rt->search_slot);
	else if (rt->search == SRCH_SW)
		proc_bp_remove(t->proc, rt->search_pc);
	else if (rt->search == SRCH_FAST)
		condtrap_disarm(t->proc);
	rt->search = SRCH_NONE;
}

/* A condtrap for p: its hits are compared inside the thread, only a match stops. */
static bool arm_fast(struct inferior *inf, struct task *t, const struct trace_pos *p)
{
	static int off = -1;
	if (off < 0)
		off = getenv("REWIND_NO_CONDTRAP") != NULL;
	if (off || !p->fastkey)
		return false;
	struct symtab *st = infsym_symtab(inf, t->proc);
	uint64_t parts[4][2];
	int n = st ? symtab_func_parts(st, p->pc, parts, 4) : 0;
	return condtrap_arm(&inf->tg, t, p->pc, p->fastkey, (const uint64_t (*)[2])parts,
			    n < 0 ? 0 : n) == 0;
}

static void arm(struct rec_engine *e, struct inferior *inf, struct task *t, struct rec_task *rt,
		const struct trace_pos *p)
{
	uint64_t pc = p->pc;
	if (rt->search != SRCH_NONE) {
		if (rt->search_pc == pc && (rt->search != SRCH_FAST ||
					    condtrap_armed(t, pc, p->fastkey)))
			return;
		rpl_search_cancel(e, t, rt);
	}
	rt->search_pc = pc;
	if (arm_fast(inf, t, p)) {
		rt->search = SRCH_FAST;
		return;
	}
	int slot = proc_hw_set(t->proc, pc, HW_EXEC, 1);
	if (slot >= 0) {
		rt->search = SRCH_HW;
		rt->search_slot = slot;
	} else if (proc_bp_insert(t->proc, pc) == 0) {
		rt->search = SRCH_SW;
	}
}

/* The position t must stop at next, or NULL: the target's (pos_run_to() lies in this
 * stretch of its execution), or that of its next event if that is a signal or a
 * preemption. *ahead: that event comes after results of calls
 * other tasks have in flight (a vfork parent the exec of t released): t waits at
 * its position until they are taken. */
static const struct trace_pos *due(struct rec_engine *e, struct inferior *inf, struct task *t,
				   const struct trace_ev **evp, bool *ahead)
{
	const struct trace_ev *ev = rpl_peek(e);
	*evp = NULL;
	*ahead = false;
	if (e->have_target && rec_event_here(e) == e->target.event &&
	    rpl_live_tid(e, e->target.tid) == t->tid)
		return &e->target.pos;
	if (ev && rpl_live_tid(e, ev->tid) != t->tid) {
		ev = rpl_peek_own(e, inf, t);
		*ahead = ev != NULL;
	}
	if (!ev || rpl_live_tid(e, ev->tid) != t->tid)
		return NULL;
	*evp = ev;
	if (ev->type == TR_SIGNAL)
		return &ev->sig.pos;
	if (ev->type == TR_SCHED && ev->sched.reason == TRSCHED_PREEMPT)
		return &ev->sched.pos;
	*evp = NULL;
	*ahead = false;
	return NULL;
}

/* t stands at the position of an event other tasks' results come before: it waits
 * there (sched_rpl_drive resumes it when the event comes up). Returns 1. */
static int wait_at(struct rec_engine *e, struct task *t, struct rec_task *rt)
{
	if (rt->search != SRCH_NONE)
		rpl_search_cancel(e, t, rt);
	if (rt->ev_wait == EW_NONE)
		e->waiters++;
	rt->ev_wait = EW_POS;
	pr_trace(LM_REPLAY, "tid %d: at the position of its next event; waits for event %"
		 PRIu64, t->tid, e->cursor);
	return 1;
}

/* sig stops the process where it arrives (SIGSTOP; SIGTSTP, SIGTTIN, SIGTTOU left
 * to their default action). */
static bool stops_process(struct task *t, int sig)
{
	if (sig == SIGSTOP)
		return true;
	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		return false;
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", t->tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	uint64_t mask = 0, m;
	while (fgets(line, sizeof line, f))
		if ((sscanf(line, "SigIgn: %" SCNx64, &m) == 1 || sscanf(line, "SigCgt: %" SCNx64, &m) == 1))
			mask |= m;
	fclose(f);
	return !(mask & (1ull << (sig - 1)));
}

/* t stands at the position of ev (or of the target): act on it. Returns 0 or <0. */
static int arrive(struct rec_engine *e, struct inferior *inf, struct task *t,
		  const struct trace_ev *ev)
{
	struct rec_task *rt = rec_task_of(e, t);
	const struct trace_pos *p = !ev ? NULL : ev->type == TR_SIGNAL ? &ev->sig.pos : &ev->sched.pos;
	if (p && p->run_ns && rt->last_cpu && e->mode == REC_REPLAYING) {
		uint64_t cpu = rec_task_cpu(rt, t);
		if (cpu > rt->last_cpu)
			e->cpu_drift += (int64_t)(cpu - rt->last_cpu) - (int64_t)p->run_ns;
	}
	e->drift_tid = 0;
	if (rt->ff_event == e->cursor + 1 && rt->ff_pos_cpu > rt->last_cpu)
		pr_debug(LM_REPLAY, "tid %d: position found at cpu %" PRIu64 ", recorded at %" PRIu64
			 " (%+.2f%% of the way)", t->tid, rec_task_cpu(rt, t), rt->ff_pos_cpu,
			 100.0 * ((double)rec_task_cpu(rt, t) - (double)rt->ff_pos_cpu) /
			 (double)(rt->ff_pos_cpu - rt->last_cpu));
	if (!ev) {
		e->have_target = false;
		struct stop st = { .reason = SR_LOCATION, .print = SP_SRC_AND_LOC };
		stop_fill_thread(&st, t);
		return rec_request_stop(e, &st);
	}
	if (ev->type == TR_SIGNAL) {
		if (stops_process(t, ev->sig.signo)) {
			/* A stop from outside (kill -STOP, ^Z): it changed nothing in the
			 * program, and stopping the replay would wait for a SIGCONT nobody
			 * sends (the recorded one comes from the log). */
			pr_debug(LM_REPLAY, "tid %d: stop signal %d not delivered again", t->tid,
				 ev->sig.signo);
			rpl_consume(e);
			return 0;
		}
		int r = deliver(e, inf, t, &ev->sig);
		if (r < 0)
			return rpl_diverge(e, inf, t, "signal %d could not be delivered again: %s",
					   ev->sig.signo, strerror(-r));
		rpl_consume(e);
		return 0;
	}
	return sched_replay_switch(e, inf, t, ev);
}

/* A repeated string instruction (rep/repe/repne movs, stos, lods, cmps, scas, ins,
 * outs) at t's pc: a position inside it is a count of iterations done, which a
 * breakpoint at the pc meets only before the first (a step stops after each). */
static bool rep_string_at(struct task *t)
{
	uint8_t code[16];
	struct insn in;
	return proc_read(t->proc, RADDR(task_pc(t)), code, sizeof code) == 0 &&
	       disasm_one(code, sizeof code, task_pc(t), &in) == 0 && in.rep_string;
}

/* Step t through the iterations of the string instruction it stands at, looking for
 * p. Returns 1 (t stands at p), 0 (the instruction finished: t is past it, or an
 * event came that the run loop must see, queued), <0 (t is gone). */
static int rep_search(struct inferior *inf, struct task *t, const struct trace_pos *p)
{
	uint64_t pc = task_pc(t);
	for (;;) {
		struct user_regs_struct *r;
		if (task_get_regs(t, &r) < 0)
			return -ESRCH;
		r->eflags |= 0x10000;   /* RF: not the breakpoint at pc again */
		t->regs_dirty = true;
		int e = step_here(inf, t, true);
		if (e <= 0)
			return e;
		if (task_pc(t) != pc)
			return 0;
		if (pos_matches(t, p))
			return 1;
	}
}

bool rpl_yield_due(struct rec_engine *e, struct task *t)
{
	const struct trace_ev *ev = rpl_peek(e);
	return ev && ev->type == TR_SCHED && ev->sched.reason == TRSCHED_YIELD &&
	       rpl_live_tid(e, ev->tid) == t->tid;
}

int rpl_prepare(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	/* Results of other tasks' calls that come before this task's next event. */
	int d = sched_rpl_drive(e, inf);
	if (d < 0)
		return d;
	bool taking = rt->delivering || rt->passing;
	rt->passing = false;
	const struct trace_ev *ev;
	bool ahead;
	const struct trace_pos *p = due(e, inf, t, &ev, &ahead);
	if (!p) {
		if (rt->search != SRCH_NONE)
			rpl_search_cancel(e, t, rt);
		if (rpl_yield_due(e, t))
			return sched_replay_switch(e, inf, t, rpl_peek(e));   /* waits here */
		return 0;
	}
	if (ev && p->run_ns && rt->last_cpu) {
		e->drift_tid = t->tid;
		e->drift_due = rt->last_cpu + p->run_ns;
	}
	if (ev && ev->type == TR_SIGNAL && ev->sig.pos.k != rec_thread_events(e, ev->tid))
		return rpl_diverge(e, inf, t, "signal %d is due after %" PRIu64 " events of "
				   "thread %d, which has had %" PRIu64, ev->sig.signo,
				   ev->sig.pos.k, ev->tid, rec_thread_events(e, ev->tid));
	if (taking) {
		/* The signal just queued is taken first: its handler runs and returns
		 * here, where the next signal of the same position is queued (two
		 * queued now would merge into one). */
		arm(e, inf, t, rt, p);
		return 0;
	}
	if (!pos_matches(t, p) && task_pc(t) == p->pc && rep_string_at(t)) {
		/* Standing at the repeated instruction the position is inside (restored
		 * there): a breakpoint would not see the iterations. */
		int r = rep_search(inf, t, p);
		if (r < 0)
			return r;
		if (t->state != TS_STOPPED)
			return 1;
	}
	if (!pos_matches(t, p)) {
		pr_trace(LM_REPLAY, "tid %d: at %#" PRIx64 ", its position is %#" PRIx64 " (k %" PRIu64
			 ", %" PRIu64 " events so far; gpr %016" PRIx64 " want %016" PRIx64 ")", t->tid,
			 task_pc(t), p->pc, p->k, rec_thread_events(e, rpl_rec_tid(e, t->tid)),
			 pos_gprhash(t), p->gprhash);
		bool again = rt->ff_event == e->cursor + 1;
		bool far = !rt->ff && !rt->young && p->run_ns >= FF_MIN_NS && rt->last_cpu && ev &&
			   !getenv("REWIND_REPLAY_EXACT");
		uint64_t cpu = far ? rec_task_cpu(rt, t) : 0;   /* a /proc read: only then */
		if (far && (!again || (cpu && cpu + FF_SLACK_NS < rt->ff_until))) {
			/* Far away: run untrapped most of the recorded way first (again
			 * after another stop cut that run short). */
			rt->ff = true;
			if (!again) {
				rt->ff_event = e->cursor + 1;
				rt->ff_until = rt->last_cpu + (uint64_t)(p->run_ns * e->ff_part) -
					       FF_SLACK_NS;
				rt->ff_pos_cpu = rt->last_cpu + p->run_ns;
			}
			pr_debug(LM_REPLAY, "tid %d: position %#" PRIx64 " is %" PRIu64 " ns away; "
				 "running untrapped to cpu %" PRIu64 " (now %" PRIu64 ")%s", t->tid,
				 p->pc, p->run_ns, rt->ff_until, cpu, again ? ", again" : "");
			e->ff_tid = t->tid;
			e->ff_check = now_ns() / 1000000u + 1;
			if (cpu && cpu < rt->ff_until &&
			    cpu_alarm_arm(&rt->ff_alarm, t->proc->pid, t->tid, rt->ff_until - cpu) == 0)
				rt->alarm_fd_last = rt->ff_alarm.fd;
			if (rt->search != SRCH_NONE)
				rpl_search_cancel(e, t, rt);
			return 0;
		}
		if (!rt->ff)
			arm(e, inf, t, rt, p);
		return 0;
	}
	if (ahead)
		return wait_at(e, t, rt);
	if (rt->search != SRCH_NONE)
		rpl_search_cancel(e, t, rt);
	int r = arrive(e, inf, t, ev);
	if (r < 0 || !ev || ev->type != TR_SIGNAL)
		return r < 0 ? r : 1;   /* stopped, or switched to another thread */
	if (!rt->delivering)
		return rpl_prepare(e, inf, t);   /* not queued (a stop): the next event */
	/* Queued: t runs to its delivery stop (the next event is looked at when t
	 * resumes from there). */
	return 0;
}

int rec_live_target(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	if (!e->have_target)
		return 0;
	struct rec_task *rt = rec_task_of(e, t);
	const struct trace_ev *ev;
	bool ahead;
	const struct trace_pos *p = due(e, inf, t, &ev, &ahead);
	if (!p || ev) {
		if (rt->search != SRCH_NONE)
			rpl_search_cancel(e, t, rt);
		return 0;
	}
	if (!pos_matches(t, p) && task_pc(t) == p->pc && rep_string_at(t)) {
		int r = rep_search(inf, t, p);   /* as in rpl_prepare */
		if (r < 0)
			return r;
		if (t->state != TS_STOPPED)
			return 0;
	}
	if (!pos_matches(t, p)) {
		arm(e, inf, t, rt, p);
		return 0;
	}
	if (rt->search != SRCH_NONE)
		rpl_search_cancel(e, t, rt);
	return arrive(e, inf, t, NULL);
}

/* t stands at its search's position: the search ends and the event (or the target)
 * is acted on. hw: no int3 of the search to step off (a debug register or a
 * condtrap), other_slots: other debug registers fired too. */
static int found(struct rec_engine *e, struct inferior *inf, struct task *t, const struct trace_ev *ev,
		 bool hw, bool other_slots)
{
	struct rec_task *rt = rec_task_of(e, t);
	rpl_search_cancel(e, t, rt);
	int r = arrive(e, inf, t, ev);
	if (r < 0)
		return r;
	if (!hw || other_slots)
		return 0;   /* the run loop steps off the int3 / sees other slots */
	if (r > 0)
		return 1;   /* t is held: another thread runs */
	return rec_run(e, inf, t, rec_task_of(e, t)->want) < 0 ? 0 : 1;
}

int rpl_search_hit(struct rec_engine *e, struct inferior *inf, struct task *t, struct tev *tev)
{
	struct rec_task *rt = rec_task_of(e, t);
	bool mine = (rt->search == SRCH_HW && tev->kind == TEV_HWBP &&
		     (tev->msg & (1u << rt->search_slot))) ||
		    (rt->search == SRCH_SW && tev->kind == TEV_BREAKPOINT && tev->addr == rt->search_pc) ||
		    (rt->search == SRCH_FAST && tev->kind == TEV_CONDTRAP && tev->addr == rt->search_pc);
	if (!mine)
		return 0;
	const struct trace_ev *ev;
	bool ahead;
	const struct trace_pos *p = due(e, inf, t, &ev, &ahead);
	bool other_slots = rt->search == SRCH_HW && (tev->msg & ~(1u << rt->search_slot));
	if (p && ahead && !other_slots && pos_matches(t, p))
		return wait_at(e, t, rt);   /* stopped where it must be: stays there */
	if (p && pos_matches(t, p))
		return found(e, inf, t, ev, rt->search != SRCH_SW, other_slots);
	if (p && rt->search == SRCH_HW && !other_slots && rep_string_at(t)) {
		int r = rep_search(inf, t, p);
		if (r < 0)
			return 0;
		if (r > 0)
			return found(e, inf, t, ev, true, false);
		if (t->state == TS_STOPPED && task_pc(t) != rt->search_pc) {
			/* Past the instruction, armed still: go on. */
			enum resume_mode m = rt->want == RESUME_STEP ? RESUME_STEP : RESUME_CONT;
			return target_resume(&inf->tg, t, m) < 0 ? 0 : 1;
		}
		return 0;
	}
	pr_trace(LM_REPLAY, "tid %d: hit %#" PRIx64 " is not the position (gpr %016" PRIx64
		 " want %016" PRIx64 ")", t->tid, task_pc(t), pos_gprhash(t), p ? p->gprhash : 0);
	if (rt->search == SRCH_SW)
		return 0;   /* not there yet: the run loop steps off and resumes */
	enum resume_mode m = rt->want == RESUME_STEP ? RESUME_STEP : RESUME_CONT;
	if (rt->search == SRCH_FAST) {
		condtrap_pass(t);   /* the key matched, the registers not: past this check */
		if (p && !condtrap_armed(t, p->pc, p->fastkey)) {
			rt->search = SRCH_NONE;   /* its check faulted: a trap at every hit */
			arm(e, inf, t, rt, p);
		}
		return target_resume(&inf->tg, t, m) < 0 ? 0 : 1;
	}
	if (tev->msg & ~(1u << rt->search_slot))
		return 0;   /* a user watchpoint fired too */
	/* Not there yet: pass the instruction (RF) and go on. */
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) == 0) {
		r->eflags |= 0x10000;
		t->regs_dirty = true;
	}
	return target_resume(&inf->tg, t, m) < 0 ? 0 : 1;
}

void rpl_ff_overshot(struct rec_engine *e, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (rt->ff_event != e->cursor + 1 || e->ff_part <= FF_PART_MIN)
		return;
	e->ff_part = MAX(e->ff_part * 0.6, FF_PART_MIN);
	e->ff_retry = e->ff_can_retry;
	pr_info(LM_REPLAY, "tid %d: its untrapped run may have passed its position (the CPU "
		"clock is a noisy measure: another load, another CPU); from now on %.0f%% of the "
		"way is run untrapped", t->tid, 100 * e->ff_part);
}

int64_t rec_cpu_drift_now(struct rec_engine *e, struct inferior *inf)
{
	struct task *t = e->drift_tid ? target_find_task(&inf->tg, e->drift_tid) : NULL;
	if (!t || t->state == TS_DEAD)
		return e->cpu_drift;
	uint64_t cpu = rec_task_cpu(rec_task_of(e, t), t);
	return e->cpu_drift + (cpu > e->drift_due ? (int64_t)(cpu - e->drift_due) : 0);
}

int rpl_ff_timeout_ms(struct rec_engine *e)
{
	if (!e->ff_tid)
		return -1;
	uint64_t now = now_ns() / 1000000u;
	return e->ff_check <= now ? 0 : (int)(e->ff_check - now);
}

void rpl_ff_on_timeout(struct rec_engine *e, struct inferior *inf)
{
	struct task *t = e->ff_tid ? target_find_task(&inf->tg, e->ff_tid) : NULL;
	if (!t || t->state == TS_DEAD) {
		e->ff_tid = 0;
		return;
	}
	struct rec_task *rt = rec_task_of(e, t);
	if (!rt->ff || rt->ff_stopping || t->state != TS_RUNNING) {
		e->ff_check = now_ns() / 1000000u + 1;
		return;
	}
	uint64_t cpu = rec_task_cpu(rt, t);
	/* With the CPU alarm armed this is its backup (the program may block the
	 * alarm's signal after all): it waits for it a little longer. */
	uint64_t due = rt->ff_until + (rt->ff_alarm.fd >= 0 ? FF_SLACK_NS : 0);
	if (cpu && cpu + 1000000u < due) {
		/* Wake up early rather than late: deadlines round up to milliseconds. */
		e->ff_check = now_ns() / 1000000u + MAX((due - cpu) / 1000000u - 1, 1);
		return;
	}
	rt->ff_stopping = true;
	cpu_alarm_disarm(&rt->ff_alarm);   /* one stop: a queued alarm is dropped as stale */
	task_interrupt(t);
}

int rpl_ff_alarm(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	siginfo_t si;
	if (t->pending_sig != CPU_ALARM_SIG || task_get_siginfo(t, &si) < 0 ||
	    !cpu_alarm_sent(NULL, &si))
		return -2;
	struct rec_task *rt = rec_task_of(e, t);
	if (e->mode != REC_REPLAYING) {
		/* Queued before its untrapped run ended another way, and the replay has
		 * gone live since: still ours (the fd of this thread's last alarm), never
		 * the program's. */
		if (si.si_fd != rt->alarm_fd_last)
			return -2;
		t->pending_sig = 0;
		pr_debug(LM_REPLAY, "tid %d: a stale CPU alarm dropped after the replay", t->tid);
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	t->pending_sig = 0;
	if (rt->ff && !rt->ff_stopping && cpu_alarm_sent(&rt->ff_alarm, &si)) {
		pr_debug(LM_REPLAY, "tid %d: stopped by its CPU alarm", t->tid);
		rt->ff_stopping = true;
		return rpl_ff_interrupted(e, inf, t);
	}
	pr_debug(LM_REPLAY, "tid %d: a stale CPU alarm dropped", t->tid);
	return rec_run(e, inf, t, rt->want) < 0 ? 0 : 1;
}

int rpl_ff_interrupted(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (!rt->ff_stopping)
		return 0;
	rt->ff_stopping = false;
	rt->ff = false;
	cpu_alarm_disarm(&rt->ff_alarm);
	e->ff_tid = 0;
	uint64_t cpu = rec_task_cpu(rt, t);
	pr_debug(LM_REPLAY, "tid %d: untrapped run ends at cpu %" PRIu64 " (wanted %" PRIu64 ")",
		 t->tid, cpu, rt->ff_until);
	uint64_t run = rt->ff_pos_cpu > rt->last_cpu ? rt->ff_pos_cpu - rt->last_cpu : 0;
	if (run && cpu > rt->ff_pos_cpu + MAX(run / 4, 2000000u))
		/* rewind was late to stop it (a loaded machine): it is past the point it
		 * must stop at and would run on for ever looking for it. */
		return rpl_diverge(e, inf, t, "the replay ran past a recorded position: its "
				   "untrapped run was stopped late (%.1f ms of CPU where the recording "
				   "reached it after %.1f ms)", (double)(cpu - rt->last_cpu) / 1e6,
				   (double)run / 1e6);
	/* Close to the position now: compare every hit from here. */
	return rec_run(e, inf, t, rt->want) < 0 ? 0 : 1;
}

void rpl_ff_cancel(struct rec_engine *e, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (rt->ff && !rt->ff_stopping) {
		rt->ff = false;
		cpu_alarm_disarm(&rt->ff_alarm);
		if (e->ff_tid == t->tid)
			e->ff_tid = 0;
	}
}

int rpl_sig_stop(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	int sig = t->pending_sig;
	if (rt->delivering && sig == rt->delivering) {
		/* Ours: exactly the recorded siginfo; the run loop reports or passes it. */
		task_set_siginfo(t, &rt->deliver_info);
		xstate_all_in_use(t);
		rt->delivering = 0;
		if (rt->mask_swapped) {
			rt->mask_swapped = false;
			if (enter_with_saved_mask(inf, t, sig, rt->mask_restore) == 0) {
				rt->passing = true;
				return rec_run(e, inf, t, rt->want) < 0 ? 0 : 1;
			}
		}
		rt->passing = true;
		return 0;
	}
	siginfo_t si;
	if (task_get_siginfo(t, &si) == 0 && is_sync(sig, &si))
		return 0;
	/* A signal of today's world: the recording's come from the log. */
	pr_debug(LM_REPLAY, "tid %d: signal %d dropped during replay", t->tid, sig);
	t->pending_sig = 0;
	return rec_run(e, inf, t, rt->want) < 0 ? 0 : 1;
}
