/* loc: DWARF location expressions and location lists (DWARF 4 .debug_loc and
 * DWARF 5 .debug_loclists, through libdw) evaluated against a frame: where a
 * variable lives (memory, a register, pieces) or its value when it lives nowhere.
 * No location covering the pc means <optimized out>, never a guess. */
#ifndef REWIND_SYM_LOC_H
#define REWIND_SYM_LOC_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "unwind.h"

enum loc_kind {
	LOC_NONE,       /* optimized out */
	LOC_MEM,        /* in memory at addr */
	LOC_REG,        /* in DWARF register reg of the frame */
	LOC_VALUE,      /* DW_OP_stack_value: the value is `value` */
	LOC_IMPLICIT,   /* DW_OP_implicit_value: the value is bytes[0..nbytes) */
	LOC_PIECES,     /* DW_OP_piece / DW_OP_bit_piece composition */
};

struct loc_piece {
	enum loc_kind kind;     /* any but LOC_PIECES */
	uint64_t addr;
	int reg;
	uint64_t value;
	const uint8_t *bytes;
	uint64_t bits;          /* size of the piece in bits */
	uint64_t bit_off;       /* DW_OP_bit_piece offset within the source */
};

struct loc {
	enum loc_kind kind;
	uint64_t addr;
	int reg;
	uint64_t value;
	const uint8_t *bytes;   /* into the DWARF data: valid while the symtab lives */
	size_t nbytes;
	struct loc_piece *pieces;   /* malloc'd (loc_free) */
	size_t npieces;
};

/* What an expression is evaluated against. */
struct loc_ctx {
	const struct sym_access *acc;       /* memory; NULL: no process */
	const struct unwind_frame *frame;   /* registers and CFA; NULL: no frame */
	Dwarf_Die *func;                    /* for DW_OP_fbreg (DW_AT_frame_base); may be NULL */
	uint64_t bias;                      /* module bias: relocates DW_OP_addr */
	bool has_object;                    /* DW_OP_push_object_address */
	uint64_t object_addr;
	/* For DW_OP_entry_value: the calling frame and the symbols to find its call
	 * site (DW_TAG_call_site parameters). NULL: entry values are optimized out. */
	struct symtab *st;
	const struct unwind_frame *caller;
};

/* Evaluate an expression. attr is the attribute it came from (for implicit
 * values and address indexes), may be NULL. Returns 0, or -errno with *err
 * (malloc'd) worded as gdb ("Cannot access memory at address 0x10"). */
int loc_eval_ops(const struct loc_ctx *c, Dwarf_Attribute *attr, const Dwarf_Op *ops,
                 size_t n, struct loc *out, char **err);
/* Evaluate a DW_AT_location (expression or location list at the frame's
 * lookup pc). A list with no entry for the pc gives LOC_NONE. */
int loc_eval_attr(const struct loc_ctx *c, Dwarf_Attribute *attr, struct loc *out, char **err);
/* Evaluate an expression that computes a number (array bounds, CFA rules). */
int loc_eval_value(const struct loc_ctx *c, Dwarf_Attribute *attr, const Dwarf_Op *ops,
                   size_t n, uint64_t *val, char **err);
void loc_free(struct loc *l);
/* The value DWARF register reg had when the frame's function was entered, from
 * the caller's call site (DW_AT_call_value). 0, or -ENOENT if not recorded. */
int loc_entry_value(const struct loc_ctx *c, int reg, uint64_t *val);

#endif
