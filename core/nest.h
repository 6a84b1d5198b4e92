/* nest: emulated ptrace, so that tracers run inside a supervised tree (gdb, strace)
 * and the whole tree can be checkpointed.
 *
 * rewind stays the only real tracer of every process of a target. A seccomp filter
 * installed before exec (see nest_trapped) stops every supervised process at its
 * ptrace(), wait4(), waitid(), kill(), tgkill(), tkill() and getppid() (those that
 * never block through a user-notification listener, the waits at a ptrace stop);
 * nest performs the request itself: it keeps who traces whom with which options, turns rewind's
 * real stops of a nested tracee into the stops its tracer asked for (hiding the
 * others), answers wait4/waitid from its own model of children, zombies and tracees
 * (blocking waits sleep in the kernel, interruptible by signals), and sends SIGCHLD
 * with the siginfo the kernel would give. Memory goes through the kernel: a nested
 * tracer opens /proc/PID/mem and calls process_vm_readv itself (the kernel allows it
 * to a descendant or to root); nest reopens such fds after a restore.
 *
 * nest decides how every task of the target resumes: a caller feeds it every event
 * and never resumes a task itself. */
#ifndef REWIND_NEST_H
#define REWIND_NEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target.h"
#include "util.h"

struct nest;
/* A saved copy of the emulation state, for a checkpoint. */
struct nest_state;

/* Syscall numbers the supervised processes must stop at with SECCOMP_RET_TRACE; the
 * filter's data is ignored (nest looks at the number). */
extern const int nest_trapped[];
extern const size_t nest_ntrapped;

/* Of those, the ones best answered through a seccomp user-notification listener
 * (SECCOMP_RET_USER_NOTIF: no ptrace stop); the others need SECCOMP_RET_TRACE. */
bool nest_by_listener(int nr);
/* wait4 goes to the listener only when an argument matches: (args[*arg] & *mask) ==
 * *value (WNOHANG, exits only); otherwise, and waitid always, SECCOMP_RET_TRACE.
 * Syscalls that go to the listener must never be injected into a supervised process
 * (rewind would wait for its own answer). */
bool nest_wait_by_listener(int nr, int *arg, uint32_t *mask, uint32_t *value);

/* Emulation over tg (already initialised). Returns 0 or -errno. */
int nest_new(struct target *tg, struct nest **out);
void nest_free(struct nest *n);

/* The process rewind launched (stopped after its exec): it has no parent in the tree. */
void nest_adopt(struct nest *n, struct proc *top);

/* Handle one event from target_wait(): emulate the trapped syscall, turn a stop into
 * the one the nested tracer sees (the task then stays stopped), keep the books on
 * forks, execs and exits, and resume whatever should run. Returns 0 or -errno (the
 * failure is logged; the target stays consistent). */
int nest_handle(struct nest *n, struct tev *ev);

/* The listener fd of the supervised processes' filter (SECCOMP_FILTER_FLAG_NEW_LISTENER);
 * nest owns it from now on. Without one, every trapped syscall must be RET_TRACE. */
void nest_set_listener(struct nest *n, int fd);
int nest_listener(const struct nest *n);
/* Answer every notification pending on the listener (poll it for POLLIN). Returns how
 * many were answered. */
int nest_serve_listener(struct nest *n);

/* Bring every process to a stop where snap_take() can checkpoint it: every task
 * stopped, no emulated wait sleeping, queued events handled except syscall entries
 * (snap_take backs those out). -EAGAIN with the reason in why when the tree cannot be
 * checkpointed now (a vfork child before its exec). Follow with nest_prepared() after
 * snap_take and then nest_resume_all(). */
int nest_quiesce(struct nest *n, struct sbuf *why);
/* After snap_take (whether it succeeded): note the tasks it moved out of syscall-entry
 * stops, drop their stale queued events. */
void nest_prepared(struct nest *n);
/* Resume every task that should run (after nest_quiesce or nest_load). Returns 0 or
 * the first error. */
int nest_resume_all(struct nest *n);

/* Copy of the emulation state (tracer links, stops the tracers believe in, pending
 * wait statuses and SIGCHLDs, zombies, the fds nested tracers hold on /proc/PID/mem).
 * Call between nest_prepared and nest_resume_all. */
struct nest_state *nest_save(struct nest *n);
void nest_state_free(struct nest_state *s);
/* After snap_restore(): replace the emulation state by s and fix up what the restore
 * does not carry (debug registers set by nested tracers, /proc/PID/mem fds, real
 * parents). Problems that do not stop the session are described in problems. Follow
 * with nest_resume_all(). */
int nest_load(struct nest *n, const struct nest_state *s, struct sbuf *problems);

/* One line per emulated ptrace link ("pid 12 traces 13 (stopped, SIGTRAP)"). */
void nest_describe(struct nest *n, struct sbuf *out);

#endif
