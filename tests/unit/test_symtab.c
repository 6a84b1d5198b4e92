/* symtab on fixture executables before they run, with real gdb as the oracle:
 * location specs (C, C++, -O2), line tables byte by byte, descriptions, source,
 * completion. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sym/symtab.h"
#include "sym_oracle.h"

char *sym_demangle(const char *mangled);   /* core/sym/demangle.cc */

static struct symtab *open_prog(const char *name)
{
	char *path = oracle_prog(name);
	struct symtab *st = NULL;
	char *err = NULL;
	int e = symtab_open_file(path, &st, &err);
	cr_assert_eq(e, 0, "open %s: %s", path, err ? err : strerror(-e));
	free(path);
	return st;
}

/* gdb's function name for a location, demangled and without parameters. */
static char *gdb_func(const char *f)
{
	char *d = sym_demangle(f);
	char *r = d ? d : xstrdup(f);
	if (strchr(r, '('))
		*strrchr(r, '(') = 0;
	return r;
}

static const char resolve_py[] =
	"import gdb\n"
	"gdb.execute('set breakpoint pending off')\n"
	"for spec in SPECS:\n"
	"    try:\n"
	"        gdb.execute('break ' + spec, to_string=True)\n"
	"        b = gdb.breakpoints()[-1]\n"
	"        print('LOC|%s|%s' % (spec, ';'.join('%x#%s#%s#%s' % (l.address,\n"
	"              l.source[0] if l.source else '', l.source[1] if l.source else 0,\n"
	"              l.function) for l in b.locations)))\n"
	"    except gdb.error as e:\n"
	"        print('ERR|%s|%s' % (spec, e))\n";

/* Resolve each spec with gdb and with symtab; they must agree on every location
 * (address, file, line, function) or on the error message. */
static void check_specs(const char *prog, const char *const *specs)
{
	struct sbuf py = { 0 };
	sbuf_puts(&py, "SPECS = [");
	for (size_t i = 0; specs[i]; i++)
		sbuf_printf(&py, "%s'%s'", i ? ", " : "", specs[i]);
	sbuf_puts(&py, "]\n");
	sbuf_puts(&py, resolve_py);
	char *path = oracle_prog(prog);
	char *out = oracle_gdb_py(path, py.s);
	struct symtab *st = open_prog(prog);
	for (size_t i = 0; specs[i]; i++) {
		struct sym_loc_list l = { 0 };
		char *err = NULL;
		int e = symtab_resolve(st, specs[i], NULL, 0, 0, &l, &err);
		char *pl = xasprintf("LOC|%s|", specs[i]), *pe = xasprintf("ERR|%s|", specs[i]);
		const char *from = out;
		char *g = oracle_line(&from, pl);
		from = out;
		char *gerr = oracle_line(&from, pe);
		cr_assert(g || gerr, "gdb said nothing about %s:\n%s", specs[i], out);
		if (gerr) {
			cr_expect_neq(e, 0, "%s: gdb says \"%s\", we resolved it", specs[i], gerr);
			cr_expect_str_eq(err ? err : "", gerr, "%s: error", specs[i]);
		} else {
			cr_expect_eq(e, 0, "%s: gdb resolves it (%s), we say %s", specs[i], g, err);
			size_t k = 0;
			char *save = NULL;
			for (char *tok = strtok_r(g, ";", &save); tok; tok = strtok_r(NULL, ";", &save), k++) {
				char *f[4] = { 0 };
				int nf = 0;
				for (char *x; nf < 4 && (x = strsep(&tok, "#"));)
					f[nf++] = x;
				cr_expect_lt(k, l.n, "%s: gdb has more locations (%s)", specs[i], tok);
				if (k >= l.n)
					break;
				uint64_t ga = strtoull(f[0], NULL, 16);
				cr_expect_eq(l.v[k].addr, ga, "%s[%zu]: addr %#lx, gdb %#lx", specs[i], k,
				             l.v[k].addr, ga);
				if (nf >= 3 && f[1][0]) {
					cr_expect_str_eq(l.v[k].file ? l.v[k].file : "", f[1], "%s: file", specs[i]);
					cr_expect_eq(l.v[k].line, atoi(f[2]), "%s: line %d, gdb %s", specs[i],
					             l.v[k].line, f[2]);
				}
				if (nf >= 4 && strcmp(f[3], "None")) {
					/* for an inlined instance gdb's Python names the function
					 * containing it (info breakpoints names the inlined one,
					 * as we do) */
					char *gf = gdb_func(f[3]);
					struct sym_addr_info ai;
					const char *ours = l.v[k].func ? l.v[k].func : "";
					if (strcmp(ours, gf) && symtab_describe(st, l.v[k].addr, &ai) == 0 && ai.func)
						ours = ai.func;
					cr_expect_str_eq(ours, gf, "%s: function", specs[i]);
					free(gf);
				}
			}
			cr_expect_eq(k, l.n, "%s: %zu locations, gdb %zu", specs[i], l.n, k);
		}
		free(g);
		free(gerr);
		free(pl);
		free(pe);
		free(err);
		sym_loc_list_free(&l);
	}
	symtab_free(st);
	free(out);
	free(path);
	sbuf_free(&py);
}

