/* Inferior function calls against real debuggees (tests/progs/call_*.c): every ABI
 * class through the agent, the direct path without it (static program, agent not
 * loaded yet, or INFCALL_DIRECT), calls that stop (signal, breakpoint, Ctrl-C,
 * exit), calls that create threads and processes, and the thread state after each.
 * Oracles: the same functions called natively (call_abi.h), gdb's own `print`,
 * the debuggee's own checks when it runs on (call_regs), its final output. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/infcall.h"
#include "core/maps.h"
#include "tests/progs/call_abi.h"

#ifndef PROGS_DIR
#define PROGS_DIR "tests/progs"
#endif
#define AGENT_PATH PROGS_DIR "/../../core/agent/librewind-agent.so"

static struct inferior inf;
static char prog[PATH_MAX], outpath[64] = "";
static char **envv;
static uint64_t bias;

/* ---- harness ---- */

static int to_file(void *arg)
{
	int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Value of a symbol in the program file (its .symtab), or 0. */
static uint64_t file_sym(const char *path, const char *name, uint64_t *first_load, bool *dyn)
{
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "open %s", path);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_not_null(elf);
	GElf_Ehdr eh;
	gelf_getehdr(elf, &eh);
	*dyn = eh.e_type == ET_DYN;
	size_t nph = 0;
	elf_getphdrnum(elf, &nph);
	*first_load = 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
			*first_load = ph.p_vaddr & ~0xfffull;
			break;
		}
	}
	uint64_t v = 0;
	for (Elf_Scn *s = NULL; !v && (s = elf_nextscn(elf, s));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(s, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			gelf_getsym(d, (int)i, &sym);
			const char *n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name) && sym.st_shndx != SHN_UNDEF) {
				v = sym.st_value;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return v;
}

static uint64_t sym(const char *name)
{
	uint64_t fl;
	bool dyn;
	uint64_t v = file_sym(prog, name, &fl, &dyn);
	cr_assert_neq(v, 0, "symbol %s in %s", name, prog);
	return v + bias;
}

static void start(const char *name, bool agent, const char *arg)
{
	snprintf(prog, sizeof prog, "%s/%s", PROGS_DIR, name);
	cr_assert_eq(inf_init(&inf), 0);
	char *argv[] = { prog, (char *)arg, NULL };
	inf_set_program(&inf, argv);
	if (agent) {
		setenv("REWIND_AGENT", AGENT_PATH, 1);
		cr_assert_eq(infcall_agent_env(NULL, &envv), 0);
		inf.envp = envv;
	}
	strcpy(outpath, "/tmp/rwcall-XXXXXX");
	int fd = mkstemp(outpath);
	cr_assert_geq(fd, 0);
	close(fd);
	inf.child_setup = to_file;
	inf.child_arg = outpath;
	struct sbuf err = { 0 };
	cr_assert_eq(inf_launch(&inf, &err), 0, "launch %s: %s", prog, sbuf_str(&err));
	sbuf_free(&err);
	/* Load bias of the program: PIE under ADDR_NO_RANDOMIZE, or 0. */
	uint64_t fl;
	bool dyn;
	file_sym(prog, "main", &fl, &dyn);
	bias = 0;
	char real[PATH_MAX];
	cr_assert_not_null(realpath(prog, real));
	struct maps m;
	cr_assert_eq(maps_read(inf.main->pid, &m), 0);
	for (size_t i = 0; dyn && i < m.n; i++)
		if (!strcmp(m.v[i].path, real) && m.v[i].offset == 0) {
			bias = m.v[i].start - fl;
			break;
		}
	maps_free(&m);
}

static void teardown(void)
{
	inf_fini(&inf);
	infcall_env_free(envv);
	envv = NULL;
	if (outpath[0])
		unlink(outpath);
	outpath[0] = 0;
}

