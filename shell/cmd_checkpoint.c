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
	struct sbuf out = { 0 };
	ckpt_format_taken(c, &out);
	sh_out(sh, "%s", sbuf_str(&out));
	sbuf_free(&out);
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

int cmd_info_checkpoints(struct shell *sh, char *args)
{
	(void)args;
	struct sbuf out = { 0 };
	ckpt_format_list(&sh->sess.ckpts, sh_inf(sh), &out);
	sh_out(sh, "%s", sbuf_str(&out));
	sbuf_free(&out);
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

int set_checkpoint_compact(struct shell *sh, char *args)
{
	static const char *const names[] = { "off", "auto", "always" };
	for (int i = 0; i < 3; i++)
		if (!strcmp(args, names[i])) {
			sh->sess.ckpts.compact = (enum ckpt_compact)i;
			return 0;
		}
	return sh_error(sh, "\"off\", \"auto\" or \"always\" expected.");
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
