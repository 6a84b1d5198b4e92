/* condtrap: a breakpoint that tests its condition inside the tracee.
 *
 * A breakpoint at a hot instruction stops the thread at every pass, tens of µs each
 * (PEERS.md). A condtrap replaces the instruction(s) at addr with a jump to a
 * trampoline in a page of the tracee's; the trampoline computes condtrap_key() of
 * the registers and the stack's top and traps (int3) only when it equals the wanted key,
 * otherwise it runs the displaced instructions and jumps back: about 130
 * instructions a pass (~20x an -O0 loop body), no stop.
 *
 * Contract: the jump is in memory only while the owner task runs (resumed other
 * than by a single step); every stop of a task of the process takes it out again,
 * before anyone looks (target.c calls condtrap_stopped), and a task stopped inside
 * the trampoline is put back at the equivalent original instruction with its own
 * registers. A trap of the trampoline is reported as TEV_CONDTRAP with the task at
 * addr; condtrap_pass() resumes it past that one check. The page stays mapped for
 * the process's life (at an address derived from addr, found again by its magic),
 * so a restored copy reuses it. proc_read() shows the original bytes. */
#ifndef REWIND_CONDTRAP_H
#define REWIND_CONDTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "task.h"

struct target;
struct proc;
struct tev;

/* 8-byte words of the stack's top in the key: a loop whose registers repeat at every
 * pass (its variables live in memory, -O0) is told apart by them. The trampoline
 * reads them, so they must be mapped (a thread's stack has its TCB or the
 * environment above). */
#define CONDTRAP_TOP 32

/* The key the trampoline computes: a sum of the general registers, rsp, the status
 * flags, r11 (less RF and TF) and the stack's top words, each times its own odd
 * constant. 0 means "no key". */
uint64_t condtrap_key(const struct user_regs_struct *r, const uint64_t top[CONDTRAP_TOP]);

/* Arm a condtrap at addr for task t (stopped), trapping when condtrap_key == key.
 * parts[0..nparts) are the address ranges of the function holding addr, every one
 * (a .cold part too): when the jump replaces more than one instruction, no branch
 * in them may land inside it (nparts 0: unknown, then it may replace only one).
 * Returns 0, or <0 when addr cannot take one (-ENOTSUP: an instruction that cannot
 * move, a possible branch target inside the patch, a breakpoint there; -ENOMEM: no
 * page within reach; -EBUSY: another thread runs): the caller traps at every hit
 * instead. */
int condtrap_arm(struct target *tg, struct task *t, uint64_t addr, uint64_t key,
		 const uint64_t (*parts)[2], int nparts);

/* Forget the armed condtrap of p (the jump is out: p's tasks are stopped). */
void condtrap_disarm(struct proc *p);

/* Whether t's process has a condtrap armed at addr for t, with that key, that can go
 * in now (no breakpoint under it, no handler of t's returning inside it since). */
bool condtrap_armed(struct task *t, uint64_t addr, uint64_t key);

/* Called by task_resume before t runs in mode m: puts the jump in for the owner. */
void condtrap_resume(struct task *t, enum resume_mode m);

/* Called at every stop of t (raw wait status), its registers just invalidated:
 * takes the jump out and moves t out of the trampoline. True if the stop is the
 * trampoline's trap (t now stands at the armed address; a fault of the check
 * itself, reading the stack, is told so too, with the condtrap disarmed for good). */
bool condtrap_stopped(struct task *t, int status);

/* t stands at the armed address after a trap that was not the one wanted: its next
 * resume runs the displaced instructions without checking again. */
void condtrap_pass(struct task *t);

/* Whether start..end (a mapping of p's) is a condtrap page: not the program's
 * memory (checksums of the program's state leave it out). */
bool condtrap_is_page(struct proc *p, uint64_t start, uint64_t end);

/* proc_read's part: show the original bytes where the jump is. */
void condtrap_hide(const struct proc *p, uint64_t at, void *buf, size_t len);

void condtrap_free(struct proc *p);

#endif
