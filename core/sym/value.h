/* value: a typed value of the debuggee and where it lives (memory, a register of a
 * frame, nowhere), fetched lazily. Member access, indexing, dereference, address-
 * of, casts, arithmetic conversions and assignment write through the same
 * sym_access, so the same code works on live tasks, snapshots and recordings. */
#ifndef REWIND_SYM_VALUE_H
#define REWIND_SYM_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "symtab.h"
#include "types.h"
#include "unwind.h"

/* Where values are read: a symtab, a target (NULL before `run`: globals are read
 * from the files), a frame (NULL: no frame, only globals). */
struct sym_ctx {
	struct symtab *st;
	const struct sym_access *acc;
	const struct unwind_frame *frame;
	const struct unwind_frame *caller;  /* the frame's caller (entry values,
	                                       "x@entry"), NULL if unknown */
};

enum value_lval {
	LV_NONE,        /* a computed value */
	LV_MEM,         /* in memory at addr */
	LV_REG,         /* in DWARF register reg of frame frame_level */
	LV_CONV,        /* a convenience variable (conv names it) */
};

struct value {
	struct type *type;
	enum value_lval lval;
	uint64_t addr;
	int reg;
	unsigned frame_level;
	unsigned bitpos, bitsize;   /* bitfields: bits within the bytes at addr */
	bool lazy;                  /* contents not read yet */
	bool optimized_out;
	char *error;                /* contents unreadable: gdb's message */
	uint8_t *bytes;             /* type_size(type) bytes (at least 1) */
	size_t len;
	const char *conv;           /* LV_CONV: the variable's name */
	const char *regname;        /* $reg values: the name, for assignment */
	bool readonly;              /* value history entries: not assignable */
	uint8_t *optmask;           /* NULL, or one flag per byte: that byte is
	                               optimized out (DWARF pieces nowhere) */
};

struct value *value_new(struct type *t);
/* A lazy value in memory. */
struct value *value_at(struct type *t, uint64_t addr);
struct value *value_from_long(struct type *t, int64_t v);
struct value *value_from_double(struct type *t, double v);
struct value *value_optimized_out(struct type *t);
struct value *value_copy(const struct value *v);
void value_free(struct value *v);

/* Read the contents of a lazy value. Returns 0, or -errno with v->error set
 * ("Cannot access memory at address 0x0"); an optimized-out value is an error
 * too (-ENODATA). */
int value_fetch(const struct sym_ctx *c, struct value *v);
/* Integer view (integers, chars, bools, enums, pointers; floats truncate). */
int value_as_long(const struct sym_ctx *c, struct value *v, int64_t *out, char **err);
int value_as_double(const struct sym_ctx *c, struct value *v, double *out, char **err);
bool value_is_true(const struct sym_ctx *c, struct value *v, int *err);

/* Member `name` of a struct/union/class value (searching anonymous members and
 * base classes). NULL with *err ("There is no member named x.") if none. */
struct value *value_member(const struct sym_ctx *c, struct value *v, const char *name,
                           char **err);
/* The i-th field (no lookup). */
struct value *value_field(const struct sym_ctx *c, struct value *v, size_t i);
/* v[i] for arrays and pointers. */
struct value *value_index(const struct sym_ctx *c, struct value *v, int64_t i, char **err);
/* *v for pointers (and the referent of references). */
struct value *value_deref(const struct sym_ctx *c, struct value *v, char **err);
/* &v: "Attempt to take address of value not located in memory." otherwise. */
struct value *value_addr(const struct sym_ctx *c, struct value *v, char **err);
/* The referent of a C++ reference (v itself otherwise; never NULL). */
struct value *value_coerce_ref(const struct sym_ctx *c, struct value *v);
/* Arrays decay to pointers to their first element; functions to pointers. */
struct value *value_coerce_array(const struct sym_ctx *c, struct value *v);
/* (type) v. */
struct value *value_cast(const struct sym_ctx *c, struct value *v, struct type *t, char **err);
/* lhs = rhs, converted to lhs's type; writes memory or the register. Returns
 * the new value of lhs, or NULL with *err. */
struct value *value_assign(const struct sym_ctx *c, struct value *lhs, struct value *rhs,
                           char **err);
/* The value of a register of the context's frame by gdb name ($rip, $eax, $pc,
 * $sp, $fp, $eflags, $xmm0). NULL with *err if unknown or not available. */
struct value *value_of_register(const struct sym_ctx *c, const char *name, char **err);
/* Look a name up as gdb's `print` does: locals and parameters of the frame's
 * blocks (innermost first, members of `this`), the file's statics, globals and
 * functions of every module, enumerators, then ELF symbols. NULL with *err =
 * "No symbol \"foo\" in current context." when nothing matches. */
struct value *value_lookup(const struct sym_ctx *c, const char *name, char **err);

/* The variables `info args` / `info locals` show at the frame, in gdb's order
 * (parameters in order; locals innermost block first, in declaration order). */
struct value_var {
	const char *name;
	struct value *value;
	struct value *entry;    /* parameters: the value at function entry, from the
	                           caller's call site; NULL if not known */
};
struct value_var_list {
	struct value_var *v;
	size_t n, cap;
};
enum { VALUE_ARGS = 1, VALUE_LOCALS = 2 };
int value_frame_vars(const struct sym_ctx *c, unsigned what, struct value_var_list *out);
void value_var_list_free(struct value_var_list *l);
/* The function of the frame: its name (gdb's print name; NULL without DWARF)
 * and its return type (NULL if unknown). */
int value_frame_function(const struct sym_ctx *c, const char **name, struct type **ret);

/* Where gdb says the frame is (its "sal"): for the caller of an inlined call
 * (inline_skip > 0) the call's position, else the line table's line at the
 * frame's lookup pc. *exact is set when that position is the call (no address
 * is printed for such frames). Returns 0 or -ENOENT (no line information). */
int value_frame_location(const struct sym_ctx *c, const char **file, const char **fullpath,
                         int *line, bool *at_call);
/* Is the frame's function an inlined instance (a virtual inline frame)? */
bool value_frame_in_inlined(const struct sym_ctx *c);

/* Read memory: through the target, or from the files before `run`. */
int value_read_mem(const struct sym_ctx *c, uint64_t addr, void *buf, size_t len);

#endif
