/* The gdb server's policy layer: canned packets, as gdb 13 sends them, against a live
 * session (tests/progs/loop and gdb_prog), over a socket pair in this process. Each
 * test plays gdb: it writes packets, lets the server handle them (gs_step), and reads
 * the replies. The wire layer has its own suites (test_rsp.c, test_rsp_tdesc.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/infsym.h"
#include "gdbplug/gdbserver.h"
#include "gdbplug/rsp_codec.h"
#include "gdbplug/tdesc.h"
#include "replay/record.h"

#ifndef PROGS_DIR
#define PROGS_DIR "."
#endif

struct gdb {
	struct session s;
	struct gdbserver *g;
	int fd;                 /* our end: we are gdb */
	char *reply;            /* the last reply, decoded (owned), NUL-terminated */
	size_t reply_len;       /* its length (it may hold NULs) */
	pid_t pid;
};

static void send_raw(struct gdb *d, const char *bytes, size_t n)
{
	cr_assert_eq(write(d->fd, bytes, n), (ssize_t)n);
}

static void send_pkt(struct gdb *d, const char *payload)
{
	char *f = xasprintf("$%s#%02x", payload, rsp_checksum(payload, strlen(payload)));
	send_raw(d, f, strlen(f));
	free(f);
}

/* The next packet the server sent (acks skipped, run-length encoding undone);
 * *len gets its length when len is not NULL. */
static char *recv_pkt_len(struct gdb *d, size_t *len)
{
	struct sbuf raw = { 0 };
	char ch;
	for (;;) {
		struct pollfd p = { d->fd, POLLIN, 0 };
		cr_assert_eq(poll(&p, 1, 20000), 1, "no reply from the server");
		cr_assert_eq(read(d->fd, &ch, 1), 1, "the server closed the connection");
		if (ch == '$')
			break;
	}
	for (;;) {
		cr_assert_eq(read(d->fd, &ch, 1), 1);
		if (ch == '#')
			break;
		sbuf_putc(&raw, ch);
	}
	char cs[2];
	cr_assert_eq(read(d->fd, cs, 2), 2);
	struct sbuf dec = { 0 };
	cr_assert_eq(rsp_rle_decode(raw.s ? raw.s : "", raw.len, &dec, 1 << 20), 0);
	sbuf_free(&raw);
	if (len)
		*len = dec.len;
	sbuf_putc(&dec, 0);
	return sbuf_steal(&dec);
}

static char *recv_pkt(struct gdb *d) { return recv_pkt_len(d, NULL); }

/* Send a packet, let the server answer, return the answer (kept in d->reply). */
static const char *rpc(struct gdb *d, const char *payload)
{
	send_pkt(d, payload);
	cr_assert_geq(gs_step(d->g, 0), 0);
	free(d->reply);
	d->reply = recv_pkt_len(d, &d->reply_len);
	return d->reply;
}

/* Launch prog (recording as the session does by default, unless record is false:
 * a recorded program cannot live on after detach) and connect a server to it. */
static void start_rec(struct gdb *d, const char *prog, const char *arg, const struct gs_opts *o,
		      bool record)
{
	memset(d, 0, sizeof *d);
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(session_init(&d->s), 0);
	infsym_install(&d->s.inf);
	if (!record)
		rec_set_enabled(d->s.rec, &d->s.inf, false);
	char *path = xasprintf("%s/%s", PROGS_DIR, prog);
	char *argv[] = { path, (char *)arg, NULL };
	inf_set_program(&d->s.inf, argv);
	free(path);
	struct sbuf err = { 0 };
	cr_assert_eq(session_launch(&d->s, &err), 0, "launch: %s", sbuf_str(&err));
	sbuf_free(&err);
	d->pid = d->s.inf.main->pid;
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	d->fd = sv[0];
	cr_assert_eq(gs_new(&d->s, sv[1], sv[1], o, &d->g), 0);
	send_raw(d, "+", 1);
	cr_assert_str_eq(rpc(d, "QStartNoAckMode"), "OK");
	rpc(d, "qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386");
}

static void start(struct gdb *d, const char *prog, const char *arg, const struct gs_opts *o)
{
	start_rec(d, prog, arg, o, true);
}

static void stop(struct gdb *d)
{
	gs_free(d->g);
	if (inf_alive(&d->s.inf))
		session_kill(&d->s);
	session_fini(&d->s);
	close(d->fd);
	free(d->reply);
}

