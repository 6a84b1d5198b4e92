#include "infsym.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sym/access.h"
#include "sym/expr.h"
#include "sym/unwind.h"

struct infsym {
	struct symtab *file_st;
	char *file_path;
};

struct procsym {
	struct symtab *st;
};

static struct infsym *ctx(struct inferior *inf)
{
	return inf->symctx;
}

struct symtab *infsym_symtab(struct inferior *inf, struct proc *p)
{
	if (p && p->user)
		return ((struct procsym *)p->user)->st;
	return ctx(inf) ? ctx(inf)->file_st : NULL;
}

static struct symtab *st_of_task(struct inferior *inf, struct task *t)
{
	return infsym_symtab(inf, t ? t->proc : NULL);
}

int infsym_load_file(struct inferior *inf, const char *path, char **errmsg)
{
	struct infsym *c = ctx(inf);
	if (c->file_path && !strcmp(c->file_path, path) && c->file_st)
		return 0;
	if (c->file_st)
		symtab_free(c->file_st);
	free(c->file_path);
	c->file_st = NULL;
	c->file_path = xstrdup(path);
	return symtab_open_file(path, &c->file_st, errmsg);
}

static int attach_proc(struct inferior *inf, struct proc *p)
{
	(void)inf;
	struct symtab *st;
	int e = symtab_open_pid(p->pid, &st);
	if (e < 0) {
		pr_warn(LM_SYM, "pid %d: no symbols: %s", p->pid, strerror(-e));
		return e;
	}
	struct procsym *ps = xcalloc(1, sizeof *ps);
	ps->st = st;
	p->user = ps;
	return 0;
}

static void detach_proc(struct inferior *inf, struct proc *p)
{
	(void)inf;
	struct procsym *ps = p->user;
	if (!ps)
		return;
	symtab_free(ps->st);
	free(ps);
	p->user = NULL;
}

static int refresh(struct inferior *inf, struct proc *p)
{
	struct symtab *st = infsym_symtab(inf, p);
	bool changed = false;
	if (!st || !p->user)
		return 0;
	if (symtab_refresh(st, NULL, &changed) < 0)
		return 0;
	return changed ? 1 : 0;
}

/* The file a bare "LINE" refers to: the current thread's, else main's. */
static void default_file(struct inferior *inf, struct symtab *st, const char **file, int *line)
{
	*file = NULL;
	*line = 0;
	if (inf->cur && inf->cur->state == TS_STOPPED) {
		struct sym_line l;
		if (symtab_pc_line(st, task_pc(inf->cur), &l) == 0) {
			*file = l.file;
			*line = l.line;
		}
	}
}

