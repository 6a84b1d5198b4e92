/* gdbserver_monitor: gdb's `monitor CMD` (qRcmd): checkpoints through the session's
 * checkpoint API, in the shell's words, and the timeline commands of a recording
 * (when, goto POSITION, last EXPR: replay/reverse.h). Output goes to gdb's console as
 * O packets; the reply is always OK so that a typo in a monitor command is a message,
 * not a protocol error. `last` gives the old and new values as bytes: the plugin
 * prints them with gdb's own formatting, in the expression's type.
 *
 * After `restart`, `goto` and `last` gdb's caches (registers, frames, threads,
 * memory) describe the program as it was before, and no reply can tell gdb so: the
 * gdb plugin (rewind.py) flushes them after every monitor command, and its restart,
 * goto and last also reread the threads and show the frame; without the plugin,
 * `maintenance flush register-cache` after such a monitor command. */
#include "gdbserver_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"
#include "replay/record.h"
#include "replay/reverse.h"

struct mon_cmd {
	const char *name;     /* the command's words */
	void (*fn)(struct gdbserver *g, char *args, struct sbuf *out);
	const char *usage;
	const char *help;
};

static char *next_word(char **args)
{
	char *s = *args;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s) {
		*args = s;
		return NULL;
	}
	char *w = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	*args = s;
	return w;
}

static bool need_process(struct gdbserver *g, struct sbuf *out)
{
	if (inf_alive(gs__inf(g)))
		return true;
	sbuf_puts(out, "The program is not being run.\n");
	return false;
}

static void print_taken(const struct checkpoint *c, struct sbuf *out)
{
	ckpt_format_taken(c, out);
}

static void mon_checkpoint(struct gdbserver *g, char *args, struct sbuf *out)
{
	if (!need_process(g, out))
		return;
	bool force = false;
	char *w = next_word(&args);
	if (w && !strcmp(w, "-f")) {
		force = true;
		w = next_word(&args);
	}
	if (w && *args) {
		sbuf_printf(out, "A checkpoint name is one word: \"%s %s\".\n", w, args);
		return;
	}
	struct checkpoint *c;
	struct sbuf msg = { 0 };
	int e = session_checkpoint(g->s, w, force, &c, &msg);
	if (e < 0) {
		if (e == -EBUSY && msg.len)
			sbuf_printf(out, "%s\ncheckpoint: refused; \"monitor checkpoint -f\" takes it "
				    "anyway, and these resources are then not restored.\n", sbuf_str(&msg));
		else
			sbuf_printf(out, "checkpoint: %s\n", msg.len ? sbuf_str(&msg) : strerror(-e));
	} else {
		if (msg.len)
			sbuf_printf(out, "%s\n", sbuf_str(&msg));
		print_taken(c, out);
	}
	sbuf_free(&msg);
}

static void mon_bookmark(struct gdbserver *g, char *args, struct sbuf *out)
{
	if (!need_process(g, out))
		return;
	char *w = next_word(&args);
	if (!w || *args) {
		sbuf_puts(out, "Usage: bookmark NAME (one word).\n");
		return;
	}
	struct checkpoint *c;
	struct sbuf msg = { 0 };
	if (session_bookmark(g->s, w, &c, &msg) < 0)
		sbuf_printf(out, "bookmark: %s\n", sbuf_str(&msg));
	else
		print_taken(c, out);
	sbuf_free(&msg);
}

static void mon_info_checkpoints(struct gdbserver *g, char *args, struct sbuf *out)
{
	(void)args;
	ckpt_format_list(&g->s->ckpts, &g->s->inf, out);
}

static void mon_restart(struct gdbserver *g, char *args, struct sbuf *out)
{
	char *w = next_word(&args);
	if (!w) {
		sbuf_puts(out, "Argument required (checkpoint number or name).\n");
		return;
	}
	struct stop st;
	struct sbuf msg = { 0 };
	int e = session_restore(g->s, w, &st, &msg);
	if (e < 0) {
		sbuf_printf(out, "%s\n", msg.len ? sbuf_str(&msg) : strerror(-e));
		sbuf_free(&msg);
		return;
	}
	if (msg.len)
		sbuf_printf(out, "%s\n", sbuf_str(&msg));
	sbuf_free(&msg);
	/* A new incarnation of the program: gdb's selections and our last stop start
	 * over from the restored thread; gdb's breakpoints are in it already. */
	gs__zbp_rebase(g);
	g->hg = g->hc = (struct rsp_ptid){ 0, 0, false };
	gs__stop_reply(g, &st);
	struct checkpoint *c = ckpt_find(&g->s->ckpts, w);
	if (c && c->name)
		sbuf_printf(out, "Switching to checkpoint %d \"%s\".\n", c->id, c->name);
	else if (c)
		sbuf_printf(out, "Switching to checkpoint %d.\n", c->id);
}

