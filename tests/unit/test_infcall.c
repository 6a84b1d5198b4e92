/* Inferior function calls, results: every ABI class through the agent checked
 * against the same functions called natively (call_abi.h), the direct path without
 * the agent (static program, agent not loaded yet, INFCALL_DIRECT), refused types,
 * the agent's environment, and gdb's own `print` of the same calls.
 * Stops, threads and registers are in test_infcall_stop.c. */
#include "infcall_harness.h"

#include "core/sym/expr.h"
#include "core/sym/format.h"

/* ---- the agent's environment ---- */

Test(infcall, agent_env)
{
	setenv("REWIND_AGENT", AGENT_PATH, 1);
	char *agent, **env;
	cr_assert_eq(infcall_agent_path(&agent), 0);
	cr_assert_eq(agent[0], '/');
	cr_assert(strstr(agent, "/librewind-agent.so"));
	char *none[] = { "A=1", NULL };
	cr_assert_eq(infcall_agent_env(none, &env), 0);
	cr_assert_str_eq(env[0], "A=1");
	char *want = xasprintf("LD_PRELOAD=%s", agent);
	cr_assert_str_eq(env[1], want);
	cr_assert_null(env[2]);
	infcall_env_free(env);
	/* An existing LD_PRELOAD stays, after the agent, in its place. */
	char *other[] = { "LD_PRELOAD=/x/libother.so", "B=2", NULL };
	cr_assert_eq(infcall_agent_env(other, &env), 0);
	char *want2 = xasprintf("LD_PRELOAD=%s:/x/libother.so", agent);
	cr_assert_str_eq(env[0], want2);
	cr_assert_str_eq(env[1], "B=2");
	cr_assert_null(env[2]);
	/* Already there: unchanged (a second launch from an agent-preloaded env). */
	char **again;
	cr_assert_eq(infcall_agent_env(env, &again), 0);
	cr_assert_str_eq(again[0], want2);
	infcall_env_free(again);
	infcall_env_free(env);
	free(agent);
	setenv("REWIND_AGENT", "/nonexistent/librewind-agent.so", 1);
	cr_assert_eq(infcall_agent_path(&agent), -ENOENT);
	cr_assert_eq(infcall_agent_env(none, &env), -ENOENT);
	free(want);
	free(want2);
}

/* ---- every ABI class through the agent, checked against native calls ---- */

