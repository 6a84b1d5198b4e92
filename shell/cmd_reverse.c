/* Reverse execution in the shell: reverse-stepi, reverse-nexti, reverse-step,
 * reverse-next, reverse-finish, reverse-continue (rsi, rni, rs, rn, rc), when,
 * info timeline, goto, last, bisect. The engine is replay/reverse.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "frames.h"
#include "replay/reverse.h"
#include "replay/timeline.h"
#include "symbols.h"

static int report(struct shell *sh, int e, struct stop *st)
{
	sh_flush_notices(sh);
	if (st->reason == SR_ERROR)
		return sh_error(sh, "%s", st->err[0] ? st->err : strerror(e < 0 ? -e : EIO));
	sh_print_stop(sh, st);
	return e < 0 ? -1 : 0;
}

static int reverse_n(struct shell *sh, enum sess_cmd cmd, char *args)
{
	unsigned n = 1;
	if (args && *args) {
		uint64_t v;
		if (sh_parse_u64(sh, args, &v) < 0)
			return -1;
		n = v ? (unsigned)v : 1;
	}
	if (!rev_from_exit(&sh->sess) && !sh_need_process(sh))
		return -1;
	struct stop st;
	for (unsigned i = 0; i < n; i++) {
		struct sess_args a = { .dir = DIR_REVERSE, .sig = -1 };
		int e = session_exec(&sh->sess, cmd, &a, &st);
		sh->frame = 0;
		if (i + 1 < n && st.reason == SR_STEPPED) {
			sh_flush_notices(sh);
			continue;
		}
		return report(sh, e, &st);
	}
	return 0;
}

int cmd_reverse_stepi(struct shell *sh, char *args) { return reverse_n(sh, SC_STEPI, args); }
int cmd_reverse_nexti(struct shell *sh, char *args) { return reverse_n(sh, SC_NEXTI, args); }
int cmd_reverse_step(struct shell *sh, char *args) { return reverse_n(sh, SC_STEP, args); }
int cmd_reverse_next(struct shell *sh, char *args) { return reverse_n(sh, SC_NEXT, args); }

int cmd_reverse_continue(struct shell *sh, char *args)
{
	(void)args;
	if (!rev_from_exit(&sh->sess) && !sh_need_process(sh))
		return -1;
	if (!sh->batch)
		sh_out(sh, "Continuing.\n");
	struct stop st;
	struct sess_args a = { .dir = DIR_REVERSE, .sig = -1 };
	int e = session_exec(&sh->sess, SC_CONTINUE, &a, &st);
	sh->frame = 0;
	return report(sh, e, &st);
}

int cmd_reverse_finish(struct shell *sh, char *args)
{
	(void)args;
	if (!sh_need_process(sh))
		return -1;
	struct sess_args a = { .dir = DIR_REVERSE, .sig = -1 };
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	if (!f.ctx.caller || !f.ctx.caller->pc) {
		fctx_close(&f);
		return sh_error(sh, "\"finish\" not meaningful in the outermost frame.");
	}
	if (sh->frame > 0) {
		a.addr = f.ctx.caller->pc;
		a.frame_cfa = f.ctx.frame->cfa;
	}
	if (!sh->batch) {
		struct sbuf where = { 0 };
		sym_frame_line(sh, f.t, sh->frame, true, &where);
		sh_out(sh, "Run back to call of #%u %s\n", sh->frame, sbuf_str(&where));
		sbuf_free(&where);
	}
	fctx_close(&f);
	struct stop st;
	int e = session_exec(&sh->sess, SC_FINISH, &a, &st);
	sh->frame = 0;
	return report(sh, e, &st);
}

/* ---- when, info timeline, goto ---- */

