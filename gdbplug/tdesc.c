/* tdesc: the x86-64 target description and gdb register numbers <-> rewind storage. */
#include "tdesc.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/regs.h"
#include "rsp_codec.h"

#define TDESC_MAX_REGS 148
#define XSTATE_BV_OFF XSAVE_HDR_OFF
#define XSAVE_MIN_WITH_HEADER (XSAVE_HDR_OFF + 64)
#define MXCSR_DEFAULT 0x1f80
#define FCW_DEFAULT 0x37f
#define FX_AREA 512

enum feature { F_CORE, F_SSE, F_LINUX, F_SEGMENTS, F_AVX, F_AVX512, F__COUNT };

static const char *const feature_names[F__COUNT] = {
	"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.linux",
	"org.gnu.gdb.i386.segments", "org.gnu.gdb.i386.avx", "org.gnu.gdb.i386.avx512",
};

/* A register plus what only the XML needs. */
struct regdef {
	struct tdesc_reg r;
	enum feature feature;
	const char *type, *group;
};

struct tdesc {
	enum tdesc_variant variant;
	struct regdef regs[TDESC_MAX_REGS];
	size_t n;
	size_t g_size;
	char *xml;
	size_t xml_len;
};

static struct tdesc descs[3];
static bool built[3];

static void add(struct tdesc *t, enum feature f, const char *name, unsigned size,
		enum tdesc_store st, size_t off, int comp, const char *type, const char *group)
{
	struct regdef *d = &t->regs[t->n];
	d->r = (struct tdesc_reg){ name, (unsigned)t->n, size, st, off, comp };
	d->feature = f;
	d->type = type;
	d->group = group;
	t->n++;
	t->g_size += size;
}

#define GPR(f, name, size, field, type) \
	add(t, f, name, size, TS_GPR, offsetof(struct user_regs_struct, field), -1, type, NULL)