static struct task *stop_at(const char *name)
{
	char spec[64];
	struct breakpoint *b;
	struct sbuf err = { 0 };
	snprintf(spec, sizeof spec, "*0x%llx", (unsigned long long)sym(name));
	cr_assert_eq(inf_break(&inf, BPK_BREAK, spec, NULL, false, 0, &b, &err), 0);
	struct stop st;
	cr_assert_eq(inf_continue(&inf, -1, &st), 0);
	cr_assert_eq(st.reason, SR_BREAKPOINT, "stopped for %d: %s", st.reason, st.err);
	inf_delete(&inf, b);
	sbuf_free(&err);
	return inf.cur;
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t n;
	cr_assert_eq(read_file(path, &s, &n), 0);
	return s;
}

/* Run to the end: exit code 0 and exactly this output. */
static void finish(const char *expect)
{
	struct stop st;
	cr_assert_eq(inf_continue(&inf, -1, &st), 0);
	cr_assert_eq(st.reason, SR_EXITED, "reason %d sig %d: %s", st.reason, st.sig, st.err);
	cr_assert_eq(st.code, 0);
	char *out = slurp(outpath);
	cr_assert_str_eq(out, expect);
	free(out);
}

struct thread_state {
	struct user_regs_struct r;
	uint8_t *xs;
	size_t xlen;
	uint64_t mask;
	uint8_t stack[1024];
};

/* The thread's state as the kernel has it (cache written back, read again). */
static void grab(struct task *t, struct thread_state *s)
{
	struct user_regs_struct *r;
	uint8_t *xs;
	cr_assert_eq(task_flush(t), 0);
	task_invalidate(t);
	cr_assert_eq(task_get_regs(t, &r), 0);
	s->r = *r;
	cr_assert_eq(task_get_xstate(t, &xs, &s->xlen), 0);
	s->xs = malloc(s->xlen);
	memcpy(s->xs, xs, s->xlen);
	cr_assert_eq(task_get_sigmask(t, &s->mask), 0);
	/* The red zone and what lies above the stack pointer. */
	cr_assert_eq(proc_read(t->proc, RADDR(r->rsp - 128), s->stack, sizeof s->stack), 0);
}

static void same_state(struct task *t, const struct thread_state *a)
{
	struct thread_state b;
	grab(t, &b);
	cr_assert_eq(memcmp(&a->r, &b.r, sizeof a->r), 0, "general registers changed (rip %#llx -> %#llx, rsp %#llx -> %#llx)",
		     a->r.rip, b.r.rip, a->r.rsp, b.r.rsp);
	cr_assert_eq(a->xlen, b.xlen);
	for (size_t i = 0; i < a->xlen; i++)
		cr_assert_eq(a->xs[i], b.xs[i], "xstate byte %zu changed", i);
	cr_assert_eq(a->mask, b.mask, "signal mask changed");
	cr_assert_eq(memcmp(a->stack, b.stack, sizeof a->stack), 0, "stack memory changed");
	free(b.xs);
}

#define A(ty, ctype, ...) { &(ty), &(ctype){ __VA_ARGS__ } }
#define V(ty, var) { &(ty), &(var) }
#define NARGS(a) (sizeof(a) / sizeof((a)[0]))

/* Call a function of the program by symbol; asserts the call returned. */
static void call_ok(const char *name, const struct infcall_type *ret, unsigned flags, bool variadic,
		    size_t nfixed, const struct infcall_arg *args, size_t n, void *res, size_t reslen)
{
	struct infcall_fn fn = { .addr = sym(name), .name = name, .ret = ret, .variadic = variadic,
				 .nfixed = nfixed, .flags = flags };
	struct infcall_outcome out;
	struct sbuf err = { 0 };
	int e = infcall_run(&inf, inf.cur, &fn, args, n, res, reslen, &out, &err);
	cr_assert_eq(e, 0, "%s: %s (%s)", name, strerror(-e), sbuf_str(&err));
	cr_assert_eq(out.end, ICE_RETURNED);
	cr_assert_eq(out.via_agent, !(flags & INFCALL_DIRECT) && envv != NULL, "%s: path", name);
	sbuf_free(&err);
}

