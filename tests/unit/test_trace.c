/* The trace format: round trips, truncation, corruption, versions, dump. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "replay/systable.h"
#include "replay/trace.h"
#include "replay/trace_codec.h"

static char tmpdir[64];

static void mktmp(void)
{
	strcpy(tmpdir, "/tmp/rewind-trace-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	log_levels[LM_REPLAY] = LOG_ERROR;   /* expected corruption is logged at info */
}

static void rmtmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	char *buf;
	cr_assert_eq(read_file(path, &buf, len), 0, "read %s", path);
	return (uint8_t *)buf;
}

/* ---- sample events, one of every type ---- */

static const uint8_t ts16[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const char hello[] = "hello";
static const struct trace_piece read_pieces[] = {
	{ .arg = 1, .len = 5, .data = (const uint8_t *)hello },
	{ .arg = -1, .addr = 0x7ffe0010, .len = 16, .data = ts16 },
};
static const char *const argv_s[] = { "/bin/prog", "-x", "arg with space" };
static const char *const env_s[] = { "PATH=/usr/bin", "HOME=/root" };
static const uint64_t auxv_s[] = { 6, 4096, 25, 0x7ffe1234, 0, 0 };

static struct trace_ev sample(int i)
{
	struct trace_ev ev = { .tid = 4242 };
	switch (i) {
	case 0:
		ev.type = TR_META;
		ev.tid = 0;
		ev.meta = (struct trace_meta){ .pid = 4242, .argv = argv_s, .argc = 3, .env = env_s,
			.envc = 2, .cwd = "/home/u", .exe = "/bin/prog",
			.maps = "00400000-00401000 r-xp 00000000 08:01 12 /bin/prog\n",
			.auxv = auxv_s, .nauxv = 3, .have_cpu = true, .cpu = 0 };
		break;
	case 1:
		ev.type = TR_SYSCALL;
		ev.sys = (struct trace_syscall){ .nr = SYS_read, .args = { 0, 0x7ffe0000, 4096 },
			.ret = 5, .pieces = read_pieces, .npieces = 2 };
		break;
	case 2:
		ev.type = TR_SYSCALL;
		ev.sys = (struct trace_syscall){ .nr = SYS_openat,
			.args = { (uint64_t)-100, 0x4a0000, 0x80000 }, .ret = -2,
			.flags = TRS_AGENT };
		break;
	case 3:
		ev.type = TR_SIGNAL;
		ev.sig = (struct trace_signal){ .signo = 2, .pos = { 0x401234, 3, 0xfeedfacecafe } };
		ev.sig.siginfo[0] = 2;
		ev.sig.siginfo[16] = 0x10;   /* si_pid = 16 */
		break;
	case 4:
		ev.type = TR_SCHED;
		ev.sched = (struct trace_sched){ .to = 4243, .reason = TRSCHED_PREEMPT,
			.pos = { 0x401300, 7, 0x1234 } };
		break;
	case 5:
		ev.tid = 4243;
		ev.type = TR_RDTSC;
		ev.tsc = (struct trace_rdtsc){ .value = 0x123456789abc, .pc = 0x401400 };
		break;
	case 6:
		ev.tid = 4243;
		ev.type = TR_RDTSC;
		ev.tsc = (struct trace_rdtsc){ .value = 1, .pc = 0x401410, .rdtscp = true, .aux = 3 };
		break;
	case 7:
		ev.type = TR_MMAP;
		ev.mmap = (struct trace_mmap){ .addr = 0, .len = 8192, .prot = 5, .flags = 0x802,
			.fd = 3, .offset = 4096, .ret = 0x7ffff7dd0000, .file = "files/libc.so.6-0123" };
		break;
	case 8:
		ev.type = TR_TASK;
		ev.task = (struct trace_task){ .kind = TRT_CLONE, .other = 4244, .flags = 0x3d0f00,
			.path = "" };
		break;
	case 9:
		ev.type = TR_TASK;
		ev.task = (struct trace_task){ .kind = TRT_EXEC, .other = 4243, .path = "/bin/ls" };
		break;
	case 10:
		ev.type = TR_CHECKPOINT;
		ev.tid = 0;
		ev.ckpt = (struct trace_checkpoint){ .id = 3, .event = 9, .name = "before" };
		break;
	case 11:
		ev.type = TR_SYSCALL;
		ev.sys = (struct trace_syscall){ .nr = SYS_getpid, .ret = 4242 };
		break;
	case 12:
		ev.type = TR_TASK;
		ev.tid = 4244;
		ev.task = (struct trace_task){ .kind = TRT_EXIT, .status = 0x0900, .path = "" };
		break;
	case 13:
		ev.type = TR_END;
		ev.tid = 0;
		ev.end = (struct trace_end){ .status = 0x0100, .events = 13 };
		break;
	}
	return ev;
}
#define NSAMPLE 14

static void expect_same(const struct trace_ev *a, const struct trace_ev *b)
{
	cr_assert_eq(a->type, b->type, "type %d vs %d", a->type, b->type);
	cr_expect_eq(a->tid, b->tid, "%s tid", trace_type_name(a->type));
	switch (a->type) {
	case TR_SYSCALL:
		cr_expect_eq(a->sys.nr, b->sys.nr);
		cr_expect_arr_eq(a->sys.args, b->sys.args, sizeof a->sys.args);
		cr_expect_eq(a->sys.ret, b->sys.ret);
		cr_expect_eq(a->sys.flags, b->sys.flags);
		cr_assert_eq(a->sys.npieces, b->sys.npieces);
		for (size_t i = 0; i < a->sys.npieces; i++) {
			const struct trace_piece *p = &a->sys.pieces[i], *q = &b->sys.pieces[i];
			cr_expect_eq(p->arg, q->arg);
			cr_expect_eq(p->arg >= 0 ? a->sys.args[p->arg] : p->addr, q->addr);
			cr_assert_eq(p->len, q->len);
			cr_expect_arr_eq(p->data, q->data, p->len);
		}
		break;
	case TR_SIGNAL:
		cr_expect_eq(a->sig.signo, b->sig.signo);
		cr_expect_eq(a->sig.flags, b->sig.flags);
		cr_expect_arr_eq(a->sig.siginfo, b->sig.siginfo, 128);
		cr_expect_arr_eq(&a->sig.pos, &b->sig.pos, sizeof a->sig.pos);
		break;
	case TR_SCHED:
		cr_expect_eq(a->sched.to, b->sched.to);
		cr_expect_eq(a->sched.reason, b->sched.reason);
		cr_expect_arr_eq(&a->sched.pos, &b->sched.pos, sizeof a->sched.pos);
		break;
	case TR_RDTSC:
		cr_expect(a->tsc.value == b->tsc.value && a->tsc.pc == b->tsc.pc &&
			  a->tsc.rdtscp == b->tsc.rdtscp && a->tsc.aux == b->tsc.aux);
		break;
	case TR_MMAP:
		cr_expect(a->mmap.addr == b->mmap.addr && a->mmap.len == b->mmap.len &&
			  a->mmap.prot == b->mmap.prot && a->mmap.flags == b->mmap.flags &&
			  a->mmap.fd == b->mmap.fd && a->mmap.offset == b->mmap.offset &&
			  a->mmap.ret == b->mmap.ret);
		cr_expect_str_eq(a->mmap.file, b->mmap.file);
		break;
	case TR_TASK:
		cr_expect(a->task.kind == b->task.kind && a->task.other == b->task.other &&
			  a->task.flags == b->task.flags && a->task.status == b->task.status);
		cr_expect_str_eq(a->task.path, b->task.path);
		break;
	case TR_CHECKPOINT:
		cr_expect(a->ckpt.id == b->ckpt.id && a->ckpt.event == b->ckpt.event);
		cr_expect_str_eq(a->ckpt.name, b->ckpt.name);
		break;
	case TR_META:
		cr_expect_eq(a->meta.pid, b->meta.pid);
		cr_assert_eq(a->meta.argc, b->meta.argc);
		for (size_t i = 0; i < a->meta.argc; i++)
			cr_expect_str_eq(a->meta.argv[i], b->meta.argv[i]);
		cr_assert_eq(a->meta.envc, b->meta.envc);
		for (size_t i = 0; i < a->meta.envc; i++)
			cr_expect_str_eq(a->meta.env[i], b->meta.env[i]);
		cr_expect_str_eq(a->meta.cwd, b->meta.cwd);
		cr_expect_str_eq(a->meta.exe, b->meta.exe);
		cr_expect_str_eq(a->meta.maps, b->meta.maps);
		cr_assert_eq(a->meta.nauxv, b->meta.nauxv);
		cr_expect_arr_eq(a->meta.auxv, b->meta.auxv, 16 * a->meta.nauxv);
		cr_expect_eq(a->meta.have_cpu, b->meta.have_cpu);
		cr_expect_eq(a->meta.cpu, b->meta.cpu);
		break;
	case TR_END:
		cr_expect(a->end.status == b->end.status && a->end.flags == b->end.flags &&
			  a->end.events == b->end.events);
		break;
	default:
		cr_assert_fail("unexpected type");
	}
}

/* Write the samples; offs[i] is the file offset of record i, offs[n] the end. */
static char *write_samples(const char *name, int n, uint64_t *offs)
{
	char *path = tpath(name);
	struct trace_writer *w;
	struct trace_info info = { .rewind_version = "0.1.0-test", .created_ns = 1700000000ull * 1000000000ull };
	cr_assert_eq(trace_writer_create(path, &info, &w), 0);
	for (int i = 0; i < n; i++) {
		struct trace_ev ev = sample(i);
		uint64_t rec;
		if (offs)
			offs[i] = trace_writer_offset(w);
		cr_assert_eq(trace_write(w, &ev, &rec), 0, "sample %d", i);
		cr_expect_eq(rec, (uint64_t)i);
	}
	if (offs)
		offs[n] = trace_writer_offset(w);
	cr_expect_eq(trace_writer_count(w), (uint64_t)n);
	cr_assert_eq(trace_writer_close(w), 0);
	return path;
}

TestSuite(trace, .init = mktmp, .fini = rmtmp);

Test(trace, crc32c_known_values)
{
	cr_expect_eq(trace__crc32c(0, "123456789", 9), 0xe3069283);
	cr_expect_eq(trace__crc32c_sw(0, "123456789", 9), 0xe3069283);
	cr_expect_eq(trace__crc32c(0, "", 0), 0);
	uint8_t buf[1024];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len < 300; len += 13)
			cr_expect_eq(trace__crc32c(0, buf + off, len), trace__crc32c_sw(0, buf + off, len));
	/* Continuation: crc(a ++ b) = crc(b, starting from crc(a)). */
	cr_expect_eq(trace__crc32c(trace__crc32c(0, buf, 100), buf + 100, 200),
		     trace__crc32c(0, buf, 300));
}

