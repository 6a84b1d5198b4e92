/* timeline: the points of the recorded execution the session knows, in execution
 * order as far as it is known, and the snapshots that let a replay start near any of
 * them (docs/architecture.md, "Reverse execution as built").
 *
 * A node is a point of the current history: its position (pos_point of the thread
 * running there: only one thread runs between two events), the checkpoint taken
 * there if any, the history branch it belongs to and an execution coordinate (CPU
 * time of the program since the start of the history, for distances and thinning).
 *
 * Order. Positions carry no instruction counter, so two points between the same two
 * events cannot be compared by their positions alone. Each node has a `pred`: a node
 * known to be earlier (the point a forward command started from, the anchor a replay
 * started from, any node of an earlier event). Following pred links from a node
 * gives points that are certainly earlier, nearest first: that is what every reverse
 * command needs (the latest snapshot before P).
 *
 * Snapshots. A node's checkpoint is either one of the session's (automatic at every
 * stop, the user's) or a timeline snapshot: a hidden checkpoint (negative id, not
 * listed by `info checkpoints`) taken every few milliseconds of a long `continue`
 * and by the reverse algorithms. Timeline snapshots are thinned by execution
 * distance from the current point: dense near it, exponentially sparser away from it.
 *
 * The session calls the tl_* hooks; the reverse engine (reverse*.c) reads nodes. */
#ifndef REWIND_TIMELINE_H
#define REWIND_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inferior.h"
#include "replay/position.h"

struct session;
struct checkpoint;

enum tl_kind {
	TLK_START,     /* the first point of a history (launch, attach, a changed state) */
	TLK_STOP,      /* a stop of a forward command */
	TLK_TICK,      /* a timeline snapshot during a long continue */
	TLK_REVERSE,   /* a point found by a reverse command (a stop, a hit, an anchor) */
	TLK_USER,      /* a checkpoint the user took or restored */
};

struct tl_node {
	unsigned id;               /* 1-based, never reused */
	enum tl_kind kind;
	struct pos_point pos;      /* the running thread's position */
	unsigned thread;           /* the user's selected thread there (for display) */
	int ckpt;                  /* checkpoint id (< 0: timeline snapshot), 0 if none */
	unsigned branch;           /* history branch (rec_branch_id) */
	struct tl_node *pred;      /* certainly earlier, NULL if none is known */
	uint64_t cpu;              /* CPU ns of the program from the start of history */
	uint64_t stepped_from;     /* id of the node one single instruction earlier in
	                              pos.tid's stream (a stepi), 0 if unknown */
	struct stop *hit;          /* the user's breakpoint or watchpoint stop that
	                              happened here, NULL if none (task NULL) */
	struct tl_node *next;      /* every node, in creation order */
};

struct timeline;

int tl_new(struct timeline **out);
/* Frees the nodes and stops the timer thread (checkpoints belong to the session). */
void tl_free(struct timeline *tl);

/* ---- hooks for the session (session.c) ---- */

/* A program was launched or attached: a new history starts here (its first node,
 * with a timeline snapshot when recording). */
void tl_history_start(struct session *s);
/* A forward command is about to resume the program. Call before rec_before_resume
 * with before = true and after it with before = false: a changed state forks the
 * history, whose new start gets a snapshot. */
void tl_before_resume(struct session *s, bool before);
/* `continue` with timeline snapshots every few milliseconds of running. Same
 * contract as inf_continue. */
int tl_continue(struct session *s, int sig, struct stop *st);
/* A forward command stopped with st (call before taking the stop's checkpoint, which
 * then goes through tl_checkpoint_taken). stepped_tid: the command was one instruction
 * step of that thread (else 0). */
void tl_after_stop(struct session *s, const struct stop *st, pid_t stepped_tid);
/* Checkpoint c was taken at the current point (automatic or the user's). */
void tl_checkpoint_taken(struct session *s, struct checkpoint *c);
/* Checkpoint c was restored (restart N|NAME): the current point is its node. */
void tl_restored(struct session *s, struct checkpoint *c);

