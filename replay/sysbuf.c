/* sysbuf: the engine's side of the agent's syscall buffer (see sysbuf.h): copying
 * records into the log while recording, giving replayed calls their records, the
 * agent's own calls (hello, flush), and the trap a replaying process needs. */
#include "replay/record_int.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/agent/agent_abi.h"
#include "core/log.h"
#include "replay/sysbuf.h"

/* ---- the last sequence number logged (recording) or given (replay) per thread ---- */

uint64_t sb_last(const struct rec_engine *e, pid_t tid)
{
	for (size_t i = 0; i < e->sblast.n; i++)
		if (e->sblast.v[i].tid == tid)
			return e->sblast.v[i].seq;
	return 0;
}

void sb_set_last(struct rec_engine *e, pid_t tid, uint64_t seq)
{
	for (size_t i = 0; i < e->sblast.n; i++)
		if (e->sblast.v[i].tid == tid) {
			e->sblast.v[i].seq = seq;
			return;
		}
	struct sb_last l = { tid, seq };
	vec_push(&e->sblast, l);
}

/* ---- recording: copying new records into the log ---- */

/* Address of t's buffer (0: the agent has none for it yet). */
static uint64_t buf_addr(struct task *t, struct rec_task *rt)
{
	if (!(t->proc->tags & PROC_TAG_SB_AGENT) || t->proc->vfork_child)
		return 0;   /* no agent, not set up yet, or its parent's (a vfork child shares
			       its memory, agent buffer included, until it execs) */
	if (rt->sb_addr)
		return rt->sb_addr;
	struct rwsb_page pg;
	struct user_regs_struct *r;
	uint64_t a = 0, fs = rt->sb_fs;
	if (t->state == TS_STOPPED) {
		if (task_get_regs(t, &r) < 0)
			return 0;
		fs = r->fs_base;
	}
	if (!fs || proc_read_raw(t->proc, RADDR(RWSB_DATA), &pg, sizeof pg) < 0 ||
	    pg.magic != RWSB_PAGE_MAGIC ||
	    proc_read_raw(t->proc, RADDR(fs + (uint64_t)pg.tls_off), &a, sizeof a) < 0)
		return 0;
	rt->sb_addr = a;
	rt->sb_off = 0;
	return a;
}

/* t is stopped, or runs in a trapped call (a BLOCK switch): either way its agent is
 * not writing to its buffer. */
void sb_flush(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	if (e->mode != REC_RECORDING || !t || t->proc->snapshot || t->proc->dead)
		return;
	struct rec_task *rt = rec_task_of(e, t);
	if (t->state != TS_STOPPED && !(t->state == TS_RUNNING && rt->pend == RP_RECORD))
		return;
	uint64_t a = buf_addr(t, rt);
	struct rwsb_buf h;
	if (!a)
		return;
	if (proc_read_raw(t->proc, RADDR(a), &h, sizeof h) < 0 || h.magic != RWSB_BUF_MAGIC ||
	    h.self != a || h.size < sizeof h || h.used > h.size - sizeof h) {
		rt->sb_addr = 0;   /* gone (unmapped, another exec): look again next time */
		return;
	}
	/* Where the new records start, if this is still the buffer's fill it was. */
	size_t from = rt->sb_first == h.first_seq && rt->sb_off <= h.used ? rt->sb_off : 0;
	rt->sb_first = h.first_seq;
	if (from == h.used)
		return;
	size_t len = h.used - from;
	uint8_t *buf = xmalloc(len);
	if (proc_read_raw(t->proc, RADDR(a + sizeof h + from), buf, len) < 0) {
		free(buf);
		return;
	}
	/* Records up to `last` were logged already (at a checkpoint or a stop); the new
	 * ones follow, numbered in sequence. */
	uint64_t last = sb_last(e, t->tid), first = 0;
	size_t off = 0, start = 0, end = 0;
	uint32_t count = 0;
	struct sb_call c;
	int p;
	while ((p = sb_parse(buf, len, &off, &c)) > 0) {
		if (!count && c.seq <= last) {
			start = end = off;
			continue;
		}
		if (!count)
			first = c.seq;
		else if (c.seq != first + count)
			break;
		count++;
		end = off;
	}
	if ((p < 0 || (p > 0 && count)) && !rt->sb_warned) {
		rt->sb_warned = true;
		inf_notice(inf, "[record: the buffered calls of thread %d are damaged after call %"
			   PRIu64 "; replay will diverge there]", t->tid, first + count);
	}
	if (count) {
		struct trace_ev ev = { .type = TR_SYSBUF, .tid = t->tid };
		ev.sbuf.first_seq = first;
		ev.sbuf.count = count;
		ev.sbuf.len = (uint32_t)(end - start);
		ev.sbuf.data = buf + start;
		if (rec_log(e, inf, &ev) == 0)
			sb_set_last(e, t->tid, first + count - 1);
	}
	pr_trace(LM_REPLAY, "tid %d: buffer %#" PRIx64 " used %u from %zu: %u new from %" PRIu64
		 " (last %" PRIu64 ")", t->tid, a, h.used, from, count, first, last);
	rt->sb_off = from + end;
	free(buf);
}