/* The program's load address and a symbol's address in it (nm of the file). */
static uint64_t sym_addr(struct gdb *d, const char *prog, const char *name)
{
	char cmd[512], line[512], path[64];
	snprintf(cmd, sizeof cmd, "nm %s/%s", PROGS_DIR, prog);
	FILE *f = popen(cmd, "r");
	uint64_t off = 0;
	while (f && fgets(line, sizeof line, f)) {
		char n[256], t;
		unsigned long long v;
		if (sscanf(line, "%llx %c %255s", &v, &t, n) == 3 && !strcmp(n, name))
			off = v;
	}
	if (f)
		pclose(f);
	cr_assert_neq(off, 0, "no symbol %s in %s", name, prog);
	snprintf(path, sizeof path, "/proc/%d/maps", d->pid);
	f = fopen(path, "r");
	unsigned long long base = 0;
	cr_assert(f && fgets(line, sizeof line, f));
	sscanf(line, "%llx-", &base);
	fclose(f);
	return base + off;
}

static char *hexstr(const char *s)
{
	struct sbuf b = { 0 };
	rsp_put_hex(&b, s, strlen(s));
	return sbuf_steal(&b);
}

/* The value of register regno read with 'p' (little-endian, up to 8 bytes). */
static uint64_t reg(struct gdb *d, unsigned regno)
{
	char q[16];
	snprintf(q, sizeof q, "p%x", regno);
	const char *r = rpc(d, q);
	uint8_t b[8] = { 0 };
	cr_assert_eq(rsp_hex_decode(r, 16, b), 0, "p%x: %s", regno, r);
	uint64_t v;
	memcpy(&v, b, 8);
	return v;
}

static uint32_t mem32(struct gdb *d, uint64_t addr)
{
	char q[64];
	snprintf(q, sizeof q, "m%" PRIx64 ",4", addr);
	const char *r = rpc(d, q);
	uint32_t v;
	cr_assert_eq(rsp_hex_decode(r, 8, (uint8_t *)&v), 0, "m: %s", r);
	return v;
}

static void cont_to(struct gdb *d, const char *want_prefix)
{
	char q[64];
	snprintf(q, sizeof q, "vCont;c:p%x.-1", d->pid);
	const char *r = rpc(d, q);
	cr_assert(!strncmp(r, want_prefix, strlen(want_prefix)), "continue: got %s, want %s...", r,
		  want_prefix);
}

TestSuite(gdbserver, .timeout = 120);

Test(gdbserver, answers_the_connection_queries)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	const char *r = rpc(&d, "qSupported:multiprocess+;swbreak+;hwbreak+;fork-events+");
	cr_expect(strstr(r, "PacketSize=10000") && strstr(r, "qXfer:libraries-svr4:read+") &&
		  strstr(r, "swbreak+") && strstr(r, "multiprocess+") && strstr(r, "ReverseStep+") &&
		  strstr(r, "QPassSignals+") && strstr(r, "qXfer:features:read+"), "%s", r);
	cr_expect(!strstr(r, "fork-events"), "fork events are not offered: %s", r);
	cr_expect_str_eq(rpc(&d, "vMustReplyEmpty"), "");
	char want[96];
	snprintf(want, sizeof want, "thread:p%x.%x;", d.pid, d.pid);
	r = rpc(&d, "?");
	cr_expect(!strncmp(r, "T05", 3) && strstr(r, want), "? -> %s", r);
	snprintf(want, sizeof want, "QCp%x.%x", d.pid, d.pid);
	cr_expect_str_eq(rpc(&d, "qC"), want);
	cr_expect_str_eq(rpc(&d, "qAttached"), "0");
	snprintf(want, sizeof want, "mp%x.%x", d.pid, d.pid);
	cr_expect_str_eq(rpc(&d, "qfThreadInfo"), want);
	cr_expect_str_eq(rpc(&d, "qsThreadInfo"), "l");
	cr_expect_str_eq(rpc(&d, "vCont?"), "vCont;c;C;s;S;t;r");
	cr_expect_str_eq(rpc(&d, "qTotallyUnknown"), "");
	cr_expect_str_eq(rpc(&d, "qSymbol::"), "OK");
	cr_expect(rpc(&d, "m12345")[0] == 'E', "malformed m: %s", d.reply);
	cr_expect(rpc(&d, "Hgp1.7fffffff")[0] == 'E', "no such thread: %s", d.reply);
	cr_expect(rpc(&d, "Z9,1000,1")[0] == 'E', "no such breakpoint type: %s", d.reply);
	/* A packet longer than PacketSize is answered with an error, not a crash. */
	size_t n = RSP_PACKET_SIZE + 100;
	char *big = xmalloc(n + 1);
	memset(big, 'M', n);
	big[n] = 0;
	cr_expect(rpc(&d, big)[0] == 'E', "overlong: %s", d.reply);
	free(big);
	stop(&d);
}

