/* format: gdb's output for values, types and frames, exactly: `print` (with /x /d
 * /u /o /t /c /a /s /f /z), `ptype`/`whatis`, `info locals`/`info args`, frame
 * and backtrace lines, and `finish`'s returned value per the SysV ABI.
 * Everything is appended to an sbuf; nothing is printed. */
#ifndef REWIND_SYM_FORMAT_H
#define REWIND_SYM_FORMAT_H

#include <stdbool.h>

#include "core/util.h"
#include "unwind.h"
#include "value.h"

struct fmt_opts {
	char format;                /* 0, or one of x d u o t c a s f z */
	bool top;                   /* `print`: "(int *) " before pointers, "(int &) " */
	unsigned max_elements;      /* gdb's print elements (200); 0: unlimited */
	unsigned repeat_threshold;  /* gdb's repeats (10) */
};

/* The defaults of gdb's `print` (top-level, 200 elements, 10 repeats). */
void fmt_opts_default(struct fmt_opts *o);
/* Parse "/x" (the part after '/') into o->format. Returns 0 or -EINVAL with
 * *err ("Undefined output format \"q\"."). */
int fmt_parse_format(const char *spec, struct fmt_opts *o, char **err);

/* The text gdb prints after "$N = " for v. Errors while reading are part of
 * the text where gdb puts them (<error: ...> inside aggregates); at the top
 * level a value that cannot be read returns -errno with *err instead. */
int fmt_value(const struct sym_ctx *c, struct value *v, const struct fmt_opts *o,
              struct sbuf *out, char **err);

/* `ptype`: the type expanded one level ("struct node {\n    int value;\n...}").
 * `whatis`: its name ("struct node *", "point_t"). Neither appends "type = ". */
void fmt_ptype(const struct sym_ctx *c, struct type *t, struct sbuf *out);
void fmt_whatis(struct type *t, struct sbuf *out);

/* `info args` / `info locals` at the context's frame: "x = 5" lines, or "No
 * arguments." / "No locals." (gdb's wording; "No symbol table info available."
 * without debug info). */
void fmt_frame_vars(const struct sym_ctx *c, unsigned what, struct sbuf *out);

/* A frame's description as gdb prints it:
 *   stop line:  "bump (by=3) at ../src/loop.c:9"
 *   backtrace:  "#1  0x000055555555516d in main () at ../src/loop.c:16"
 * `bt` selects the backtrace form (level, and the pc when the frame is not at
 * the start of a line). Frames without debug info: "puts () from /lib/.../libc.so.6";
 * signal trampolines: "<signal handler called>". c->frame must be f, and
 * c->caller its caller (for "x=x@entry=5" parameters) or NULL. */
void fmt_frame_line(const struct sym_ctx *c, const struct unwind_frame *f, bool bt,
                    struct sbuf *out);

/* The value a function of return type t has just returned (frame 0 at the
 * return address), per the SysV x86-64 ABI: rax/rdx, xmm0/xmm1, st0, or the
 * memory rax points to. NULL with *err if t is void or unsupported. */
struct value *fmt_return_value(const struct sym_ctx *c, struct type *t, char **err);

#endif
