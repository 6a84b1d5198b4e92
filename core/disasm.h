/* disasm: x86-64 instruction decoding with capstone: lengths, kinds (call, ret,
 * jumps, syscall, rdtsc...), direct branch targets, and AT&T text as gdb prints it. */
#ifndef REWIND_DISASM_H
#define REWIND_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum insn_kind {
	IK_OTHER,
	IK_CALL,
	IK_RET,
	IK_JMP,       /* unconditional jump */
	IK_JCC,       /* conditional jump (incl. loop, jrcxz) */
	IK_SYSCALL,
	IK_INT3,
	IK_RDTSC,
	IK_RDTSCP,
	IK_CPUID,
	IK_HLT,
};

struct insn {
	uint64_t addr;
	unsigned len;
	enum insn_kind kind;
	uint64_t target;      /* direct call/jump target; 0 when indirect or none */
	bool rip_relative;    /* has a RIP-relative memory operand */
	int64_t rip_disp;     /* its displacement */
	uint8_t disp_off;     /* where that 32-bit displacement is in bytes[] (0: none) */
	bool rep_string;      /* rep/repe/repne string instruction: steps stop per iteration */
	char mnemonic[32];
	char operands[160];
	uint8_t bytes[16];
};

/* Decode one instruction at code[0..len) located at addr. 0, or -EINVAL if the bytes
 * are not a valid instruction. */
int disasm_one(const uint8_t *code, size_t len, uint64_t addr, struct insn *out);

/* Length of the instruction, or 0 if invalid. */
unsigned disasm_len(const uint8_t *code, size_t len, uint64_t addr);

/* The instruction as gdb/objdump print AT&T: "mov    -0x4(%rbp),%eax" (mnemonic
 * padded to 6, no space after commas, hex displacements, size suffix only when no
 * register operand gives the size). *rip_target gets the address a RIP-relative
 * operand refers to (0 if none), for gdb's "# 0x... <sym>" comment. */
void disasm_format_gdb(const struct insn *in, char *buf, size_t len, uint64_t *rip_target);

/* Use Intel syntax instead of AT&T (gdb's default) for later calls. */
void disasm_set_intel(bool intel);

#endif
