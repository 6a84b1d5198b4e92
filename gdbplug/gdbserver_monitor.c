/* gdbserver_monitor: gdb's `monitor CMD` (qRcmd): checkpoints through the session's
 * checkpoint API, in the shell's words, and the timeline commands (when, goto, last)
 * that wait for recordings. Output goes to gdb's console as O packets; the reply is
 * always OK so that a typo in a monitor command is a message, not a protocol error.
 *
 * After `restart` gdb's caches (registers, frames, threads, memory) describe the
 * program as it was before, and no reply can tell gdb so: the gdb plugin (rewind.py)
 * flushes them after every monitor command, and `rewind restart` also rereads the
 * threads and shows the frame; without the plugin, `maintenance flush
 * register-cache` after `monitor restart`. */
#include "gdbserver_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"
#include "replay/record.h"

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
	ckpt_format_list(&g->s->ckpts, out);
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

/* The timeline commands need positions in a recording, which the session does not
 * offer yet: say which of the two is missing. */
static void mon_timeline(struct gdbserver *g, char *args, struct sbuf *out, const char *what)
{
	(void)args;
	if (rec_mode(g->s->rec) == REC_OFF)
		sbuf_printf(out, "%s needs a recording: the program is not being recorded "
			    "(\"monitor set record on\", then run it again).\n", what);
	else
		sbuf_printf(out, "%s needs a recording's timeline, which the session does not "
			    "offer yet. Checkpoints work: \"rewind checkpoints\", \"rewind restart N\".\n",
			    what);
}

static void mon_when(struct gdbserver *g, char *a, struct sbuf *o) { mon_timeline(g, a, o, "when"); }
static void mon_goto(struct gdbserver *g, char *a, struct sbuf *o) { mon_timeline(g, a, o, "goto"); }
static void mon_last(struct gdbserver *g, char *a, struct sbuf *o) { mon_timeline(g, a, o, "last"); }

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