Test(gdbserver, reads_and_writes_registers)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	const struct tdesc *td = tdesc_get(tdesc_host_variant());
	char *gcopy = xstrdup(rpc(&d, "g"));   /* the reply buffer is reused */
	cr_assert_eq(strlen(gcopy), 2 * tdesc_g_size(td), "g: %zu hex digits", strlen(gcopy));
	struct user_regs_struct *regs;
	cr_assert_eq(task_get_regs(d.s.inf.cur, &regs), 0);
	cr_expect_eq(reg(&d, 16), regs->rip, "p10 is rip");
	cr_expect_eq(reg(&d, 7), regs->rsp, "p7 is rsp");
	/* P then p, and the thread's registers changed. */
	uint64_t old = regs->rax;
	cr_expect_str_eq(rpc(&d, "P0=efbeadde00000000"), "OK");
	cr_expect_eq(reg(&d, 0), 0xdeadbeef);
	cr_assert_eq(task_get_regs(d.s.inf.cur, &regs), 0);
	cr_expect_eq(regs->rax, 0xdeadbeef);
	/* gdb writes orig_rax = -1 after run: accepted, and not made where the kernel
	 * would not read it (rax holds no restart code): a recording would fork at it. */
	uint64_t orig = reg(&d, 57);
	cr_expect_str_eq(rpc(&d, "P39=ffffffffffffffff"), "OK");
	cr_expect_eq(reg(&d, 57), orig, "orig_rax %#" PRIx64 " kept", orig);
	cr_expect_str_eq(rpc(&d, "P39=0100000000000000"), "OK");
	cr_expect_eq(reg(&d, 57), 1, "other values are written");
	/* G with what g gave puts everything back. */
	char *wr = xasprintf("G%s", gcopy);
	cr_expect_str_eq(rpc(&d, wr), "OK");
	cr_expect_eq(reg(&d, 0), old);
	cr_expect_eq(reg(&d, 16), regs->rip);
	free(wr);
	free(gcopy);
	/* A vector register: xmm15 (regno 55) round trip. */
	cr_expect_str_eq(rpc(&d, "P37=00112233445566778899aabbccddeeff"), "OK");
	cr_expect_str_eq(rpc(&d, "p37"), "00112233445566778899aabbccddeeff");
	cr_expect(rpc(&d, "p1000")[0] == 'E', "no such register: %s", d.reply);
	stop(&d);
}

