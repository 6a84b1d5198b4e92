/* position: hashing a thread's state, and the positions API (position.h). */
#include "replay/position.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <linux/elf.h>

#include "core/condtrap.h"
#include "core/log.h"
#include "core/regs.h"
#include "replay/record_int.h"
#include "replay/session.h"

#define STACK_TOP 256

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* The general registers as a position sees them. */
static int pos_gprs(struct task *t, struct user_regs_struct *g)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return -ESRCH;
	*g = *r;
	g->eflags &= ~(uint64_t)0x10100;   /* RF and TF belong to the debugger */
	/* So in r11 after a syscall (the kernel saves rflags there): a syscall made
	 * while single-stepping leaves TF in it, the same call run freely does not. */
	g->r11 &= ~(uint64_t)0x10100;
	/* orig_rax says whether the thread stopped on its way out of a syscall (a
	 * signal at a syscall's exit) or at a trap (-1); the same instruction boundary
	 * is reached either way in replay, where untrapped syscalls give no stop. */
	g->orig_rax = 0;
	return 0;
}

uint64_t pos_gprhash(struct task *t)
{
	struct user_regs_struct g;
	if (pos_gprs(t, &g) < 0)
		return 0;
	uint64_t h = fnv(&g, sizeof g, 0x84222325cbf29ce4ull);
	return h ? h : 1;
}

uint64_t pos_reghash(struct task *t)
{
	struct user_regs_struct g;
	if (pos_gprs(t, &g) < 0)
		return 0;
	uint64_t h = fnv(&g, sizeof g, 0xcbf29ce484222325ull);
	/* The vector state up to AVX-512 (not AMX tiles: 8 KiB nobody here uses), read
	 * directly: the hash is taken at every breakpoint hit of a search. */
	const struct xsave_layout *lay = regs_xsave_layout();
	size_t want = lay->hi16_off ? lay->hi16_off + 1024 : lay->zmm_hi_off ? lay->zmm_hi_off + 512 :
		      lay->avx_off ? lay->avx_off + 256 : 512;
	uint8_t xbuf[4096], *xs = xbuf;
	struct iovec iov = { xbuf, MIN(want, sizeof xbuf) };
	size_t xl = ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) == 0 ? iov.iov_len : 0;
	if (xl >= 512) {
		/* x87 control and data registers, MXCSR, st0-7, xmm0-15 (not the FPU's last
		 * instruction pointers, which the kernel may not keep), then every extended
		 * component past the XSAVE header. */
		h = fnv(xs + FX_FCW, 6, h);        /* control, status, tag */
		h = fnv(xs + FX_MXCSR, 4, h);
		h = fnv(xs + FX_ST(0), 416 - FX_ST(0), h);
		if (xl > 576)
			h = fnv(xs + 576, xl - 576, h);
	}
	uint8_t top[STACK_TOP];
	if (proc_read(t->proc, RADDR(g.rsp), top, sizeof top) == 0)
		h = fnv(top, sizeof top, h);
	return h ? h : 1;
}

int pos_capture(struct task *t, uint64_t thread_events, struct trace_pos *out)
{
	uint64_t pc = task_pc(t);
	if (!pc)
		return -ESRCH;
	out->pc = pc;
	out->k = thread_events;
	out->reghash = pos_reghash(t);
	out->gprhash = pos_gprhash(t);
	struct user_regs_struct *r;
	uint64_t top[CONDTRAP_TOP];
	out->fastkey = task_get_regs(t, &r) == 0 &&
		       proc_read(t->proc, RADDR(r->rsp), top, sizeof top) == 0 ? condtrap_key(r, top) : 0;
	return out->reghash ? 0 : -ESRCH;
}

bool pos_matches(struct task *t, const struct trace_pos *p)
{
	if (task_pc(t) != p->pc)
		return false;
	if (!p->reghash && !p->gprhash)
		return true;   /* a target with no hash: the first time pc is reached */
	if (p->gprhash && pos_gprhash(t) != p->gprhash)
		return false;   /* the cheap test, enough for most hits */
	return pos_reghash(t) == p->reghash;
}

void pos_format(const struct pos_point *p, struct sbuf *out)
{
	sbuf_printf(out, "#%" PRIu64 ":%d:%#" PRIx64 ":%" PRIu64 ":%016" PRIx64, p->event, p->tid,
		    p->pos.pc, p->pos.k, p->pos.reghash);
}

