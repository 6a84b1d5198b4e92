/* Running and stepping: run, start, continue, step, next, stepi, nexti, finish,
 * until, advance, kill, attach, detach, signal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "frames.h"
#include "symbols.h"

static unsigned parse_count(struct shell *sh, char *args, bool *ok)
{
	*ok = true;
	if (!args || !*args)
		return 1;
	uint64_t n;
	if (sh_parse_u64(sh, args, &n) < 0) {
		*ok = false;
		return 0;
	}
	return n ? (unsigned)n : 1;
}

/* After a stop: auto-checkpoint and friends live in the session; we print. */
static int report(struct shell *sh, int e, struct stop *st)
{
	sh_flush_notices(sh);
	if (st->reason == SR_ERROR)
		return sh_error(sh, "%s", st->err);
	sh_print_stop(sh, st);
	return e < 0 ? -1 : 0;
}

static int exec_n(struct shell *sh, enum sess_cmd cmd, char *args)
{
	bool ok;
	unsigned n = parse_count(sh, args, &ok);
	if (!ok)
		return -1;
	if (!sh_need_process(sh))
		return -1;
	struct stop st;
	for (unsigned i = 0; i < n; i++) {
		struct sess_args a = { .sig = -1, .inner = i + 1 < n };
		int e = session_exec(&sh->sess, cmd, &a, &st);
		sh->frame = 0;
		bool last = i + 1 == n || st.reason != SR_STEPPED;
		if (!last && st.reason == SR_STEPPED) {
			sh_flush_notices(sh);
			continue;
		}
		return report(sh, e, &st);
	}
	return 0;
}

static int start_program(struct shell *sh)
{
	struct inferior *inf = sh_inf(sh);
	if (inf_alive(inf)) {
		if (sh->interactive && !sh->batch) {
			sh_out(sh, "The program being debugged has been started already.\n");
		}
		session_kill(&sh->sess);
	}
	struct sbuf err = { 0 };
	int e = session_launch(&sh->sess, &err);
	if (e < 0) {
		sh_error(sh, "%s", sbuf_str(&err));
		sbuf_free(&err);
		return -1;
	}
	sbuf_free(&err);
	if (!sh->batch) {
		sh_out(sh, "Starting program: %s", inf->argv[0]);
		for (int i = 1; inf->argv[i]; i++)
			sh_out(sh, " %s", inf->argv[i]);
		sh_out(sh, " \n");
	}
	sh_flush_notices(sh);
	sh->frame = 0;
	return 0;
}

static int set_args_from(struct shell *sh, char *args)
{
	/* `run ARGS` replaces the arguments, as `set args` does. */
	if (args && *args)
		sh_set_args(sh, args);
	return 0;
}

int cmd_run(struct shell *sh, char *args)
{
	if (!sh_inf(sh)->argv)
		return sh_error(sh, "No executable file specified.\nUse the \"file\" or \"exec-file\" command.");
	set_args_from(sh, args);
	if (start_program(sh) < 0)
		return -1;
	struct stop st;
	struct sess_args a = { .sig = -1 };
	int e = session_exec(&sh->sess, SC_CONTINUE, &a, &st);
	return report(sh, e, &st);
}

int cmd_starti(struct shell *sh, char *args)
{
	if (!sh_inf(sh)->argv)
		return sh_error(sh, "No executable file specified.");
	set_args_from(sh, args);
	if (start_program(sh) < 0)
		return -1;
	struct stop st = { .reason = SR_SIGNAL, .sig = 0, .print = SP_SRC_AND_LOC };
	stop_fill_thread(&st, sh_inf(sh)->cur);
	sh_out(sh, "\nProgram stopped.\n");
	sh_print_location(sh, st.task, SP_SRC_AND_LOC, true);
	return 0;
}

int cmd_start(struct shell *sh, char *args)
{
	struct inferior *inf = sh_inf(sh);
	if (!inf->argv)
		return sh_error(sh, "No executable file specified.");
	struct breakpoint *b;
	struct sbuf err = { 0 };
	inf_break(inf, BPK_BREAK, "main", NULL, true, 0, &b, &err);
	sbuf_free(&err);
	if (!b->locs.n && !b->pending) {
		inf_delete(inf, b);
		return sh_error(sh, "No symbol table loaded.  Use the \"file\" command.");
	}
	sh_print_new_breakpoint(sh, b);
	return cmd_run(sh, args);
}

int cmd_continue(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	bool ok;
	unsigned ignore = parse_count(sh, args, &ok);
	if (!ok)
		return -1;
	struct inferior *inf = sh_inf(sh);
	if (ignore > 1 && inf->cur) {
		/* continue N: ignore the breakpoint we are stopped at N-1 more times. */
		uint64_t pc = task_pc(inf->cur);
		struct breakpoint *bs[4];
		size_t n = bp_at(&inf->bps, inf->cur->proc->pid, pc, bs, 4);
		for (size_t i = 0; i < n; i++)
			if (bs[i]->internal == BPI_NONE) {
				bs[i]->ignore_count = ignore - 1;
				sh_out(sh, "Will ignore next %u crossings of breakpoint %d.%s\n",
				       ignore - 1, bs[i]->id, sh->batch ? "" : "  Continuing.");
			}
	}
	if (!(ignore > 1) && !sh->batch)
		sh_out(sh, "Continuing.\n");
	struct stop st;
	struct sess_args a = { .sig = -1 };
	int e = session_exec(&sh->sess, SC_CONTINUE, &a, &st);
	sh->frame = 0;
	return report(sh, e, &st);
}

