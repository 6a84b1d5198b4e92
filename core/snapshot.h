/* snapshot: fork-based copy-on-write checkpoints of every process rewind supervises.
 *
 * A checkpoint of a process is a stopped child made by a clone() injected into it; it
 * never runs (proc->snapshot). Restoring forks the checkpoint again with an injected
 * clone3(set_tid), so the program gets back its own pid and tids, and one checkpoint
 * can be restored any number of times. What fork does not carry is saved next to it
 * and put back at restore: the other threads (registers, extended state, signal mask,
 * robust list, rseq, sigaltstack, clear_child_tid, name, affinity), file offsets,
 * shared memory, pipes inside the tree, pending signals, interval and POSIX timers,
 * breakpoint sites, and optionally the contents of files open for writing.
 * docs/architecture.md ("Snapshots") lists what is not restored and why. */
#ifndef REWIND_SNAPSHOT_H
#define REWIND_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "target.h"
#include "util.h"

/* One consistent checkpoint of every live, non-snapshot proc of a target. */
struct snapshot;

struct snap_opts {
	bool files;   /* also copy the contents of regular files open for writing */
	bool force;   /* take it despite resources that cannot be restored (it is marked) */
};

/* Checkpoint every live, non-snapshot proc of tg. Every task of them must be stopped
 * (target_stop_all); tasks stopped inside a syscall are settled first. o may be NULL
 * (defaults: no file contents, no force).
 * Resources that cannot be restored faithfully are described in problems, one line
 * each ("pid 12 fd 7: TCP socket to 10.0.0.1:443; it cannot be restored live");
 * without o->force the call then fails with -EBUSY and takes nothing. A child process
 * whose every task is at its exit stop is left out (it is dying), noted in problems.
 * Returns 0 with *out, or -errno: -EBUSY (unrestorable resources, or a task is
 * running), -ESRCH (a process died meanwhile), -EAGAIN (a vfork child is between
 * vfork and exec). On failure problems says why, no checkpoint process is left, and
 * the traced processes are exactly as they were (still stopped). */
int snap_take(struct target *tg, const struct snap_opts *o, struct snapshot **out,
	      struct sbuf *problems);

/* Make the program be what it was when s was taken: kill every live non-snapshot proc
 * of tg (they stay in tg->procs, dead, for the caller to target_forget; dead snapshot
 * procs are the snapshots' own and must not be forgotten), then recreate
 * each checkpointed process from its checkpoint with its pid, tids and state. The
 * restored procs are stopped (every task at an interrupt stop, t->last_ev copied from
 * the checkpoint) with the breakpoint sites and debug registers they had then; their
 * user numbers are those they had then. Can be called any number of times.
 * Returns 0, or -errno with the reason in problems: -ESRCH if a checkpoint process is
 * gone (nothing is killed then). Deviations that do not stop the restore (fresh pids
 * without privilege, a timer id that could not be kept) are described in problems. */
int snap_restore(struct target *tg, struct snapshot *s, struct sbuf *problems);

/* Kill s's checkpoint processes and free it. */
void snap_drop(struct target *tg, struct snapshot *s);

/* Memory dropping s would free: the private dirty pages of its checkpoint processes
 * (pages the program has changed since, and that no other checkpoint shares), their
 * page tables, and the copies rewind keeps (shared memory, files, pipes, extended
 * state, a compacted snapshot's pages). Reads /proc: call it on demand, not per stop. */
uint64_t snap_private_bytes(const struct snapshot *s);

/* Bytes rewind itself keeps for s outside the processes (shared memory, files, pipes,
 * extended state; not a compacted snapshot's pages, which snap_held_bytes counts). No
 * /proc reads. */
uint64_t snap_copied_bytes(const struct snapshot *s);

/* Memory all the checkpoints of tg hold together: the anonymous pages only checkpoint
 * processes map (a page several checkpoints share, which snap_private_bytes counts for
 * none of them, counts once) and their page tables; rewind's own copies are not
 * included. Computed as the anonymous Pss of every process of tg minus the anonymous
 * memory of the live ones, plus the pages compacted snapshots hold; it walks every
 * page table (milliseconds per GiB): on demand only. */
uint64_t snap_held_bytes(struct target *tg);
/* snap_held_bytes, and each[i] = snap_private_bytes(v[i]), with one walk per process. */
uint64_t snap_measure(struct target *tg, struct snapshot *const *v, size_t n, uint64_t *each);

/* Compact older: keep it as the pages in which it differs from newer instead of as
 * forked processes (their page tables cost 2 MiB per GiB mapped however little
 * changed). Both must be forked (not compacted) snapshots of the same processes that
 * agree on everything a process holds outside its memory and the saved state:
 * mappings, open file descriptions and fd flags, signal dispositions, credentials,
 * seccomp, limits, cwd, root, executable. The differing pages are found by page frame
 * (needs CAP_SYS_ADMIN) and copied into rewind; older's processes are killed. Unless
 * always, it is done only if that frees memory. Restoring a compacted snapshot forks
 * the chain's forked end and writes the pages back; newer must stay (snap_drop of it
 * is deferred while snapshots are based on it). Returns 0, or -errno with the reason
 * in why: -EXDEV (they differ), -E2BIG (it would not save memory), -EPERM (frames
 * hidden), -ELOOP (the chain would be too long); older is unchanged then. */
int snap_compact(struct target *tg, struct snapshot *older, struct snapshot *newer, bool always,
		 struct sbuf *why);
/* s was compacted (it holds pages, no process of its own). */
bool snap_compacted(const struct snapshot *s);

/* False if one of s's checkpoint processes is gone (killed from outside). */
bool snap_alive(const struct snapshot *s);

/* NULL for a faithful snapshot; for one taken with force over unrestorable
 * resources, the description of each (what `info checkpoints` shows as marked). */
const char *snap_marks(const struct snapshot *s);

#endif
