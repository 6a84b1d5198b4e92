/* Record and replay in the shell: `set record on|off`, `info record`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "replay/record.h"

int set_record(struct shell *sh, char *args)
{
	bool on;
	if (!args || !*args || !strcmp(args, "on"))
		on = true;
	else if (!strcmp(args, "off"))
		on = false;
	else
		return sh_error(sh, "\"on\" or \"off\" expected.");
	struct inferior *inf = sh_inf(sh);
	bool was = rec_mode(sh->sess.rec) != REC_OFF;
	rec_set_enabled(sh->sess.rec, inf, on);
	if (!on && was)
		sh_out(sh, "Recording stopped; the program runs unrecorded. Checkpoints taken "
			   "before now still replay up to here.\n");
	else if (on && inf_alive(inf) && rec_mode(sh->sess.rec) == REC_OFF)
		sh_out(sh, "Recording starts with the next run.\n");
	return 0;
}

int cmd_info_record(struct shell *sh, char *args)
{
	(void)args;
	struct sbuf b = { 0 };
	rec_describe(sh->sess.rec, &b);
	sh_out(sh, "%s\n", sbuf_str(&b));
	sbuf_free(&b);
	struct ckpt_list *l = &sh->sess.ckpts;
	for (struct checkpoint *c = l->head; c; c = c->next) {
		int64_t ev = rec_checkpoint_event(sh->sess.rec, c->id);
		if (ev >= 0)
			sh_out(sh, "  checkpoint %d: event %" PRId64 "\n", c->id, ev);
	}
	return 0;
}
