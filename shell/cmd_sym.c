/* Commands over the symbol tables: list, info line, info symbol, info
 * sharedlibrary, info source. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "core/infsym.h"
#include "symbols.h"

static struct symtab *cur_st(struct shell *sh)
{
	struct inferior *inf = sh_inf(sh);
	return infsym_symtab(inf, inf_alive(inf) ? inf->main : NULL);
}

static int list_lines(struct shell *sh, const char *file, int first, int last)
{
	struct symtab *st = cur_st(sh);
	const struct sym_source *src;
	if (!st)
		return sh_error(sh, "No symbol table is loaded.  Use the \"file\" command.");
	int e = symtab_source(st, file, &src);
	if (e < 0)
		return sh_error(sh, "%s: No such file or directory.", file);
	if (first < 1)
		first = 1;
	if ((size_t)first > src->nlines)
		return sh_error(sh, "Line number %d out of range; \"%s\" has %zu lines.", first, file, src->nlines);
	if ((size_t)last > src->nlines)
		last = (int)src->nlines;
	for (int i = first; i <= last; i++)
		sh_out(sh, "%d\t%s\n", i, src->lines[i - 1]);
	free(sh->list_file);
	sh->list_file = xstrdup(file);
	sh->list_last = last;
	sh->list_line = last;
	return 0;
}

/* Where `list` with no argument starts: around main before the program runs. */
static int default_list_center(struct shell *sh, char **file, int *line)
{
	struct symtab *st = cur_st(sh);
	struct sym_loc_list l = { 0 };
	if (!st || symtab_resolve(st, "main", NULL, 0, 0, &l, NULL) < 0 || !l.n || !l.v[0].file) {
		sym_loc_list_free(&l);
		return -1;
	}
	*file = xstrdup(l.v[0].fullpath ? l.v[0].fullpath : l.v[0].file);
	*line = l.v[0].line;
	sym_loc_list_free(&l);
	return 0;
}

int cmd_list(struct shell *sh, char *args)
{
	struct symtab *st = cur_st(sh);
	if (!st)
		return sh_error(sh, "No symbol table is loaded.  Use the \"file\" command.");
	if (!args || !*args) {
		if (sh->list_file && sh->list_last)
			return list_lines(sh, sh->list_file, sh->list_last + 1, sh->list_last + 10);
		if (sh->list_file && sh->list_line) {
			char *f = xstrdup(sh->list_file);
			int c = sh->list_line;
			int r = list_lines(sh, f, c - 5 > 0 ? c - 5 : 1, (c - 5 > 0 ? c - 5 : 1) + 9);
			free(f);
			return r;
		}
		char *f;
		int c;
		if (default_list_center(sh, &f, &c) < 0)
			return sh_error(sh, "No default source file; use list FILE:LINE.");
		int first = c - 5 > 0 ? c - 5 : 1;
		int r = list_lines(sh, f, first, first + 9);
		free(f);
		return r;
	}
	if (!strcmp(args, "-")) {
		if (!sh->list_file)
			return sh_error(sh, "No default source file.");
		int end = sh->list_last - 10;
		if (end < 1)
			return sh_error(sh, "Already at the start of %s.", sh->list_file);
		int first = end - 9 > 0 ? end - 9 : 1;
		char *f = xstrdup(sh->list_file);
		int r = list_lines(sh, f, first, end);
		sh->list_last = first - 1 + 10;
		free(f);
		return r;
	}
	char *comma = strchr(args, ',');
	if (comma && isdigit((unsigned char)args[0])) {
		int a = atoi(args), b = atoi(comma + 1);
		const char *f = sh->list_file;
		char *df = NULL;
		int dl;
		if (!f && default_list_center(sh, &df, &dl) == 0)
			f = df;
		if (!f)
			return sh_error(sh, "No default source file.");
		int r = list_lines(sh, f, a, b ? b : a + 9);
		free(df);
		return r;
	}
	/* A location: center on it. */
	struct sym_loc_list l = { 0 };
	char *msg = NULL;
	const char *def = sh->list_file;
	if (symtab_resolve(st, args, def, sh->list_line, SYMTAB_NO_SKIP, &l, &msg) < 0 || !l.n) {
		sh_error(sh, "%s", msg ? msg : "No such location.");
		free(msg);
		sym_loc_list_free(&l);
		return -1;
	}
	free(msg);
	char *file = xstrdup(l.v[0].fullpath ? l.v[0].fullpath : l.v[0].file ? l.v[0].file : "");
	int line = l.v[0].line;
	bool is_line = isdigit((unsigned char)args[0]) || strchr(args, ':');
	sym_loc_list_free(&l);
	if (!*file) {
		free(file);
		return sh_error(sh, "No line number information available for \"%s\".", args);
	}
	/* gdb centers a function on the line after its opening, a line number on itself. */
	int first = (is_line ? line - 5 : line - 4);
	if (first < 1)
		first = 1;
	int r = list_lines(sh, file, first, first + 9);
	free(file);
	return r;
}

