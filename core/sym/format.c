/* gdb's value printer: scalars, characters and strings (escapes, repeats,
 * the 200-element limit), pointers with <symbol+off>, arrays, structs with base
 * classes and static members, enums (flag enums), references, functions,
 * <optimized out>, and the /FMT letters. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/regs.h"
#include "format.h"
#include "sym_int.h"
#include "types_int.h"
#include "value_int.h"

void fmt_opts_default(struct fmt_opts *o)
{
	*o = (struct fmt_opts){ .top = true, .max_elements = 200, .repeat_threshold = 10 };
}

int fmt_parse_format(const char *spec, struct fmt_opts *o, char **err)
{
	for (const char *p = spec; *p; p++) {
		if (strchr("xduotcasfz", *p)) {
			o->format = *p;
		} else if (*p >= '0' && *p <= '9') {
			continue;   /* a count (for x) */
		} else if (!strchr("bhwg", *p)) {
			if (err)
				*err = xasprintf("Undefined output format \"%c\".", *p);
			return -EINVAL;
		}
	}
	return 0;
}

struct pr {
	const struct sym_ctx *c;
	const struct fmt_opts *o;
	struct sbuf *out;
};

static void print_value(struct pr *p, struct value *v, bool top);

/* ---- characters and strings */

static void emit_char(struct sbuf *b, unsigned ch, char quote)
{
	switch (ch) {
	case '\a': sbuf_puts(b, "\\a"); return;
	case '\b': sbuf_puts(b, "\\b"); return;
	case '\f': sbuf_puts(b, "\\f"); return;
	case '\n': sbuf_puts(b, "\\n"); return;
	case '\r': sbuf_puts(b, "\\r"); return;
	case '\t': sbuf_puts(b, "\\t"); return;
	case '\v': sbuf_puts(b, "\\v"); return;
	case 27: sbuf_puts(b, "\\033"); return;
	default: break;
	}
	if (ch == '\\' || ch == (unsigned char)quote) {
		sbuf_putc(b, '\\');
		sbuf_putc(b, (char)ch);
	} else if (ch >= 0x20 && ch < 0x7f) {
		sbuf_putc(b, (char)ch);
	} else {
		sbuf_printf(b, "\\%03o", ch & 0xff);
	}
}

static void print_char_lit(struct sbuf *b, unsigned ch)
{
	sbuf_putc(b, '\'');
	emit_char(b, ch, '\'');
	sbuf_putc(b, '\'');
}

/* gdb's generic_printstr: runs longer than the threshold become
 * 'c' <repeats N times>; at most max chars; "..." when truncated. */
static void print_string(struct pr *p, const uint8_t *s, size_t len, bool force_ellipses)
{
	struct sbuf *b = p->out;
	unsigned thr = p->o->repeat_threshold, max = p->o->max_elements;
	if (!force_ellipses && len > 0 && s[len - 1] == 0)
		len--;
	if (len == 0) {
		sbuf_puts(b, "\"\"");
		return;
	}
	bool in_quote = false, any = false;
	size_t i = 0, things = 0;
	while (i < len && (!max || things < max)) {
		size_t reps = 1;
		while (i + reps < len && s[i + reps] == s[i])
			reps++;
		if (reps > thr) {
			if (in_quote) {
				sbuf_puts(b, "\", ");
				in_quote = false;
			} else if (any) {
				sbuf_puts(b, ", ");
			}
			print_char_lit(b, s[i]);
			sbuf_printf(b, " <repeats %zu times>", reps);
			i += reps;
			things += thr;
		} else {
			if (!in_quote) {
				if (any)
					sbuf_puts(b, ", ");
				sbuf_putc(b, '"');
				in_quote = true;
			}
			emit_char(b, s[i], '"');
			i++;
			things++;
		}
		any = true;
	}
	if (in_quote)
		sbuf_putc(b, '"');
	if (force_ellipses || i < len)
		sbuf_puts(b, "...");
}

/* The C string at addr, as gdb prints after a char pointer. */
static void print_cstring(struct pr *p, uint64_t addr)
{
	unsigned max = p->o->max_elements ? p->o->max_elements : 4096;
	uint8_t buf[4097];
	size_t n = 0;
	bool err = false, nul = false;
	while (n < max) {
		uint8_t chunk[64];
		size_t want = MIN(sizeof chunk, max - n);
		/* read in small pieces so a string near the end of a mapping works */
		if (value_read_mem(p->c, addr + n, chunk, want) < 0) {
			size_t k = 0;
			for (; k < want; k++)
				if (value_read_mem(p->c, addr + n + k, chunk + k, 1) < 0)
					break;
			want = k;
			err = true;
		}
		for (size_t k = 0; k < want; k++) {
			if (chunk[k] == 0) {
				nul = true;
				break;
			}
			buf[n++] = chunk[k];
		}
		if (nul || err)
			break;
	}
	if (n || !err) {
		struct fmt_opts o2 = *p->o;
		struct pr p2 = { p->c, &o2, p->out };
		o2.max_elements = max;
		print_string(&p2, buf, n, !nul && !err && n >= max);
	}
	if (err) {
		if (n)
			sbuf_putc(p->out, ' ');
		sbuf_printf(p->out, "<error: Cannot access memory at address 0x%lx>",
		            (unsigned long)(addr + n));
	}
}

