/* Fuzz the trace reader. Each input is read three ways: as a whole file; as the
 * records after a valid header, with every record's checksum fixed up so the
 * payload decoders see the mutations; and the same under a newer minor version
 * (lenient decoding). Properties: no crash; every event lies inside the input, in
 * order, with its out-buffers inside the input; the reader ends with 0, -EBADMSG
 * or -ENODATA and repeats it; the dump of every event is one line (a SYSBUF: one
 * more per buffered call); memory use is
 * bounded by a small multiple of the input size and nothing leaks (malloc is
 * interposed below to measure it, except under AddressSanitizer, which then
 * watches every read). */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "core/log.h"
#include "core/util.h"
#include "fuzz.h"
#include "replay/trace.h"
#include "replay/trace_codec.h"

#define FAIL(...) do { fprintf(stderr, "fuzz_trace: " __VA_ARGS__); fputc('\n', stderr); \
	return 1; } while (0)

/* ---- allocation accounting (glibc's allocator underneath) ----
 * Under AddressSanitizer its own allocator must stay in charge (it finds the
 * overreads): no interposition, and no accounting. */

static long long live, peak;

#ifdef __SANITIZE_ADDRESS__
static void *raw_malloc(size_t n) { return malloc(n); }
static void raw_free(void *p) { free(p); }
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static void *raw_malloc(size_t n) { return __libc_malloc(n); }
static void raw_free(void *p) { __libc_free(p); }

static void *count(void *p)
{
	if (p) {
		live += (long long)malloc_usable_size(p);
		if (live > peak)
			peak = live;
	}
	return p;
}

void *malloc(size_t n) { return count(__libc_malloc(n)); }
void *calloc(size_t n, size_t s) { return count(__libc_calloc(n, s)); }

void free(void *p)
{
	if (p)
		live -= (long long)malloc_usable_size(p);
	__libc_free(p);
}

void *realloc(void *p, size_t n)
{
	long long old = p ? (long long)malloc_usable_size(p) : 0;
	void *q = __libc_realloc(p, n);
	if (q || !n)
		live -= old;
	return count(q);
}
#endif

/* ---- building inputs ---- */

static void header(struct tbuf *b, unsigned minor)
{
	tb_bytes(b, TRACE_MAGIC, 8);
	tb_le(b, TRACE_VERSION_MAJOR, 2);
	tb_le(b, minor, 2);
	tb_le(b, 0, 4);
	tb_le(b, 1700000000ull * 1000000000ull, 8);
	tb_le(b, 0, 4);
	tb_str(b, "fuzz");
	tb_str(b, "6.18");
	tb_str(b, "host");
	tb_str(b, "x86_64");
	uint32_t hl = (uint32_t)b->n + 4;
	memcpy(b->v + 12, &hl, 4);
	tb_le(b, trace__crc32c(0, b->v, b->n), 4);
}

/* Recompute the checksum of every record whose framing fits. */
static void fix_crcs(uint8_t *p, size_t from, size_t n)
{
	size_t pos = from;
	while (pos < n) {
		struct tdec d = { p + pos + 1, p + n, NULL };
		uint64_t len;
		if (!td_varint(&d, &len))
			return;
		size_t hdr = (size_t)(d.p - (p + pos));
		if (len > n - pos - hdr || n - pos - hdr - len < 4)
			return;
		uint32_t crc = trace__crc32c(0, p + pos, hdr + (size_t)len);
		memcpy(p + pos + hdr + len, &crc, 4);
		pos += hdr + (size_t)len + 4;
	}
}

static int check_reader(const uint8_t *buf, size_t n)
{
	struct trace_reader *r;
	struct trace_error err = { 0 };
	int e = trace_reader_mem(buf, n, &r, &err);
	if (e) {
		if (e != -EBADMSG && e != -EPROTONOSUPPORT)
			FAIL("open returned %d", e);
		if (!err.msg[0])
			FAIL("open failed without a message");
		return 0;
	}
	struct trace_ev ev;
	struct sbuf line = { 0 };
	uint64_t last_off = 0, events = 0;
	int rc;
	while ((rc = trace_next(r, &ev)) == 1) {
		if (ev.off >= n || (events && ev.off <= last_off))
			FAIL("event at offset %llu out of order", (unsigned long long)ev.off);
		if (ev.type < 1 || ev.type >= TR__COUNT)
			FAIL("event of type %d", ev.type);
		if (ev.type == TR_SYSBUF && ev.sbuf.len &&
		    (ev.sbuf.data < buf || ev.sbuf.data + ev.sbuf.len > buf + n))
			FAIL("buffered calls outside the input");
		if (ev.type == TR_SYSCALL)
			for (size_t i = 0; i < ev.sys.npieces; i++) {
				const struct trace_piece *p = &ev.sys.pieces[i];
				if (p->len && (p->data < buf || p->data + p->len > buf + n))
					FAIL("piece outside the input");
			}
		last_off = ev.off;
		events++;
		sbuf_reset(&line);
		trace_dump_ev(&line, &ev);
		size_t nl = 0;
		for (size_t i = 0; i < line.len; i++)
			nl += line.s[i] == '\n';
		if (!line.len || line.s[line.len - 1] != '\n' || strlen(line.s) != line.len ||
		    nl != 1 + (ev.type == TR_SYSBUF ? ev.sbuf.count : 0))
			FAIL("dump is not one line (plus one per buffered call)");
	}
	sbuf_free(&line);
	if (rc != 0 && rc != -EBADMSG && rc != -ENODATA)
		FAIL("trace_next returned %d", rc);
	if (events > n / 6)
		FAIL("%llu events from %zu bytes", (unsigned long long)events, n);
	const struct trace_error *te = trace_reader_error(r);
	if (rc && (!te->msg[0] || te->off > n))
		FAIL("error without a message or past the input");
	if (trace_next(r, &ev) != rc)
		FAIL("the final result does not repeat");
	trace_reader_close(r);
	return 0;
}

