/* The gdb Remote Serial Protocol wire layer: codec, connection, packet grammar, replies,
 * target description; checked against packets captured from gdb 13 + gdbserver 13 and
 * against a real gdb 13 talking to a canned stub built from these modules. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/regs.h"
#include "gdbplug/rsp_codec.h"
#include "gdbplug/rsp_conn.h"
#include "gdbplug/rsp_packet.h"
#include "gdbplug/rsp_reply.h"
#include "gdbplug/tdesc.h"

#ifndef SRC_DIR
#define SRC_DIR "."
#endif
#define CORPUS SRC_DIR "/tests/fuzz/corpus/rsp/"

/* ---- codec ---- */

Test(rsp_codec, checksums_match_gdb)
{
	cr_assert_eq(rsp_checksum("OK", 2), 0x9a);
	cr_assert_eq(rsp_checksum("g", 1), 0x67);
	cr_assert_eq(rsp_checksum("vMustReplyEmpty", 15), 0x3a);
	cr_assert_eq(rsp_checksum("Hgp0.0", 6), 0xad);
	cr_assert_eq(rsp_checksum("", 0), 0);
}

Test(rsp_codec, hex)
{
	struct sbuf b = { 0 };
	rsp_put_hex(&b, "\x00\x7f\xff", 3);
	cr_assert_str_eq(b.s, "007fff");
	uint8_t out[4];
	cr_assert_eq(rsp_hex_decode("00Aa7F", 6, out), 0);
	cr_assert(out[0] == 0 && out[1] == 0xaa && out[2] == 0x7f);
	cr_assert_eq(rsp_hex_decode("abc", 3, out), -EINVAL);
	cr_assert_eq(rsp_hex_decode("zz", 2, out), -EINVAL);
	uint64_t v;
	size_t used;
	cr_assert_eq(rsp_parse_hex("ffffffffffffffff,", 17, &v, &used), 0);
	cr_assert(v == UINT64_MAX && used == 16);
	cr_assert_eq(rsp_parse_hex("10000000000000000", 17, &v, &used), -ERANGE);
	cr_assert_eq(rsp_parse_hex(",1", 2, &v, &used), -EINVAL);
	cr_assert_eq(rsp_parse_hex("12", 1, &v, &used), 0, "bounded by n, not by NUL");
	cr_assert(v == 1 && used == 1);
	sbuf_free(&b);
}

Test(rsp_codec, escapes_round_trip_every_byte)
{
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	struct sbuf b = { 0 };
	cr_assert_eq(rsp_put_escaped(&b, all, 256, SIZE_MAX), 256);
	cr_assert_eq(b.len, 256 + 4, "exactly # $ } * are escaped");
	for (size_t i = 0; i < b.len; i++)
		cr_assert(b.s[i] != '#' && b.s[i] != '$' && b.s[i] != '*');
	cr_assert(memmem(b.s, b.len, "}\x03}\x04", 4), "'#' and '$' as } 0x03 and } 0x04");
	cr_assert(memmem(b.s, b.len, "}\x0a", 2) && memmem(b.s, b.len, "}]", 2), "'*' and '}'");
	long n = rsp_unescape((uint8_t *)b.s, b.len);
	cr_assert_eq(n, 256);
	cr_assert_eq(memcmp(b.s, all, 256), 0);
	uint8_t bad[] = { 'a', '}' };
	cr_assert_eq(rsp_unescape(bad, 2), -EINVAL);
	/* Bounded output: a '}' pair is never split. */
	sbuf_reset(&b);
	cr_assert_eq(rsp_put_escaped(&b, "ab#", 3, 3), 2);
	cr_assert_str_eq(b.s, "ab");
	sbuf_free(&b);
}

static void rle(const char *in, size_t n, const char *want)
{
	struct sbuf b = { 0 }, d = { 0 };
	rsp_rle_encode(in, n, &b);
	cr_assert_str_eq(b.s, want, "rle of %zu bytes", n);
	cr_assert_eq(rsp_rle_decode(b.s, b.len, &d, SIZE_MAX), 0);
	cr_assert(d.len == n && !memcmp(d.s, in, n));
	sbuf_free(&b);
	sbuf_free(&d);
}

Test(rsp_codec, rle_follows_gdb_rules)
{
	char big[300];
	memset(big, 'a', sizeof big);
	rle("aaa", 3, "aaa");
	rle("aaaa", 4, "a* ");
	rle("aaaaaa", 6, "a*\"");
	rle("aaaaaaa", 7, "a*\"a");        /* 6 repeats would be '#' */
	rle("aaaaaaaa", 8, "a*\"aa");      /* 7 would be '$' */
	rle("aaaaaaaaa", 9, "a*%");
	rle(big, 97, "a*}");
	rle(big, 98, "a*}a");
	rle(big, 200, "a*}a*}a*\"");        /* 97 + 97 + 6 */
}

Test(rsp_codec, rle_matches_gdbserver_byte_for_byte)
{
	/* Replies captured from gdbserver 13 (remotelogfile), as sent. */
	static const char *const sent[] = {
		"T0506:90e6f*\"7f0* ;07:e0e3f*\"7f0* ;10:707ffef7ff7f0* ;thread:p170a.170a;core:0;",
		"T05watch:0* 5*\"55802c;06:40e6f*\"7f0* ;07:20e6f*\"7f0* ;10:a4515*\"550* ;thread:p2e15.2e15;core:1;",
		"010*\"060*\"d02d0*(d03d0*(d03d0*(58020*(68020**10*)",
		"0*N96ea45e1f33c0a0*,f0bee5f7ff7f0*0ecc8edf7ff7f0* ",
		"7f454c460201010*/3003e00010*240*+e0150*0400038000400400011001000",
		"T0;tnotrun:0;tframes:0;tcreated:0;tfree:50*!;tsize:50*!;circular:0;disconn:0;starttime:0;stoptime:0;username:;notes::",
	};
	for (size_t i = 0; i < ARRAY_SIZE(sent); i++) {
		struct sbuf d = { 0 }, e = { 0 };
		cr_assert_eq(rsp_rle_decode(sent[i], strlen(sent[i]), &d, SIZE_MAX), 0);
		rsp_rle_encode(d.s, d.len, &e);
		cr_assert_str_eq(e.s, sent[i]);
		sbuf_free(&d);
		sbuf_free(&e);
	}
}