static void build_regs(struct tdesc *t)
{
	const struct xsave_layout *L = regs_xsave_layout();
	static const char *const st_names[8] = { "st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7" };

	GPR(F_CORE, "rax", 8, rax, "int64"); GPR(F_CORE, "rbx", 8, rbx, "int64");
	GPR(F_CORE, "rcx", 8, rcx, "int64"); GPR(F_CORE, "rdx", 8, rdx, "int64");
	GPR(F_CORE, "rsi", 8, rsi, "int64"); GPR(F_CORE, "rdi", 8, rdi, "int64");
	GPR(F_CORE, "rbp", 8, rbp, "data_ptr"); GPR(F_CORE, "rsp", 8, rsp, "data_ptr");
	GPR(F_CORE, "r8", 8, r8, "int64"); GPR(F_CORE, "r9", 8, r9, "int64");
	GPR(F_CORE, "r10", 8, r10, "int64"); GPR(F_CORE, "r11", 8, r11, "int64");
	GPR(F_CORE, "r12", 8, r12, "int64"); GPR(F_CORE, "r13", 8, r13, "int64");
	GPR(F_CORE, "r14", 8, r14, "int64"); GPR(F_CORE, "r15", 8, r15, "int64");
	GPR(F_CORE, "rip", 8, rip, "code_ptr");
	GPR(F_CORE, "eflags", 4, eflags, "i386_eflags");
	GPR(F_CORE, "cs", 4, cs, "int32"); GPR(F_CORE, "ss", 4, ss, "int32");
	GPR(F_CORE, "ds", 4, ds, "int32"); GPR(F_CORE, "es", 4, es, "int32");
	GPR(F_CORE, "fs", 4, fs, "int32"); GPR(F_CORE, "gs", 4, gs, "int32");
	for (int i = 0; i < 8; i++)
		add(t, F_CORE, st_names[i], 10, TS_XSAVE, FX_ST(i), 0, "i387_ext", NULL);
	/* In the 64-bit FXSAVE format the "segment" halves are the high words of FIP/FDP. */
	add(t, F_CORE, "fctrl", 4, TS_FX16, FX_FCW, 0, "int", "float");
	add(t, F_CORE, "fstat", 4, TS_FX16, FX_FSW, 0, "int", "float");
	add(t, F_CORE, "ftag", 4, TS_FTAG, FX_FTW, 0, "int", "float");
	add(t, F_CORE, "fiseg", 4, TS_XSAVE, FX_FIP + 4, 0, "int", "float");
	add(t, F_CORE, "fioff", 4, TS_XSAVE, FX_FIP, 0, "int", "float");
	add(t, F_CORE, "foseg", 4, TS_XSAVE, FX_FDP + 4, 0, "int", "float");
	add(t, F_CORE, "fooff", 4, TS_XSAVE, FX_FDP, 0, "int", "float");
	add(t, F_CORE, "fop", 4, TS_FOP, FX_FOP, 0, "int", "float");
	for (int i = 0; i < 16; i++)
		add(t, F_SSE, xasprintf("xmm%d", i), 16, TS_XSAVE, FX_XMM(i), 1, "vec128", NULL);
	add(t, F_SSE, "mxcsr", 4, TS_XSAVE, FX_MXCSR, 1, "i386_mxcsr", "vector");
	GPR(F_LINUX, "orig_rax", 8, orig_rax, "int");
	GPR(F_SEGMENTS, "fs_base", 8, fs_base, "int");
	GPR(F_SEGMENTS, "gs_base", 8, gs_base, "int");
	if (t->variant == TDESC_SSE)
		return;
	for (int i = 0; i < 16; i++)
		add(t, F_AVX, xasprintf("ymm%dh", i), 16, TS_XSAVE,
		    L->avx_off ? L->avx_off + 16 * (size_t)i : TDESC_OFF_NONE, 2, "uint128", NULL);
	if (t->variant == TDESC_AVX)
		return;
	for (int i = 16; i < 32; i++)
		add(t, F_AVX512, xasprintf("xmm%d", i), 16, TS_XSAVE,
		    L->hi16_off ? L->hi16_off + 64 * (size_t)(i - 16) : TDESC_OFF_NONE, 7, "vec128", NULL);
	for (int i = 16; i < 32; i++)
		add(t, F_AVX512, xasprintf("ymm%dh", i), 16, TS_XSAVE,
		    L->hi16_off ? L->hi16_off + 64 * (size_t)(i - 16) + 16 : TDESC_OFF_NONE, 7,
		    "uint128", NULL);
	for (int i = 0; i < 8; i++)
		add(t, F_AVX512, xasprintf("k%d", i), 8, TS_XSAVE,
		    L->k_off ? L->k_off + 8 * (size_t)i : TDESC_OFF_NONE, 5, "uint64", NULL);
	for (int i = 0; i < 32; i++) {
		size_t off = TDESC_OFF_NONE;
		if (i < 16 && L->zmm_hi_off)
			off = L->zmm_hi_off + 32 * (size_t)i;
		else if (i >= 16 && L->hi16_off)
			off = L->hi16_off + 64 * (size_t)(i - 16) + 32;
		add(t, F_AVX512, xasprintf("zmm%dh", i), 32, TS_XSAVE, off, i < 16 ? 6 : 7,
		    "v2ui128", NULL);
	}
}

static const struct { const char *name; int bit; } eflags_fields[] = {
	{ "CF", 0 }, { "", 1 }, { "PF", 2 }, { "AF", 4 }, { "ZF", 6 }, { "SF", 7 },
	{ "TF", 8 }, { "IF", 9 }, { "DF", 10 }, { "OF", 11 }, { "NT", 14 }, { "RF", 16 },
	{ "VM", 17 }, { "AC", 18 }, { "VIF", 19 }, { "VIP", 20 }, { "ID", 21 },
}, mxcsr_fields[] = {
	{ "IE", 0 }, { "DE", 1 }, { "ZE", 2 }, { "OE", 3 }, { "UE", 4 }, { "PE", 5 },
	{ "DAZ", 6 }, { "IM", 7 }, { "DM", 8 }, { "ZM", 9 }, { "OM", 10 }, { "UM", 11 },
	{ "PM", 12 }, { "FZ", 15 },
};

static void xml_flags(struct sbuf *x, const char *id, const void *fields_, size_t n)
{
	const typeof(eflags_fields[0]) *fields = fields_;
	sbuf_printf(x, "    <flags id=\"%s\" size=\"4\">\n", id);
	for (size_t i = 0; i < n; i++)
		sbuf_printf(x, "      <field name=\"%s\" start=\"%d\" end=\"%d\" type=\"bool\"/>\n",
			    fields[i].name, fields[i].bit, fields[i].bit);
	sbuf_puts(x, "    </flags>\n");
}