Test(symtab, resolve_c_like_gdb)
{
	const char *specs[] = {
		"bump", "main", "inspect", "vla_sum", "other_file_func", "types.c:bump",
		"types_b.c:other_file_func", "39", "40", "41", "44", "45", "46", "50", "56", "62",
		"66", "67", "85", "200", "types.c:49", "types.c:60", "types_b.c:1", "types_b.c:9",
		"types.h:10", "nosuch", "nosuch.c:3", "types.c:nosuch", "*0x1139", "puts", "strcpy",
		NULL,
	};
	check_specs("types", specs);
}

Test(symtab, resolve_cxx_like_gdb)
{
	const char *specs[] = {
		"geo::Klass::method", "method", "Klass::method", "geo::inner::helper", "helper",
		"inner::helper", "overload", "geo::Base::twice", "twice", "main", "cxx.cc:26",
		"method(int)", "geo::Klass::method(double)", "Klass::Klass", "Base",
		"cxx.cc:geo::Klass::method", "printf", "nosuch::method", "twice", "use_shape",
		"geo::Square::area", "area", "Shape", "cxx_b.cc:36", "cxx_b.cc:31", NULL,
	};
	check_specs("cxx", specs);
}

Test(symtab, resolve_optimized_like_gdb)
{
	const char *specs[] = { "work", "unused_arg", "main", "opt.c:10", "opt.c:12", "opt.c:25", NULL };
	check_specs("opt", specs);
	check_specs("opt4", specs);
}

Test(symtab, resolve_other_programs_like_gdb)
{
	const char *dl[] = { "main", "puts", "lib_square", "dlprog.c:9", NULL };
	check_specs("dlprog", dl);
	const char *sp[] = { "main", "deep", "on_usr1", "sigprog.c:16", "raise", NULL };
	check_specs("sigprog", sp);
	const char *stc[] = { "main", "depth_sum", "staticprog.c:8", "printf", "puts", NULL };
	check_specs("staticprog", stc);
}

static const char lines_py[] =
	"import gdb\n"
	"for lo, hi in RANGES:\n"
	"    for pc in range(lo, hi):\n"
	"        s = gdb.find_pc_line(pc)\n"
	"        f = s.symtab.filename if s.symtab else ''\n"
	"        print('PCL|%x|%x|%x|%d|%s' % (pc, s.pc, (s.last + 1) if s.last else 0, s.line, f))\n";

/* Every byte of every function: symtab_pc_line agrees with gdb's find_pc_line. */
static void check_lines(const char *prog, const char *const *funcs)
{
	struct symtab *st = open_prog(prog);
	struct sbuf py = { 0 };
	sbuf_puts(&py, "RANGES = [");
	for (size_t i = 0; funcs[i]; i++) {
		struct sym_loc_list l = { 0 };
		cr_assert_eq(symtab_resolve(st, funcs[i], NULL, 0, SYMTAB_NO_SKIP, &l, NULL), 0);
		struct sym_addr_info ai;
		cr_assert_eq(symtab_describe(st, l.v[0].addr, &ai), 0);
		cr_assert_str_eq(ai.func, funcs[i]);
		cr_assert_eq(ai.func_lo, l.v[0].addr);
		sbuf_printf(&py, "(%#lx, %#lx), ", ai.func_lo, ai.func_hi);
		sym_loc_list_free(&l);
	}
	sbuf_puts(&py, "]\n");
	sbuf_puts(&py, lines_py);
	char *path = oracle_prog(prog);
	char *out = oracle_gdb_py(path, py.s);
	const char *from = out;
	char *ln;
	size_t n = 0;
	while ((ln = oracle_line(&from, "PCL|"))) {
		uint64_t pc = strtoull(strtok(ln, "|"), NULL, 16);
		uint64_t lo = strtoull(strtok(NULL, "|"), NULL, 16);
		uint64_t hi = strtoull(strtok(NULL, "|"), NULL, 16);
		int line = atoi(strtok(NULL, "|"));
		char *file = strtok(NULL, "|");
		struct sym_line sl;
		int e = symtab_pc_line(st, pc, &sl);
		if (line == 0) {
			cr_expect_neq(e, 0, "%s %#lx: gdb has no line, we say %d", prog, pc, sl.line);
		} else if (e != 0) {
			cr_expect_eq(e, 0, "%s %#lx: no line, gdb %d", prog, pc, line);
		} else {
			cr_expect_eq(sl.line, line, "%s %#lx: line %d, gdb %d", prog, pc, sl.line, line);
			cr_expect_eq(sl.lo, lo, "%s %#lx: start %#lx, gdb %#lx", prog, pc, sl.lo, lo);
			cr_expect_eq(sl.hi, hi, "%s %#lx: end %#lx, gdb %#lx", prog, pc, sl.hi, hi);
			cr_expect_str_eq(sl.file, file ? file : "");
			cr_expect(symtab_has_line_info(st, pc));
		}
		free(ln);
		n++;
	}
	cr_assert_gt(n, 100, "gdb printed %zu lines:\n%s", n, out);
	free(out);
	free(path);
	sbuf_free(&py);
	symtab_free(st);
}

