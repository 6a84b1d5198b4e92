/* Values: print, output, call, set var, ptype, whatis, display, and the value
 * helpers other commands use (addresses for x and until, watch targets, finish's
 * returned value). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "core/infsym.h"
#include "frames.h"
#include "symbols.h"

/* Split "/x expr" into a format and the expression. */
static int split_format(struct shell *sh, char *args, struct fmt_opts *o, char **expr)
{
	fmt_opts_default(o);
	char *p = args ? args : (char *)"";
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '/') {
		char *end = p + 1;
		while (*end && !isspace((unsigned char)*end))
			end++;
		char save = *end;
		*end = 0;
		char *err = NULL;
		int e = fmt_parse_format(p + 1, o, &err);
		*end = save;
		if (e < 0) {
			sh_error(sh, "%s", err ? err : "Bad format.");
			free(err);
			return -1;
		}
		p = end;
	}
	*expr = str_trim(p);
	return 0;
}

/* Evaluate text in the selected frame; prints the error itself. */
static struct value *eval_in_frame(struct shell *sh, struct fctx *f, const char *text)
{
	struct value *v = NULL;
	char *err = NULL;
	if (expr_eval(&f->env, text, &v, &err) < 0) {
		sh_error(sh, "%s", err ? err : "Cannot evaluate the expression.");
		free(err);
		return NULL;
	}
	return v;
}

static int print_value(struct shell *sh, struct fctx *f, struct value *v, const struct fmt_opts *o,
		       bool history, bool newline)
{
	struct sbuf out = { 0 };
	char *err = NULL;
	if (fmt_value(&f->ctx, v, o, &out, &err) < 0) {
		sh_error(sh, "%s", err ? err : "Cannot read the value.");
		free(err);
		sbuf_free(&out);
		return -1;
	}
	if (history) {
		int n = expr_history_add(sh_history(sh), &f->ctx, v);
		sh_out(sh, "$%d = ", n);
	}
	sh_out(sh, "%s%s", sbuf_str(&out), newline ? "\n" : "");
	sbuf_free(&out);
	return 0;
}

static int do_print(struct shell *sh, char *args, bool history, bool newline, bool is_call)
{
	struct fmt_opts o;
	char *text;
	if (split_format(sh, args, &o, &text) < 0)
		return -1;
	if (!*text) {
		if (is_call)
			return sh_error(sh, "The history is empty.");
		text = (char *)"$";
	}
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	int r = -1;
	struct value *v = eval_in_frame(sh, &f, text);
	if (v) {
		if (is_call && type_strip(v->type)->kind == TY_VOID)
			r = 0;
		else
			r = print_value(sh, &f, v, &o, history, newline);
		value_free(v);
	}
	fctx_close(&f);
	sh_flush_notices(sh);
	return r;
}

int cmd_print(struct shell *sh, char *args) { return do_print(sh, args, true, true, false); }
int cmd_output(struct shell *sh, char *args) { return do_print(sh, args, false, false, false); }
int cmd_call(struct shell *sh, char *args) { return do_print(sh, args, true, true, true); }

int cmd_set_var(struct shell *sh, char *args)
{
	if (!args || !*args)
		return sh_error(sh, "Argument required (expression to compute).");
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	struct value *v = eval_in_frame(sh, &f, args);
	fctx_close(&f);
	if (!v)
		return -1;
	value_free(v);
	return 0;
}

static int type_cmd(struct shell *sh, char *args, bool expand)
{
	char *text = str_trim(args ? args : (char *)"");
	if (!*text)
		return sh_error(sh, "Argument required (one or more choices).");
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	struct type *t = NULL;
	char *err = NULL;
	int e = expr_parse_type(&f.env, text, &t, &err);
	struct value *v = NULL;
	if (e == -ENOENT) {
		f.env.no_side_effects = true;
		v = eval_in_frame(sh, &f, text);
		if (!v) {
			fctx_close(&f);
			return -1;
		}
		t = v->type;
	} else if (e < 0) {
		sh_error(sh, "%s", err ? err : "Bad type.");
		free(err);
		fctx_close(&f);
		return -1;
	}
	struct sbuf out = { 0 };
	if (expand)
		fmt_ptype(&f.ctx, t, &out);
	else
		fmt_whatis(t, &out);
	sh_out(sh, "type = %s\n", sbuf_str(&out));
	sbuf_free(&out);
	value_free(v);
	fctx_close(&f);
	return 0;
}

