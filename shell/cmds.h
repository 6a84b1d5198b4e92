/* Command handlers, one group per file. */
#ifndef REWIND_CMDS_H
#define REWIND_CMDS_H

#include "shell.h"

/* cmd_run.c */
int cmd_run(struct shell *sh, char *args);
int cmd_start(struct shell *sh, char *args);
int cmd_starti(struct shell *sh, char *args);
int cmd_continue(struct shell *sh, char *args);
int cmd_signal(struct shell *sh, char *args);
int cmd_step(struct shell *sh, char *args);
int cmd_next(struct shell *sh, char *args);
int cmd_stepi(struct shell *sh, char *args);
int cmd_nexti(struct shell *sh, char *args);
int cmd_finish(struct shell *sh, char *args);
int cmd_until(struct shell *sh, char *args);
int cmd_advance(struct shell *sh, char *args);
int cmd_kill(struct shell *sh, char *args);
int cmd_attach(struct shell *sh, char *args);
int cmd_detach(struct shell *sh, char *args);

/* cmd_break.c */
int cmd_break(struct shell *sh, char *args);
int cmd_tbreak(struct shell *sh, char *args);
int cmd_hbreak(struct shell *sh, char *args);
int cmd_watch(struct shell *sh, char *args);
int cmd_rwatch(struct shell *sh, char *args);
int cmd_awatch(struct shell *sh, char *args);
int cmd_delete(struct shell *sh, char *args);
int cmd_disable(struct shell *sh, char *args);
int cmd_enable(struct shell *sh, char *args);
int cmd_condition(struct shell *sh, char *args);
int cmd_ignore(struct shell *sh, char *args);
int cmd_clear(struct shell *sh, char *args);
int cmd_info_breakpoints(struct shell *sh, char *args);
void sh_print_new_breakpoint(struct shell *sh, struct breakpoint *b);

/* cmd_data.c */
int cmd_x(struct shell *sh, char *args);
int cmd_info_registers(struct shell *sh, char *args);
int cmd_info_all_registers(struct shell *sh, char *args);
int cmd_disassemble(struct shell *sh, char *args);

/* cmd_misc.c */
int cmd_help(struct shell *sh, char *args);
int cmd_quit(struct shell *sh, char *args);
int cmd_echo(struct shell *sh, char *args);
int cmd_source(struct shell *sh, char *args);
int cmd_info_threads(struct shell *sh, char *args);
int cmd_thread(struct shell *sh, char *args);
int cmd_handle(struct shell *sh, char *args);
int cmd_info_signals(struct shell *sh, char *args);
int cmd_info_inferiors(struct shell *sh, char *args);
int cmd_file(struct shell *sh, char *args);

/* cmd_checkpoint.c */
int sh_delete_checkpoint(struct shell *sh, char *args);
int cmd_checkpoint(struct shell *sh, char *args);
int cmd_bookmark(struct shell *sh, char *args);
int cmd_info_checkpoints(struct shell *sh, char *args);
int cmd_restart(struct shell *sh, char *args);
int set_auto_checkpoint(struct shell *sh, char *args);
int set_checkpoint_memory(struct shell *sh, char *args);
int set_checkpoint_files(struct shell *sh, char *args);
int set_checkpoint_compact(struct shell *sh, char *args);

/* cmd_record.c */
int set_record(struct shell *sh, char *args);
int cmd_info_record(struct shell *sh, char *args);

/* cmd_reverse.c */
int cmd_reverse_continue(struct shell *sh, char *args);
int cmd_reverse_step(struct shell *sh, char *args);
int cmd_reverse_next(struct shell *sh, char *args);
int cmd_reverse_stepi(struct shell *sh, char *args);
int cmd_reverse_nexti(struct shell *sh, char *args);
int cmd_reverse_finish(struct shell *sh, char *args);
int cmd_when(struct shell *sh, char *args);
int cmd_info_timeline(struct shell *sh, char *args);
int cmd_goto(struct shell *sh, char *args);
int cmd_last(struct shell *sh, char *args);
int cmd_bisect(struct shell *sh, char *args);
int cmd_checksum(struct shell *sh, char *args);

/* cmd_set.c */
int sh_set_args(struct shell *sh, char *args);
extern const struct sh_cmd sh_set_cmds[];
extern const struct sh_cmd sh_show_cmds[];
int cmd_set(struct shell *sh, char *args);
int cmd_show(struct shell *sh, char *args);

/* cmd_sym.c (symbols needed) */
int cmd_print(struct shell *sh, char *args);
int cmd_output(struct shell *sh, char *args);
int cmd_call(struct shell *sh, char *args);
int cmd_set_var(struct shell *sh, char *args);
int cmd_ptype(struct shell *sh, char *args);
int cmd_whatis(struct shell *sh, char *args);
int cmd_backtrace(struct shell *sh, char *args);
int cmd_frame(struct shell *sh, char *args);
int cmd_up(struct shell *sh, char *args);
int cmd_down(struct shell *sh, char *args);
int cmd_list(struct shell *sh, char *args);
int cmd_info_locals(struct shell *sh, char *args);
int cmd_info_args(struct shell *sh, char *args);
int cmd_info_frame(struct shell *sh, char *args);
int cmd_info_line(struct shell *sh, char *args);
int cmd_info_symbol(struct shell *sh, char *args);
int cmd_info_sharedlibrary(struct shell *sh, char *args);
int cmd_info_source(struct shell *sh, char *args);
int cmd_display(struct shell *sh, char *args);
int cmd_undisplay(struct shell *sh, char *args);
int cmd_info_display(struct shell *sh, char *args);
void sh_do_displays(struct shell *sh);

extern const struct sh_cmd sh_info_cmds[];

#endif
