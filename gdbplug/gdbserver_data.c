/* gdbserver_data: registers (g G p P through the target description), memory
 * (m M x X, with breakpoints hidden as the shell shows them) and gdb's breakpoints and
 * watchpoints (Z z through the inferior's breakpoint table). */
#include "gdbserver_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "rsp_codec.h"

/* ---- registers ---- */

/* t's registers as tdesc storage; with xstate, the extended state too (when the
 * kernel gives it). Returns 0 or -errno. */
static int regs_of(struct task *t, bool xstate, struct tdesc_regs *r)
{
	memset(r, 0, sizeof *r);
	int e = task_get_regs(t, &r->gpr);
	if (e < 0)
		return e;
	if (xstate && task_get_xstate(t, &r->xsave, &r->xsave_len) < 0) {
		r->xsave = NULL;
		r->xsave_len = 0;
	}
	return 0;
}

void gs__read_regs(struct gdbserver *g)
{
	struct task *t = gs__hg_task(g);
	struct tdesc_regs r;
	if (!t)
		return gs__error(g, ESRCH, "no stopped thread selected");
	int e = regs_of(t, true, &r);
	if (e < 0)
		return gs__error(g, e, "cannot read registers");
	tdesc_encode_g(g->td, &r, &g->out);
}

/* gdb sets orig_rax to -1 after `run` (so that the kernel restarts no interrupted
 * system call); the kernel reads it only when rax holds a restart code (-ERESTARTSYS
 * to -ERESTART_RESTARTBLOCK). Elsewhere the write changes nothing the program can
 * see, and it is not made: a recording would fork at it, a replay of a recording
 * from disk would call it a change of the program's state. */
static void drop_idle_orig_rax(const struct user_regs_struct *cur, struct user_regs_struct *nw)
{
	int64_t rax = (int64_t)nw->rax;
	if (nw->orig_rax == UINT64_MAX && !(rax <= -512 && rax >= -516))
		nw->orig_rax = cur->orig_rax;
}

/* Write back what a G or P changed in copies of t's registers. */
static int commit_regs(struct task *t, const struct tdesc_regs *cur, const struct tdesc_regs *nw)
{
	int e = 0;
	drop_idle_orig_rax(cur->gpr, nw->gpr);
	if (memcmp(cur->gpr, nw->gpr, sizeof *nw->gpr))
		e = task_set_regs(t, nw->gpr);
	if (!e && nw->xsave && memcmp(cur->xsave, nw->xsave, nw->xsave_len))
		e = task_set_xstate(t, nw->xsave, nw->xsave_len);
	return e;
}

/* Copies of t's registers to modify: *nw points into the buffers given. */
static int copy_regs(struct task *t, struct tdesc_regs *cur, struct tdesc_regs *nw,
		     struct user_regs_struct *gpr, uint8_t **xs)
{
	int e = regs_of(t, true, cur);
	if (e < 0)
		return e;
	*gpr = *cur->gpr;
	nw->gpr = gpr;
	nw->xsave_len = cur->xsave_len;
	nw->xsave = NULL;
	*xs = NULL;
	if (cur->xsave) {
		*xs = xmalloc(cur->xsave_len);
		memcpy(*xs, cur->xsave, cur->xsave_len);
		nw->xsave = *xs;
	}
	return 0;
}

void gs__write_regs(struct gdbserver *g, const struct rsp_packet *p)
{
	struct task *t = gs__hg_task(g);
	if (!t)
		return gs__error(g, ESRCH, "no stopped thread selected");
	struct tdesc_regs cur, nw;
	struct user_regs_struct gpr;
	uint8_t *xs;
	int e = copy_regs(t, &cur, &nw, &gpr, &xs);
	if (!e)
		e = tdesc_decode_g(g->td, p->u.regs.data, p->u.regs.len, &nw);
	if (!e)
		e = commit_regs(t, &cur, &nw);
	free(xs);
	if (e < 0)
		return gs__error(g, e, "cannot write registers");
	rsp_reply_ok(&g->out);
}

void gs__read_reg(struct gdbserver *g, const struct rsp_packet *p)
{
	struct task *t = gs__hg_task(g);
	if (!t)
		return gs__error(g, ESRCH, "no stopped thread selected");
	const struct tdesc_reg *rd = tdesc_reg(g->td, p->u.reg.regno);
	if (!rd)
		return gs__error(g, EINVAL, "no such register");
	struct tdesc_regs r;
	int e = regs_of(t, rd->store != TS_GPR, &r);
	if (e < 0)
		return gs__error(g, e, "cannot read registers");
	uint8_t v[64];
	size_t len;
	e = tdesc_read_reg(g->td, p->u.reg.regno, &r, v, &len);
	if (e == -ENODATA) {
		for (unsigned i = 0; i < rd->size; i++)
			sbuf_puts(&g->out, "xx");   /* unavailable */
		return;
	}
	if (e < 0)
		return gs__error(g, e, "cannot read register");
	rsp_reply_hex(&g->out, v, len);
}

