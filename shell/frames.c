#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/infsym.h"
#include "frames.h"
#include "symbols.h"

struct expr_history *sh_history(struct shell *sh)
{
	static struct expr_history *h;   /* one shell per process */
	(void)sh;
	if (!h)
		h = expr_history_new();
	return h;
}

int fctx_open(struct shell *sh, struct task *t, unsigned level, struct fctx *f)
{
	struct inferior *inf = sh_inf(sh);
	memset(f, 0, sizeof *f);
	if (!t && inf_alive(inf))
		t = inf->cur;
	f->t = t && t->state == TS_STOPPED ? t : NULL;
	f->level = level;
	struct symtab *st = infsym_symtab(inf, f->t ? f->t->proc : NULL);
	if (!st)
		return sh_error(sh, "No symbol table is loaded.  Use the \"file\" command.");
	f->ctx.st = st;
	if (f->t) {
		sym_access_for_task(f->t, &f->acc);
		f->ctx.acc = &f->acc;
		if (unwind_backtrace(st, &f->acc, level + 2, UNWIND_PAST_MAIN, &f->frames) < 0 || !f->frames.n)
			return sh_error(sh, "Cannot read the registers of thread %u.", f->t->num);
		if (level >= f->frames.n) {
			unwind_list_free(&f->frames);
			return sh_error(sh, "No frame at level %u.", level);
		}
		f->ctx.frame = &f->frames.v[level];
		f->ctx.caller = level + 1 < f->frames.n ? &f->frames.v[level + 1] : NULL;
		f->icx.inf = inf;
		f->icx.t = f->t;
		f->icx.ctx = &f->ctx;
		f->env.call = infcall_expr_call;
		f->env.call_arg = &f->icx;
	}
	f->env.ctx = f->ctx;
	f->env.hist = sh_history(sh);
	return 0;
}

void fctx_close(struct fctx *f)
{
	unwind_list_free(&f->frames);
}

void frame_source_line(struct shell *sh, struct fctx *f, unsigned level, struct sbuf *out)
{
	if (!f->t || level >= f->frames.n)
		return;
	sym_source_line(sh, f->t, f->frames.v[level].lookup_pc, out);
}