/* The scalar calls, through the agent or direct: same results either way. */
static void scalar_calls(unsigned flags)
{
	int i;
	CALL(cf_add_ints, &infcall_s32, flags, &i, A(infcall_s32, int, 40), A(infcall_s32, int, 2));
	cr_assert_eq(i, cf_add_ints(40, 2));
	long l;
	CALL(cf_mul_longs, &infcall_s64, flags, &l, A(infcall_s64, long, -300000000000L),
	     A(infcall_s64, long, 7));
	cr_assert_eq(l, cf_mul_longs(-300000000000L, 7));
	char c;
	CALL(cf_next_char, &infcall_s8, flags, &c, A(infcall_s8, char, 'y'));
	cr_assert_eq(c, 'z');
	unsigned char uc;
	CALL(cf_uchar_not, &infcall_u8, flags, &uc, A(infcall_u8, unsigned char, 0x0f));
	cr_assert_eq(uc, 0xf0);
	short sh;
	CALL(cf_neg_short, &infcall_s16, flags, &sh, A(infcall_s16, short, -1234));
	cr_assert_eq(sh, 1234);
	unsigned long long u;
	CALL(cf_mix_u64, &infcall_u64, flags, &u, A(infcall_u64, unsigned long long, 0x1234567890abcdefull),
	     A(infcall_u32, unsigned, 0xffffffffu));
	cr_assert_eq(u, cf_mix_u64(0x1234567890abcdefull, 0xffffffffu));
	CALL(cf_many_ints, &infcall_s32, flags, &i, A(infcall_s32, int, 1), A(infcall_s32, int, -2),
	     A(infcall_s32, int, 3), A(infcall_s32, int, -4), A(infcall_s32, int, 5),
	     A(infcall_s32, int, -6), A(infcall_s32, int, 7), A(infcall_s32, int, 1000));
	cr_assert_eq(i, cf_many_ints(1, -2, 3, -4, 5, -6, 7, 1000));
	uint64_t hello = sym("cf_hello"), p;
	CALL(cf_str_tail, &infcall_ptr, flags, &p, A(infcall_ptr, uint64_t, hello), A(infcall_s32, int, 3));
	cr_assert_eq(p, hello + 3);
	CALL(cf_str_len, &infcall_s32, flags, &i, A(infcall_ptr, uint64_t, hello));
	cr_assert_eq(i, 5);
	double d;
	CALL(cf_add_doubles, &infcall_double, flags, &d, A(infcall_double, double, 1.25),
	     A(infcall_double, double, -1e-3));
	cr_assert_eq(d, cf_add_doubles(1.25, -1e-3));
	float f;
	CALL(cf_scale_float, &infcall_float, flags, &f, A(infcall_float, float, 1.5f), A(infcall_s32, int, -3));
	cr_assert_eq(f, -4.5f);
	CALL(cf_mixed, &infcall_double, flags, &d, A(infcall_s32, int, 7), A(infcall_double, double, 0.5),
	     A(infcall_s64, long, -3), A(infcall_float, float, 0.25f), A(infcall_s8, char, 'A'),
	     A(infcall_double, double, 3.0));
	cr_assert_eq(d, cf_mixed(7, 0.5, -3, 0.25f, 'A', 3.0));
	CALL(cf_many_doubles, &infcall_double, flags, &d, A(infcall_double, double, 1),
	     A(infcall_double, double, 2), A(infcall_double, double, 3), A(infcall_double, double, 4),
	     A(infcall_double, double, 5), A(infcall_double, double, 6), A(infcall_double, double, 7),
	     A(infcall_double, double, 8), A(infcall_double, double, 9.5), A(infcall_double, double, -10));
	cr_assert_eq(d, cf_many_doubles(1, 2, 3, 4, 5, 6, 7, 8, 9.5, -10));
	/* A string literal, copied into the call's scratch memory. */
	static const char lit[] = "a literal string";
	const struct infcall_arg byref[] = { { &infcall_ptr, lit, sizeof lit } };
	call_ok("cf_str_len", &infcall_s32, flags, false, 0, byref, 1, &i, sizeof i);
	cr_assert_eq(i, (int)strlen(lit));
	const struct infcall_arg two[] = { { &infcall_ptr, lit, sizeof lit }, A(infcall_s32, int, 2) };
	uint64_t tail;
	call_ok("cf_str_tail", &infcall_ptr, flags, false, 0, two, 2, &tail, sizeof tail);
	cr_assert(tail > inf.cur->regs.rsp - 128 - 4096 && tail < inf.cur->regs.rsp - 128,
		  "the copy lies just below the red zone (%#llx, sp %#llx)",
		  (unsigned long long)tail, inf.cur->regs.rsp);
	CALL(cf_bump, NULL, flags, &i, A(infcall_s32, int, 5));
}