Test(rsp_codec, rle_decode_rejects_bad_input)
{
	struct sbuf d = { 0 };
	cr_assert_eq(rsp_rle_decode("*!", 2, &d, 100), -EINVAL, "nothing to repeat");
	sbuf_reset(&d);
	cr_assert_eq(rsp_rle_decode("a*", 2, &d, 100), -EINVAL, "missing count");
	sbuf_reset(&d);
	cr_assert_eq(rsp_rle_decode("a*\x10", 3, &d, 100), -EINVAL, "count below range");
	sbuf_reset(&d);
	cr_assert_eq(rsp_rle_decode("a*}", 3, &d, 10), -EMSGSIZE);
	sbuf_free(&d);
}

Test(rsp_codec, signal_numbers)
{
	cr_assert_eq(rsp_sig_from_host(SIGTRAP), 5);
	cr_assert_eq(rsp_sig_from_host(SIGBUS), 10);
	cr_assert_eq(rsp_sig_from_host(SIGUSR1), 30);
	cr_assert_eq(rsp_sig_from_host(SIGCHLD), 20);
	cr_assert_eq(rsp_sig_from_host(SIGSTOP), 17);
	cr_assert_eq(rsp_sig_from_host(SIGIO), 23);
	cr_assert_eq(rsp_sig_from_host(32), 77);
	cr_assert_eq(rsp_sig_from_host(34), 46);
	cr_assert_eq(rsp_sig_from_host(64), 78);
	cr_assert_eq(rsp_sig_from_host(SIGSTKFLT), 143);
	for (int s = 0; s <= 64; s++)
		if (s != SIGSTKFLT)
			cr_assert_eq(rsp_sig_to_host(rsp_sig_from_host(s)), s, "signal %d", s);
	cr_assert_eq(rsp_sig_to_host(143), -EINVAL);
	cr_assert_eq(rsp_sig_to_host(7), -EINVAL, "GDB_SIGNAL_EMT has no Linux signal");
	cr_assert_eq(rsp_sig_to_host(33), SIGIO);
}

/* ---- connection ---- */

struct tconn {
	struct rsp_conn *c;
	int rd;
	char out[8192];
};

static void tc_open(struct tconn *t)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	cr_assert_eq(rsp_conn_new(-1, p[1], &t->c), 0);
	t->rd = p[0];
}

static void tc_close(struct tconn *t)
{
	rsp_conn_free(t->c);
	close(t->rd);
}

/* Everything the connection wrote since the last call. */
static const char *tc_out(struct tconn *t)
{
	ssize_t n = read(t->rd, t->out, sizeof t->out - 1);
	t->out[n > 0 ? n : 0] = 0;
	return t->out;
}

static void tc_feed(struct tconn *t, const char *s) { rsp_conn_feed(t->c, s, strlen(s)); }

static void expect_packet(struct tconn *t, const char *payload)
{
	struct rsp_event ev;
	cr_assert_eq(rsp_conn_next(t->c, &ev), 1, "expected packet %s", payload);
	cr_assert_eq(ev.kind, RSP_EV_PACKET);
	cr_assert_eq(ev.len, strlen(payload));
	cr_assert_str_eq(ev.data, payload);
}

static void expect_none(struct tconn *t)
{
	struct rsp_event ev;
	cr_assert_eq(rsp_conn_next(t->c, &ev), 0);
}

Test(rsp_conn, acks_good_packets_and_nacks_bad_ones)
{
	struct tconn t;
	tc_open(&t);
	tc_feed(&t, "+$qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;"
		    "vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;"
		    "memory-tagging+;xmlRegisters=i386#77");
	expect_packet(&t, "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;"
		      "vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;"
		      "memory-tagging+;xmlRegisters=i386");
	cr_assert_str_eq(tc_out(&t), "+");
	tc_feed(&t, "$g#68$g#6$g#67");   /* wrong sum; '$' in the checksum; good */
	expect_packet(&t, "g");
	cr_assert_str_eq(tc_out(&t), "-+");
	expect_none(&t);
	struct rsp_conn_stats st;
	rsp_conn_get_stats(t.c, &st);
	cr_assert_eq(st.bad_checksums, 2);
	cr_assert_eq(st.nacks_sent, 1);
	tc_feed(&t, "$g#zz");
	expect_none(&t);
	cr_assert_str_eq(tc_out(&t), "-");
	tc_close(&t);
}

Test(rsp_conn, packets_split_across_feeds)
{
	struct tconn t;
	tc_open(&t);
	const char *s = "$m7ffff7fc8000,40#94";
	for (size_t i = 0; s[i + 1]; i++) {
		rsp_conn_feed(t.c, s + i, 1);
		expect_none(&t);
	}
	rsp_conn_feed(t.c, s + strlen(s) - 1, 1);
	expect_packet(&t, "m7ffff7fc8000,40");
	tc_close(&t);
}

Test(rsp_conn, interrupt_between_packets_binary_inside)
{
	struct tconn t;
	struct rsp_event ev;
	tc_open(&t);
	rsp_conn_set_noack(t.c);
	/* 0x03 inside X data is data; between packets it is an interrupt. */
	char pkt[64];
	char body[] = "X10,3:a\x03z";
	snprintf(pkt, sizeof pkt, "\x03$%s#%02x\x03", body, rsp_checksum(body, strlen(body)));
	tc_feed(&t, pkt);
	cr_assert_eq(rsp_conn_next(t.c, &ev), 1);
	cr_assert_eq(ev.kind, RSP_EV_INTERRUPT);
	expect_packet(&t, body);
	cr_assert_eq(rsp_conn_next(t.c, &ev), 1);
	cr_assert_eq(ev.kind, RSP_EV_INTERRUPT);
	cr_assert_str_eq(tc_out(&t), "", "no acks in no-ack mode");
	tc_close(&t);
}