Test(gdbserver, software_breakpoints_and_memory)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t bump = sym_addr(&d, "loop", "bump");
	uint8_t orig, raw;
	cr_assert_eq(proc_read(d.s.inf.main, RADDR(bump), &orig, 1), 0);
	char q[96];
	snprintf(q, sizeof q, "Z0,%" PRIx64 ",1", bump);
	cr_assert_str_eq(rpc(&d, q), "OK");
	cr_assert_str_eq(rpc(&d, q), "OK", "Z0 is idempotent");
	cr_assert_eq(proc_read_raw(d.s.inf.main, RADDR(bump), &raw, 1), 0);
	cr_expect_eq(raw, 0xcc, "the int3 is in memory");
	snprintf(q, sizeof q, "m%" PRIx64 ",1", bump);
	char want[8];
	snprintf(want, sizeof want, "%02x", orig);
	cr_expect_str_eq(rpc(&d, q), want, "m shows the original byte");
	cont_to(&d, "T05swbreak:;");
	cr_expect_eq(reg(&d, 16), bump, "stopped at bump");
	/* Stepping over it, as gdb does: remove, step, insert, continue. */
	snprintf(q, sizeof q, "z0,%" PRIx64 ",1", bump);
	cr_expect_str_eq(rpc(&d, q), "OK");
	cr_assert_eq(proc_read_raw(d.s.inf.main, RADDR(bump), &raw, 1), 0);
	cr_expect_eq(raw, orig, "z0 takes the int3 out");
	snprintf(q, sizeof q, "vCont;s:p%x.%x;c:p%x.-1", d.pid, d.pid, d.pid);
	const char *r = rpc(&d, q);
	cr_expect(!strncmp(r, "T05", 3) && !strstr(r, "swbreak"), "step: %s", r);
	uint64_t pc = reg(&d, 16);
	cr_expect(pc > bump && pc < bump + 16, "one instruction further: %#" PRIx64, pc);
	snprintf(q, sizeof q, "Z0,%" PRIx64 ",1", bump);
	cr_expect_str_eq(rpc(&d, q), "OK");
	cont_to(&d, "T05swbreak:;");
	cr_expect_eq(reg(&d, 16), bump, "hit again on the next call");
	/* Memory writes: M and X on the stack, read back with m and x. */
	uint64_t sp = reg(&d, 7) - 64;
	snprintf(q, sizeof q, "M%" PRIx64 ",4:01020304", sp);
	cr_expect_str_eq(rpc(&d, q), "OK");
	cr_expect_eq(mem32(&d, sp), 0x04030201);
	char xb[64];
	int n = snprintf(xb, sizeof xb, "X%" PRIx64 ",2:", sp);
	memcpy(xb + n, "}\x03\x7d\x5d", 4);   /* the escaped bytes '#' and '}' */
	xb[n + 4] = 0;
	cr_expect_str_eq(rpc(&d, xb), "OK");
	cr_expect_eq(mem32(&d, sp) & 0xffff, 0x7d23);
	snprintf(q, sizeof q, "x%" PRIx64 ",2", sp);
	r = rpc(&d, q);
	cr_expect(d.reply_len == 5 && !memcmp(r, "b}\x03}]", 5), "x: binary, escaped: %s", r);
	cr_expect(rpc(&d, "m0,4")[0] == 'E', "unreadable memory: %s", d.reply);
	/* The rest of the program: exits normally (loop returns 0). */
	snprintf(q, sizeof q, "z0,%" PRIx64 ",1", bump);
	rpc(&d, q);
	char w[64];
	snprintf(w, sizeof w, "W00;process:%x", d.pid);
	cont_to(&d, w);
	cr_expect(!inf_alive(&d.s.inf));
	stop(&d);
}

Test(gdbserver, watchpoints_report_every_write)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t counter = sym_addr(&d, "loop", "counter");
	char q[96], want[96];
	snprintf(q, sizeof q, "Z2,%" PRIx64 ",4", counter);
	cr_assert_str_eq(rpc(&d, q), "OK");
	snprintf(want, sizeof want, "T05watch:%" PRIx64 ";", counter);
	/* bump(0) writes counter with the value it had: gdb decides, so it is reported. */
	cont_to(&d, want);
	cr_expect_eq(mem32(&d, counter), 0, "the first write left 0");
	cont_to(&d, want);
	cr_expect_eq(mem32(&d, counter), 1);
	snprintf(q, sizeof q, "z2,%" PRIx64 ",4", counter);
	cr_expect_str_eq(rpc(&d, q), "OK");
	/* An access watchpoint: bump reads counter after the write. */
	snprintf(q, sizeof q, "Z4,%" PRIx64 ",4", counter);
	cr_assert_str_eq(rpc(&d, q), "OK");
	snprintf(want, sizeof want, "T05awatch:%" PRIx64 ";", counter);
	cont_to(&d, want);
	snprintf(q, sizeof q, "z4,%" PRIx64 ",4", counter);
	cr_expect_str_eq(rpc(&d, q), "OK");
	/* Z1: a hardware breakpoint. */
	uint64_t bump = sym_addr(&d, "loop", "bump");
	snprintf(q, sizeof q, "Z1,%" PRIx64 ",1", bump);
	cr_assert_str_eq(rpc(&d, q), "OK");
	cont_to(&d, "T05hwbreak:;");
	cr_expect_eq(reg(&d, 16), bump);
	snprintf(q, sizeof q, "z1,%" PRIx64 ",1", bump);
	cr_expect_str_eq(rpc(&d, q), "OK");
	cont_to(&d, "W00");
	stop(&d);
}

Test(gdbserver, range_stepping_stays_in_the_range)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t bump = sym_addr(&d, "loop", "bump");
	char q[128];
	snprintf(q, sizeof q, "Z0,%" PRIx64 ",1", bump);
	rpc(&d, q);
	cont_to(&d, "T05swbreak:;");
	snprintf(q, sizeof q, "z0,%" PRIx64 ",1", bump);
	rpc(&d, q);
	/* Step while pc is in [bump, bump+12): several instructions, one reply. */
	snprintf(q, sizeof q, "vCont;r%" PRIx64 ",%" PRIx64 ":p%x.%x;c:p%x.-1", bump, bump + 12,
		 d.pid, d.pid, d.pid);
	const char *r = rpc(&d, q);
	cr_expect(!strncmp(r, "T05", 3), "%s", r);
	uint64_t pc = reg(&d, 16);
	cr_expect(pc >= bump + 12 && pc < bump + 64, "left the range forwards: %#" PRIx64, pc);
	stop(&d);
}

