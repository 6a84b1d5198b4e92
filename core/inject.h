/* inject: run a system call inside a stopped tracee, as the tracee.
 *
 * Sequence (as CRIU's compel): save registers and signal mask, block every signal
 * but SIGTRAP (see inject.c), point rip at a `syscall` instruction already mapped in
 * the tracee (the vDSO's, so no memory is patched), load the ABI registers,
 * single-step it, read rax, restore registers and mask. The tracee is left exactly as it was unless it died. */
#ifndef REWIND_INJECT_H
#define REWIND_INJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "target.h"

/* Run syscall `nr` with args in task t (stopped, not inside a syscall-entry or
 * seccomp stop). *ret gets the raw result (a negative value is the tracee's -errno).
 * If the call creates a task (fork/clone) and child is non-NULL, *child is that task,
 * stopped at its first stop. Returns 0, or -errno if the injection itself failed
 * (-ESRCH: the tracee died; -EBUSY: it is inside a syscall-entry stop). */
int inject_syscall(struct target *tg, struct task *t, long nr, const uint64_t args[6],
		   int64_t *ret, struct task **child);

/* Convenience wrappers with up to 6 arguments. */
int inject_syscall6(struct target *tg, struct task *t, long nr, int64_t *ret, uint64_t a0,
		    uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

/* Whether a `syscall` instruction (0f 05) is at addr in p (breakpoints hidden). */
bool inject_is_syscall_insn(struct proc *p, uint64_t addr);

/* Address of a `syscall` instruction in p (cached per exec). 0 if none found. */
uint64_t inject_find_syscall_insn(struct proc *p);

#endif
