/* The agent's buffer records as rewind reads them (replay/sysbuf_fmt.c) and as the
 * trace keeps them (SYSBUF events): well-formed ones come back whole, damaged ones
 * are refused wherever they come from (a tracee's memory or a trace file). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/agent/agent_abi.h"
#include "replay/sysbuf.h"
#include "replay/trace.h"
#include "replay/trace_codec.h"

/* Append one record as the agent writes it: nargs arguments, pieces of the given
 * lengths (bytes 0, 1, 2...). Returns the new length. */
static size_t put_rec(uint8_t *buf, size_t at, uint64_t seq, int nr, unsigned nargs,
		      unsigned npieces, const uint32_t *lens)
{
	struct rwsb_rec r = { .nr = (uint16_t)nr, .nargs = (uint8_t)nargs,
			      .npieces = (uint8_t)npieces, .ret = (int64_t)seq * 3, .seq = seq };
	size_t p = at + sizeof r;
	for (unsigned i = 0; i < nargs; i++) {
		uint64_t a = 0x1000 * (i + 1) + seq;
		memcpy(buf + p, &a, 8);
		p += 8;
	}
	for (unsigned i = 0; i < npieces; i++) {
		struct rwsb_piece pc = { .addr = 0x7ffe0000 + 64 * i, .len = lens[i] };
		memcpy(buf + p, &pc, sizeof pc);
		p += sizeof pc;
		for (uint32_t k = 0; k < lens[i]; k++)
			buf[p + k] = (uint8_t)k;
		size_t padded = (lens[i] + 7u) & ~7u;
		memset(buf + p + lens[i], 0, padded - lens[i]);
		p += padded;
	}
	r.size = (uint32_t)(p - at);
	memcpy(buf + at, &r, sizeof r);
	return p;
}

static uint8_t buf[1 << 16];

Test(sysbuf, parses_what_the_agent_writes)
{
	uint32_t ts = 16, two[2] = { 16, 8 }, odd = 5;
	size_t n = put_rec(buf, 0, 7, SYS_clock_gettime, 2, 1, &ts);
	n = put_rec(buf, n, 8, SYS_gettimeofday, 2, 2, two);
	n = put_rec(buf, n, 9, SYS_preadv2, 6, 1, &odd);
	n = put_rec(buf, n, 10, SYS_time, 1, 0, NULL);
	size_t off = 0;
	struct sb_call c;
	cr_assert_eq(sb_parse(buf, n, &off, &c), 1);
	cr_expect(c.seq == 7 && c.nr == SYS_clock_gettime && c.nargs == 2 && c.ret == 21);
	cr_expect_eq(c.args[0], 0x1007u);
	cr_expect_eq(c.args[1], 0x2007u);
	cr_assert_eq(c.npieces, 1);
	cr_expect(c.pieces[0].arg == -1 && c.pieces[0].addr == 0x7ffe0000 && c.pieces[0].len == 16);
	cr_expect_eq(c.pieces[0].data[15], 15);
	cr_assert_eq(sb_parse(buf, n, &off, &c), 1);
	cr_expect(c.seq == 8 && c.npieces == 2 && c.pieces[1].len == 8 && c.pieces[1].addr == 0x7ffe0040);
	cr_assert_eq(sb_parse(buf, n, &off, &c), 1);
	cr_expect(c.seq == 9 && c.nargs == 6 && c.args[5] == 0x6009 && c.pieces[0].len == 5);
	cr_expect_eq(c.pieces[0].data[4], 4);
	cr_assert_eq(sb_parse(buf, n, &off, &c), 1);
	cr_expect(c.seq == 10 && c.npieces == 0 && c.nargs == 1);
	cr_expect_eq(sb_parse(buf, n, &off, &c), 0, "the end");
	cr_expect_eq(off, n);
	cr_expect_null(sb_check(buf, n, 7, 4));
	cr_expect_not_null(sb_check(buf, n, 6, 4), "numbered from 7, not 6");
	cr_expect_not_null(sb_check(buf, n, 7, 3), "four calls, not three");
	cr_expect_not_null(sb_check(buf, n, 7, 5), "four calls, not five");
}

