/* reverse: the reverse commands' entry points (reverse.h): dispatch, when, goto. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/disasm.h"
#include "core/log.h"
#include "replay/record_int.h"
#include "replay/reverse_int.h"

int rv_reverse_continue(struct rv *r, struct stop *st);
int rv_reverse_line(struct rv *r, enum sess_cmd cmd, const struct sess_args *a, struct stop *st);

/* The function entry and CFA of the command's thread where it stands. */
static void frame_here(struct rv *r, uint64_t *func, uint64_t *cfa)
{
	struct task *t = rv_task(r, r->tid);
	const struct inf_symops *so = r->inf->sym;
	uint64_t hi;
	*func = *cfa = 0;
	if (t && so && so->func_range)
		so->func_range(r->inf, t, task_pc(t), func, &hi);
	*cfa = rv_cfa(r, t);
}

static bool same_point(const struct pos_point *a, const struct pos_point *b)
{
	return a->event == b->event && a->tid == b->tid && a->pos.pc == b->pos.pc &&
	       a->pos.k == b->pos.k && a->pos.reghash == b->pos.reghash;
}

/* reverse-nexti went back over a call at prev: the last stop of the user's
 * breakpoints and watchpoints inside it (between prev and P), as gdb stops there.
 * Returns 1 with the program at that stop and *st, 0 if none (the program is then
 * anywhere), or -errno with st. */
static int stop_inside_call(struct rv *r, const struct pos_point *prev, struct tl_node *from,
			    struct stop *st)
{
	struct tl_node *a = from && tl_ckpt(r->s, from) ? from : tl_anchor_for(r->s, prev);
	if (!a)
		return 0;
	struct rv_scan sc;
	rv_scan_init(&sc);
	rv_site_add(&sc, prev->pos.pc, SITE_CALL);
	rv_user(r, true);
	int e = rv_scan_run(r, a, &r->origin->pos, &sc, st);
	rv_user(r, false);
	struct rv_hit u = { 0 };
	bool found = false, after = false;
	for (size_t i = 0; e == 0 && i < sc.hits.n; i++) {
		const struct rv_hit *h = &sc.hits.v[i];
		if (h->tag != RV_TAG_USER && h->pc == prev->pos.pc)
			after = same_point(&h->pos, prev);
		else if (h->tag == RV_TAG_USER && after && !same_point(&h->pos, prev)) {
			u = *h;
			found = true;
		}
	}
	rv_scan_free(&sc);
	if (e < 0 || !found)
		return e < 0 ? e : 0;
	struct tl_node *x = rv_goto_pos(r, &u.pos, u.anchor, st);
	if (!x)
		return -EIO;
	if (u.user.reason == SR_WATCHPOINT)
		return rv_land_write(r, x, &u.user, st) < 0 ? -EIO : 1;
	*st = u.user;
	st->print = SP_SRC_AND_LOC;
	struct task *t = rv_task(r, u.pos.tid);
	stop_fill_thread(st, t ? t : r->inf->cur);
	return 1;
}

static int reverse_stepi(struct rv *r, bool over, struct stop *st)
{
	uint64_t func0, cfa0;
	frame_here(r, &func0, &cfa0);
	struct pos_point prev;
	struct tl_node *from;
	int e = rv_prev_of(r, r->origin, over, &prev, &from, st);
	if (e < 0)
		return e == -ENOENT ? 0 : e;
	struct task *t = rv_task(r, prev.tid);
	struct insn in;
	if (over && t && rv_decode(t, prev.pos.pc, &in) == 0 && in.kind == IK_CALL) {
		e = stop_inside_call(r, &prev, from, st);
		if (e != 0)
			return e < 0 ? e : 0;
	}
	if (!rv_goto_pos(r, &prev, from, st))
		return -EIO;
	rv_stop_here(r, SR_STEPPED, st);
	st->print = rv_print_mode(r, func0, cfa0);
	return 0;
}

int rev_exec(struct session *s, enum sess_cmd cmd, const struct sess_args *a, struct stop *st)
{
	struct rv r;
	memset(st, 0, sizeof *st);
	int e = rv_begin(&r, s, st);
	if (e < 0)
		return e;
	switch (cmd) {
	case SC_CONTINUE:
		e = rv_reverse_continue(&r, st);
		break;
	case SC_STEPI:
	case SC_NEXTI:
		e = reverse_stepi(&r, cmd == SC_NEXTI, st);
		break;
	case SC_STEP:
	case SC_NEXT:
	case SC_FINISH:
		e = rv_reverse_line(&r, cmd, a, st);
		break;
	default:
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "Target rewind does not support this command in reverse.");
		e = -ENOTSUP;
		break;
	}
	if (e < 0 && st->reason == SR_ERROR && r.restores && r.origin) {
		/* Leave the program where the command found it. */
		struct stop back;
		char why[sizeof st->err];
		snprintf(why, sizeof why, "%s", st->err);
		if (!rv_goto_pos(&r, &r.origin->pos, r.origin, &back))
			pr_warn(LM_REPLAY, "reverse: could not return to the starting point: %s", back.err);
		memset(st, 0, sizeof *st);
		st->reason = SR_ERROR;
		snprintf(st->err, sizeof st->err, "%s", why);
	}
	rv_end(&r, st);
	return e;
}