/* The 128-bit vector union gdb shows for xmm registers. */
static void xml_vec128(struct sbuf *x)
{
	static const struct { const char *id, *type; int count; const char *field; } v[] = {
		{ "v8bf16", "bfloat16", 8, "v8_bfloat16" }, { "v8h", "ieee_half", 8, "v8_half" },
		{ "v4f", "ieee_single", 4, "v4_float" }, { "v2d", "ieee_double", 2, "v2_double" },
		{ "v16i8", "int8", 16, "v16_int8" }, { "v8i16", "int16", 8, "v8_int16" },
		{ "v4i32", "int32", 4, "v4_int32" }, { "v2i64", "int64", 2, "v2_int64" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		sbuf_printf(x, "    <vector id=\"%s\" type=\"%s\" count=\"%d\"/>\n",
			    v[i].id, v[i].type, v[i].count);
	sbuf_puts(x, "    <union id=\"vec128\">\n");
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		sbuf_printf(x, "      <field name=\"%s\" type=\"%s\"/>\n", v[i].field, v[i].id);
	sbuf_puts(x, "      <field name=\"uint128\" type=\"uint128\"/>\n    </union>\n");
}

static void build_xml(struct tdesc *t)
{
	struct sbuf x = { 0 };
	sbuf_puts(&x, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		      "<target version=\"1.0\">\n  <architecture>i386:x86-64</architecture>\n"
		      "  <osabi>GNU/Linux</osabi>\n");
	for (int f = 0; f < F__COUNT; f++) {
		size_t first = t->n;
		for (size_t i = 0; i < t->n && first == t->n; i++)
			if (t->regs[i].feature == (enum feature)f)
				first = i;
		if (first == t->n)
			continue;
		sbuf_printf(&x, "  <feature name=\"%s\">\n", feature_names[f]);
		if (f == F_CORE)
			xml_flags(&x, "i386_eflags", eflags_fields, ARRAY_SIZE(eflags_fields));
		if (f == F_SSE || f == F_AVX512)
			xml_vec128(&x);
		if (f == F_SSE)
			xml_flags(&x, "i386_mxcsr", mxcsr_fields, ARRAY_SIZE(mxcsr_fields));
		if (f == F_AVX512)
			sbuf_puts(&x, "    <vector id=\"v2ui128\" type=\"uint128\" count=\"2\"/>\n");
		for (size_t i = first; i < t->n; i++) {
			const struct regdef *d = &t->regs[i];
			if (d->feature != (enum feature)f)
				continue;
			sbuf_printf(&x, "    <reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
				    d->r.name, d->r.size * 8, d->type, d->r.regno);
			if (d->group)
				sbuf_printf(&x, " group=\"%s\"", d->group);
			sbuf_puts(&x, "/>\n");
		}
		sbuf_puts(&x, "  </feature>\n");
	}
	sbuf_puts(&x, "</target>\n");
	t->xml_len = x.len;
	t->xml = sbuf_steal(&x);
}

const struct tdesc *tdesc_get(enum tdesc_variant v)
{
	if ((unsigned)v > TDESC_AVX512)
		return NULL;
	struct tdesc *t = &descs[v];
	if (!built[v]) {
		memset(t, 0, sizeof *t);
		t->variant = v;
		build_regs(t);
		build_xml(t);
		built[v] = true;
	}
	return t;
}

enum tdesc_variant tdesc_host_variant(void)
{
	const struct xsave_layout *L = regs_xsave_layout();
	if (L->avx_off && L->k_off && L->zmm_hi_off && L->hi16_off)
		return TDESC_AVX512;
	return L->avx_off ? TDESC_AVX : TDESC_SSE;
}

const char *tdesc_xml(const struct tdesc *t, size_t *len)
{
	*len = t->xml_len;
	return t->xml;
}

int tdesc_lookup_xml(const struct tdesc *t, const char *annex, const char **doc, size_t *len)
{
	if (strcmp(annex, "target.xml"))
		return -ENOENT;
	*doc = tdesc_xml(t, len);
	return 0;
}

size_t tdesc_nregs(const struct tdesc *t) { return t->n; }
size_t tdesc_g_size(const struct tdesc *t) { return t->g_size; }

const struct tdesc_reg *tdesc_reg(const struct tdesc *t, unsigned regno)
{
	return regno < t->n ? &t->regs[regno].r : NULL;
}

const struct tdesc_reg *tdesc_reg_by_name(const struct tdesc *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->regs[i].r.name, name))
			return &t->regs[i].r;
	return NULL;
}

