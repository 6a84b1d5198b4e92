/* trace_records: the payload of each record type, encoded and decoded.
 *
 *   SYSCALL  [tid] nr, mask (bits 0-5: argument present, 6: pieces, 7: flags),
 *            present args (zigzag), ret (zigzag), [flags], [n, n × piece]
 *            piece: key (0: explicit address follows; k: the address is args[k-1]),
 *                   [addr], len, bytes
 *   SIGNAL   [tid] signo, flags, siginfo (trailing zeros dropped), pos
 *   SCHED    [tid] to, reason, pos
 *   RDTSC    [tid] u8 flags (bit 0: rdtscp), value, pc, [aux]
 *   MMAP     [tid] addr, len, prot, flags, fd (zigzag), offset, ret (zigzag), file
 *   TASK     [tid] kind, other, flags, status (zigzag), path
 *   CHECKPOINT id, event, name
 *   META     pid, argc, argv..., envc, env..., cwd, exe, maps, n, n × (type, value),
 *            [cpu + 1]
 *   END      status (zigzag), flags, events
 * pos: pc, k, u64 reghash. [tid] is omitted when the type byte has TRACE__SAME_TID.
 * Minor 1: SIGNAL and SCHED may end with run_ns (varint) and then gprhash (u64);
 * absent means 0. Minor 2: META may end with the program's CPU + 1 (absent: 0, none).
 * Minor 5: after gprhash, the position's condtrap key (u64). */
#include "replay/trace_codec.h"
#include "replay/sysbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "replay/systable.h"

#define M_PIECES 0x40
#define M_FLAGS 0x80

static bool has_tid(unsigned type)
{
	return (type >= TR_SYSCALL && type <= TR_TASK) || type == TR_SYSBUF;
}

/* ---- encoding ---- */

static void enc_pos(struct tbuf *b, const struct trace_pos *p)
{
	tb_varint(b, p->pc);
	tb_varint(b, p->k);
	tb_le(b, p->reghash, 8);
}

static void enc_pos_tail(struct tbuf *b, const struct trace_pos *p)
{
	if (p->run_ns || p->gprhash || p->fastkey)
		tb_varint(b, p->run_ns);
	if (p->gprhash || p->fastkey)
		tb_le(b, p->gprhash, 8);
	if (p->fastkey)
		tb_le(b, p->fastkey, 8);
}

static int enc_syscall(struct tbuf *b, const struct trace_syscall *s)
{
	const struct sc_entry *e = sc_get(s->nr);
	unsigned nargs = e ? e->nargs : 6;
	uint8_t mask = 0;
	if (s->nr < 0 || (s->npieces && !s->pieces))
		return -EINVAL;
	for (unsigned i = 0; i < nargs; i++)
		if (s->args[i])
			mask |= (uint8_t)(1u << i);
	for (size_t i = 0; i < s->npieces; i++) {
		const struct trace_piece *p = &s->pieces[i];
		if ((p->len && !p->data) || p->arg >= (int)nargs ||
		    (p->arg >= 0 && !(mask & (1u << p->arg))))
			return -EINVAL;
	}
	if (s->npieces)
		mask |= M_PIECES;
	if (s->flags)
		mask |= M_FLAGS;
	tb_varint(b, (uint64_t)s->nr);
	tb_u8(b, mask);
	for (unsigned i = 0; i < nargs; i++)
		if (s->args[i])
			tb_svarint(b, (int64_t)s->args[i]);
	tb_svarint(b, s->ret);
	if (s->flags)
		tb_varint(b, s->flags);
	if (!s->npieces)
		return 0;
	tb_varint(b, s->npieces);
	for (size_t i = 0; i < s->npieces; i++) {
		const struct trace_piece *p = &s->pieces[i];
		tb_varint(b, p->arg >= 0 ? (uint64_t)p->arg + 1 : 0);
		if (p->arg < 0)
			tb_varint(b, p->addr);
		tb_varint(b, p->len);
		tb_bytes(b, p->data, p->len);
	}
	return 0;
}

