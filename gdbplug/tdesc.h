/* tdesc: the x86-64 GNU/Linux target description rewind's gdb server offers, and the
 * mapping from gdb's register numbers (as fixed by that description) to rewind's register
 * storage: a struct user_regs_struct and an XSAVE image as NT_X86_XSTATE returns it.
 *
 * Three variants, chosen from the CPU (regs_xsave_layout()): SSE (core, sse, linux,
 * segments), AVX (adds ymm0h-15h), AVX-512 (adds xmm16-31, ymm16h-31h, k0-7,
 * zmm0h-31h). Register numbers, in g-packet order:
 *   0-15 rax rbx rcx rdx rsi rdi rbp rsp r8-r15, 16 rip, 17 eflags, 18-23 cs ss ds es fs gs,
 *   24-31 st0-7 (10 bytes), 32-39 fctrl fstat ftag fiseg fioff foseg fooff fop,
 *   40-55 xmm0-15, 56 mxcsr, 57 orig_rax, 58 fs_base, 59 gs_base, 60-75 ymm0h-15h,
 *   76-91 xmm16-31, 92-107 ymm16h-31h, 108-115 k0-7, 116-147 zmm0h-31h.
 * gdb builds ymm/zmm from these pieces itself. XSAVE components whose XSTATE_BV bit is
 * clear read as their initial values; writing a register sets its component's bit. */
#ifndef REWIND_TDESC_H
#define REWIND_TDESC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "core/util.h"

enum tdesc_variant { TDESC_SSE, TDESC_AVX, TDESC_AVX512 };

#define TDESC_OFF_NONE ((size_t)-1)

/* How a register's storage relates to its wire form. */
enum tdesc_store {
	TS_GPR,     /* 8 bytes in user_regs_struct; wire 4 or 8 (low bytes) */
	TS_FX16,    /* 16-bit FXSAVE field, wire 32 bits (fctrl, fstat) */
	TS_FOP,     /* 11-bit opcode in a 16-bit field, wire 32 bits */
	TS_FTAG,    /* abridged FXSAVE tag byte <-> full 16-bit i387 tag word */
	TS_XSAVE,   /* bytes at the same size in the XSAVE image */
};

struct tdesc_reg {
	const char *name;
	unsigned regno;
	unsigned size;          /* bytes on the wire */
	enum tdesc_store store;
	size_t off;             /* in user_regs_struct (TS_GPR) or the XSAVE image;
	                           TDESC_OFF_NONE if this CPU lacks the component */
	int component;          /* XSAVE component (0 x87, 1 SSE, 2 AVX, 5-7 AVX-512); -1 GPR */
};

/* rewind's register storage for one thread. xsave may be NULL (xsave_len 0): then only
 * the general registers are available; 512 bytes is a bare FXSAVE area (no AVX). */
struct tdesc_regs {
	struct user_regs_struct *gpr;
	uint8_t *xsave;
	size_t xsave_len;
};

struct tdesc;

/* The description for a variant (built once, never freed). */
const struct tdesc *tdesc_get(enum tdesc_variant v);
/* The richest variant this CPU's XSAVE layout supports. */
enum tdesc_variant tdesc_host_variant(void);

/* target.xml for qXfer:features:read. tdesc_lookup_xml answers an annex: "target.xml"
 * gives the document (everything inline); anything else -ENOENT. */
const char *tdesc_xml(const struct tdesc *t, size_t *len);
int tdesc_lookup_xml(const struct tdesc *t, const char *annex, const char **doc, size_t *len);

size_t tdesc_nregs(const struct tdesc *t);
/* Register by number (NULL past the end) or by name (NULL if unknown). */
const struct tdesc_reg *tdesc_reg(const struct tdesc *t, unsigned regno);
const struct tdesc_reg *tdesc_reg_by_name(const struct tdesc *t, const char *name);
/* Bytes in a g packet (before hex encoding). */
size_t tdesc_g_size(const struct tdesc *t);

/* Read register regno into out (at least its size; 32 bytes always suffice); *len gets
 * the wire size. Returns 0, -EINVAL for an unknown regno, or -ENODATA if the storage
 * does not hold it (no XSAVE image, or the CPU lacks the component). */
int tdesc_read_reg(const struct tdesc *t, unsigned regno, const struct tdesc_regs *r,
		   uint8_t *out, size_t *len);

/* Write register regno from len wire bytes. Returns 0, -EINVAL (unknown regno or len
 * differs from the register's size) or -ENODATA (not held; nothing written). */
int tdesc_write_reg(const struct tdesc *t, unsigned regno, const uint8_t *val, size_t len,
		    struct tdesc_regs *r);

/* The g reply: every register in order, hex; unavailable ones as "xx..". */
void tdesc_encode_g(const struct tdesc *t, const struct tdesc_regs *r, struct sbuf *out);

/* Apply a G packet's decoded bytes. len may be shorter than tdesc_g_size but must end on
 * a register boundary; registers the storage does not hold are skipped. Returns 0 or
 * -EINVAL (bad length: nothing written). */
int tdesc_decode_g(const struct tdesc *t, const uint8_t *data, size_t len, struct tdesc_regs *r);

/* "06:<rbp>;07:<rsp>;10:<rip>;" for a stop reply, saving gdb a g round trip. */
void tdesc_expedite(const struct tdesc *t, const struct tdesc_regs *r, struct sbuf *out);

#endif
