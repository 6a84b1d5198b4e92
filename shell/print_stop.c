/* Stop reports in gdb's words and shapes. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "symbols.h"

void sh_print_location(struct shell *sh, struct task *t, enum stop_print how, bool show_pc)
{
	if (!t || t->state != TS_STOPPED)
		return;
	uint64_t pc = task_pc(t);
	struct sbuf line = { 0 }, src = { 0 };
	bool at_start = sym_at_line_start(sh, t, pc);
	int have_src = sym_source_line(sh, t, pc, &src);
	if (how != SP_SRC_LINE || have_src < 0) {
		sym_frame_line(sh, t, 0, true, &line);
		if (show_pc && (!at_start || have_src < 0) && !strstr(sbuf_str(&line), " in "))
			sh_out(sh, "0x%016" PRIx64 " in %s\n", pc, sbuf_str(&line));
		else
			sh_out(sh, "%s\n", sbuf_str(&line));
		if (have_src >= 0 || src.len)
			sh_out(sh, "%s\n", sbuf_str(&src));
	} else {
		if (!at_start)
			sh_out(sh, "0x%016" PRIx64 "\t%s\n", pc, sbuf_str(&src));
		else
			sh_out(sh, "%s\n", sbuf_str(&src));
	}
	sbuf_free(&line);
	sbuf_free(&src);
}

static void switch_notice(struct shell *sh, const struct stop *st)
{
	struct inferior *inf = sh_inf(sh);
	if (!st->task || !inf_alive(inf))
		return;
	if (sh->prev_thread && st->thread != sh->prev_thread && proc_live_tasks(inf->main) > 1) {
		struct user_regs_struct *r;
		if (task_get_regs(st->task, &r) == 0)
			sh_out(sh, "[Switching to Thread 0x%llx (LWP %d)]\n",
			       (unsigned long long)r->fs_base, st->tid);
	}
	sh->prev_thread = st->thread;
}

static void print_watch_values(struct shell *sh, const struct stop *st, struct breakpoint *b)
{
	struct sbuf o = { 0 }, n = { 0 };
	sym_format_watch(sh, b, st->wold, st->wold_valid, &o);
	sym_format_watch(sh, b, st->wnew, true, &n);
	if (b->kind == BPK_WATCH) {
		sh_out(sh, "\nOld value = %s\nNew value = %s\n", sbuf_str(&o), sbuf_str(&n));
	} else if (b->kind == BPK_RWATCH) {
		sh_out(sh, "\nValue = %s\n", sbuf_str(&n));
	} else {
		if (st->wold_valid && memcmp(st->wold, st->wnew, st->wlen))
			sh_out(sh, "\nOld value = %s\nNew value = %s\n", sbuf_str(&o), sbuf_str(&n));
		else
			sh_out(sh, "\nValue = %s\n", sbuf_str(&n));
	}
	sbuf_free(&o);
	sbuf_free(&n);
}

void sh_print_stop(struct shell *sh, const struct stop *st)
{
	struct inferior *inf = sh_inf(sh);
	switch (st->reason) {
	case SR_NONE:
	case SR_ERROR:
		return;
	case SR_EXITED:
		if (st->code)
			sh_out(sh, "[Inferior 1 (process %d) exited with code %02o]\n", st->pid, st->code);
		else
			sh_out(sh, "[Inferior 1 (process %d) exited normally]\n", st->pid);
		sh->prev_thread = 0;
		return;
	case SR_KILLED:
		sh_out(sh, "\nProgram terminated with signal %s, %s.\nThe program no longer exists.\n",
		       sig_name(st->sig), sig_desc(st->sig));
		sh->prev_thread = 0;
		return;
	default:
		break;
	}
	switch_notice(sh, st);
	switch (st->reason) {
	case SR_BREAKPOINT:
		sh_out(sh, "\n%s %d, ", st->temporary ? "Temporary breakpoint" : "Breakpoint", st->bp_id);
		break;
	case SR_WATCHPOINT: {
		struct breakpoint *b = bp_find(&inf->bps, st->bp_id);
		if (b) {
			const char *kind = b->kind == BPK_WATCH ? "Hardware watchpoint" :
					   b->kind == BPK_RWATCH ? "Hardware read watchpoint" :
					   "Hardware access (read/write) watchpoint";
			sh_out(sh, "\n%s %d: %s\n", kind, b->id, b->expr);
			print_watch_values(sh, st, b);
		}
		break;
	}
	case SR_WATCH_SCOPE:
		sh_out(sh, "\nWatchpoint %d deleted because the program has left the block in\n"
			   "which its expression is valid.\n", st->bp_id);
		break;
	case SR_SIGNAL:
		sh_out(sh, "\nProgram received signal %s, %s.\n", sig_name(st->sig), sig_desc(st->sig));
		break;
	case SR_INTERRUPTED:
		sh_out(sh, "\nProgram received signal SIGINT, Interrupt.\n");
		break;
	case SR_HISTORY_BEGIN:
		sh_out(sh, "\nNo more reverse-execution history.\n");
		break;
	case SR_HISTORY_END:
		sh_out(sh, "\nNo more reverse-execution history.\n");
		break;
	default:
		break;
	}
	bool show_pc = st->reason != SR_BREAKPOINT;
	sh_print_location(sh, st->task, st->print, show_pc);
	if (st->reason == SR_FINISHED && st->finish_func)
		sym_print_return_value(sh, st->task, st->finish_func);
	sh_do_displays(sh);
}
