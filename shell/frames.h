/* frames: evaluation contexts for the selected frame of a thread (the unwound
 * stack, a sym_ctx on it, an expr_env with the session's value history and
 * inferior calls). Used by every command that reads values. */
#ifndef REWIND_SH_FRAMES_H
#define REWIND_SH_FRAMES_H

#include "core/infcall.h"
#include "core/sym/expr.h"
#include "core/sym/format.h"
#include "core/sym/unwind.h"
#include "shell.h"

struct fctx {
	struct task *t;                /* NULL before the program runs */
	struct sym_access acc;
	struct unwind_list frames;
	struct sym_ctx ctx;
	struct expr_env env;
	struct infcall_expr icx;
	unsigned level;
};

/* Open a context on frame `level` of thread t (NULL: the selected thread; with no
 * process, globals from the program file). Returns 0, or -1 after reporting
 * ("No frame at level 3.", "No symbol table is loaded."). */
int fctx_open(struct shell *sh, struct task *t, unsigned level, struct fctx *f);
void fctx_close(struct fctx *f);
/* The shell's value history and convenience variables. */
struct expr_history *sh_history(struct shell *sh);
/* The source line for a frame (pc, or pc-1 in callers) as gdb prints it. */
void frame_source_line(struct shell *sh, struct fctx *f, unsigned level, struct sbuf *out);

#endif