Test(symtab, pc_lines_like_gdb)
{
	const char *t[] = { "bump", "vla_sum", "inspect", "main", "other_file_func", NULL };
	check_lines("types", t);
	const char *o[] = { "work", "main", NULL };
	check_lines("opt", o);
}

Test(symtab, step_ranges)
{
	struct symtab *st = open_prog("types");
	struct sym_loc_list l = { 0 };
	/* line 49 `for (int i...)` of vla_sum has several entries; its first
	 * entry's step range is the whole run of line-49 entries it starts */
	cr_assert_eq(symtab_resolve(st, "types.c:49", NULL, 0, 0, &l, NULL), 0);
	uint64_t a = l.v[0].addr;
	struct sym_line pl, rl;
	cr_assert_eq(symtab_pc_line(st, a, &pl), 0);
	cr_assert_eq(symtab_line_range(st, a, &rl), 0);
	cr_expect_eq(rl.line, 49);
	cr_expect_eq(rl.lo, pl.lo);
	cr_expect_geq(rl.hi, pl.hi);
	cr_expect(symtab_is_stmt_start(st, a));
	cr_expect_not(symtab_is_stmt_start(st, a + 1));
	/* every address inside the merged range is on line 49 */
	for (uint64_t x = rl.lo; x < rl.hi; x++) {
		struct sym_line t;
		cr_assert_eq(symtab_pc_line(st, x, &t), 0);
		cr_expect_eq(t.line, 49, "%#lx", x);
	}
	struct sym_line after;
	cr_assert_eq(symtab_pc_line(st, rl.hi, &after), 0);
	cr_expect_neq(after.line, 49);
	/* post-prologue of bump is where `break bump` goes */
	sym_loc_list_free(&l);
	cr_assert_eq(symtab_resolve(st, "bump", NULL, 0, SYMTAB_NO_SKIP, &l, NULL), 0);
	uint64_t pp;
	cr_assert_eq(symtab_post_prologue(st, l.v[0].addr, &pp), 0);
	struct sym_loc_list b = { 0 };
	cr_assert_eq(symtab_resolve(st, "bump", NULL, 0, 0, &b, NULL), 0);
	cr_expect_eq(pp, b.v[0].addr);
	cr_expect_gt(pp, l.v[0].addr);
	sym_loc_list_free(&b);
	sym_loc_list_free(&l);
	symtab_free(st);
}