int cmd_when(struct shell *sh, char *args)
{
	(void)args;
	struct rev_where w;
	struct sbuf err = { 0 }, line = { 0 };
	if (rev_when(&sh->sess, &w, &err) < 0) {
		sh_error(sh, "%s", sbuf_str(&err));
		sbuf_free(&err);
		return -1;
	}
	sbuf_free(&err);
	rev_format_where(&w, &line);
	sh_out(sh, "Current position: %s\n", sbuf_str(&line));
	sbuf_free(&line);
	sh_out(sh, "Recorded events: %" PRIu64 "\n", w.events);
	if (w.before_id)
		sh_out(sh, "Snapshot before: %s %d (event %" PRIu64 ") at %s\n",
		       w.before_id > 0 ? "checkpoint" : "timeline snapshot",
		       w.before_id > 0 ? w.before_id : -w.before_id, w.before_event, w.before_desc);
	if (w.after_id)
		sh_out(sh, "Snapshot after: %s %d (event %" PRIu64 ") at %s\n",
		       w.after_id > 0 ? "checkpoint" : "timeline snapshot",
		       w.after_id > 0 ? w.after_id : -w.after_id, w.after_event, w.after_desc);
	return 0;
}

static const char *kind_name(enum tl_kind k)
{
	switch (k) {
	case TLK_START: return "start";
	case TLK_STOP: return "stop";
	case TLK_TICK: return "tick";
	case TLK_REVERSE: return "reverse";
	case TLK_USER: return "user";
	}
	return "?";
}