Test(rsp_conn, garbage_and_restarts_are_skipped)
{
	struct tconn t;
	tc_open(&t);
	rsp_conn_set_noack(t.c);
	tc_feed(&t, "junk#00\xff\x7f$qC$?#3f trailing");
	expect_packet(&t, "?");
	expect_none(&t);
	struct rsp_conn_stats st;
	rsp_conn_get_stats(t.c, &st);
	cr_assert_eq(st.packets, 1);
	cr_assert_geq(st.garbage_bytes, 10);
	tc_close(&t);
}

Test(rsp_conn, overlong_packets_are_discarded_not_stored)
{
	struct tconn t;
	struct rsp_event ev;
	tc_open(&t);
	size_t n = RSP_PACKET_SIZE + 100;
	char *big = malloc(n + 8);
	big[0] = '$';
	memset(big + 1, 'A', n);
	snprintf(big + 1 + n, 8, "#%02x", (unsigned)(n * 'A') & 0xff);
	rsp_conn_feed(t.c, big, strlen(big));
	cr_assert_eq(rsp_conn_next(t.c, &ev), 1);
	cr_assert_eq(ev.kind, RSP_EV_OVERLONG);
	cr_assert_str_eq(tc_out(&t), "+", "intact: acknowledged, then answered with an error");
	big[n + 2] ^= 1; /* corrupt the checksum: nack, no event */
	rsp_conn_feed(t.c, big, strlen(big));
	expect_none(&t);
	cr_assert_str_eq(tc_out(&t), "-");
	tc_feed(&t, "$g#67");
	expect_packet(&t, "g");
	free(big);
	tc_close(&t);
}

Test(rsp_conn, sends_frames_with_rle_and_retransmits_on_nack)
{
	struct tconn t;
	tc_open(&t);
	cr_assert_eq(rsp_conn_send_str(t.c, "OK"), 0);
	cr_assert_str_eq(tc_out(&t), "$OK#9a");
	cr_assert_eq(rsp_conn_send_str(t.c, "0000000000000000"), 0);
	cr_assert_str_eq(tc_out(&t), "$0*,#86");   /* as gdbserver sent it */
	tc_feed(&t, "+-");                        /* OK acked; the second refused */
	expect_none(&t);
	cr_assert_str_eq(tc_out(&t), "$0*,#86");
	tc_feed(&t, "+-");                        /* acked; a stray '-' resends nothing */
	expect_none(&t);
	cr_assert_str_eq(tc_out(&t), "");
	rsp_conn_set_rle(t.c, false);
	rsp_conn_send_str(t.c, "0000");
	cr_assert_str_eq(tc_out(&t), "$0000#c0");
	rsp_conn_notify(t.c, "Stop:T05", 8);
	tc_feed(&t, "+-");
	expect_none(&t);
	cr_assert_str_eq(tc_out(&t), "%Stop:T05#99", "notifications are never resent");
	tc_close(&t);
}

Test(rsp_conn, no_ack_handshake)
{
	struct tconn t;
	tc_open(&t);
	tc_feed(&t, "$QStartNoAckMode#b0");
	expect_packet(&t, "QStartNoAckMode");
	rsp_conn_send_str(t.c, "OK");
	rsp_conn_set_noack(t.c);
	cr_assert(rsp_conn_noack(t.c));
	cr_assert_str_eq(tc_out(&t), "+$OK#9a");
	tc_feed(&t, "-");                 /* gdb still answers that OK; we resend it */
	expect_none(&t);
	cr_assert_str_eq(tc_out(&t), "$OK#9a");
	tc_feed(&t, "+$qTStatus#49$Hc-1#00");  /* bad sum accepted: nobody hears nacks now */
	expect_packet(&t, "qTStatus");
	expect_packet(&t, "Hc-1");
	rsp_conn_send_str(t.c, "");
	tc_feed(&t, "-");
	expect_none(&t);
	cr_assert_str_eq(tc_out(&t), "$#00");
	tc_close(&t);
}

Test(rsp_conn, eof_inside_a_packet_and_after)
{
	struct tconn t;
	struct rsp_event ev;
	tc_open(&t);
	tc_feed(&t, "$g#67$m10,");
	rsp_conn_feed_eof(t.c);
	expect_packet(&t, "g");
	cr_assert_eq(rsp_conn_next(t.c, &ev), 1);
	cr_assert_eq(ev.kind, RSP_EV_EOF);
	cr_assert_eq(rsp_conn_next(t.c, &ev), 1);
	cr_assert_eq(ev.kind, RSP_EV_EOF, "EOF is sticky");
	tc_close(&t);
}

Test(rsp_conn, socket_fill_wait_and_disconnect)
{
	int sv[2];
	struct rsp_conn *c;
	struct rsp_event ev;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(rsp_conn_new(sv[0], sv[0], &c), 0);
	cr_assert_eq(rsp_conn_fd(c), sv[0]);
	cr_assert_eq(rsp_conn_wait(c, 50, &ev), 0, "timeout with nothing to read");
	cr_assert_eq(write(sv[1], "+$?#3f\x03", 7), 7);
	cr_assert_eq(rsp_conn_wait(c, 1000, &ev), 1);
	cr_assert(ev.kind == RSP_EV_PACKET && !strcmp(ev.data, "?"));
	cr_assert_eq(rsp_conn_wait(c, 1000, &ev), 1);
	cr_assert_eq(ev.kind, RSP_EV_INTERRUPT);
	char buf[16] = { 0 };
	cr_assert_eq(read(sv[1], buf, sizeof buf), 1);
	cr_assert_str_eq(buf, "+");
	close(sv[1]);
	cr_assert_eq(rsp_conn_wait(c, 1000, &ev), 1);
	cr_assert_eq(ev.kind, RSP_EV_EOF);
	cr_assert_eq(rsp_conn_send_str(c, "OK"), -EPIPE, "no SIGPIPE, a clean error");
	rsp_conn_free(c);
	close(sv[0]);
}

/* ---- packets ---- */

static void parse(const char *s, struct rsp_packet *p)
{
	static char buf[4096];
	size_t n = strlen(s);
	memcpy(buf, s, n + 1);
	rsp_parse(buf, n, p);
}

