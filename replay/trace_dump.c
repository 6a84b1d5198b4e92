/* trace_dump: one readable line per event, for `rewind dump DIR`. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "replay/systable.h"
#include "replay/trace.h"
#include "replay/sysbuf.h"

#define PREVIEW 16

/* A string with C escapes, cut after max bytes ("..."). */
static void quoted(struct sbuf *o, const uint8_t *s, size_t n, size_t max)
{
	sbuf_putc(o, '"');
	for (size_t i = 0; i < n && i < max; i++) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\')
			sbuf_printf(o, "\\%c", c);
		else if (c == '\n')
			sbuf_puts(o, "\\n");
		else if (c == '\t')
			sbuf_puts(o, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			sbuf_printf(o, "\\x%02x", c);
		else
			sbuf_putc(o, (char)c);
	}
	sbuf_putc(o, '"');
	if (n > max)
		sbuf_puts(o, "...");
}

static void qstr(struct sbuf *o, const char *s, size_t max)
{
	quoted(o, (const uint8_t *)s, strlen(s), max);
}

/* Small and slightly negative numbers in decimal, the rest (addresses) in hex. */
static void num(struct sbuf *o, uint64_t v)
{
	int64_t s = (int64_t)v;
	if (s >= -4096 && s <= 65535)
		sbuf_printf(o, "%lld", (long long)s);
	else
		sbuf_printf(o, "%#llx", (unsigned long long)v);
}

static void result(struct sbuf *o, int64_t r)
{
	if (r < 0 && r >= -4095) {
		const char *name = strerrorname_np((int)-r);
		if (name)
			sbuf_printf(o, "-1 %s", name);
		else
			sbuf_printf(o, "-1 errno %lld", (long long)-r);
	} else {
		num(o, (uint64_t)r);
	}
}

static void signame(struct sbuf *o, int sig)
{
	const char *a = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;
	if (a)
		sbuf_printf(o, "SIG%s", a);
	else
		sbuf_printf(o, "signal %d", sig);
}

static void wstatus(struct sbuf *o, int64_t st)
{
	int s = (int)st;
	if (WIFEXITED(s)) {
		sbuf_printf(o, "exited %d", WEXITSTATUS(s));
	} else if (WIFSIGNALED(s)) {
		sbuf_puts(o, "killed by ");
		signame(o, WTERMSIG(s));
		if (WCOREDUMP(s))
			sbuf_puts(o, " (core dumped)");
	} else {
		sbuf_printf(o, "status %#x", s);
	}
}

struct flagname {
	uint64_t bit;
	const char *name;
};

static void flags(struct sbuf *o, uint64_t v, const struct flagname *t, size_t n,
		  const char *none)
{
	bool any = false;
	for (size_t i = 0; i < n; i++)
		if (t[i].bit && (v & t[i].bit) == t[i].bit) {
			sbuf_printf(o, "%s%s", any ? "|" : "", t[i].name);
			v &= ~t[i].bit;
			any = true;
		}
	if (v)
		sbuf_printf(o, "%s%#llx", any ? "|" : "", (unsigned long long)v);
	else if (!any)
		sbuf_puts(o, none);
}

static void pos(struct sbuf *o, const struct trace_pos *p)
{
	sbuf_printf(o, " at pc %#llx k %llu regs %016llx", (unsigned long long)p->pc,
		    (unsigned long long)p->k, (unsigned long long)p->reghash);
}

static void dump_syscall(struct sbuf *o, const struct trace_syscall *s)
{
	const struct sc_entry *e = sc_get(s->nr);
	unsigned nargs = e ? e->nargs : 6;
	if (e)
		sbuf_printf(o, "%s(", e->name);
	else
		sbuf_printf(o, "syscall_%d(", s->nr);
	for (unsigned i = 0; i < nargs; i++) {
		if (i)
			sbuf_puts(o, ", ");
		num(o, s->args[i]);
	}
	sbuf_puts(o, ") = ");
	result(o, s->ret);
	for (size_t i = 0; i < s->npieces; i++) {
		const struct trace_piece *p = &s->pieces[i];
		sbuf_puts(o, i ? ", " : " [");
		if (p->arg >= 0)
			sbuf_printf(o, "arg%d", p->arg);
		else
			sbuf_printf(o, "%#llx", (unsigned long long)p->addr);
		sbuf_printf(o, ": %u byte%s ", p->len, p->len == 1 ? "" : "s");
		quoted(o, p->data, p->len, PREVIEW);
	}
	if (s->npieces)
		sbuf_putc(o, ']');
	if (s->flags & TRS_AGENT)
		sbuf_puts(o, " (agent)");
	if (s->flags & TRS_INTERRUPTED)
		sbuf_puts(o, " (interrupted)");
}