static int run_bounded(const uint8_t *buf, size_t n)
{
	long long base = live;
	peak = live;
	int bad = check_reader(buf, n);
	if (bad)
		return bad;
	if (peak - base > 64 * (long long)n + 65536)
		FAIL("%lld bytes allocated for a %zu-byte input", peak - base, n);
	if (live != base)
		FAIL("%lld bytes leaked", live - base);
	return 0;
}

int fuzz_one(const uint8_t *data, size_t len)
{
	log_levels[LM_REPLAY] = LOG_ERROR;
	/* Exactly len readable bytes, so that overreads hit the allocator's guard. */
	uint8_t *copy = raw_malloc(len ? len : 1);
	memcpy(copy, data, len);
	int bad = run_bounded(copy, len);
	raw_free(copy);
	for (unsigned minor = TRACE_VERSION_MINOR; !bad && minor <= TRACE_VERSION_MINOR + 1; minor++) {
		struct tbuf b = { 0 };
		header(&b, minor);
		size_t first = b.n;
		tb_bytes(&b, data, len);
		fix_crcs(b.v, first, b.n);
		uint8_t *in = raw_malloc(b.n);
		memcpy(in, b.v, b.n);
		size_t n = b.n;
		free(b.v);
		bad = run_bounded(in, n);
		raw_free(in);
	}
	return bad;
}

/* ---- seeds: small valid traces (records only: fuzz_one adds the header) ---- */

static void frame(struct tbuf *out, const struct trace_ev *ev, pid_t *last_tid)
{
	struct tbuf p = { 0 };
	int type = trace__encode(ev, last_tid, &p);
	if (type < 0)
		abort();
	size_t start = out->n;
	tb_u8(out, (uint8_t)type);
	tb_varint(out, p.n);
	tb_bytes(out, p.v, p.n);
	tb_le(out, trace__crc32c(0, out->v + start, out->n - start), 4);
	free(p.v);
}

void fuzz_seeds(void (*add)(const uint8_t *data, size_t len))
{
	static const char *const argv[] = { "/bin/true", "--x" };
	static const uint64_t auxv[] = { 6, 4096, 0, 0 };
	static const uint8_t ts[16] = { 1, 2, 3, 4 };
	struct trace_piece pc[] = { { .arg = 1, .len = 16, .data = ts },
				    { .arg = -1, .addr = 0x1000, .len = 4, .data = ts } };
	/* Two buffered calls as the agent writes them (core/agent/agent_abi.h). */
	static const uint64_t sb[] = {
		/* size 64, nr 228, 2 args, 1 piece; ret 0; seq 5; args; piece at 0x1000, 8 bytes */
		64 | (228ull << 32) | (2ull << 48) | (1ull << 56), 0, 5, 1, 0x1000, 0x1000, 8, 42,
		/* size 32, nr 201, 1 arg, no piece; ret 77; seq 6; arg */
		32 | (201ull << 32) | (1ull << 48), 77, 6, 0,
	};
	struct trace_ev ev[] = {
		{ .type = TR_SYSBUF, .tid = 7, .sbuf = { .first_seq = 5, .count = 2, .len = sizeof sb,
							 .data = (const uint8_t *)sb } },
		{ .type = TR_META, .meta = { .pid = 7, .argv = argv, .argc = 2, .cwd = "/",
					     .exe = "/bin/true", .maps = "", .auxv = auxv, .nauxv = 2 } },
		{ .type = TR_SYSCALL, .tid = 7, .sys = { .nr = SYS_clock_gettime, .args = { 1, 0x7ffe0 },
							 .pieces = pc, .npieces = 2 } },
		{ .type = TR_SYSCALL, .tid = 7, .sys = { .nr = SYS_getpid, .ret = 7, .flags = TRS_AGENT } },
		{ .type = TR_SIGNAL, .tid = 7, .sig = { .signo = 11, .siginfo = { 11 },
							.pos = { 0x401000, 2, 99 } } },
		{ .type = TR_SCHED, .tid = 7, .sched = { .to = 8, .reason = 1 } },
		{ .type = TR_RDTSC, .tid = 8, .tsc = { .value = 12345, .pc = 0x401000, .rdtscp = true } },
		{ .type = TR_MMAP, .tid = 8, .mmap = { .len = 4096, .prot = 1, .flags = 2, .fd = 3,
						       .ret = 0x7f0000, .file = "files/a-1" } },
		{ .type = TR_TASK, .tid = 8, .task = { .kind = TRT_FORK, .other = 9, .path = "" } },
		{ .type = TR_CHECKPOINT, .ckpt = { .id = 1, .event = 7, .name = "c" } },
		{ .type = TR_TASK, .tid = 9, .task = { .kind = TRT_EXIT, .path = "" } },
		{ .type = TR_END, .end = { .events = 10 } },
	};
	struct tbuf all = { 0 };
	pid_t tid = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ev); i++) {
		struct tbuf one = { 0 };
		pid_t t1 = 0;
		frame(&one, &ev[i], &t1);
		add(one.v, one.n);
		free(one.v);
		frame(&all, &ev[i], &tid);
	}
	add(all.v, all.n);
	free(all.v);
}