static const struct { const char *in; enum rsp_kind kind; } kinds[] = {
	{ "qSupported", RSP_QSUPPORTED }, { "qSupported:", RSP_QSUPPORTED },
	{ "qSupportedx", RSP_UNSUPPORTED }, { "QStartNoAckMode", RSP_START_NOACK },
	{ "QStartNoAckMode:1", RSP_MALFORMED }, { "?", RSP_STOP_REASON }, { "?x", RSP_MALFORMED },
	{ "!", RSP_EXTENDED_MODE }, { "g", RSP_READ_REGS }, { "gg", RSP_MALFORMED },
	{ "G0011", RSP_WRITE_REGS }, { "G001", RSP_MALFORMED }, { "Gzz", RSP_MALFORMED },
	{ "G", RSP_MALFORMED }, { "p10", RSP_READ_REG }, { "p", RSP_MALFORMED },
	{ "p10,", RSP_MALFORMED }, { "p12345", RSP_MALFORMED }, { "P39=ffffffffffffffff", RSP_WRITE_REG },
	{ "P10", RSP_MALFORMED }, { "P10=", RSP_MALFORMED }, { "P10=0", RSP_MALFORMED },
	{ "m1000,10", RSP_READ_MEM }, { "m1000", RSP_MALFORMED }, { "m,10", RSP_MALFORMED },
	{ "m1000,10x", RSP_MALFORMED }, { "m11112222333344445,1", RSP_MALFORMED },
	/* an input the fuzzer kept (fuzz-rsp.crash; no longer a crash nor a violation) */
	{ "m7ffff7fx40000\xff,", RSP_MALFORMED }, { "m7ffff7f,40000\xff", RSP_MALFORMED },
	{ "x1000,10", RSP_READ_MEM_BIN }, { "M1000,2:abcd", RSP_WRITE_MEM },
	{ "M1000,2:abc", RSP_MALFORMED }, { "M1000,2:abcg", RSP_MALFORMED }, { "M1000,2", RSP_MALFORMED },
	{ "X1000,0:", RSP_WRITE_MEM_BIN }, { "X1000,2:}", RSP_MALFORMED }, { "X1000,3:ab", RSP_MALFORMED },
	{ "Z0,1000,1", RSP_INSERT_BREAK }, { "Z5,1000,1", RSP_MALFORMED }, { "Z0,1000", RSP_MALFORMED },
	{ "z2,1000,4", RSP_REMOVE_BREAK }, { "z0,1000,1;X1,0", RSP_MALFORMED },
	{ "Z0,1,1;Q", RSP_MALFORMED }, { "c", RSP_CONTINUE }, { "cxyz", RSP_MALFORMED },
	{ "C05", RSP_CONTINUE }, { "C", RSP_MALFORMED }, { "C05;", RSP_MALFORMED },
	{ "C100", RSP_MALFORMED }, { "s", RSP_STEP }, { "S0b;400000", RSP_STEP },
	{ "bc", RSP_REVERSE_CONTINUE }, { "bs", RSP_REVERSE_STEP }, { "bcx", RSP_UNSUPPORTED },
	{ "vCont?", RSP_VCONT_QUERY }, { "vCont", RSP_MALFORMED }, { "vCont;", RSP_MALFORMED },
	{ "vCont;q", RSP_MALFORMED }, { "vCont;c:", RSP_MALFORMED }, { "vCont;c:p1.2x", RSP_MALFORMED },
	{ "vCont;r1000:p1.1", RSP_MALFORMED }, { "vCont;C:1", RSP_MALFORMED },
	{ "Hg0", RSP_SET_THREAD }, { "Hc-1", RSP_SET_THREAD }, { "Hx1", RSP_MALFORMED },
	{ "H", RSP_MALFORMED }, { "Hg", RSP_MALFORMED }, { "Hgp", RSP_MALFORMED },
	{ "Hgp1.", RSP_MALFORMED }, { "Hg-2", RSP_MALFORMED }, { "Tp1.2", RSP_THREAD_ALIVE },
	{ "T", RSP_MALFORMED }, { "qC", RSP_CURRENT_THREAD }, { "qCRC:0,1", RSP_UNSUPPORTED },
	{ "qfThreadInfo", RSP_THREAD_INFO_FIRST }, { "qsThreadInfo", RSP_THREAD_INFO_NEXT },
	{ "qThreadExtraInfo,p1.2", RSP_THREAD_EXTRA_INFO }, { "qThreadExtraInfo", RSP_MALFORMED },
	{ "qXfer:features:read:target.xml", RSP_MALFORMED },
	{ "qXfer:features:read:target.xml:0", RSP_MALFORMED }, { "qXfer::read::0,1", RSP_MALFORMED },
	{ "qXfer:features:frob:x", RSP_UNSUPPORTED }, { "qXfer", RSP_MALFORMED },
	{ "qXfer:siginfo:write::0:ab}", RSP_MALFORMED }, { "QPassSignals:", RSP_PASS_SIGNALS },
	{ "QPassSignals:100", RSP_MALFORMED }, { "QPassSignals:e,1", RSP_MALFORMED },
	{ "QPassSignals", RSP_MALFORMED }, { "QProgramSignals:0;1", RSP_PROGRAM_SIGNALS },
	{ "qAttached", RSP_ATTACHED }, { "qAttached:", RSP_MALFORMED }, { "qOffsets", RSP_OFFSETS },
	{ "qSymbol:1000:", RSP_MALFORMED }, { "qSymbol", RSP_MALFORMED }, { "qSymbol::6d6", RSP_MALFORMED },
	{ "qTStatus", RSP_TRACE_STATUS }, { "vMustReplyEmpty", RSP_MUST_REPLY_EMPTY }, { "k", RSP_KILL },
	{ "vKill;1f", RSP_VKILL }, { "vKill", RSP_MALFORMED }, { "D", RSP_DETACH },
	{ "D1f", RSP_MALFORMED }, { "qRcmd,6", RSP_MALFORMED }, { "qRcmd", RSP_MALFORMED },
	{ "vFile:", RSP_MALFORMED }, { "vFile", RSP_MALFORMED }, { "vFile::x", RSP_MALFORMED },
	{ "QNonStop:1", RSP_NON_STOP }, { "QNonStop:2", RSP_MALFORMED }, { "vRun", RSP_MALFORMED },
	{ "vRun;zz", RSP_MALFORMED }, { "vRun;2f6", RSP_MALFORMED }, { "vAttach;1f", RSP_VATTACH },
	{ "vCtrlC", RSP_VCTRLC }, { "qGetTLSAddr:p1.2,10", RSP_MALFORMED },
	{ "QEnableErrorStrings", RSP_ENABLE_ERROR_STRINGS }, { "QThreadEvents:1", RSP_THREAD_EVENTS },
	{ "QStartupWithShell:0", RSP_STARTUP_WITH_SHELL }, { "QSetWorkingDir:", RSP_SET_WORKING_DIR },
	{ "QEnvironmentHexEncoded:464f4f", RSP_MALFORMED }, { "QEnvironmentReset", RSP_ENV_RESET },
	{ "QEnvironmentUnset:", RSP_MALFORMED }, { "qTfV", RSP_UNSUPPORTED }, { "", RSP_UNSUPPORTED },
	{ "i", RSP_UNSUPPORTED }, { "QCatchSyscalls:1", RSP_UNSUPPORTED }, { "jThreadsInfo", RSP_UNSUPPORTED },
	{ "qL1160000000000000000", RSP_UNSUPPORTED },
};