#define CALL(name, ret, flags, res, ...) do { \
	const struct infcall_arg args_[] = { __VA_ARGS__ }; \
	call_ok(#name, ret, flags, false, 0, args_, NARGS(args_), res, sizeof *(res)); \
} while (0)

/* Call expecting failure: returns the error, out and message filled. */
static int call_fail(const char *name, const struct infcall_type *ret, unsigned flags,
		     const struct infcall_arg *args, size_t n, struct infcall_outcome *out,
		     struct sbuf *err)
{
	uint8_t res[64];
	struct infcall_fn fn = { .addr = sym(name), .name = name, .ret = ret, .flags = flags };
	int e = infcall_run(&inf, inf.cur, &fn, args, n, res, sizeof res, out, err);
	cr_assert_neq(e, 0, "%s returned", name);
	return e;
}

/* ---- type descriptions, as core/sym would make them from DWARF ---- */

#define M(ty, st, f) { &(ty), offsetof(struct st, f) }
#define STRUCT(name, st, ...) \
	static const struct infcall_member name##_m[] = { __VA_ARGS__ }; \
	static const struct infcall_type name = { IC_STRUCT, sizeof(struct st), 0, name##_m, \
						  NARGS(name##_m), NULL, 0 }

STRUCT(small_t, cf_small, M(infcall_s32, cf_small, a), M(infcall_s32, cf_small, b));
STRUCT(pairf_t, cf_pairf, M(infcall_float, cf_pairf, x), M(infcall_float, cf_pairf, y));
STRUCT(mix_t, cf_mix, M(infcall_s32, cf_mix, i), M(infcall_float, cf_mix, f));
STRUCT(dl_t, cf_dl, M(infcall_double, cf_dl, d), M(infcall_s64, cf_dl, l));
static const struct infcall_type long5_t = { IC_ARRAY, 40, 0, NULL, 0, &infcall_s64, 5 };
STRUCT(big_t, cf_big, M(long5_t, cf_big, v));
STRUCT(ldw_t, cf_ldw, M(infcall_ldouble, cf_ldw, x));
static const struct infcall_type char3_t = { IC_ARRAY, 3, 0, NULL, 0, &infcall_s8, 3 };
STRUCT(tri_t, cf_tri, M(char3_t, cf_tri, c));
static const struct infcall_member inner_m[] = { { &infcall_float, 0 } };
static const struct infcall_type inner_t = { IC_STRUCT, 4, 0, inner_m, 1, NULL, 0 };
STRUCT(nest_t, cf_nest, M(inner_t, cf_nest, f), M(infcall_s32, cf_nest, b));
static const struct infcall_member uf_m[] = { { &infcall_float, 0 }, { &infcall_s32, 0 } };
static const struct infcall_type uf_t = { IC_UNION, 4, 0, uf_m, 2, NULL, 0 };
static const struct infcall_type float2_t = { IC_ARRAY, 8, 0, NULL, 0, &infcall_float, 2 };
static const struct infcall_member ud_m[] = { { &infcall_double, 0 }, { &float2_t, 0 } };
static const struct infcall_type ud_t = { IC_UNION, 8, 0, ud_m, 2, NULL, 0 };
STRUCT(gap_t, cf_gap, M(infcall_float, cf_gap, a), M(infcall_float, cf_gap, b));
STRUCT(packed_t, cf_packed, M(infcall_s8, cf_packed, c), M(infcall_s32, cf_packed, i));
static const struct infcall_type double2_t = { IC_ARRAY, 16, 0, NULL, 0, &infcall_double, 2 };
STRUCT(mixbig_t, cf_mixbig, M(infcall_s8, cf_mixbig, tag), M(double2_t, cf_mixbig, d),
       M(infcall_float, cf_mixbig, f));


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
	finish("printf says 42 2.500 hello\ncounter=5 twice=42 worker=0 buf=<42|3.14|hello|!>\n");
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
