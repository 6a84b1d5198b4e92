/* The x86-64 target description and register mapping, checked by round trips, by the
 * x87 tag and XSAVE init-state rules, and against a real gdb 13 connected to a canned
 * stub built from the rsp_* modules (registers, memory, no-ack mode, qXfer chunking). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/regs.h"
#include "gdbplug/rsp_codec.h"
#include "gdbplug/rsp_conn.h"
#include "gdbplug/rsp_packet.h"
#include "gdbplug/rsp_reply.h"
#include "gdbplug/tdesc.h"

extern char **environ;

/* Storage with every XSAVE component present, filled with a byte pattern. */
struct store {
	struct user_regs_struct gpr;
	uint8_t *xsave;
	struct tdesc_regs r;
};

static void store_init(struct store *s, uint8_t seed)
{
	const struct xsave_layout *L = regs_xsave_layout();
	memset(&s->gpr, 0, sizeof s->gpr);
	s->xsave = calloc(1, L->size);
	for (size_t i = 0; i < L->size; i++)
		s->xsave[i] = (uint8_t)(i * 13 + seed);
	uint64_t bv = 0xe7; /* x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM */
	memcpy(s->xsave + XSAVE_HDR_OFF, &bv, 8);
	memset(s->xsave + XSAVE_HDR_OFF + 8, 0, 56);
	uint8_t *g = (uint8_t *)&s->gpr;
	for (size_t i = 0; i < sizeof s->gpr; i++)
		g[i] = (uint8_t)(i * 7 + seed);
	s->r = (struct tdesc_regs){ &s->gpr, s->xsave, L->size };
}

static const struct tdesc *host(void) { return tdesc_get(tdesc_host_variant()); }

Test(rsp_tdesc, numbering_matches_gdbs_amd64_linux_layout)
{
	static const struct { const char *name; unsigned regno, size; } want[] = {
		{ "rax", 0, 8 }, { "rbx", 1, 8 }, { "rsp", 7, 8 }, { "r15", 15, 8 }, { "rip", 16, 8 },
		{ "eflags", 17, 4 }, { "cs", 18, 4 }, { "gs", 23, 4 }, { "st0", 24, 10 }, { "st7", 31, 10 },
		{ "fctrl", 32, 4 }, { "fop", 39, 4 }, { "xmm0", 40, 16 }, { "xmm15", 55, 16 },
		{ "mxcsr", 56, 4 }, { "orig_rax", 57, 8 }, { "fs_base", 58, 8 }, { "gs_base", 59, 8 },
		{ "ymm0h", 60, 16 }, { "ymm15h", 75, 16 }, { "xmm16", 76, 16 }, { "ymm31h", 107, 16 },
		{ "k0", 108, 8 }, { "k7", 115, 8 }, { "zmm0h", 116, 32 }, { "zmm31h", 147, 32 },
	};
	const struct tdesc *t = tdesc_get(TDESC_AVX512);
	cr_assert_eq(tdesc_nregs(t), 148);
	cr_assert_eq(tdesc_g_size(t), 2416);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct tdesc_reg *r = tdesc_reg_by_name(t, want[i].name);
		cr_assert(r, "%s", want[i].name);
		cr_assert_eq(r->regno, want[i].regno, "%s", want[i].name);
		cr_assert_eq(r->size, want[i].size, "%s", want[i].name);
		cr_assert_eq(tdesc_reg(t, r->regno), r);
	}
	cr_assert_eq(tdesc_nregs(tdesc_get(TDESC_SSE)), 60);
	cr_assert_eq(tdesc_g_size(tdesc_get(TDESC_SSE)), 560);
	cr_assert_eq(tdesc_nregs(tdesc_get(TDESC_AVX)), 76);
	cr_assert_null(tdesc_reg(t, 148));
	cr_assert_null(tdesc_get(7));
	size_t n;
	const char *xml = tdesc_xml(t, &n);
	cr_assert_eq(strlen(xml), n);
	cr_assert(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	cr_assert(strstr(xml, "<feature name=\"org.gnu.gdb.i386.segments\">"));
	cr_assert(strstr(xml, "<reg name=\"zmm31h\" bitsize=\"256\" type=\"v2ui128\" regnum=\"147\"/>"));
	cr_assert(!strstr(tdesc_xml(tdesc_get(TDESC_SSE), &n), "ymm0h"));
	const char *doc;
	cr_assert_eq(tdesc_lookup_xml(t, "target.xml", &doc, &n), 0);
	cr_assert_eq(tdesc_lookup_xml(t, "64bit-core.xml", &doc, &n), -ENOENT);
}