/* Each way a record can lie about its size is refused, never read past. */
Test(sysbuf, refuses_damaged_records)
{
	uint32_t ts = 16;
	size_t n = put_rec(buf, 0, 1, SYS_clock_gettime, 2, 1, &ts);
	struct sb_call c;
	size_t off = 0;
	for (size_t cut = 1; cut < n; cut++) {
		off = 0;
		cr_expect_eq(sb_parse(buf, cut, &off, &c), -EINVAL, "cut at %zu", cut);
		cr_expect_eq(off, 0u);
	}
	struct rwsb_rec r;
	memcpy(&r, buf, sizeof r);
	static const struct { uint32_t size; uint8_t nargs, npieces; const char *what; } bad[] = {
		{ 0, 2, 1, "size 0" }, { 12, 2, 1, "size not a multiple of 8" },
		{ 8, 2, 1, "size below the header" }, { 0xfffffff8u, 2, 1, "size past the end" },
		{ 1, 7, 1, "7 arguments" }, { 1, 2, 3, "3 pieces" },
		{ 1, 2, 0, "a piece left over" }, { 1, 6, 1, "arguments eat the piece" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t copy[256];
		memcpy(copy, buf, n);
		struct rwsb_rec d = r;
		d.size = bad[i].size == 1 ? r.size : bad[i].size;   /* 1: unchanged */
		d.nargs = bad[i].nargs;
		d.npieces = bad[i].npieces;
		memcpy(copy, &d, sizeof d);
		off = 0;
		cr_expect_eq(sb_parse(copy, n, &off, &c), -EINVAL, "%s", bad[i].what);
	}
	/* A piece longer than its record. */
	uint8_t copy[256];
	memcpy(copy, buf, n);
	struct rwsb_piece pc;
	size_t at = sizeof r + 16;
	memcpy(&pc, copy + at, sizeof pc);
	pc.len = 0xffffffffu;
	memcpy(copy + at, &pc, sizeof pc);
	off = 0;
	cr_expect_eq(sb_parse(copy, n, &off, &c), -EINVAL, "a piece of 4 GiB");
}

static char *tpath(const char *what)
{
	static char p[128];
	snprintf(p, sizeof p, "/tmp/rewind-test-sysbuf-%d-%s", (int)getpid(), what);
	unlink(p);
	return p;
}

/* A SYSBUF event goes to a trace file and comes back byte for byte; the writer
 * refuses one whose records do not match its header. */
Test(sysbuf, trace_round_trip)
{
	uint32_t ts = 16, rd = 8;
	size_t n = 0;
	for (uint64_t s = 100; s < 400; s++)
		n = put_rec(buf, n, s, s % 2 ? SYS_clock_gettime : SYS_preadv2, s % 2 ? 2 : 6, 1,
			    s % 2 ? &ts : &rd);
	char *path = tpath("rt");
	struct trace_writer *w;
	cr_assert_eq(trace_writer_create(path, NULL, &w), 0);
	struct trace_ev ev = { .type = TR_SYSBUF, .tid = 42 };
	ev.sbuf = (struct trace_sysbuf){ .first_seq = 100, .count = 300, .len = (uint32_t)n, .data = buf };
	cr_assert_eq(trace_write(w, &ev, NULL), 0);
	struct trace_ev badev = ev;
	badev.sbuf.count = 299;
	cr_expect_eq(trace_write(w, &badev, NULL), -EINVAL, "count off by one");
	badev = ev;
	badev.sbuf.first_seq = 101;
	cr_expect_eq(trace_write(w, &badev, NULL), -EINVAL, "numbering off by one");
	badev = ev;
	badev.sbuf.len = (uint32_t)n - 8;
	cr_expect_eq(trace_write(w, &badev, NULL), -EINVAL, "cut short");
	struct trace_ev end = { .type = TR_END };
	cr_assert_eq(trace_write(w, &end, NULL), 0);
	cr_assert_eq(trace_writer_close(w), 0);
	struct trace_reader *r;
	cr_assert_eq(trace_reader_open(path, &r, NULL), 0);
	struct trace_ev got;
	cr_assert_eq(trace_next(r, &got), 1, "%s", trace_reader_error(r)->msg);
	cr_assert_eq(got.type, TR_SYSBUF);
	cr_expect_eq(got.tid, 42);
	cr_expect(got.sbuf.first_seq == 100 && got.sbuf.count == 300 && got.sbuf.len == n);
	cr_expect_arr_eq(got.sbuf.data, buf, n);
	cr_expect_eq(trace_next(r, &got), 1);
	cr_expect_eq(got.type, TR_END);
	trace_reader_close(r);
	unlink(path);
}

/* A SYSBUF payload whose records were changed (its checksum made to match: a
 * corrupt or hostile file) is refused by the decoder with the reason. */
Test(sysbuf, damaged_payload_refused)
{
	uint32_t ts = 16;
	size_t half = put_rec(buf, 0, 1, SYS_clock_gettime, 2, 1, &ts);
	size_t n = put_rec(buf, half, 2, SYS_clock_gettime, 2, 1, &ts);
	struct trace_ev ev = { .type = TR_SYSBUF, .tid = 5 };
	ev.sbuf = (struct trace_sysbuf){ .first_seq = 1, .count = 2, .len = (uint32_t)n, .data = buf };
	static const struct { size_t at; uint8_t val; const char *why; } dmg[] = {
		{ 16, 3, "out of sequence" },          /* the second record's seq: 1, 3 */
		{ 0, 0xf0, "malformed" },              /* its size */
		{ 6, 9, "malformed" },                 /* its argument count */
	};
	for (size_t i = 0; i < sizeof dmg / sizeof dmg[0]; i++) {
		pid_t last = 0;
		struct tbuf p = { 0 };
		int type = trace__encode(&ev, &last, &p);
		cr_assert_gt(type, 0);
		/* The blob is the payload's tail: the second record starts n - half from its end. */
		p.v[p.n - (n - half) + dmg[i].at] = dmg[i].val;
		struct tscratch sc = { 0 };
		struct trace_ev got;
		char msg[240] = "";
		last = 0;
		int x = trace__decode((uint8_t)type, p.v, p.n, &last, false, &sc, &got, msg, sizeof msg);
		cr_expect_eq(x, -EBADMSG, "%s", dmg[i].why);
		cr_expect(strstr(msg, dmg[i].why), "%s: %s", dmg[i].why, msg);
		trace__scratch_free(&sc);
		free(p.v);
	}
}