static void mon_delete(struct gdbserver *g, char *args, struct sbuf *out)
{
	char *w;
	if (!*args) {
		sbuf_puts(out, "Argument required (checkpoint number or name).\n");
		return;
	}
	while ((w = next_word(&args))) {
		struct sbuf msg = { 0 };
		if (session_delete_checkpoint(g->s, w, &msg) < 0)
			sbuf_printf(out, "%s\n", sbuf_str(&msg));
		sbuf_free(&msg);
	}
}

static void mon_auto(struct gdbserver *g, char *args, struct sbuf *out)
{
	char *w = next_word(&args);
	if (!w || !strcmp(w, "on"))
		g->s->ckpts.auto_on = true;
	else if (!strcmp(w, "off"))
		g->s->ckpts.auto_on = false;
	else
		sbuf_puts(out, "\"on\" or \"off\" expected.\n");
}

static void mon_record(struct gdbserver *g, char *args, struct sbuf *out)
{
	char *w = next_word(&args);
	if (!w || !strcmp(w, "on"))
		rec_set_enabled(g->s->rec, gs__inf(g), true);
	else if (!strcmp(w, "off"))
		rec_set_enabled(g->s->rec, gs__inf(g), false);
	else
		sbuf_puts(out, "\"on\" or \"off\" expected.\n");
}

static void mon_info_record(struct gdbserver *g, char *args, struct sbuf *out)
{
	(void)args;
	rec_describe(g->s->rec, out);
	if (out->len && out->s[out->len - 1] != '\n')
		sbuf_putc(out, '\n');
}

/* The timeline commands: positions in the recording (replay/reverse.h). Without a
 * recording, say how to get one in gdb's words. */
static bool need_recording(struct gdbserver *g, struct sbuf *out, const char *what)
{
	if (!need_process(g, out))
		return false;
	if (rec_mode(g->s->rec) != REC_OFF)
		return true;
	sbuf_printf(out, "%s needs a recording: the program is not being recorded "
		    "(\"monitor set record on\", then run it again).\n", what);
	return false;
}

/* The program moved under gdb (goto, last): the z table follows the process, gdb's
 * selections start over, and '?' reports the new stop. */
static void moved(struct gdbserver *g, const struct stop *st)
{
	gs__zbp_rebase(g);
	g->hg = g->hc = (struct rsp_ptid){ 0, 0, false };
	gs__stop_reply(g, st);
}