static void dump_mmap(struct sbuf *o, const struct trace_mmap *m)
{
	static const struct flagname prot[] = {
		{ PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" }, { PROT_EXEC, "PROT_EXEC" },
	}, mf[] = {
		{ MAP_SHARED, "MAP_SHARED" }, { MAP_PRIVATE, "MAP_PRIVATE" },
		{ MAP_FIXED, "MAP_FIXED" }, { MAP_ANONYMOUS, "MAP_ANONYMOUS" },
		{ MAP_DENYWRITE, "MAP_DENYWRITE" }, { MAP_NORESERVE, "MAP_NORESERVE" },
		{ MAP_POPULATE, "MAP_POPULATE" }, { MAP_STACK, "MAP_STACK" },
		{ MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
	};
	sbuf_puts(o, "mmap(");
	num(o, m->addr);
	sbuf_printf(o, ", %llu, ", (unsigned long long)m->len);
	flags(o, m->prot, prot, ARRAY_SIZE(prot), "PROT_NONE");
	sbuf_puts(o, ", ");
	flags(o, m->flags, mf, ARRAY_SIZE(mf), "0");
	sbuf_printf(o, ", %d, %#llx) = ", m->fd, (unsigned long long)m->offset);
	result(o, m->ret);
	if (m->file && *m->file) {
		sbuf_puts(o, " file ");
		qstr(o, m->file, 200);
	}
}

static void dump_task(struct sbuf *o, const struct trace_task *t)
{
	switch (t->kind) {
	case TRT_FORK:
	case TRT_VFORK:
		sbuf_printf(o, "%s -> process %d", t->kind == TRT_FORK ? "fork" : "vfork", t->other);
		break;
	case TRT_CLONE:
		sbuf_printf(o, "clone -> thread %d flags %#llx", t->other,
			    (unsigned long long)t->flags);
		break;
	case TRT_EXEC:
		sbuf_puts(o, "exec ");
		qstr(o, t->path, 200);
		if (t->other)
			sbuf_printf(o, " (former tid %d)", t->other);
		break;
	case TRT_EXIT:
		sbuf_puts(o, "exit: ");
		wstatus(o, t->status);
		break;
	default:
		sbuf_printf(o, "task event %u", t->kind);
	}
}

static void dump_meta(struct sbuf *o, const struct trace_meta *m)
{
	sbuf_printf(o, "meta pid %d argv [", m->pid);
	for (size_t i = 0; i < m->argc; i++) {
		if (i)
			sbuf_puts(o, ", ");
		qstr(o, m->argv[i], 60);
	}
	sbuf_puts(o, "] cwd ");
	qstr(o, m->cwd, 200);
	sbuf_puts(o, " exe ");
	qstr(o, m->exe, 200);
	sbuf_printf(o, " env %zu vars, maps %zu bytes, auxv %zu entries", m->envc,
		    strlen(m->maps), m->nauxv);
	if (m->have_cpu)
		sbuf_printf(o, ", cpu %u", m->cpu);
}

/* The agent's calls, one per line under the record's ("  call 12: read(...) = 8"). */
static void dump_sysbuf(struct sbuf *o, const struct trace_sysbuf *b)
{
	sbuf_printf(o, "sysbuf: %u call%s from %llu", b->count, b->count == 1 ? "" : "s",
		    (unsigned long long)b->first_seq);
	size_t off = 0;
	struct sb_call c;
	while (sb_parse(b->data, b->len, &off, &c) > 0) {
		struct trace_syscall s;
		sb_call_as_syscall(&c, &s);
		sbuf_printf(o, "\n    call %llu: ", (unsigned long long)c.seq);
		dump_syscall(o, &s);
	}
}

void trace_dump_ev(struct sbuf *o, const struct trace_ev *ev)
{
	sbuf_printf(o, "#%llu ", (unsigned long long)ev->num);
	if (ev->tid)
		sbuf_printf(o, "tid %d ", ev->tid);
	switch (ev->type) {
	case TR_SYSCALL:
		dump_syscall(o, &ev->sys);
		break;
	case TR_SIGNAL: {
		int code, pid, uid;
		memcpy(&code, ev->sig.siginfo + 8, 4);
		signame(o, ev->sig.signo);
		sbuf_printf(o, " code %d", code);
		if (code == 0 || code == -1 || code == -3 || code == -6) {
			/* SI_USER, SI_QUEUE, SI_MESGQ, SI_TKILL: sent by a process */
			memcpy(&pid, ev->sig.siginfo + 16, 4);
			memcpy(&uid, ev->sig.siginfo + 20, 4);
			sbuf_printf(o, " from pid %d uid %d", pid, uid);
		}
		if (ev->sig.flags & TRSIG_SYNC)
			sbuf_puts(o, " sync");
		pos(o, &ev->sig.pos);
		break;
	}
	case TR_SCHED: {
		static const char *const why[] = { "?", "preempt", "block", "yield", "exit" };
		sbuf_printf(o, "sched -> %d (%s)", ev->sched.to,
			    ev->sched.reason < 5 ? why[ev->sched.reason] : "?");
		pos(o, &ev->sched.pos);
		break;
	}
	case TR_RDTSC:
		sbuf_printf(o, "%s = %#llx", ev->tsc.rdtscp ? "rdtscp" : "rdtsc",
			    (unsigned long long)ev->tsc.value);
		if (ev->tsc.rdtscp)
			sbuf_printf(o, " aux %u", ev->tsc.aux);
		sbuf_printf(o, " at pc %#llx", (unsigned long long)ev->tsc.pc);
		break;
	case TR_MMAP:
		dump_mmap(o, &ev->mmap);
		break;
	case TR_TASK:
		dump_task(o, &ev->task);
		break;
	case TR_CHECKPOINT:
		sbuf_printf(o, "checkpoint %llu", (unsigned long long)ev->ckpt.id);
		if (*ev->ckpt.name) {
			sbuf_putc(o, ' ');
			qstr(o, ev->ckpt.name, 60);
		}
		sbuf_printf(o, " at event %llu", (unsigned long long)ev->ckpt.event);
		break;
	case TR_META:
		dump_meta(o, &ev->meta);
		break;
	case TR_SYSBUF:
		dump_sysbuf(o, &ev->sbuf);
		break;
	case TR_END:
		sbuf_puts(o, "end: ");
		wstatus(o, ev->end.status);
		if (ev->end.flags & TRE_ABORTED)
			sbuf_puts(o, " (recording aborted)");
		break;
	default:
		sbuf_printf(o, "record type %d", ev->type);
	}
	sbuf_putc(o, '\n');
}

void trace_dump_info(struct sbuf *o, const struct trace_info *info)
{
	char when[64] = "?";
	time_t t = (time_t)(info->created_ns / 1000000000u);
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	sbuf_printf(o, "format: %u.%u\ncreated: %s\nrewind: %s\nkernel: %s\nhost: %s\n"
		    "machine: %s\n", info->major, info->minor, when, info->rewind_version,
		    info->kernel, info->host, info->machine);
}

int trace_dump(struct trace_reader *r, struct sbuf *o, uint64_t max)
{
	struct trace_ev ev;
	uint64_t n = 0;
	int e;
	while ((e = trace_next(r, &ev)) == 1) {
		trace_dump_ev(o, &ev);
		if (max && ++n >= max)
			return 1;
	}
	if (e == 0)
		sbuf_puts(o, "end of trace\n");
	else
		sbuf_printf(o, "trace stops: %s\n", trace_reader_error(r)->msg);
	return e;
}