Test(trace, varints)
{
	static const uint64_t u[] = { 0, 1, 127, 128, 300, 16383, 16384, 1ull << 35,
				      1ull << 63, UINT64_MAX };
	static const int64_t s[] = { 0, -1, 1, -64, 64, -100, INT64_MIN, INT64_MAX };
	struct tbuf b = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(u); i++)
		tb_varint(&b, u[i]);
	for (size_t i = 0; i < ARRAY_SIZE(s); i++)
		tb_svarint(&b, s[i]);
	struct tdec d = { b.v, b.v + b.n, NULL };
	for (size_t i = 0; i < ARRAY_SIZE(u); i++) {
		uint64_t v;
		cr_assert(td_varint(&d, &v));
		cr_expect_eq(v, u[i]);
		cr_expect_eq(trace__varint_len(u[i]), i < 3 ? 1 : trace__varint_len(u[i]));
	}
	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		int64_t v;
		cr_assert(td_svarint(&d, &v));
		cr_expect_eq(v, s[i]);
	}
	cr_expect_eq(td_left(&d), 0);
	cr_expect_eq(trace__varint_len(UINT64_MAX), 10);
	/* Malformed: an 11-byte number, a 10th byte above 1, input ending mid-number. */
	static const uint8_t eleven[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					    0x80, 0 };
	static const uint8_t big[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2 };
	uint64_t v;
	d = (struct tdec){ eleven, eleven + 11, NULL };
	cr_expect(!td_varint(&d, &v) && d.err);
	d = (struct tdec){ big, big + 10, NULL };
	cr_expect(!td_varint(&d, &v) && d.err);
	d = (struct tdec){ big, big + 3, NULL };
	cr_expect(!td_varint(&d, &v) && d.err);
	free(b.v);
}

