/* checkpoint: the user's view of snapshots — numbers, names (bookmarks), where and
 * when each was taken, automatic checkpoints at every stop, and the memory budget
 * that thins old automatic ones (dense near now, sparse far back). */
#ifndef REWIND_CHECKPOINT_H
#define REWIND_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inferior.h"
#include "core/snapshot.h"

struct checkpoint {
	int id;                   /* user number, 1-based */
	char *name;               /* bookmark name, NULL if none */
	bool automatic;           /* taken by auto-checkpoint: may be thinned */
	struct snapshot *snap;
	uint64_t taken_ns;        /* now_ns() when taken */
	uint64_t pc;
	unsigned thread;          /* selected thread then */
	char *where;              /* "bump (loop.c:8)" */
	uint64_t mem;             /* last measured private bytes */
	bool no_compact;          /* compaction was refused: not tried again */
	uint64_t serial;          /* order of creation (for the timeline) */
	bool hidden;              /* a timeline snapshot (replay/timeline.h): negative id,
	                             not listed, never `current` (added for reverse execution) */
	struct checkpoint *next;  /* creation order */
};

/* set checkpoint-compact: when automatic checkpoints become compacted ones (pages
 * instead of processes, core/snapshot.h snap_compact). */
enum ckpt_compact {
	CC_OFF,
	CC_AUTO,                  /* over the memory budget, where it frees memory */
	CC_ALWAYS,                /* each onto the next as soon as that one is taken */
};

struct ckpt_list {
	struct checkpoint *head;
	int next_id;
	uint64_t next_serial;
	bool auto_on;             /* set auto-checkpoint */
	uint64_t budget;          /* set checkpoint-memory, bytes; 0 = unlimited */
	bool files;               /* set checkpoint-files */
	enum ckpt_compact compact;
	unsigned since_measure;   /* automatic checkpoints since memory was last measured */
	uint64_t measured;        /* the total then */
	uint64_t measured_faults; /* page faults of the live processes then */
	int current;              /* id of the checkpoint the program sits at, 0 = none */
	int next_hidden;          /* next id of a hidden checkpoint (-1, -2, ...) */
};

void ckpt_init(struct ckpt_list *l);
void ckpt_fini(struct ckpt_list *l, struct inferior *inf);

/* Checkpoint the stopped program. where describes the location. With force, take it
 * despite unrestorable resources (described in msg either way). */
int ckpt_take(struct ckpt_list *l, struct inferior *inf, const char *name, bool automatic,
	      bool force, const char *where, struct checkpoint **out, struct sbuf *msg);
/* A hidden checkpoint for the timeline (reverse execution): automatic, a negative id,
 * not listed and not made `current`; otherwise as ckpt_take (no force). */
int ckpt_take_hidden(struct ckpt_list *l, struct inferior *inf, const char *where,
		     struct checkpoint **out, struct sbuf *msg);
/* By number ("3") or name. NULL if none. */
struct checkpoint *ckpt_find(struct ckpt_list *l, const char *id_or_name);
struct checkpoint *ckpt_by_id(struct ckpt_list *l, int id);
/* Restore c: the program becomes what it was (pids, threads, memory, breakpoints in
 * force now are re-inserted). Fills the inferior's main/cur. */
int ckpt_restore(struct ckpt_list *l, struct inferior *inf, struct checkpoint *c, struct sbuf *msg);
int ckpt_delete(struct ckpt_list *l, struct inferior *inf, struct checkpoint *c);
/* Bring the memory of the checkpoints within the budget: first compact automatic
 * checkpoints (oldest first, each onto the next) where that frees memory, then drop
 * automatic ones, oldest first where they are densest. Measures memory (reads /proc)
 * when asked or every few checkpoints. */
void ckpt_enforce_budget(struct ckpt_list *l, struct inferior *inf, bool measure);
/* "Checkpoint 3 \"name\" at bump (loop.c:8)\n": what front ends print when one is taken. */
void ckpt_format_taken(const struct checkpoint *c, struct sbuf *out);
/* The `info checkpoints` table (measures memory now), in the words every front end
 * uses; timeline snapshots (hidden) are left out. */
void ckpt_format_list(struct ckpt_list *l, struct inferior *inf, struct sbuf *out);

/* Total memory the checkpoints hold (measuring every checkpoint now): pages only
 * checkpoints map, counted once however many share them (snap_held_bytes), their page
 * tables, and what rewind keeps for them. Also updates each one's mem (what dropping
 * it alone would free). */
uint64_t ckpt_measure(struct ckpt_list *l, struct inferior *inf);

#endif