Test(rsp_tdesc, g_packet_round_trip)
{
	const struct tdesc *t = host();
	struct store a, b;
	store_init(&a, 1);
	store_init(&b, 99);
	struct sbuf g = { 0 }, g2 = { 0 };
	tdesc_encode_g(t, &a.r, &g);
	cr_assert_eq(g.len, 2 * tdesc_g_size(t));
	cr_assert_null(strchr(g.s, 'x'), "everything available");
	uint8_t *bytes = malloc(g.len / 2);
	cr_assert_eq(rsp_hex_decode(g.s, g.len, bytes), 0);
	cr_assert_eq(tdesc_decode_g(t, bytes, g.len / 2, &b.r), 0);
	tdesc_encode_g(t, &b.r, &g2);
	cr_assert_str_eq(g.s, g2.s);
	cr_assert_eq(b.gpr.rax, a.gpr.rax);
	cr_assert_eq(b.gpr.cs, a.gpr.cs & 0xffffffff, "4 bytes on the wire, zero-extended");
	const struct xsave_layout *L = regs_xsave_layout();
	cr_assert_eq(memcmp(b.xsave + FX_XMM(0), a.xsave + FX_XMM(0), 256), 0);
	if (L->avx_off)
		cr_assert_eq(memcmp(b.xsave + L->avx_off, a.xsave + L->avx_off, 256), 0);
	/* Partial G on a register boundary; anything else refused untouched. */
	cr_assert_eq(tdesc_decode_g(t, bytes, 8 * 17, &b.r), 0);
	cr_assert_eq(tdesc_decode_g(t, bytes, 8 * 17 + 1, &b.r), -EINVAL);
	cr_assert_eq(tdesc_decode_g(t, bytes, tdesc_g_size(t) + 4, &b.r), -EINVAL);
	free(bytes);
	free(a.xsave);
	free(b.xsave);
	sbuf_free(&g);
	sbuf_free(&g2);
}