Test(rsp_packet, kinds_and_malformed_variants)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct rsp_packet p;
		parse(kinds[i].in, &p);
		cr_expect_eq(p.kind, kinds[i].kind, "\"%s\": got %s, want %s", kinds[i].in,
			     rsp_kind_name(p.kind), rsp_kind_name(kinds[i].kind));
		if (p.kind == RSP_MALFORMED)
			cr_expect(p.error && *p.error, "\"%s\" needs a reason", kinds[i].in);
		rsp_packet_free(&p);
	}
}

Test(rsp_packet, qsupported_and_registers)
{
	struct rsp_packet p;
	parse("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;"
	      "exec-events+;vContSupported+;QThreadEvents+;no-resumed-;memory-tagging?;"
	      "xmlRegisters=i386", &p);
	unsigned want = RSP_FBIT(RSP_F_MULTIPROCESS) | RSP_FBIT(RSP_F_SWBREAK) |
		RSP_FBIT(RSP_F_HWBREAK) | RSP_FBIT(RSP_F_QRELOCINSN) | RSP_FBIT(RSP_F_FORK_EVENTS) |
		RSP_FBIT(RSP_F_VFORK_EVENTS) | RSP_FBIT(RSP_F_EXEC_EVENTS) |
		RSP_FBIT(RSP_F_VCONT_SUPPORTED) | RSP_FBIT(RSP_F_QTHREAD_EVENTS);
	cr_assert_eq(p.u.supported.features, want);
	cr_assert_str_eq(p.u.supported.xml_registers, "i386");
	parse("P39=ffffffffffffffff", &p);
	cr_assert(p.u.reg.regno == 0x39 && p.u.reg.len == 8 && p.u.reg.data[7] == 0xff);
	parse("G0102", &p);
	cr_assert(p.u.regs.len == 2 && p.u.regs.data[1] == 2);
	parse("pa0", &p);
	cr_assert_eq(p.u.reg.regno, 0xa0);
}

Test(rsp_packet, memory_and_binary_data)
{
	struct rsp_packet p;
	parse("m7ffff7fc8000,40", &p);
	cr_assert(p.u.mem.addr == 0x7ffff7fc8000 && p.u.mem.len == 0x40);
	parse("m0,ffffffff", &p);
	cr_assert_eq(p.u.mem.len, RSP_MAX_READ_HEX, "clamped to fit one reply");
	parse("M400000,3:00ff7f", &p);
	cr_assert(p.kind == RSP_WRITE_MEM && p.u.mem.len == 3 && !memcmp(p.u.mem.data, "\x00\xff\x7f", 3));
	/* X carries '#', '$', '}' and '*' escaped, and raw NUL and 0x03 bytes. */
	char x[] = "X10,6:}\x03}\x04}]}\x0a\x00\x03";
	rsp_parse(x, sizeof x - 1, &p);
	cr_assert_eq(p.kind, RSP_WRITE_MEM_BIN);
	cr_assert_eq(p.u.mem.len, 6);
	cr_assert_eq(memcmp(p.u.mem.data, "#$}*\x00\x03", 6), 0);
	parse("x400000,ff", &p);
	cr_assert(p.kind == RSP_READ_MEM_BIN && p.u.mem.len == 0xff);
}

Test(rsp_packet, breakpoints_and_resumption)
{
	struct rsp_packet p;
	parse("Z4,555555558030,4", &p);
	cr_assert(p.kind == RSP_INSERT_BREAK && p.u.bp.type == 4 && p.u.bp.addr == 0x555555558030 &&
		  p.u.bp.kind == 4 && !p.u.bp.has_cond);
	parse("Z0,1000,1;X3,220027;cmds:0,X1,00", &p);
	cr_assert(p.kind == RSP_INSERT_BREAK && p.u.bp.has_cond && p.u.bp.has_cmds);
	parse("Z1,1000,1;cmds:1,X1,00", &p);
	cr_assert(p.kind == RSP_INSERT_BREAK && !p.u.bp.has_cond && p.u.bp.has_cmds);
	parse("c400000", &p);
	cr_assert(p.kind == RSP_CONTINUE && p.u.resume.has_addr && p.u.resume.addr == 0x400000);
	parse("C1e;401000", &p);
	cr_assert(p.u.resume.has_sig && p.u.resume.sig == 0x1e && p.u.resume.addr == 0x401000);
	parse("S0b", &p);
	cr_assert(p.kind == RSP_STEP && p.u.resume.sig == 11 && !p.u.resume.has_addr);
}