Test(infcall, abi_agent, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	cr_assert_eq(infcall_agent_ready(inf.main), 1);
	scalar_calls(0);

	long double ld;
	CALL(cf_ld_mul, &infcall_ldouble, 0, &ld, A(infcall_ldouble, long double, 1.1L),
	     A(infcall_ldouble, long double, -3.3L));
	cr_assert(ld == cf_ld_mul(1.1L, -3.3L));

	struct cf_small sm;
	CALL(cf_make_small, &small_t, 0, &sm, A(infcall_s32, int, 3), A(infcall_s32, int, -4));
	cr_assert(sm.a == 3 && sm.b == -4);
	int i;
	CALL(cf_sum_small, &infcall_s32, 0, &i, A(small_t, struct cf_small, 5, 6));
	cr_assert_eq(i, 56);
	struct cf_pairf pf;
	CALL(cf_swap_pf, &pairf_t, 0, &pf, A(pairf_t, struct cf_pairf, 1.5f, -2.5f));
	cr_assert(pf.x == -2.5f && pf.y == 1.5f);
	float f;
	CALL(cf_dot_pf, &infcall_float, 0, &f, A(pairf_t, struct cf_pairf, 1, 2),
	     A(pairf_t, struct cf_pairf, 3, 4));
	cr_assert_eq(f, 11.0f);
	struct cf_mix mx;
	CALL(cf_mix_scale, &mix_t, 0, &mx, A(mix_t, struct cf_mix, 3, 0.5f), A(infcall_s32, int, 4));
	cr_assert(mx.i == 12 && mx.f == 2.0f);
	struct cf_dl dl, dla = { 1.5, 10 }, dlb = { -0.25, 32 };
	CALL(cf_dl_add, &dl_t, 0, &dl, V(dl_t, dla), V(dl_t, dlb));
	cr_assert(dl.d == 1.25 && dl.l == 42);
	struct cf_big big;
	CALL(cf_big_make, &big_t, 0, &big, A(infcall_s64, long, 100));
	struct cf_big nbig = cf_big_make(100);
	cr_assert_eq(memcmp(&big, &nbig, sizeof big), 0);
	long l;
	CALL(cf_big_sum, &infcall_s64, 0, &l, V(big_t, nbig), A(infcall_s32, int, 3));
	cr_assert_eq(l, cf_big_sum(nbig, 3));
	CALL(cf_big_twice, &big_t, 0, &big, V(big_t, nbig));
	nbig = cf_big_twice(nbig);
	cr_assert_eq(memcmp(&big, &nbig, sizeof big), 0);
	struct cf_ldw lw;
	CALL(cf_ldw_half, &ldw_t, 0, &lw, A(ldw_t, struct cf_ldw, 5.0L));
	cr_assert(lw.x == 2.5L);
	struct cf_tri tr;
	CALL(cf_tri_rot, &tri_t, 0, &tr, A(tri_t, struct cf_tri, { 'a', 'b', 'c' }));
	cr_assert(tr.c[0] == 'b' && tr.c[1] == 'c' && tr.c[2] == 'a');
	struct cf_nest ns, nsa = { { 1.0f }, 41 };
	CALL(cf_nest_bump, &nest_t, 0, &ns, V(nest_t, nsa));
	cr_assert(ns.f.a == 1.5f && ns.b == 42);
	union cf_uf uf, ufa = { .f = 2.5f };
	CALL(cf_uf_flip, &uf_t, 0, &uf, V(uf_t, ufa));
	cr_assert_eq(uf.f, -2.5f);
	union cf_ud ud, uda = { .f = { 1.5f, 7.0f } };
	CALL(cf_ud_pass, &ud_t, 0, &ud, V(ud_t, uda));
	cr_assert(ud.f[0] == 3.0f && ud.f[1] == 7.0f);
	struct cf_gap gp, gpa = { 1.25f, -8.0f };
	CALL(cf_gap_swap, &gap_t, 0, &gp, V(gap_t, gpa));
	cr_assert(gp.a == -8.0f && gp.b == 1.25f);
	struct cf_mixbig mb = { 3, { 0.5, 0.25 }, 2.0f };
	double d;
	CALL(cf_mixbig_sum, &infcall_double, 0, &d, V(mixbig_t, mb),
	     A(small_t, struct cf_small, 4, 5), A(infcall_double, double, 1.5));
	cr_assert_eq(d, cf_mixbig_sum(mb, (struct cf_small){ 4, 5 }, 1.5));
	CALL(cf_crowd, &infcall_double, 0, &d, V(dl_t, dla), A(infcall_double, double, 1),
	     A(infcall_double, double, 2), A(infcall_double, double, 3), A(infcall_double, double, 4),
	     A(infcall_double, double, 5), A(infcall_double, double, 6), A(infcall_double, double, 7),
	     A(pairf_t, struct cf_pairf, 0.5f, 0.25f), A(infcall_double, double, 8),
	     V(dl_t, dlb));
	cr_assert_eq(d, cf_crowd(dla, 1, 2, 3, 4, 5, 6, 7, (struct cf_pairf){ 0.5f, 0.25f }, 8, dlb));

	/* Variadic: promotions (char, float) done by rewind, a struct, a long double. */
	uint64_t kinds = sym("cf_kinds"), hello = sym("cf_hello");
	const struct infcall_arg va[] = {
		A(infcall_ptr, uint64_t, kinds), A(infcall_s32, int, -7), A(infcall_float, float, 2.5f),
		A(infcall_s8, char, 'x'), A(infcall_ptr, uint64_t, hello),
		A(small_t, struct cf_small, 1, 2), A(infcall_s64, long, 1L << 40),
	};
	call_ok("cf_vsum", &infcall_double, 0, true, 1, va, NARGS(va), &d, sizeof d);
	cr_assert_eq(d, cf_vsum("idcsSl", -7, 2.5, 'x', "hello", (struct cf_small){ 1, 2 }, 1L << 40));
	const struct infcall_arg vl[] = {
		A(infcall_ptr, uint64_t, sym("cf_kinds_ld")), A(infcall_double, double, 0.5),
		A(infcall_ldouble, long double, 1e10L), A(infcall_s32, int, 3),
	};
	call_ok("cf_vsum", &infcall_double, 0, true, 1, vl, NARGS(vl), &d, sizeof d);
	cr_assert_eq(d, cf_vsum("dLi", 0.5, 1e10L, 3));
	/* printf-like into the program's buffer, and libc's real printf. */
	const struct infcall_arg vf[] = {
		A(infcall_ptr, uint64_t, sym("cf_buf")), A(infcall_u64, size_t, 256),
		A(infcall_ptr, uint64_t, sym("cf_fmt")), A(infcall_s32, int, 42),
		A(infcall_double, double, 3.14159), A(infcall_ptr, uint64_t, hello), A(infcall_s8, char, '!'),
	};
	call_ok("cf_format", &infcall_s32, 0, true, 3, vf, NARGS(vf), &i, sizeof i);
	cr_assert_eq(i, 17);
	uint64_t pf_addr;
	cr_assert_eq(proc_read(inf.main, RADDR(sym("cf_printf_ptr")), &pf_addr, 8), 0);
	struct infcall_fn pfn = { .addr = pf_addr, .name = "printf", .ret = &infcall_s32,
				  .variadic = true, .nfixed = 1 };
	const struct infcall_arg vp[] = {
		A(infcall_ptr, uint64_t, sym("cf_printf_fmt")), A(infcall_s32, int, 42),
		A(infcall_float, float, 2.5f), A(infcall_ptr, uint64_t, hello),
	};
	struct sbuf err = { 0 };
	cr_assert_eq(infcall_run(&inf, inf.cur, &pfn, vp, NARGS(vp), (uint8_t *)&i, sizeof i, NULL, &err), 0,
		     "%s", sbuf_str(&err));
	cr_assert_eq(i, (int)strlen("printf says 42 2.500 hello\n"));
	/* call printf("%s and %d\n", "literal", 7) */
	static const char fmt[] = "%s and %d\n";
	const struct infcall_arg vq[] = { { &infcall_ptr, fmt, sizeof fmt },
					  { &infcall_ptr, "literal", 8 }, A(infcall_s32, int, 7) };
	cr_assert_eq(infcall_run(&inf, inf.cur, &pfn, vq, NARGS(vq), (uint8_t *)&i, sizeof i, NULL, &err), 0,
		     "%s", sbuf_str(&err));
	cr_assert_eq(i, 14);
	finish("printf says 42 2.500 hello\nliteral and 7\n"
	       "counter=5 twice=42 worker=0 buf=<42|3.14|hello|!>\n");
}

