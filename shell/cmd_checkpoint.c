/* Checkpoints: checkpoint, bookmark, info checkpoints, restart/goto, delete
 * checkpoint, and their settings. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "symbols.h"

static void print_taken(struct shell *sh, const struct checkpoint *c)
{
	sh_out(sh, "Checkpoint %d", c->id);
	if (c->name)
		sh_out(sh, " \"%s\"", c->name);
	sh_out(sh, " at %s\n", c->where);
}

int cmd_checkpoint(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	bool force = false;
	char *w = sh_next_word(&args);
	if (w && !strcmp(w, "-f")) {
		force = true;
		w = sh_next_word(&args);
	}
	if (w && *args)
		return sh_error(sh, "A checkpoint name is one word: \"%s %s\".", w, args);
	struct checkpoint *c;
	struct sbuf msg = { 0 };
	int e = session_checkpoint(&sh->sess, w, force, &c, &msg);
	if (e < 0) {
		if (e == -EBUSY && msg.len)
			sh_error(sh, "%s\ncheckpoint: refused; \"checkpoint -f\" takes it anyway, and "
				 "these resources are then not restored.", sbuf_str(&msg));
		else
			sh_error(sh, "checkpoint: %s", msg.len ? sbuf_str(&msg) : strerror(-e));
		sbuf_free(&msg);
		return -1;
	}
	if (msg.len)
		sh_out(sh, "%s\n", sbuf_str(&msg));
	sbuf_free(&msg);
	print_taken(sh, c);
	return 0;
}

int cmd_bookmark(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	char *w = sh_next_word(&args);
	if (!w || *args)
		return sh_error(sh, "Usage: bookmark NAME (one word).");
	struct checkpoint *c;
	struct sbuf msg = { 0 };
	if (session_bookmark(&sh->sess, w, &c, &msg) < 0) {
		sh_error(sh, "bookmark: %s", sbuf_str(&msg));
		sbuf_free(&msg);
		return -1;
	}
	sbuf_free(&msg);
	print_taken(sh, c);
	return 0;
}

static void human_size(uint64_t b, char *buf, size_t n)
{
	if (b < 1024)
		snprintf(buf, n, "%" PRIu64 " B", b);
	else if (b < (1u << 20))
		snprintf(buf, n, "%.1f KiB", (double)b / 1024);
	else if (b < (1u << 30))
		snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
	else
		snprintf(buf, n, "%.2f GiB", (double)b / (1 << 30));
}

static void human_age(uint64_t ns, char *buf, size_t n)
{
	double s = (double)ns / 1e9;
	if (s < 60)
		snprintf(buf, n, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s / 60) % 60);
}

int cmd_info_checkpoints(struct shell *sh, char *args)
{
	(void)args;
	struct ckpt_list *l = &sh->sess.ckpts;
	if (!l->head) {
		sh_out(sh, "No checkpoints.\n");
		return 0;
	}
	uint64_t total = ckpt_measure(l), now = now_ns();
	sh_out(sh, "  Id   Name             Where                                Age      Memory\n");
	for (struct checkpoint *c = l->head; c; c = c->next) {
		char age[32], mem[32];
		human_age(now - c->taken_ns, age, sizeof age);
		human_size(c->mem, mem, sizeof mem);
		const char *marks = snap_marks(c->snap);
		sh_out(sh, "%c %-4d %-16s %-36s %-8s %s%s%s%s\n", c->id == l->current ? '*' : ' ', c->id,
		       c->name ? c->name : (c->automatic ? "(auto)" : "-"), c->where, age, mem,
		       snap_alive(c->snap) ? "" : "  [gone: its process was killed]",
		       marks ? "  [forced: " : "", marks ? "not all resources restorable]" : "");
	}
	char t[32], b[32];
	human_size(total, t, sizeof t);
	human_size(l->budget, b, sizeof b);
	sh_out(sh, "Checkpoint memory: %s of %s budget.\n", t, l->budget ? b : "unlimited");
	return 0;
}

int cmd_restart(struct shell *sh, char *args)
{
	char *w = sh_next_word(&args);
	if (!w)
		return sh_error(sh, "Argument required (checkpoint number or name).");
	struct stop st;
	struct sbuf msg = { 0 };
	int e = session_restore(&sh->sess, w, &st, &msg);
	if (e < 0) {
		sh_error(sh, "%s", msg.len ? sbuf_str(&msg) : strerror(-e));
		sbuf_free(&msg);
		return -1;
	}
	struct checkpoint *c = ckpt_find(&sh->sess.ckpts, w);
	if (msg.len)
		sh_out(sh, "%s\n", sbuf_str(&msg));
	sbuf_free(&msg);
	sh->frame = 0;
	sh->prev_thread = st.thread;
	if (c && c->name)
		sh_out(sh, "Switching to checkpoint %d \"%s\".\n", c->id, c->name);
	else if (c)
		sh_out(sh, "Switching to checkpoint %d.\n", c->id);
	struct sbuf fr = { 0 };
	sym_frame_line(sh, st.task, 0, true, &fr);
	sh_out(sh, "#0  %s\n", sbuf_str(&fr));
	sbuf_free(&fr);
	struct sbuf src = { 0 };
	sym_source_line(sh, st.task, st.pc, &src);
	if (src.len)
		sh_out(sh, "%s\n", sbuf_str(&src));
	sbuf_free(&src);
	return 0;
}

int sh_delete_checkpoint(struct shell *sh, char *args)
{
	char *w;
	int err = 0;
	if (!args || !*args)
		return sh_error(sh, "Argument required (checkpoint number or name).");
	while ((w = sh_next_word(&args))) {
		struct sbuf msg = { 0 };
		if (session_delete_checkpoint(&sh->sess, w, &msg) < 0)
			err = sh_error(sh, "%s", sbuf_str(&msg));
		sbuf_free(&msg);
	}
	return err;
}

int set_auto_checkpoint(struct shell *sh, char *args)
{
	if (!strcmp(args, "on") || !*args)
		sh->sess.ckpts.auto_on = true;
	else if (!strcmp(args, "off"))
		sh->sess.ckpts.auto_on = false;
	else
		return sh_error(sh, "\"on\" or \"off\" expected.");
	return 0;
}

int set_checkpoint_memory(struct shell *sh, char *args)
{
	uint64_t v;
	if (!strcmp(args, "unlimited"))
		v = 0;
	else if (parse_size(args, &v) < 0)
		return sh_error(sh, "Invalid size \"%s\": use a number with K, M or G (or \"unlimited\").", args);
	sh->sess.ckpts.budget = v;
	ckpt_enforce_budget(&sh->sess.ckpts, sh_inf(sh), true);
	return 0;
}

int set_checkpoint_files(struct shell *sh, char *args)
{
	if (!strcmp(args, "on") || !*args)
		sh->sess.ckpts.files = true;
	else if (!strcmp(args, "off"))
		sh->sess.ckpts.files = false;
	else
		return sh_error(sh, "\"on\" or \"off\" expected.");
	return 0;
}