/* ---- storage access ---- */

static bool has_header(const struct tdesc_regs *r)
{
	return r->xsave && r->xsave_len >= XSAVE_MIN_WITH_HEADER;
}

static uint64_t xstate_bv(const struct tdesc_regs *r)
{
	uint64_t bv;
	memcpy(&bv, r->xsave + XSTATE_BV_OFF, 8);
	return bv;
}

static bool available(const struct tdesc_reg *d, const struct tdesc_regs *r)
{
	if (d->store == TS_GPR)
		return r->gpr != NULL;
	if (!r->xsave || r->xsave_len < FX_AREA || d->off == TDESC_OFF_NONE)
		return false;
	if (d->component < 2)
		return true; /* the legacy FXSAVE area */
	return has_header(r) && d->off + d->size <= r->xsave_len;
}

/* A component whose XSTATE_BV bit is clear holds its initial state, whatever the bytes. */
static bool in_init_state(const struct tdesc_regs *r, int comp)
{
	return has_header(r) && !(xstate_bv(r) >> comp & 1);
}

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* gdb's i387 tag of one 80-bit register: 0 valid, 1 zero, 2 special. */
static unsigned x87_tag(const uint8_t *raw)
{
	unsigned exponent = get16(raw + 8) & 0x7fff;
	bool integer = raw[7] & 0x80;
	uint64_t mant;
	memcpy(&mant, raw, 8);
	if (exponent == 0x7fff)
		return 2;
	if (exponent == 0)
		return mant == 0 ? 1 : 2;
	return integer ? 0 : 2;
}

static uint16_t full_tag(const uint8_t *fx)
{
	unsigned top = get16(fx + FX_FSW) >> 11 & 7, abridged = fx[FX_FTW], tag = 0;
	for (unsigned phys = 0; phys < 8; phys++) {
		unsigned t = 3;
		if (abridged & (1u << phys))
			t = x87_tag(fx + FX_ST((phys + 8 - top) % 8));
		tag |= t << (2 * phys);
	}
	return (uint16_t)tag;
}

static void component_size(int comp, size_t *off, size_t *len)
{
	const struct xsave_layout *L = regs_xsave_layout();
	*off = 0;
	*len = 0;
	switch (comp) {
	case 2: *off = L->avx_off; *len = 256; break;
	case 5: *off = L->k_off; *len = 64; break;
	case 6: *off = L->zmm_hi_off; *len = 512; break;
	case 7: *off = L->hi16_off; *len = 1024; break;
	}
}

/* Before writing into a component: materialise its initial state and mark it present. */
static void make_present(struct tdesc_regs *r, int comp)
{
	if (!in_init_state(r, comp))
		return;
	uint8_t *x = r->xsave;
	if (comp == 0) {
		put16(x + FX_FCW, FCW_DEFAULT);
		put16(x + FX_FSW, 0);
		x[FX_FTW] = 0;
		put16(x + FX_FOP, 0);
		memset(x + FX_FIP, 0, 16);
		memset(x + FX_ST(0), 0, 8 * 16);
	} else if (comp == 1) {
		memset(x + FX_XMM(0), 0, 16 * 16);
		if (in_init_state(r, 2)) {
			uint32_t m = MXCSR_DEFAULT;
			memcpy(x + FX_MXCSR, &m, 4);
		}
	} else {
		size_t off, len;
		component_size(comp, &off, &len);
		if (off && off + len <= r->xsave_len)
			memset(x + off, 0, len);
	}
	uint64_t bv = xstate_bv(r) | 1ull << comp;
	memcpy(x + XSTATE_BV_OFF, &bv, 8);
}