void sb_flush_all(struct rec_engine *e, struct inferior *inf, struct proc *only)
{
	if (e->mode != REC_RECORDING)
		return;
	for (struct proc *p = inf->tg.procs; p; p = p->next)
		if (!p->dead && !p->snapshot && (!only || p == only))
			for (struct task *t = p->tasks; t; t = t->next)
				sb_flush(e, inf, t);
}

/* ---- replay: the record of a call ---- */

/* Where each thread's SYSBUF events are, built as the branch is read. */
struct sb_ixent {
	uint64_t first;
	uint32_t count;
	uint64_t ev;
};

struct sb_ixtid {
	pid_t tid;
	VEC(struct sb_ixent) v;
};

struct sb_index {
	const struct rec_branch *branch;
	uint64_t upto;                 /* events indexed so far */
	VEC(struct sb_ixtid) tids;
	/* the last record found, to go on from (calls come in order) */
	pid_t c_tid;
	uint64_t c_ev, c_seq;
	size_t c_off;
};

void sb_index_free(struct rec_engine *e)
{
	struct sb_index *x = e->sbix;
	if (!x)
		return;
	for (size_t i = 0; i < x->tids.n; i++)
		vec_free(&x->tids.v[i].v);
	vec_free(&x->tids);
	free(x);
	e->sbix = NULL;
}

static struct sb_ixtid *ix_tid(struct sb_index *x, pid_t tid, bool add)
{
	for (size_t i = 0; i < x->tids.n; i++)
		if (x->tids.v[i].tid == tid)
			return &x->tids.v[i];
	if (!add)
		return NULL;
	struct sb_ixtid n = { .tid = tid };
	vec_push(&x->tids, n);
	return &x->tids.v[x->tids.n - 1];
}

static struct sb_index *index_of(struct rec_engine *e)
{
	struct sb_index *x = e->sbix;
	uint64_t len = rec_branch_len(e->branch);
	if (x && (x->branch != e->branch || x->upto > len))
		sb_index_free(e), x = NULL;
	if (!x) {
		x = e->sbix = xcalloc(1, sizeof *x);
		x->branch = e->branch;
	}
	for (; x->upto < len; x->upto++) {
		const struct trace_ev *ev = rec_branch_get(e->branch, x->upto);
		if (!ev || ev->type != TR_SYSBUF)
			continue;
		struct sb_ixtid *t = ix_tid(x, ev->tid, true);
		struct sb_ixent en = { ev->sbuf.first_seq, ev->sbuf.count, x->upto };
		vec_push(&t->v, en);
	}
	return x;
}

/* The record of recorded thread tid's call seq: 1 (in *c), 0 not in the log. */
static int find_call(struct rec_engine *e, pid_t tid, uint64_t seq, struct sb_call *c)
{
	if (!e->branch)
		return 0;
	struct sb_index *x = index_of(e);
	uint64_t evi;
	size_t off = 0;
	uint64_t at;
	const struct trace_ev *ev = x->c_tid == tid && x->c_seq == seq ?
				    rec_branch_get(e->branch, x->c_ev) : NULL;
	if (ev && ev->type == TR_SYSBUF && x->c_off < ev->sbuf.len) {
		evi = x->c_ev;   /* the next record of the same event */
		off = x->c_off;
		at = seq;
	} else {
		struct sb_ixtid *t = ix_tid(x, tid, false);
		if (!t)
			return 0;
		/* Sequence numbers grow along a thread's entries: binary search. */
		size_t lo = 0, hi = t->v.n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (t->v.v[mid].first + t->v.v[mid].count <= seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == t->v.n || t->v.v[lo].first > seq)
			return 0;
		evi = t->v.v[lo].ev;
		at = t->v.v[lo].first;
	}
	ev = rec_branch_get(e->branch, evi);
	if (!ev || ev->type != TR_SYSBUF)
		return 0;
	for (;;) {
		if (sb_parse(ev->sbuf.data, ev->sbuf.len, &off, c) <= 0)
			return 0;   /* checked when logged or read: cannot happen */
		if (at++ == seq)
			break;
	}
	x->c_tid = tid;
	x->c_ev = evi;
	x->c_off = off;
	x->c_seq = seq + 1;
	return 1;
}

static bool args_equal(const struct sb_call *c, int nr, const uint64_t a[6])
{
	if (c->nr != nr)
		return false;
	for (unsigned i = 0; i < c->nargs; i++)
		if (c->args[i] != a[i])
			return false;
	return true;
}

