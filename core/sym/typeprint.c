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

/* Is the method DIE one gdb shows (not artificial, named)? */
static bool shown_method(Dwarf_Die *d)
{
	Dwarf_Attribute a;
	bool art = false;
	if (dwarf_tag(d) != DW_TAG_subprogram || !dwarf_diename(d))
		return false;
	if (dwarf_attr(d, DW_AT_artificial, &a))
		dwarf_formflag(&a, &art);
	return !art;
}

static void print_label(struct sbuf *out, int level, int acc, int *section)
{
	if (acc == *section)
		return;
	sbuf_printf(out, "%*s%s:\n", level + 2, "", access_name(acc));
	*section = acc;
}

/* One C++ member function declaration, as gdb's c_type_print_base prints it. */
static void print_method(struct type *t, Dwarf_Die *ch, int level, struct sbuf *out)
{
	struct sym_mod *m = t->mod;
	const char *name = dwarf_diename(ch);
	struct type *ft = type_from_die(m, ch);
	Dwarf_Attribute a;
	Dwarf_Die pa;
	bool has_this = false, is_const = false;
	if (dwarf_child(ch, &pa) == 0 && dwarf_tag(&pa) == DW_TAG_formal_parameter) {
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
	sbuf_printf(out, "%*s", level + 4, "");
	/* gdb says "virtual" when the method has a vtable slot */
	if (dwarf_hasattr(ch, DW_AT_vtable_elem_location))
		sbuf_puts(out, "virtual ");
	else if (!has_this)
		sbuf_puts(out, "static ");
	const char *tail = t->name ? strrchr(t->name, ':') : NULL;
	const char *tn = tail ? tail + 1 : t->name;
	bool ctor = tn && !strcmp(name, tn), dtor = name[0] == '~';
	if (!ctor && !dtor) {
		type_name(out, ft->target ? ft->target : type_void(), NULL);
		if (out->len && out->s[out->len - 1] != '*' && out->s[out->len - 1] != '&')
			sbuf_putc(out, ' ');
	}
	sbuf_printf(out, "%s(", name);
	/* the parameters gdb shows: not `this`, not __in_chrg and other
	 * artificial ones */
	size_t shown = 0, k = 0;
	if (dwarf_child(ch, &pa) == 0)
		do {
			if (dwarf_tag(&pa) != DW_TAG_formal_parameter)
				continue;
			bool art = false;
			if (dwarf_attr(&pa, DW_AT_artificial, &a))
				dwarf_formflag(&a, &art);
			if (!art && k < ft->nparams) {
				if (shown++)
					sbuf_puts(out, ", ");
				type_name(out, ft->params[k], NULL);
			}
			k++;
		} while (dwarf_siblingof(&pa, &pa) == 0);
	if (!shown)
		sbuf_puts(out, ft->varargs ? "..." : "void");
	sbuf_puts(out, is_const ? ") const;\n" : ");\n");
}

/* gdb's need_access_label_p: labels only when they say something. */
static bool need_labels(struct type *t, Dwarf_Die *d, bool have_die)
{
	bool is_class = t->kind == TY_CLASS;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct type_field *f = &t->fields[i];
		if (f->is_base)
			continue;
		if (is_class ? f->access != DW_ACCESS_private : f->access != DW_ACCESS_public)
			return true;
	}
	Dwarf_Die ch;
	if (have_die && dwarf_child(d, &ch) == 0)
		do {
			if (dwarf_tag(&ch) != DW_TAG_subprogram)
				continue;
			int acc = access_of(&ch, is_class);
			if (is_class ? acc != DW_ACCESS_private : acc != DW_ACCESS_public)
				return true;
		} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

static void print_body(const struct sym_ctx *c, struct type *t, int level, struct sbuf *out)
{
	t = type_complete(c->st, t);
	if (t->kind == TY_ENUM) {
		sbuf_puts(out, "enum ");
		if (t->name)
			sbuf_printf(out, "%s ", t->name);
		print_enum_body(t, out);
		return;
	}
	sbuf_printf(out, "%s ", kind_kw(t));
	if (t->name)
		sbuf_printf(out, "%s ", t->name);
	size_t n = type_nfields(t);
	bool any_base = false;
	for (size_t i = 0; i < n; i++)
		if (t->fields[i].is_base) {
			sbuf_puts(out, any_base ? ", public " : ": public ");
			type_name(out, t->fields[i].type, NULL);
			any_base = true;
		}
	if (any_base)
		sbuf_putc(out, ' ');
	sbuf_puts(out, "{\n");
	if (t->is_decl && !n) {
		sbuf_printf(out, "%*s<incomplete type>\n%*s}", level + 4, "", level, "");
		return;
	}
	struct sym_mod *m = t->mod;
	Dwarf_Die d;
	bool have_die = m && m->dw && dwarf_offdie(m->dw, t->die, &d);
	bool labels = t->is_cxx && need_labels(t, &d, have_die);
	int section = -1;
	for (size_t i = 0; i < n; i++) {
		const struct type_field *f = &t->fields[i];
		if (f->is_base || f->artificial)
			continue;
		if (labels)
			print_label(out, level, f->access, &section);
		sbuf_printf(out, "%*s", level + 4, "");
		if (f->is_static)
			sbuf_puts(out, "static ");
		print_decl(c, f->type, f->name ? f->name : "", level + 4, out);
		if (f->bitsize)
			sbuf_printf(out, " : %u", f->bitsize);
		sbuf_puts(out, ";\n");
	}
	Dwarf_Die ch;
	if (t->is_cxx && have_die && dwarf_child(&d, &ch) == 0) {
		bool first = true;
		do {
			if (!shown_method(&ch))
				continue;
			if (first && section != -1)
				sbuf_putc(out, '\n');
			first = false;
			print_label(out, level, access_of(&ch, t->kind == TY_CLASS), &section);
			print_method(t, &ch, level, out);
		} while (dwarf_siblingof(&ch, &ch) == 0);
	}
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
