/* Breakpoints and watchpoints: break, tbreak, hbreak, watch, rwatch, awatch,
 * delete, disable, enable, condition, ignore, clear, info breakpoints. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "symbols.h"

void sh_print_new_breakpoint(struct shell *sh, struct breakpoint *b)
{
	const char *what = b->kind == BPK_HBREAK ? "Hardware assisted breakpoint" :
			   b->temporary ? "Temporary breakpoint" : "Breakpoint";
	if (b->kind >= BPK_WATCH) {
		const char *k = b->kind == BPK_WATCH ? "Hardware watchpoint" :
				b->kind == BPK_RWATCH ? "Hardware read watchpoint" :
				"Hardware access (read/write) watchpoint";
		sh_out(sh, "%s %d: %s\n", k, b->id, b->expr);
		return;
	}
	if (b->pending || !b->locs.n) {
		sh_out(sh, "%s %d (%s) pending.\n", what, b->id, b->spec);
		return;
	}
	struct bp_loc *l = &b->locs.v[0];
	if (b->locs.n > 1) {
		if (l->file)
			sh_out(sh, "%s %d at 0x%" PRIx64 ": %s:%d. (%zu locations)\n", what, b->id, l->addr,
			       l->file, l->line, b->locs.n);
		else
			sh_out(sh, "%s %d at 0x%" PRIx64 " (%zu locations)\n", what, b->id, l->addr, b->locs.n);
	} else if (l->file) {
		sh_out(sh, "%s %d at 0x%" PRIx64 ": file %s, line %d.\n", what, b->id, l->addr, l->file, l->line);
	} else {
		sh_out(sh, "%s %d at 0x%" PRIx64 "\n", what, b->id, l->addr);
	}
}

/* Split "LOCATION [thread N] [if COND]". */
static int split_spec(struct shell *sh, char *args, char **spec, char **cond, unsigned *thread)
{
	*cond = NULL;
	*thread = 0;
	char *p = args;
	/* "if" as a separate word starts the condition. */
	for (char *q = p; *q; q++) {
		if ((q == p || isspace((unsigned char)q[-1])) && !strncmp(q, "if", 2) &&
		    (isspace((unsigned char)q[2]) || q[2] == '(' || !q[2])) {
			*cond = str_trim(q + 2);
			*q = 0;
			break;
		}
	}
	for (char *q = p; *q; q++) {
		if ((q == p || isspace((unsigned char)q[-1])) && !strncmp(q, "thread", 6) &&
		    isspace((unsigned char)q[6])) {
			char *end;
			unsigned long n = strtoul(q + 7, &end, 10);
			if (end == q + 7)
				return sh_error(sh, "Junk after thread keyword.");
			if (!inf_thread(sh_inf(sh), (unsigned)n))
				return sh_error(sh, "Unknown thread %lu.", n);
			*thread = (unsigned)n;
			*q = 0;
			break;
		}
	}
	*spec = str_trim(p);
	return 0;
}

static int do_break(struct shell *sh, char *args, enum bp_kind kind, bool temporary)
{
	struct inferior *inf = sh_inf(sh);
	char *spec, *cond;
	unsigned thread;
	if (split_spec(sh, args, &spec, &cond, &thread) < 0)
		return -1;
	char here[40];
	if (!*spec) {
		/* No location: the current pc of the selected frame. */
		if (!inf_alive(inf) || !inf->cur)
			return sh_error(sh, "No default breakpoint location now selected.");
		snprintf(here, sizeof here, "*0x%" PRIx64, task_pc(inf->cur));
		spec = here;
	}
	struct breakpoint *b;
	struct sbuf err = { 0 };
	inf_break(inf, kind, spec, cond, temporary, thread, &b, &err);
	if (b->pending) {
		bool allow = sym_pending_allowed(sh);
		if (!allow) {
			if (err.len)
				sh_error(sh, "%s", sbuf_str(&err));
			else
				sh_error(sh, "Function \"%s\" not defined.", spec);
			sbuf_free(&err);
			inf_delete(inf, b);
			/* gdb gives the number back when it refuses. */
			inf->bps.next_id--;
			return -1;
		}
	} else if (err.len) {
		sh_error(sh, "%s", sbuf_str(&err));
		sbuf_free(&err);
		inf_delete(inf, b);
		return -1;
	}
	sbuf_free(&err);
	sh_print_new_breakpoint(sh, b);
	return 0;
}

int cmd_break(struct shell *sh, char *args) { return do_break(sh, args, BPK_BREAK, false); }
int cmd_tbreak(struct shell *sh, char *args) { return do_break(sh, args, BPK_BREAK, true); }
int cmd_hbreak(struct shell *sh, char *args) { return do_break(sh, args, BPK_HBREAK, false); }