Test(symtab, describe_and_symbols)
{
	struct symtab *st = open_prog("types");
	struct sym_loc_list l = { 0 };
	cr_assert_eq(symtab_resolve(st, "bump", NULL, 0, 0, &l, NULL), 0);
	struct sym_addr_info ai;
	cr_assert_eq(symtab_describe(st, l.v[0].addr, &ai), 0);
	cr_expect_str_eq(ai.func, "bump");
	cr_expect_eq(ai.offset, l.v[0].addr - ai.func_lo);
	cr_expect(ai.has_dwarf);
	cr_expect_str_eq(ai.base, "types.c");
	cr_expect_str_eq(ai.module_base, "types");
	cr_expect_eq(ai.line, 42);
	const char *name;
	uint64_t off;
	cr_assert_eq(symtab_addr_symbol(st, l.v[0].addr, &name, &off), 0);
	cr_expect_str_eq(name, "bump");
	cr_expect_eq(off, ai.offset);
	cr_expect_eq(symtab_describe(st, 0x10000000, &ai), -ENOENT);
	sym_loc_list_free(&l);
	/* data symbols for "<nodes+16>" */
	cr_assert_eq(symtab_resolve(st, "printf", NULL, 0, 0, &l, NULL), 0);
	cr_assert_eq(symtab_addr_symbol(st, l.v[0].addr + 2, &name, &off), 0);
	cr_expect_str_eq(name, "printf@plt");
	cr_expect_eq(off, 2);
	sym_loc_list_free(&l);
	symtab_free(st);

	st = open_prog("cxx");
	cr_assert_eq(symtab_resolve(st, "method(double)", NULL, 0, 0, &l, NULL), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(symtab_describe(st, l.v[0].addr, &ai), 0);
	cr_expect_str_eq(ai.func, "geo::Klass::method");
	cr_expect_str_eq(ai.elf_name, "geo::Klass::method(double)");
	sym_loc_list_free(&l);
	symtab_free(st);
}

Test(symtab, source_text_and_list_func)
{
	struct symtab *st = open_prog("types");
	const struct sym_source *src;
	cr_assert_eq(symtab_source(st, "types.c", &src), 0);
	cr_expect_str_eq(src->lines[40 - 1], "int bump(int by)");
	char *want = xasprintf("%s/tests/progs/types.c", SRC_DIR);
	cr_expect_str_eq(src->path, want);
	free(want);
	const struct sym_source *again;
	cr_assert_eq(symtab_source(st, "../tests/progs/types.c", &again), 0);
	cr_expect_eq(again, src, "cached");
	cr_expect_eq(symtab_source(st, "nosuch.c", &again), -ENOENT);
	/* `list bump` centres on the function's entry line, as gdb: */
	struct sym_loc_list l = { 0 };
	cr_assert_eq(symtab_resolve(st, "bump", NULL, 0, SYMTAB_NO_SKIP, &l, NULL), 0);
	char *path = oracle_prog("types");
	const char *cmds[] = { "list bump", NULL };
	char *out = oracle_gdb(path, cmds);
	int first = atoi(out);
	cr_expect_eq(first, l.v[0].line - 5 > 0 ? l.v[0].line - 5 : 1, "gdb lists from %d", first);
	free(out);
	free(path);
	sym_loc_list_free(&l);
	symtab_free(st);
}

Test(symtab, complete_names)
{
	struct symtab *st = open_prog("types");
	struct sym_name_list nl = { 0 };
	cr_assert_eq(symtab_complete(st, "g", SYMTAB_C_VARS, &nl), 0);
	bool found = false;
	for (size_t i = 0; i < nl.n; i++) {
		cr_assert_eq(nl.v[i][0], 'g');
		if (i)
			cr_assert_lt(strcmp(nl.v[i - 1], nl.v[i]), 0, "sorted, unique");
		found |= !strcmp(nl.v[i], "global_counter");
	}
	cr_expect(found);
	sym_name_list_free(&nl);
	cr_assert_eq(symtab_complete(st, "b", SYMTAB_C_FUNCS, &nl), 0);
	cr_expect_eq(nl.n, 1);
	cr_expect_str_eq(nl.v[0], "bump");
	sym_name_list_free(&nl);
	cr_assert_eq(symtab_complete(st, "types", SYMTAB_C_FILES, &nl), 0);
	cr_expect_eq(nl.n, 3, "types.c types.h types_b.c, got %zu", nl.n);
	sym_name_list_free(&nl);
	symtab_free(st);
}

Test(symtab, open_errors_and_loader)
{
	struct symtab *st = NULL;
	char *err = NULL;
	cr_expect_eq(symtab_open_file("/nonexistent/prog", &st, &err), -ENOENT);
	cr_expect_not_null(err);
	free(err);
	err = NULL;
	cr_expect_eq(symtab_open_file("/etc/passwd", &st, &err), -ENOEXEC);
	free(err);
	st = open_prog("dlprog");
	uint64_t a;
	cr_expect_eq(symtab_dl_breakpoint(st, &a), -ENOENT, "no loader before run");
	cr_expect_eq(symtab_module_count(st), 1);
	struct sym_module_info mi;
	cr_assert_eq(symtab_module(st, 0, &mi), 0);
	cr_expect(mi.is_main && mi.has_dwarf);
	cr_expect_str_eq(mi.base, "dlprog");
	symtab_free(st);
}