Test(trace, round_trip_every_record_type)
{
	char *path = write_samples("t", NSAMPLE, NULL);
	struct trace_reader *r;
	struct trace_error err;
	cr_assert_eq(trace_reader_open(path, &r, &err), 0, "%s", err.msg);
	const struct trace_info *info = trace_reader_info(r);
	cr_expect_eq(info->major, TRACE_VERSION_MAJOR);
	cr_expect_eq(info->minor, TRACE_VERSION_MINOR);
	cr_expect_str_eq(info->rewind_version, "0.1.0-test");
	cr_expect_eq(info->created_ns, 1700000000ull * 1000000000ull);
	cr_expect_str_eq(info->machine, "x86_64");
	cr_expect_gt(strlen(info->kernel), 0);
	for (int i = 0; i < NSAMPLE; i++) {
		struct trace_ev want = sample(i), got;
		cr_assert_eq(trace_next(r, &got), 1, "record %d: %s", i, trace_reader_error(r)->msg);
		cr_expect_eq(got.num, (uint64_t)i);
		expect_same(&want, &got);
	}
	struct trace_ev ev;
	cr_expect_eq(trace_next(r, &ev), 0);
	cr_expect_eq(trace_next(r, &ev), 0, "the end is sticky");
	trace_reader_close(r);
	free(path);
}

/* A record repeating the previous thread omits its id; a checkpoint resets the
 * context so that reading can start right after it. */
