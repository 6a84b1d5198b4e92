/* ptype and whatis in gdb's shape: struct/union/enum bodies with 4-space
 * indentation, bitfields, nested anonymous aggregates, C++ base classes, access
 * labels, static members and member functions. */
#include <dwarf.h>
#include <string.h>

#include "format.h"
#include "sym_int.h"
#include "types_int.h"

static void print_body(const struct sym_ctx *c, struct type *t, int level, struct sbuf *out);

/* The type with its declarator, expanding anonymous aggregates inline. */
static void print_decl(const struct sym_ctx *c, struct type *t, const char *name, int level,
                       struct sbuf *out)
{
	struct type *base = t;
	while (base->kind == TY_ARRAY || base->kind == TY_PTR || base->kind == TY_CONST ||
	       base->kind == TY_VOLATILE)
		base = base->target;
	bool anon = !base->name && (base->kind == TY_STRUCT || base->kind == TY_UNION ||
	                            base->kind == TY_CLASS || base->kind == TY_ENUM);
	if (!anon) {
		type_name(out, t, name);
		return;
	}
	/* "struct {\n ... \n    } box" : the body, then the declarator */
	struct sbuf decl = { 0 };
	type_name(&decl, t, name);
	const char *rest = strstr(decl.s, "{...}");
	print_body(c, base, level, out);
	if (rest)
		sbuf_puts(out, rest + 5);
	sbuf_free(&decl);
}

static const char *kind_kw(struct type *t)
{
	switch (t->kind) {
	case TY_STRUCT: return "struct";
	case TY_CLASS: return "class";
	case TY_UNION: return "union";
	case TY_ENUM: return "enum";
	default: return "";
	}
}

static void print_enum_body(struct type *t, struct sbuf *out)
{
	sbuf_putc(out, '{');
	int64_t next = 0;
	for (size_t i = 0; i < t->nenums; i++) {
		if (i)
			sbuf_puts(out, ", ");
		sbuf_puts(out, t->enums[i].name);
		if (t->enums[i].value != next)
			sbuf_printf(out, " = %ld", (long)t->enums[i].value);
		next = t->enums[i].value + 1;
	}
	sbuf_putc(out, '}');
}

/* DW_AT_accessibility of a member, with the defaults of its aggregate. */
static int access_of(Dwarf_Die *d, bool is_class)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (dwarf_attr(d, DW_AT_accessibility, &a) && dwarf_formudata(&a, &w) == 0)
		return (int)w;
	return is_class ? DW_ACCESS_private : DW_ACCESS_public;
}

static const char *access_name(int acc)
{
	return acc == DW_ACCESS_private ? "private" : acc == DW_ACCESS_protected ? "protected"
	                                                                         : "public";
}

/* C++ member functions of the aggregate DIE, in declaration order. */
static void print_methods(const struct sym_ctx *c, struct type *t, int level, int *section,
                          bool need_labels, bool had_fields, struct sbuf *out)
{
	struct sym_mod *m = t->mod;
	Dwarf_Die d, ch;
	if (!m || !m->dw || !dwarf_offdie(m->dw, t->die, &d) || dwarf_child(&d, &ch) != 0)
		return;
	bool is_class = t->kind == TY_CLASS, first = true;
	do {
		if (dwarf_tag(&ch) != DW_TAG_subprogram)
			continue;
		Dwarf_Attribute a;
		bool art = false;
		if (dwarf_attr(&ch, DW_AT_artificial, &a))
			dwarf_formflag(&a, &art);
		const char *name = dwarf_diename(&ch);
		if (art || !name)
			continue;
		if (first && had_fields)
			sbuf_putc(out, '\n');
		first = false;
		int acc = access_of(&ch, is_class);
		if (acc != *section) {
			sbuf_printf(out, "%*s%s:\n", level + 2, "", access_name(acc));
			*section = acc;
		}
		(void)need_labels;
		struct type *ft = type_from_die(m, &ch);
		/* `this` is the first (artificial) parameter: not shown */
		Dwarf_Die pa;
		bool has_this = false, is_const = false;
		if (dwarf_child(&ch, &pa) == 0 && dwarf_tag(&pa) == DW_TAG_formal_parameter) {
			bool pa_art = false;
			if (dwarf_attr(&pa, DW_AT_artificial, &a))
				dwarf_formflag(&a, &pa_art);
			has_this = pa_art;
			if (has_this && ft->nparams) {
				struct type *pt = type_strip_cv(ft->params[0]);
				if (pt->kind == TY_PTR && pt->target && pt->target->kind == TY_CONST)
					is_const = true;
			}
		}
		bool is_static = !has_this;
		sbuf_printf(out, "%*s", level + 4, "");
		if (is_static)
			sbuf_puts(out, "static ");
		bool ctor = t->name && (!strcmp(name, t->name) ||
		                        (strrchr(t->name, ':') && !strcmp(name, strrchr(t->name, ':') + 1)));
		bool dtor = name[0] == '~';
		if (!ctor && !dtor) {
			type_name(out, ft->target ? ft->target : type_void(), NULL);
			if (out->len && out->s[out->len - 1] != '*' && out->s[out->len - 1] != '&')
				sbuf_putc(out, ' ');
		}
		sbuf_printf(out, "%s(", name);
		size_t k0 = has_this ? 1 : 0;
		for (size_t k = k0; k < ft->nparams; k++) {
			if (k > k0)
				sbuf_puts(out, ", ");
			type_name(out, ft->params[k], NULL);
		}
		if (ft->nparams == k0 && !ctor && !dtor)
			sbuf_puts(out, "void");
		sbuf_puts(out, is_const ? ") const;\n" : ");\n");
	} while (dwarf_siblingof(&ch, &ch) == 0);
}

