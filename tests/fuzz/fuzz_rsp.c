/* Fuzz the RSP wire layer: arbitrary bytes as a connection's input stream (in random
 * chunk sizes, ack and no-ack mode) and as a bare packet payload, with properties:
 * delivered payloads are bounded and NUL-terminated, every parse is internally
 * consistent, escapes / hex / run-length encoding round-trip, qXfer windows reassemble
 * the document, and the G -> g register mapping is idempotent. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/regs.h"
#include "fuzz.h"
#include "gdbplug/rsp_codec.h"
#include "gdbplug/rsp_conn.h"
#include "gdbplug/rsp_packet.h"
#include "gdbplug/rsp_reply.h"
#include "gdbplug/tdesc.h"

#define FAIL(...) do { fprintf(stderr, "fuzz_rsp: " __VA_ARGS__); fputc('\n', stderr); \
	return 1; } while (0)

static int check_packet(const struct rsp_packet *p)
{
	if ((unsigned)p->kind >= RSP_KIND__COUNT)
		FAIL("kind %d out of range", p->kind);
	switch (p->kind) {
	case RSP_MALFORMED:
		if (!p->error || !*p->error)
			FAIL("malformed without a reason");
		break;
	case RSP_READ_MEM:
		if (p->u.mem.len > RSP_MAX_READ_HEX)
			FAIL("m length not clamped");
		break;
	case RSP_WRITE_MEM: case RSP_WRITE_MEM_BIN:
		if (p->u.mem.len && !p->u.mem.data)
			FAIL("memory write without data");
		break;
	case RSP_VCONT:
		if (!p->u.vcont.n || !p->u.vcont.actions)
			FAIL("vCont without actions");
		for (size_t i = 0; i < p->u.vcont.n; i++)
			if (!strchr("cstr", p->u.vcont.actions[i].action))
				FAIL("vCont action %c", p->u.vcont.actions[i].action);
		break;
	case RSP_VRUN:
		if (!p->u.run.argc || !p->u.run.argv || p->u.run.argv[p->u.run.argc])
			FAIL("vRun argv");
		break;
	case RSP_XFER_READ: case RSP_XFER_WRITE:
		if (!p->u.xfer.annex || !p->u.xfer.object_name)
			FAIL("qXfer without annex/object");
		break;
	case RSP_INSERT_BREAK: case RSP_REMOVE_BREAK:
		if (p->u.bp.type < 0 || p->u.bp.type > 4)
			FAIL("Z type %d", p->u.bp.type);
		break;
	default:
		break;
	}
	return 0;
}

static int parse_copy(const void *data, size_t len)
{
	char *buf = malloc(len + 1);
	memcpy(buf, data, len);
	buf[len] = 0;
	struct rsp_packet p;
	rsp_parse(buf, len, &p);
	int r = check_packet(&p);
	rsp_packet_free(&p);
	free(buf);
	return r;
}

/* Escapes, hex and run-length encoding give the input back. */
static int codec_round_trips(const uint8_t *d, size_t n)
{
	struct sbuf a = { 0 }, b = { 0 };
	int r = 0;
	rsp_put_escaped(&a, d, n, SIZE_MAX);
	for (size_t i = 0; i < a.len && !r; i++)
		if (a.s[i] == '#' || a.s[i] == '$' || a.s[i] == '*')
			r = 1;
	long k = rsp_unescape((uint8_t *)a.s, a.len);
	if (r || k != (long)n || memcmp(a.s, d, n))
		r = 1;
	sbuf_reset(&a);
	rsp_put_hex(&a, d, n);
	uint8_t *h = malloc(n + 1);
	if (a.len != 2 * n || rsp_hex_decode(a.s, a.len, h) || memcmp(h, d, n))
		r = 1;
	free(h);
	sbuf_reset(&a);
	rsp_rle_encode(d, n, &a);
	if (!memchr(d, '#', n) && !memchr(d, '$', n) && (memchr(a.s, '#', a.len) || memchr(a.s, '$', a.len)))
		r = 1;
	if (!memchr(d, '*', n) &&
	    (rsp_rle_decode(a.s, a.len, &b, SIZE_MAX) || b.len != n || memcmp(b.s, d, n)))
		r = 1;
	sbuf_free(&a);
	sbuf_free(&b);
	if (r)
		FAIL("codec round trip");
	return 0;
}

