/* reverse: going backwards in a recorded execution — gdb's reverse commands, `when`,
 * `goto POSITION`, `last EXPR` and `bisect COND` — for both front ends (the shell and
 * the gdb server) through the session (docs/architecture.md, "Reverse execution as
 * built").
 *
 * Every command restores a snapshot before the current point and replays forward
 * (replay is deterministic) with breakpoints armed where the answer can lie, notes
 * the positions of the hits, and finally replays to the chosen position. The program
 * then stands exactly where it stood when it first passed that point (registers,
 * memory, threads), and forward and backward commands can alternate freely.
 *
 * Functions return 0 or -errno; stops are described in *st as forward commands
 * describe theirs (SR_HISTORY_BEGIN: the start of the recording was reached). */
#ifndef REWIND_REVERSE_H
#define REWIND_REVERSE_H

#include <stdbool.h>
#include <stdint.h>

#include "replay/position.h"
#include "replay/session.h"

/* The reverse counterpart of session_exec: SC_CONTINUE, SC_STEPI, SC_NEXTI, SC_STEP,
 * SC_NEXT, SC_FINISH (the session calls it for a->dir == DIR_REVERSE). */
int rev_exec(struct session *s, enum sess_cmd cmd, const struct sess_args *a, struct stop *st);

/* The program has exited and its recording ends with its exit_group: the reverse
 * commands (and goto, last, bisect) then start by bringing it back to that call, as
 * rr lets gdb go back from the end. */
bool rev_from_exit(struct session *s);
/* Bring the exited program back to its exit call (rev_from_exit holds): st is then
 * SR_HISTORY_END at the exiting thread, where a replay's gdb session stops at the end
 * of the recording instead of losing the program. Returns 0 or -errno (st SR_ERROR). */
int rev_to_exit(struct session *s, struct stop *st);

/* Where the program stands in the recording. */
struct rev_where {
	struct pos_point pos;        /* the running thread's position (goto's id) */
	uint64_t events;             /* events in the history so far (the log's length) */
	char desc[256];              /* "bump (loop.c:8)" */
	uint64_t pc;
	unsigned node;               /* timeline node id */
	int before_id, after_id;     /* the nearest checkpoints before and after (user
	                                numbers; 0 if none, < 0 for timeline snapshots) */
	uint64_t before_event, after_event;
	char before_desc[256], after_desc[256];
};
/* Fill *w for the current point. Returns 0, or -errno with err (no recording...). */
int rev_when(struct session *s, struct rev_where *w, struct sbuf *err);
/* "event 1234, 0x401136 in bump (loop.c:8) [#1234:4242:0x401136:7:...]": one line. */
void rev_format_where(const struct rev_where *w, struct sbuf *out);

/* goto: a position printed by `when` (pos_format's id), or a checkpoint number or
 * name (as `restart`). Fills *st (SR_LOCATION at the position); msg gets notices. */
int rev_goto(struct session *s, const char *text, struct stop *st, struct sbuf *msg);

/* What `last` found. */
struct rev_change {
	uint64_t addr;
	unsigned len;
	uint8_t old_val[32], new_val[32];   /* before and after the write */
	bool found;                         /* false: unchanged since the start of history */
};
/* last EXPR: go to the most recent instruction before now that changed the value of
 * EXPR (in the selected thread's frame 0): the program stops at that instruction,
 * before it writes. An expression of one lvalue of up to 32 bytes is watched with
 * the debug registers; any other is searched by value (bisect over snapshots, then
 * the locations it reads). Returns 0 (ch->found false and *st SR_HISTORY_BEGIN at
 * the start of history when it never changed), or -errno with msg. */
int rev_last(struct session *s, const char *expr, struct rev_change *ch, struct stop *st,
	     struct sbuf *msg);

/* bisect COND: go to the first point of the history where COND (a C expression in
 * the selected thread's frame 0) is true, having been false just before: binary
 * search over snapshots, then replay with watchpoints on the locations COND reads,
 * evaluating it at each write (single steps where it reads none). Returns 0 with *st
 * at that point (SR_HISTORY_BEGIN when COND holds from the start), -ENOENT when it
 * is false now, or -errno with msg. */
int rev_bisect(struct session *s, const char *cond, struct stop *st, struct sbuf *msg);

/* Checksums of the program's state, to tell whether two points are the same one:
 * FNV-1a over every writable mapping of the followed process (through
 * /proc/PID/mem), and over every thread's position hash (registers, vector state,
 * stack top). Returns 0 or -ESRCH (no program). */
int rev_checksum(struct session *s, uint64_t *mem, uint64_t *regs);

#endif