Test(rsp_packet, vcont_actions_and_thread_ids)
{
	struct rsp_packet p;
	parse("vCont;C1e:p2e15.2e15;c:p2e15.-1", &p);
	cr_assert_eq(p.kind, RSP_VCONT);
	cr_assert_eq(p.u.vcont.n, 2);
	struct rsp_vcont_action *a = p.u.vcont.actions;
	cr_assert(a[0].action == 'c' && a[0].has_sig && a[0].sig == 0x1e && a[0].has_thread);
	cr_assert(a[0].thread.has_pid && a[0].thread.pid == 0x2e15 && a[0].thread.tid == 0x2e15);
	cr_assert(a[1].action == 'c' && !a[1].has_sig && a[1].thread.tid == -1);
	rsp_packet_free(&p);
	parse("vCont;r400000,400010:p1.2;s:3;t;S05", &p);
	cr_assert_eq(p.u.vcont.n, 4);
	a = p.u.vcont.actions;
	cr_assert(a[0].action == 'r' && a[0].start == 0x400000 && a[0].end == 0x400010);
	cr_assert(a[1].action == 's' && !a[1].thread.has_pid && a[1].thread.tid == 3);
	cr_assert(a[2].action == 't' && !a[2].has_thread);
	cr_assert(a[3].action == 's' && a[3].sig == 5);
	rsp_packet_free(&p);
	parse("Hgp0.0", &p);
	cr_assert(p.u.hthread.op == 'g' && p.u.hthread.thread.has_pid && p.u.hthread.thread.pid == 0 &&
		  p.u.hthread.thread.tid == 0);
	parse("Hc-1", &p);
	cr_assert(p.u.hthread.op == 'c' && !p.u.hthread.thread.has_pid && p.u.hthread.thread.pid == -1);
	parse("Hgp1f", &p);
	cr_assert(p.u.hthread.thread.pid == 0x1f && p.u.hthread.thread.tid == -1, "pPID: all threads");
	parse("Hgp-1.-1", &p);
	cr_assert(p.u.hthread.thread.pid == -1 && p.u.hthread.thread.tid == -1);
	parse("T1f", &p);
	cr_assert(p.kind == RSP_THREAD_ALIVE && p.u.thread.tid == 0x1f && p.u.thread.pid == 0);
}

Test(rsp_packet, queries_and_settings)
{
	struct rsp_packet p;
	parse("qXfer:libraries-svr4:read:start=0x10;prev=0x20:0,1000", &p);
	cr_assert(p.kind == RSP_XFER_READ && p.u.xfer.object == RSP_XFER_LIBRARIES_SVR4);
	cr_assert_str_eq(p.u.xfer.annex, "start=0x10;prev=0x20");
	cr_assert(p.u.xfer.offset == 0 && p.u.xfer.length == 0x1000);
	parse("qXfer:exec-file:read:2e15:0,1000", &p);
	cr_assert(p.u.xfer.object == RSP_XFER_EXEC_FILE && !strcmp(p.u.xfer.annex, "2e15"));
	parse("qXfer:osdata:read::10,20", &p);
	cr_assert(p.kind == RSP_XFER_READ && p.u.xfer.object == RSP_XFER_OTHER &&
		  !strcmp(p.u.xfer.object_name, "osdata") && !*p.u.xfer.annex);
	parse("qXfer:siginfo:write::0:a}]b", &p);
	cr_assert(p.kind == RSP_XFER_WRITE && p.u.xfer.data_len == 3 && !memcmp(p.u.xfer.data, "a}b", 3));
	parse("QPassSignals:e;10;14;17;1a;1b;1c;21;24;25;2c;4c;97;", &p);
	cr_assert(rsp_signal_in(&p, 0xe) && rsp_signal_in(&p, 0x97) && !rsp_signal_in(&p, 5));
	parse("qRcmd,68656c70", &p);
	cr_assert(p.u.monitor.len == 4 && !strcmp(p.u.monitor.cmd, "help"));
	parse("qSymbol::6d61696e", &p);
	cr_assert(!p.u.symbol.has_value && !strcmp(p.u.symbol.name, "main"));
	parse("qSymbol:401000:6d61696e", &p);
	cr_assert(p.u.symbol.has_value && p.u.symbol.value == 0x401000);
	parse("qSymbol::", &p);
	cr_assert(p.kind == RSP_SYMBOL && !p.u.symbol.name);
	parse("vRun;2f746d702f7273702f70726f6732;61726731;;74776f", &p);
	cr_assert(p.kind == RSP_VRUN && p.u.run.argc == 4);
	cr_assert_str_eq(p.u.run.argv[0], "/tmp/rsp/prog2");
	cr_assert(!strcmp(p.u.run.argv[1], "arg1") && !*p.u.run.argv[2] && !strcmp(p.u.run.argv[3], "two"));
	rsp_packet_free(&p);
	parse("vRun;", &p);
	cr_assert(p.kind == RSP_VRUN && p.u.run.argc == 1 && !*p.u.run.argv[0]);
	rsp_packet_free(&p);
	parse("QEnvironmentHexEncoded:464f4f3d6261722062617a", &p);
	cr_assert(!strcmp(p.u.env.name, "FOO") && !strcmp(p.u.env.value, "bar baz"));
	parse("QEnvironmentUnset:424152", &p);
	cr_assert(p.kind == RSP_ENV_UNSET && !strcmp(p.u.env.name, "BAR"));
	parse("QSetWorkingDir:2f746d70", &p);
	cr_assert_str_eq(p.u.text, "/tmp");
	parse("QDisableRandomization:1", &p);
	cr_assert(p.kind == RSP_DISABLE_RANDOMIZATION && p.u.flag);
	parse("qGetTLSAddr:p1.2,10,7ffff000", &p);
	cr_assert(p.u.tls.thread.tid == 2 && p.u.tls.offset == 0x10 && p.u.tls.lm == 0x7ffff000);
	parse("D;1f", &p);
	cr_assert(p.kind == RSP_DETACH && p.u.pid.has_pid && p.u.pid.pid == 0x1f);
	parse("qAttached:170a", &p);
	cr_assert(p.u.pid.has_pid && p.u.pid.pid == 0x170a);
	parse("vFile:open:6a7573742070726f62696e67,0,1c0", &p);
	cr_assert(!strcmp(p.u.vfile.op, "open") && !strcmp(p.u.vfile.args, "6a7573742070726f62696e67,0,1c0"));
}