Test(gdbserver, qxfer_documents)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t bump = sym_addr(&d, "loop", "bump");
	char q[128];
	snprintf(q, sizeof q, "Z0,%" PRIx64 ",1", bump);
	rpc(&d, q);
	cont_to(&d, "T05swbreak:;");
	const char *r = rpc(&d, "qXfer:features:read:target.xml:0,fff");
	cr_expect(r[0] == 'm' && strstr(r, "<architecture>i386:x86-64</architecture>"), "%.80s", r);
	r = rpc(&d, "qXfer:libraries-svr4:read::0,fff");
	cr_expect(r[0] == 'l' && strstr(r, "main-lm=\"0x") && strstr(r, "libc.so.6") &&
		  strstr(r, "l_addr=\"0x") && !strstr(r, "librewind-agent"), "%s", r);
	char want[128];
	snprintf(want, sizeof want, "<thread id=\"p%x.%x\" name=\"loop\"/>", d.pid, d.pid);
	r = rpc(&d, "qXfer:threads:read::0,fff");
	cr_expect(strstr(r, want), "%s", r);
	snprintf(q, sizeof q, "qXfer:exec-file:read:%x:0,fff", d.pid);
	r = rpc(&d, q);
	cr_expect(r[0] == 'l' && strstr(r, "/loop"), "%s", r);
	/* auxv: the bytes of /proc/PID/auxv (binary, escaped) in pieces. */
	char path[64], *aux;
	size_t alen;
	snprintf(path, sizeof path, "/proc/%d/auxv", d.pid);
	cr_assert_eq(read_file(path, &aux, &alen), 0);
	struct sbuf got = { 0 };
	for (uint64_t off = 0;;) {
		snprintf(q, sizeof q, "qXfer:auxv:read::%" PRIx64 ",40", off);
		r = rpc(&d, q);
		cr_assert(r[0] == 'm' || r[0] == 'l', "%s", r);
		size_t n = d.reply_len - 1;
		char *piece = xmalloc(n + 1);
		memcpy(piece, r + 1, n);
		long k = rsp_unescape((uint8_t *)piece, n);
		sbuf_append(&got, piece, (size_t)k);
		free(piece);
		off += (uint64_t)k;
		if (r[0] == 'l' || k == 0)
			break;
	}
	cr_expect_eq(got.len, alen);
	cr_expect_eq(memcmp(got.s, aux, alen), 0, "auxv as the kernel has it");
	free(aux);
	sbuf_free(&got);
	cr_expect_str_eq(rpc(&d, "qXfer:nonsense:read::0,10"), "");
	/* vFile: gdb reads the program's files through the server. */
	char *name = hexstr("/proc/self/status");
	snprintf(q, sizeof q, "vFile:open:%s,0,0", name);
	free(name);
	r = rpc(&d, q);
	cr_assert(r[0] == 'F' && r[1] != '-', "%s", r);
	long fd = strtol(r + 1, NULL, 16);
	snprintf(q, sizeof q, "vFile:pread:%lx,40,0", fd);
	r = rpc(&d, q);
	cr_expect(strstr(r, ";Name:"), "%s", r);
	snprintf(q, sizeof q, "vFile:close:%lx", fd);
	cr_expect_str_eq(rpc(&d, q), "F0");
	name = hexstr("/etc/passwd");
	snprintf(q, sizeof q, "vFile:open:%s,2,0", name);
	free(name);
	cr_expect(!strncmp(rpc(&d, q), "F-1,", 4), "read-only: %s", d.reply);
	stop(&d);
}

/* The O packets of a monitor command, decoded, up to its final reply. */
static char *monitor(struct gdb *d, const char *cmd)
{
	char *hex = hexstr(cmd), *q = xasprintf("qRcmd,%s", hex);
	send_pkt(d, q);
	free(hex);
	free(q);
	cr_assert_geq(gs_step(d->g, 0), 0);
	struct sbuf out = { 0 };
	for (;;) {
		char *r = recv_pkt(d);
		if (r[0] != 'O' || !strcmp(r, "OK")) {
			cr_expect_str_eq(r, "OK");
			free(r);
			break;
		}
		size_t n = strlen(r + 1) / 2;
		char *txt = xmalloc(n + 1);
		cr_assert_eq(rsp_hex_decode(r + 1, 2 * n, (uint8_t *)txt), 0);
		sbuf_append(&out, txt, n);
		free(txt);
		free(r);
	}
	sbuf_putc(&out, 0);
	return sbuf_steal(&out);
}

