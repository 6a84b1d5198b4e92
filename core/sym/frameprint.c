/* Frames as gdb prints them (stop lines, backtrace lines, info args/locals)
 * and finish's returned value, classified per the SysV x86-64 ABI. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/regs.h"
#include "format.h"
#include "sym_int.h"
#include "types_int.h"
#include "value_int.h"

static void print_var(const struct sym_ctx *c, struct value *v, bool scalars_only,
                      struct sbuf *out)
{
	struct type *t = type_strip(v->type);
	if (scalars_only && (t->kind == TY_REF || t->kind == TY_RVREF))
		t = type_strip(t->target);
	if (scalars_only && (t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_CLASS ||
	                     t->kind == TY_ARRAY)) {
		sbuf_puts(out, "...");
		return;
	}
	struct fmt_opts o;
	fmt_opts_default(&o);
	o.top = false;
	char *err = NULL;
	if (fmt_value(c, v, &o, out, &err) < 0) {
		sbuf_printf(out, "<error: %s>", err ? err : "?");
		free(err);
	}
}

void fmt_frame_vars(const struct sym_ctx *c, unsigned what, struct sbuf *out)
{
	struct value_var_list l = { 0 };
	if (value_frame_vars(c, what, &l) < 0) {
		sbuf_puts(out, "No symbol table info available.\n");
		return;
	}
	if (!l.n)
		sbuf_puts(out, what & VALUE_ARGS ? "No arguments.\n" : "No locals.\n");
	for (size_t i = 0; i < l.n; i++) {
		sbuf_printf(out, "%s = ", l.v[i].name);
		print_var(c, l.v[i].value, false, out);
		sbuf_putc(out, '\n');
	}
	value_var_list_free(&l);
}

void fmt_frame_line(const struct sym_ctx *c, const struct unwind_frame *f, bool bt,
                    struct sbuf *out)
{
	if (bt)
		sbuf_printf(out, "#%-3u", f->level);
	if (f->signal_frame) {
		sbuf_puts(out, "<signal handler called>");
		return;
	}
	struct sym_addr_info ai;
	bool known = c->st && symtab_describe(c->st, f->lookup_pc, &ai) == 0;
	struct sym_line ln;
	bool have_line = known && ai.line && symtab_pc_line(c->st, f->lookup_pc, &ln) == 0;
	struct sym_ctx fc0 = *c;
	fc0.frame = f;
	/* the caller of an inlined call is "at" the call, with no address */
	const char *cfile, *cpath;
	int cline;
	bool at_call = false;
	if (f->inline_skip && value_frame_location(&fc0, &cfile, &cpath, &cline, &at_call) < 0)
		at_call = false;
	if (at_call) {
		ln.file = cfile;
		ln.fullpath = cpath;
		ln.line = cline;
		have_line = true;
	} else if (!have_line || ln.lo != f->pc) {
		sbuf_printf(out, "0x%016lx in ", (unsigned long)f->pc);
	}
	const char *fn = known && ai.func ? ai.func : "??";
	const char *iname;
	if (known && ai.has_dwarf && value_frame_in_inlined(&fc0) &&
	    value_frame_function(&fc0, &iname, NULL) == 0 && iname)
		fn = iname;
	sbuf_printf(out, "%s (", fn);
	if (known && ai.has_dwarf) {
		struct sym_ctx fc = *c;
		fc.frame = f;
		struct value_var_list l = { 0 };
		if (value_frame_vars(&fc, VALUE_ARGS, &l) == 0)
			for (size_t i = 0; i < l.n; i++) {
				/* gdb's `print entry-values default` */
				struct value *v = l.v[i].value, *ev = l.v[i].entry;
				const char *nm = l.v[i].name;
				sbuf_puts(out, i ? ", " : "");
				if (ev && !v->optimized_out && value_fetch(&fc, v) == 0 && v->len == ev->len &&
				    !memcmp(v->bytes, ev->bytes, v->len)) {
					sbuf_printf(out, "%s=%s@entry=", nm, nm);
					print_var(&fc, v, true, out);
				} else if (ev && v->optimized_out) {
					sbuf_printf(out, "%s@entry=", nm);
					print_var(&fc, ev, true, out);
				} else {
					sbuf_printf(out, "%s=", nm);
					print_var(&fc, v, true, out);
				}
			}
		value_var_list_free(&l);
	}
	sbuf_putc(out, ')');
	if (have_line)
		sbuf_printf(out, " at %s:%d", ln.file, ln.line);
	else if (known && ai.module) {
		struct sym_mod *m = sym_mod_at(c->st, f->lookup_pc);
		if (m && !m->is_main)
			sbuf_printf(out, " from %s", ai.module);
	}
}