static void print_body(const struct sym_ctx *c, struct type *t, int level, struct sbuf *out)
{
	t = type_complete(c->st, t);
	if (t->kind == TY_ENUM) {
		sbuf_puts(out, t->is_cxx && t->name ? "enum " : "enum ");
		if (t->name)
			sbuf_printf(out, "%s ", t->name);
		print_enum_body(t, out);
		return;
	}
	sbuf_printf(out, "%s ", kind_kw(t));
	if (t->name)
		sbuf_printf(out, "%s ", t->name);
	size_t n = type_nfields(t);
	/* base classes */
	bool any_base = false;
	for (size_t i = 0; i < n; i++)
		if (t->fields[i].is_base) {
			sbuf_puts(out, any_base ? ", public " : ": public ");
			type_name(out, t->fields[i].type, NULL);
			any_base = true;
		}
	if (any_base)
		sbuf_putc(out, ' ');
	if (t->is_decl && !n) {
		sbuf_puts(out, "{\n");
		sbuf_printf(out, "%*s<incomplete type>\n%*s}", level + 4, "", level, "");
		return;
	}
	sbuf_puts(out, "{\n");
	bool is_class = t->kind == TY_CLASS;
	int section = is_class || t->is_cxx ? -1 : DW_ACCESS_public;
	if (t->kind == TY_STRUCT || t->kind == TY_UNION)
		section = DW_ACCESS_public;   /* no label while everything is public */
	struct sym_mod *m = t->mod;
	Dwarf_Die d, ch;
	bool fields = false;
	size_t fi = 0;
	bool have_dies = m && m->dw && dwarf_offdie(m->dw, t->die, &d) && dwarf_child(&d, &ch) == 0;
	for (size_t i = 0; i < n; i++) {
		const struct type_field *f = &t->fields[i];
		if (f->is_base)
			continue;
		if (f->artificial && f->name && !strncmp(f->name, "_vptr", 5)) {
			continue;
		}
		if (is_class && have_dies) {
			/* find the member's DIE for its accessibility */
			int acc = DW_ACCESS_private;
			Dwarf_Die x = ch;
			size_t k = 0;
			do {
				int tag = dwarf_tag(&x);
				if (tag != DW_TAG_member && tag != DW_TAG_variable && tag != DW_TAG_inheritance)
					continue;
				if (k++ == i) {
					acc = access_of(&x, true);
					break;
				}
			} while (dwarf_siblingof(&x, &x) == 0);
			if (acc != section) {
				sbuf_printf(out, "%*s%s:\n", level + 2, "", access_name(acc));
				section = acc;
			}
		}
		fi++;
		fields = true;
		sbuf_printf(out, "%*s", level + 4, "");
		if (f->is_static)
			sbuf_puts(out, "static ");
		print_decl(c, f->type, f->name ? f->name : "", level + 4, out);
		if (f->bitsize)
			sbuf_printf(out, " : %u", f->bitsize);
		sbuf_puts(out, ";\n");
	}
	if (t->is_cxx) {
		int sec = section < 0 ? -1 : section;
		if (!is_class && sec == DW_ACCESS_public)
			sec = -1;   /* gdb labels the methods of a struct */
		print_methods(c, t, level, &sec, true, fields && is_class, out);
	}
	(void)fi;
	sbuf_printf(out, "%*s}", level, "");
}

void fmt_ptype(const struct sym_ctx *c, struct type *t, struct sbuf *out)
{
	/* one level of typedef (and every typedef down to the body) is resolved */
	struct type *s = t;
	while (s->kind == TY_TYPEDEF)
		s = s->target ? s->target : type_void();
	struct type *base = s;
	while (base->kind == TY_PTR || base->kind == TY_ARRAY || base->kind == TY_REF ||
	       base->kind == TY_RVREF || base->kind == TY_CONST || base->kind == TY_VOLATILE ||
	       base->kind == TY_FUNC || base->kind == TY_TYPEDEF)
		base = base->target ? base->target : type_void();
	if (base->kind != TY_STRUCT && base->kind != TY_UNION && base->kind != TY_CLASS &&
	    base->kind != TY_ENUM) {
		/* typedefs inside the declarator resolve too: ptype of a typedef'd int
		 * pointer is "int *" */
		struct sbuf nm = { 0 };
		struct type *r = s;
		type_name(&nm, r, NULL);
		sbuf_puts(out, sbuf_str(&nm));
		sbuf_free(&nm);
		return;
	}
	/* the body in place of the base name inside the declarator:
	 * "struct node {...} *", "const class K : public B {...} &" */
	struct sbuf decl = { 0 }, bn = { 0 };
	type_name(&decl, s, NULL);
	type_name(&bn, base, NULL);
	const char *d = sbuf_str(&decl), *at = bn.len ? strstr(d, bn.s) : NULL;
	if (at)
		sbuf_append(out, d, (size_t)(at - d));
	print_body(c, base, 0, out);
	if (at)
		sbuf_puts(out, at + bn.len);
	sbuf_free(&bn);
	sbuf_free(&decl);
}

void fmt_whatis(struct type *t, struct sbuf *out)
{
	type_name(out, t, NULL);
}
