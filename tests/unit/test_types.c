/* The type model read from fixture files (no process): ptype/whatis against gdb
 * on the same file, sizes and layouts, bitfields, flag enums, C++ classes,
 * lookups by name, and the formatting of values partly optimized out. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sym/expr.h"
#include "core/sym/format.h"
#include "core/sym/types.h"
#include "sym_oracle.h"

static struct symtab *open_prog(const char *name)
{
	char *path = oracle_prog(name);
	struct symtab *st;
	cr_assert_eq(symtab_open_file(path, &st, NULL), 0);
	free(path);
	return st;
}

/* `ptype X` / `whatis X` as the shell would print it, with no process. */
static char *static_command(struct symtab *st, const char *cmd)
{
	struct expr_env env = { .ctx = { .st = st }, .no_side_effects = true };
	const char *arg = strchr(cmd, ' ') + 1;
	struct type *t = NULL;
	char *err = NULL;
	struct sbuf out = { 0 };
	int e = expr_parse_type(&env, arg, &t, &err);
	bool is_type = e == 0;
	if (e == -ENOENT) {
		struct value *v;
		if (expr_eval(&env, arg, &v, &err) == 0) {
			t = v->type;
			value_free(v);
		}
	}
	if (t) {
		sbuf_puts(&out, "type = ");
		if (cmd[0] == 'p') {
			fmt_ptype(&env.ctx, t, &out);
		} else {
			if (is_type && t->kind == TY_TYPEDEF)
				t = t->target;
			fmt_whatis(t, &out);
		}
	} else {
		sbuf_puts(&out, err ? err : "?");
	}
	free(err);
	return sbuf_steal(&out) ?: xstrdup("");
}

static void check_static(const char *prog, const char *const *cmds)
{
	const char *g[256];
	char *marks[128];
	size_t n = 0, k;
	for (k = 0; cmds[k]; k++) {
		marks[k] = xasprintf("echo @@%zu\\n", k);
		g[n++] = marks[k];
		g[n++] = cmds[k];
	}
	g[n] = NULL;
	char *path = oracle_prog(prog);
	char *out = oracle_gdb(path, g);
	struct symtab *st = open_prog(prog);
	for (size_t i = 0; i < k; i++) {
		char tag[24];
		snprintf(tag, sizeof tag, "%zu", i);
		char *want = oracle_after(out, tag);
		cr_assert_not_null(want, "%s", out);
		char *got = static_command(st, cmds[i]);
		cr_expect_str_eq(got, want, "%s: `%s'\n  ours: %s\n  gdb:  %s", prog, cmds[i], got, want);
		free(got);
		free(want);
		free(marks[i]);
	}
	symtab_free(st);
	free(out);
	free(path);
}

Test(types, ptype_whatis_c_static)
{
	const char *cmds[] = {
		"ptype struct shape", "ptype union num", "ptype enum color", "ptype enum flags",
		"ptype struct bits", "ptype point_t", "whatis point_t", "ptype uint", "whatis uint",
		"ptype struct node", "whatis nodes", "ptype matrix", "whatis matrix", "ptype gfn",
		"whatis gfn", "ptype bump", "whatis bump", "ptype inspect", "ptype main",
		"whatis the_shape.pts", "ptype the_shape.box", "whatis &the_shape.box",
		"whatis *gpoint_ptr", "whatis empty_str", "ptype empty_str", "whatis (char)1",
		"whatis (unsigned char *)0", "whatis (struct node *)0", "whatis (long long)1",
		"whatis (unsigned)1", "whatis (short)1", "whatis sizeof(int)", "whatis 1 + 1.0f",
		"whatis 'a' + 'b'", "whatis 1 ? 2 : 3", "whatis global_counter < 3", "ptype int *",
		"ptype struct nosuch", "whatis nosuch_t",
		NULL,
	};
	check_static("types", cmds);
}

Test(types, ptype_cxx_static)
{
	const char *cmds[] = {
		"ptype geo::Klass", "ptype geo::Base", "whatis geo::Klass", "ptype geo::inner::helper",
		"whatis geo::Klass::count", "ptype geo::Klass::count", "whatis geo::Base", NULL,
	};
	check_static("cxx", cmds);
}

