/* The stack: backtrace, frame, up, down, info frame, info locals, info args. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "frames.h"
#include "symbols.h"

static void frame_line(struct shell *sh, struct fctx *f, unsigned level, struct sbuf *out)
{
	struct sym_ctx c = f->ctx;
	c.frame = &f->frames.v[level];
	c.caller = level + 1 < f->frames.n ? &f->frames.v[level + 1] : NULL;
	fmt_frame_line(&c, c.frame, true, out);
}

int cmd_backtrace(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	bool full = false;
	long limit = 0;
	char *w;
	while ((w = sh_next_word(&args))) {
		if (!strcmp(w, "full") || !strcmp(w, "-full"))
			full = true;
		else if (!strcmp(w, "-past-main"))
			;
		else {
			char *end;
			limit = strtol(w, &end, 10);
			if (*end || !limit)
				return sh_error(sh, "No symbol \"%s\" in current context.", w);
		}
	}
	struct inferior *inf = sh_inf(sh);
	struct fctx f;
	if (fctx_open(sh, NULL, 0, &f) < 0)
		return -1;
	unwind_list_free(&f.frames);
	memset(&f.frames, 0, sizeof f.frames);
	if (unwind_backtrace(f.ctx.st, &f.acc, 0, 0, &f.frames) < 0 || !f.frames.n) {
		fctx_close(&f);
		return sh_error(sh, "Cannot unwind thread %u.", inf->cur->num);
	}
	size_t first = 0, last = f.frames.n;
	if (limit > 0 && (size_t)limit < f.frames.n)
		last = (size_t)limit;
	if (limit < 0 && (size_t)-limit < f.frames.n)
		first = f.frames.n - (size_t)-limit;
	for (size_t i = first; i < last; i++) {
		struct sbuf line = { 0 };
		frame_line(sh, &f, (unsigned)i, &line);
		sh_out(sh, "%s\n", sbuf_str(&line));
		sbuf_free(&line);
		if (full) {
			struct sym_ctx c = f.ctx;
			c.frame = &f.frames.v[i];
			c.caller = i + 1 < f.frames.n ? &f.frames.v[i + 1] : NULL;
			struct sbuf vars = { 0 };
			fmt_frame_vars(&c, VALUE_LOCALS, &vars);
			for (char *p = vars.s, *nl; p && *p; p = nl + 1) {
				nl = strchr(p, '\n');
				if (!nl)
					nl = p + strlen(p) - 1;
				sh_out(sh, "        %.*s\n", (int)(nl - p + (*nl != '\n')), p);
				if (!nl[1])
					break;
			}
			sbuf_free(&vars);
		}
	}
	if (last < f.frames.n)
		sh_out(sh, "(More stack frames follow...)\n");
	fctx_close(&f);
	return 0;
}

static int select_frame(struct shell *sh, long level, bool print)
{
	if (!sh_need_process(sh))
		return -1;
	struct fctx f;
	if (level < 0)
		return sh_error(sh, "Bottom (innermost) frame selected; you cannot go down.");
	if (fctx_open(sh, NULL, (unsigned)level, &f) < 0)
		return -1;
	sh->frame = (unsigned)level;
	if (print) {
		struct sbuf line = { 0 }, src = { 0 };
		frame_line(sh, &f, (unsigned)level, &line);
		frame_source_line(sh, &f, (unsigned)level, &src);
		sh_out(sh, "%s\n", sbuf_str(&line));
		if (src.len)
			sh_out(sh, "%s\n", sbuf_str(&src));
		sbuf_free(&line);
		sbuf_free(&src);
	}
	fctx_close(&f);
	return 0;
}

int cmd_frame(struct shell *sh, char *args)
{
	long level = sh->frame;
	if (args && *args) {
		char *end;
		if (!strncmp(args, "level ", 6))
			args += 6;
		level = strtol(args, &end, 10);
		if (*str_trim(end))
			return sh_error(sh, "Invalid frame specification: %s", args);
	}
	return select_frame(sh, level, true);
}

static long count_arg(char *args)
{
	return args && *args ? strtol(args, NULL, 10) : 1;
}

int cmd_up(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	long n = count_arg(args);
	struct fctx f;
	if (fctx_open(sh, NULL, 0, &f) < 0)
		return -1;
	unwind_list_free(&f.frames);
	memset(&f.frames, 0, sizeof f.frames);
	unwind_backtrace(f.ctx.st, &f.acc, 0, 0, &f.frames);
	long depth = (long)f.frames.n;
	fctx_close(&f);
	long target = (long)sh->frame + n;
	if ((long)sh->frame + 1 >= depth && n > 0)
		return sh_error(sh, "Initial frame selected; you cannot go up.");
	if (target >= depth)
		target = depth - 1;
	return select_frame(sh, target, true);
}

int cmd_down(struct shell *sh, char *args)
{
	long n = count_arg(args);
	if (sh->frame == 0 && n > 0)
		return sh_error(sh, "Bottom (innermost) frame selected; you cannot go down.");
	long target = (long)sh->frame - n;
	return select_frame(sh, target < 0 ? 0 : target, true);
}

static int frame_vars(struct shell *sh, unsigned what)
{
	if (!sh_need_process(sh))
		return sh_error(sh, "No frame selected.");
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	struct sbuf out = { 0 };
	fmt_frame_vars(&f.ctx, what, &out);
	sh_out(sh, "%s", sbuf_str(&out));
	if (out.len && out.s[out.len - 1] != '\n')
		sh_out(sh, "\n");
	sbuf_free(&out);
	fctx_close(&f);
	return 0;
}

int cmd_info_locals(struct shell *sh, char *args) { (void)args; return frame_vars(sh, VALUE_LOCALS); }
int cmd_info_args(struct shell *sh, char *args) { (void)args; return frame_vars(sh, VALUE_ARGS); }

int cmd_info_frame(struct shell *sh, char *args)
{
	(void)args;
	if (!sh_need_process(sh))
		return sh_error(sh, "No stack.");
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	const struct unwind_frame *fr = f.ctx.frame;
	struct sym_addr_info ai;
	bool have = symtab_describe(f.ctx.st, fr->lookup_pc, &ai) == 0 && ai.func;
	sh_out(sh, "Stack level %u, frame at 0x%" PRIx64 ":\n", sh->frame, fr->cfa);
	sh_out(sh, " rip = 0x%" PRIx64, fr->pc);
	if (have) {
		sh_out(sh, " in %s", ai.func);
		if (ai.file)
			sh_out(sh, " (%s:%d)", ai.file, ai.line);
	}
	if (f.ctx.caller)
		sh_out(sh, "; saved rip = 0x%" PRIx64, f.ctx.caller->pc);
	sh_out(sh, "\n");
	if (sh->frame > 0) {
		struct fctx g;
		if (fctx_open(sh, NULL, sh->frame - 1, &g) == 0) {
			sh_out(sh, " caller of frame at 0x%" PRIx64 "\n", g.ctx.frame->cfa);
			fctx_close(&g);
		}
	}
	/* gdb shows the frame that called this one unless this is main (past-main off). */
	bool is_main = have && !strcmp(ai.func, "main");
	if (f.ctx.caller && f.ctx.caller->cfa && !is_main)
		sh_out(sh, " called by frame at 0x%" PRIx64 "\n", f.ctx.caller->cfa);
	if (have && ai.file) {
		const char *dot = strrchr(ai.file, '.');
		bool cxx = dot && (!strcmp(dot, ".cc") || !strcmp(dot, ".cpp") || !strcmp(dot, ".cxx") ||
				   !strcmp(dot, ".C"));
		sh_out(sh, " source language %s.\n", cxx ? "c++" : "c");
	}
	/* Arguments and locals hang off the frame base (rbp) in frame-pointer code. */
	uint64_t rbp = 0, saved_rbp = 0;
	bool fp = fr->cfa && unwind_reg(fr, UNWIND_REG_RBP, &rbp) == 0 && rbp == fr->cfa - 16 &&
		  value_read_mem(&f.ctx, fr->cfa - 16, &saved_rbp, 8) == 0;
	if (fp) {
		struct sbuf a = { 0 };
		struct value_var_list vl = { 0 };
		if (value_frame_vars(&f.ctx, VALUE_ARGS, &vl) == 0)
			for (size_t i = 0; i < vl.n; i++) {
				struct sbuf v = { 0 };
				struct fmt_opts o;
				char *err = NULL;
				fmt_opts_default(&o);
				o.top = false;
				fmt_value(&f.ctx, vl.v[i].value, &o, &v, &err);
				sbuf_printf(&a, "%s%s=%s", i ? ", " : "", vl.v[i].name, sbuf_str(&v));
				sbuf_free(&v);
				free(err);
			}
		value_var_list_free(&vl);
		sh_out(sh, " Arglist at 0x%" PRIx64 ", args: %s\n", rbp, sbuf_str(&a));
		sh_out(sh, " Locals at 0x%" PRIx64 ", Previous frame's sp is 0x%" PRIx64 "\n", rbp, fr->cfa);
		sbuf_free(&a);
	} else {
		sh_out(sh, " Previous frame's sp is 0x%" PRIx64 "\n", fr->cfa);
	}
	if (fr->cfa) {
		if (fp)
			sh_out(sh, " Saved registers:\n  rbp at 0x%" PRIx64 ", rip at 0x%" PRIx64 "\n",
			       fr->cfa - 16, fr->cfa - 8);
		else
			sh_out(sh, " Saved registers:\n  rip at 0x%" PRIx64 "\n", fr->cfa - 8);
	}
	fctx_close(&f);
	return 0;
}