/* ---- when ---- */

static bool descends(const struct tl_node *m, const struct tl_node *n)
{
	for (unsigned g = 0; m && g < 1000000; m = m->pred, g++)
		if (m == n)
			return true;
	return false;
}

static void ckpt_desc(struct session *s, const struct tl_node *n, int *id, uint64_t *ev, char *d,
		      size_t dl)
{
	struct checkpoint *c = tl_ckpt(s, n);
	*id = c ? c->id : 0;
	*ev = n->pos.event;
	snprintf(d, dl, "%s", c && c->where ? c->where : "");
}

int rev_when(struct session *s, struct rev_where *w, struct sbuf *err)
{
	memset(w, 0, sizeof *w);
	if (!tl_available(s, err))
		return -ENOTSUP;
	struct tl_node *n = tl_now(s);
	if (!n) {
		sbuf_puts(err, "Cannot take the program's position here.");
		return -ESRCH;
	}
	w->pos = n->pos;
	w->node = n->id;
	w->events = rec_log_len(s->rec);
	struct task *t = tl_running_task(s);
	w->pc = t ? task_pc(t) : 0;
	struct sbuf d = { 0 };
	session_describe_pc(s, t, &d);
	snprintf(w->desc, sizeof w->desc, "%s", sbuf_str(&d));
	sbuf_free(&d);
	for (struct tl_node *m = n->pred; m; m = m->pred)
		if (tl_ckpt(s, m)) {
			ckpt_desc(s, m, &w->before_id, &w->before_event, w->before_desc,
				  sizeof w->before_desc);
			break;
		}
	struct tl_node *after = NULL;
	unsigned br = tl_branch(s);
	for (struct tl_node *m = tl_first(s); m; m = m->next) {
		if (m == n || m->branch != br || !tl_ckpt(s, m))
			continue;
		if (!(m->pos.event > n->pos.event || descends(m, n)))
			continue;
		if (!after || m->pos.event < after->pos.event ||
		    (m->pos.event == after->pos.event && m->cpu < after->cpu))
			after = m;
	}
	if (after)
		ckpt_desc(s, after, &w->after_id, &w->after_event, w->after_desc, sizeof w->after_desc);
	return 0;
}

void rev_format_where(const struct rev_where *w, struct sbuf *out)
{
	struct sbuf id = { 0 };
	pos_format(&w->pos, &id);
	sbuf_printf(out, "event %" PRIu64 ", %#" PRIx64 " in %s [%s]", w->pos.event, w->pc, w->desc,
		    sbuf_str(&id));
	sbuf_free(&id);
}

/* ---- goto ---- */

int rev_to_exit(struct session *s, struct stop *st)
{
	struct rv r;
	memset(st, 0, sizeof *st);
	int e = rv_begin(&r, s, st);   /* brings it back */
	if (e < 0)
		return e;
	rv_stop_here(&r, SR_HISTORY_END, st);
	rv_end(&r, st);
	return 0;
}

int rev_goto(struct session *s, const char *text, struct stop *st, struct sbuf *msg)
{
	memset(st, 0, sizeof *st);
	while (*text == ' ')
		text++;
	if (*text != '#')
		return session_restore(s, text, st, msg);
	struct pos_point p;
	if (pos_parse(text, &p) < 0) {
		sbuf_printf(msg, "\"%s\" is not a position (as `when` prints them: #EVENT:TID:PC:K:HASH).",
			    text);
		return -EINVAL;
	}
	struct rv r;
	int e = rv_begin(&r, s, st);
	if (e < 0) {
		sbuf_puts(msg, st->err);
		return e;
	}
	if (p.event > rec_log_len(s->rec)) {
		snprintf(st->err, sizeof st->err, "Position #%" PRIu64 " is beyond the recording (%" PRIu64
			 " events).", p.event, rec_log_len(s->rec));
		st->reason = SR_ERROR;
		e = -ERANGE;
	} else if (!rv_goto_pos(&r, &p, NULL, st)) {
		e = -EIO;
	} else {
		rv_stop_here(&r, SR_LOCATION, st);
		struct task *t = rv_task(&r, p.tid);
		stop_fill_thread(st, t ? t : s->inf.cur);
	}
	if (e < 0) {
		sbuf_puts(msg, st->err);
		if (r.restores) {
			struct stop back;
			rv_goto_pos(&r, &r.origin->pos, r.origin, &back);
		}
	}
	rv_end(&r, st);
	return e;
}

/* ---- checksums ---- */

int rev_checksum(struct session *s, uint64_t *mem, uint64_t *regs)
{
	struct inferior *inf = &s->inf;
	if (!inf_alive(inf) || !inf->main)
		return -ESRCH;
	*mem = rec_mem_sum(inf->main);
	uint64_t h = 0xcbf29ce484222325ull;
	for (struct task *t = inf->main->tasks; t; t = t->next) {
		if (t->state != TS_STOPPED)
			continue;
		uint64_t x = pos_reghash(t);
		for (int i = 0; i < 8; i++)
			h = (h ^ ((x >> (8 * i)) & 0xff)) * 0x100000001b3ull;
	}
	*regs = h;
	return 0;
}