Test(types, layout_and_enums)
{
	struct symtab *st = open_prog("types");
	struct type *t = type_lookup(st, "struct shape");
	cr_assert_not_null(t);
	cr_expect_eq(t->kind, TY_STRUCT);
	cr_expect_eq(type_size(t), 88);
	cr_assert_eq(type_nfields(t), 9);
	cr_expect_str_eq(t->fields[0].name, "name");
	cr_expect_eq(type_strip(t->fields[0].type)->kind, TY_ARRAY);
	cr_expect_eq(type_strip(t->fields[0].type)->count, 16);
	cr_expect_null(type_strip(t->fields[5].type)->name, "box is an anonymous struct");
	cr_expect_eq(t->fields[5].bitpos, 8 * 56);

	struct type *b = type_lookup(st, "struct bits");
	cr_assert_eq(type_nfields(b), 4);
	cr_expect_eq(b->fields[0].bitsize, 3);
	cr_expect_eq(b->fields[0].bitpos, 0);
	cr_expect_eq(b->fields[1].bitsize, 5);
	cr_expect_eq(b->fields[1].bitpos, 3);
	cr_expect_eq(b->fields[2].bitpos, 8);
	cr_expect_eq(b->fields[3].bitpos, 32);
	cr_expect(type_strip(b->fields[1].type)->is_signed);

	struct type *c = type_lookup(st, "enum color"), *f = type_lookup(st, "enum flags");
	cr_assert(c && f);
	cr_expect_eq(c->nenums, 3);
	cr_expect(c->is_flag_enum, "0, 1, 2: disjoint single bits, as gdb decides");
	cr_expect(f->is_flag_enum);
	cr_expect_eq(f->enums[2].value, 4);

	struct type *m = type_lookup(st, "point_t");
	cr_assert_not_null(m);
	cr_expect_eq(m->kind, TY_TYPEDEF);
	cr_expect_eq(type_strip(m)->kind, TY_STRUCT);
	cr_expect_null(type_lookup(st, "point"), "C tags need their keyword");
	cr_expect_not_null(type_lookup(st, "struct point"));
	cr_expect_eq(type_lookup(st, "unsigned long")->size, 8);

	/* the VLA's type needs a frame: marked dynamic */
	struct expr_env env = { .ctx = { .st = st } };
	struct sbuf nm = { 0 };
	type_name(&nm, type_pointer_to(type_array_of(type_int(), 3)), "p");
	cr_expect_str_eq(nm.s, "int (*p)[3]");
	sbuf_reset(&nm);
	struct type *fp = NULL;
	cr_assert_eq(expr_parse_type(&env, "struct node *", &fp, NULL), 0);
	type_name(&nm, fp, NULL);
	cr_expect_str_eq(nm.s, "struct node *");
	sbuf_free(&nm);
	symtab_free(st);

	st = open_prog("cxx");
	struct type *k = type_lookup(st, "geo::Klass");
	cr_assert_not_null(k);
	cr_expect_eq(k->kind, TY_CLASS);
	cr_assert_geq(type_nfields(k), 2);
	cr_expect(k->fields[0].is_base);
	cr_expect_str_eq(type_strip(k->fields[0].type)->name, "geo::Base");
	bool stat = false;
	for (size_t i = 0; i < k->nfields; i++)
		stat |= k->fields[i].is_static && !strcmp(k->fields[i].name, "count");
	cr_expect(stat);
	symtab_free(st);
}

Test(types, partly_optimized_out_values)
{
	struct symtab *st = open_prog("types");
	struct sym_ctx c = { .st = st };
	struct type *pt = type_lookup(st, "point_t");
	struct value *v = value_new(pt);
	int xy[2] = { 3, 4 };
	memcpy(v->bytes, xy, 8);
	v->optmask = xcalloc(1, v->len);
	memset(v->optmask + 4, 1, 4);   /* y lives nowhere */
	struct fmt_opts o;
	fmt_opts_default(&o);
	struct sbuf b = { 0 };
	cr_assert_eq(fmt_value(&c, v, &o, &b, NULL), 0);
	cr_expect_str_eq(b.s, "{x = 3, y = <optimized out>}");
	char *err = NULL;
	struct value *y = value_member(&c, v, "y", &err);
	int64_t x;
	cr_expect_lt(value_as_long(&c, y, &x, &err), 0);
	cr_expect_str_eq(err, "value has been optimized out");
	free(err);
	value_free(y);
	sbuf_free(&b);
	value_free(v);
	symtab_free(st);
}