static int by_order(const void *a, const void *b)
{
	const struct tl_node *x = *(const struct tl_node *const *)a, *y = *(const struct tl_node *const *)b;
	if (x->pos.event != y->pos.event)
		return x->pos.event < y->pos.event ? -1 : 1;
	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

int cmd_info_timeline(struct shell *sh, char *args)
{
	if (cmd_when(sh, args) < 0)
		return -1;
	struct session *s = &sh->sess;
	unsigned br = tl_branch(s);
	struct tl_node *now = tl_now(s);
	VEC(struct tl_node *) v = { 0 };
	for (struct tl_node *n = tl_first(s); n; n = n->next)
		if (n->branch == br && (tl_ckpt(s, n) || n == now))
			vec_push(&v, n);
	qsort(v.v, v.n, sizeof *v.v, by_order);
	sh_out(sh, "  Point  Event       CPU ms  Kind     Snapshot  Position\n");
	for (size_t i = 0; i < v.n; i++) {
		struct tl_node *n = v.v[i];
		struct checkpoint *c = tl_ckpt(s, n);
		char snap[32] = "-";
		if (c)
			snprintf(snap, sizeof snap, c->id > 0 ? "%d" : "t%d", c->id > 0 ? c->id : -c->id);
		struct sbuf id = { 0 };
		pos_format(&n->pos, &id);
		sh_out(sh, "%c %-6u %-10" PRIu64 " %7.1f  %-8s %-9s %s\n", n == now ? '*' : ' ', n->id,
		       n->pos.event, (double)n->cpu / 1e6, kind_name(n->kind), snap, sbuf_str(&id));
		sbuf_free(&id);
	}
	vec_free(&v);
	return 0;
}

int cmd_goto(struct shell *sh, char *args)
{
	char *w = sh_next_word(&args);
	if (!w)
		return sh_error(sh, "Argument required (a position as `when` prints it, or a "
				"checkpoint number or name).");
	if (*w != '#')
		return cmd_restart(sh, w);
	if (!rev_from_exit(&sh->sess) && !sh_need_process(sh))
		return -1;
	struct stop st;
	struct sbuf msg = { 0 };
	int e = rev_goto(&sh->sess, w, &st, &msg);
	sh->frame = 0;
	if (e < 0) {
		sh_flush_notices(sh);
		sh_error(sh, "%s", msg.len ? sbuf_str(&msg) : st.err);
		sbuf_free(&msg);
		return -1;
	}
	sbuf_free(&msg);
	return report(sh, e, &st);
}

/* ---- last, bisect ---- */

/* expr's value in the selected thread's frame 0 formatted; with bytes, a value of
 * its type holding them instead. */
static int format_expr(struct shell *sh, const char *expr, const uint8_t *bytes, size_t len,
		       struct sbuf *out)
{
	struct fctx f;
	if (fctx_open(sh, NULL, 0, &f) < 0)
		return -1;
	struct expr_env env = f.env;
	env.call = NULL;   /* no inferior calls: the program must not change */
	struct value *v = NULL;
	char *err = NULL;
	int r = expr_eval(&env, expr, &v, &err);
	if (r == 0 && bytes) {
		struct value *c = value_new(v->type);
		memcpy(c->bytes, bytes, MIN(len, c->len));
		c->lazy = false;
		value_free(v);
		v = c;
	}
	struct fmt_opts o;
	fmt_opts_default(&o);
	if (r == 0)
		r = fmt_value(&f.ctx, v, &o, out, &err);
	if (r < 0)
		sbuf_printf(out, "<%s>", err ? err : "unavailable");
	free(err);
	value_free(v);
	fctx_close(&f);
	return 0;
}

int cmd_last(struct shell *sh, char *args)
{
	if (!args || !*args)
		return sh_error(sh, "Argument required (an expression).");
	if (!rev_from_exit(&sh->sess) && !sh_need_process(sh))
		return -1;
	char *expr = str_trim(args);
	struct rev_change ch;
	struct stop st;
	struct sbuf msg = { 0 };
	int e = rev_last(&sh->sess, expr, &ch, &st, &msg);
	sh->frame = 0;
	sh_flush_notices(sh);
	if (e < 0) {
		sh_error(sh, "%s", msg.len ? sbuf_str(&msg) : st.err);
		sbuf_free(&msg);
		return -1;
	}
	sbuf_free(&msg);
	if (!ch.found) {
		sh_out(sh, "%s has not changed since the start of the recording.\n", expr);
		return 0;
	}
	struct sbuf o = { 0 }, n = { 0 };
	format_expr(sh, expr, ch.old_val, ch.len, &o);
	format_expr(sh, expr, ch.new_val, ch.len, &n);
	sh_out(sh, "%s was last changed by this instruction:\nOld value = %s\nNew value = %s\n", expr,
	       sbuf_str(&o), sbuf_str(&n));
	sbuf_free(&o);
	sbuf_free(&n);
	sh_print_location(sh, st.task, SP_SRC_AND_LOC, true);
	return cmd_backtrace(sh, (char *)"");
}

int cmd_bisect(struct shell *sh, char *args)
{
	if (!args || !*args)
		return sh_error(sh, "Argument required (a condition).");
	if (!rev_from_exit(&sh->sess) && !sh_need_process(sh))
		return -1;
	char *cond = str_trim(args);
	struct stop st;
	struct sbuf msg = { 0 };
	int e = rev_bisect(&sh->sess, cond, &st, &msg);
	sh->frame = 0;
	sh_flush_notices(sh);
	if (e < 0) {
		sh_error(sh, "%s", msg.len ? sbuf_str(&msg) : st.err);
		sbuf_free(&msg);
		return -1;
	}
	sbuf_free(&msg);
	if (st.reason == SR_HISTORY_BEGIN)
		sh_out(sh, "%s holds from the start of the recording.\n", cond);
	else
		sh_out(sh, "%s became true here:\n", cond);
	sh_print_location(sh, st.task, SP_SRC_AND_LOC, true);
	return cmd_backtrace(sh, (char *)"");
}

int cmd_checksum(struct shell *sh, char *args)
{
	(void)args;
	uint64_t mem, regs;
	if (rev_checksum(&sh->sess, &mem, &regs) < 0)
		return sh_error(sh, "The program is not being run.");
	sh_out(sh, "memory %016" PRIx64 " registers %016" PRIx64 "\n", mem, regs);
	return 0;
}