static int enc_meta(struct tbuf *b, const struct trace_meta *m)
{
	if ((m->argc && !m->argv) || (m->envc && !m->env) || (m->nauxv && !m->auxv) ||
	    m->pid < 0)
		return -EINVAL;
	tb_varint(b, (uint64_t)m->pid);
	tb_varint(b, m->argc);
	for (size_t i = 0; i < m->argc; i++)
		tb_str(b, m->argv[i]);
	tb_varint(b, m->envc);
	for (size_t i = 0; i < m->envc; i++)
		tb_str(b, m->env[i]);
	tb_str(b, m->cwd);
	tb_str(b, m->exe);
	tb_str(b, m->maps);
	tb_varint(b, m->nauxv);
	for (size_t i = 0; i < 2 * m->nauxv; i++)
		tb_varint(b, m->auxv[i]);
	if (m->have_cpu)
		tb_varint(b, (uint64_t)m->cpu + 1);
	return 0;
}

int trace__encode(const struct trace_ev *ev, pid_t *last_tid, struct tbuf *b)
{
	unsigned type = ev->type;
	int e = 0;
	if (type < 1 || type >= TR__COUNT)
		return -EINVAL;
	if (has_tid(type)) {
		if (ev->tid <= 0)
			return -EINVAL;
		if (ev->tid == *last_tid)
			type |= TRACE__SAME_TID;
		else
			tb_varint(b, (uint64_t)ev->tid);
	}
	switch (ev->type) {
	case TR_SYSCALL:
		e = enc_syscall(b, &ev->sys);
		break;
	case TR_SIGNAL: {
		size_t n = sizeof ev->sig.siginfo;
		while (n && !ev->sig.siginfo[n - 1])
			n--;
		if (ev->sig.signo < 1 || ev->sig.signo > 64)
			return -EINVAL;
		tb_varint(b, (uint64_t)ev->sig.signo);
		tb_varint(b, ev->sig.flags);
		tb_varint(b, n);
		tb_bytes(b, ev->sig.siginfo, n);
		enc_pos(b, &ev->sig.pos);
		enc_pos_tail(b, &ev->sig.pos);
		break;
	}
	case TR_SCHED:
		if (ev->sched.to <= 0)
			return -EINVAL;
		tb_varint(b, (uint64_t)ev->sched.to);
		tb_varint(b, ev->sched.reason);
		enc_pos(b, &ev->sched.pos);
		enc_pos_tail(b, &ev->sched.pos);
		break;
	case TR_RDTSC:
		tb_u8(b, ev->tsc.rdtscp ? 1 : 0);
		tb_varint(b, ev->tsc.value);
		tb_varint(b, ev->tsc.pc);
		if (ev->tsc.rdtscp)
			tb_varint(b, ev->tsc.aux);
		break;
	case TR_MMAP:
		tb_varint(b, ev->mmap.addr);
		tb_varint(b, ev->mmap.len);
		tb_varint(b, ev->mmap.prot);
		tb_varint(b, ev->mmap.flags);
		tb_svarint(b, ev->mmap.fd);
		tb_varint(b, ev->mmap.offset);
		tb_svarint(b, ev->mmap.ret);
		tb_str(b, ev->mmap.file);
		break;
	case TR_TASK:
		if (ev->task.other < 0 || ev->task.kind < TRT_FORK || ev->task.kind > TRT_EXIT)
			return -EINVAL;
		tb_varint(b, ev->task.kind);
		tb_varint(b, (uint64_t)ev->task.other);
		tb_varint(b, ev->task.flags);
		tb_svarint(b, ev->task.status);
		tb_str(b, ev->task.path);
		break;
	case TR_CHECKPOINT:
		tb_varint(b, ev->ckpt.id);
		tb_varint(b, ev->ckpt.event);
		tb_str(b, ev->ckpt.name);
		break;
	case TR_META:
		e = enc_meta(b, &ev->meta);
		break;
	case TR_END:
		tb_svarint(b, ev->end.status);
		tb_varint(b, ev->end.flags);
		tb_varint(b, ev->end.events);
		break;
	case TR_SYSBUF:
		if (!ev->sbuf.count || (ev->sbuf.len && !ev->sbuf.data) ||
		    sb_check(ev->sbuf.data, ev->sbuf.len, ev->sbuf.first_seq, ev->sbuf.count))
			return -EINVAL;
		tb_varint(b, ev->sbuf.first_seq);
		tb_varint(b, ev->sbuf.count);
		tb_varint(b, ev->sbuf.len);
		tb_bytes(b, ev->sbuf.data, ev->sbuf.len);
		break;
	case TR__COUNT:
		return -EINVAL;
	}
	if (e)
		return e;
	if (has_tid(ev->type))
		*last_tid = ev->tid;
	if (ev->type == TR_CHECKPOINT)
		*last_tid = 0;
	return (int)type;
}

