/* Real gdb as the oracle of the symbol-layer tests: run gdb in batch mode on a
 * fixture, collect what it prints, and split it into records. Included by the
 * test_{symtab,unwind,expr,format,sym_live}.c suites. */
#ifndef REWIND_TEST_SYM_ORACLE_H
#define REWIND_TEST_SYM_ORACLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

#ifndef PROGS_DIR
#define PROGS_DIR "tests/progs"
#endif

#if defined(SYM_ORACLE_SESSION) && !defined(SYM_ORACLE_LIVE)
#define SYM_ORACLE_LIVE
#endif

/* The debuggees' whole environment, the same under gdb and under rewind. */
#define ORACLE_ENV "LANG=C"

static inline char *oracle_prog(const char *name)
{
	return xasprintf("%s/%s", PROGS_DIR, name);
}

static inline void oracle_quote(struct sbuf *b, const char *s)
{
	sbuf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sbuf_puts(b, "'\\''");
		else
			sbuf_putc(b, *s);
	}
	sbuf_putc(b, '\'');
}

/* Run `gdb -nx -batch` on prog with the commands (NULL-terminated); returns what
 * gdb printed on stdout and stderr (malloc'd). */
static inline char *oracle_gdb(const char *prog, const char *const *cmds)
{
	struct sbuf cmd = { 0 };
	/* the debuggee sees exactly the environment live_start() gives it (and no
	 * shell) so that stack addresses agree */
	sbuf_puts(&cmd, "gdb -nx -batch -ex 'set width 0' -ex 'set height 0' "
	                "-ex 'set confirm off' -ex 'set debuginfod enabled off' "
	                "-ex 'set startup-with-shell off' -ex 'unset environment' "
	                "-ex 'set environment " ORACLE_ENV "' "
	                "-ex 'handle SIGUSR1 nostop noprint pass' ");
	for (size_t i = 0; cmds[i]; i++) {
		sbuf_puts(&cmd, "-ex ");
		oracle_quote(&cmd, cmds[i]);
		sbuf_putc(&cmd, ' ');
	}
	oracle_quote(&cmd, prog);
	sbuf_puts(&cmd, " 2>&1 </dev/null");
	FILE *f = popen(cmd.s, "r");
	struct sbuf out = { 0 };
	if (f) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			sbuf_append(&out, buf, n);
		pclose(f);
	}
	sbuf_free(&cmd);
	return sbuf_steal(&out) ?: xstrdup("");
}