static int do_watch(struct shell *sh, char *args, enum bp_kind kind)
{
	if (!args || !*args)
		return sh_error(sh, "Argument required (expression to compute).");
	if (!sh_need_process(sh))
		return -1;
	char *spec, *cond;
	unsigned thread;
	if (split_spec(sh, args, &spec, &cond, &thread) < 0)
		return -1;
	uint64_t addr, scope;
	unsigned len;
	if (sym_eval_lvalue(sh, spec, &addr, &len, &scope) < 0)
		return -1;
	struct breakpoint *b;
	struct sbuf err = { 0 };
	int e = inf_watch(sh_inf(sh), kind, spec, addr, len, scope, &b, &err);
	if (e < 0) {
		sh_error(sh, "%s", sbuf_str(&err));
		sbuf_free(&err);
		return -1;
	}
	sbuf_free(&err);
	if (cond && *cond)
		b->cond = xstrdup(cond);
	b->thread = thread;
	sym_watch_remember_type(sh, b);
	sh_print_new_breakpoint(sh, b);
	return 0;
}

int cmd_watch(struct shell *sh, char *args) { return do_watch(sh, args, BPK_WATCH); }
int cmd_rwatch(struct shell *sh, char *args) { return do_watch(sh, args, BPK_RWATCH); }
int cmd_awatch(struct shell *sh, char *args) { return do_watch(sh, args, BPK_AWATCH); }

