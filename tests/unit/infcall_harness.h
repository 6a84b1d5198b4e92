/* Shared by the inferior-call suites (test_infcall.c, test_infcall_stop.c):
 * launching a tests/progs/call_* debuggee through core/inferior.h with its output
 * captured, symbol addresses from its ELF file, stopping at a symbol, calling a
 * function by name, capturing a thread's state to compare after calls, and type
 * descriptions of call_abi.h's structs as core/sym would make them from DWARF.
 * Static functions: each suite includes it once. */
#ifndef INFCALL_HARNESS_H
#define INFCALL_HARNESS_H
/* Not every suite uses every helper or type. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-const-variable"
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


#endif