/* Run a gdb Python script (text) on prog; returns the output. */
static inline char *oracle_gdb_py(const char *prog, const char *script)
{
	char path[] = "/tmp/rewind-oracle-XXXXXX.py";
	int fd = mkstemps(path, 3);
	if (fd < 0)
		return xstrdup("");
	size_t len = strlen(script);
	if (write(fd, script, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return xstrdup("");
	}
	close(fd);
	char *src = xasprintf("source %s", path);
	const char *cmds[] = { src, NULL };
	char *out = oracle_gdb(prog, cmds);
	unlink(path);
	free(src);
	return out;
}

/* The line starting with prefix (after `from`), copied without its newline and
 * without the prefix; NULL if none. *from advances past it. */
static inline char *oracle_line(const char **from, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (const char *p = *from; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= pl && !strncmp(p, prefix, pl)) {
			*from = nl ? nl + 1 : p + len;
			return xstrndup(p + pl, len - pl);
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The value gdb printed for `print`: the text after "$N = " on the line after
 * the marker line "@@<tag>" (print commands are separated by `echo @@tag\n`).
 * For errors, the error line itself. */
static inline char *oracle_after(const char *out, const char *tag)
{
	char *mark = xasprintf("@@%s\n", tag);
	const char *p = strstr(out, mark);
	free(mark);
	if (!p)
		return NULL;
	p = strchr(p, '\n') + 1;
	const char *end = strstr(p, "\n@@");
	size_t len = end ? (size_t)(end - p) : strlen(p);
	while (len && p[len - 1] == '\n')
		len--;
	if (p[0] == '$') {
		const char *eq = strstr(p, " = ");
		if (eq && eq < p + len) {
			len -= (size_t)(eq + 3 - p);
			p = eq + 3;
		}
	}
	return xstrndup(p, len);
}

/* ---- live debuggees: launch a fixture under the engine and stop it somewhere */
#ifdef SYM_ORACLE_LIVE
#include <criterion/criterion.h>

#include "core/sym/access.h"
#include "core/sym/symtab.h"
#include "core/target.h"

struct live {
	struct target tg;
	struct proc *p;
	struct task *t;
	struct symtab *st;
	struct sym_access acc;
	uint64_t dl_bp;
	bool past_start;
};

/* Launch PROGS_DIR/name stopped at its first instruction, with a pid symtab. */
static inline void live_start(struct live *L, const char *name)
{
	memset(L, 0, sizeof *L);
	cr_assert_eq(target_init(&L->tg), 0);
	char *path = oracle_prog(name);
	char *argv[] = { path, NULL };
	char *envp[] = { ORACLE_ENV, NULL };
	struct launch_spec ls = { .argv = argv, .envp = envp, .exitkill = true };
	int e = target_launch(&L->tg, &ls, &L->p);
	cr_assert_eq(e, 0, "launch %s: %s", path, strerror(-e));
	free(path);
	L->t = proc_main_task(L->p);
	cr_assert_eq(symtab_open_pid(L->p->pid, &L->st), 0);
	sym_access_for_task(L->t, &L->acc);
	if (symtab_dl_breakpoint(L->st, &L->dl_bp) == 0)
		cr_assert_eq(proc_bp_insert(L->p, L->dl_bp), 0);
}

/* Continue until one of the breakpoints at addrs[0..n) is hit (count hits in
 * all), handling library loads (the loader's breakpoint refreshes the symtab). */
static inline void live_cont_to_any(struct live *L, const uint64_t *addrs, size_t n, int count)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(proc_bp_insert(L->p, addrs[i]), 0);
	for (;;) {
		struct tev ev;
		/* step over a breakpoint site at the pc first */
		uint64_t pc = task_pc(L->t);
		if (proc_bp_find(L->p, pc)) {
			proc_bp_remove(L->p, pc);
			cr_assert_eq(target_resume(&L->tg, L->t, RESUME_STEP), 0);
			cr_assert_eq(target_wait_task(&L->tg, L->t, &ev), 1);
			proc_bp_insert(L->p, pc);
		}
		target_resume_all(&L->tg, NULL);
		int r = target_wait(&L->tg, &ev, 10000);
		cr_assert_eq(r, 1, "target_wait: %d", r);
		bool mine = false;
		for (size_t i = 0; i < n; i++)
			mine |= ev.kind == TEV_BREAKPOINT && ev.addr == addrs[i];
		if (mine && --count == 0)
			break;
		if (ev.kind == TEV_BREAKPOINT && ev.addr == L->dl_bp) {
			bool changed;
			symtab_refresh(L->st, NULL, &changed);
			continue;
		}
		cr_assert(ev.kind != TEV_EXITED, "the program exited before reaching %#lx", addrs[0]);
		if (ev.kind == TEV_SIGNAL)
			continue;   /* delivered at the next resume */
	}
	for (size_t i = 0; i < n; i++)
		proc_bp_remove(L->p, addrs[i]);
	L->t = proc_main_task(L->p);
	sym_access_for_task(L->t, &L->acc);
}

static inline void live_cont_to(struct live *L, uint64_t addr, int count)
{
	live_cont_to_any(L, &addr, 1, count);
}

/* Run to the first location of spec, resolved once the program reached main
 * (its libraries are loaded then), or after later library loads. */
static inline void live_run_to(struct live *L, const char *spec, int count)
{
	struct sym_loc_list l = { 0 };
	if (!L->past_start && strcmp(spec, "main")) {
		cr_assert_eq(symtab_resolve(L->st, "main", NULL, 0, 0, &l, NULL), 0);
		uint64_t m = l.v[0].addr;
		sym_loc_list_free(&l);
		live_cont_to(L, m, 1);
		bool changed;
		symtab_refresh(L->st, NULL, &changed);
	}
	L->past_start = true;
	for (int tries = 0; symtab_resolve(L->st, spec, NULL, 0, 0, &l, NULL) < 0; tries++) {
		cr_assert(L->dl_bp && tries < 20, "cannot resolve %s", spec);
		live_cont_to(L, L->dl_bp, 1);
		bool changed;
		symtab_refresh(L->st, NULL, &changed);
	}
	/* every location, as a gdb breakpoint has them all */
	uint64_t *addrs = xcalloc(l.n, sizeof *addrs);
	for (size_t i = 0; i < l.n; i++)
		addrs[i] = l.v[i].addr;
	size_t n = l.n;
	sym_loc_list_free(&l);
	live_cont_to_any(L, addrs, n, count);
	free(addrs);
}

static inline void live_stop(struct live *L)
{
	symtab_free(L->st);
	target_fini(&L->tg);
}

/* gdb stopped at the count-th hit of `break spec`, then the commands. */
static inline char *oracle_gdb_at(const char *prog, const char *spec, int count,
                                  const char *const *cmds)
{
	size_t ncmds = 0;
	while (cmds[ncmds])
		ncmds++;
	const char **all = xcalloc(ncmds + 8, sizeof *all);
	size_t n = 0;
	char *b = xasprintf("break %s", spec);
	char *c = count > 1 ? xasprintf("continue %d", count - 1) : NULL;
	all[n++] = b;
	all[n++] = "run";
	if (c)
		all[n++] = c;
	all[n++] = "echo @@start\n";
	for (size_t i = 0; cmds[i]; i++)
		all[n++] = cmds[i];
	all[n] = NULL;
	char *path = oracle_prog(prog);
	char *out = oracle_gdb(path, all);
	free(path);
	free(b);
	free(c);
	free(all);
	return out;
}
#endif

/* ---- a debugging session at a stop: what the shell does for print, ptype,
 * whatis, info locals/args and bt, compared command by command with gdb */
#ifdef SYM_ORACLE_SESSION
#include "core/sym/expr.h"
#include "core/sym/format.h"
#include "core/sym/unwind.h"

/* What the shell does for `print[/F] EXPR`, `ptype`, `whatis`: our text. */
struct session {
	struct live L;
	size_t cur;                 /* selected frame */
	struct unwind_list frames;
	struct expr_history *hist;
	struct expr_env env;
};

static inline void sess_start(struct session *S, const char *prog, const char *spec, int count)
{
	memset(S, 0, sizeof *S);
	live_start(&S->L, prog);
	live_run_to(&S->L, spec, count);
	/* gdb shows inlined calls as frames */
	cr_assert_eq(unwind_backtrace(S->L.st, &S->L.acc, 0, UNWIND_INLINE, &S->frames), 0);
	S->hist = expr_history_new();
	S->env.ctx = (struct sym_ctx){ S->L.st, &S->L.acc, &S->frames.v[0],
	                               S->frames.n > 1 ? &S->frames.v[1] : NULL };
	S->env.hist = S->hist;
}

static inline void sess_stop(struct session *S)
{
	expr_history_free(S->hist);
	unwind_list_free(&S->frames);
	live_stop(&S->L);
}

static inline char *our_command(struct session *S, const char *cmd)
{
	struct sbuf out = { 0 };
	char *err = NULL;
	const char *arg = strchr(cmd, ' ') ? strchr(cmd, ' ') + 1 : "";
	if (!strncmp(cmd, "print", 5)) {
		struct fmt_opts o;
		fmt_opts_default(&o);
		if (cmd[5] == '/')
			fmt_parse_format(cmd + 6, &o, NULL);
		struct value *v;
		if (expr_eval(&S->env, arg, &v, &err) == 0) {
			struct sbuf txt = { 0 };
			if (fmt_value(&S->env.ctx, v, &o, &txt, &err) == 0) {
				int n = expr_history_add(S->hist, &S->env.ctx, v);
				(void)n;
				sbuf_puts(&out, sbuf_str(&txt));
			}
			sbuf_free(&txt);
			value_free(v);
		}
	} else if (!strncmp(cmd, "ptype", 5) || !strncmp(cmd, "whatis", 6)) {
		bool pt = cmd[0] == 'p';
		struct type *t = NULL;
		struct expr_env env = S->env;
		env.no_side_effects = true;
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
			if (pt) {
				fmt_ptype(&S->env.ctx, t, &out);
			} else {
				if (is_type && t->kind == TY_TYPEDEF)
					t = t->target;   /* whatis TYPEDEF unrolls one level */
				fmt_whatis(t, &out);
			}
		}
	} else if (!strcmp(cmd, "info locals") || !strcmp(cmd, "info args")) {
		fmt_frame_vars(&S->env.ctx, cmd[5] == 'l' ? VALUE_LOCALS : VALUE_ARGS, &out);
		while (out.len && out.s[out.len - 1] == '\n')
			out.s[--out.len] = 0;
	} else if (!strcmp(cmd, "bt")) {
		for (size_t i = 0; i < S->frames.n; i++) {
			struct sym_ctx fc = S->env.ctx;
			fc.frame = &S->frames.v[i];
			fc.caller = i + 1 < S->frames.n ? &S->frames.v[i + 1] : NULL;
			if (i)
				sbuf_putc(&out, '\n');
			fmt_frame_line(&fc, &S->frames.v[i], true, &out);
		}
	} else if (!strcmp(cmd, "frame") || !strcmp(cmd, "up") || !strcmp(cmd, "down")) {
		/* gdb: the frame line, then its source line */
		if (cmd[0] == 'u' && S->cur + 1 < S->frames.n)
			S->cur++;
		else if (cmd[0] == 'd' && S->cur > 0)
			S->cur--;
		const struct unwind_frame *f = &S->frames.v[S->cur];
		S->env.ctx.frame = f;
		S->env.ctx.caller = S->cur + 1 < S->frames.n ? &S->frames.v[S->cur + 1] : NULL;
		fmt_frame_line(&S->env.ctx, f, true, &out);
		const char *file, *full;
		int line;
		const struct sym_source *src;
		if (value_frame_location(&S->env.ctx, &file, &full, &line, NULL) == 0 &&
		    symtab_source(S->L.st, full, &src) == 0 && line <= (int)src->nlines)
			sbuf_printf(&out, "\n%d\t%s", line, src->lines[line - 1]);
	}
	if (err) {
		sbuf_reset(&out);
		sbuf_puts(&out, err);
		free(err);
	}
	return sbuf_steal(&out) ?: xstrdup("");
}

/* Run gdb with the commands at the same stop; compare every answer. */
static inline void check_commands(const char *prog, const char *spec, int count,
                           const char *const *cmds)
{
	const char *gcmds[256];
	char *marks[128];
	size_t n = 0, k = 0;
	for (; cmds[k] && n < 250; k++) {
		marks[k] = xasprintf("echo @@%zu\\n", k);
		gcmds[n++] = marks[k];
		gcmds[n++] = cmds[k];
	}
	gcmds[n] = NULL;
	char *out = oracle_gdb_at(prog, spec, count, gcmds);
	struct session S;
	sess_start(&S, prog, spec, count);
	for (size_t i = 0; i < k; i++) {
		char tag[16];
		snprintf(tag, sizeof tag, "%zu", i);
		char *want = oracle_after(out, tag);
		cr_assert_not_null(want, "gdb output lacks %s:\n%s", cmds[i], out);
		char *got = our_command(&S, cmds[i]);
		cr_expect_str_eq(got, want, "%s: `%s'\n  ours: %s\n  gdb:  %s", prog, cmds[i], got, want);
		free(got);
		free(want);
		free(marks[i]);
	}
	sess_stop(&S);
	free(out);
}

#endif

#endif