Test(rsp_tdesc, single_registers)
{
	const struct tdesc *t = host();
	struct store s;
	store_init(&s, 3);
	uint8_t v[32];
	size_t len;
	uint8_t rip[8] = { 0x10, 0x20, 0, 0, 0, 0, 0, 0 };
	cr_assert_eq(tdesc_write_reg(t, 16, rip, 8, &s.r), 0);
	cr_assert_eq(s.gpr.rip, 0x2010);
	cr_assert_eq(tdesc_read_reg(t, 16, &s.r, v, &len), 0);
	cr_assert(len == 8 && !memcmp(v, rip, 8));
	cr_assert_eq(tdesc_write_reg(t, 16, rip, 4, &s.r), -EINVAL, "size must match");
	cr_assert_eq(tdesc_write_reg(t, 999, rip, 8, &s.r), -EINVAL);
	cr_assert_eq(tdesc_read_reg(t, 999, &s.r, v, &len), -EINVAL);
	uint8_t fl[4] = { 0x46, 0x02, 0, 0 };
	s.gpr.eflags = ~0ull;
	cr_assert_eq(tdesc_write_reg(t, 17, fl, 4, &s.r), 0);
	cr_assert_eq(s.gpr.eflags, 0x246);
	uint8_t x[16];
	for (int i = 0; i < 16; i++)
		x[i] = (uint8_t)(0xa0 + i);
	cr_assert_eq(tdesc_write_reg(t, 40 + 3, x, 16, &s.r), 0);
	cr_assert_eq(memcmp(s.xsave + FX_XMM(3), x, 16), 0);
	uint8_t fc[4] = { 0x7f, 0x03, 0xff, 0xff };   /* only 16 bits are stored */
	cr_assert_eq(tdesc_write_reg(t, 32, fc, 4, &s.r), 0);
	cr_assert_eq(tdesc_read_reg(t, 32, &s.r, v, &len), 0);
	cr_assert_eq(memcmp(v, "\x7f\x03\x00\x00", 4), 0);
	uint8_t fop[4] = { 0xff, 0xff, 0, 0 };        /* 11 bits */
	tdesc_write_reg(t, 39, fop, 4, &s.r);
	tdesc_read_reg(t, 39, &s.r, v, &len);
	cr_assert_eq(memcmp(v, "\xff\x07\x00\x00", 4), 0);
	/* Without an XSAVE image only general registers exist. */
	struct tdesc_regs gpr_only = { &s.gpr, NULL, 0 };
	cr_assert_eq(tdesc_read_reg(t, 0, &gpr_only, v, &len), 0);
	cr_assert_eq(tdesc_read_reg(t, 40, &gpr_only, v, &len), -ENODATA);
	cr_assert_eq(tdesc_write_reg(t, 40, x, 16, &gpr_only), -ENODATA);
	/* A bare FXSAVE area: x87/SSE yes, AVX no ("xx" in g). */
	struct tdesc_regs fx = { &s.gpr, s.xsave, 512 };
	cr_assert_eq(tdesc_read_reg(t, 40, &fx, v, &len), 0);
	struct sbuf g = { 0 };
	tdesc_encode_g(tdesc_get(TDESC_AVX), &fx, &g);
	cr_assert_eq(g.len, 2 * 816);
	cr_assert_eq(strspn(g.s + 2 * 560, "x"), 2 * 256);
	sbuf_reset(&g);
	s.gpr.rbp = 0x1122334455667788;
	tdesc_expedite(t, &s.r, &g);
	cr_assert(!strncmp(g.s, "06:8877665544332211;07:", 23));
	cr_assert(strstr(g.s, ";10:1020000000000000;"));
	sbuf_free(&g);
	free(s.xsave);
}

Test(rsp_tdesc, x87_tag_word_from_the_abridged_form)
{
	const struct tdesc *t = tdesc_get(TDESC_SSE);
	struct store s;
	store_init(&s, 0);
	uint8_t *fx = s.xsave;
	memset(fx + FX_ST(0), 0, 8 * 16);
	/* TOP = 6: st0 is physical register 6, st1 is 7, st2 is 0. */
	uint16_t fsw = 6 << 11;
	memcpy(fx + FX_FSW, &fsw, 2);
	static const uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f };   /* 1.0 */
	static const uint8_t nan[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x7f };
	memcpy(fx + FX_ST(0), one, 10);   /* phys 6: valid (0) */
	memcpy(fx + FX_ST(2), nan, 10);   /* phys 0: special (2) */
	/* st1 = phys 7 stays 0.0: zero (1) */
	fx[FX_FTW] = 1u << 6 | 1u << 7 | 1u << 0;
	uint8_t v[4];
	size_t len;
	cr_assert_eq(tdesc_read_reg(t, 34, &s.r, v, &len), 0);
	uint32_t tag;
	memcpy(&tag, v, 4);
	uint32_t want = 2u << 0 | 0u << 12 | 1u << 14;
	for (int phys = 1; phys < 6; phys++)
		want |= 3u << (2 * phys);
	cr_assert_eq(tag, want, "ftag %#x want %#x", tag, want);
	fx[FX_FTW] = 0;
	cr_assert_eq(tdesc_write_reg(t, 34, v, 4, &s.r), 0);
	cr_assert_eq(fx[FX_FTW], 1u << 6 | 1u << 7 | 1u << 0);
	free(s.xsave);
}

