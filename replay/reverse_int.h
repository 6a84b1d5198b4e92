/* Internals shared by the reverse engine's files (reverse*.c): one reverse command's
 * context, the replay primitives, scans and the line rules. */
#ifndef REWIND_REVERSE_INT_H
#define REWIND_REVERSE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inferior_int.h"
#include "replay/reverse.h"
#include "replay/timeline_int.h"

struct rec_engine;

/* A user breakpoint as it was when the command started. */
struct rv_bp {
	int id;
	bool enabled, temporary;
	unsigned hits, ignore;
};

/* One reverse command under way. */
struct rv {
	struct session *s;
	struct inferior *inf;
	struct rec_engine *e;
	struct tl_node *origin;       /* where the command started (P) */
	pid_t tid;                    /* P's running thread (recorded tid) */
	unsigned thread;              /* the user's selected thread number at P */
	VEC(struct rv_bp) saved;
	bool user_on;                 /* user breakpoints and watchpoints armed */
	bool live_saved;              /* the engine's live_at_end before the command */
	int emit_saved;               /* its emit_fd (rewind replay's program output) */
	struct tl_node *at;           /* the node last restored to */
	uint64_t t_restore;           /* now_ns() of that restore */
	uint64_t t0;
	unsigned restores;
	/* the front end's notice sink, while the replays' thread notices are dropped */
	void (*notice_fn)(void *ctx, const char *msg);
	void *notice_ctx;
};

/* ---- reverse_run.c: the context and replay primitives ---- */

/* Start a reverse command at the current point. Returns 0, or -errno with st set to
 * SR_ERROR (no recording, not running). User breakpoints are disarmed. */
int rv_begin(struct rv *r, struct session *s, struct stop *st);
/* Finish: user breakpoints as they were (a stop at one counts as a hit of it, a
 * temporary one is deleted), the engine as it was, the timeline's current point is
 * the program's, st's thread fields filled from the program. */
void rv_end(struct rv *r, struct stop *st);
/* Arm (on) or disarm the user's breakpoints and watchpoints for the replays. */
void rv_user(struct rv *r, bool on);
/* Restore node n's snapshot and make the engine replay from there. Returns 0 or
 * -errno (st SR_ERROR). */
int rv_restore(struct rv *r, struct tl_node *n, struct stop *st);
/* The engine asked to stop while resuming (a thread resumed standing at the target
 * position: no event comes then): take its stop into st. Returns true if so. */
bool rv_pending_stop(struct rv *r, struct stop *st);
/* Before resuming tasks that stand at an instruction breakpoint in a debug register
 * (the engine's position search) after another stop there: resume flag set, so the
 * instruction runs instead of trapping again. t NULL: every stopped task. */
void rv_pass_hw(struct rv *r, struct task *t);
/* Decode the instruction at pc in t's process. Returns 0 or -errno. */
struct insn;
int rv_decode(struct task *t, uint64_t pc, struct insn *in);
/* The live task playing recorded tid (NULL if none). */
struct task *rv_task(struct rv *r, pid_t rec_tid);
/* Replay forward until target (SR_LOCATION) or a stop of the user's breakpoints,
 * watchpoints or signals (with user breakpoints armed). target may be NULL. Returns
 * 0 with *st, or -errno. */
int rv_continue(struct rv *r, const struct pos_point *target, struct stop *st);
/* Go to position p: restore the best snapshot before it (from, when given, must be
 * certainly before p) and replay to it with user breakpoints disarmed. On success
 * the returned node stands for p. NULL with st SR_ERROR on failure. */
struct tl_node *rv_goto_pos(struct rv *r, const struct pos_point *p, struct tl_node *from,
			    struct stop *st);
/* The current point as a node (after a replay stopped there), known to be after
 * pred and before the command's origin. */
struct tl_node *rv_node_here(struct rv *r, struct tl_node *pred, bool snapshot);
/* Whether the replay has run long enough since the last restore that a snapshot
 * here is worth its cost. */
bool rv_worth_snapshot(struct rv *r);
/* A stop report for the current point: SR_STEPPED at the selected thread. */
void rv_stop_here(struct rv *r, enum stop_reason why, struct stop *st);
/* print: SP_SRC_LINE when the frame (function and CFA) of thread t is the one the
 * command started in, else SP_SRC_AND_LOC. */
enum stop_print rv_print_mode(struct rv *r, uint64_t func0, uint64_t cfa0);

/* ---- reverse_scan.c: breakpoint scans over a replay ---- */

enum { SITE_ENTRY = 1, SITE_LINE = 2, SITE_JUMP = 4, SITE_AFTER_JUMP = 8, SITE_CALL = 16,
       SITE_RET = 32, SITE_PC = 64 };

/* A frame whose breakpoint hits a scan keeps: a function's code range and its CFA
 * (0: any frame of the thread), or an exact stack pointer at its sites. */
struct rv_frame {
	uint64_t lo, hi;              /* function (sites are inside) */
	uint64_t cfa;                 /* 0: not checked */
	uint64_t rsp;                 /* 0: not checked; else rsp must equal it */
	int tag;
};

