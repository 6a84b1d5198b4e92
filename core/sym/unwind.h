/* unwind: call stacks through libdwfl's CFI unwinder (our own callbacks over a
 * sym_access: libdwfl never ptrace-attaches), across libc and signal frames, with a
 * frame-pointer fallback where CFI is missing. Each frame carries the registers
 * recovered for it, so locals of outer frames can be read. */
#ifndef REWIND_SYM_UNWIND_H
#define REWIND_SYM_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "symtab.h"

/* DWARF registers 0..16: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip. */
#define UNWIND_NREGS 17
#define UNWIND_REG_RBP 6
#define UNWIND_REG_RSP 7
#define UNWIND_REG_RIP 16

struct unwind_frame {
	unsigned level;          /* 0 = innermost */
	uint64_t pc;             /* frame 0: the pc; callers: the return address */
	uint64_t lookup_pc;      /* for symbols, lines and scopes: pc, or pc - 1 in a
	                            caller frame (the call instruction), as gdb does */
	uint64_t cfa;            /* canonical frame address; 0 if unknown */
	bool signal_frame;       /* a signal trampoline ("<signal handler called>") */
	bool interrupted;        /* frame 0, or interrupted by a signal: pc is exact */
	bool by_fp;              /* reached through the frame-pointer fallback */
	uint32_t valid;          /* bit i set: regs[i] known ("<not saved>" otherwise) */
	uint32_t same_value;     /* bit i set: regs[i] not restored by the CFI, taken
	                            from the inner frame as gdb does */
	/* Inlined calls (UNWIND_INLINE): a real frame whose pc is inside k inlined
	 * bodies becomes k virtual frames (is_inline, innermost first) and the real
	 * function's frame, all with the same pc, registers and CFA. inline_skip
	 * counts the inlined scopes at the pc that lie inside this frame's function
	 * (0 for the innermost); symbols and variables are looked up past them. */
	bool is_inline;
	unsigned inline_skip;
	uint64_t regs[UNWIND_NREGS];
};

struct unwind_list {
	struct unwind_frame *v;
	size_t n, cap;
};

enum {
	UNWIND_PAST_MAIN = 1,    /* keep going past main (gdb's backtrace past-main) */
	UNWIND_INLINE = 2,       /* virtual frames for inlined calls, as gdb shows them */
};

/* The frames of the thread acc reads, innermost first, at most max (0: up to
 * 4096). Stops after main unless UNWIND_PAST_MAIN, at pc 0, and when frames stop
 * making progress. Returns 0 with at least frame 0 in out (appended), or -errno if
 * the registers cannot be read. */
int unwind_backtrace(struct symtab *st, const struct sym_access *acc, unsigned max,
                     unsigned flags, struct unwind_list *out);
void unwind_list_free(struct unwind_list *l);

/* What finish/next/until need, cheaply (two frames): frame 0's CFA, and its
 * caller's resume pc and CFA. Returns 0; -ENOENT when frame 0 has no caller
 * (outermost frame, e.g. main), with *cfa still set. */
int unwind_frame_info(struct symtab *st, const struct sym_access *acc, uint64_t *cfa,
                      uint64_t *caller_pc, uint64_t *caller_cfa);

/* Register r (DWARF number) of frame f: 0, or -ENOENT when not recovered. */
int unwind_reg(const struct unwind_frame *f, int r, uint64_t *val);

#endif