/* Without the agent, scalar calls give the same results; structs are refused. */
static void no_agent_refusals(const char *why, unsigned flags)
{
	struct infcall_outcome out;
	struct sbuf err = { 0 };
	struct thread_state before;
	grab(inf.cur, &before);
	const struct infcall_arg sa[] = { A(small_t, struct cf_small, 5, 6) };
	cr_assert_eq(call_fail("cf_sum_small", &infcall_s32, flags, sa, 1, &out, &err), -ENOTSUP);
	char *want = xasprintf("Calling functions with struct arguments needs the rewind agent, "
			       "which %s.", why);
	cr_assert_str_eq(sbuf_str(&err), want);
	cr_assert_eq(out.end, ICE_FAILED);
	sbuf_reset(&err);
	const struct infcall_arg la[] = { A(infcall_ldouble, long double, 1), A(infcall_ldouble, long double, 2) };
	cr_assert_eq(call_fail("cf_ld_mul", &infcall_ldouble, flags, la, 2, &out, &err), -ENOTSUP);
	cr_assert(strstr(sbuf_str(&err), "return a long double needs the rewind agent"), "%s", err.s);
	same_state(inf.cur, &before);
	free(before.xs);
	free(want);
	sbuf_free(&err);
}

Test(infcall, static_program_direct, .fini = teardown)
{
	start("call_static", false, NULL);
	stop_at("cf_stop_here");
	cr_assert_eq(infcall_agent_ready(inf.main), 0);
	struct thread_state before;
	grab(inf.cur, &before);
	scalar_calls(0);
	no_agent_refusals("cannot be loaded into a static program", 0);
	/* Variadic with a double: al says how many vector registers hold arguments. */
	const struct infcall_arg vf[] = {
		A(infcall_ptr, uint64_t, sym("cf_buf")), A(infcall_u64, size_t, 256),
		A(infcall_ptr, uint64_t, sym("cf_fmt")), A(infcall_s32, int, 42),
		A(infcall_float, float, 3.14159f), A(infcall_ptr, uint64_t, sym("cf_hello")),
		A(infcall_s8, char, '!'),
	};
	int i;
	call_ok("cf_format", &infcall_s32, 0, true, 3, vf, NARGS(vf), &i, sizeof i);
	cr_assert_eq(i, 17);
	same_state(inf.cur, &before);
	free(before.xs);
	finish("counter=5 twice=42 worker=0 buf=<42|3.14|hello|!>\n");
}