void gs__write_reg(struct gdbserver *g, const struct rsp_packet *p)
{
	struct task *t = gs__hg_task(g);
	if (!t)
		return gs__error(g, ESRCH, "no stopped thread selected");
	struct tdesc_regs cur, nw;
	struct user_regs_struct gpr;
	uint8_t *xs;
	int e = copy_regs(t, &cur, &nw, &gpr, &xs);
	if (!e)
		e = tdesc_write_reg(g->td, p->u.reg.regno, p->u.reg.data, p->u.reg.len, &nw);
	if (!e)
		e = commit_regs(t, &cur, &nw);
	free(xs);
	if (e < 0)
		return gs__error(g, e, "cannot write register");
	rsp_reply_ok(&g->out);
}

/* ---- memory ---- */

static struct proc *mem_proc(struct gdbserver *g)
{
	struct task *t = gs__hg_task(g);
	if (t)
		return t->proc;
	struct inferior *inf = gs__inf(g);
	return inf_alive(inf) ? inf->main : NULL;
}

void gs__read_mem(struct gdbserver *g, const struct rsp_packet *p)
{
	struct proc *pr = mem_proc(g);
	if (!pr)
		return gs__error(g, ESRCH, "no process");
	uint64_t addr = p->u.mem.addr, len = p->u.mem.len;
	uint8_t *buf = xmalloc(len ? len : 1);
	size_t got = 0;
	if (len && proc_read(pr, RADDR(addr), buf, len) == 0) {
		got = len;
	} else {
		/* Partly unreadable: give what precedes the first bad page, as gdbserver. */
		while (got < len) {
			uint64_t a = addr + got;
			size_t chunk = MIN(len - got, 4096 - (a & 4095));
			if (proc_read(pr, RADDR(a), buf + got, chunk) < 0)
				break;
			got += chunk;
		}
	}
	if (len && !got) {
		free(buf);
		return gs__error(g, EIO, "cannot access memory");
	}
	if (p->kind == RSP_READ_MEM_BIN)
		rsp_reply_binary(&g->out, buf, got);
	else
		rsp_reply_hex(&g->out, buf, got);
	free(buf);
}

void gs__write_mem(struct gdbserver *g, const struct rsp_packet *p)
{
	struct proc *pr = mem_proc(g);
	if (!pr)
		return gs__error(g, ESRCH, "no process");
	if (p->u.mem.len) {
		int e = proc_write(pr, RADDR(p->u.mem.addr), p->u.mem.data, p->u.mem.len);
		if (e < 0)
			return gs__error(g, e, "cannot write memory");
	}
	rsp_reply_ok(&g->out);
}

/* ---- breakpoints and watchpoints ---- */

struct gs_zbp *gs__zbp_by_id(struct gdbserver *g, int id)
{
	for (size_t i = 0; i < g->z.n; i++)
		if (g->z.v[i].bp_id == id)
			return &g->z.v[i];
	return NULL;
}

bool gs__zbp_at(struct gdbserver *g, uint64_t addr)
{
	for (size_t i = 0; i < g->z.n; i++)
		if (g->z.v[i].inserted && g->z.v[i].addr == addr && g->z.v[i].type <= 1)
			return true;
	return false;
}

static struct gs_zbp *zbp_find(struct gdbserver *g, int type, uint64_t addr, uint64_t kind)
{
	for (size_t i = 0; i < g->z.n; i++) {
		struct gs_zbp *z = &g->z.v[i];
		if (z->type == type && z->addr == addr && (type <= 1 || z->kind == kind))
			return z;
	}
	return NULL;
}

void gs__zbp_clear(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	for (size_t i = 0; i < g->z.n; i++) {
		struct breakpoint *b = bp_find(&inf->bps, g->z.v[i].bp_id);
		if (b)
			inf_delete(inf, b);
	}
	g->z.n = 0;
	gs__zbp_rebase(g);
}

void gs__zbp_rebase(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	g->z_proc = inf_alive(inf) ? inf->main : NULL;
	g->exec_gen = g->z_proc ? g->z_proc->exec_gen : 0;
}