static int replay_call(struct rec_engine *e, struct inferior *inf, struct task *t,
		       struct user_regs_struct *r)
{
	pid_t tid = rpl_rec_tid(e, t->tid);
	uint64_t seq = r->r12, args[6];
	int nr = (int)(int64_t)r->orig_rax;
	rec_regs_args(r, args);
	struct sb_call c;
	if (!find_call(e, tid, seq, &c)) {
		const struct trace_ev *next = rpl_peek(e);
		if (next && next->type != TR_END)
			return rpl_diverge(e, inf, t, "thread %d's buffered call %" PRIu64 " (%s) is "
					   "not in the recording", t->tid, seq, sc_name(nr));
		if (!e->live_at_end)
			return rpl_end_of_log(e, inf, t);
		rec_go_live(e, inf, "[replay reached the end of the recording; the program now "
			    "runs live]");
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;   /* the call runs, logged by the agent */
	}
	if (!args_equal(&c, nr, args)) {
		struct sbuf got = { 0 }, want = { 0 };
		rpl_format_call(&got, nr, args);
		rpl_format_call(&want, c.nr, c.args);
		int x = rpl_diverge(e, inf, t, "thread %d's buffered call %" PRIu64 ": expected %s, "
				    "got %s", t->tid, seq, sbuf_str(&want), sbuf_str(&got));
		sbuf_free(&got);
		sbuf_free(&want);
		return x;
	}
	r->orig_rax = (uint64_t)-1;
	r->rax = (uint64_t)c.ret;
	t->regs_dirty = true;
	struct trace_syscall sys;
	sb_call_as_syscall(&c, &sys);
	rpl_write_pieces(t, &sys);
	rpl_fd_track(e, &sys);
	sb_set_last(e, tid, seq);
	return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
}

/* ---- seccomp stops that are the agent's ---- */

int sb_seccomp(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return 2;
	int nr = (int)(int64_t)r->orig_rax;
	if (nr == RWSB_NR) {
		/* flush: the buffer is full, the agent empties it after this. */
		pr_trace(LM_REPLAY, "tid %d: agent call %llu", t->tid, (unsigned long long)r->rdi);
		if (r->rdi == RWSB_OP_FLUSH && e->mode == REC_RECORDING)
			sb_flush(e, inf, t);
		r->orig_rax = (uint64_t)-1;
		/* A program's first calls are numbered on from its thread's last ones (an
		 * exec keeps the thread): the same in a replay, which gave those. */
		pid_t tid = e->mode == REC_REPLAYING ? rpl_rec_tid(e, t->tid) : t->tid;
		if (r->rdi == RWSB_OP_HELLO)
			t->proc->tags |= PROC_TAG_SB_AGENT;
		r->rax = r->rdi == RWSB_OP_HELLO ? sb_last(e, tid) + 1 :
			 r->rdi == RWSB_OP_FLUSH ? 0 : (uint64_t)-EINVAL;
		t->regs_dirty = true;
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	if (r->rip != RWSB_GATE + 2)
		return 2;
	/* The gate trapped: a replaying process (or one that replayed and went live). */
	if (e->mode == REC_REPLAYING) {
		/* A run towards a position by CPU time cannot go on: the recorded call's
		 * kernel time (a read) is not spent again, so the position comes sooner.
		 * Its breakpoint finds it (no second untrapped run for this event). */
		struct rec_task *rt = rec_task_of(e, t);
		rpl_ff_cancel(e, t);
		rt->ff_event = e->cursor + 1;   /* the run for this event is over... */
		rt->ff_until = 0;               /* ...and is not made again */
		return replay_call(e, inf, t, r);
	}
	return rec_resume_want(e, inf, t) < 0 ? 0 : 1;   /* live: the call runs */
}

/* ---- the trap a replaying process needs ---- */

/* Restored from a checkpoint, a process replays: the gate's calls must stop, as in
 * a replay of a recording from disk, where the filter has no untraced range. A
 * second filter traps them (filters add up: TRACE wins over the first one's ALLOW).
 * A process gets it once (PROC_TAG_SB_TRAP, inherited by forks and snapshots). */
void sb_trap_gate(struct rec_engine *e, struct inferior *inf)
{
	if (!e->sb_range)
		return;
	uint32_t lo = (uint32_t)(RWSB_GATE + 2), hi = (uint32_t)((RWSB_GATE + 2) >> 32);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0xfffd),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	const struct seccomp_prog prog = { f, ARRAY_SIZE(f) };
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot || (p->tags & PROC_TAG_SB_TRAP))
			continue;
		struct task *t = NULL;
		for (struct task *o = p->tasks; o && !t; o = o->next)
			if (o->state == TS_STOPPED && !o->in_syscall)
				t = o;
		int x = t ? seccomp_inject(&inf->tg, t, &prog) : -ESRCH;
		if (x < 0)
			pr_warn(LM_REPLAY, "pid %d: the syscall buffer's trap not installed (%s); its "
				"replay may diverge", p->pid, strerror(-x));
		else
			p->tags |= PROC_TAG_SB_TRAP;
	}
}