/* Every packet gdb 13 sent in two captured sessions (gdbserver; extended-remote with
 * vRun, environment, hardware break/watchpoints, signals) parses, and none is malformed. */
Test(rsp_packet, captured_gdb13_sessions_parse)
{
	static const char *const files[] = { CORPUS "gdb13-remote.bin", CORPUS "gdb13-extended.bin" };
	unsigned seen[RSP_KIND__COUNT] = { 0 };
	for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
		char *data;
		size_t len;
		cr_assert_eq(read_file(files[f], &data, &len), 0, "%s", files[f]);
		struct tconn t;
		struct rsp_event ev;
		tc_open(&t);
		rsp_conn_feed(t.c, data, len);
		rsp_conn_feed_eof(t.c);
		while (rsp_conn_next(t.c, &ev) == 1 && ev.kind != RSP_EV_EOF) {
			cr_assert_eq(ev.kind, RSP_EV_PACKET);
			struct rsp_packet p;
			char copy[128];
			snprintf(copy, sizeof copy, "%.*s", (int)MIN(ev.len, 100), ev.data);
			rsp_parse(ev.data, ev.len, &p);
			cr_assert_neq(p.kind, RSP_MALFORMED, "%s: %s", copy, p.error);
			seen[p.kind]++;
			rsp_packet_free(&p);
			tc_out(&t);
		}
		struct rsp_conn_stats st;
		rsp_conn_get_stats(t.c, &st);
		cr_assert_eq(st.bad_checksums, 0);
		cr_assert_eq(st.garbage_bytes, 0);
		tc_close(&t);
		free(data);
	}
	static const enum rsp_kind expected[] = {
		RSP_QSUPPORTED, RSP_START_NOACK, RSP_PROGRAM_SIGNALS, RSP_PASS_SIGNALS, RSP_SET_THREAD,
		RSP_XFER_READ, RSP_NON_STOP, RSP_TRACE_STATUS, RSP_STOP_REASON, RSP_ATTACHED,
		RSP_VFILE, RSP_READ_MEM, RSP_SYMBOL, RSP_INSERT_BREAK, RSP_REMOVE_BREAK, RSP_VCONT_QUERY,
		RSP_VCONT, RSP_READ_REGS, RSP_WRITE_REGS, RSP_WRITE_REG, RSP_MONITOR, RSP_VRUN,
		RSP_ENV_SET, RSP_ENV_UNSET, RSP_ENV_RESET, RSP_SET_WORKING_DIR, RSP_STARTUP_WITH_SHELL,
		RSP_DISABLE_RANDOMIZATION, RSP_MUST_REPLY_EMPTY, RSP_OFFSETS,
	};
	for (size_t i = 0; i < ARRAY_SIZE(expected); i++)
		cr_expect(seen[expected[i]], "no %s in the captures", rsp_kind_name(expected[i]));
}

/* ---- replies ---- */

static const char *stop(const struct rsp_stop *s, bool mp)
{
	static struct sbuf b;
	sbuf_reset(&b);
	cr_assert_eq(rsp_reply_stop(&b, s, mp), 0);
	return sbuf_str(&b);
}

Test(rsp_reply, stop_replies)
{
	struct rsp_ptid t = { 0x1f, 0x20, true };
	struct rsp_stop s = { .kind = RSP_STOP_SIGNAL, .sig = 5, .thread = t, .core = -1 };
	cr_assert_str_eq(stop(&s, true), "T05thread:p1f.20;");
	cr_assert_str_eq(stop(&s, false), "T05thread:20;");
	s.reason = RSP_REASON_SWBREAK;
	s.core = 1;
	cr_assert_str_eq(stop(&s, true), "T05swbreak:;thread:p1f.20;core:1;");
	s.reason = RSP_REASON_HWBREAK;
	s.core = -1;
	cr_assert_str_eq(stop(&s, true), "T05hwbreak:;thread:p1f.20;");
	s.reason = RSP_REASON_WATCH;
	s.addr = 0x55555555802c;
	s.expedite = "06:0000000000000000;";
	cr_assert_str_eq(stop(&s, true), "T05watch:55555555802c;06:0000000000000000;thread:p1f.20;");
	s.expedite = NULL;
	s.reason = RSP_REASON_RWATCH;
	cr_assert_str_eq(stop(&s, true), "T05rwatch:55555555802c;thread:p1f.20;");
	s.reason = RSP_REASON_AWATCH;
	cr_assert_str_eq(stop(&s, true), "T05awatch:55555555802c;thread:p1f.20;");
	s.reason = RSP_REASON_REPLAY_BEGIN;
	cr_assert_str_eq(stop(&s, true), "T05replaylog:begin;thread:p1f.20;");
	s.reason = RSP_REASON_REPLAY_END;
	cr_assert_str_eq(stop(&s, true), "T05replaylog:end;thread:p1f.20;");
	s.reason = RSP_REASON_FORK;
	s.child = (struct rsp_ptid){ 0x21, 0x21, true };
	cr_assert_str_eq(stop(&s, true), "T05fork:p21.21;thread:p1f.20;");
	s.reason = RSP_REASON_VFORK_DONE;
	cr_assert_str_eq(stop(&s, true), "T05vforkdone:;thread:p1f.20;");
	s.reason = RSP_REASON_EXEC;
	s.exec_path = "/bin/ls";
	cr_assert_str_eq(stop(&s, true), "T05exec:2f62696e2f6c73;thread:p1f.20;");
	s.reason = RSP_REASON_CREATE;
	cr_assert_str_eq(stop(&s, true), "T05create:;thread:p1f.20;");
	s.reason = RSP_REASON_SYSCALL_ENTRY;
	s.addr = 0xe7;
	s.sig = 0x1e;
	cr_assert_str_eq(stop(&s, true), "T1esyscall_entry:e7;thread:p1f.20;");
	struct rsp_stop w = { .kind = RSP_STOP_EXITED, .status = 0, .thread = t };
	cr_assert_str_eq(stop(&w, true), "W00;process:1f");
	cr_assert_str_eq(stop(&w, false), "W00");
	w.kind = RSP_STOP_KILLED;
	w.sig = 9;
	cr_assert_str_eq(stop(&w, true), "X09;process:1f");
	w.kind = RSP_STOP_THREAD_EXITED;
	w.status = 3;
	cr_assert_str_eq(stop(&w, true), "w03;p1f.20");
	w.kind = RSP_STOP_NO_RESUMED;
	cr_assert_str_eq(stop(&w, true), "N");
	struct sbuf b = { 0 };
	w.reason = 99;
	w.kind = RSP_STOP_SIGNAL;
	cr_assert_eq(rsp_reply_stop(&b, &w, true), -EINVAL);
	cr_assert_eq(b.len, 0);
}