static void mon_when(struct gdbserver *g, char *args, struct sbuf *out)
{
	(void)args;
	if (!need_recording(g, out, "when"))
		return;
	struct rev_where w;
	struct sbuf err = { 0 };
	if (rev_when(g->s, &w, &err) < 0) {
		sbuf_printf(out, "%s\n", sbuf_str(&err));
		sbuf_free(&err);
		return;
	}
	sbuf_free(&err);
	sbuf_puts(out, "Current position: ");
	rev_format_where(&w, out);
	sbuf_printf(out, "\nRecorded events: %" PRIu64 "\n", w.events);
	const struct { int id; uint64_t event; const char *desc, *which; } near[2] = {
		{ w.before_id, w.before_event, w.before_desc, "before" },
		{ w.after_id, w.after_event, w.after_desc, "after" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(near); i++)
		if (near[i].id)
			sbuf_printf(out, "Snapshot %s: %s %d (event %" PRIu64 ") at %s\n", near[i].which,
				    near[i].id > 0 ? "checkpoint" : "timeline snapshot",
				    near[i].id > 0 ? near[i].id : -near[i].id, near[i].event, near[i].desc);
}

static void mon_goto(struct gdbserver *g, char *args, struct sbuf *out)
{
	char *w = next_word(&args);
	if (!w) {
		sbuf_puts(out, "Argument required (a position as \"monitor when\" prints it, or a "
			  "checkpoint number or name).\n");
		return;
	}
	if (*w != '#')
		return mon_restart(g, w, out);
	if (!need_recording(g, out, "goto"))
		return;
	struct stop st;
	struct sbuf msg = { 0 };
	int e = rev_goto(g->s, w, &st, &msg);
	if (e < 0 || st.reason == SR_ERROR) {
		/* Back where it was, but perhaps restored: the z table follows. */
		gs__zbp_rebase(g);
		sbuf_printf(out, "%s\n", msg.len ? sbuf_str(&msg) : st.err);
		sbuf_free(&msg);
		return;
	}
	if (msg.len)
		sbuf_printf(out, "%s\n", sbuf_str(&msg));
	sbuf_free(&msg);
	moved(g, &st);
	struct sbuf where = { 0 };
	session_describe_pc(g->s, gs__inf(g)->cur, &where);
	sbuf_printf(out, "Now at %s.\n", sbuf_str(&where));
	sbuf_free(&where);
}

static void put_bytes(struct sbuf *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sbuf_printf(out, i ? " %02x" : "%02x", b[i]);
}

static void mon_last(struct gdbserver *g, char *args, struct sbuf *out)
{
	char *expr = str_trim(args);
	if (!*expr) {
		sbuf_puts(out, "Argument required (an expression).\n");
		return;
	}
	if (!need_recording(g, out, "last"))
		return;
	struct task *t = gs__hg_task(g);
	if (t)
		inf_select(gs__inf(g), t->num);   /* the expression is gdb's thread's */
	struct rev_change ch;
	struct stop st;
	struct sbuf msg = { 0 };
	int e = rev_last(g->s, expr, &ch, &st, &msg);
	if (e < 0 || st.reason == SR_ERROR) {
		gs__zbp_rebase(g);
		sbuf_printf(out, "%s\n", msg.len ? sbuf_str(&msg) : st.err);
		sbuf_free(&msg);
		return;
	}
	sbuf_free(&msg);
	moved(g, &st);
	if (!ch.found) {
		sbuf_printf(out, "%s has not changed since the start of the recording.\n", expr);
		return;
	}
	/* The values as the program's bytes: the plugin prints them as gdb would. */
	sbuf_printf(out, "%s was last changed by this instruction:\nOld bytes = ", expr);
	put_bytes(out, ch.old_val, ch.len);
	sbuf_puts(out, "\nNew bytes = ");
	put_bytes(out, ch.new_val, ch.len);
	sbuf_putc(out, '\n');
}

static void mon_help(struct gdbserver *g, char *args, struct sbuf *out);

/* The monitor commands, longest names first where one is a prefix of another. */
static const struct mon_cmd mon_cmds[] = {
	{ "checkpoint", mon_checkpoint, "checkpoint [-f] [NAME]",
	  "checkpoint the program now (-f: even with resources that cannot be restored)" },
	{ "bookmark", mon_bookmark, "bookmark NAME", "name the current state" },
	{ "info checkpoints", mon_info_checkpoints, "info checkpoints", "list the checkpoints" },
	{ "restart", mon_restart, "restart N|NAME", "go back (or forward) to a checkpoint" },
	{ "delete checkpoint", mon_delete, "delete checkpoint N|NAME...", "drop checkpoints" },
	{ "set auto-checkpoint", mon_auto, "set auto-checkpoint on|off",
	  "checkpoint at every stop that ends a continue (default on)" },
	{ "set record", mon_record, "set record on|off",
	  "record the program's inputs, so that a restored checkpoint replays them" },
	{ "info record", mon_info_record, "info record", "what is being recorded" },
	{ "when", mon_when, "when", "the current position in the recording" },
	{ "goto", mon_goto, "goto POSITION", "go to a position in the recording" },
	{ "last", mon_last, "last EXPR", "go to where EXPR last changed" },
	{ "help", mon_help, "help", "this list" },
};

static void mon_help(struct gdbserver *g, char *args, struct sbuf *out)
{
	(void)g;
	(void)args;
	sbuf_puts(out, "rewind monitor commands (the gdb plugin wraps them as \"rewind ...\"):\n");
	for (size_t i = 0; i < ARRAY_SIZE(mon_cmds); i++)
		sbuf_printf(out, "  %-28s %s\n", mon_cmds[i].usage, mon_cmds[i].help);
}

void gs__monitor(struct gdbserver *g, const char *cmd)
{
	char *line = xstrdup(cmd ? cmd : "");
	char *s = str_trim(line);
	struct sbuf out = { 0 };
	const struct mon_cmd *m = NULL;
	size_t mlen = 0;
	for (size_t i = 0; i < ARRAY_SIZE(mon_cmds); i++) {
		size_t n = strlen(mon_cmds[i].name);
		if (!strncmp(s, mon_cmds[i].name, n) && (s[n] == 0 || s[n] == ' ') && n > mlen) {
			m = &mon_cmds[i];
			mlen = n;
		}
	}
	if (m)
		m->fn(g, s + mlen, &out);
	else
		sbuf_printf(&out, "Undefined monitor command: \"%s\".  Try \"monitor help\".\n", s);
	if (out.len)
		rsp_send_console(g->c, out.s, out.len);
	sbuf_free(&out);
	free(line);
	sbuf_reset(&g->out);
	rsp_reply_ok(&g->out);
}