/* ---- decoding ---- */

struct dctx {
	struct tdec d;
	struct tscratch *s;
	bool lenient;           /* newer minor version: unknown values are not errors */
	const char *bad;        /* a semantic error (the cursor's err covers syntax) */
};

static bool bad(struct dctx *c, const char *why)
{
	if (!c->bad)
		c->bad = why;
	c->d.p = c->d.end;
	return false;
}

static bool get_int(struct dctx *c, int64_t lo, int64_t hi, int64_t *v, const char *what)
{
	uint64_t u;
	if (!td_varint(&c->d, &u))
		return false;
	if ((int64_t)u < lo || u > (uint64_t)hi)
		return bad(c, what);
	*v = (int64_t)u;
	return true;
}

/* A string, copied NUL-terminated into the arena (reserved by the caller). */
static const char *get_str(struct dctx *c)
{
	const uint8_t *p;
	size_t n;
	if (!td_blob(&c->d, &p, &n))
		return "";
	char *dst = c->s->arena + c->s->arena_len;
	memcpy(dst, p, n);
	dst[n] = 0;
	c->s->arena_len += n + 1;
	return dst;
}

static void get_pos(struct dctx *c, struct trace_pos *p)
{
	td_varint(&c->d, &p->pc);
	td_varint(&c->d, &p->k);
	td_le(&c->d, &p->reghash, 8);
}

/* Minor 1's optional fields after a position. */
static void get_pos_tail(struct dctx *c, struct trace_pos *p)
{
	if (td_left(&c->d))
		td_varint(&c->d, &p->run_ns);
	if (td_left(&c->d) >= 8)
		td_le(&c->d, &p->gprhash, 8);
	if (td_left(&c->d) >= 8)
		td_le(&c->d, &p->fastkey, 8);
}

static void *ensure(void *v, size_t *cap, size_t n, size_t elt)
{
	if (n <= *cap)
		return v;
	*cap = n;
	return xrealloc(v, n * elt);
}

static void dec_syscall(struct dctx *c, struct trace_syscall *s)
{
	int64_t v;
	uint8_t mask;
	memset(s, 0, sizeof *s);
	if (!get_int(c, 0, INT_MAX, &v, "syscall number out of range") || !td_u8(&c->d, &mask))
		return;
	s->nr = (int)v;
	for (int i = 0; i < 6; i++)
		if ((mask & (1u << i)) && td_svarint(&c->d, &v))
			s->args[i] = (uint64_t)v;
	td_svarint(&c->d, &s->ret);
	if ((mask & M_FLAGS) && get_int(c, 0, UINT32_MAX, &v, "syscall flags out of range"))
		s->flags = (uint32_t)v;
	if (!(mask & M_PIECES))
		return;
	/* Each piece takes at least two bytes: that bounds the array. */
	if (!get_int(c, 0, (int64_t)td_left(&c->d) / 2, &v, "more pieces than bytes"))
		return;
	c->s->pieces = ensure(c->s->pieces, &c->s->pieces_cap, (size_t)v, sizeof *c->s->pieces);
	s->pieces = c->s->pieces;
	for (size_t i = 0; i < (size_t)v && !c->d.err && !c->bad; i++) {
		struct trace_piece *p = &c->s->pieces[i];
		int64_t key, len;
		if (!get_int(c, 0, 6, &key, "piece names an argument past 6"))
			break;
		p->arg = (int)key - 1;
		p->addr = 0;
		if (key == 0)
			td_varint(&c->d, &p->addr);
		else if (!(mask & (1u << p->arg)))
			bad(c, "piece names an argument that is not stored");
		else
			p->addr = s->args[p->arg];
		if (!get_int(c, 0, (int64_t)MIN(td_left(&c->d), UINT32_MAX), &len,
			     "piece longer than its record"))
			break;
		p->len = (uint32_t)len;
		p->data = c->d.p;
		c->d.p += len;
		s->npieces = i + 1;
	}
}