#define RV_TAG_USER (-2)          /* a stop of the user's breakpoints or watchpoints */

struct rv_hit {
	struct pos_point pos;
	uint64_t pc, rsp, cfa;
	int tag;                      /* rv_frame.tag of the frame it belongs to, RV_TAG_USER */
	unsigned flags;               /* SITE_* of its pc */
	struct tl_node *anchor;       /* the latest snapshot node before it */
	struct stop user;             /* RV_TAG_USER: the stop (task NULL) */
};

/* How a site's CFA follows from the registers there (from the CFI, computed once). */
struct rv_cfa_rule {
	uint64_t pc;
	int base;                     /* 0: unknown (unwind each time), 1: rsp, 2: rbp */
	int64_t off;
};

struct rv_scan {
	VEC(uint64_t) pcs;            /* breakpoint addresses */
	VEC(unsigned) flags;
	VEC(struct rv_cfa_rule) rules;
	struct rv_frame frames[4];
	unsigned nframes;
	VEC(struct rv_hit) hits;      /* in execution order */
	struct tl_node *from;         /* the snapshot the scan replayed from */
	struct pos_point end;         /* where the scan stops: a hit there is not before it */
	bool reached;                 /* the replay reached the end position */
	uint64_t dropped;             /* hits not kept (only the last RV_MAX_HITS are) */
	/* Set by the caller when nothing it looks for happens between end and this
	 * later node (that stretch was scanned before): the replay may then stop by CPU
	 * time somewhere past end, short of halfway to it, instead of finding end's
	 * exact position (one trap per pass of end's pc: millions in a hot loop). */
	struct tl_node *loose_limit;
};
#define RV_MAX_HITS 65536

void rv_scan_init(struct rv_scan *sc);
void rv_scan_free(struct rv_scan *sc);
/* Add the sites of the function [lo, hi) of thread t: its entry, the start of every
 * line range, every jump target and the instruction after every jump. */
void rv_sites_function(struct rv *r, struct task *t, uint64_t lo, uint64_t hi, struct rv_scan *sc);
void rv_site_add(struct rv_scan *sc, uint64_t pc, unsigned flags);
/* Replay from node `from` to position end with the sites armed (user breakpoints
 * off), keeping the hits of thread r->tid that belong to one of sc's frames. The
 * program stands at end afterwards (with sc->loose_limit: at end or a little past
 * it). Returns 0 or -errno (st SR_ERROR). */
int rv_scan_run(struct rv *r, struct tl_node *from, const struct pos_point *end,
		struct rv_scan *sc, struct stop *st);
/* The CFA of t's frame 0 (0 if unknown). */
uint64_t rv_cfa(struct rv *r, struct task *t);

/* ---- reverse_step.c ---- */

/* The position of the instruction p's thread executed just before point p, where
 * the program stands (over: the call instruction rather than the callee's return).
 * Fills *prev (and *from: a node certainly before prev, or NULL) and returns 0;
 * -ENOENT at the start of history (st SR_HISTORY_BEGIN); other -errno with st. */
int rv_prev_of(struct rv *r, struct tl_node *p, bool over, struct pos_point *prev,
	       struct tl_node **from, struct stop *st);
/* Land at the writing instruction before a watchpoint stop at node x (the program
 * stands at x): fills st as gdb reports a watchpoint going backwards. */
int rv_land_write(struct rv *r, struct tl_node *x, const struct stop *hit, struct stop *st);

/* ---- reverse_lines.c: gdb's rules for reverse-step/next on runs (pure) ---- */

/* A run: instructions one frame executed from a site (start) up to the next site, a
 * jump or a return; a run lies within one line-table row (gdb's find_pc_line). */
struct rl_run {
	uint64_t start;               /* its first instruction (a site) */
	uint64_t lo, hi;              /* the row holding it (line 0: none) */
	int line;
	bool stmt;                    /* the row is a statement */
	uint64_t func_lo;             /* the entry of its function */
	int frame;                    /* 0: the command's frame, 1: its caller, 2... */
	unsigned ninsn;               /* instructions of it that are gone back over (1, 2+) */
	uint64_t call_at;             /* reverse-step: the last call among them into a
	                                 function with line information, 0 if none */
};

/* The state gdb steps back with: the current row and line, in a frame. */
struct rl_state {
	uint64_t lo, hi;
	int line;
	int frame;
};

/* Going backwards over runs v[n-1], v[n-2], ... (in execution order; v[n-1] is the
 * run the command starts in, counting only the instructions before P) from state
 * *s, with gdb's reverse-step/next rules: stop at the start of the row being stepped
 * through (unless it is its function's entry: the caller's call comes next), or at
 * a statement start of a different line entered from its own start; with step, a
 * call into a function with line information is entered (*enter set). Returns the
 * index of the run whose start is the stop, or -1 when the runs end first (*s then
 * holds the state to go on from). */
int rl_pick(const struct rl_run *v, size_t n, struct rl_state *s, bool step, bool *enter);

/* A stop that reports an error: st becomes SR_ERROR with the message; returns e. */
int rv_fail(struct stop *st, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