/* The document comes back whole through qXfer windows of varying size. */
static int xfer_reassembles(const uint8_t *d, size_t n)
{
	struct sbuf b = { 0 }, got = { 0 };
	uint64_t off = 0, win = n ? 1 + d[0] % 200 : 1;
	int r = 0;
	for (int guard = 0; guard <= (int)n + 1; guard++) {
		sbuf_reset(&b);
		rsp_reply_xfer(&b, d, n, off, win);
		long k = rsp_unescape((uint8_t *)b.s + 1, b.len - 1);
		if (k < 0 || (b.s[0] != 'm' && b.s[0] != 'l')) {
			r = 1;
			break;
		}
		sbuf_append(&got, b.s + 1, (size_t)k);
		off += (uint64_t)k;
		if (b.s[0] == 'l')
			break;
	}
	if (got.len != n || (n && memcmp(got.s, d, n)))
		r = 1;
	sbuf_free(&b);
	sbuf_free(&got);
	if (r)
		FAIL("qXfer reassembly");
	return 0;
}

/* Registers: apply the input as a G packet; g -> G -> g must then be stable. */
static int registers_idempotent(const uint8_t *d, size_t n)
{
	const struct tdesc *t = tdesc_get(tdesc_host_variant());
	const struct xsave_layout *L = regs_xsave_layout();
	struct user_regs_struct g1 = { 0 }, g2 = { 0 };
	uint8_t *x1 = calloc(1, L->size), *x2 = calloc(1, L->size);
	struct tdesc_regs r1 = { &g1, x1, L->size }, r2 = { &g2, x2, L->size };
	if (n >= XSAVE_HDR_OFF + 8)
		memcpy(x1 + XSAVE_HDR_OFF, d + XSAVE_HDR_OFF, 8); /* random XSTATE_BV */
	size_t len = 0;
	for (unsigned i = 0; i < tdesc_nregs(t) && len + tdesc_reg(t, i)->size <= n; i++)
		len += tdesc_reg(t, i)->size;
	int r = tdesc_decode_g(t, d, len, &r1) != 0;
	struct sbuf a = { 0 }, b = { 0 };
	tdesc_encode_g(t, &r1, &a);
	uint8_t *bytes = malloc(a.len / 2 + 1);
	for (size_t i = 0; i < a.len; i++)
		if (a.s[i] == 'x')
			a.s[i] = '0';
	r |= rsp_hex_decode(a.s, a.len, bytes) != 0;
	memcpy(x2 + XSAVE_HDR_OFF, x1 + XSAVE_HDR_OFF, 8);
	r |= tdesc_decode_g(t, bytes, a.len / 2, &r2) != 0;
	tdesc_encode_g(t, &r2, &b);
	r |= a.len != b.len || memcmp(a.s, b.s, a.len);
	free(bytes);
	free(x1);
	free(x2);
	sbuf_free(&a);
	sbuf_free(&b);
	if (r)
		FAIL("g/G not idempotent");
	return 0;
}

