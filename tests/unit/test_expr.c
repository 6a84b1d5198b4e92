/* Expressions with side effects and state, against gdb at the same stop:
 * assignment to memory, bitfields, registers and convenience variables, value
 * history, increments, compound assignment; then the evaluator's own contracts
 * (conditions, no-side-effect mode, errors, evaluation before the program runs). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SYM_ORACLE_SESSION
#include "sym_oracle.h"

Test(expr, assignments_like_gdb)
{
	const char *cmds[] = {
		"print global_counter = 5", "print global_counter", "print global_counter += 3",
		"print global_counter++", "print ++global_counter", "print global_counter--",
		"print global_counter", "print gbits.b = -7", "print gbits", "print gbits.a = 6",
		"print gbits", "print count *= 3", "print count", "print local_buf[1] = 'z'",
		"print local_buf", "print *head = nodes[2]", "print *head", "print head->next = 0",
		"print nodes[0]", "print the_shape.area *= 2", "print gdouble = 1", "print gdouble",
		"print gfloat = gdouble / 3", "print gcolor = GREEN", "print gcolor = 2",
		"print gchar = 66", "print gchar", "print gptr = greeting + 1", "print gptr",
		"print $rax = 5", "print $rax", "print $eax = -1", "print $rax", "print $al = 7",
		"print $rax", "print $ax", "print scale = -0.5", "print scale", "print tag = 'q'",
		"print tag", "print inner = 123", "print inner + local_i", "print 1 = 2",
		"print count + 1 = 3", "print gbool = 0", "print gbool",
		NULL,
	};
	check_commands("types", "types.c:64", 1, cmds);
}

Test(expr, history_and_convenience_like_gdb)
{
	const char *cmds[] = {
		"print $", "print $$", "print 10", "print 20", "print $", "print $$", "print $$2",
		"print $1", "print $1 + $2", "print $foo", "print $foo = 3", "print $foo * 2",
		"print $foo++", "print $foo", "print $bar = nodes", "print $bar[1].value",
		"print $1 = 7", "print $ + 1", "print $$0", "print $7", "print $9999",
		"print $s = \"abc\"", "print sizeof($s)", "print $s[1]", "print $cnt = count",
		"print $cnt += 10", "print count", "print $_", "print $pc == $rip",
		"print $sp == $rsp", "print (long)$fp == (long)$rbp",
		NULL,
	};
	check_commands("types", "types.c:64", 1, cmds);
}

Test(expr, registers_in_outer_frames)
{
	struct session S;
	sess_start(&S, "types", "bump", 1);
	cr_assert_geq(S.frames.n, 2);
	/* frame 1 (main): $pc is the return address, $sp its CFA-derived sp */
	struct expr_env env = S.env;
	env.ctx.frame = &S.frames.v[1];
	env.ctx.caller = S.frames.n > 2 ? &S.frames.v[2] : NULL;
	struct value *v;
	char *err = NULL;
	cr_assert_eq(expr_eval(&env, "$pc", &v, &err), 0, "%s", err);
	int64_t pc;
	cr_assert_eq(value_as_long(&env.ctx, v, &pc, NULL), 0);
	cr_expect_eq((uint64_t)pc, S.frames.v[1].pc);
	value_free(v);
	/* locals of the outer frame are readable there (r in main) */
	cr_assert_eq(expr_eval(&env, "r", &v, &err), 0, "%s", err);
	value_free(v);
	/* writing a register of an outer frame is refused */
	cr_expect_neq(expr_eval(&env, "$rax = 1", &v, &err), 0);
	cr_expect_str_eq(err, "Attempt to assign to an unmodifiable value.");
	free(err);
	sess_stop(&S);
}

Test(expr, conditions_and_side_effect_free_mode)
{
	struct session S;
	sess_start(&S, "types", "bump", 1);
	char *err = NULL;
	cr_expect_eq(expr_eval_cond(&S.env, "by == 1", &err), 1);
	cr_expect_eq(expr_eval_cond(&S.env, "by != 1 || global_counter < 0", &err), 0);
	cr_expect_eq(expr_eval_cond(&S.env, "nodes[0].next->value == 2 && gptr[0] == 'h'", &err), 1);
	cr_expect_lt(expr_eval_cond(&S.env, "nosuch > 1", &err), 0);
	cr_expect_str_eq(err, "No symbol \"nosuch\" in current context.");
	free(err);
	err = NULL;
	cr_expect_lt(expr_eval_cond(&S.env, "the_shape", &err), 0, "a struct is not a condition");
	free(err);
	err = NULL;
	/* whatis/ptype evaluate without side effects */
	struct expr_env env = S.env;
	env.no_side_effects = true;
	struct value *v;
	int64_t before, after;
	cr_assert_eq(expr_eval(&S.env, "global_counter", &v, &err), 0);
	value_as_long(&S.env.ctx, v, &before, NULL);
	value_free(v);
	cr_assert_eq(expr_eval(&env, "global_counter++", &v, &err), 0);
	cr_expect_eq(type_strip(v->type)->kind, TY_INT);
	value_free(v);
	cr_assert_eq(expr_eval(&env, "global_counter = 99", &v, &err), 0);
	value_free(v);
	cr_assert_eq(expr_eval(&S.env, "global_counter", &v, &err), 0);
	value_as_long(&S.env.ctx, v, &after, NULL);
	value_free(v);
	cr_expect_eq(before, after, "no write happened");
	/* calls need the session's call hook */
	cr_expect_neq(expr_eval(&S.env, "bump(1)", &v, &err), 0);
	cr_expect_str_eq(err, "You can't do that without a process to debug.");
	free(err);
	sess_stop(&S);
}