static void dec_meta(struct dctx *c, struct trace_meta *m)
{
	int64_t n, pid;
	memset(m, 0, sizeof *m);
	if (!get_int(c, 0, INT_MAX, &pid, "pid out of range"))
		return;
	m->pid = (pid_t)pid;
	/* Each string takes at least its one-byte length: that bounds the arrays. */
	if (!get_int(c, 0, (int64_t)td_left(&c->d), &n, "more arguments than bytes"))
		return;
	const char **argv = c->s->argv = ensure(c->s->argv, &c->s->argv_cap, (size_t)n, sizeof(char *));
	for (int64_t i = 0; i < n; i++)
		argv[i] = get_str(c);
	m->argv = argv;
	m->argc = (size_t)n;
	if (!get_int(c, 0, (int64_t)td_left(&c->d), &n, "more variables than bytes"))
		return;
	const char **env = c->s->env = ensure(c->s->env, &c->s->env_cap, (size_t)n, sizeof(char *));
	for (int64_t i = 0; i < n; i++)
		env[i] = get_str(c);
	m->env = env;
	m->envc = (size_t)n;
	m->cwd = get_str(c);
	m->exe = get_str(c);
	m->maps = get_str(c);
	if (!get_int(c, 0, (int64_t)td_left(&c->d) / 2, &n, "more auxv entries than bytes"))
		return;
	c->s->auxv = ensure(c->s->auxv, &c->s->auxv_cap, 2 * (size_t)n, sizeof(uint64_t));
	for (int64_t i = 0; i < 2 * n; i++)
		td_varint(&c->d, &c->s->auxv[i]);
	m->auxv = c->s->auxv;
	m->nauxv = (size_t)n;
	if (td_left(&c->d) && get_int(c, 0, (int64_t)UINT32_MAX + 1, &n, "cpu out of range") && n) {
		m->have_cpu = true;
		m->cpu = (unsigned)(n - 1);
	}
}

static void dec_body(struct dctx *c, struct trace_ev *ev)
{
	int64_t v = 0;
	const uint8_t *p;
	size_t n;
	switch (ev->type) {
	case TR_SYSCALL:
		dec_syscall(c, &ev->sys);
		break;
	case TR_SIGNAL:
		memset(&ev->sig, 0, sizeof ev->sig);
		if (get_int(c, 1, 64, &v, "signal number out of range"))
			ev->sig.signo = (int)v;
		if (get_int(c, 0, UINT32_MAX, &v, "signal flags out of range"))
			ev->sig.flags = (uint32_t)v;
		if (td_blob(&c->d, &p, &n)) {
			if (n > sizeof ev->sig.siginfo)
				bad(c, "siginfo longer than 128 bytes");
			else
				memcpy(ev->sig.siginfo, p, n);
		}
		get_pos(c, &ev->sig.pos);
		get_pos_tail(c, &ev->sig.pos);
		break;
	case TR_SCHED:
		if (get_int(c, 1, INT_MAX, &v, "thread id out of range"))
			ev->sched.to = (pid_t)v;
		if (get_int(c, 0, UINT32_MAX, &v, "reason out of range"))
			ev->sched.reason = (uint32_t)v;
		get_pos(c, &ev->sched.pos);
		get_pos_tail(c, &ev->sched.pos);
		break;
	case TR_RDTSC: {
		uint8_t f = 0;
		memset(&ev->tsc, 0, sizeof ev->tsc);
		if (td_u8(&c->d, &f) && (f & ~1u) && !c->lenient)
			bad(c, "unknown rdtsc flags");
		ev->tsc.rdtscp = f & 1;
		td_varint(&c->d, &ev->tsc.value);
		td_varint(&c->d, &ev->tsc.pc);
		if (ev->tsc.rdtscp && get_int(c, 0, UINT32_MAX, &v, "TSC_AUX out of range"))
			ev->tsc.aux = (uint32_t)v;
		break;
	}
	case TR_MMAP:
		td_varint(&c->d, &ev->mmap.addr);
		td_varint(&c->d, &ev->mmap.len);
		td_varint(&c->d, &ev->mmap.prot);
		td_varint(&c->d, &ev->mmap.flags);
		if (td_svarint(&c->d, &v) && (v < INT_MIN || v > INT_MAX))
			bad(c, "descriptor out of range");
		ev->mmap.fd = (int)v;
		td_varint(&c->d, &ev->mmap.offset);
		td_svarint(&c->d, &ev->mmap.ret);
		ev->mmap.file = get_str(c);
		break;
	case TR_TASK:
		memset(&ev->task, 0, sizeof ev->task);
		if (get_int(c, 0, UINT32_MAX, &v, "task kind out of range"))
			ev->task.kind = (uint32_t)v;
		if (!c->lenient && (v < TRT_FORK || v > TRT_EXIT))
			bad(c, "unknown task kind");
		if (get_int(c, 0, INT_MAX, &v, "thread id out of range"))
			ev->task.other = (pid_t)v;
		td_varint(&c->d, &ev->task.flags);
		td_svarint(&c->d, &ev->task.status);
		ev->task.path = get_str(c);
		break;
	case TR_CHECKPOINT:
		td_varint(&c->d, &ev->ckpt.id);
		td_varint(&c->d, &ev->ckpt.event);
		ev->ckpt.name = get_str(c);
		break;
	case TR_META:
		dec_meta(c, &ev->meta);
		break;
	case TR_END:
		td_svarint(&c->d, &ev->end.status);
		if (get_int(c, 0, UINT32_MAX, &v, "end flags out of range"))
			ev->end.flags = (uint32_t)v;
		td_varint(&c->d, &ev->end.events);
		break;
	case TR_SYSBUF:
		td_varint(&c->d, &ev->sbuf.first_seq);
		if (get_int(c, 1, UINT32_MAX, &v, "buffered call count out of range"))
			ev->sbuf.count = (uint32_t)v;
		if (td_blob(&c->d, &p, &n)) {
			const char *why = sb_check(p, n, ev->sbuf.first_seq, ev->sbuf.count);
			if (why)
				bad(c, why);
			else if (n > UINT32_MAX)
				bad(c, "buffered calls longer than 4 GiB");
			ev->sbuf.data = p;
			ev->sbuf.len = (uint32_t)n;
		}
		break;
	case TR__COUNT:
		break;
	}
}