Test(gdbserver, monitor_checkpoint_and_restart)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t bump = sym_addr(&d, "loop", "bump"), counter = sym_addr(&d, "loop", "counter");
	char q[96];
	snprintf(q, sizeof q, "Z0,%" PRIx64 ",1", bump);
	rpc(&d, q);
	cont_to(&d, "T05swbreak:;");
	cont_to(&d, "T05swbreak:;");
	cont_to(&d, "T05swbreak:;");
	cr_assert_eq(mem32(&d, counter), 1, "bump(0), bump(1) ran");
	uint64_t sp = reg(&d, 7);
	char *out = monitor(&d, "checkpoint one");
	cr_expect(strstr(out, "Checkpoint ") && strstr(out, " \"one\" at bump (loop.c:"), "%s", out);
	free(out);
	cont_to(&d, "T05swbreak:;");
	cont_to(&d, "T05swbreak:;");
	cr_expect_eq(mem32(&d, counter), 6);
	out = monitor(&d, "info checkpoints");
	cr_expect(strstr(out, " one ") && strstr(out, "Checkpoint memory:"), "%s", out);
	free(out);
	out = monitor(&d, "restart one");
	cr_expect(strstr(out, "Switching to checkpoint") && strstr(out, "\"one\"."), "%s", out);
	free(out);
	cr_expect_eq(mem32(&d, counter), 1, "memory as it was");
	cr_expect_eq(reg(&d, 16), bump);
	cr_expect_eq(reg(&d, 7), sp, "registers as they were");
	char want[64];
	snprintf(want, sizeof want, "thread:p%x.%x;", d.pid, d.pid);
	cr_expect(strstr(rpc(&d, "?"), want), "? after restart: %s", d.reply);
	/* gdb's breakpoint is still in force in the restored program. */
	cont_to(&d, "T05swbreak:;");
	cr_expect_eq(mem32(&d, counter), 3);
	out = monitor(&d, "restart 999");
	cr_expect(strstr(out, "No checkpoint 999."), "%s", out);
	free(out);
	/* The timeline commands: the recording's position ("goto" and "last": e2e). */
	out = monitor(&d, "when");
	cr_expect(!strncmp(out, "Current position: event ", 24) && strstr(out, " in bump (loop.c:") &&
		  strstr(out, "[#") && strstr(out, "\nRecorded events: "), "%s", out);
	free(out);
	out = monitor(&d, "goto #1:2:3:4:5");
	cr_expect(strstr(out, "#1:2:3:4:5") || strstr(out, "osition"), "goto nowhere: %s", out);
	free(out);
	cr_expect_eq(mem32(&d, counter), 3, "and the program stays");
	out = monitor(&d, "last");
	cr_expect(strstr(out, "Argument required"), "%s", out);
	free(out);
	out = monitor(&d, "frobnicate");
	cr_expect(strstr(out, "Undefined monitor command"), "%s", out);
	free(out);
	stop(&d);
}

Test(gdbserver, reverse_without_history_stops_at_once)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t pc = reg(&d, 16);
	cr_expect(!strncmp(rpc(&d, "bs"), "T05replaylog:begin;", 19), "%s", d.reply);
	cr_expect(!strncmp(rpc(&d, "bc"), "T05replaylog:begin;", 19), "%s", d.reply);
	cr_expect_eq(reg(&d, 16), pc, "nothing moved");
	stop(&d);
}

/* With the recording: bc and bs move back, and what gdb reads afterwards is the state
 * of then: registers, memory, the thread list; its breakpoint is still in force. */