Test(infcall, dynamic_program_direct, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	scalar_calls(INFCALL_DIRECT);
	no_agent_refusals("was not to be used for this call", INFCALL_DIRECT);
	finish("counter=5 twice=42 worker=0 buf=\n");
}

/* At the first instruction the loader has not mapped the agent yet: direct calls
 * of code that needs no initialisation work; struct calls say why they cannot. */
Test(infcall, before_the_agent_is_loaded, .fini = teardown)
{
	start("call_abi", true, NULL);
	cr_assert_eq(infcall_agent_ready(inf.main), 0);
	int i;
	struct infcall_fn fn = { .addr = sym("cf_add_ints"), .ret = &infcall_s32 };
	const struct infcall_arg a[] = { A(infcall_s32, int, 2), A(infcall_s32, int, 3) };
	struct infcall_outcome out;
	struct sbuf err = { 0 };
	cr_assert_eq(infcall_run(&inf, inf.cur, &fn, a, 2, (uint8_t *)&i, sizeof i, &out, &err), 0,
		     "%s", sbuf_str(&err));
	cr_assert_eq(i, 5);
	cr_assert(!out.via_agent);
	no_agent_refusals("is not loaded in this process (rewind preloads it into the dynamic "
			  "programs it starts; set REWIND_AGENT if it was not found)", 0);
	sbuf_free(&err);
	finish("counter=0 twice=42 worker=0 buf=\n");
}

Test(infcall, bad_types_change_nothing, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	struct thread_state before;
	grab(inf.cur, &before);
	struct infcall_outcome out;
	struct sbuf err = { 0 };
	const struct infcall_arg pa[] = { A(packed_t, struct cf_packed, 1, 2) };
	cr_assert_eq(call_fail("cf_packed_sum", &infcall_s32, 0, pa, 1, &out, &err), -EINVAL);
	cr_assert(strstr(sbuf_str(&err), "argument 1: a packed struct with a misaligned member"),
		  "%s", err.s);
	sbuf_reset(&err);
	const struct infcall_arg aa[] = { { &char3_t, "ab" } };
	cr_assert_eq(call_fail("cf_str_len", &infcall_s32, 0, aa, 1, &out, &err), -EINVAL);
	cr_assert(strstr(sbuf_str(&err), "an array by value"), "%s", err.s);
	sbuf_reset(&err);
	static const struct infcall_type i128 = { IC_SINT, 16, 0, NULL, 0, NULL, 0 };
	const struct infcall_arg ia[] = { { &i128, "0123456789abcdef" } };
	cr_assert_eq(call_fail("cf_str_len", &infcall_s32, 0, ia, 1, &out, &err), -EINVAL);
	cr_assert(strstr(sbuf_str(&err), "an integer of 16 bytes"), "%s", err.s);
	sbuf_reset(&err);
	struct infcall_fn fn = { .addr = sym("cf_big_make"), .ret = &big_t };
	const struct infcall_arg one[] = { A(infcall_s64, long, 1) };
	uint8_t small[8];
	cr_assert_eq(infcall_run(&inf, inf.cur, &fn, one, 1, small, sizeof small, &out, &err), -EINVAL);
	cr_assert(strstr(sbuf_str(&err), "result buffer holds 8 bytes"), "%s", err.s);
	same_state(inf.cur, &before);
	free(before.xs);
	sbuf_free(&err);
	finish("counter=0 twice=42 worker=0 buf=\n");
}