int trace__decode(uint8_t type, const uint8_t *payload, size_t len, pid_t *last_tid,
		  bool lenient, struct tscratch *s, struct trace_ev *ev, char *msg,
		  size_t msglen)
{
	unsigned t = type & ~TRACE__SAME_TID;
	struct dctx c = { .d = { payload, payload + len, NULL }, .s = s, .lenient = lenient };
	int64_t tid = 0;
	if (t < 1 || t >= TR__COUNT) {
		if (lenient)
			return TRACE__DEC_SKIP;
		snprintf(msg, msglen, "unknown record type %u", t);
		return -EBADMSG;
	}
	memset(ev, 0, sizeof *ev);
	ev->type = (enum trace_type)t;
	/* Strings need their bytes plus a NUL each, and there are fewer strings than
	 * payload bytes: 2 × len + 1 is always enough. */
	s->arena = ensure(s->arena, &s->arena_cap, 2 * len + 1, 1);
	s->arena_len = 0;
	if (type & TRACE__SAME_TID) {
		if (!has_tid(t))
			bad(&c, "thread flag on a record without a thread");
		else if (!*last_tid)
			bad(&c, "record repeats the previous thread but none precedes it");
		tid = *last_tid;
	} else if (has_tid(t)) {
		get_int(&c, 1, INT_MAX, &tid, "thread id out of range");
	}
	ev->tid = (pid_t)tid;
	if (!c.bad && !c.d.err)
		dec_body(&c, ev);
	if (!c.bad && !c.d.err && td_left(&c.d) && !lenient)
		snprintf(msg, msglen, "%zu unexpected bytes at the end of a %s record",
			 td_left(&c.d), trace_type_name(ev->type));
	else if (c.bad || c.d.err)
		snprintf(msg, msglen, "%s record: %s", trace_type_name(ev->type),
			 c.bad ? c.bad : c.d.err);
	else {
		if (has_tid(t))
			*last_tid = ev->tid;
		if (t == TR_CHECKPOINT)
			*last_tid = 0;
		return TRACE__DEC_OK;
	}
	return -EBADMSG;
}

const char *trace_type_name(enum trace_type t)
{
	static const char *const names[TR__COUNT] = {
		[TR_SYSCALL] = "syscall", [TR_SIGNAL] = "signal", [TR_SCHED] = "sched",
		[TR_RDTSC] = "rdtsc", [TR_MMAP] = "mmap", [TR_TASK] = "task",
		[TR_CHECKPOINT] = "checkpoint", [TR_META] = "meta", [TR_END] = "end",
		[TR_SYSBUF] = "sysbuf",
	};
	return (unsigned)t < TR__COUNT && names[t] ? names[t] : "?";
}