Test(rsp_tdesc, xsave_components_in_init_state)
{
	const struct xsave_layout *L = regs_xsave_layout();
	if (!L->avx_off)
		cr_skip_test("no AVX on this CPU");
	const struct tdesc *t = tdesc_get(TDESC_AVX);
	struct store s;
	store_init(&s, 5);
	uint64_t bv = 0x3; /* x87 and SSE only: the AVX bytes are stale */
	memcpy(s.xsave + XSAVE_HDR_OFF, &bv, 8);
	uint8_t v[16], zero[16] = { 0 };
	size_t len;
	cr_assert_eq(tdesc_read_reg(t, 60 + 4, &s.r, v, &len), 0);
	cr_assert_eq(memcmp(v, zero, 16), 0, "ymm4h reads as its initial zero");
	uint8_t one[16] = { 1 };
	cr_assert_eq(tdesc_write_reg(t, 60 + 4, one, 16, &s.r), 0);
	memcpy(&bv, s.xsave + XSAVE_HDR_OFF, 8);
	cr_assert_eq(bv, 0x7, "writing sets the component's XSTATE_BV bit");
	cr_assert_eq(memcmp(s.xsave + L->avx_off + 64, one, 16), 0);
	cr_assert_eq(tdesc_read_reg(t, 60 + 5, &s.r, v, &len), 0);
	cr_assert_eq(memcmp(v, zero, 16), 0, "the rest of the component was initialised");
	bv = 0;  /* everything initial: fctrl 0x37f, ftag empty, mxcsr 0x1f80 */
	memcpy(s.xsave + XSAVE_HDR_OFF, &bv, 8);
	uint32_t r32;
	tdesc_read_reg(t, 32, &s.r, v, &len);
	memcpy(&r32, v, 4);
	cr_assert_eq(r32, 0x37f);
	tdesc_read_reg(t, 34, &s.r, v, &len);
	memcpy(&r32, v, 4);
	cr_assert_eq(r32, 0xffff);
	tdesc_read_reg(t, 56, &s.r, v, &len);
	memcpy(&r32, v, 4);
	cr_assert_eq(r32, 0x1f80);
	free(s.xsave);
}
/* ---- a real gdb against a canned stub ---- */

#define MEM_BASE 0x400000
#define PID 0x1234

struct stub {
	const struct tdesc *t;
	struct store s;
	uint8_t mem[4096];
	bool mp;
	uint64_t rwatch;                /* address of an inserted read watchpoint, or 0 */
	unsigned counts[RSP_KIND__COUNT];
};

static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void stub_init(struct stub *st)
{
	const struct xsave_layout *L = regs_xsave_layout();
	memset(st, 0, sizeof *st);
	st->t = host();
	store_init(&st->s, 0);
	memset(st->s.xsave, 0, L->size);
	uint64_t bv = 0xe7;
	memcpy(st->s.xsave + XSAVE_HDR_OFF, &bv, 8);
	struct user_regs_struct *g = &st->s.gpr;
	memset(g, 0, sizeof *g);
	g->rax = 0x1122334455667788;
	g->rip = MEM_BASE + 0x10;
	g->rsp = g->rbp = MEM_BASE + 0x800;
	g->eflags = 0x246;
	g->cs = 0x33;
	g->ss = 0x2b;
	g->fs_base = 0x7ffff7d8a740;
	g->orig_rax = (unsigned long long)-1;
	uint8_t *x = st->s.xsave;
	uint16_t fcw = 0x37f;
	memcpy(x + FX_FCW, &fcw, 2);
	uint32_t mxcsr = 0x1f80;
	memcpy(x + FX_MXCSR, &mxcsr, 4);
	static const uint8_t one_and_half[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x3f };
	memcpy(x + FX_ST(0), one_and_half, 10);
	x[FX_FTW] = 1;                                   /* TOP 0: st0 valid, the rest empty */
	for (int i = 0; i < 4; i++)
		memcpy(x + FX_XMM(1) + 4 * i, &(uint32_t){ (uint32_t)i + 1 }, 4);
	put_u64(x + FX_XMM(2), 0x11);
	put_u64(x + FX_XMM(2) + 8, 0x22);
	if (L->avx_off) {
		put_u64(x + L->avx_off + 32, 0x33);
		put_u64(x + L->avx_off + 40, 0x44);
	}
	if (tdesc_host_variant() == TDESC_AVX512) {
		for (int i = 0; i < 2; i++)
			put_u64(x + FX_XMM(3) + 8 * i, (uint64_t)i + 1);
		for (int i = 0; i < 2; i++)
			put_u64(x + L->avx_off + 48 + 8 * i, (uint64_t)i + 3);
		for (int i = 0; i < 4; i++)
			put_u64(x + L->zmm_hi_off + 96 + 8 * i, (uint64_t)i + 5);
		put_u64(x + L->k_off + 8, 0xff00);
		put_u64(x + L->hi16_off + 64 * 4, 20);     /* xmm20 */
		put_u64(x + L->hi16_off + 64 * 4 + 8, 21);
	}
	for (size_t i = 0; i < sizeof st->mem; i++)
		st->mem[i] = (uint8_t)i;
}