static bool is_textual(struct type *t)
{
	t = type_strip(t);
	return t->kind == TY_CHAR && t->size == 1;
}

/* ---- scalars */

static uint64_t raw_bits(struct value *v)
{
	uint64_t x = 0;
	memcpy(&x, v->bytes, MIN(v->len, 8));
	return x;
}

static void print_float(struct sbuf *b, struct value *v)
{
	if (v->len == 4) {
		float f;
		memcpy(&f, v->bytes, 4);
		if (isnan(f)) {
			uint32_t u;
			memcpy(&u, &f, 4);
			sbuf_printf(b, "%snan(0x%x)", (u >> 31) ? "-" : "", u & 0x7fffff);
		} else if (isinf(f)) {
			sbuf_puts(b, f < 0 ? "-inf" : "inf");
		} else {
			sbuf_printf(b, "%.9g", f);
		}
	} else if (v->len == 8) {
		double d;
		memcpy(&d, v->bytes, 8);
		if (isnan(d)) {
			uint64_t u;
			memcpy(&u, &d, 8);
			sbuf_printf(b, "%snan(0x%lx)", (u >> 63) ? "-" : "",
			            (unsigned long)(u & 0xfffffffffffffull));
		} else if (isinf(d)) {
			sbuf_puts(b, d < 0 ? "-inf" : "inf");
		} else {
			sbuf_printf(b, "%.17g", d);
		}
	} else {
		long double ld = 0;
		memcpy(&ld, v->bytes, MIN(v->len, 10));
		if (isnan(ld)) {
			uint64_t mant;
			memcpy(&mant, v->bytes, 8);
			sbuf_printf(b, "%snan(0x%lx)", (v->bytes[9] & 0x80) ? "-" : "",
			            (unsigned long)(mant & 0x3fffffffffffffffull));
		} else if (isinf(ld)) {
			sbuf_puts(b, ld < 0 ? "-inf" : "inf");
		} else {
			sbuf_printf(b, "%.21Lg", ld);
		}
	}
}

/* An integer of the value's size in a /FMT letter. */
static void print_int_fmt(struct sbuf *b, uint64_t x, size_t size, bool is_signed, char f)
{
	uint64_t mask = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
	uint64_t u = x & mask;
	int64_t s = (int64_t)x;
	if (size < 8 && size && (u & (1ull << (8 * size - 1))))
		s = (int64_t)(u | ~mask);
	else if (size < 8)
		s = (int64_t)u;
	switch (f) {
	case 'x': sbuf_printf(b, "0x%lx", (unsigned long)u); break;
	case 'z': sbuf_printf(b, "0x%0*lx", (int)(size * 2), (unsigned long)u); break;
	case 'o': sbuf_printf(b, u ? "0%lo" : "%lo", (unsigned long)u); break;
	case 'u': sbuf_printf(b, "%lu", (unsigned long)u); break;
	case 'd': sbuf_printf(b, "%ld", (long)s); break;
	case 't': {
		char tmp[65];
		int n = 0;
		if (!u)
			tmp[n++] = '0';
		for (int i = 63; i >= 0 && u; i--)
			if (n || (u >> i) & 1)
				tmp[n++] = (u >> i) & 1 ? '1' : '0';
		tmp[n] = 0;
		sbuf_puts(b, tmp);
		break;
	}
	default:
		if (is_signed)
			sbuf_printf(b, "%ld", (long)s);
		else
			sbuf_printf(b, "%lu", (unsigned long)u);
	}
}

/* " <sym+off>" for an address gdb can name (code or data symbols). */
static void print_symbolic(struct pr *p, uint64_t a, bool always_space)
{
	const char *name;
	uint64_t off;
	if (!p->c->st || symtab_addr_symbol(p->c->st, a, &name, &off) < 0)
		return;
	if (off)
		sbuf_printf(p->out, " <%s+%lu>", name, (unsigned long)off);
	else
		sbuf_printf(p->out, " <%s>", name);
	(void)always_space;
}