static int fake_call(void *arg, struct value *fn, struct value **args, size_t n,
                     struct value **out, char **err)
{
	int *calls = arg;
	(*calls)++;
	cr_assert_eq(fn->lval, LV_MEM);
	cr_assert_eq(n, 2);
	int64_t a, b;
	value_as_long(NULL, args[0], &a, NULL);
	value_as_long(NULL, args[1], &b, NULL);
	*out = value_from_long(type_int(), a * 10 + b);
	return 0;
}

Test(expr, before_run_and_call_hook)
{
	/* no process: globals come from the file, like gdb before `run` */
	char *path = oracle_prog("types");
	struct symtab *st;
	cr_assert_eq(symtab_open_file(path, &st, NULL), 0);
	struct expr_env env = { .ctx = { .st = st } };
	const char *cmds[][2] = {
		{ "global_counter", "7" }, { "matrix", "{{1, 2, 3}, {4, 5, 6}}" },
		{ "gbits", "{a = 5, b = -3, c = 1, full = 42}" }, { "zeros[3] + 1", "1" },
		{ "sizeof(struct shape)", "88" }, { "greeting", "\"hello\"" }, { "gcolor", "BLUE" },
		{ "gdouble * 2", "7" }, { "RED + BLUE", "2" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		struct value *v;
		char *err = NULL;
		cr_assert_eq(expr_eval(&env, cmds[i][0], &v, &err), 0, "%s: %s", cmds[i][0], err);
		struct fmt_opts o;
		fmt_opts_default(&o);
		struct sbuf b = { 0 };
		cr_assert_eq(fmt_value(&env.ctx, v, &o, &b, &err), 0, "%s", err);
		cr_expect_str_eq(sbuf_str(&b), cmds[i][1], "%s", cmds[i][0]);
		sbuf_free(&b);
		value_free(v);
	}
	/* gdb says the same before run */
	const char *g[] = { "print global_counter", "print gbits", "print $pc", NULL };
	char *out = oracle_gdb(path, g);
	cr_expect(strstr(out, "$2 = {a = 5, b = -3, c = 1, full = 42}"), "%s", out);
	char *err = NULL;
	struct value *v;
	cr_expect_neq(expr_eval(&env, "$pc", &v, &err), 0);
	cr_expect_str_eq(err, "No registers.");
	cr_expect(strstr(out, "No registers."), "%s", out);
	free(err);
	err = NULL;
	/* a call goes through the hook */
	int calls = 0;
	env.call = fake_call;
	env.call_arg = &calls;
	cr_assert_eq(expr_eval(&env, "bump(4, 2) + 1", &v, &err), 0, "%s", err);
	int64_t r;
	value_as_long(&env.ctx, v, &r, NULL);
	cr_expect_eq(r, 43);
	cr_expect_eq(calls, 1);
	value_free(v);
	free(out);
	symtab_free(st);
	free(path);
}

Test(expr, history_outlives_the_symtab)
{
	char *path = oracle_prog("types");
	struct symtab *st;
	cr_assert_eq(symtab_open_file(path, &st, NULL), 0);
	struct expr_history *h = expr_history_new();
	struct expr_env env = { .ctx = { .st = st }, .hist = h };
	struct value *v;
	char *err = NULL;
	cr_assert_eq(expr_eval(&env, "nodes", &v, &err), 0, "%s", err);
	expr_history_add(h, &env.ctx, v);
	struct fmt_opts o;
	fmt_opts_default(&o);
	struct sbuf before = { 0 };
	cr_assert_eq(fmt_value(&env.ctx, v, &o, &before, &err), 0);
	value_free(v);
	cr_assert_eq(expr_eval(&env, "$cv = gbits", &v, &err), 0, "%s", err);
	value_free(v);
	symtab_free(st);
	/* a new symtab (the next run): $1 and $cv still print and compute */
	cr_assert_eq(symtab_open_file(path, &st, NULL), 0);
	env.ctx.st = st;
	const char *cases[][2] = {
		{ "$1", before.s }, { "$1[1].value + 1", "3" }, { "$cv", "{a = 5, b = -3, c = 1, full = 42}" },
		{ "$cv.b", "-3" }, { "sizeof($1)", "48" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cr_assert_eq(expr_eval(&env, cases[i][0], &v, &err), 0, "%s: %s", cases[i][0], err);
		struct sbuf b = { 0 };
		cr_assert_eq(fmt_value(&env.ctx, v, &o, &b, &err), 0);
		cr_expect_str_eq(sbuf_str(&b), cases[i][1], "%s: %s", cases[i][0], sbuf_str(&b));
		sbuf_free(&b);
		value_free(v);
	}
	struct sbuf pt = { 0 };
	cr_assert_eq(expr_eval(&env, "$1", &v, &err), 0);
	fmt_ptype(&env.ctx, v->type, &pt);
	cr_expect_str_eq(pt.s, "struct node {\n    int value;\n    struct node *next;\n} [3]");
	sbuf_free(&pt);
	value_free(v);
	expr_history_free(h);
	symtab_free(st);
	sbuf_free(&before);
	free(path);
}

Test(expr, parse_errors)
{
	static const char *const bad[][2] = {
		{ "1 +", "A syntax error in expression, near `'." },
		{ ")", "A syntax error in expression, near `)'." },
		{ "1 2", "A syntax error in expression, near `2'." },
		{ "a[1", "A syntax error in expression, near `'." },
		{ "#", "Invalid character '#' in expression." },
		{ "'ab", "Unmatched single quote." },
		{ "\"abc", "Unterminated string in expression." },
		{ "08", "Invalid number \"08\"." },
		{ "", "A syntax error in expression, near `'." },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct expr_node *n = NULL;
		char *err = NULL;
		cr_expect_eq(expr_parse(NULL, bad[i][0], &n, &err), -EINVAL, "%s", bad[i][0]);
		cr_expect_null(n);
		cr_expect_str_eq(err ? err : "", bad[i][1], "%s", bad[i][0]);
		free(err);
	}
	/* the same messages from gdb */
	char *path = oracle_prog("types");
	const char *g[] = { "print 1 +", "print )", "print 1 2", "print #", "print 08", NULL };
	char *out = oracle_gdb(path, g);
	for (size_t i = 0; i < 3; i++)
		cr_expect(strstr(out, bad[i][1]), "gdb: %s", out);
	cr_expect(strstr(out, bad[4][1]), "gdb: %s", out);
	cr_expect(strstr(out, bad[7][1]), "gdb: %s", out);
	free(out);
	free(path);
}

/* ---- the DWARF expression machine on synthetic expressions */
#include <dwarf.h>

#include "core/sym/loc.h"

static uint8_t fake_mem[64];

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	if (addr < 0x1000 || addr + len > 0x1000 + sizeof fake_mem)
		return -EIO;
	memcpy(buf, fake_mem + (addr - 0x1000), len);
	return 0;
}

#define OP(a, n1, n2) ((Dwarf_Op){ .atom = (a), .number = (n1), .number2 = (n2), .offset = off++ })

Test(expr, dwarf_expression_machine)
{
	struct sym_access acc = { .read_mem = fake_read };
	struct unwind_frame f = { .pc = 0x4000, .lookup_pc = 0x4000, .cfa = 0x1010,
	                          .valid = (1u << 3) | (1u << 6) | (1u << 7) };
	f.regs[3] = 0x1008;   /* rbx */
	f.regs[6] = 7;        /* rbp */
	f.regs[7] = 0x1020;   /* rsp */
	uint64_t w = 0x1234567890abcdefull;
	memcpy(fake_mem + 8, &w, 8);
	struct loc_ctx c = { .acc = &acc, .frame = &f, .bias = 0x100 };
	struct loc l;
	char *err = NULL;
	Dwarf_Word off = 0;

	/* DW_OP_addr is relocated by the module bias */
	Dwarf_Op e1[] = { OP(DW_OP_addr, 0x2000, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e1, 1, &l, &err), 0);
	cr_expect_eq(l.kind, LOC_MEM);
	cr_expect_eq(l.addr, 0x2100);

	/* arithmetic and stack operations: (5 - 2) * 4 + rot/swap/pick/over */
	off = 0;
	Dwarf_Op e2[] = { OP(DW_OP_lit5, 0, 0), OP(DW_OP_lit2, 0, 0), OP(DW_OP_minus, 0, 0),
	                  OP(DW_OP_lit4, 0, 0), OP(DW_OP_mul, 0, 0), OP(DW_OP_dup, 0, 0),
	                  OP(DW_OP_plus_uconst, 3, 0), OP(DW_OP_swap, 0, 0), OP(DW_OP_minus, 0, 0),
	                  OP(DW_OP_stack_value, 0, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e2, ARRAY_SIZE(e2), &l, &err), 0);
	cr_expect_eq(l.kind, LOC_VALUE);
	cr_expect_eq(l.value, 3);   /* (12 + 3) - 12 */

	/* breg + deref; deref_size; call_frame_cfa */
	off = 0;
	Dwarf_Op e3[] = { OP(DW_OP_breg3, 0, 0), OP(DW_OP_deref, 0, 0), OP(DW_OP_stack_value, 0, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e3, 3, &l, &err), 0);
	cr_expect_eq(l.value, w);
	off = 0;
	Dwarf_Op e4[] = { OP(DW_OP_call_frame_cfa, 0, 0), OP(DW_OP_consts, (Dwarf_Word)-8, 0),
	                  OP(DW_OP_plus, 0, 0), OP(DW_OP_deref_size, 2, 0), OP(DW_OP_stack_value, 0, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e4, 5, &l, &err), 0);
	cr_expect_eq(l.value, 0xcdef);

	/* a register location; a register the frame does not have is optimized out */
	off = 0;
	Dwarf_Op e5[] = { OP(DW_OP_reg6, 0, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e5, 1, &l, &err), 0);
	cr_expect_eq(l.kind, LOC_REG);
	cr_expect_eq(l.reg, 6);
	off = 0;
	Dwarf_Op e6[] = { OP(DW_OP_breg0, 4, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e6, 1, &l, &err), 0);
	cr_expect_eq(l.kind, LOC_NONE, "rax is not recovered in this frame");

	/* pieces: 4 bytes in rbp, 4 nowhere, 2 bits from a value */
	off = 0;
	Dwarf_Op e7[] = { OP(DW_OP_reg6, 0, 0), OP(DW_OP_piece, 4, 0), OP(DW_OP_piece, 4, 0),
	                  OP(DW_OP_lit3, 0, 0), OP(DW_OP_stack_value, 0, 0),
	                  OP(DW_OP_bit_piece, 2, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e7, ARRAY_SIZE(e7), &l, &err), 0);
	cr_expect_eq(l.kind, LOC_PIECES);
	cr_assert_eq(l.npieces, 3);
	cr_expect_eq(l.pieces[0].kind, LOC_REG);
	cr_expect_eq(l.pieces[0].bits, 32);
	cr_expect_eq(l.pieces[1].kind, LOC_NONE);
	cr_expect_eq(l.pieces[2].kind, LOC_VALUE);
	cr_expect_eq(l.pieces[2].value, 3);
	cr_expect_eq(l.pieces[2].bits, 2);
	loc_free(&l);

	/* control flow: bra over a skip */
	off = 0;
	Dwarf_Op e8[] = { OP(DW_OP_lit1, 0, 0), OP(DW_OP_bra, 4, 0), OP(DW_OP_lit7, 0, 0),
	                  OP(DW_OP_skip, 5, 0), OP(DW_OP_lit9, 0, 0), OP(DW_OP_stack_value, 0, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e8, ARRAY_SIZE(e8), &l, &err), 0);
	cr_expect_eq(l.value, 9, "branch taken to lit9");

	/* errors as gdb words them */
	off = 0;
	Dwarf_Op e9[] = { OP(DW_OP_lit0, 0, 0), OP(DW_OP_deref, 0, 0) };
	cr_expect_lt(loc_eval_ops(&c, NULL, e9, 2, &l, &err), 0);
	cr_expect_str_eq(err, "Cannot access memory at address 0x0");
	free(err);
	err = NULL;
	off = 0;
	Dwarf_Op e10[] = { OP(DW_OP_lit1, 0, 0), OP(DW_OP_lit0, 0, 0), OP(DW_OP_div, 0, 0) };
	cr_expect_lt(loc_eval_ops(&c, NULL, e10, 3, &l, &err), 0);
	cr_expect_str_eq(err, "Division by zero");
	free(err);
	err = NULL;
	/* entry values without a caller are optimized out, never guessed */
	off = 0;
	Dwarf_Op e11[] = { OP(DW_OP_entry_value, 1, 0), OP(DW_OP_stack_value, 0, 0) };
	cr_assert_eq(loc_eval_ops(&c, NULL, e11, 2, &l, &err), 0);
	cr_expect_eq(l.kind, LOC_NONE);
	/* no operations: optimized out */
	cr_assert_eq(loc_eval_ops(&c, NULL, e11, 0, &l, &err), 0);
	cr_expect_eq(l.kind, LOC_NONE);
}
