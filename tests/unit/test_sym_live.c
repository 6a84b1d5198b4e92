/* The symbol layer against live processes: library loads through the loader's
 * breakpoint, symtabs from a maps text (recordings), refresh, exec reloads,
 * `finish` values for every SysV return class, compared with real gdb. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYM_ORACLE_SESSION
#include "core/util.h"
#include "sym_oracle.h"

static const char after_run_py[] =
	"import gdb\n"
	"gdb.execute('break main')\n"
	"gdb.execute('run')\n"
	"for spec in SPECS:\n"
	"    try:\n"
	"        gdb.execute('break ' + spec, to_string=True)\n"
	"        b = gdb.breakpoints()[-1]\n"
	"        print('LOC|%s|%s' % (spec, ';'.join('%x#%s#%s' % (l.address,\n"
	"              l.source[0] if l.source else '', l.source[1] if l.source else 0)\n"
	"              for l in b.locations)))\n"
	"    except gdb.error as e:\n"
	"        print('ERR|%s|%s' % (spec, e))\n";

Test(sym_live, library_breakpoints_after_loads)
{
	struct live L;
	live_start(&L, "dlprog");
	cr_assert_neq(L.dl_bp, 0, "the loader's rendezvous breakpoint");
	struct sym_loc_list l = { 0 };
	/* before the loads: the library's function is only a PLT entry */
	cr_assert_eq(symtab_resolve(L.st, "lib_square", NULL, 0, 0, &l, NULL), 0);
	cr_expect(strstr(l.v[0].func, "@plt") != NULL, "%s", l.v[0].func);
	sym_loc_list_free(&l);
	unsigned gen = symtab_generation(L.st);
	live_run_to(&L, "main", 1);
	cr_expect_neq(symtab_generation(L.st), gen, "libraries came");
	bool changed = true;
	cr_assert_eq(symtab_refresh(L.st, NULL, &changed), 0);
	cr_expect_not(changed, "nothing new since");

	const char *specs[] = { "lib_square", "lib_combine", "lib_private", "symlib.c:10",
	                        "puts", "printf", "main", NULL };
	struct sbuf py = { 0 };
	sbuf_puts(&py, "SPECS = [");
	for (size_t i = 0; specs[i]; i++)
		sbuf_printf(&py, "'%s', ", specs[i]);
	sbuf_puts(&py, "]\n");
	sbuf_puts(&py, after_run_py);
	char *path = oracle_prog("dlprog");
	char *out = oracle_gdb_py(path, py.s);
	for (size_t i = 0; specs[i]; i++) {
		char *pl = xasprintf("LOC|%s|", specs[i]);
		const char *from = out;
		char *g = oracle_line(&from, pl);
		cr_assert_not_null(g, "gdb: %s", out);
		char *err = NULL;
		cr_assert_eq(symtab_resolve(L.st, specs[i], NULL, 0, 0, &l, &err), 0, "%s: %s",
		             specs[i], err);
		char *f[3] = { 0 };
		char *p = g;
		for (int k = 0; k < 3; k++)
			f[k] = strsep(&p, "#");
		cr_expect_eq(l.v[0].addr, strtoull(f[0], NULL, 16), "%s: %#lx, gdb %s", specs[i],
		             l.v[0].addr, f[0]);
		if (f[1] && f[1][0]) {
			cr_expect_str_eq(l.v[0].file ? l.v[0].file : "", f[1], "%s", specs[i]);
			cr_expect_eq(l.v[0].line, atoi(f[2]), "%s", specs[i]);
		}
		if (!strcmp(specs[i], "lib_square")) {
			struct sym_addr_info ai;
			cr_assert_eq(symtab_describe(L.st, l.v[0].addr, &ai), 0);
			cr_expect_str_eq(ai.module_base, "libsymlib.so");
			cr_expect(ai.has_dwarf);
		}
		if (!strcmp(specs[i], "puts")) {
			struct sym_addr_info ai;
			cr_assert_eq(symtab_describe(L.st, l.v[0].addr, &ai), 0);
			cr_expect_str_eq(ai.module_base, "libc.so.6");
		}
		sym_loc_list_free(&l);
		free(g);
		free(pl);
	}
	/* and the breakpoint there is hit */
	live_run_to(&L, "lib_private", 1);
	struct sym_addr_info ai;
	cr_assert_eq(symtab_describe(L.st, task_pc(L.t), &ai), 0);
	cr_expect_str_eq(ai.func, "lib_private");
	free(out);
	free(path);
	sbuf_free(&py);
	live_stop(&L);
}