static void reply_mem(struct stub *st, const struct rsp_packet *p, struct sbuf *b)
{
	uint64_t a = p->u.mem.addr, n = p->u.mem.len;
	if (a < MEM_BASE || a - MEM_BASE > sizeof st->mem)
		return rsp_reply_error(b, EFAULT, NULL, false);
	n = MIN(n, sizeof st->mem - (a - MEM_BASE));
	if (p->kind == RSP_WRITE_MEM) {
		memcpy(st->mem + (a - MEM_BASE), p->u.mem.data, n);
		return rsp_reply_ok(b);
	}
	rsp_reply_hex(b, st->mem + (a - MEM_BASE), n);
}

/* Serve one gdb connection until it goes away. */
static void stub_serve(struct stub *st, int fd)
{
	struct rsp_conn *c;
	struct rsp_event ev;
	struct sbuf b = { 0 };
	struct rsp_ptid self = { PID, PID, true };
	size_t cursor = 0;
	cr_assert_eq(rsp_conn_new(fd, fd, &c), 0);
	while (rsp_conn_wait(c, 30000, &ev) == 1 && ev.kind != RSP_EV_EOF) {
		struct rsp_packet p;
		if (ev.kind != RSP_EV_PACKET)
			continue;
		rsp_parse(ev.data, ev.len, &p);
		st->counts[p.kind]++;
		sbuf_reset(&b);
		sbuf_append(&b, "", 0);
		size_t len;
		const char *doc;
		uint8_t v[32];
		switch (p.kind) {
		case RSP_QSUPPORTED:
			st->mp = rsp_reply_supported(&b, RSP_FBIT(RSP_S_NOACK) | RSP_FBIT(RSP_S_XFER_FEATURES) |
						     RSP_FBIT(RSP_S_REVERSE),
						     RSP_FBIT(RSP_F_MULTIPROCESS) | RSP_FBIT(RSP_F_SWBREAK),
						     p.u.supported.features) & RSP_FBIT(RSP_F_MULTIPROCESS);
			break;
		case RSP_START_NOACK: case RSP_SET_THREAD: case RSP_THREAD_ALIVE: case RSP_DETACH:
		case RSP_KILL: case RSP_VKILL:
			rsp_reply_ok(&b);
			break;
		case RSP_XFER_READ:
			if (p.u.xfer.object == RSP_XFER_FEATURES &&
			    !tdesc_lookup_xml(st->t, p.u.xfer.annex, &doc, &len))
				rsp_reply_xfer(&b, doc, len, p.u.xfer.offset, p.u.xfer.length);
			else
				rsp_reply_error(&b, ENOENT, NULL, false);
			break;
		case RSP_INSERT_BREAK: case RSP_REMOVE_BREAK:
			if (p.u.bp.type == 3)
				st->rwatch = p.kind == RSP_INSERT_BREAK ? p.u.bp.addr : 0;
			rsp_reply_ok(&b);
			break;
		case RSP_STOP_REASON: case RSP_CONTINUE: case RSP_STEP: case RSP_VCONT:
		case RSP_REVERSE_STEP: case RSP_REVERSE_CONTINUE: {
			/* Forward runs hit the read watchpoint; reverse runs hit the start of history. */
			struct sbuf ex = { 0 };
			tdesc_expedite(st->t, &st->s.r, &ex);
			struct rsp_stop s = { .kind = RSP_STOP_SIGNAL, .sig = 5, .thread = self,
					      .expedite = ex.s, .core = -1 };
			if (p.kind == RSP_REVERSE_STEP || p.kind == RSP_REVERSE_CONTINUE)
				s.reason = RSP_REASON_REPLAY_BEGIN;
			else if (p.kind != RSP_STOP_REASON && st->rwatch) {
				s.reason = RSP_REASON_RWATCH;
				s.addr = st->rwatch;
			}
			rsp_reply_stop(&b, &s, st->mp);
			sbuf_free(&ex);
			break;
		}
		case RSP_THREAD_INFO_FIRST:
			cursor = 0;
			/* fall through */
		case RSP_THREAD_INFO_NEXT:
			rsp_reply_thread_list(&b, &self, 1, &cursor, st->mp);
			break;
		case RSP_CURRENT_THREAD:
			rsp_reply_current_thread(&b, self, st->mp);
			break;
		case RSP_ATTACHED:
			sbuf_puts(&b, "1");
			break;
		case RSP_READ_REGS:
			tdesc_encode_g(st->t, &st->s.r, &b);
			break;
		case RSP_WRITE_REGS:
			if (tdesc_decode_g(st->t, p.u.regs.data, p.u.regs.len, &st->s.r))
				rsp_reply_error(&b, EINVAL, NULL, false);
			else
				rsp_reply_ok(&b);
			break;
		case RSP_READ_REG:
			if (tdesc_read_reg(st->t, p.u.reg.regno, &st->s.r, v, &len))
				rsp_reply_error(&b, EINVAL, NULL, false);
			else
				rsp_reply_hex(&b, v, len);
			break;
		case RSP_WRITE_REG:
			if (tdesc_write_reg(st->t, p.u.reg.regno, p.u.reg.data, p.u.reg.len, &st->s.r))
				rsp_reply_error(&b, EINVAL, NULL, false);
			else
				rsp_reply_ok(&b);
			break;
		case RSP_READ_MEM: case RSP_WRITE_MEM:
			reply_mem(st, &p, &b);
			break;
		case RSP_MALFORMED:
			cr_expect(0, "gdb sent a packet we call malformed: %s", p.error);
			break;
		default:
			break; /* "": unsupported */
		}
		rsp_conn_send(c, b.s, b.len);
		if (p.kind == RSP_START_NOACK)
			rsp_conn_set_noack(c);
		rsp_packet_free(&p);
	}
	rsp_conn_free(c);
	sbuf_free(&b);
}