Test(trace, thread_context_and_seek_after_checkpoint)
{
	uint64_t offs[NSAMPLE + 1];
	char *path = write_samples("t", NSAMPLE, offs);
	size_t len;
	uint8_t *buf = slurp(path, &len);
	cr_expect(buf[offs[2]] & TRACE__SAME_TID, "openat repeats read's thread");
	cr_expect(!(buf[offs[1]] & TRACE__SAME_TID), "read names its thread");
	cr_expect(!(buf[offs[11]] & TRACE__SAME_TID), "first record after a checkpoint");
	struct trace_reader *r;
	cr_assert_eq(trace_reader_mem(buf, len, &r, NULL), 0);
	cr_expect_eq(trace_reader_seek(r, 3, 0), -EINVAL, "inside the header");
	cr_assert_eq(trace_reader_seek(r, offs[11], 11), 0);
	struct trace_ev ev;
	cr_assert_eq(trace_next(r, &ev), 1);
	cr_expect_eq(ev.num, 11);
	cr_expect_eq(ev.off, offs[11]);
	struct trace_ev want = sample(11);
	expect_same(&want, &ev);
	trace_reader_close(r);
	free(buf);
	free(path);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random values biased to edges: 0, small, large, all ones. */
static uint64_t rval(void)
{
	switch (rnd() % 6) {
	case 0: return 0;
	case 1: return rnd() % 200;
	case 2: return UINT64_MAX - rnd() % 5000;
	case 3: return 1ull << (rnd() % 64);
	default: return rnd();
	}
}

/* Any event the writer accepts comes back identical: random fields of every type. */
Test(trace, random_round_trip)
{
	static uint8_t blob[4096];
	static char strs[8][40];
	static const char *vec[8];
	static uint64_t aux[16];
	static struct trace_piece pieces[4000][4];
	static struct trace_ev evs[4000];
	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)rnd();
	for (int i = 0; i < 8; i++) {
		snprintf(strs[i], sizeof strs[i], "s%d\n\t\\%llx", i, (unsigned long long)rnd());
		vec[i] = strs[i];
	}
	for (int i = 0; i < 16; i++)
		aux[i] = rval();
	char *path = tpath("rand");
	struct trace_writer *w;
	cr_assert_eq(trace_writer_create(path, NULL, &w), 0);
	int n = 0;
	while (n < 4000) {
		struct trace_ev ev = { .type = 1 + rnd() % (TR__COUNT - 1),
				       .tid = 1 + (pid_t)(rnd() % 3) * (pid_t)(rnd() % 5000000) };
		switch (ev.type) {
		case TR_SYSCALL: {
			ev.sys.nr = (int)(rnd() % 480);
			for (int a = 0; a < 6; a++)
				ev.sys.args[a] = rval();
			ev.sys.ret = (int64_t)rval();
			ev.sys.flags = (uint32_t)(rnd() % 4);
			const struct sc_entry *e = sc_get(ev.sys.nr);
			unsigned nargs = e ? e->nargs : 6;
			for (unsigned a = nargs; a < 6; a++)
				ev.sys.args[a] = 0;   /* not stored: read back as 0 */
			size_t np = rnd() % 4;
			for (size_t k = 0; k < np; k++) {
				int arg = (int)(rnd() % 7) - 1;
				if (arg >= (int)nargs || (arg >= 0 && !ev.sys.args[arg]))
					arg = -1;
				uint32_t len = (uint32_t)(rnd() % 300);
				pieces[n][k] = (struct trace_piece){ .arg = arg, .addr = arg < 0 ? rval() : 0,
					.len = len, .data = blob + rnd() % (sizeof blob - 300) };
			}
			ev.sys.pieces = pieces[n];
			ev.sys.npieces = np;
			break;
		}
		case TR_SIGNAL:
			ev.sig.signo = 1 + (int)(rnd() % 64);
			ev.sig.flags = (uint32_t)rval();
			for (int k = 0; k < 128; k++)
				ev.sig.siginfo[k] = rnd() % 3 ? 0 : (uint8_t)rnd();
			ev.sig.pos = (struct trace_pos){ rval(), rval(), rval() };
			break;
		case TR_SCHED:
			ev.sched = (struct trace_sched){ .to = 1 + (pid_t)(rnd() % 100000),
				.reason = (uint32_t)rval(), .pos = { rval(), rval(), rval() } };
			break;
		case TR_RDTSC:
			ev.tsc = (struct trace_rdtsc){ .value = rval(), .pc = rval(), .rdtscp = rnd() % 2 };
			ev.tsc.aux = ev.tsc.rdtscp ? (uint32_t)rval() : 0;
			break;
		case TR_MMAP:
			ev.mmap = (struct trace_mmap){ rval(), rval(), rval(), rval(), rval(),
				(int)(int32_t)rval(), (int64_t)rval(), vec[rnd() % 8] };
			break;
		case TR_TASK:
			ev.task = (struct trace_task){ .kind = TRT_FORK + (uint32_t)(rnd() % 5),
				.other = (pid_t)(rnd() % 100000), .flags = rval(),
				.status = (int64_t)rval(), .path = vec[rnd() % 8] };
			break;
		case TR_CHECKPOINT:
			ev.tid = 0;
			ev.ckpt = (struct trace_checkpoint){ rval(), rval(), vec[rnd() % 8] };
			break;
		case TR_META:
			ev.tid = 0;
			ev.meta = (struct trace_meta){ .pid = (pid_t)(rnd() % 100000), .argv = vec,
				.argc = rnd() % 9, .env = vec, .envc = rnd() % 9, .cwd = vec[0],
				.exe = vec[1], .maps = vec[2], .auxv = aux, .nauxv = rnd() % 9 };
			ev.meta.have_cpu = rnd() % 2;
			ev.meta.cpu = ev.meta.have_cpu ? (unsigned)(rnd() % 300) : 0;
			break;
		case TR_END:
			continue;   /* only at the end */
		case TR_SYSBUF:
			continue;   /* records of their own format: test_sysbuf.c */
		default:
			break;
		}
		evs[n] = ev;
		cr_assert_eq(trace_write(w, &ev, NULL), 0, "event %d (%s)", n, trace_type_name(ev.type));
		n++;
	}
	cr_assert_eq(trace_writer_close(w), 0);
	struct trace_reader *r;
	cr_assert_eq(trace_reader_open(path, &r, NULL), 0);
	for (int i = 0; i < n; i++) {
		struct trace_ev got;
		cr_assert_eq(trace_next(r, &got), 1, "event %d: %s", i, trace_reader_error(r)->msg);
		expect_same(&evs[i], &got);
	}
	trace_reader_close(r);
	free(path);
}