/* ---- for the reverse engine ---- */

/* Whether the session can go backwards: recording or replaying, a history exists.
 * Otherwise why goes to err (when non-NULL). */
bool tl_available(struct session *s, struct sbuf *err);
/* The node of the current point (created from pos_now when there is none). NULL when
 * no position can be taken (nothing recorded). */
struct tl_node *tl_now(struct session *s);
/* Make n the current point (after a reverse command moved the program there). */
void tl_set_now(struct session *s, struct tl_node *n);
/* A new node at the current point of the program (position taken now), known to be
 * after pred. With snapshot, a timeline snapshot is taken there too. */
struct tl_node *tl_add_here(struct session *s, enum tl_kind kind, struct tl_node *pred,
			    uint64_t cpu, bool snapshot);
/* Note that a stop of the user's breakpoints or watchpoints happened at n. */
void tl_note_hit(struct tl_node *n, const struct stop *st);
/* n is known to be after m (both of the current branch): make the pred chain of n
 * use m when m is later than n's current pred. */
void tl_learn_before(struct session *s, struct tl_node *m, struct tl_node *n);
/* The latest node certainly before n (following pred) whose snapshot can be restored
 * in the current branch; NULL if none. */
struct tl_node *tl_anchor_before(struct session *s, struct tl_node *n);
/* The best restorable node certainly before position p (which may be no node's): the
 * node with p's exact position, else a node of an earlier event. NULL if none. */
struct tl_node *tl_anchor_for(struct session *s, const struct pos_point *p);
/* The start of the current branch's history, NULL if unknown. */
struct tl_node *tl_root(struct session *s);
/* The checkpoint of n when it can be restored now (alive, in the current branch). */
struct checkpoint *tl_ckpt(struct session *s, const struct tl_node *n);
/* A node whose position equals p in the current branch, or NULL. */
struct tl_node *tl_find_pos(struct session *s, const struct pos_point *p);
/* Node by id, NULL if none. */
struct tl_node *tl_node_by_id(struct session *s, unsigned id);
/* The current branch id (0 if none). */
unsigned tl_branch(struct session *s);
/* Thin the timeline snapshots now (also done after each new one). */
void tl_thin_now(struct session *s);
/* CPU ns the program has run in the current process incarnation (process CPU clock
 * of the main process), 0 if unknown. */
uint64_t tl_cpu_clock(struct session *s);
/* The execution coordinate of the current point: cpu of the node the program last
 * stood at (or was restored to) plus the CPU it has run since. */
uint64_t tl_cpu_now(struct session *s);
/* Note that the program was just restored to node n (for tl_cpu_now). */
void tl_mark_restored(struct session *s, struct tl_node *n);
/* Every node, in creation order (for `info timeline`). */
struct tl_node *tl_first(struct session *s);

/* ---- interrupts during a run ---- */

/* Interrupt the next run (SR_INTERRUPTED) once the main process has used cpu_ns of
 * CPU in this incarnation (cpu_ns > 0), or after wall_ns (wall_ns > 0). tl_disarm()
 * (after the run) returns whether it fired. */
void tl_arm(struct session *s, uint64_t cpu_ns, uint64_t wall_ns);
bool tl_disarm(struct session *s);

/* ---- pure policy (unit-tested) ---- */

/* Which timeline snapshots to keep, given their execution coordinates x[0..n) in
 * increasing order and the current coordinate now: the nearest on each side of now
 * is kept; going away from now, a snapshot is kept when its distance to the last kept
 * one is at least min_gap and at least `ratio` times the distance of that kept one to
 * now (exponential spacing: about log(range/min_gap)/log(1+ratio) snapshots). keep[i]
 * is set accordingly. Returns the number kept. */
size_t tl_thin_select(const uint64_t *x, size_t n, uint64_t now, uint64_t min_gap, double ratio,
		      bool *keep);

#endif