/* ---- returned values (SysV x86-64) */

enum abi_class { AC_NONE, AC_INTEGER, AC_SSE, AC_MEMORY };

static enum abi_class merge(enum abi_class a, enum abi_class b)
{
	if (a == b || b == AC_NONE)
		return a;
	if (a == AC_NONE)
		return b;
	if (a == AC_MEMORY || b == AC_MEMORY)
		return AC_MEMORY;
	if (a == AC_INTEGER || b == AC_INTEGER)
		return AC_INTEGER;
	return AC_SSE;
}

/* Classify the scalars of t at byte offset off into the eightbytes cls[2]. */
static bool classify(const struct sym_ctx *c, struct type *t, uint64_t off, enum abi_class cls[2])
{
	t = type_strip(t);
	switch (t->kind) {
	case TY_INT: case TY_CHAR: case TY_BOOL: case TY_ENUM: case TY_PTR: case TY_REF:
	case TY_RVREF:
		if (off / 8 > 1)
			return false;
		cls[off / 8] = merge(cls[off / 8], AC_INTEGER);
		if (t->size == 16)
			cls[1] = merge(cls[1], AC_INTEGER);
		return true;
	case TY_FLOAT:
		if (t->size > 8)
			return false;   /* long double: x87 class, returned in st0 */
		if (off / 8 > 1)
			return false;
		cls[off / 8] = merge(cls[off / 8], AC_SSE);
		return true;
	case TY_ARRAY:
		for (int64_t i = 0; i < t->count; i++)
			if (!classify(c, t->target, off + (uint64_t)i * type_size(t->target), cls))
				return false;
		return true;
	case TY_STRUCT: case TY_UNION: case TY_CLASS: {
		t = type_complete(c->st, t);
		size_t n = type_nfields(t);
		for (size_t i = 0; i < n; i++) {
			const struct type_field *f = &t->fields[i];
			if (f->is_static)
				continue;
			if (f->bitpos % 8 && !f->bitsize)
				return false;
			if (!classify(c, f->type, off + f->bitpos / 8, cls))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

struct value *fmt_return_value(const struct sym_ctx *c, struct type *t, char **err)
{
	struct type *s = type_strip(t);
	if (s->kind == TY_VOID || s->kind == TY_FUNC || s->kind == TY_UNKNOWN) {
		if (err)
			*err = xstrdup("The function returns nothing.");
		return NULL;
	}
	if (!c->acc) {
		if (err)
			*err = xstrdup("The program is not being run.");
		return NULL;
	}
	struct user_regs_struct r;
	if (c->acc->get_regs(c->acc->ctx, &r) < 0) {
		if (err)
			*err = xstrdup("Could not read registers.");
		return NULL;
	}
	uint8_t *xs = NULL;
	size_t xl = 0;
	c->acc->get_xstate(c->acc->ctx, &xs, &xl);
	uint64_t size = type_size(t);
	struct value *v = value_new(t);
	if (s->kind == TY_FLOAT && size > 8) {
		if (!xs || xl < FX_ST(0) + 10) {
			value_free(v);
			return NULL;
		}
		memcpy(v->bytes, xs + FX_ST(0), MIN(10, v->len));
		return v;
	}
	enum abi_class cls[2] = { AC_NONE, AC_NONE };
	bool ok = size <= 16 && classify(c, t, 0, cls);
	if (!ok || cls[0] == AC_MEMORY || cls[1] == AC_MEMORY) {
		/* in memory: rax holds the address the caller passed */
		value_free(v);
		return value_at(t, r.rax);
	}
	uint64_t ints[2] = { r.rax, r.rdx };
	int ni = 0, nx = 0;
	for (int k = 0; k < 2 && k * 8 < (int)size; k++) {
		uint8_t eb[8] = { 0 };
		if (cls[k] == AC_SSE) {
			if (!xs || xl < (size_t)FX_XMM(2)) {
				value_free(v);
				if (err)
					*err = xstrdup("Could not read the SSE registers.");
				return NULL;
			}
			memcpy(eb, xs + FX_XMM(nx++), 8);
		} else {
			memcpy(eb, &ints[ni++], 8);
		}
		memcpy(v->bytes + k * 8, eb, MIN(8, size - (uint64_t)k * 8));
	}
	return v;
}