/* Cut the file at every byte: the reader returns exactly the complete records, then
 * stops at the first incomplete one with its offset and number. */
Test(trace, truncation_at_every_offset)
{
	uint64_t offs[NSAMPLE + 1];
	char *path = write_samples("t", NSAMPLE, offs);
	size_t len;
	uint8_t *buf = slurp(path, &len);
	cr_assert_eq(len, offs[NSAMPLE]);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = xmalloc(cut + 1);   /* exactly cut bytes are readable */
		memcpy(copy, buf, cut);
		struct trace_reader *r;
		struct trace_error err;
		int e = trace_reader_mem(copy, cut, &r, &err);
		if (cut < offs[0]) {
			cr_expect_eq(e, -EBADMSG, "cut %zu inside the header", cut);
			free(copy);
			continue;
		}
		cr_assert_eq(e, 0, "cut %zu: %s", cut, err.msg);
		int complete = 0;
		while (complete < NSAMPLE && offs[complete + 1] <= cut)
			complete++;
		struct trace_ev ev;
		int got = 0, rc;
		while ((rc = trace_next(r, &ev)) == 1)
			got++;
		cr_expect_eq(got, complete, "cut %zu: %d events, want %d", cut, got, complete);
		const struct trace_error *te = trace_reader_error(r);
		cr_expect_eq(te->off, offs[complete], "cut %zu: stopped at %llu", cut,
			     (unsigned long long)te->off);
		cr_expect_eq(te->recno, (uint64_t)complete);
		if (cut == offs[complete]) {
			cr_expect_eq(rc, -ENODATA, "cut %zu at a boundary", cut);
			cr_expect(strstr(te->msg, "without an end record"), "%s", te->msg);
		} else {
			cr_expect_eq(rc, -EBADMSG, "cut %zu", cut);
			cr_expect(strstr(te->msg, "exceeds the file") || strstr(te->msg, "truncated"),
				  "cut %zu: %s", cut, te->msg);
		}
		cr_expect_eq(trace_next(r, &ev), rc, "errors repeat");
		trace_reader_close(r);
		free(copy);
	}
	free(buf);
	free(path);
}

/* Flip each bit of every record byte: the checksum (or a bounds check) stops the
 * reader at that record; nothing before it changes. */
Test(trace, bit_flips_are_caught)
{
	uint64_t offs[NSAMPLE + 1];
	char *path = write_samples("t", NSAMPLE, offs);
	size_t len;
	uint8_t *buf = slurp(path, &len);
	for (size_t at = 0; at < len; at++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[at] ^= (uint8_t)(1u << bit);
			struct trace_reader *r;
			int e = trace_reader_mem(buf, len, &r, NULL);
			if (at < offs[0]) {
				/* The header: its checksum, magic or version refuses it. */
				cr_expect_neq(e, 0, "flip in the header at %zu bit %d", at, bit);
				if (!e)
					trace_reader_close(r);
				buf[at] ^= (uint8_t)(1u << bit);
				continue;
			}
			cr_assert_eq(e, 0);
			int rec = 0;
			while (offs[rec + 1] <= at)
				rec++;
			struct trace_ev ev;
			int got = 0, rc;
			while ((rc = trace_next(r, &ev)) == 1)
				got++;
			cr_expect_eq(rc, -EBADMSG, "flip at %zu bit %d", at, bit);
			cr_expect_eq(got, rec, "flip at %zu bit %d: %d events", at, bit, got);
			cr_expect_eq(trace_reader_error(r)->off, offs[rec]);
			trace_reader_close(r);
			buf[at] ^= (uint8_t)(1u << bit);
		}
	}
	free(buf);
	free(path);
}

/* Build a trace by hand: header with a chosen version, then raw records. */
static void raw_header(struct tbuf *b, unsigned major, unsigned minor)
{
	tb_bytes(b, TRACE_MAGIC, 8);
	tb_le(b, major, 2);
	tb_le(b, minor, 2);
	tb_le(b, 0, 4);
	tb_le(b, 0, 8);
	tb_le(b, 0, 4);
	for (int i = 0; i < 4; i++)
		tb_str(b, "x");
	uint32_t hl = (uint32_t)b->n + 4;
	memcpy(b->v + 12, &hl, 4);
	tb_le(b, trace__crc32c(0, b->v, b->n), 4);
}

static void raw_record(struct tbuf *b, uint8_t type, const void *payload, size_t n,
		       uint64_t fake_len)
{
	size_t start = b->n;
	tb_u8(b, type);
	tb_varint(b, fake_len ? fake_len : n);
	tb_bytes(b, payload, n);
	tb_le(b, trace__crc32c(0, b->v + start, b->n - start), 4);
}

static int read_all(struct tbuf *b, int *events, const struct trace_error **err,
		    struct trace_reader **rp)
{
	struct trace_reader *r;
	static struct trace_error herr;
	int e = trace_reader_mem(b->v, b->n, &r, &herr);
	*err = &herr;
	*events = 0;
	if (e)
		return e;
	struct trace_ev ev;
	while ((e = trace_next(r, &ev)) == 1)
		(*events)++;
	*err = trace_reader_error(r);
	*rp = r;
	return e;
}