void gs__zbp_check_exec(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	if (!inf_alive(inf) || inf->main != g->z_proc || inf->main->exec_gen == g->exec_gen)
		return;
	/* Called before the inferior re-resolves its breakpoints in the new image: the
	 * addresses gdb gave belong to the old one. gdb is not told of the exec (no exec
	 * events), as with gdbserver: its breakpoints simply stop firing. */
	for (size_t i = 0; i < g->z.n; i++) {
		struct breakpoint *b = bp_find(&inf->bps, g->z.v[i].bp_id);
		if (b)
			b->enabled = false;
		g->z.v[i].inserted = false;
	}
	g->exec_gen = inf->main->exec_gen;
	pr_debug(LM_GDB, "exec: %zu gdb breakpoints disabled", g->z.n);
}

/* Create the inferior breakpoint for a new Z. Returns its id or -errno (msg says why). */
static int create_bp(struct gdbserver *g, const struct rsp_packet *p, struct sbuf *msg)
{
	struct inferior *inf = gs__inf(g);
	struct breakpoint *b = NULL;
	int type = p->u.bp.type;
	uint64_t addr = p->u.bp.addr;
	if (type <= 1) {
		char spec[32];
		snprintf(spec, sizeof spec, "*0x%" PRIx64, addr);
		int e = inf_break(inf, type == 0 ? BPK_BREAK : BPK_HBREAK, spec, NULL, false, 0, &b, msg);
		if (e < 0)
			return e;
		if (!b->locs.n) {
			/* No symbols for this address (e.g. a JIT page): the address will do. */
			bp_add_loc(b, inf->main->pid, addr, NULL, NULL, 0);
			b->pending = false;
		}
		e = bp_sync(&inf->bps, inf->tg.procs);
		bool in = false;
		for (size_t i = 0; i < b->locs.n; i++)
			in |= b->locs.v[i].inserted;
		if (e < 0 || !in) {
			inf_delete(inf, b);
			sbuf_printf(msg, "cannot insert a breakpoint at 0x%" PRIx64, addr);
			return e < 0 ? e : -EIO;
		}
		return b->id;
	}
	static const enum bp_kind kinds[] = { [2] = BPK_WATCH, [3] = BPK_RWATCH, [4] = BPK_AWATCH };
	int e = inf_watch(inf, kinds[type], NULL, addr, (unsigned)p->u.bp.kind, 0, &b, msg);
	if (e < 0)
		return e;
	b->every_write = true;
	return b->id;
}

void gs__insert_bp(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	int type = p->u.bp.type;
	if (type < 0 || type > 4)
		return;   /* "": unknown type */
	if (!inf_alive(inf))
		return gs__error(g, ESRCH, "no process");
	if (type >= 2 && (p->u.bp.kind == 0 || p->u.bp.kind > 32))
		return gs__error(g, EINVAL, "watch length out of range");
	gs__zbp_check_exec(g);
	struct gs_zbp *z = zbp_find(g, type, p->u.bp.addr, p->u.bp.kind);
	struct breakpoint *b = z ? bp_find(&inf->bps, z->bp_id) : NULL;
	if (z && b) {
		if (!b->enabled) {
			int e = inf_enable(inf, b, true);
			if (e < 0)
				return gs__error(g, e, "cannot insert breakpoint");
		}
		z->inserted = true;
		return rsp_reply_ok(&g->out);
	}
	struct sbuf msg = { 0 };
	int id = create_bp(g, p, &msg);
	if (id < 0) {
		gs__error(g, id, sbuf_str(&msg));
		sbuf_free(&msg);
		return;
	}
	sbuf_free(&msg);
	if (z) {
		z->bp_id = id;
		z->inserted = true;
	} else {
		struct gs_zbp nz = { type, p->u.bp.addr, p->u.bp.kind, id, true };
		vec_push(&g->z, nz);
	}
	rsp_reply_ok(&g->out);
}

void gs__remove_bp(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	int type = p->u.bp.type;
	if (type < 0 || type > 4)
		return;
	struct gs_zbp *z = zbp_find(g, type, p->u.bp.addr, p->u.bp.kind);
	if (z) {
		z->inserted = false;
		struct breakpoint *b = bp_find(&inf->bps, z->bp_id);
		if (!b)
			return rsp_reply_ok(&g->out);
		if (type >= 2) {
			/* Debug registers are scarce: free them, do not just disable. */
			inf_delete(inf, b);
			*z = g->z.v[--g->z.n];
		} else if (b->enabled) {
			inf_enable(inf, b, false);
		}
	}
	rsp_reply_ok(&g->out);   /* removing what is not there is fine (idempotent) */
}