/* ---- gdb as the oracle ---- */

/* What gdb prints for each expression at cf_stop_here (the text after "$N = "). */
static size_t gdb_prints(const char *const *exprs, size_t n, char out[][256])
{
	struct sbuf cmd = { 0 };
	sbuf_printf(&cmd, "gdb -nx -batch -ex 'break cf_stop_here' -ex run");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&cmd, " -ex 'print %s'", exprs[i]);
	sbuf_printf(&cmd, " -ex kill %s 2>/dev/null", prog);
	FILE *f = popen(cmd.s, "r");
	cr_assert_not_null(f);
	char line[512];
	size_t got = 0;
	while (fgets(line, sizeof line, f)) {
		char *eq = strstr(line, " = ");
		if (line[0] != '$' || !eq || got >= n)
			continue;
		snprintf(out[got], 256, "%s", eq + 3);
		out[got][strcspn(out[got], "\n")] = 0;
		got++;
	}
	pclose(f);
	sbuf_free(&cmd);
	return got;
}

Test(infcall, same_values_as_gdb, .fini = teardown)
{
	if (system("gdb --version >/dev/null 2>&1") != 0)
		cr_skip_test("gdb is not installed");
	start("call_abi", true, NULL);
	static const char *const exprs[] = {
		"cf_add_ints(40, 2)",
		"cf_mixed(7, 0.5, -3, 0.25, 65, 3.0)",
		"cf_many_doubles(1, 2, 3, 4, 5, 6, 7, 8, 9.5, -10)",
		"cf_make_small(3, -4)",
		"cf_big_make(100)",
		"cf_ld_mul(1.5, -3.25)",
		"cf_vsum(cf_kinds_ld, 0.5, (long double)1e10, 3)",
		"cf_scale_float(1.5, -3)",
		"cf_str_len(cf_hello)",
	};
	char g[NARGS(exprs)][256];
	cr_assert_eq(gdb_prints(exprs, NARGS(exprs), g), NARGS(exprs), "gdb printed too few values");
	stop_at("cf_stop_here");
	char mine[256];
	int i;
	CALL(cf_add_ints, &infcall_s32, 0, &i, A(infcall_s32, int, 40), A(infcall_s32, int, 2));
	snprintf(mine, sizeof mine, "%d", i);
	cr_assert_str_eq(mine, g[0]);
	double d;
	CALL(cf_mixed, &infcall_double, 0, &d, A(infcall_s32, int, 7), A(infcall_double, double, 0.5),
	     A(infcall_s64, long, -3), A(infcall_float, float, 0.25f), A(infcall_s8, char, 65),
	     A(infcall_double, double, 3.0));
	cr_assert_eq(d, strtod(g[1], NULL), "rewind %.17g, gdb %s", d, g[1]);
	CALL(cf_many_doubles, &infcall_double, 0, &d, A(infcall_double, double, 1),
	     A(infcall_double, double, 2), A(infcall_double, double, 3), A(infcall_double, double, 4),
	     A(infcall_double, double, 5), A(infcall_double, double, 6), A(infcall_double, double, 7),
	     A(infcall_double, double, 8), A(infcall_double, double, 9.5), A(infcall_double, double, -10));
	cr_assert_eq(d, strtod(g[2], NULL), "rewind %.17g, gdb %s", d, g[2]);
	struct cf_small sm;
	CALL(cf_make_small, &small_t, 0, &sm, A(infcall_s32, int, 3), A(infcall_s32, int, -4));
	snprintf(mine, sizeof mine, "{a = %d, b = %d}", sm.a, sm.b);
	cr_assert_str_eq(mine, g[3]);
	struct cf_big big;
	CALL(cf_big_make, &big_t, 0, &big, A(infcall_s64, long, 100));
	snprintf(mine, sizeof mine, "{v = {%ld, %ld, %ld, %ld, %ld}}", big.v[0], big.v[1], big.v[2],
		 big.v[3], big.v[4]);
	cr_assert_str_eq(mine, g[4]);
	long double ld;
	CALL(cf_ld_mul, &infcall_ldouble, 0, &ld, A(infcall_ldouble, long double, 1.5L),
	     A(infcall_ldouble, long double, -3.25L));
	cr_assert(ld == strtold(g[5], NULL), "rewind %Lg, gdb %s", ld, g[5]);
	const struct infcall_arg vl[] = {
		A(infcall_ptr, uint64_t, sym("cf_kinds_ld")), A(infcall_double, double, 0.5),
		A(infcall_ldouble, long double, 1e10L), A(infcall_s32, int, 3),
	};
	call_ok("cf_vsum", &infcall_double, 0, true, 1, vl, NARGS(vl), &d, sizeof d);
	cr_assert_eq(d, strtod(g[6], NULL), "rewind %.17g, gdb %s", d, g[6]);
	float f;
	CALL(cf_scale_float, &infcall_float, 0, &f, A(infcall_float, float, 1.5f), A(infcall_s32, int, -3));
	cr_assert_eq(f, strtof(g[7], NULL), "rewind %g, gdb %s", f, g[7]);
	CALL(cf_str_len, &infcall_s32, 0, &i, A(infcall_ptr, uint64_t, sym("cf_hello")));
	snprintf(mine, sizeof mine, "%d", i);
	cr_assert_str_eq(mine, g[8]);
	finish("counter=0 twice=42 worker=0 buf=\n");
}

