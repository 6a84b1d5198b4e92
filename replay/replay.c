/* replay: re-executing trapped syscalls from the log — matching each call against
 * the next event, applying it by class, and reporting divergences. */
#include "replay/record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/inject.h"
#include "core/log.h"

void rpl_map_tid(struct rec_engine *e, pid_t rec, pid_t live)
{
	for (size_t i = 0; i + 1 < e->tidmap.n; i += 2)
		if (e->tidmap.v[i] == rec) {
			e->tidmap.v[i + 1] = live;
			return;
		}
	vec_push(&e->tidmap, rec);
	vec_push(&e->tidmap, live);
}

pid_t rpl_live_tid(struct rec_engine *e, pid_t rec)
{
	for (size_t i = 0; i + 1 < e->tidmap.n; i += 2)
		if (e->tidmap.v[i] == rec)
			return e->tidmap.v[i + 1];
	/* In a session, processes restored from a checkpoint keep their tids; tasks
	 * created during the replay are mapped when they are born. */
	return e->offline ? 0 : rec;
}

pid_t rpl_rec_tid(const struct rec_engine *e, pid_t live)
{
	for (size_t i = 0; i + 1 < e->tidmap.n; i += 2)
		if (e->tidmap.v[i + 1] == live)
			return e->tidmap.v[i];
	return live;
}

void rpl_consume(struct rec_engine *e)
{
	const struct trace_ev *ev = rec_branch_get(e->branch, e->cursor);
	if (!ev)
		return;
	if (ev->tid && ev->type != TR_SYSBUF) {
		rec_count_event(e, ev->tid);
		if (e->inf && !rec_ev_yield(ev))
			rec_task_mark(e, e->inf, rpl_live_tid(e, ev->tid));
	}
	e->cursor++;
}

const struct trace_ev *rpl_peek_own(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	const struct trace_ev *ev = rpl_peek(e);
	for (uint64_t i = e->cursor; ev; ev = rec_branch_get(e->branch, ++i)) {
		if (rec_ev_bookkeeping(ev))
			continue;
		if (rpl_live_tid(e, ev->tid) == t->tid)
			return ev;
		if (!sched_rpl_in_flight(e, inf, ev))
			return NULL;
	}
	return NULL;
}

const struct trace_ev *rpl_peek(struct rec_engine *e)
{
	for (;;) {
		const struct trace_ev *ev = rec_branch_get(e->branch, e->cursor);
		if (!ev)
			return NULL;
		/* Bookkeeping records carry nothing to replay. */
		if (rec_ev_bookkeeping(ev)) {
			rpl_consume(e);
			continue;
		}
		return ev;
	}
}

void rpl_format_call(struct sbuf *out, int nr, const uint64_t args[6])
{
	const struct sc_entry *se = sc_get(nr);
	unsigned n = se ? se->nargs : 6;
	if (se)
		sbuf_printf(out, "%s(", se->name);
	else
		sbuf_printf(out, "syscall_%d(", nr);
	for (unsigned i = 0; i < n; i++) {
		if ((int64_t)args[i] > -4096 && (int64_t)args[i] < 65536)
			sbuf_printf(out, "%s%" PRId64, i ? ", " : "", (int64_t)args[i]);
		else
			sbuf_printf(out, "%s%#" PRIx64, i ? ", " : "", args[i]);
	}
	sbuf_putc(out, ')');
}

