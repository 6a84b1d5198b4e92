/* recording: in-memory branches of reference-counted events (see recording.h). */
#include "replay/recording.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* One shared event: the reference count sits in front of the copied trace_ev. */
struct rec_event {
	unsigned refs;
	size_t bytes;
	struct trace_ev ev;   /* followed by its pieces, data and strings */
};

struct rec_branch {
	unsigned refs;
	unsigned id;
	uint64_t bytes;
	VEC(struct rec_event *) ev;
};

/* ---- deep copy ---- */

struct arena {
	char *p, *end;
};

static void *take(struct arena *a, size_t n, size_t align)
{
	uintptr_t at = ((uintptr_t)a->p + align - 1) & ~(uintptr_t)(align - 1);
	a->p = (char *)at + n;
	if (a->p > a->end)
		abort();   /* var_size() undercounted: a bug, never tracee input */
	return (void *)at;
}

static const char *take_str(struct arena *a, const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *d = take(a, n, 1);
	memcpy(d, s ? s : "", n);
	return d;
}

static const char *const *take_strv(struct arena *a, const char *const *v, size_t n)
{
	const char **d = take(a, n * sizeof *d, 8);
	for (size_t i = 0; i < n; i++)
		d[i] = take_str(a, v[i]);
	return d;
}

static size_t strv_size(const char *const *v, size_t n)
{
	size_t s = n * sizeof(char *) + 8;
	for (size_t i = 0; i < n; i++)
		s += strlen(v[i] ? v[i] : "") + 1;
	return s;
}

/* Bytes the variable part of ev needs (with alignment slack), or 0 if malformed. */
static size_t var_size(const struct trace_ev *ev)
{
	size_t s = 16;
	switch (ev->type) {
	case TR_SYSCALL:
		if (ev->sys.npieces && !ev->sys.pieces)
			return 0;
		s += ev->sys.npieces * sizeof(struct trace_piece) + 8;
		for (size_t i = 0; i < ev->sys.npieces; i++) {
			if (ev->sys.pieces[i].len && !ev->sys.pieces[i].data)
				return 0;
			s += ev->sys.pieces[i].len;
		}
		return s;
	case TR_SYSBUF:
		if (ev->sbuf.len && !ev->sbuf.data)
			return 0;
		return s + ev->sbuf.len;
	case TR_MMAP:
		return s + strlen(ev->mmap.file ? ev->mmap.file : "") + 1;
	case TR_TASK:
		return s + strlen(ev->task.path ? ev->task.path : "") + 1;
	case TR_CHECKPOINT:
		return s + strlen(ev->ckpt.name ? ev->ckpt.name : "") + 1;
	case TR_META:
		if ((ev->meta.argc && !ev->meta.argv) || (ev->meta.envc && !ev->meta.env) ||
		    (ev->meta.nauxv && !ev->meta.auxv))
			return 0;
		s += strv_size(ev->meta.argv, ev->meta.argc) + strv_size(ev->meta.env, ev->meta.envc);
		s += strlen(ev->meta.cwd ? ev->meta.cwd : "") + strlen(ev->meta.exe ? ev->meta.exe : "");
		s += strlen(ev->meta.maps ? ev->meta.maps : "") + 3;
		return s + ev->meta.nauxv * 16 + 8;
	default:
		return s;
	}
}

static void copy_var(struct arena *a, struct trace_ev *d, const struct trace_ev *ev)
{
	switch (ev->type) {
	case TR_SYSCALL: {
		struct trace_piece *p = take(a, ev->sys.npieces * sizeof *p, 8);
		for (size_t i = 0; i < ev->sys.npieces; i++) {
			p[i] = ev->sys.pieces[i];
			uint8_t *data = take(a, p[i].len, 1);
			if (p[i].len)
				memcpy(data, ev->sys.pieces[i].data, p[i].len);
			p[i].data = data;
		}
		d->sys.pieces = ev->sys.npieces ? p : NULL;
		break;
	}
	case TR_SYSBUF: {
		uint8_t *data = take(a, ev->sbuf.len, 8);
		if (ev->sbuf.len)
			memcpy(data, ev->sbuf.data, ev->sbuf.len);
		d->sbuf.data = data;
		break;
	}
	case TR_MMAP:
		d->mmap.file = take_str(a, ev->mmap.file);
		break;
	case TR_TASK:
		d->task.path = take_str(a, ev->task.path);
		break;
	case TR_CHECKPOINT:
		d->ckpt.name = take_str(a, ev->ckpt.name);
		break;
	case TR_META: {
		d->meta.argv = take_strv(a, ev->meta.argv, ev->meta.argc);
		d->meta.env = take_strv(a, ev->meta.env, ev->meta.envc);
		d->meta.cwd = take_str(a, ev->meta.cwd);
		d->meta.exe = take_str(a, ev->meta.exe);
		d->meta.maps = take_str(a, ev->meta.maps);
		uint64_t *aux = take(a, ev->meta.nauxv * 16, 8);
		if (ev->meta.nauxv)
			memcpy(aux, ev->meta.auxv, ev->meta.nauxv * 16);
		d->meta.auxv = aux;
		break;
	}
	default:
		break;
	}
}