int cmd_ptype(struct shell *sh, char *args) { return type_cmd(sh, args, true); }
int cmd_whatis(struct shell *sh, char *args) { return type_cmd(sh, args, false); }

/* ---- helpers for other commands ---- */

int sh_parse_u64(struct shell *sh, const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (!errno && end != text && !*str_trim(end)) {
		*out = v;
		return 0;
	}
	return sym_eval_u64(sh, text, out);
}

int sym_eval_u64(struct shell *sh, const char *expr, uint64_t *out)
{
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	struct value *v = eval_in_frame(sh, &f, expr);
	int r = -1;
	if (v) {
		struct type *t = type_strip(v->type);
		if ((t->kind == TY_FUNC || t->kind == TY_ARRAY) && v->lval == LV_MEM) {
			*out = v->addr;
			r = 0;
		} else {
			int64_t n;
			char *err = NULL;
			if (value_as_long(&f.ctx, v, &n, &err) == 0) {
				*out = (uint64_t)n;
				r = 0;
			} else {
				sh_error(sh, "%s", err ? err : "Invalid number.");
				free(err);
			}
		}
		value_free(v);
	}
	fctx_close(&f);
	return r;
}

int sym_check_expression(struct shell *sh, const char *text)
{
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	struct expr_node *n = NULL;
	char *err = NULL;
	int e = expr_parse(&f.env, text, &n, &err);
	if (e < 0) {
		sh_error(sh, "%s", err ? err : "Bad expression.");
		free(err);
	}
	expr_node_free(n);
	fctx_close(&f);
	return e < 0 ? -1 : 0;
}

/* Watched expressions' types, so watch values print typed. */
static struct { int id; struct type *type; struct symtab *st; } watch_types[64];
static struct type *last_lvalue_type;
static struct symtab *last_lvalue_st;

int sym_eval_lvalue(struct shell *sh, const char *text, uint64_t *addr, unsigned *len,
		    uint64_t *scope_cfa)
{
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	struct value *v = eval_in_frame(sh, &f, text);
	int r = -1;
	if (!v)
		goto out;
	if (v->lval != LV_MEM) {
		sh_error(sh, "Cannot watch constant value `%s'.", text);
		goto out;
	}
	uint64_t size = type_size(v->type);
	if (!size || size > 32) {
		sh_error(sh, "Cannot watch %s: %" PRIu64 " bytes; hardware watchpoints cover up to 32.",
			 text, size);
		goto out;
	}
	*addr = v->addr;
	*len = (unsigned)size;
	*scope_cfa = 0;
	/* A watch on something local to the frame ends when the frame does. */
	struct expr_env genv = f.env;
	genv.ctx.frame = NULL;
	genv.ctx.caller = NULL;
	struct value *g = NULL;
	char *err = NULL;
	if (expr_eval(&genv, text, &g, &err) < 0 && f.ctx.frame)
		*scope_cfa = f.ctx.frame->cfa;
	free(err);
	value_free(g);
	last_lvalue_type = v->type;
	last_lvalue_st = f.ctx.st;
	r = 0;
out:
	value_free(v);
	fctx_close(&f);
	return r;
}

void sym_watch_remember_type(struct shell *sh, struct breakpoint *b)
{
	(void)sh;
	size_t slot = ARRAY_SIZE(watch_types);
	for (size_t i = 0; i < ARRAY_SIZE(watch_types); i++)
		if (!watch_types[i].type || !bp_find(&sh_inf(sh)->bps, watch_types[i].id)) {
			slot = i;
			break;
		}
	if (slot == ARRAY_SIZE(watch_types) || !last_lvalue_type)
		return;
	watch_types[slot].id = b->id;
	watch_types[slot].type = last_lvalue_type;
	watch_types[slot].st = last_lvalue_st;
}

void sym_format_watch(struct shell *sh, struct breakpoint *b, const uint8_t *bytes, bool valid,
		      struct sbuf *out)
{
	if (!valid) {
		sbuf_puts(out, "<unreadable>");
		return;
	}
	struct type *t = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(watch_types); i++)
		if (watch_types[i].type && watch_types[i].id == b->id)
			t = watch_types[i].type;
	struct fctx f;
	if (t && fctx_open(sh, NULL, 0, &f) == 0) {
		struct value *v = value_new(t);
		memcpy(v->bytes, bytes, v->len < b->wlen ? v->len : b->wlen);
		v->lazy = false;
		struct fmt_opts o;
		fmt_opts_default(&o);
		char *err = NULL;
		if (fmt_value(&f.ctx, v, &o, out, &err) < 0)
			sbuf_printf(out, "<%s>", err ? err : "unreadable");
		free(err);
		value_free(v);
		fctx_close(&f);
		return;
	}
	for (unsigned i = 0; i < b->wlen; i++)
		sbuf_printf(out, "%s0x%02x", i ? " " : "", bytes[i]);
}