Test(trace, versions_refused_and_tolerated)
{
	struct tbuf b = { 0 };
	const struct trace_error *err;
	struct trace_reader *r = NULL;
	int n;
	raw_header(&b, 2, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EPROTONOSUPPORT);
	cr_expect(strstr(err->msg, "2.0") && strstr(err->msg, "1.x") &&
		  strstr(err->msg, "newer"), "%s", err->msg);
	b.n = 0;
	raw_header(&b, 0, 9);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EPROTONOSUPPORT);
	/* Same major, newer minor: an unknown record type and an extra field are skipped. */
	uint8_t end[] = { 0, 0, 1 };   /* status 0, flags 0, events 1 */
	uint8_t end_extra[] = { 0, 0, 1, 42, 43 };
	b.n = 0;
	raw_header(&b, 1, TRACE_VERSION_MINOR + 1);
	raw_record(&b, 77, "future", 6, 0);
	raw_record(&b, TR_END, end_extra, sizeof end_extra, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), 0, "%s", err->msg);
	cr_expect_eq(n, 1);
	trace_reader_close(r);
	/* This minor version: both are corruption. */
	b.n = 0;
	raw_header(&b, 1, TRACE_VERSION_MINOR);
	raw_record(&b, 77, "future", 6, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect(strstr(err->msg, "unknown record type 77"), "%s", err->msg);
	trace_reader_close(r);
	b.n = 0;
	raw_header(&b, 1, TRACE_VERSION_MINOR);
	raw_record(&b, TR_END, end_extra, sizeof end_extra, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect(strstr(err->msg, "2 unexpected bytes"), "%s", err->msg);
	trace_reader_close(r);
	b.n = 0;
	raw_header(&b, 1, TRACE_VERSION_MINOR);
	end[2] = 0;
	raw_record(&b, TR_END, end, sizeof end, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), 0);
	trace_reader_close(r);
	free(b.v);
}