Test(rsp_reply, errors_supported_and_simple_replies)
{
	struct sbuf b = { 0 };
	rsp_reply_error(&b, -EFAULT, "cannot read 0x10", false);
	cr_assert_str_eq(b.s, "E0e");
	sbuf_reset(&b);
	rsp_reply_error(&b, EIO, "bad #$*} \x01text", true);
	cr_assert_str_eq(b.s, "E.bad ???? ?text");
	sbuf_reset(&b);
	rsp_reply_ok(&b);
	cr_assert_str_eq(b.s, "OK");
	sbuf_reset(&b);
	unsigned gdb = RSP_FBIT(RSP_F_MULTIPROCESS) | RSP_FBIT(RSP_F_SWBREAK) | RSP_FBIT(RSP_F_FORK_EVENTS);
	unsigned agreed = rsp_reply_supported(&b, RSP_FBIT(RSP_S_NOACK) | RSP_FBIT(RSP_S_REVERSE),
		RSP_FBIT(RSP_F_MULTIPROCESS) | RSP_FBIT(RSP_F_SWBREAK) | RSP_FBIT(RSP_F_HWBREAK), gdb);
	cr_assert_str_eq(b.s, "PacketSize=10000;QStartNoAckMode+;ReverseContinue+;ReverseStep+;"
			      "multiprocess+;swbreak+");
	cr_assert_eq(agreed, RSP_FBIT(RSP_F_MULTIPROCESS) | RSP_FBIT(RSP_F_SWBREAK));
	sbuf_reset(&b);
	rsp_reply_current_thread(&b, (struct rsp_ptid){ 0x170a, 0x170b, true }, true);
	cr_assert_str_eq(b.s, "QCp170a.170b");
	sbuf_reset(&b);
	rsp_reply_binary(&b, "a#$*}\x00", 6);
	cr_assert_eq(b.len, 11);
	cr_assert_eq(memcmp(b.s, "ba}\x03}\x04}\x0a}]\x00", 11), 0);
	sbuf_reset(&b);
	size_t used = rsp_reply_output(&b, "hi\n", 3);
	cr_assert(used == 3 && !strcmp(b.s, "O68690a"));
	sbuf_free(&b);
}

Test(rsp_reply, thread_lists_come_in_chunks)
{
	enum { N = 5000 };
	struct rsp_ptid *th = calloc(N, sizeof *th);
	for (int i = 0; i < N; i++)
		th[i] = (struct rsp_ptid){ 0x7fffffff, 0x7ffff000L + i, true };
	struct sbuf b = { 0 };
	size_t cur = 0, total = 0;
	int packets = 0;
	for (;;) {
		sbuf_reset(&b);
		rsp_reply_thread_list(&b, th, N, &cur, true);
		cr_assert_leq(b.len, RSP_PACKET_SIZE);
		if (b.s[0] == 'l')
			break;
		cr_assert_eq(b.s[0], 'm');
		packets++;
		for (char *p = b.s + 1; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
			total++;
	}
	cr_assert_eq(total, N);
	cr_assert_gt(packets, 1, "5000 threads do not fit one packet");
	size_t c0 = 0;
	sbuf_reset(&b);
	rsp_reply_thread_list(&b, th, 2, &c0, false);
	cr_assert_str_eq(b.s, "m7ffff000,7ffff001");
	free(th);
	sbuf_free(&b);
}

Test(rsp_reply, xfer_windows_reassemble_the_document)
{
	size_t n = 3 * RSP_PACKET_SIZE;
	uint8_t *doc = malloc(n);
	for (size_t i = 0; i < n; i++)
		doc[i] = (uint8_t)(i * 7 + (i >> 9));   /* includes every byte to escape */
	struct sbuf b = { 0 }, got = { 0 };
	uint64_t off = 0;
	for (int guard = 0; guard < 1000; guard++) {
		sbuf_reset(&b);
		rsp_reply_xfer(&b, doc, n, off, 0x1000 + (uint64_t)guard * 977);
		cr_assert_leq(b.len, RSP_PACKET_SIZE);
		cr_assert(b.s[0] == 'm' || b.s[0] == 'l');
		long k = rsp_unescape((uint8_t *)b.s + 1, b.len - 1);
		cr_assert_geq(k, 0);
		sbuf_append(&got, b.s + 1, (size_t)k);
		off += (uint64_t)k;
		if (b.s[0] == 'l')
			break;
	}
	cr_assert_eq(got.len, n);
	cr_assert_eq(memcmp(got.s, doc, n), 0);
	sbuf_reset(&b);
	rsp_reply_xfer(&b, "abc", 3, 3, 100);
	cr_assert_str_eq(b.s, "l");
	sbuf_reset(&b);
	rsp_reply_xfer(&b, "abc", 3, 1, 1);
	cr_assert_str_eq(b.s, "mb");
	sbuf_reset(&b);
	rsp_reply_xfer(&b, "abc", 3, 1, 2);
	cr_assert_str_eq(b.s, "lbc");
	free(doc);
	sbuf_free(&b);
	sbuf_free(&got);
}

Test(rsp_reply, console_output_is_split_into_packets)
{
	struct tconn t;
	tc_open(&t);
	rsp_conn_set_noack(t.c);
	char text[2500];
	memset(text, 'x', sizeof text);
	cr_assert_eq(rsp_send_console(t.c, text, sizeof text), 0);
	const char *out = tc_out(&t);
	int packets = 0;
	for (const char *p = out; (p = strchr(p, '$')); p++) {
		cr_assert_eq(p[1], 'O');
		packets++;
	}
	cr_assert_eq(packets, 3);
	tc_close(&t);
}