/* The recorded event in words ("write(1, 0x4052a0, 6) = 6"). */
static void format_event(struct sbuf *out, const struct trace_ev *ev)
{
	switch (ev->type) {
	case TR_SYSCALL:
		rpl_format_call(out, ev->sys.nr, ev->sys.args);
		sbuf_printf(out, " = %" PRId64, ev->sys.ret);
		break;
	case TR_MMAP: {
		uint64_t a[6] = { ev->mmap.addr, ev->mmap.len, ev->mmap.prot, ev->mmap.flags,
				  (uint64_t)(int64_t)ev->mmap.fd, ev->mmap.offset };
		rpl_format_call(out, 9, a);
		sbuf_printf(out, " = %#" PRIx64, (uint64_t)ev->mmap.ret);
		break;
	}
	case TR_TASK:
		sbuf_printf(out, "%s %s", ev->task.kind == TRT_EXEC ? "exec" : "task event",
			    ev->task.path ? ev->task.path : "");
		break;
	case TR_RDTSC:
		sbuf_printf(out, "rdtsc at %#" PRIx64, ev->tsc.pc);
		break;
	case TR_SIGNAL:
		sbuf_printf(out, "signal %d at pc %#" PRIx64, ev->sig.signo, ev->sig.pos.pc);
		break;
	case TR_END:
		sbuf_puts(out, "the end of the program");
		break;
	default:
		sbuf_puts(out, trace_type_name(ev->type));
		break;
	}
	if (ev->tid)
		sbuf_printf(out, " in thread %d", ev->tid);
}

int rpl_diverge(struct rec_engine *e, struct inferior *inf, struct task *t, const char *fmt, ...)
{
	struct sbuf msg = { 0 };
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(&msg, fmt, ap);
	va_end(ap);
	uint64_t at = e->cursor;
	rpl_ff_overshot(e, t);
	snprintf(e->last_divergence, sizeof e->last_divergence, "replay diverged at event %"
		 PRIu64 ": %s", at, sbuf_str(&msg));
	pr_info(LM_REPLAY, "%s", e->last_divergence);
	struct stop st = { .reason = SR_ERROR, .print = SP_SRC_AND_LOC };
	stop_fill_thread(&st, t);
	snprintf(st.err, sizeof st.err, "Replay diverged at event %" PRIu64 " (see above).", at);
	if (e->live_at_end) {
		inf_notice(inf, "[%s]\n[the recorded future stays with the checkpoints taken in it; "
			   "the program now runs live]", e->last_divergence);
		rec_go_live(e, inf, NULL);
		if (t->in_syscall && t->last_ev == TEV_SECCOMP) {
			/* The call it stopped at runs live when resumed, and is recorded. */
			struct rec_task *rt = rec_task_of(e, t);
			struct user_regs_struct *r;
			if (task_get_regs(t, &r) == 0) {
				rt->pend = RP_RECORD;
				rt->nr = (int)(int64_t)r->orig_rax;
				rec_regs_args(r, rt->args);
				free(rt->mmap_file);
				rt->mmap_file = xstrdup("");
			}
		}
	} else if (e->ff_retry) {
		inf_notice(inf, "[a position was run past (%s): replaying again, approaching "
			   "positions more slowly]", e->last_divergence);
	} else {
		inf_notice(inf, "[%s]", e->last_divergence);
	}
	sbuf_free(&msg);
	return rec_request_stop(e, &st);
}

int rpl_end_of_log(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	if (e->live_at_end)
		return 0;
	struct stop st = { .reason = SR_HISTORY_END, .print = SP_SRC_AND_LOC };
	stop_fill_thread(&st, t);
	if (e->damage[0]) {
		/* Not the end of the run: the end of what could be read. */
		st.reason = SR_ERROR;
		snprintf(st.err, sizeof st.err, "The recording is damaged; replay stopped at event "
			 "%" PRIu64 ".", e->cursor);
		inf_notice(inf, "[replay stopped at event %" PRIu64 ": %s]", e->cursor, e->damage);
	}
	return rec_request_stop(e, &st);
}

/* Offline: an exec must run the stored copy of the program it ran when recorded.
 * The path goes below the stack's red zone (the exec replaces that memory). */