int cmd_info_line(struct shell *sh, char *args)
{
	struct symtab *st = cur_st(sh);
	struct inferior *inf = sh_inf(sh);
	if (!st)
		return sh_error(sh, "No symbol table is loaded.");
	uint64_t addr;
	if (!args || !*args) {
		if (!inf->cur)
			return sh_error(sh, "The program is not being run.");
		addr = task_pc(inf->cur);
	} else if (sym_resolve_one(sh, args, &addr) < 0) {
		return -1;
	}
	struct sym_line l;
	if (symtab_pc_line(st, addr, &l) < 0) {
		struct sbuf s = { 0 };
		sym_addr_suffix(sh, addr, &s);
		sh_out(sh, "No line number information available for address 0x%" PRIx64 "%s\n", addr, sbuf_str(&s));
		sbuf_free(&s);
		return 0;
	}
	struct sbuf a = { 0 }, b = { 0 };
	sym_addr_suffix(sh, l.lo, &a);
	sym_addr_suffix(sh, l.hi, &b);
	sh_out(sh, "Line %d of \"%s\" starts at address 0x%" PRIx64 "%s and ends at 0x%" PRIx64 "%s.\n",
	       l.line, l.file, l.lo, sbuf_str(&a), l.hi, sbuf_str(&b));
	sbuf_free(&a);
	sbuf_free(&b);
	return 0;
}

int cmd_info_symbol(struct shell *sh, char *args)
{
	if (!args || !*args)
		return sh_error(sh, "Argument required (address).");
	uint64_t addr;
	if (sym_eval_u64(sh, args, &addr) < 0)
		return -1;
	struct symtab *st = cur_st(sh);
	const char *name;
	uint64_t off;
	if (!st || symtab_addr_symbol(st, addr, &name, &off) < 0) {
		sh_out(sh, "No symbol matches %s.\n", args);
		return 0;
	}
	struct sym_addr_info ai;
	const char *sect = "text";
	if (symtab_describe(st, addr, &ai) == 0 && !ai.func_hi)
		sect = "data";
	if (off)
		sh_out(sh, "%s + %" PRIu64 " in section .%s", name, off, sect);
	else
		sh_out(sh, "%s in section .%s", name, sect);
	if (symtab_describe(st, addr, &ai) == 0 && ai.module && ai.module_base &&
	    symtab_module_count(st) > 1) {
		struct sym_module_info mi;
		if (symtab_module(st, 0, &mi) == 0 && strcmp(mi.name, ai.module))
			sh_out(sh, " of %s", ai.module);
	}
	sh_out(sh, "\n");
	return 0;
}

int cmd_info_sharedlibrary(struct shell *sh, char *args)
{
	(void)args;
	struct symtab *st = cur_st(sh);
	if (!st || !inf_alive(sh_inf(sh))) {
		sh_out(sh, "No shared libraries loaded at this time.\n");
		return 0;
	}
	bool any = false;
	for (size_t i = 0; i < symtab_module_count(st); i++) {
		struct sym_module_info mi;
		if (symtab_module(st, i, &mi) < 0 || mi.is_main || mi.name[0] == '[')
			continue;
		if (!any)
			sh_out(sh, "From                To                  Syms Read   Shared Object Library\n");
		any = true;
		sh_out(sh, "0x%016" PRIx64 "  0x%016" PRIx64 "  Yes%s         %s\n", mi.lo, mi.hi,
		       mi.has_dwarf ? "   " : " (*)", mi.name);
	}
	if (!any)
		sh_out(sh, "No shared libraries loaded at this time.\n");
	return 0;
}

int cmd_info_source(struct shell *sh, char *args)
{
	(void)args;
	if (!sh->list_file) {
		sh_out(sh, "No current source file.\n");
		return 0;
	}
	sh_out(sh, "Current source file is %s\n", sh->list_file);
	return 0;
}
