/* regs: x86-64 register sets as ptrace sees them, named access, DWARF numbering,
 * and the XSAVE layout of the extended state (x87/SSE/AVX/AVX-512). */
#ifndef REWIND_REGS_H
#define REWIND_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

/* Byte offsets of components inside an XSAVE buffer (CPUID leaf 0xD, probed once). */
struct xsave_layout {
	size_t size;        /* NT_X86_XSTATE size the kernel accepts */
	size_t avx_off;     /* YMM_Hi128 (16 x 16 bytes), 0 if absent */
	size_t k_off;       /* opmask k0-k7 (8 x 8 bytes), 0 if absent */
	size_t zmm_hi_off;  /* ZMM_Hi256 of zmm0-15 (16 x 32 bytes), 0 if absent */
	size_t hi16_off;    /* zmm16-31 (16 x 64 bytes), 0 if absent */
};
const struct xsave_layout *regs_xsave_layout(void);

/* Offsets in the legacy FXSAVE area (first 512 bytes of XSAVE). */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_FOP 6
#define FX_FIP 8
#define FX_FDP 16
#define FX_MXCSR 24
#define FX_ST(i) (32 + 16 * (i))
#define FX_XMM(i) (160 + 16 * (i))
#define XSAVE_HDR_OFF 512

enum reg_class { RC_GPR, RC_SEG, RC_FLAGS, RC_X87, RC_SSE, RC_AVX, RC_DEBUG };

/* One named register: where it lives and how big it is. */
struct reg_desc {
	const char *name;
	enum reg_class cls;
	unsigned size;      /* bytes */
	size_t gpr_off;     /* for RC_GPR/RC_SEG/RC_FLAGS: offset in user_regs_struct */
	int dwarf;          /* DWARF register number, -1 if none */
	int index;          /* st/xmm/ymm index for vector classes */
};

/* Table of every register rewind can name, in "info registers" order. */
extern const struct reg_desc regs_table[];
extern const size_t regs_table_len;

/* Look up by name (rip, eax, xmm3, fs_base); NULL if unknown. */
const struct reg_desc *regs_by_name(const char *name);
/* DWARF register number -> offset in user_regs_struct, or -1 (non-GPR). */
int regs_dwarf_to_gpr_off(int dwarf);

/* Sub-registers: "eax" is the low 32 bits of rax, and so on. Returns the 64-bit
 * register offset and fills shift and width (bits); -1 if name is not a sub-register. */
int regs_subreg(const char *name, unsigned *shift, unsigned *width);

static inline uint64_t *regs_gpr(struct user_regs_struct *r, size_t off)
{
	return (uint64_t *)((char *)r + off);
}

/* Format eflags as gdb does: "[ ZF PF IF ]". */
void regs_format_eflags(uint64_t fl, char *buf, size_t len);

#endif