void sym_print_return_value(struct shell *sh, struct task *t, uint64_t func_addr)
{
	struct fctx f;
	if (fctx_open(sh, t, 0, &f) < 0)
		return;
	/* The function that returned: a frame at its entry names it and its type. */
	struct unwind_frame fn = { .pc = func_addr, .lookup_pc = func_addr };
	struct sym_ctx fc = f.ctx;
	fc.frame = &fn;
	fc.caller = NULL;
	const char *name;
	struct type *ret = NULL;
	if (value_frame_function(&fc, &name, &ret) == 0 && ret && type_strip(ret)->kind != TY_VOID) {
		char *err = NULL;
		struct value *v = fmt_return_value(&f.ctx, ret, &err);
		if (v) {
			sh_out(sh, "Value returned is ");
			struct fmt_opts o;
			fmt_opts_default(&o);
			print_value(sh, &f, v, &o, true, true);
			value_free(v);
		}
		free(err);
	}
	fctx_close(&f);
}

/* ---- display ---- */

struct display {
	int id;
	char *expr;
	char fmt;
};
static VEC(struct display) displays;
static int next_display = 1;

static void show_display(struct shell *sh, const struct display *d)
{
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return;
	struct value *v = NULL;
	char *err = NULL;
	if (expr_eval(&f.env, d->expr, &v, &err) < 0) {
		sh_out(sh, "%d: %s = <error: %s>\n", d->id, d->expr, err ? err : "?");
		free(err);
	} else {
		struct fmt_opts o;
		fmt_opts_default(&o);
		o.format = d->fmt;
		if (d->fmt)
			sh_out(sh, "%d: /%c %s = ", d->id, d->fmt, d->expr);
		else
			sh_out(sh, "%d: %s = ", d->id, d->expr);
		print_value(sh, &f, v, &o, false, true);
		value_free(v);
	}
	fctx_close(&f);
}

void sh_do_displays(struct shell *sh)
{
	if (!inf_alive(sh_inf(sh)))
		return;
	for (size_t i = 0; i < displays.n; i++)
		show_display(sh, &displays.v[i]);
}

int cmd_display(struct shell *sh, char *args)
{
	if (!args || !*args) {
		sh_do_displays(sh);
		return 0;
	}
	struct fmt_opts o;
	char *text;
	if (split_format(sh, args, &o, &text) < 0)
		return -1;
	if (sym_check_expression(sh, text) < 0)
		return -1;
	struct display d = { next_display++, xstrdup(text), o.format };
	vec_push(&displays, d);
	if (inf_alive(sh_inf(sh)))
		show_display(sh, &displays.v[displays.n - 1]);
	return 0;
}

int cmd_undisplay(struct shell *sh, char *args)
{
	char *w;
	int err = 0;
	if (!args || !*args) {
		for (size_t i = 0; i < displays.n; i++)
			free(displays.v[i].expr);
		displays.n = 0;
		return 0;
	}
	while ((w = sh_next_word(&args))) {
		int id = atoi(w);
		size_t i;
		for (i = 0; i < displays.n && displays.v[i].id != id; i++)
			;
		if (i == displays.n) {
			err = sh_error(sh, "No display number %s.", w);
			continue;
		}
		free(displays.v[i].expr);
		memmove(displays.v + i, displays.v + i + 1, (displays.n - i - 1) * sizeof *displays.v);
		displays.n--;
	}
	return err;
}

int cmd_info_display(struct shell *sh, char *args)
{
	(void)args;
	if (!displays.n) {
		sh_out(sh, "There are no auto-display expressions now.\n");
		return 0;
	}
	sh_out(sh, "Auto-display expressions now in effect:\nNum Enb Expression\n");
	for (size_t i = 0; i < displays.n; i++) {
		if (displays.v[i].fmt)
			sh_out(sh, "%d:   y  /%c %s\n", displays.v[i].id, displays.v[i].fmt, displays.v[i].expr);
		else
			sh_out(sh, "%d:   y  %s\n", displays.v[i].id, displays.v[i].expr);
	}
	return 0;
}