int pos_parse(const char *text, struct pos_point *out)
{
	unsigned long long ev, pc, k, h;
	int tid, n = 0;
	if (sscanf(text, "#%llu:%d:%llx:%llu:%llx%n", &ev, &tid, &pc, &k, &h, &n) != 5 ||
	    text[n])
		return -EINVAL;
	*out = (struct pos_point){ .event = ev, .tid = tid,
				   .pos = { .pc = pc, .k = k, .reghash = h } };
	return 0;
}

int pos_now(struct session *s, struct pos_point *out)
{
	struct rec_engine *e = s->rec;
	struct task *t = s->inf.cur;
	if (!e || e->mode == REC_OFF || !t || t->state != TS_STOPPED)
		return -ENOENT;
	out->event = rec_event_here(e);
	out->tid = rpl_rec_tid(e, t->tid);
	return pos_capture(t, rec_thread_events(e, out->tid), &out->pos);
}

int pos_run_to(struct session *s, const struct pos_point *p, struct stop *st)
{
	struct rec_engine *e = s->rec;
	memset(st, 0, sizeof *st);
	if (!e || e->mode != REC_REPLAYING || rec_event_here(e) > p->event ||
	    p->event > rec_branch_len(e->branch)) {
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "Position %" PRIu64 " is not ahead in the replay.",
			 p->event);
		return -EINVAL;
	}
	e->target = *p;
	e->have_target = true;
	struct sess_args a = { .sig = -1 };
	int r = session_exec(s, SC_CONTINUE, &a, st);
	e->have_target = false;
	return r;
}

/* ---- event numbers and thread event counts (the k of positions) ---- */

uint64_t rec_event_here(const struct rec_engine *e)
{
	uint64_t c = e->cursor;
	const struct trace_ev *ev;
	while (c > 0 && e->branch && !e->disk && (ev = rec_branch_get(e->branch, c - 1)) &&
	       ev->type == TR_SYSBUF)
		c--;
	return c;
}

/* c less the SYSBUF records and the call results of tasks other than tid (recorded)
 * just before it, in the current in-memory branch. */
static uint64_t floor_of(const struct rec_engine *e, uint64_t c, pid_t tid)
{
	const struct trace_ev *ev;
	if (!e || !e->branch || e->disk || c > rec_branch_len(e->branch))
		return c;
	while (c > 0 && (ev = rec_branch_get(e->branch, c - 1)) &&
	       (ev->type == TR_SYSBUF ||
		(tid && ev->tid != tid && (ev->type == TR_SYSCALL || ev->type == TR_MMAP))))
		c--;
	return c;
}

uint64_t rec_event_floor(const struct rec_engine *e)
{
	pid_t turn = !e->sched_cur ? 0 : e->mode == REC_REPLAYING ? rpl_rec_tid(e, e->sched_cur) :
		     e->sched_cur;   /* the recorded tid of the task whose turn it is */
	uint64_t c = rec_event_here(e);
	return turn ? floor_of(e, c, turn) : c;
}

uint64_t rec_pos_floor(const struct rec_engine *e, const struct pos_point *p)
{
	return floor_of(e, p->event, p->tid);
}

uint64_t rec_thread_events(struct rec_engine *e, pid_t tid)
{
	for (size_t i = 0; i < e->tcounts.n; i++)
		if (e->tcounts.v[i].tid == tid)
			return e->tcounts.v[i].n;
	return 0;
}

void rec_count_event(struct rec_engine *e, pid_t tid)
{
	for (size_t i = 0; i < e->tcounts.n; i++)
		if (e->tcounts.v[i].tid == tid) {
			e->tcounts.v[i].n++;
			return;
		}
	struct rec_tcount c = { tid, 1 };
	vec_push(&e->tcounts, c);
}

void rec_recount(struct rec_engine *e)
{
	e->tcounts.n = 0;
	for (uint64_t i = 0; e->branch && i < e->cursor; i++) {
		const struct trace_ev *ev = rec_branch_get(e->branch, i);
		if (ev && ev->tid && !rec_ev_bookkeeping(ev))
			rec_count_event(e, ev->tid);
	}
}
