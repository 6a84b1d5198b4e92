/* sym/access: how the symbol layer reads and writes a target's state.
 *
 * The same unwinder, location evaluator and expression evaluator run over a live
 * task, a snapshot or a recorded execution: each supplies this vtable. Every
 * callback returns 0 or -errno. Registers are those of the innermost frame; the
 * extended state is an NT_X86_XSTATE buffer laid out as core/regs.h describes. */
#ifndef REWIND_SYM_ACCESS_H
#define REWIND_SYM_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

struct task;

struct sym_access {
	void *ctx;
	int (*read_mem)(void *ctx, uint64_t addr, void *buf, size_t len);
	int (*write_mem)(void *ctx, uint64_t addr, const void *buf, size_t len);
	int (*get_regs)(void *ctx, struct user_regs_struct *out);
	int (*set_regs)(void *ctx, const struct user_regs_struct *in);
	int (*get_xstate)(void *ctx, uint8_t **buf, size_t *len);
	int (*set_xstate)(void *ctx, const uint8_t *buf, size_t len);
};

/* Fill *out so that it reads and writes the stopped task t: memory through
 * proc_read()/proc_write() (inserted breakpoints stay hidden), registers through
 * the task's register cache. out->ctx is t; nothing is allocated. */
void sym_access_for_task(struct task *t, struct sym_access *out);

#endif
