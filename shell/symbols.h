/* symbols: the shell's window onto core/sym — frame lines, source lines, location
 * specs, completion. Every function degrades gracefully without debug info. */
#ifndef REWIND_SH_SYMBOLS_H
#define REWIND_SH_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

#include "shell.h"

/* "bump (by=3) at loop.c:9" for frame `level` of t (args formatted when with_args),
 * or "0x... in ?? ()" without symbols. */
int sym_frame_line(struct shell *sh, struct task *t, unsigned level, bool with_args,
		   struct sbuf *out);
/* The source line at pc as gdb prints it: "9\t  counter += by;". -ENOENT if unknown;
 * then `out` gets gdb's "9\tin loop.c" / "loop.c: No such file..." form when possible. */
int sym_source_line(struct shell *sh, struct task *t, uint64_t pc, struct sbuf *out);
/* True if pc is the first address of a source line (gdb prints no address then). */
bool sym_at_line_start(struct shell *sh, struct task *t, uint64_t pc);
/* " <main+4>" for an address, or "" if unknown. */
void sym_addr_suffix(struct shell *sh, uint64_t addr, struct sbuf *out);
/* Resolve a location spec to one address (until/advance/tbreak helpers). */
int sym_resolve_one(struct shell *sh, const char *spec, uint64_t *addr);
/* Function bounds around pc (disassemble); -ENOENT if unknown. */
int sym_function_bounds(struct shell *sh, uint64_t pc, uint64_t *lo, uint64_t *hi, struct sbuf *name);
/* Evaluate an expression to an integer/address (x ADDR, until *EXPR...). */
int sym_eval_u64(struct shell *sh, const char *expr, uint64_t *out);
/* Readline completion generator for symbol names. */
char *sym_complete(struct shell *sh, const char *text, int state);
/* Format a watched value (its expression's type) from raw bytes. */
void sym_format_watch(struct shell *sh, struct breakpoint *b, const uint8_t *bytes, bool valid,
		      struct sbuf *out);
/* After finish: "Value returned is $N = ..." for the function at func_addr. */
void sym_print_return_value(struct shell *sh, struct task *t, uint64_t func_addr);
/* Address, size and (for locals) frame CFA of an lvalue expression, for watch. */
int sym_eval_lvalue(struct shell *sh, const char *expr, uint64_t *addr, unsigned *len,
		    uint64_t *scope_cfa);
/* Remember a watchpoint's type so its values print typed. */
void sym_watch_remember_type(struct shell *sh, struct breakpoint *b);
/* Parse-check an expression in the current scope (condition N EXPR). */
int sym_check_expression(struct shell *sh, const char *expr);
/* Whether an unresolvable breakpoint may become pending (set breakpoint pending). */
bool sym_pending_allowed(struct shell *sh);
/* The program file changed (file command, startup): reload its symbols. */
void sym_program_changed(struct shell *sh);
/* Install core/sym as the inferior's symbol services. */
void sym_install(struct shell *sh);

#endif