static void print_enum(struct sbuf *b, struct type *t, int64_t x)
{
	for (size_t i = 0; i < t->nenums; i++)
		if (t->enums[i].value == x) {
			sbuf_puts(b, t->enums[i].name);
			return;
		}
	if (!t->is_flag_enum) {
		sbuf_printf(b, "%ld", (long)x);
		return;
	}
	uint64_t u = (uint64_t)x;
	if (t->size < 8)
		u &= (1ull << (8 * t->size)) - 1;
	bool first = true;
	for (size_t i = 0; i < t->nenums; i++) {
		uint64_t ev = (uint64_t)t->enums[i].value;
		if (ev && (u & ev)) {
			sbuf_puts(b, first ? "(" : " | ");
			first = false;
			u &= ~ev;
			sbuf_puts(b, t->enums[i].name);
		}
	}
	if (u) {
		sbuf_puts(b, first ? "(unknown: " : " | unknown: ");
		sbuf_printf(b, "0x%lx)", (unsigned long)u);
	} else if (first) {
		sbuf_puts(b, "0");
	} else {
		sbuf_putc(b, ')');
	}
}

static void print_pointer(struct pr *p, struct value *v, struct type *t)
{
	uint64_t a = raw_bits(v);
	char f = p->o->format;
	if (f && f != 'a' && f != 's') {
		print_int_fmt(p->out, a, 8, false, f == 'c' ? 'd' : f);
		return;
	}
	sbuf_printf(p->out, "0x%lx", (unsigned long)a);
	struct type *tt = type_strip(t->target ? t->target : type_void());
	if (tt->kind == TY_FUNC || f == 'a') {
		print_symbolic(p, a, true);
		return;
	}
	print_symbolic(p, a, true);
	if (is_textual(t->target) && a) {
		sbuf_putc(p->out, ' ');
		print_cstring(p, a);
	}
}

static void print_scalar(struct pr *p, struct value *v)
{
	struct type *t = type_strip(v->type);
	struct sbuf *b = p->out;
	char f = p->o->format;
	uint64_t x = raw_bits(v);
	bool sg = t->is_signed;
	if (v->len < 8 && v->len && sg && (x & (1ull << (8 * v->len - 1))))
		x |= ~0ull << (8 * v->len);
	if (f == 'a') {
		sbuf_printf(b, "0x%lx", (unsigned long)(v->len < 8 ? x & ((1ull << (8 * v->len)) - 1) : x));
		print_symbolic(p, x, true);
		return;
	}
	if (f == 'c') {
		sbuf_printf(b, "%d ", (int)(int8_t)x);
		print_char_lit(b, (unsigned)(x & 0xff));
		return;
	}
	if (f == 'f' && t->kind != TY_FLOAT) {
		/* the bits of an integer of a float's size, read as that float */
		if (v->len == 4 || v->len == 8) {
			struct value tmp = *v;
			print_float(b, &tmp);
		} else {
			print_int_fmt(b, x, v->len, sg, 0);
		}
		return;
	}
	if (f && f != 's' && f != 'f') {
		print_int_fmt(b, x, v->len, sg, f);
		return;
	}
	switch (t->kind) {
	case TY_FLOAT:
		print_float(b, v);
		break;
	case TY_BOOL:
		if (x == 0)
			sbuf_puts(b, "false");
		else if (x == 1)
			sbuf_puts(b, "true");
		else
			sbuf_printf(b, "%lu", (unsigned long)x);
		break;
	case TY_CHAR:
		sbuf_printf(b, "%ld ", (long)(int64_t)x);
		print_char_lit(b, (unsigned)(x & 0xff));
		break;
	case TY_ENUM:
		print_enum(b, t, (int64_t)x);
		break;
	default:
		if (t->name && !strcmp(t->name, "i386_eflags")) {
			char fl[128];
			regs_format_eflags(x, fl, sizeof fl);
			sbuf_puts(b, fl);
			break;
		}
		print_int_fmt(b, x, v->len, sg, 0);
		break;
	}
}

/* ---- aggregates */

static void print_array(struct pr *p, struct value *v, struct type *t)
{
	struct type *et = t->target;
	uint64_t es = type_size(et);
	size_t n = t->count > 0 && es ? (size_t)t->count : 0;
	if (es && v->len / es < n)
		n = v->len / es;
	if (is_textual(et) && (!p->o->format || p->o->format == 's')) {
		bool trunc = p->o->max_elements && n > p->o->max_elements;
		print_string(p, v->bytes, trunc ? p->o->max_elements : n, trunc);
		return;
	}
	sbuf_putc(p->out, '{');
	unsigned max = p->o->max_elements, thr = p->o->repeat_threshold;
	size_t i = 0, things = 0;
	for (; i < n && (!max || things < max); i++) {
		if (i)
			sbuf_puts(p->out, ", ");
		size_t reps = 1;
		while (i + reps < n && !memcmp(v->bytes + i * es, v->bytes + (i + reps) * es, es))
			reps++;
		struct value *el = value_new(et);
		memcpy(el->bytes, v->bytes + i * es, MIN(es, el->len));
		if (v->lval == LV_MEM) {
			el->lval = LV_MEM;
			el->addr = v->addr + i * es;
		}
		print_value(p, el, false);
		value_free(el);
		if (reps > thr) {
			sbuf_printf(p->out, " <repeats %zu times>", reps);
			i += reps - 1;
			things += thr;
		} else {
			things++;
		}
	}
	if (i < n)
		sbuf_puts(p->out, "...");
	sbuf_putc(p->out, '}');
}