struct maps_copy {
	char dir[64];
	int mapped;
};

/* A recording's path mapping: the executable comes from a copy in dir. */
static int map_to_copy(void *arg, const char *mapped, char **local)
{
	struct maps_copy *mc = arg;
	const char *base = strrchr(mapped, '/');
	if (base && !strcmp(base + 1, "types")) {
		*local = xasprintf("%s/types", mc->dir);
		mc->mapped++;
		return 0;
	}
	if (mapped[0] == '[')
		return -ENOENT;
	*local = xstrdup(mapped);
	return 0;
}

Test(sym_live, symtab_from_maps_text)
{
	struct live L;
	live_start(&L, "types");
	live_run_to(&L, "bump", 1);
	char mpath[64], *text;
	size_t len;
	snprintf(mpath, sizeof mpath, "/proc/%d/maps", L.p->pid);
	cr_assert_eq(read_file(mpath, &text, &len), 0);
	struct maps_copy mc = { .dir = "/tmp/rewind-symXXXXXX" };
	cr_assert_not_null(mkdtemp(mc.dir));
	char *src = oracle_prog("types"), *dst = xasprintf("%s/types", mc.dir), *data;
	size_t dl;
	cr_assert_eq(read_file(src, &data, &dl), 0);
	int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	cr_assert_eq(write(fd, data, dl), (ssize_t)dl);
	close(fd);

	struct symtab *st;
	cr_assert_eq(symtab_open_maps(text, map_to_copy, &mc, &st), 0);
	cr_expect_eq(mc.mapped, 1);
	struct sym_loc_list a = { 0 }, b = { 0 };
	cr_assert_eq(symtab_resolve(st, "bump", NULL, 0, 0, &a, NULL), 0);
	cr_assert_eq(symtab_resolve(L.st, "bump", NULL, 0, 0, &b, NULL), 0);
	cr_expect_eq(a.v[0].addr, b.v[0].addr, "same address as from the live process");
	cr_expect_eq(a.v[0].addr, task_pc(L.t));
	struct sym_module_info mi;
	bool found = false;
	for (size_t i = 0; i < symtab_module_count(st); i++) {
		cr_assert_eq(symtab_module(st, i, &mi), 0);
		if (mi.is_main) {
			found = true;
			cr_expect(strstr(mi.file, mc.dir) == mi.file, "read from the copy: %s", mi.file);
			cr_expect_str_eq(mi.base, "types");
		}
	}
	cr_expect(found);
	/* the recorded symtab unwinds and evaluates like the live one */
	struct unwind_list fl = { 0 };
	cr_assert_eq(unwind_backtrace(st, &L.acc, 0, 0, &fl), 0);
	cr_expect_eq(fl.n, 2);
	struct expr_env env = { .ctx = { st, &L.acc, &fl.v[0], &fl.v[1] } };
	struct value *v;
	char *err = NULL;
	cr_assert_eq(expr_eval(&env, "by + global_counter", &v, &err), 0, "%s", err);
	value_free(v);
	bool changed = true;
	cr_assert_eq(symtab_refresh(st, text, &changed), 0);
	cr_expect_not(changed);
	unwind_list_free(&fl);
	sym_loc_list_free(&a);
	sym_loc_list_free(&b);
	symtab_free(st);
	unlink(dst);
	rmdir(mc.dir);
	free(src);
	free(dst);
	free(data);
	free(text);
	live_stop(&L);
}