Test(gdbserver, reverse_moves_back_with_consistent_state)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t bump = sym_addr(&d, "loop", "bump"), counter = sym_addr(&d, "loop", "counter");
	char q[96];
	snprintf(q, sizeof q, "Z0,%" PRIx64 ",1", bump);
	cr_assert_str_eq(rpc(&d, q), "OK");
	cont_to(&d, "T05swbreak:;");                  /* bump(0) */
	cont_to(&d, "T05swbreak:;");                  /* bump(1) */
	uint64_t sp1 = reg(&d, 7);
	cr_assert_eq(mem32(&d, counter), 0);
	cont_to(&d, "T05swbreak:;");                  /* bump(2) */
	cr_assert_eq(mem32(&d, counter), 1);
	cr_expect(!strncmp(rpc(&d, "bc"), "T05swbreak:;", 12), "bc: %s", d.reply);
	cr_expect_eq(reg(&d, 16), bump, "back at the breakpoint");
	cr_expect_eq(reg(&d, 7), sp1, "with the stack of bump(1)");
	cr_expect_eq(mem32(&d, counter), 0, "and the memory of then");
	char want[64];
	snprintf(want, sizeof want, "mp%x.%x", d.pid, d.pid);
	cr_expect_str_eq(rpc(&d, "qfThreadInfo"), want);
	cr_expect_str_eq(rpc(&d, "qsThreadInfo"), "l");
	cr_expect(strstr(rpc(&d, "?"), "swbreak:"), "? after bc: %s", d.reply);
	/* One instruction back: into main, before the call. */
	cr_expect(!strncmp(rpc(&d, "bs"), "T05", 3), "bs: %s", d.reply);
	cr_expect_neq(reg(&d, 16), bump, "bs moved");
	cr_expect_eq(reg(&d, 7), sp1 + 8, "before the call pushed its return address");
	/* Forward again: the breakpoint is there, and the program goes on as it did. */
	cont_to(&d, "T05swbreak:;");
	cr_expect_eq(reg(&d, 16), bump);
	cr_expect_eq(mem32(&d, counter), 0);
	cont_to(&d, "T05swbreak:;");
	cr_expect_eq(mem32(&d, counter), 1);
	stop(&d);
}

static void *send_interrupt(void *arg)
{
	struct gdb *d = arg;
	usleep(300 * 1000);
	send_raw(d, "\x03", 1);
	return NULL;
}

Test(gdbserver, interrupt_stops_a_running_program)
{
	struct gdb d;
	start(&d, "gdb_prog", "spin", NULL);
	pthread_t th;
	pthread_create(&th, NULL, send_interrupt, &d);
	cont_to(&d, "T02");
	pthread_join(th, NULL);
	cr_expect(inf_alive(&d.s.inf));
	/* Stopped for good: a stale interrupt does not stop the next run early. */
	uint64_t spinning = sym_addr(&d, "gdb_prog", "spinning");
	char q[96];
	snprintf(q, sizeof q, "M%" PRIx64 ",4:00000000", spinning);
	cr_expect_str_eq(rpc(&d, q), "OK");
	cont_to(&d, "W00");
	stop(&d);
}

Test(gdbserver, signals_stop_unless_passed)
{
	struct gdb d;
	start(&d, "gdb_prog", "usr1", NULL);
	cont_to(&d, "T1e");    /* gdb's SIGUSR1 */
	cr_expect(!strncmp(rpc(&d, "qXfer:siginfo:read::0,80"), "l", 1), "%s", d.reply);
	char q[64];
	snprintf(q, sizeof q, "vCont;C1e:p%x.%x;c:p%x.-1", d.pid, d.pid, d.pid);
	cr_expect(!strncmp(rpc(&d, q), "W00", 3), "%s", d.reply);
	stop(&d);
	start(&d, "gdb_prog", "usr1", NULL);
	cr_expect_str_eq(rpc(&d, "QPassSignals:1e"), "OK");
	cont_to(&d, "W00");    /* passed without a stop */
	stop(&d);
}

Test(gdbserver, kill_and_detach)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	char q[64];
	snprintf(q, sizeof q, "vKill;%x", d.pid);
	cr_expect_str_eq(rpc(&d, q), "OK");
	cr_expect(!inf_alive(&d.s.inf));
	stop(&d);
	start_rec(&d, "gdb_prog", "sleep", NULL, false);
	pid_t pid = d.pid;
	cr_expect_str_eq(rpc(&d, "D"), "OK");
	cr_expect(!inf_alive(&d.s.inf));
	cr_expect_eq(gs_step(d.g, 0), 0, "the plain protocol ends with detach");
	cr_expect_eq(kill(pid, 0), 0, "the detached program lives");
	kill(pid, SIGKILL);
	stop(&d);
}