static int exec_stored(struct rec_engine *e, struct inferior *inf, struct task *t,
		       struct user_regs_struct *r, const struct trace_ev *ev)
{
	const char *path = rec_stored_path(e, ev->task.path);
	if (!path)
		return rpl_diverge(e, inf, t, "no stored copy of %s, which the program executed",
				   ev->task.path);
	size_t len = strlen(path) + 1;
	uint64_t at = (r->rsp - 128 - len) & ~(uint64_t)15;
	if (proc_write_raw(t->proc, RADDR(at), path, len) < 0)
		return rpl_diverge(e, inf, t, "cannot stage the path of %s for exec", path);
	if (r->orig_rax == 322) {   /* execveat(dirfd, path, argv, envp, flags) */
		r->orig_rax = 59;
		r->rsi = r->rdx;
		r->rdx = r->r10;
	}
	r->rdi = at;
	t->regs_dirty = true;
	return 0;
}

void rpl_write_pieces(struct task *t, const struct trace_syscall *sys)
{
	for (size_t i = 0; i < sys->npieces; i++) {
		const struct trace_piece *p = &sys->pieces[i];
		uint64_t a = p->arg >= 0 ? sys->args[p->arg] : p->addr;
		int r = proc_write(t->proc, RADDR(a), p->data, p->len);
		if (r < 0)
			pr_warn(LM_REPLAY, "tid %d: %s: out-buffer at %#" PRIx64 " not written: %s",
				t->tid, sc_name(sys->nr), a, strerror(-r));
	}
}

bool rpl_call_done(struct task *t, int nr)
{
	struct user_regs_struct *r;
	if (t->in_syscall || t->state != TS_STOPPED || task_get_regs(t, &r) < 0 ||
	    (int64_t)r->orig_rax != nr)
		return false;
	return inject_is_syscall_insn(t->proc, r->rip - 2);
}

void rpl_give_result(struct rec_engine *e, struct task *t, const struct trace_ev *ev)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) == 0) {
		r->rax = (uint64_t)(ev->type == TR_MMAP ? ev->mmap.ret : ev->sys.ret);
		t->regs_dirty = true;
		if (ev->type == TR_SYSCALL)
			rpl_write_pieces(t, &ev->sys);   /* already there: the call was made */
	}
	struct rec_task *rt = rec_task_of(e, t);
	rt->sstate = SS_READY;
	rt->held = true;
	pr_debug(LM_REPLAY, "tid %d: its %s was finished by the checkpoint: result given "
		 "(event %" PRIu64 ")", t->tid, sc_name(rt->nr), e->cursor);
	rpl_consume(e);
}