/* The bytes as a connection's input, fed in chunks. */
static int stream(const uint8_t *d, size_t n)
{
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct rsp_conn *c;
	if (out < 0 || rsp_conn_new(-1, out, &c))
		FAIL("cannot open a connection");
	size_t chunk = n ? 1 + d[0] % 97 : 1;
	bool noack_after_first = n > 1 && (d[1] & 1);
	int r = 0;
	struct rsp_event ev;
	for (size_t at = 0; at < n + chunk && !r; at += chunk) {
		if (at >= n)
			rsp_conn_feed_eof(c);
		else
			rsp_conn_feed(c, d + at, MIN(chunk, n - at));
		int e = 0;
		while (!r && (e = rsp_conn_next(c, &ev)) == 1) {
			if (ev.kind == RSP_EV_EOF)
				break;
			if (ev.kind != RSP_EV_PACKET)
				continue;
			if (ev.len > RSP_PACKET_SIZE || ev.data[ev.len] != 0)
				r = 1;
			else
				r = parse_copy(ev.data, ev.len);
			if (noack_after_first)
				rsp_conn_set_noack(c);
			rsp_conn_send(c, ev.data, MIN(ev.len, (size_t)64));
		}
		if (e < 0)
			r = 1;
	}
	if (!r && (rsp_conn_next(c, &ev) != 1 || ev.kind != RSP_EV_EOF))
		r = 1;
	rsp_conn_free(c);
	close(out);
	if (r)
		FAIL("stream property");
	return 0;
}

int fuzz_one(const uint8_t *data, size_t len)
{
	log_levels[LM_GDB] = LOG_ERROR; /* protocol noise is expected here */
	return stream(data, len) || parse_copy(data, len) || codec_round_trips(data, len) ||
	       xfer_reassembles(data, len) || registers_idempotent(data, len);
}

static void frame(void (*add)(const uint8_t *, size_t), const char *payload)
{
	if (!payload)
		return;
	char buf[512];
	int n = snprintf(buf, sizeof buf, "$%s#%02x", payload, rsp_checksum(payload, strlen(payload)));
	add((const uint8_t *)buf, (size_t)n);
	add((const uint8_t *)payload, strlen(payload));
}

void fuzz_seeds(void (*add)(const uint8_t *data, size_t len))
{
	static const char *const payloads[] = {
		"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;"
		"exec-events+;vContSupported+;QThreadEvents+;no-resumed+;xmlRegisters=i386",
		"QStartNoAckMode", "?", "!", "g", "G00112233", "p10", "P39=ffffffffffffffff",
		"m7ffff7fc8000,40", "M400000,3:00ff7f", "x400000,ff", "X10,4:}\x03}\x04}]}\x0a",
		"Z0,555555555161,1", "Z2,55555555802c,4", "z4,555555558030,4",
		"Z0,1000,1;X3,220027;cmds:0,X1,00", "c", "C1e;401000", "s400000", "S0b", "bc", "bs",
		"vCont?", "vCont;c:p170a.-1", "vCont;C1e:p2e15.2e15;c:p2e15.-1", "vCont;r1000,2000:p1.1;t",
		"Hgp0.0", "Hc-1", "Tp1.2", "qC", "qfThreadInfo", "qsThreadInfo", "qThreadExtraInfo,p1.2",
		"qXfer:features:read:target.xml:0,1000", "qXfer:libraries-svr4:read:start=1;prev=2:0,fff",
		"qXfer:siginfo:write::0:ab}]", "QPassSignals:e;10;14;17;1a;1b;1c;21;24;25;2c;4c;97;",
		"QProgramSignals:0;1;3", "qAttached:170a", "qOffsets", "qSymbol::", "qSymbol:401000:6d61696e",
		"qTStatus", "vMustReplyEmpty", "k", "vKill;1f", "D;1f", "qRcmd,68656c70",
		"vFile:open:6a7573742070726f62696e67,0,1c0", "QNonStop:0",
		"vRun;2f746d702f70726f67;61726731", "vAttach;1f", "vCtrlC", "qGetTLSAddr:p1.2,10,7ffff000",
		"QEnableErrorStrings", "QDisableRandomization:1", "QThreadEvents:1", "QStartupWithShell:0",
		"QSetWorkingDir:2f746d70", "QEnvironmentHexEncoded:464f4f3d626172", "QEnvironmentUnset:424152",
		"QEnvironmentReset",
	};
	for (size_t i = 0; i < ARRAY_SIZE(payloads); i++)
		frame(add, payloads[i]);
	static const char acks[] = "+$QStartNoAckMode#b0+-\x03$g#67\x03$g#00junk$m0,1";
	add((const uint8_t *)acks, sizeof acks - 1);
}