Test(gdbserver, gdb_going_away_kills_or_detaches)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	close(d.fd);
	d.fd = open("/dev/null", O_RDONLY);
	cr_expect_eq(gs_step(d.g, 1000), 0, "the connection is over");
	cr_expect(!inf_alive(&d.s.inf), "the program was killed");
	stop(&d);
	struct gs_opts o = { .detach_on_exit = true };
	start_rec(&d, "gdb_prog", "sleep", &o, false);
	pid_t pid = d.pid;
	close(d.fd);
	d.fd = open("/dev/null", O_RDONLY);
	cr_expect_eq(gs_step(d.g, 1000), 0);
	cr_expect(!inf_alive(&d.s.inf));
	cr_expect_eq(kill(pid, 0), 0, "detached, still alive");
	kill(pid, SIGKILL);
	stop(&d);
}

Test(gdbserver, legacy_resume_packets)
{
	struct gdb d;
	start(&d, "loop", NULL, NULL);
	uint64_t pc = reg(&d, 16), bump = sym_addr(&d, "loop", "bump");
	char q[64];
	snprintf(q, sizeof q, "Hcp%x.%x", d.pid, d.pid);
	cr_expect_str_eq(rpc(&d, q), "OK");
	const char *r = rpc(&d, "s");
	cr_expect(!strncmp(r, "T05", 3), "s: %s", r);
	cr_expect_neq(reg(&d, 16), pc, "s moved one instruction");
	snprintf(q, sizeof q, "Z0,%" PRIx64 ",1", bump);
	rpc(&d, q);
	cr_expect(!strncmp(rpc(&d, "c"), "T05swbreak:;", 12), "c: %s", d.reply);
	cr_expect_eq(reg(&d, 16), bump);
	/* C with a signal gdb's numbering knows and Linux does not: an error. */
	cr_expect(rpc(&d, "C8f")[0] == 'E', "C8f: %s", d.reply);
	/* c ADDR resumes at ADDR: back to bump's entry, hits the breakpoint at once. */
	snprintf(q, sizeof q, "z0,%" PRIx64 ",1", bump);
	rpc(&d, q);
	snprintf(q, sizeof q, "Z1,%" PRIx64 ",1", bump + 1);
	cr_expect_str_eq(rpc(&d, q), "OK");
	snprintf(q, sizeof q, "c%" PRIx64, bump);
	cr_expect(!strncmp(rpc(&d, q), "T05hwbreak:;", 12), "c ADDR: %s", d.reply);
	cr_expect_eq(reg(&d, 16), bump + 1);
	stop(&d);
}

#ifndef SRC_DIR
#define SRC_DIR "."
#endif

/* Feed raw bytes (as gdb would send them, in pieces) to a live server, draining its
 * replies, until it has handled everything or the connection is over. The server must
 * neither crash nor hang; whatever it answers is fine. */
static void feed(struct gdb *d, const char *bytes, size_t n)
{
	char buf[65536];
	size_t off = 0;
	int idle = 0, r = 1;
	fcntl(d->fd, F_SETFL, O_NONBLOCK);
	while (r > 0 && idle < 20) {
		if (off < n) {
			ssize_t w = write(d->fd, bytes + off, MIN(n - off, (size_t)997));
			if (w > 0)
				off += (size_t)w;
		}
		r = gs_step(d->g, 0);
		cr_assert_geq(r, 0);
		bool got = false;
		while (read(d->fd, buf, sizeof buf) > 0)
			got = true;
		idle = off < n || got ? 0 : idle + 1;
	}
}

Test(gdbserver, captured_and_mangled_sessions_never_crash)
{
	static const char *const files[] = { "gdb13-remote.bin", "gdb13-extended.bin",
					     "malformed.bin", "binary.bin", "reverse.bin" };
	char *data[ARRAY_SIZE(files)];
	size_t len[ARRAY_SIZE(files)];
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *path = xasprintf("%s/tests/fuzz/corpus/rsp/%s", SRC_DIR, files[i]);
		cr_assert_eq(read_file(path, &data[i], &len[i]), 0, "%s", path);
		free(path);
		struct gdb d;
		start(&d, "loop", NULL, NULL);
		feed(&d, data[i], len[i]);
		stop(&d);
	}
	/* The captured sessions with bytes changed at random (seeded: reproducible). */
	srand(1234);
	for (int k = 0; k < 24; k++) {
		size_t i = (size_t)k % 2, n = len[i];
		char *m = xmalloc(n);
		memcpy(m, data[i], n);
		for (int f = 0; f < 12; f++)
			m[(size_t)rand() % n] = (char)(rand() & 0xff);
		struct gdb d;
		start(&d, "loop", NULL, NULL);
		feed(&d, m, n);
		stop(&d);
		free(m);
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		free(data[i]);
}