/* --autopilot: the program's recorded output, from its memory (deterministic here). */
static void emit_output(struct rec_engine *e, struct task *t, const struct trace_syscall *sys)
{
	int fd = (int)sys->args[0];
	if (e->emit_fd < 0 || sys->ret <= 0 || (fd != 1 && fd != 2))
		return;
	int out = fd == 1 ? STDOUT_FILENO : STDERR_FILENO;
	/* Only where the program's descriptor is rewind's own stdout/stderr (a child's
	 * fd 1 may be a pipe to its sibling). */
	char path[64];
	struct stat a, b;
	snprintf(path, sizeof path, "/proc/%d/fd/%d", t->proc->pid, fd);
	if (stat(path, &a) < 0 || fstat(out, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return;
	uint64_t left = (uint64_t)sys->ret;
	struct { uint64_t base, len; } iov[64];
	size_t niov = 1;
	if (sys->nr == 1) {
		iov[0].base = sys->args[1];
		iov[0].len = left;
	} else {
		niov = MIN(sys->args[2], ARRAY_SIZE(iov));
		if (proc_read(t->proc, RADDR(sys->args[1]), iov, niov * sizeof iov[0]) < 0)
			return;
	}
	for (size_t i = 0; i < niov && left; i++) {
		uint64_t n = MIN(iov[i].len, left);
		char *buf = xmalloc(n ? n : 1);
		if (proc_read(t->proc, RADDR(iov[i].base), buf, n) == 0) {
			size_t off = 0;
			while (off < n) {
				ssize_t w = write(out, buf + off, n - off);
				if (w <= 0)
					break;
				off += (size_t)w;
			}
		}
		free(buf);
		left -= n;
	}
}

/* Whether the call is executed in replay (then given the recorded result) rather
 * than skipped. */
static bool executes(int nr, const uint64_t args[6])
{
	switch (sc_class_of(nr)) {
	case SC_STATE:
	case SC_PROCESS:
		return true;
	case SC_SIGNAL:
		return nr == 13;   /* rt_sigaction: the kernel delivers replayed signals */
	case SC_MMAP:
		return nr != 9;    /* shmdt, map_shadow_stack */
	default:
		break;
	}
	if (nr == 72) {        /* fcntl: descriptor-table changes run for real */
		int cmd = (int)args[1];
		return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_SETFD;
	}
	return false;
}

static bool args_match(int nr, const uint64_t a[6], const uint64_t b[6], int *which)
{
	const struct sc_entry *se = sc_get(nr);
	unsigned n = se ? se->nargs : 6;
	for (unsigned i = 0; i < n; i++)
		if (a[i] != b[i]) {
			*which = (int)i;
			return false;
		}
	return true;
}

static bool makes_task(int nr)
{
	return nr == 56 || nr == 57 || nr == 58 || nr == 435;   /* clone fork vfork clone3 */
}

/* Go on after a call's entry was dealt with: the current task runs on (when the
 * call was skipped, straight past it); another task passes to the call's exit and
 * waits there for its turn. */
static int go_on(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (t->tid == e->sched_cur || sched_live_tasks(inf) <= 1)
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	rt->pend = RP_REPLAY;
	rt->passthru = true;
	return target_resume(&inf->tg, t, RESUME_SYSCALL) < 0 ? 0 : 1;
}

int rpl_apply_entry(struct rec_engine *e, struct inferior *inf, struct task *t, int nr,
		    const uint64_t args[6], const struct trace_ev *ev)
{
	struct rec_task *rt = rec_task_of(e, t);
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return 0;
	struct sbuf got = { 0 }, want = { 0 };
	rpl_format_call(&got, nr, args);
	format_event(&want, ev);
	int res = 0;
	bool exec_call = nr == 59 || nr == 322;
	rt->mmap_inject = rt->shmat_inject = rt->restart_fix = rt->fds_pair = rt->passthru = false;
	rt->placeholder = -1;
	rt->nr = nr;
	memcpy(rt->args, args, sizeof rt->args);
	if (ev->type == TR_TASK && ev->task.kind == TRT_EXEC && exec_call) {
		/* The exec runs; its event is consumed at the exec stop. */
		rt->pend = RP_NONE;
		if (e->offline && exec_stored(e, inf, t, r, ev) < 0) {
			res = -1;
			goto out;
		}
		res = rec_resume_want(e, inf, t) < 0 ? 0 : 1;
		goto out;
	}
	if (ev->type == TR_TASK && ev->task.kind != TRT_EXEC && ev->task.kind != TRT_EXIT &&
	    makes_task(nr)) {
		/* fork, vfork, clone: run for real; the TASK event is taken at the
		 * creation stop, the call's result (logged at its exit) after it. */
		rt->pend = RP_REPLAY;
		rt->event = UINT64_MAX;
		res = target_resume(&inf->tg, t, RESUME_SYSCALL) < 0 ? 0 : 1;
		goto out;
	}
	if (ev->type == TR_MMAP && nr == 9) {
		uint64_t a[6] = { ev->mmap.addr, ev->mmap.len, ev->mmap.prot, ev->mmap.flags,
				  (uint64_t)(int64_t)ev->mmap.fd, ev->mmap.offset };
		int which;
		if (!args_match(9, args, a, &which)) {
			res = rpl_diverge(e, inf, t, "expected %s, got %s (argument %d differs)",
					  sbuf_str(&want), sbuf_str(&got), which + 1);
			goto out;
		}
		rt->event = e->cursor;
		rpl_consume(e);
		r->orig_rax = (uint64_t)-1;
		r->rax = (uint64_t)ev->mmap.ret;
		t->regs_dirty = true;
		if (ev->mmap.ret < 0) {
			res = go_on(e, inf, t);
			goto out;
		}
		rt->pend = RP_REPLAY;
		rt->mmap_inject = true;
		res = target_resume(&inf->tg, t, RESUME_SYSCALL) < 0 ? 0 : 1;
		goto out;
	}
	if (ev->type != TR_SYSCALL || ev->sys.nr != nr) {
		res = rpl_diverge(e, inf, t, "expected %s, got %s", sbuf_str(&want), sbuf_str(&got));
		goto out;
	}
	int which;
	if (!args_match(nr, args, ev->sys.args, &which)) {
		res = rpl_diverge(e, inf, t, "expected %s, got %s (argument %d differs)",
				  sbuf_str(&want), sbuf_str(&got), which + 1);
		goto out;
	}
	if (nr == 231 && e->stop_at_exit && t->proc == inf->main) {
		/* A reverse command after the program exited: it stands at its exit call,
		 * not made yet (the event stays unconsumed). */
		e->stop_at_exit = false;
		struct stop st;
		memset(&st, 0, sizeof st);
		st.reason = SR_LOCATION;
		stop_fill_thread(&st, t);
		res = rec_request_stop(e, &st);
		goto out;
	}
	const struct trace_syscall *sys = &ev->sys;
	rt->event = e->cursor;
	rpl_consume(e);
	if (nr == 60 || nr == 231) {
		if (nr == 231)
			rec_note_exit(e, inf, t);
		res = rec_resume_want(e, inf, t) < 0 ? 0 : 1;   /* exits, as recorded */
		goto out;
	}
	if (sys->flags & TRS_INTERRUPTED) {
		/* Interrupted when recorded: the kernel's restart logic must see the call
		 * (orig_rax) and the restart code at the exit, as it did then. */
		r->orig_rax = (uint64_t)-1;
		r->rax = (uint64_t)sys->ret;
		t->regs_dirty = true;
		rpl_write_pieces(t, sys);   /* what it wrote all the same (ppoll's time left) */
		rt->pend = RP_REPLAY;
		rt->restart_fix = true;
		res = target_resume(&inf->tg, t, RESUME_SYSCALL) < 0 ? 0 : 1;
		goto out;
	}
	if (nr == 30 && sys->ret >= 0) {
		/* shmat: skipped, and a segment attached at its exit stop (injected calls). */
		r->orig_rax = (uint64_t)-1;
		t->regs_dirty = true;
		rt->pend = RP_REPLAY;
		rt->shmat_inject = true;
		res = target_resume(&inf->tg, t, RESUME_SYSCALL) < 0 ? 0 : 1;
		goto out;
	}
	bool run = sys->ret >= 0 || !exec_call ? executes(nr, args) : false;
	if (run) {
		rt->pend = RP_REPLAY;
		res = target_resume(&inf->tg, t, RESUME_SYSCALL) < 0 ? 0 : 1;
		goto out;
	}
	if (sys->ret >= 0 && sc_makes_fd(nr, sys->args, sys->ret) &&
	    rpl_fd_rewrite(e, t, rt, r, sys)) {
		rt->pend = RP_REPLAY;
		res = target_resume(&inf->tg, t, RESUME_SYSCALL) < 0 ? 0 : 1;
		goto out;
	}
	/* Skipped: the recorded result and memory, as the kernel left them. */
	r->orig_rax = (uint64_t)-1;
	r->rax = (uint64_t)sys->ret;
	t->regs_dirty = true;
	rpl_write_pieces(t, sys);
	const struct sc_entry *se = sc_get(nr);
	if (se && (se->flags & SCF_EMIT))
		emit_output(e, t, sys);
	rpl_fd_track(e, sys);
	res = go_on(e, inf, t);
out:
	sbuf_free(&got);
	sbuf_free(&want);
	return res;
}

int rpl_sys_entry(struct rec_engine *e, struct inferior *inf, struct task *t, int nr)
{
	struct rec_task *rt = rec_task_of(e, t);
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return 0;
	uint64_t args[6];
	rec_regs_args(r, args);
	int d = sched_rpl_drive(e, inf);
	if (d < 0)
		return d;
	if (t->state != TS_STOPPED)
		return 1;   /* the drive gave it its waiting call's result: it runs on */
	const struct trace_ev *ev = rpl_peek(e);
	if (ev && ev->type == TR_END)
		ev = NULL;   /* the process ends as recorded only by exiting */
	if (!ev) {
		if (!e->live_at_end)
			return rpl_end_of_log(e, inf, t);
		if (e->fdoffs.n) {
			/* Offsets are fixed by injection, which needs the task outside the
			 * call: back the call out; it is made again, live. */
			if (target_settle(&inf->tg, t) < 0)
				return 0;
			rec_go_live(e, inf, "[replay reached the end of the recording; the program "
				    "now runs live]");
			return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
		}
		rec_go_live(e, inf, "[replay reached the end of the recording; the program now "
			    "runs live]");
		return rec_sys_entry(e, inf, t, nr);
	}
	if (rpl_live_tid(e, ev->tid) != t->tid && (nr == 59 || nr == 322) &&
	    sched_rpl_in_flight(e, inf, ev)) {
		/* An exec the log has after a vfork parent's result: that result only
		 * comes once the exec is done. It runs; its event is taken at its stop. */
		const struct trace_ev *own = rpl_peek_own(e, inf, t);
		if (own && own->type == TR_TASK && own->task.kind == TRT_EXEC) {
			rt->sstate = SS_READY;
			return rpl_apply_entry(e, inf, t, nr, args, own);
		}
	}
	if (rpl_live_tid(e, ev->tid) != t->tid) {
		if (rt->sstate == SS_ENTRY)
			return 1;   /* made the call again after a snapshot: it still waits */
		if (sched_rpl_result_due(e, inf, ev) || sched_rpl_in_flight(e, inf, ev)) {
			/* Recorded, the other task's result came first (a call it waits at
			 * the entry of, or one it is making: a vfork parent whose child just
			 * executed): wait for it here. */
			rt->sstate = SS_ENTRY;
			rt->parked = true;
			rt->nr = nr;
			memcpy(rt->args, args, sizeof args);
			pr_trace(LM_REPLAY, "tid %d: parked at its %s until event %" PRIu64 " of %d",
				 t->tid, sc_name(nr), e->cursor, ev->tid);
			return 1;
		}
		struct sbuf got = { 0 }, want = { 0 };
		rpl_format_call(&got, nr, args);
		format_event(&want, ev);
		int x = rpl_diverge(e, inf, t, "thread %d made %s; the recording has %s", t->tid,
				    sbuf_str(&got), sbuf_str(&want));
		sbuf_free(&got);
		sbuf_free(&want);
		return x;
	}
	rt->parked = false;
	if (ev->type == TR_SCHED && ev->sched.reason == TRSCHED_BLOCK) {
		/* It gave way at this call: it waits here for its result. */
		rt->sstate = SS_ENTRY;
		rt->nr = nr;
		memcpy(rt->args, args, sizeof args);
		return sched_replay_switch(e, inf, t, ev);
	}
	rt->sstate = SS_READY;
	return rpl_apply_entry(e, inf, t, nr, args, ev);
}

/* The event at the cursor is t's syscall result logged at its exit (fork, clone,
 * vfork): bind it to t's pending call. */
static bool bind_exit_record(struct rec_engine *e, struct task *t, struct rec_task *rt)
{
	const struct trace_ev *ev = rpl_peek(e);
	if (!ev || ev->type != TR_SYSCALL || rpl_live_tid(e, ev->tid) != t->tid || ev->sys.nr != rt->nr)
		return false;
	rt->event = e->cursor;
	rpl_consume(e);
	return true;
}

/* fork/clone results name tids: the program must see the recorded ones where the
 * kernel wrote the live ones (CLONE_PARENT_SETTID, CLONE_CHILD_SETTID). */
static void fix_clone_tids(struct task *t, struct rec_task *rt, int64_t rec_tid)
{
	uint64_t flags, ptid = 0, ctid = 0;
	if (rt->nr == 56) {
		flags = rt->args[0];
		ptid = rt->args[2];
		ctid = rt->args[3];
	} else if (rt->nr == 435) {
		uint64_t ca[4] = { 0 };
		if (proc_read(t->proc, RADDR(rt->args[0]), ca, sizeof ca) < 0)
			return;
		flags = ca[0];
		ctid = ca[2];
		ptid = ca[3];
	} else {
		return;
	}
	uint32_t v = (uint32_t)rec_tid;
	if ((flags & 0x00100000) && ptid)             /* CLONE_PARENT_SETTID */
		proc_write(t->proc, RADDR(ptid), &v, 4);
	if ((flags & 0x01000000) && ctid && (flags & 0x100))   /* CHILD_SETTID, same VM */
		proc_write(t->proc, RADDR(ctid), &v, 4);
}

/* The next event is a signal delivered to t where it stands (at the exit of an
 * interrupted call). */
/* t's own next event, past the other threads' events before it (a thread that gave
 * the turn back to t), or NULL. */
static const struct trace_ev *next_own(struct rec_engine *e, struct task *t)
{
	const struct trace_ev *ev;
	for (uint64_t i = e->cursor; (ev = rec_branch_get(e->branch, i)); i++)
		if (!rec_ev_bookkeeping(ev) && ev->tid && rpl_live_tid(e, ev->tid) == t->tid)
			return ev;
	return NULL;
}

/* The log's next event of t is a signal delivered right here (t's exit stop of an
 * interrupted call): the call was not restarted, the handler ran. Other threads'
 * events may come first (one gave the turn back to t). */
static bool signal_here(struct rec_engine *e, struct task *t)
{
	const struct trace_ev *n = next_own(e, t);
	bool here = n && n->type == TR_SIGNAL && rpl_live_tid(e, n->tid) == t->tid &&
		    n->sig.pos.k == rec_thread_events(e, n->tid) && pos_matches(t, &n->sig.pos);
	if (!here && n && n->type == TR_SIGNAL && rpl_live_tid(e, n->tid) == t->tid)
		pr_trace(LM_REPLAY, "tid %d: signal not here: k %" PRIu64 "/%" PRIu64 " pc %#" PRIx64
			 "/%#" PRIx64 " gpr %016" PRIx64 "/%016" PRIx64, t->tid, n->sig.pos.k,
			 rec_thread_events(e, n->tid), task_pc(t), n->sig.pos.pc, pos_gprhash(t),
			 n->sig.pos.gprhash);
	return here;
}

int rpl_apply_exit(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	rt->pend = RP_NONE;
	if (rt->event == UINT64_MAX && !bind_exit_record(e, t, rt)) {
		/* Its result comes later in the log: wait here for it. */
		rt->sstate = SS_WAIT;
		rt->pend = RP_REPLAY;
		return 1;
	}
	rt->sstate = SS_READY;
	const struct trace_ev *ev = rec_branch_get(e->branch, rt->event);
	struct user_regs_struct *r;
	if (!ev || task_get_regs(t, &r) < 0)
		return 0;
	if (rt->mmap_inject) {
		rt->mmap_inject = false;
		if (rpl_mmap_apply(e, inf, t, &ev->mmap) < 0)
			return -1;
		if (task_get_regs(t, &r) < 0)
			return 0;
		r->rax = (uint64_t)ev->mmap.ret;
		t->regs_dirty = true;
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	const struct trace_syscall *sys = &ev->sys;
	if (rt->shmat_inject) {
		rt->shmat_inject = false;
		if (rpl_shmat_apply(e, inf, t, sys) < 0)
			return -1;
		if (task_get_regs(t, &r) < 0)
			return 0;
		r->rax = (uint64_t)sys->ret;
		t->regs_dirty = true;
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	if (rt->restart_fix) {
		rt->restart_fix = false;
		r->rax = (uint64_t)sys->ret;
		r->orig_rax = (uint64_t)(int64_t)sys->nr;
		t->regs_dirty = true;
		if (!signal_here(e, t)) {
			/* No signal took the call's place: it was a stop (ptrace interrupt,
			 * job control), after which the kernel restarts the call. Nothing is
			 * pending now to make the kernel do it: do it here. */
			r->rax = sys->ret == -516 ? 219 : (uint64_t)(int64_t)sys->nr;
			r->rip -= 2;
		}
		pr_trace(LM_REPLAY, "tid %d: %s interrupted (%" PRId64 "), made again", t->tid,
			 sc_name(sys->nr), sys->ret);
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	if (rt->placeholder >= 0 || rt->fds_pair) {
		if (rpl_fd_check(e, inf, t, rt, sys) < 0)
			return -1;
		if (task_get_regs(t, &r) < 0)
			return 0;
	}
	int64_t got = (int64_t)r->rax;
	if ((got < 0) != (sys->ret < 0) && sc_class_of(rt->nr) == SC_STATE)
		pr_info(LM_REPLAY, "tid %d: %s returned %" PRId64 " in replay, %" PRId64 " when "
			"recorded", t->tid, sc_name(rt->nr), got, sys->ret);
	r->rax = (uint64_t)sys->ret;
	t->regs_dirty = true;
	rpl_write_pieces(t, sys);
	if (makes_task(rt->nr) && sys->ret > 0)
		fix_clone_tids(t, rt, sys->ret);
	return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
}

int rpl_sys_exit(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (rt->passthru) {
		/* A skipped call passed to its exit: the task waits here for its turn, or
		 * stands where a signal was recorded (orig_rax as the kernel had it). */
		rt->passthru = false;
		rt->pend = RP_NONE;
		if (rt->fix_orig) {
			struct user_regs_struct *r;
			if (task_get_regs(t, &r) == 0) {
				r->orig_rax = (uint64_t)(int64_t)rt->nr;
				t->regs_dirty = true;
			}
			rt->fix_orig = false;
		}
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	int d = sched_rpl_drive(e, inf);
	if (d < 0)
		return d;
	uint64_t before = e->cursor;
	int r = rpl_apply_exit(e, inf, t);
	/* Its result taken, a task parked at a call's entry behind it may go on. */
	if (r >= 0 && e->cursor != before && !e->have_stop && (d = sched_rpl_drive(e, inf)) < 0)
		return d;
	return r;
}

/* A task was born (fork, vfork, clone) in replay: the TASK event names it. */
int rpl_new_task(struct rec_engine *e, struct inferior *inf, struct task *t, struct tev *tev)
{
	const struct trace_ev *ev = rpl_peek(e);
	uint32_t kind = tev->kind == TEV_FORK ? TRT_FORK : tev->kind == TEV_VFORK ? TRT_VFORK : TRT_CLONE;
	if (!ev || ev->type != TR_TASK || rpl_live_tid(e, ev->tid) != t->tid || ev->task.kind != kind)
		return rpl_diverge(e, inf, t, "a new %s appeared; the recording has %s here",
				   kind == TRT_CLONE ? "thread" : "process",
				   ev ? trace_type_name(ev->type) : "nothing");
	if (tev->child) {
		pr_debug(LM_REPLAY, "tid %d: new task %d plays recorded %d", t->tid, tev->child->tid,
			 ev->task.other);
		rpl_map_tid(e, ev->task.other, tev->child->tid);
		sched_new_task(e, tev->child);
		if (kind != TRT_CLONE)   /* the child's agent numbers on */
			sb_set_last(e, ev->task.other, sb_last(e, ev->tid));
	}
	rpl_consume(e);
	return 0;
}