/* Apply fn to each breakpoint number in "1 3 5-7"; no numbers = all user ones. */
static int for_each_number(struct shell *sh, char *args, int (*fn)(struct shell *, struct breakpoint *))
{
	struct inferior *inf = sh_inf(sh);
	int err = 0;
	if (!args || !*args) {
		for (struct breakpoint *b = inf->bps.list, *n; b; b = n) {
			n = b->next;
			if (b->internal == BPI_NONE && fn(sh, b) < 0)
				err = -1;
		}
		return err;
	}
	char *w;
	while ((w = sh_next_word(&args))) {
		char *end;
		long lo = strtol(w, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (*end || lo <= 0 || hi < lo) {
			err = sh_error(sh, "Convenience variable must have integer value.\nBad breakpoint argument: '%s'", w);
			continue;
		}
		for (long i = lo; i <= hi; i++) {
			struct breakpoint *b = bp_find(&inf->bps, (int)i);
			if (!b) {
				err = sh_error(sh, "No breakpoint number %ld.", i);
				continue;
			}
			if (fn(sh, b) < 0)
				err = -1;
		}
	}
	return err;
}

static int del_one(struct shell *sh, struct breakpoint *b) { return inf_delete(sh_inf(sh), b); }
static int dis_one(struct shell *sh, struct breakpoint *b) { return inf_enable(sh_inf(sh), b, false); }
static int en_one(struct shell *sh, struct breakpoint *b) { return inf_enable(sh_inf(sh), b, true); }

int cmd_delete(struct shell *sh, char *args)
{
	char *copy = xstrdup(args ? args : "");
	char *p = copy, *w = sh_next_word(&p);
	int r;
	if (w && (!strcmp(w, "breakpoints") || !strcmp(w, "br")))
		r = for_each_number(sh, p, del_one);
	else if (w && !strcmp(w, "checkpoint"))
		r = sh_delete_checkpoint(sh, p);
	else if (w && !strcmp(w, "display"))
		r = cmd_undisplay(sh, p);
	else
		r = for_each_number(sh, args, del_one);
	free(copy);
	return r;
}

int cmd_disable(struct shell *sh, char *args)
{
	if (args && !strncmp(args, "display", 7))
		return sh_error(sh, "disable display is not supported; use undisplay.");
	if (args && !strncmp(args, "breakpoints", 11))
		args += 11;
	return for_each_number(sh, args, dis_one);
}

int cmd_enable(struct shell *sh, char *args)
{
	if (args && !strncmp(args, "once", 4)) {
		return sh_error(sh, "enable once is not supported; use tbreak.");
	}
	if (args && !strncmp(args, "breakpoints", 11))
		args += 11;
	return for_each_number(sh, args, en_one);
}

int cmd_condition(struct shell *sh, char *args)
{
	char *w = sh_next_word(&args);
	if (!w)
		return sh_error(sh, "Argument required (breakpoint number).");
	struct breakpoint *b = bp_find(&sh_inf(sh)->bps, atoi(w));
	if (!b || b->internal != BPI_NONE)
		return sh_error(sh, "No breakpoint number %s.", w);
	free(b->cond);
	b->cond = NULL;
	if (args && *args) {
		if (sym_check_expression(sh, args) < 0)
			return -1;
		b->cond = xstrdup(args);
	} else {
		sh_out(sh, "Breakpoint %d now unconditional.\n", b->id);
	}
	return 0;
}

int cmd_ignore(struct shell *sh, char *args)
{
	char *w = sh_next_word(&args), *c = sh_next_word(&args);
	if (!w || !c)
		return sh_error(sh, "Argument required (a breakpoint number and a count).");
	struct breakpoint *b = bp_find(&sh_inf(sh)->bps, atoi(w));
	if (!b || b->internal != BPI_NONE)
		return sh_error(sh, "No breakpoint number %s.", w);
	int n = atoi(c);
	b->ignore_count = n > 0 ? (unsigned)n : 0;
	if (n <= 0)
		sh_out(sh, "Will stop next time breakpoint %d is reached.\n", b->id);
	else if (n == 1)
		sh_out(sh, "Will ignore next crossing of breakpoint %d.\n", b->id);
	else
		sh_out(sh, "Will ignore next %d crossings of breakpoint %d.\n", n, b->id);
	return 0;
}

int cmd_clear(struct shell *sh, char *args)
{
	struct inferior *inf = sh_inf(sh);
	uint64_t addr;
	if (!args || !*args) {
		if (!sh_need_process(sh))
			return -1;
		addr = task_pc(inf->cur);
	} else if (sym_resolve_one(sh, args, &addr) < 0) {
		return -1;
	}
	struct sbuf ids = { 0 };
	for (struct breakpoint *b = inf->bps.list, *n; b; b = n) {
		n = b->next;
		if (b->internal != BPI_NONE || b->kind >= BPK_WATCH)
			continue;
		for (size_t i = 0; i < b->locs.n; i++)
			if (b->locs.v[i].addr == addr) {
				sbuf_printf(&ids, " %d", b->id);
				inf_delete(inf, b);
				break;
			}
	}
	if (!ids.len)
		return sh_error(sh, "No breakpoint at %s.", args && *args ? args : "this line");
	sh_out(sh, "Deleted breakpoint%s%s \n", strchr(ids.s + 1, ' ') ? "s" : "", ids.s);
	sbuf_free(&ids);
	return 0;
}

static void print_loc_what(struct shell *sh, const struct bp_loc *l)
{
	if (l->func && l->file)
		sh_out(sh, "in %s at %s:%d", l->func, l->file, l->line);
	else if (l->func)
		sh_out(sh, "<%s>", l->func);
}

int cmd_info_breakpoints(struct shell *sh, char *args)
{
	(void)args;
	struct inferior *inf = sh_inf(sh);
	bool any = false;
	for (struct breakpoint *b = inf->bps.list; b; b = b->next) {
		if (b->internal != BPI_NONE)
			continue;
		if (!any)
			sh_out(sh, "Num     Type           Disp Enb Address            What\n");
		any = true;
		const char *disp = b->temporary ? "del" : "keep";
		sh_out(sh, "%-7d %-14s %-4s %-3s ", b->id, bp_kind_name(b->kind), disp, b->enabled ? "y" : "n");
		if (b->kind >= BPK_WATCH) {
			sh_out(sh, "                   %s\n", b->expr);
		} else if (b->pending || !b->locs.n) {
			sh_out(sh, "%-18s %s\n", "<PENDING>", b->spec);
		} else if (b->locs.n == 1) {
			sh_out(sh, "0x%016" PRIx64 " ", b->locs.v[0].addr);
			print_loc_what(sh, &b->locs.v[0]);
			sh_out(sh, "\n");
		} else {
			sh_out(sh, "%-18s \n", "<MULTIPLE>");
		}
		if (b->cond)
			sh_out(sh, "\tstop only if %s\n", b->cond);
		if (b->thread)
			sh_out(sh, "\tstop only in thread %u\n", b->thread);
		if (b->hits)
			sh_out(sh, "\tbreakpoint already hit %u time%s\n", b->hits, b->hits == 1 ? "" : "s");
		if (b->ignore_count)
			sh_out(sh, "\tWill ignore next %u crossings of breakpoint.\n", b->ignore_count);
		if (b->locs.n > 1 && b->kind < BPK_WATCH)
			for (size_t i = 0; i < b->locs.n; i++) {
				sh_out(sh, "%d.%-5zu %-19s %-3s 0x%016" PRIx64 " ", b->id, i + 1, "",
				       b->enabled ? "y" : "n", b->locs.v[i].addr);
				print_loc_what(sh, &b->locs.v[i]);
				sh_out(sh, "\n");
			}
	}
	if (!any)
		sh_out(sh, "No breakpoints or watchpoints.\n");
	return 0;
}