Test(sym_live, exec_reload_is_cheap)
{
	/* a shell execs the program: the symtab of the new image is made anew */
	struct target tg;
	cr_assert_eq(target_init(&tg), 0);
	char *path = oracle_prog("types");
	char *cmd = xasprintf("exec %s", path);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	char *envp[] = { ORACLE_ENV, NULL };
	struct launch_spec ls = { .argv = argv, .envp = envp, .exitkill = true };
	struct proc *p;
	cr_assert_eq(target_launch(&tg, &ls, &p), 0);
	struct tev ev;
	for (;;) {
		target_resume_all(&tg, NULL);
		cr_assert_eq(target_wait(&tg, &ev, 10000), 1);
		if (ev.kind == TEV_EXEC)
			break;
		cr_assert_neq(ev.kind, TEV_EXITED);
	}
	uint64_t t0 = now_ns();
	struct symtab *st;
	cr_assert_eq(symtab_open_pid(ev.proc->pid, &st), 0);
	struct sym_loc_list l = { 0 };
	cr_assert_eq(symtab_resolve(st, "bump", NULL, 0, 0, &l, NULL), 0);
	uint64_t dt = now_ns() - t0;
	cr_expect_lt(dt, 200000000ull, "a new image's symtab and a lookup: %lu ns", dt);
	struct sym_module_info mi;
	cr_assert_eq(symtab_module(st, 0, &mi), 0);
	cr_expect_str_eq(mi.base, "types");
	cr_expect(mi.is_main);
	sym_loc_list_free(&l);
	symtab_free(st);
	free(cmd);
	free(path);
	target_fini(&tg);
}

/* finish at the function the session is stopped in: run to the caller, read
 * the value per the ABI. */
static char *our_finish(struct session *S, const char *func)
{
	unwind_list_free(&S->frames);
	cr_assert_eq(unwind_backtrace(S->L.st, &S->L.acc, 0, 0, &S->frames), 0);
	S->env.ctx.frame = &S->frames.v[0];
	const char *name;
	struct type *ret = NULL;
	cr_assert_eq(value_frame_function(&S->env.ctx, &name, &ret), 0);
	cr_assert_str_eq(name, func);
	uint64_t cfa, cpc, ccfa;
	cr_assert_eq(unwind_frame_info(S->L.st, &S->L.acc, &cfa, &cpc, &ccfa), 0);
	live_cont_to(&S->L, cpc, 1);
	unwind_list_free(&S->frames);
	cr_assert_eq(unwind_backtrace(S->L.st, &S->L.acc, 0, 0, &S->frames), 0);
	S->env.ctx.frame = &S->frames.v[0];
	struct sbuf b = { 0 };
	char *err = NULL;
	struct value *v = fmt_return_value(&S->env.ctx, ret, &err);
	if (v) {
		struct fmt_opts o;
		fmt_opts_default(&o);
		cr_assert_eq(fmt_value(&S->env.ctx, v, &o, &b, &err), 0, "%s", err);
		value_free(v);
	} else {
		sbuf_printf(&b, "(none: %s)", err);
		free(err);
	}
	return sbuf_steal(&b) ?: xstrdup("");
}

Test(sym_live, finish_values_like_gdb)
{
	/* in the order main calls them: one gdb session, one of ours */
	const char *funcs[] = { "ret_int", "ret_char", "ret_double", "ret_float", "ret_ldouble",
	                        "ret_str", "ret_two_ints", "ret_two_doubles", "ret_mixed",
	                        "ret_big", "ret_chars", "ret_floats4", NULL };
	const char *cmds[64];
	char *bps[16];
	size_t n = 0, k;
	for (k = 0; funcs[k]; k++)
		cmds[n++] = bps[k] = xasprintf("break %s", funcs[k]);
	cmds[n++] = "run";
	for (size_t i = 0; i < k; i++) {
		cmds[n++] = "finish";
		if (i + 1 < k)
			cmds[n++] = "continue";
	}
	cmds[n] = NULL;
	char *path = oracle_prog("retvals");
	char *out = oracle_gdb(path, cmds);
	struct session S;
	sess_start(&S, "retvals", "main", 1);
	const char *from = out;
	for (size_t i = 0; i < k; i++) {
		char *want = oracle_line(&from, "Value returned is $");
		cr_assert_not_null(want, "%s: %s", funcs[i], out);
		const char *w = strstr(want, " = ") + 3;
		live_run_to(&S.L, funcs[i], 1);
		char *got = our_finish(&S, funcs[i]);
		cr_expect_str_eq(got, w, "%s: ours %s, gdb %s", funcs[i], got, w);
		free(got);
		free(want);
		free(bps[i]);
	}
	live_run_to(&S.L, "ret_void", 1);
	char *v = our_finish(&S, "ret_void");
	cr_expect_str_eq(v, "(none: The function returns nothing.)");
	free(v);
	sess_stop(&S);
	free(out);
	free(path);
}
