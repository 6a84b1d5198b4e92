/* C declarator text for types, as gdb's c_print_type writes it: "int (*)(int)",
 * "char name[16]", "const char *", "struct node *", "void (*)()". */
#include <string.h>

#include "core/util.h"
#include "types.h"

static void print_base(struct sbuf *b, struct type *t);

static bool needs_paren(struct type *t)
{
	return t && (t->kind == TY_ARRAY || t->kind == TY_FUNC);
}

static void varspec_prefix(struct sbuf *b, struct type *t, bool passed_ptr)
{
	if (!t)
		return;
	switch (t->kind) {
	case TY_PTR:
		varspec_prefix(b, t->target, true);
		sbuf_putc(b, '*');
		break;
	case TY_REF:
	case TY_RVREF:
		varspec_prefix(b, t->target, true);
		sbuf_puts(b, t->kind == TY_REF ? "&" : "&&");
		break;
	case TY_CONST:
	case TY_VOLATILE: {
		/* qualifiers of a pointer: "char * const" */
		struct type *u = type_strip_cv(t);
		if (u->kind == TY_PTR || u->kind == TY_REF) {
			varspec_prefix(b, u, passed_ptr);
			for (struct type *q = t; q != u; q = q->target)
				sbuf_puts(b, q->kind == TY_CONST ? " const" : " volatile");
		}
		break;
	}
	case TY_FUNC:
	case TY_ARRAY:
		varspec_prefix(b, t->target, false);
		if (passed_ptr)
			sbuf_putc(b, '(');
		break;
	default:
		break;
	}
}

static void varspec_suffix(struct sbuf *b, struct type *t, bool passed_ptr)
{
	if (!t)
		return;
	switch (t->kind) {
	case TY_ARRAY:
		if (passed_ptr)
			sbuf_putc(b, ')');
		if (t->dynamic)
			sbuf_puts(b, "[variable length]");
		else if (t->count >= 0)
			sbuf_printf(b, "[%ld]", (long)t->count);
		else
			sbuf_puts(b, "[]");
		varspec_suffix(b, t->target, false);
		break;
	case TY_PTR:
	case TY_REF:
	case TY_RVREF:
		varspec_suffix(b, t->target, true);
		break;
	case TY_CONST:
	case TY_VOLATILE: {
		struct type *u = type_strip_cv(t);
		if (u->kind == TY_PTR || u->kind == TY_REF)
			varspec_suffix(b, u, passed_ptr);
		break;
	}
	case TY_FUNC:
		if (passed_ptr)
			sbuf_putc(b, ')');
		sbuf_putc(b, '(');
		for (size_t i = 0; i < t->nparams; i++) {
			if (i)
				sbuf_puts(b, ", ");
			type_name(b, t->params[i], NULL);
		}
		if (t->varargs)
			sbuf_puts(b, t->nparams ? ", ..." : "...");
		else if (!t->nparams && t->prototyped && !t->is_cxx)
			sbuf_puts(b, "void");
		sbuf_putc(b, ')');
		varspec_suffix(b, t->target, false);
		break;
	default:
		break;
	}
}

/* The innermost named/base type of a declarator, with its qualifiers. */
static struct type *decl_base(struct type *t)
{
	for (;;) {
		switch (t->kind) {
		case TY_PTR: case TY_REF: case TY_RVREF: case TY_ARRAY: case TY_FUNC:
			t = t->target ? t->target : type_void();
			continue;
		case TY_CONST: case TY_VOLATILE: {
			struct type *u = type_strip_cv(t);
			if (u->kind == TY_PTR || u->kind == TY_REF || u->kind == TY_ARRAY ||
			    u->kind == TY_FUNC) {
				t = u;
				continue;
			}
			return t;
		}
		default:
			return t;
		}
	}
}

static void print_base(struct sbuf *b, struct type *t)
{
	if (t->kind == TY_CONST || t->kind == TY_VOLATILE) {
		sbuf_puts(b, t->kind == TY_CONST ? "const " : "volatile ");
		print_base(b, t->target ? t->target : type_void());
		return;
	}
	const char *kw = NULL;
	switch (t->kind) {
	case TY_STRUCT: kw = "struct"; break;
	case TY_CLASS: kw = "class"; break;
	case TY_UNION: kw = "union"; break;
	case TY_ENUM: kw = "enum"; break;
	default: break;
	}
	if (kw && t->is_cxx && t->name) {
		sbuf_puts(b, t->name);
		return;
	}
	if (kw) {
		sbuf_printf(b, "%s %s", kw, t->name ? t->name : "{...}");
		return;
	}
	if (t->kind == TY_UNKNOWN && !t->name) {
		sbuf_puts(b, "<unknown type>");
		return;
	}
	sbuf_puts(b, t->name ? t->name : "void");
}

void type_name(struct sbuf *b, struct type *t, const char *var)
{
	struct type *base = decl_base(t);
	print_base(b, base);
	bool derived = t != base;
	if ((var && *var) || derived)
		sbuf_putc(b, ' ');
	varspec_prefix(b, t, false);
	if (var)
		sbuf_puts(b, var);
	varspec_suffix(b, t, false);
	(void)needs_paren;
}