Test(trace, hostile_lengths_and_fields)
{
	struct tbuf b = { 0 };
	const struct trace_error *err;
	struct trace_reader *r;
	int n;
	raw_header(&b, 1, 0);
	size_t hdr = b.n;
	raw_record(&b, TR_SYSCALL, "\x01\x27\x00\x00", 4, 4294967295u);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect(strstr(err->msg, "length 4294967295 exceeds the file"), "%s", err->msg);
	cr_expect_eq(err->off, hdr);
	trace_reader_close(r);
	static const struct { const char *payload; size_t n; const char *why; } bad[] = {
		{ "\x00\x27\x00\x00", 4, "thread id out of range" },
		{ "\x01\x27\x40\x00\xff\xff\xff\x0f", 8, "more pieces than bytes" },
		{ "\x01\x27\x40\x00\x01\x01\x01", 7, "argument that is not stored" },
		{ "\x01\x27\x40\x00\x01\x07\x01", 7, "past 6" },
		{ "\x01\x27\x40\x00\x01\x00\x05\x7f", 8, "longer than its record" },
		{ "\x01\x27\x00", 3, "ends inside" },
		{ "\x01\x27\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 14, "does not fit" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		b.n = hdr;
		raw_record(&b, TR_SYSCALL, bad[i].payload, bad[i].n, 0);
		cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG, "case %zu", i);
		cr_expect(strstr(err->msg, bad[i].why), "case %zu: %s", i, err->msg);
		trace_reader_close(r);
	}
	/* A same-thread flag with no thread before it; signals out of range. */
	b.n = hdr;
	raw_record(&b, TR_SYSCALL | TRACE__SAME_TID, "\x27\x00\x00", 3, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect(strstr(err->msg, "none precedes"), "%s", err->msg);
	trace_reader_close(r);
	b.n = hdr;
	raw_record(&b, TR_SIGNAL, "\x01\x41\x00\x00\x00\x00", 6, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect(strstr(err->msg, "signal number"), "%s", err->msg);
	trace_reader_close(r);
	/* Bytes after the end record; an end record counting the wrong number. */
	b.n = hdr;
	raw_record(&b, TR_END, "\x00\x00\x00", 3, 0);
	tb_bytes(&b, "junk", 4);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect_eq(n, 1);
	cr_expect(strstr(err->msg, "4 bytes after the end record"), "%s", err->msg);
	trace_reader_close(r);
	b.n = hdr;
	raw_record(&b, TR_END, "\x00\x00\x05", 3, 0);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect(strstr(err->msg, "counts 5 events"), "%s", err->msg);
	trace_reader_close(r);
	/* Not a trace at all. */
	b.n = 0;
	tb_bytes(&b, "ELF\x7f this is not a trace at all, but long enough", 48);
	cr_expect_eq(read_all(&b, &n, &err, &r), -EBADMSG);
	cr_expect(strstr(err->msg, "bad magic"), "%s", err->msg);
	free(b.v);
}

Test(trace, writer_refuses_malformed_events)
{
	log_levels[LM_REPLAY] = -1;   /* the refusals are logged */
	char *path = tpath("w");
	struct trace_writer *w;
	cr_assert_eq(trace_writer_create(path, NULL, &w), 0);
	struct trace_writer *w2;
	cr_expect_eq(trace_writer_create(path, NULL, &w2), -EEXIST);
	struct trace_ev ev = sample(1);
	ev.tid = 0;
	cr_expect_eq(trace_write(w, &ev, NULL), -EINVAL, "syscall without a thread");
	ev = sample(1);
	struct trace_piece p = { .arg = 0, .len = 1, .data = (const uint8_t *)"x" };
	ev.sys.pieces = &p;
	ev.sys.npieces = 1;   /* args[0] is 0: not stored, cannot be named */
	cr_expect_eq(trace_write(w, &ev, NULL), -EINVAL);
	ev.type = 99;
	cr_expect_eq(trace_write(w, &ev, NULL), -EINVAL);
	ev = sample(3);
	ev.sig.signo = 65;
	cr_expect_eq(trace_write(w, &ev, NULL), -EINVAL, "signal 65");
	ev = sample(8);
	ev.task.kind = 0;
	cr_expect_eq(trace_write(w, &ev, NULL), -EINVAL, "task kind 0");
	ev = sample(11);
	cr_expect_eq(trace_write(w, &ev, NULL), 0, "errors are not sticky");
	ev = sample(13);
	ev.end.events = 77;   /* the writer puts the true count */
	cr_expect_eq(trace_write(w, &ev, NULL), 0);
	cr_assert_eq(trace_writer_close(w), 0);
	struct trace_reader *r;
	cr_assert_eq(trace_reader_open(path, &r, NULL), 0);
	cr_expect_eq(trace_next(r, &ev), 1);
	cr_expect_eq(ev.type, TR_SYSCALL);
	cr_expect_eq(ev.tid, 4242, "the failed writes left no thread context behind");
	cr_expect_eq(trace_next(r, &ev), 1);
	cr_expect_eq(ev.type, TR_END);
	cr_expect_eq(ev.end.events, 1);
	cr_expect_eq(trace_next(r, &ev), 0);
	trace_reader_close(r);
	free(path);
}

/* The benchmark counts bytes per recorded syscall: keep the common ones small. */
Test(trace, compact_syscall_records)
{
	char *path = tpath("c");
	struct trace_writer *w;
	cr_assert_eq(trace_writer_create(path, NULL, &w), 0);
	uint64_t start = trace_writer_offset(w);
	struct trace_ev ev = { .type = TR_SYSCALL, .tid = 31337 };
	ev.sys = (struct trace_syscall){ .nr = SYS_getppid, .ret = 31336 };
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(trace_write(w, &ev, NULL), 0);
	uint64_t mid = trace_writer_offset(w);
	struct trace_piece ts = { .arg = 1, .len = 16, .data = ts16 };
	ev.sys = (struct trace_syscall){ .nr = SYS_clock_gettime, .args = { 1, 0x7ffe3a10c8e0 },
					 .pieces = &ts, .npieces = 1 };
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(trace_write(w, &ev, NULL), 0);
	uint64_t end = trace_writer_offset(w);
	cr_assert_eq(trace_writer_close(w), 0);
	double per_getppid = (double)(mid - start) / 1000, per_clock = (double)(end - mid) / 1000;
	/* getppid: type, length, number, mask, a 3-byte pid, CRC; the thread id only in
	 * the first record. clock_gettime adds two arguments and a 16-byte piece. */
	cr_expect_leq(per_getppid, 11.01, "getppid record: %.3f bytes", per_getppid);
	cr_expect_leq(per_clock, 37.01, "clock_gettime record: %.3f bytes", per_clock);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq((uint64_t)st.st_size, end);
	free(path);
}

Test(trace, big_records_and_flushing)
{
	char *path = tpath("big");
	struct trace_writer *w;
	cr_assert_eq(trace_writer_create(path, NULL, &w), 0);
	size_t n = 300000;
	uint8_t *data = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 31);
	struct trace_piece p = { .arg = 1, .len = (uint32_t)n, .data = data };
	struct trace_ev small = sample(11), big = { .type = TR_SYSCALL, .tid = 9 };
	big.sys = (struct trace_syscall){ .nr = SYS_read, .args = { 3, 0x10000, n }, .ret = (int64_t)n,
					  .pieces = &p, .npieces = 1 };
	cr_assert_eq(trace_write(w, &small, NULL), 0);
	cr_assert_eq(trace_write(w, &big, NULL), 0);
	cr_assert_eq(trace_write(w, &small, NULL), 0);
	cr_assert_eq(trace_writer_flush(w), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq((uint64_t)st.st_size, trace_writer_offset(w), "flush wrote everything");
	cr_assert_eq(trace_writer_close(w), 0);
	struct trace_reader *r;
	cr_assert_eq(trace_reader_open(path, &r, NULL), 0);
	struct trace_ev ev;
	cr_assert_eq(trace_next(r, &ev), 1);
	expect_same(&small, &ev);
	cr_assert_eq(trace_next(r, &ev), 1);
	expect_same(&big, &ev);
	cr_assert_eq(trace_next(r, &ev), 1);
	expect_same(&small, &ev);
	cr_expect_eq(trace_next(r, &ev), -ENODATA);
	trace_reader_close(r);
	free(data);
	free(path);
}

/* exit() flushes open writers; a crash (_exit) loses only the buffered tail, and
 * what is on disk ends at a record boundary. */
Test(trace, flush_at_exit)
{
	for (int crash = 0; crash < 2; crash++) {
		char *path = tpath(crash ? "crash" : "exit");
		pid_t pid = fork();
		if (pid == 0) {
			struct trace_writer *w;
			int e = trace_writer_create(path, NULL, &w);
			free(path);
			if (e)
				_exit(3);
			for (int i = 0; i < 100; i++) {
				struct trace_ev ev = sample(i % 3 ? 1 : 11);
				trace_write(w, &ev, NULL);
			}
			if (crash)
				_exit(0);
			exit(0);
		}
		int st;
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		struct trace_reader *r;
		cr_assert_eq(trace_reader_open(path, &r, NULL), 0);
		struct trace_ev ev;
		int n = 0, rc;
		while ((rc = trace_next(r, &ev)) == 1)
			n++;
		cr_expect_eq(rc, -ENODATA, "ends at a record boundary");
		cr_expect_eq(n, crash ? 0 : 100, "crash %d: %d records", crash, n);
		trace_reader_close(r);
		free(path);
	}
}

Test(trace, dump_lines)
{
	char *path = write_samples("t", NSAMPLE, NULL);
	struct trace_reader *r;
	cr_assert_eq(trace_reader_open(path, &r, NULL), 0);
	struct sbuf o = { 0 };
	trace_dump_info(&o, trace_reader_info(r));
	char *head = xasprintf("format: %d.%d\ncreated: 2023-11-14 22:13:20 UTC\n"
			       "rewind: 0.1.0-test\nkernel: ", TRACE_VERSION_MAJOR, TRACE_VERSION_MINOR);
	cr_expect(!strncmp(sbuf_str(&o), head, strlen(head)), "%s", sbuf_str(&o));
	free(head);
	sbuf_reset(&o);
	cr_expect_eq(trace_dump(r, &o, 0), 0);
	const char *want =
		"#0 meta pid 4242 argv [\"/bin/prog\", \"-x\", \"arg with space\"] cwd \"/home/u\" "
		"exe \"/bin/prog\" env 2 vars, maps 51 bytes, auxv 3 entries, cpu 0\n"
		"#1 tid 4242 read(0, 0x7ffe0000, 4096) = 5 [arg1: 5 bytes \"hello\", 0x7ffe0010: "
		"16 bytes \"\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\x0d\\x0e\\x0f\\x10\"]\n"
		"#2 tid 4242 openat(-100, 0x4a0000, 0x80000, 0) = -1 ENOENT (agent)\n"
		"#3 tid 4242 SIGINT code 0 from pid 16 uid 0 at pc 0x401234 k 3 regs 0000feedfacecafe\n"
		"#4 tid 4242 sched -> 4243 (preempt) at pc 0x401300 k 7 regs 0000000000001234\n"
		"#5 tid 4243 rdtsc = 0x123456789abc at pc 0x401400\n"
		"#6 tid 4243 rdtscp = 0x1 aux 3 at pc 0x401410\n"
		"#7 tid 4242 mmap(0, 8192, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_DENYWRITE, 3, 0x1000) "
		"= 0x7ffff7dd0000 file \"files/libc.so.6-0123\"\n"
		"#8 tid 4242 clone -> thread 4244 flags 0x3d0f00\n"
		"#9 tid 4242 exec \"/bin/ls\" (former tid 4243)\n"
		"#10 checkpoint 3 \"before\" at event 9\n"
		"#11 tid 4242 getpid() = 4242\n"
		"#12 tid 4244 exit: exited 9\n"
		"#13 end: exited 1\n"
		"end of trace\n";
	cr_expect_str_eq(sbuf_str(&o), want);
	trace_reader_close(r);

	/* A damaged trace: the dump shows what is good, then why it stops. */
	size_t len;
	uint8_t *buf = slurp(path, &len);
	cr_assert_eq(trace_reader_mem(buf, len - 3, &r, NULL), 0);
	sbuf_reset(&o);
	cr_expect_eq(trace_dump(r, &o, 0), -EBADMSG);
	const char *last = strstr(sbuf_str(&o), "#12 ");
	cr_assert_not_null(last);
	cr_expect(strstr(last, "\ntrace stops: record 13 at offset "), "%s", last);
	cr_expect(strstr(last, "exceeds the file"), "%s", last);
	trace_reader_close(r);
	/* max stops early. */
	cr_assert_eq(trace_reader_mem(buf, len, &r, NULL), 0);
	sbuf_reset(&o);
	cr_expect_eq(trace_dump(r, &o, 2), 1);
	cr_expect(strstr(sbuf_str(&o), "#1 ") && !strstr(sbuf_str(&o), "#2 "));
	trace_reader_close(r);
	sbuf_free(&o);
	free(buf);
	free(path);
}
