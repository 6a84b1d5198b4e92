/* shell: the rewind command line. Only this folder prints for humans or exits. */
#ifndef REWIND_SHELL_H
#define REWIND_SHELL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "replay/session.h"

struct shell;

/* A command handler. args is the rest of the line (trimmed, modifiable).
 * Returns 0, or -1 after reporting the error with sh_error(). */
typedef int (*sh_cmd_fn)(struct shell *sh, char *args);

struct sh_cmd {
	const char *name;
	const char *aliases;      /* space-separated abbreviations gdb also accepts */
	sh_cmd_fn fn;
	const char *help;         /* first line: summary; rest: details */
	bool repeat;              /* an empty line repeats it (step, next, continue...) */
	const struct sh_cmd *sub; /* subcommand table for prefix commands (info, set, show) */
};

struct shell {
	struct session sess;
	bool batch;
	bool interactive;         /* reading a terminal */
	int failed;               /* commands that failed (batch exit status) */
	char *last_line;          /* for empty-line repeat */
	unsigned frame;           /* selected frame level for print/info locals */
	char *list_file;          /* `list` position */
	int list_line;
	int list_last;            /* last line printed by list, for "list" continuation */
	bool quit;
	int exit_code;
	void *symstate;           /* shell/symbols.c private state */
	unsigned prev_thread;     /* for "[Switching to thread ...]" */
};

extern const struct sh_cmd sh_commands[];

/* Output. sh_out goes to stdout; sh_error to stderr and marks the command failed. */
void sh_out(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sh_error(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sh_flush_notices(struct shell *sh);
/* The inferior's notice callback: print at once. */
void sh_notice(void *ctx, const char *msg);

/* Run one command line. Returns 0 or -1 (failed). */
int sh_execute(struct shell *sh, const char *line);
/* Find a command in a table by name or unique prefix; NULL (and *ambiguous) if none. */
const struct sh_cmd *sh_lookup(const struct sh_cmd *tab, const char *word, bool *ambiguous);

/* The interactive loop / batch driver. */
int sh_repl(struct shell *sh);
int sh_source(struct shell *sh, const char *path);

/* Report a stop the way gdb does. */
void sh_print_stop(struct shell *sh, const struct stop *st);
/* Print "FUNC (ARGS) at FILE:LINE\nLINE\tsource" (or the ?? form) for thread t's frame. */
void sh_print_location(struct shell *sh, struct task *t, enum stop_print how, bool show_pc);

/* Utilities for handlers. */
char *sh_next_word(char **args);
bool sh_need_process(struct shell *sh);
struct inferior *sh_inf(struct shell *sh);
/* Parse an integer expression for a command argument (numbers only without symbols). */
int sh_parse_u64(struct shell *sh, const char *text, uint64_t *out);

#endif