/* ---- `print f(x)` through core/sym's evaluator ---- */

Test(infcall, print_through_the_evaluator, .fini = teardown)
{
	start("call_abi", true, NULL);
	struct task *t = stop_at("cf_stop_here");
	struct symtab *st;
	cr_assert_eq(symtab_open_pid(inf.main->pid, &st), 0);
	struct sym_access acc;
	sym_access_for_task(t, &acc);
	struct infcall_expr ie = { &inf, t, NULL };
	struct expr_env env = { .ctx = { st, &acc, NULL, NULL }, .call = infcall_expr_call,
				.call_arg = &ie };
	ie.ctx = &env.ctx;
	/* What gdb 13 prints for the same expressions. */
	static const struct { const char *expr, *want; } cases[] = {
		{ "cf_add_ints(40, 2)", "42" },
		{ "cf_make_small(3, -4)", "{a = 3, b = -4}" },
		{ "cf_mixed(7, 0.5, -3, 0.25, 65, 3.0)", "7028.421875" },
		{ "cf_next_char('y')", "122 'z'" },
		{ "cf_big_make(100).v[4]", "116" },
		{ "cf_sum_small(cf_make_small(5, 6))", "56" },
		{ "cf_str_len(\"hello, world\")", "12" },
		{ "cf_ld_mul(1.5, -3.25)", "-4.875" },
		{ "cf_vsum(cf_kinds_ld, 0.5, (long double)1e10, 3)", "20000000009.5" },
		{ "cf_scale_float(1.5, -3)", "-4.5" },
		{ "cf_gap_swap(cf_gap_swap(cf_gap_swap(*(struct cf_gap *)&cf_buf)))", "{a = 0, b = 0}" },
		{ "cf_add_ints(1)", "error: Too few arguments in function call." },
		{ "cf_crash(0)", "error: \nProgram received signal SIGSEGV, Segmentation fault.\n" },
	};
	struct fmt_opts o;
	fmt_opts_default(&o);
	for (size_t i = 0; i < NARGS(cases); i++) {
		struct value *v = NULL;
		char *err = NULL;
		struct sbuf out = { 0 };
		if (expr_eval(&env, cases[i].expr, &v, &err) < 0)
			sbuf_printf(&out, "error: %s", err);
		else
			cr_assert_eq(fmt_value(&env.ctx, v, &o, &out, &err), 0, "%s", err);
		if (!strncmp(cases[i].want, "error: ", 7))
			cr_assert(!strncmp(sbuf_str(&out), cases[i].want, strlen(cases[i].want)),
				  "%s: %s", cases[i].expr, sbuf_str(&out));
		else
			cr_assert_str_eq(sbuf_str(&out), cases[i].want, "%s", cases[i].expr);
		value_free(v);
		free(err);
		sbuf_free(&out);
	}
	symtab_free(st);
	finish("counter=0 twice=42 worker=0 buf=\n");
}