/* A location given as a line of the current file: "17", "+3", "-2". */
static bool bare_line(const char *spec)
{
	const char *q = spec + (*spec == '+' || *spec == '-');
	if (!*q)
		return false;
	for (; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	return true;
}

static int resolve(struct inferior *inf, struct proc *p, struct breakpoint *b, struct sbuf *err)
{
	struct symtab *st = infsym_symtab(inf, p);
	if (!st) {
		if (err)
			sbuf_puts(err, "No symbol table is loaded.  Use the \"file\" command.");
		return -ENOENT;
	}
	const char *def_file;
	int def_line;
	default_file(inf, st, &def_file, &def_line);
	struct sym_loc_list l = { 0 };
	char *msg = NULL;
	int e = symtab_resolve(st, b->spec, def_file, def_line, 0, &l, &msg);
	if (e < 0) {
		if (err && msg)
			sbuf_puts(err, msg);
		free(msg);
		sym_loc_list_free(&l);
		return e;
	}
	free(msg);
	for (size_t i = 0; i < l.n; i++)
		bp_add_loc(b, p ? p->pid : 0, l.v[i].addr, l.v[i].func, l.v[i].file, l.v[i].line);
	if (l.n && l.v[0].file && bare_line(b->spec)) {
		/* "17", "+3": lines of the file that was current when it was set, as in gdb
		 * (re-resolved at run, the current file would be the dynamic loader's). */
		struct sbuf canon = { 0 };
		sbuf_printf(&canon, "%s:%d", l.v[0].file, l.v[0].line);
		free(b->spec);
		b->spec = sbuf_steal(&canon);
	}
	sym_loc_list_free(&l);
	return 0;
}

static uint64_t solib_bp_addr(struct inferior *inf, struct proc *p)
{
	struct symtab *st = infsym_symtab(inf, p);
	uint64_t a = 0;
	if (st && p->user && symtab_dl_breakpoint(st, &a) == 0)
		return a;
	return 0;
}

static int line_range(struct inferior *inf, struct task *t, uint64_t pc, uint64_t *lo,
		      uint64_t *hi, int *line)
{
	struct symtab *st = st_of_task(inf, t);
	struct sym_line l;
	if (!st || symtab_line_range(st, pc, &l) < 0)
		return -ENOENT;
	*lo = l.lo;
	*hi = l.hi;
	*line = l.line;
	return 0;
}

static bool is_stmt_start(struct inferior *inf, struct task *t, uint64_t pc)
{
	struct symtab *st = st_of_task(inf, t);
	return st && symtab_is_stmt_start(st, pc);
}

static bool has_line_info(struct inferior *inf, struct task *t, uint64_t pc)
{
	struct symtab *st = st_of_task(inf, t);
	return st && symtab_has_line_info(st, pc);
}

static int func_range(struct inferior *inf, struct task *t, uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	struct symtab *st = st_of_task(inf, t);
	return st ? symtab_func_range(st, pc, lo, hi) : -ENOENT;
}

static uint64_t func_body(struct inferior *inf, struct task *t, uint64_t lo)
{
	struct symtab *st = st_of_task(inf, t);
	uint64_t a;
	if (!st || symtab_post_prologue(st, lo, &a) < 0)
		return 0;
	return a;
}

static int frame_info(struct inferior *inf, struct task *t, uint64_t *cfa, uint64_t *caller_pc,
		      uint64_t *caller_cfa)
{
	struct symtab *st = st_of_task(inf, t);
	struct sym_access acc;
	if (!st)
		return -ENOENT;
	sym_access_for_task(t, &acc);
	*caller_pc = 0;
	*caller_cfa = 0;
	int e = unwind_frame_info(st, &acc, cfa, caller_pc, caller_cfa);
	return e == -ENOENT ? 0 : e;
}

static int eval_cond(struct inferior *inf, struct task *t, const char *cond, struct sbuf *err)
{
	struct symtab *st = st_of_task(inf, t);
	struct sym_access acc;
	struct unwind_list frames = { 0 };
	if (!st)
		return -ENOENT;
	sym_access_for_task(t, &acc);
	if (unwind_backtrace(st, &acc, 2, 0, &frames) < 0 || !frames.n) {
		unwind_list_free(&frames);
		sbuf_puts(err, "Cannot unwind the stopped thread.");
		return -EIO;
	}
	struct expr_env env = { 0 };
	env.ctx.st = st;
	env.ctx.acc = &acc;
	env.ctx.frame = &frames.v[0];
	env.ctx.caller = frames.n > 1 ? &frames.v[1] : NULL;
	char *msg = NULL;
	int r = expr_eval_cond(&env, cond, &msg);
	if (r < 0 && msg)
		sbuf_puts(err, msg);
	free(msg);
	unwind_list_free(&frames);
	return r;
}

static void fini(struct inferior *inf)
{
	struct infsym *c = ctx(inf);
	if (!c)
		return;
	if (c->file_st)
		symtab_free(c->file_st);
	free(c->file_path);
	free(c);
	inf->symctx = NULL;
}

static const struct inf_symops ops = {
	.fini = fini,
	.attach_proc = attach_proc,
	.detach_proc = detach_proc,
	.refresh = refresh,
	.resolve = resolve,
	.solib_bp_addr = solib_bp_addr,
	.line_range = line_range,
	.is_stmt_start = is_stmt_start,
	.has_line_info = has_line_info,
	.func_range = func_range,
	.func_body = func_body,
	.frame_info = frame_info,
	.eval_cond = eval_cond,
};

void infsym_install(struct inferior *inf)
{
	inf->symctx = xcalloc(1, sizeof(struct infsym));
	inf->sym = &ops;
}