/* A block holding ev's copy at offset ev_off, its variable part after it; *total
 * gets the block size. */
static void *dup_into(const struct trace_ev *ev, size_t ev_off, size_t *total,
		      struct trace_ev **evp)
{
	if ((unsigned)ev->type == 0 || ev->type >= TR__COUNT)
		return NULL;
	size_t vs = var_size(ev);
	if (!vs)
		return NULL;
	size_t hdr = ev_off + sizeof(struct trace_ev);
	*total = hdr + vs;
	char *blk = xmalloc(*total);
	struct trace_ev *d = (struct trace_ev *)(blk + ev_off);
	*d = *ev;
	struct arena a = { blk + hdr, blk + *total };
	copy_var(&a, d, ev);
	*evp = d;
	return blk;
}

struct trace_ev *rec_ev_dup(const struct trace_ev *ev)
{
	size_t total;
	struct trace_ev *d;
	void *blk = dup_into(ev, 0, &total, &d);
	return blk ? d : NULL;
}

/* ---- branches ---- */

struct rec_branch *rec_branch_new(unsigned id)
{
	struct rec_branch *b = xcalloc(1, sizeof *b);
	b->refs = 1;
	b->id = id;
	return b;
}

struct rec_branch *rec_branch_fork(const struct rec_branch *b, uint64_t upto, unsigned id)
{
	struct rec_branch *n = rec_branch_new(id);
	if (upto > b->ev.n)
		upto = b->ev.n;
	n->ev.cap = upto ? upto : 8;
	n->ev.v = xmalloc(n->ev.cap * sizeof *n->ev.v);
	for (uint64_t i = 0; i < upto; i++) {
		struct rec_event *e = b->ev.v[i];
		e->refs++;
		n->ev.v[i] = e;
		n->bytes += e->bytes;
	}
	n->ev.n = upto;
	return n;
}

struct rec_branch *rec_branch_ref(struct rec_branch *b)
{
	b->refs++;
	return b;
}

static void event_unref(struct rec_event *e)
{
	if (--e->refs == 0)
		free(e);
}

void rec_branch_truncate(struct rec_branch *b, uint64_t n)
{
	while (b->ev.n > n) {
		struct rec_event *e = b->ev.v[--b->ev.n];
		b->bytes -= e->bytes;
		event_unref(e);
	}
}

void rec_branch_unref(struct rec_branch *b)
{
	if (!b || --b->refs)
		return;
	rec_branch_truncate(b, 0);
	vec_free(&b->ev);
	free(b);
}

unsigned rec_branch_id(const struct rec_branch *b)
{
	return b->id;
}

uint64_t rec_branch_len(const struct rec_branch *b)
{
	return b->ev.n;
}

uint64_t rec_branch_bytes(const struct rec_branch *b)
{
	return b->bytes;
}

const struct trace_ev *rec_branch_get(const struct rec_branch *b, uint64_t i)
{
	return i < b->ev.n ? &b->ev.v[i]->ev : NULL;
}

int rec_branch_append(struct rec_branch *b, const struct trace_ev *ev)
{
	size_t total;
	struct trace_ev *d;
	struct rec_event *e = dup_into(ev, offsetof(struct rec_event, ev), &total, &d);
	if (!e)
		return -EINVAL;
	e->refs = 1;
	e->bytes = total;
	d->num = b->ev.n;
	d->off = b->ev.n;
	vec_push(&b->ev, e);
	b->bytes += total;
	return 0;
}
