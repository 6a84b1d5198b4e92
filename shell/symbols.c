/* The shell's window onto core/sym: locations, source lines, completion. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "core/infsym.h"
#include "core/regs.h"
#include "frames.h"
#include "symbols.h"

static struct symtab *st_for(struct shell *sh, struct task *t)
{
	struct inferior *inf = sh_inf(sh);
	return infsym_symtab(inf, t ? t->proc : (inf_alive(inf) ? inf->main : NULL));
}

void sym_install(struct shell *sh)
{
	infsym_install(sh_inf(sh));
}

void sym_program_changed(struct shell *sh)
{
	struct inferior *inf = sh_inf(sh);
	char *msg = NULL;
	if (!inf->argv || !inf->argv[0])
		return;
	if (!sh->batch)
		sh_out(sh, "Reading symbols from %s...\n", inf->argv[0]);
	int e = infsym_load_file(inf, inf->argv[0], &msg);
	if (sh->batch) {
		/* gdb says nothing about symbols in batch mode. */
	} else if (e < 0) {
		sh_out(sh, "%s\n", msg ? msg : "(No debugging symbols found)");
	} else {
		/* gdb says so when the program has no DWARF at all. */
		struct symtab *st = infsym_symtab(inf, NULL);
		struct sym_module_info mi;
		if (st && symtab_module(st, 0, &mi) == 0 && !mi.has_dwarf)
			sh_out(sh, "(No debugging symbols found in %s)\n", inf->argv[0]);
	}
	free(msg);
}

int sym_frame_line(struct shell *sh, struct task *t, unsigned level, bool with_args, struct sbuf *out)
{
	(void)with_args;
	struct fctx f;
	uint64_t pc = t && t->state == TS_STOPPED ? task_pc(t) : 0;
	if (!t || fctx_open(sh, t, level, &f) < 0) {
		sbuf_printf(out, "0x%016" PRIx64 " in ?? ()", pc);
		return 0;
	}
	fmt_frame_line(&f.ctx, f.ctx.frame, false, out);
	fctx_close(&f);
	return 0;
}

int sym_source_line(struct shell *sh, struct task *t, uint64_t pc, struct sbuf *out)
{
	struct symtab *st = st_for(sh, t);
	struct sym_line l;
	if (!st || symtab_pc_line(st, pc, &l) < 0)
		return -ENOENT;
	const struct sym_source *src;
	int e = symtab_source(st, l.fullpath ? l.fullpath : l.file, &src);
	if (e < 0) {
		sbuf_printf(out, "%d\t%s: No such file or directory.", l.line, l.file);
		return -ENOENT;
	}
	if (l.line < 1 || (size_t)l.line > src->nlines) {
		sbuf_printf(out, "Line number %d out of range; \"%s\" has %zu lines.", l.line, l.file,
			    src->nlines);
		return -ENOENT;
	}
	sbuf_printf(out, "%d\t%s", l.line, src->lines[l.line - 1]);
	free(sh->list_file);
	sh->list_file = xstrdup(l.fullpath ? l.fullpath : l.file);
	sh->list_line = l.line;
	sh->list_last = 0;
	return 0;
}

bool sym_at_line_start(struct shell *sh, struct task *t, uint64_t pc)
{
	struct symtab *st = st_for(sh, t);
	struct sym_line l;
	/* gdb's frame_show_address: no address when pc starts a statement entry. */
	return st && symtab_pc_line(st, pc, &l) == 0 && l.lo == pc && l.is_stmt;
}

void sym_addr_suffix(struct shell *sh, uint64_t addr, struct sbuf *out)
{
	struct symtab *st = st_for(sh, NULL);
	const char *name;
	uint64_t off;
	if (!st || symtab_addr_symbol(st, addr, &name, &off) < 0)
		return;
	if (off)
		sbuf_printf(out, " <%s+%" PRIu64 ">", name, off);
	else
		sbuf_printf(out, " <%s>", name);
}

int sym_resolve_one(struct shell *sh, const char *spec, uint64_t *addr)
{
	struct inferior *inf = sh_inf(sh);
	struct symtab *st = st_for(sh, NULL);
	if (!st)
		return sh_error(sh, "No symbol table is loaded.  Use the \"file\" command.");
	struct sym_loc_list l = { 0 };
	char *msg = NULL;
	const char *def_file = NULL;
	int def_line = 0;
	if (inf->cur) {
		struct sym_line sl;
		if (symtab_pc_line(st, task_pc(inf->cur), &sl) == 0) {
			def_file = sl.file;
			def_line = sl.line;
		}
	}
	int e = symtab_resolve(st, spec, def_file, def_line, 0, &l, &msg);
	if (e < 0 || !l.n) {
		sh_error(sh, "%s", msg ? msg : "No such location.");
		free(msg);
		sym_loc_list_free(&l);
		return -1;
	}
	free(msg);
	*addr = l.v[0].addr;
	sym_loc_list_free(&l);
	return 0;
}

int sym_function_bounds(struct shell *sh, uint64_t pc, uint64_t *lo, uint64_t *hi, struct sbuf *name)
{
	struct symtab *st = st_for(sh, NULL);
	struct sym_addr_info ai;
	if (!st || symtab_describe(st, pc, &ai) < 0 || !ai.func || !ai.func_hi)
		return -ENOENT;
	*lo = ai.func_lo;
	*hi = ai.func_hi;
	sbuf_puts(name, ai.func);
	return 0;
}

char *sym_complete(struct shell *sh, const char *text, int state)
{
	static struct sym_name_list l;
	static size_t i;
	if (!state) {
		sym_name_list_free(&l);
		memset(&l, 0, sizeof l);
		i = 0;
		struct symtab *st = st_for(sh, NULL);
		if (st)
			symtab_complete(st, text, SYMTAB_C_FUNCS | SYMTAB_C_VARS | SYMTAB_C_FILES, &l);
	}
	return i < l.n ? strdup(l.v[i++]) : NULL;
}