int tdesc_read_reg(const struct tdesc *t, unsigned regno, const struct tdesc_regs *r,
		   uint8_t *out, size_t *len)
{
	const struct tdesc_reg *d = tdesc_reg(t, regno);
	if (!d)
		return -EINVAL;
	if (!available(d, r))
		return -ENODATA;
	*len = d->size;
	uint32_t v32;
	bool init = d->component >= 0 && in_init_state(r, d->component);
	switch (d->store) {
	case TS_GPR:
		memcpy(out, (const uint8_t *)r->gpr + d->off, d->size);
		return 0;
	case TS_FX16:
		v32 = init ? (d->off == FX_FCW ? FCW_DEFAULT : 0) : get16(r->xsave + d->off);
		break;
	case TS_FOP:
		v32 = init ? 0 : get16(r->xsave + d->off) & 0x7ff;
		break;
	case TS_FTAG:
		v32 = init ? 0xffff : full_tag(r->xsave);
		break;
	case TS_XSAVE:
		if (d->off == FX_MXCSR) /* MXCSR is live while SSE or AVX state is */
			init = in_init_state(r, 1) && in_init_state(r, 2);
		if (!init)
			memcpy(out, r->xsave + d->off, d->size);
		else if (d->off == FX_MXCSR)
			memcpy(out, &(uint32_t){ MXCSR_DEFAULT }, 4);
		else
			memset(out, 0, d->size);
		return 0;
	default:
		return -EINVAL;
	}
	memcpy(out, &v32, 4);
	return 0;
}

int tdesc_write_reg(const struct tdesc *t, unsigned regno, const uint8_t *val, size_t len,
		    struct tdesc_regs *r)
{
	const struct tdesc_reg *d = tdesc_reg(t, regno);
	if (!d || len != d->size)
		return -EINVAL;
	if (!available(d, r))
		return -ENODATA;
	if (d->store == TS_GPR) {
		uint64_t v = 0;
		memcpy(&v, val, d->size);
		memcpy((uint8_t *)r->gpr + d->off, &v, 8);
		return 0;
	}
	make_present(r, d->component);
	uint32_t v32 = 0;
	memcpy(&v32, val, MIN(len, sizeof v32));
	switch (d->store) {
	case TS_FX16:
		put16(r->xsave + d->off, (uint16_t)v32);
		break;
	case TS_FOP:
		put16(r->xsave + d->off, (uint16_t)(v32 & 0x7ff));
		break;
	case TS_FTAG: {
		uint8_t abridged = 0;
		for (int phys = 0; phys < 8; phys++)
			if ((v32 >> (2 * phys) & 3) != 3)
				abridged |= (uint8_t)(1u << phys);
		r->xsave[FX_FTW] = abridged;
		break;
	}
	default:
		memcpy(r->xsave + d->off, val, d->size);
		break;
	}
	return 0;
}

void tdesc_encode_g(const struct tdesc *t, const struct tdesc_regs *r, struct sbuf *out)
{
	uint8_t buf[32];
	size_t len;
	for (size_t i = 0; i < t->n; i++) {
		if (!tdesc_read_reg(t, (unsigned)i, r, buf, &len)) {
			rsp_put_hex(out, buf, len);
			continue;
		}
		for (unsigned k = 0; k < 2 * t->regs[i].r.size; k++)
			sbuf_putc(out, 'x');
	}
}

int tdesc_decode_g(const struct tdesc *t, const uint8_t *data, size_t len, struct tdesc_regs *r)
{
	size_t off = 0, i = 0;
	while (i < t->n && off < len)
		off += t->regs[i++].r.size;
	if (off != len)
		return -EINVAL;
	off = 0;
	for (size_t k = 0; k < i; k++) {
		int e = tdesc_write_reg(t, (unsigned)k, data + off, t->regs[k].r.size, r);
		if (e && e != -ENODATA)
			return e;
		off += t->regs[k].r.size;
	}
	return 0;
}

void tdesc_expedite(const struct tdesc *t, const struct tdesc_regs *r, struct sbuf *out)
{
	static const unsigned regs[] = { 6, 7, 16 }; /* rbp, rsp, rip */
	uint8_t buf[32];
	size_t len;
	for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
		if (tdesc_read_reg(t, regs[i], r, buf, &len))
			continue;
		sbuf_printf(out, "%02x:", regs[i]);
		rsp_put_hex(out, buf, len);
		sbuf_putc(out, ';');
	}
}
