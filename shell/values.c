/* Values in the shell until core/sym's expression evaluator is wired in: integer
 * arguments (numbers, $registers, function addresses) and raw watch values. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "core/infsym.h"
#include "core/regs.h"
#include "symbols.h"

int sh_parse_u64(struct shell *sh, const char *text, uint64_t *out)
{
	return sym_eval_u64(sh, text, out);
}

int sym_eval_u64(struct shell *sh, const char *expr, uint64_t *out)
{
	struct inferior *inf = sh_inf(sh);
	char *e = xstrdup(expr), *p = str_trim(e);
	int r = 0;
	char *end;
	if (isdigit((unsigned char)*p)) {
		errno = 0;
		*out = strtoull(p, &end, 0);
		if (errno || *str_trim(end))
			r = sh_error(sh, "Invalid number \"%s\".", p);
	} else if (*p == '$') {
		struct user_regs_struct *regs;
		const struct reg_desc *d = regs_by_name(p + 1);
		if (!inf->cur || task_get_regs(inf->cur, &regs) < 0)
			r = sh_error(sh, "No registers.");
		else if (!d)
			r = sh_error(sh, "Invalid register `%s'", p + 1);
		else
			*out = *regs_gpr(regs, d->gpr_off);
	} else {
		struct symtab *st = infsym_symtab(inf, inf_alive(inf) ? inf->main : NULL);
		struct sym_loc_list l = { 0 };
		const char *name = *p == '&' ? p + 1 : p;
		if (st && symtab_resolve(st, name, NULL, 0, SYMTAB_NO_SKIP, &l, NULL) == 0 && l.n)
			*out = l.v[0].addr;
		else
			r = sh_error(sh, "No symbol \"%s\" in current context.", name);
		sym_loc_list_free(&l);
	}
	free(e);
	return r;
}

void sym_format_watch(struct shell *sh, struct breakpoint *b, const uint8_t *bytes, bool valid,
		      struct sbuf *out)
{
	(void)sh;
	if (!valid) {
		sbuf_puts(out, "<unreadable>");
		return;
	}
	int64_t v = 0;
	switch (b->wlen) {
	case 1: v = (int8_t)bytes[0]; break;
	case 2: { int16_t x; memcpy(&x, bytes, 2); v = x; break; }
	case 4: { int32_t x; memcpy(&x, bytes, 4); v = x; break; }
	case 8: { memcpy(&v, bytes, 8); break; }
	default:
		for (unsigned i = 0; i < b->wlen; i++)
			sbuf_printf(out, "%s0x%02x", i ? " " : "", bytes[i]);
		return;
	}
	sbuf_printf(out, "%" PRId64, v);
}

void sym_print_return_value(struct shell *sh, struct task *t, uint64_t func_addr)
{
	(void)sh;
	(void)t;
	(void)func_addr;
}

int sym_eval_lvalue(struct shell *sh, const char *expr, uint64_t *addr, unsigned *len,
		    uint64_t *scope_cfa)
{
	*scope_cfa = 0;
	*len = 4;
	const char *p = expr;
	if (!strncmp(p, "*(long *)", 9) || !strncmp(p, "*(long*)", 8)) {
		*len = 8;
		p = strchr(p, ')') + 1;
	} else if (!strncmp(p, "*(int *)", 8) || !strncmp(p, "*(int*)", 7)) {
		p = strchr(p, ')') + 1;
	}
	return sym_eval_u64(sh, p, addr);
}

void sym_watch_remember_type(struct shell *sh, struct breakpoint *b)
{
	(void)sh;
	(void)b;
}

int sym_check_expression(struct shell *sh, const char *expr)
{
	(void)sh;
	(void)expr;
	return 0;
}

void sh_do_displays(struct shell *sh)
{
	(void)sh;
}

int cmd_set_var(struct shell *sh, char *args)
{
	return sh_error(sh, "Assignment needs the expression evaluator: \"%s\".", args ? args : "");
}


int cmd_undisplay(struct shell *sh, char *args)
{
	return sh_error(sh, "No display number %s.", args && *args ? args : "(none given)");
}