int cmd_signal(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	char *w = sh_next_word(&args);
	if (!w)
		return sh_error(sh, "Argument required (signal number).");
	int sig = sig_from_name(w);
	if (sig < 0)
		return sh_error(sh, "Only signals 1-15 are valid as numeric signals.\nUse \"info signals\" for a list of symbolic signals.");
	if (sig)
		sh_out(sh, "Continuing with signal %s.\n", sig_name(sig));
	else
		sh_out(sh, "Continuing with no signal.\n");
	struct stop st;
	struct sess_args a = { .sig = sig };
	int e = session_exec(&sh->sess, SC_CONTINUE, &a, &st);
	return report(sh, e, &st);
}

int cmd_step(struct shell *sh, char *args) { return exec_n(sh, SC_STEP, args); }
int cmd_next(struct shell *sh, char *args) { return exec_n(sh, SC_NEXT, args); }
int cmd_stepi(struct shell *sh, char *args) { return exec_n(sh, SC_STEPI, args); }
int cmd_nexti(struct shell *sh, char *args) { return exec_n(sh, SC_NEXTI, args); }

int cmd_finish(struct shell *sh, char *args)
{
	(void)args;
	if (!sh_need_process(sh))
		return -1;
	struct sess_args a = { .sig = -1 };
	struct fctx f;
	if (fctx_open(sh, NULL, sh->frame, &f) < 0)
		return -1;
	struct sym_addr_info ai;
	bool is_main = symtab_describe(f.ctx.st, f.ctx.frame->lookup_pc, &ai) == 0 && ai.func &&
		       !strcmp(ai.func, "main");
	if (is_main || !f.ctx.caller || !f.ctx.caller->pc) {
		fctx_close(&f);
		return sh_error(sh, "\"finish\" not meaningful in the outermost frame.");
	}
	if (sh->frame > 0) {
		a.addr = f.ctx.caller->pc;
		a.frame_cfa = f.ctx.frame->cfa;
		a.func = ai.func_lo;
	}
	if (!sh->batch) {
		struct sbuf where = { 0 };
		struct sym_ctx c = f.ctx;
		fmt_frame_line(&c, c.frame, true, &where);
		sh_out(sh, "Run till exit from %s\n", sbuf_str(&where));
		sbuf_free(&where);
	}
	fctx_close(&f);
	struct stop st;
	int e = session_exec(&sh->sess, SC_FINISH, &a, &st);
	if (st.reason == SR_FINISHED && sh->frame > 0)
		st.finish_func = a.func;
	sh->frame = 0;
	return report(sh, e, &st);
}

int cmd_until(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	struct stop st;
	int e;
	if (!args || !*args) {
		e = session_exec(&sh->sess, SC_UNTIL, NULL, &st);
	} else {
		uint64_t addr;
		if (sym_resolve_one(sh, args, &addr) < 0)
			return -1;
		struct sess_args a = { .addr = addr, .until_frame = true, .sig = -1 };
		e = session_exec(&sh->sess, SC_RUN_TO, &a, &st);
	}
	sh->frame = 0;
	return report(sh, e, &st);
}

int cmd_advance(struct shell *sh, char *args)
{
	if (!sh_need_process(sh))
		return -1;
	if (!args || !*args)
		return sh_error(sh, "Argument required (a location).");
	uint64_t addr;
	if (sym_resolve_one(sh, args, &addr) < 0)
		return -1;
	struct stop st;
	struct sess_args a = { .addr = addr, .until_frame = false, .sig = -1 };
	int e = session_exec(&sh->sess, SC_RUN_TO, &a, &st);
	sh->frame = 0;
	return report(sh, e, &st);
}

int cmd_kill(struct shell *sh, char *args)
{
	(void)args;
	struct inferior *inf = sh_inf(sh);
	if (!inf_alive(inf))
		return sh_error(sh, "The program is not being run.");
	pid_t pid = inf->main->pid;
	session_kill(&sh->sess);
	sh_out(sh, "[Inferior 1 (process %d) killed]\n", pid);
	return 0;
}

int cmd_attach(struct shell *sh, char *args)
{
	char *w = sh_next_word(&args);
	if (!w)
		return sh_error(sh, "Argument required (process-id to attach).");
	char *end;
	long pid = strtol(w, &end, 10);
	if (*end || pid <= 0)
		return sh_error(sh, "Illegal process-id: %s.", w);
	struct sbuf err = { 0 };
	int e = session_attach(&sh->sess, (pid_t)pid, &err);
	if (e < 0) {
		sh_error(sh, "%s", sbuf_str(&err));
		sbuf_free(&err);
		return -1;
	}
	sbuf_free(&err);
	sh_out(sh, "Attaching to process %ld\n", pid);
	struct inferior *inf = sh_inf(sh);
	sh_flush_notices(sh);
	sh_print_location(sh, inf->cur, SP_SRC_AND_LOC, true);
	return 0;
}

int cmd_detach(struct shell *sh, char *args)
{
	(void)args;
	struct inferior *inf = sh_inf(sh);
	if (!inf_alive(inf))
		return sh_error(sh, "The program is not being run.");
	pid_t pid = inf->main->pid;
	session_detach(&sh->sess);
	sh_out(sh, "[Inferior 1 (process %d) detached]\n", pid);
	return 0;
}