static void print_struct(struct pr *p, struct value *v, struct type *t)
{
	t = type_complete(p->c->st, t);
	size_t n = type_nfields(t);
	if (t->is_decl && !n) {
		sbuf_puts(p->out, "<incomplete type>");
		return;
	}
	sbuf_putc(p->out, '{');
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const struct type_field *f = &t->fields[i];
		if (f->artificial && f->name && !strncmp(f->name, "_vptr", 5) && 0)
			continue;
		if (!first)
			sbuf_puts(p->out, ", ");
		first = false;
		struct value *fv = value_field(p->c, v, i);
		if (f->is_base) {
			struct sbuf nm = { 0 };
			type_name(&nm, f->type, NULL);
			sbuf_printf(p->out, "<%s> = ", sbuf_str(&nm));
			sbuf_free(&nm);
		} else if (f->name) {
			sbuf_printf(p->out, "%s%s = ", f->is_static ? "static " : "", f->name);
		}
		print_value(p, fv, false);
		value_free(fv);
	}
	if (first && t->is_cxx)
		sbuf_puts(p->out, "<No data fields>");
	sbuf_putc(p->out, '}');
}

static void print_func(struct pr *p, struct value *v, struct type *t)
{
	sbuf_putc(p->out, '{');
	type_name(p->out, v->type, NULL);
	sbuf_printf(p->out, "} 0x%lx", (unsigned long)v->addr);
	print_symbolic(p, v->addr, true);
}

static void print_value(struct pr *p, struct value *v, bool top)
{
	struct type *t = type_strip(v->type);
	if (v->lazy && t->kind != TY_FUNC)
		value_fetch(p->c, v);
	if (v->optimized_out || (v->optmask && type_is_scalar(v->type) &&
	                         value_partly_optimized_out(v))) {
		sbuf_puts(p->out, "<optimized out>");
		return;
	}
	if (v->error) {
		sbuf_printf(p->out, "<error: %s>", v->error);
		return;
	}
	switch (t->kind) {
	case TY_VOID:
		sbuf_puts(p->out, "void");
		break;
	case TY_PTR:
		if (top && !p->o->format) {
			struct type *tt = t->target;
			bool plain_char = type_strip_cv(v->type)->kind == TY_PTR && tt &&
			                  type_strip_cv(tt)->kind == TY_CHAR &&
			                  type_strip_cv(tt)->name && !strcmp(type_strip_cv(tt)->name, "char");
			if (!plain_char) {
				sbuf_putc(p->out, '(');
				type_name(p->out, v->type, NULL);
				sbuf_puts(p->out, ") ");
			}
		}
		print_pointer(p, v, t);
		break;
	case TY_REF:
	case TY_RVREF: {
		if (top) {
			sbuf_putc(p->out, '(');
			type_name(p->out, v->type, NULL);
			sbuf_puts(p->out, ") ");
		}
		sbuf_printf(p->out, "@0x%lx: ", (unsigned long)raw_bits(v));
		struct value *r = value_coerce_ref(p->c, v);
		print_value(p, r, false);
		value_free(r);
		break;
	}
	case TY_ARRAY:
		print_array(p, v, t);
		break;
	case TY_STRUCT:
	case TY_UNION:
	case TY_CLASS:
		print_struct(p, v, t);
		break;
	case TY_FUNC:
		print_func(p, v, t);
		break;
	case TY_UNKNOWN:
		sbuf_puts(p->out, "<unknown type>");
		break;
	default:
		print_scalar(p, v);
		break;
	}
}

int fmt_value(const struct sym_ctx *c, struct value *v, const struct fmt_opts *o,
              struct sbuf *out, char **err)
{
	struct type *t = type_strip(v->type);
	if (t->kind != TY_FUNC && v->lazy && !v->optimized_out) {
		int e = value_fetch(c, v);
		if (e < 0 && e != -ENODATA) {
			if (err)
				*err = xstrdup(v->error ? v->error : "Cannot access memory");
			return e;
		}
	}
	struct pr p = { c, o, out };
	if (o->format == 's' && t->kind == TY_PTR && !is_textual(t->target)) {
		struct fmt_opts o2 = *o;
		o2.format = 0;
		p.o = &o2;
		print_value(&p, v, o->top);
		return 0;
	}
	print_value(&p, v, o->top);
	return 0;
}