static bool have_gdb(void)
{
	return access("/usr/bin/gdb", X_OK) == 0 || system("command -v gdb >/dev/null 2>&1") == 0;
}

Test(rsp_tdesc, real_gdb_reads_and_writes_registers_through_the_stub, .timeout = 120)
{
	if (!have_gdb())
		cr_skip_test("gdb is not installed");
	signal(SIGPIPE, SIG_IGN);
	struct stub *st = calloc(1, sizeof *st);
	stub_init(st);
	bool avx512 = tdesc_host_variant() == TDESC_AVX512;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	cr_assert_eq(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(listen(ls, 1), 0);
	cr_assert_eq(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	char target[64];
	snprintf(target, sizeof target, "target remote 127.0.0.1:%d", ntohs(sa.sin_port));
	const char *cmds[] = {
		"set confirm off", target, "p/x $rax", "p $rip", "info registers eflags",
		"p $xmm1.v4_int32", "p/x $ymm2.v4_int64", "p $st0", "p/x $ftag", "p/x $mxcsr",
		"p/x $fs_base", "p $orig_rax", "x/4xb 0x400000",
		avx512 ? "p $zmm3.v8_int64" : "echo no-avx512\\n",
		avx512 ? "p/x $k1" : "echo no-avx512\\n",
		avx512 ? "p $xmm20.v2_int64" : "echo no-avx512\\n",
		"set $rax = 0x42", "set $ymm5.v8_int32[7] = 7", "set var *(char *)0x400001 = 0x55",
		"p/x $rax", "reverse-stepi", "reverse-continue", "rwatch *(int *)0x400100", "continue",
		"detach",
	};
	char *argv[3 + 2 * ARRAY_SIZE(cmds) + 1];
	int k = 0;
	argv[k++] = "gdb";
	argv[k++] = "-nx";
	argv[k++] = "-batch";
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		argv[k++] = "-ex";
		argv[k++] = (char *)cmds[i];
	}
	argv[k] = NULL;
	int out[2];
	cr_assert_eq(pipe(out), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	cr_assert_eq(posix_spawnp(&pid, "gdb", &fa, NULL, argv, environ), 0);
	close(out[1]);
	struct pollfd pfd = { .fd = ls, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 30000), 1, "gdb did not connect");
	int fd = accept(ls, NULL, NULL);
	cr_assert_geq(fd, 0);
	stub_serve(st, fd);
	close(fd);
	close(ls);
	static char text[65536];
	size_t tl = 0;
	ssize_t r;
	while (tl < sizeof text - 1 && (r = read(out[0], text + tl, sizeof text - 1 - tl)) > 0)
		tl += (size_t)r;
	text[tl] = 0;
	close(out[0]);
	int status;
	waitpid(pid, &status, 0);
	cr_log_info("gdb said:\n%s", text);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "gdb failed:\n%s", text);
	static const char *const want[] = {
		"$1 = 0x1122334455667788", "$2 = (void (*)()) 0x400010", "[ PF ZF IF ]",
		"$3 = {1, 2, 3, 4}", "$4 = {0x11, 0x22, 0x33, 0x44}", "$5 = 1.5", "$6 = 0xfffc",
		"$7 = 0x1f80", "$8 = 0x7ffff7d8a740", "$9 = -1",
		"0x400000:\t0x00\t0x01\t0x02\t0x03",
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		cr_expect(strstr(text, want[i]), "missing \"%s\" in:\n%s", want[i], text);
	if (avx512) {
		cr_expect(strstr(text, "$10 = {1, 2, 3, 4, 5, 6, 7, 8}"), "zmm3 in:\n%s", text);
		cr_expect(strstr(text, "$11 = 0xff00"), "k1 in:\n%s", text);
		cr_expect(strstr(text, "$12 = {20, 21}"), "xmm20 in:\n%s", text);
	}
	cr_expect(strstr(text, avx512 ? "$13 = 0x42" : "$10 = 0x42"), "rax after set in:\n%s", text);
	cr_assert_eq(st->s.gpr.rax, 0x42, "gdb's register write reached the storage");
	const struct xsave_layout *L = regs_xsave_layout();
	if (L->avx_off) {
		uint32_t w;
		memcpy(&w, st->s.xsave + L->avx_off + 16 * 5 + 12, 4);
		cr_assert_eq(w, 7, "ymm5 element 7 lives in ymm5h");
	}
	cr_assert_eq(st->mem[1], 0x55, "memory write");
	cr_assert(st->counts[RSP_START_NOACK] && st->counts[RSP_XFER_READ] >= 2,
		  "no-ack mode and a target.xml longer than one window");
	cr_assert(st->counts[RSP_READ_REGS] && st->counts[RSP_DETACH]);
	cr_assert(st->counts[RSP_REVERSE_STEP] && st->counts[RSP_REVERSE_CONTINUE]);
	cr_expect(strstr(text, "No more reverse-execution history."), "replaylog in:\n%s", text);
	cr_expect(strstr(text, "Hardware read watchpoint 1: *(int *)0x400100\n\nValue = 50462976"),
		  "rwatch stop in:\n%s", text);
	posix_spawn_file_actions_destroy(&fa);
	free(st->s.xsave);
	free(st);
}
