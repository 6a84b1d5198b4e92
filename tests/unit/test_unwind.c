/* Backtraces of live fixtures compared with gdb's at the same stop: pcs, function
 * names, signal frames, recovered registers and CFAs, through libc, a shared
 * library, a static binary and -O2 code. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SYM_ORACLE_LIVE
#include "core/sym/unwind.h"
#include "sym_oracle.h"

static const char frames_py[] =
	"import gdb\n"
	"gdb.execute('set breakpoint pending on')\n"
	"gdb.execute('handle SIGUSR1 nostop noprint pass')\n"
	"gdb.execute('break ' + SPEC)\n"
	"gdb.execute('run')\n"
	"if COUNT > 1:\n"
	"    gdb.execute('continue %d' % (COUNT - 1))\n"
	"f = gdb.newest_frame()\n"
	"print('CFA|' + gdb.execute('info frame', to_string=True).split('frame at ')[1].split(':')[0])\n"
	"while f is not None:\n"
	"    regs = []\n"
	"    for r in ['rbx', 'rbp', 'rsp', 'r12', 'r13', 'r14', 'r15']:\n"
	"        try:\n"
	"            v = f.read_register(r)\n"
	"            regs.append('U' if v.is_optimized_out else '%x' % (int(v) & (2**64 - 1)))\n"
	"        except Exception:\n"
	"            regs.append('U')\n"
	"    print('FR|%d|%x|%s|%d|%s' % (f.level(), f.pc(), f.name(), f.type(), '|'.join(regs)))\n"
	"    f = f.older()\n";

static const int reg_nums[] = { 3, 6, 7, 12, 13, 14, 15 };

/* Stop at the count-th hit of spec in prog, under rewind and under gdb; compare. */
static void check_backtrace(const char *prog, const char *spec, int count, int min_frames)
{
	struct live L;
	live_start(&L, prog);
	live_run_to(&L, spec, count);
	struct unwind_list fl = { 0 };
	cr_assert_eq(unwind_backtrace(L.st, &L.acc, 0, 0, &fl), 0);

	char *py = xasprintf("SPEC = '%s'\nCOUNT = %d\n%s", spec, count, frames_py);
	char *path = oracle_prog(prog);
	char *out = oracle_gdb_py(path, py);
	const char *from = out;
	char *cfa = oracle_line(&from, "CFA|");
	cr_assert_not_null(cfa, "gdb: %s", out);
	cr_expect_eq(fl.v[0].cfa, strtoull(cfa, NULL, 16), "frame 0 CFA %#lx, gdb %s", fl.v[0].cfa, cfa);
	size_t k = 0;
	char *ln;
	while ((ln = oracle_line(&from, "FR|"))) {
		char *f[12] = { 0 };
		int nf = 0;
		for (char *x, *p = ln; nf < 12 && (x = strsep(&p, "|"));)
			f[nf++] = x;
		int type = atoi(f[3]);
		if (type == 3 /* TAILCALL_FRAME (from call-site info): not produced */) {
			free(ln);
			continue;
		}
		cr_assert_lt(k, fl.n, "%s: gdb has more frames (%s at %s)", prog, f[2], f[1]);
		struct unwind_frame *fr = &fl.v[k];
		uint64_t gpc = strtoull(f[1], NULL, 16);
		cr_expect_eq(fr->pc, gpc, "%s #%zu: pc %#lx, gdb %#lx", prog, k, fr->pc, gpc);
		cr_expect_eq(fr->signal_frame, type == 4, "%s #%zu: signal frame", prog, k);
		struct sym_addr_info ai;
		if (strcmp(f[2], "None") && symtab_describe(L.st, fr->lookup_pc, &ai) == 0)
			cr_expect_str_eq(ai.func ? ai.func : "", f[2], "%s #%zu: function %s, gdb %s",
			                 prog, k, ai.func, f[2]);
		for (int r = 0; r < 7; r++) {
			uint64_t v;
			if (!strcmp(f[4 + r], "U"))
				continue;
			/* small numbers (a tid in rbx...) differ between the two runs */
			if (strtoull(f[4 + r], NULL, 16) < 0x100000)
				continue;
			if (unwind_reg(fr, reg_nums[r], &v) < 0)
				continue;   /* gdb also reports values it infers as "same value" */
			cr_expect_eq(v, strtoull(f[4 + r], NULL, 16), "%s #%zu: reg %d = %#lx, gdb %s",
			             prog, k, reg_nums[r], v, f[4 + r]);
		}
		free(ln);
		k++;
	}
	cr_expect_eq(k, fl.n, "%s: %zu frames, gdb %zu", prog, fl.n, k);
	cr_expect_geq(k, (size_t)min_frames, "gdb output:\n%s", out);
	for (size_t i = 1; i < fl.n; i++)
		if (!fl.v[i - 1].signal_frame && !fl.v[i].signal_frame)
			cr_expect_gt(fl.v[i].cfa, fl.v[i - 1].cfa, "CFAs grow outwards (#%zu)", i);
	free(cfa);
	free(out);
	free(path);
	free(py);
	unwind_list_free(&fl);
	live_stop(&L);
}

Test(unwind, simple_c)
{
	check_backtrace("types", "bump", 1, 2);
}

Test(unwind, through_signal_frame)
{
	check_backtrace("sigprog", "on_usr1", 1, 7);
}

Test(unwind, recursion_in_static_binary)
{
	check_backtrace("staticprog", "depth_sum", 5, 6);
}

Test(unwind, shared_library)
{
	check_backtrace("dlprog", "lib_square", 1, 3);
}

Test(unwind, frame_pointers_without_cfi)
{
	check_backtrace("nocfi", "leaf", 1, 6);
}

Test(unwind, optimized)
{
	check_backtrace("opt", "work", 1, 2);
}

Test(unwind, frame_info_for_finish)
{
	struct live L;
	live_start(&L, "types");
	live_run_to(&L, "bump", 1);
	uint64_t cfa, cpc, ccfa;
	cr_assert_eq(unwind_frame_info(L.st, &L.acc, &cfa, &cpc, &ccfa), 0);
	struct sym_addr_info ai;
	cr_assert_eq(symtab_describe(L.st, cpc, &ai), 0);
	cr_expect_str_eq(ai.func, "main");
	cr_expect_gt(ccfa, cfa);
	/* return address sits just below the CFA */
	uint64_t ra;
	cr_assert_eq(L.acc.read_mem(L.acc.ctx, cfa - 8, &ra, 8), 0);
	cr_expect_eq(ra, cpc);
	live_stop(&L);

	live_start(&L, "types");
	live_run_to(&L, "main", 1);
	cr_expect_eq(unwind_frame_info(L.st, &L.acc, &cfa, &cpc, &ccfa), -ENOENT,
	             "main is the outermost frame (gdb: finish not meaningful)");
	struct unwind_list fl = { 0 };
	cr_assert_eq(unwind_backtrace(L.st, &L.acc, 0, UNWIND_PAST_MAIN, &fl), 0);
	cr_expect_geq(fl.n, 2, "past main: __libc_start_call_main and further");
	unwind_list_free(&fl);
	live_stop(&L);
}
