/* position: points in a deterministic execution that a replay can find again without
 * hardware counters (docs/architecture.md, "Positions without counters").
 *
 * A position of a thread is (event, tid, pc, k, reghash): the thread stands at pc,
 * `event` is the number of the next event of the whole recording, k is the number of
 * events of this thread so far, and reghash is a hash of its general registers, its
 * vector registers (x87/SSE/AVX/AVX-512 state) and the top 256 bytes of its stack.
 * Asynchronous events (a signal delivered, a preemption) are logged at the position
 * where they happened; replay runs the thread with a breakpoint at pc and takes the
 * first hit whose hash matches. Two hits with identical registers and stack top (a
 * loop that only changes memory elsewhere) are ambiguous: the first is taken, and a
 * wrong choice shows as a divergence at the next event.
 *
 * Cost: one trap per hit of pc between the thread's previous event and the position
 * (about 8 µs each with tracer and thread on one CPU). */
#ifndef REWIND_POSITION_H
#define REWIND_POSITION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inferior.h"
#include "replay/trace.h"

struct rec_engine;
struct session;

/* A point of the replayed history. */
struct pos_point {
	uint64_t event;          /* index of the next event at that point */
	pid_t tid;               /* the thread (as recorded) */
	struct trace_pos pos;    /* pc, k (the thread's event count), reghash */
};

/* Hash of t's registers, vector state and stack top (t stopped). 0 on failure. */
uint64_t pos_reghash(struct task *t);
/* Hash of its general registers alone (the quick first test). 0 on failure. */
uint64_t pos_gprhash(struct task *t);
/* t's position now: pc, k = thread_events, reghash. Returns 0 or -errno. */
int pos_capture(struct task *t, uint64_t thread_events, struct trace_pos *out);
/* Whether t stands at p (pc and hash equal; a p without hashes: pc alone). */
bool pos_matches(struct task *t, const struct trace_pos *p);
/* "#12 tid 4242 pc 0x401136 k 7 hash 9f3a..." for messages and `info record`. */
void pos_format(const struct pos_point *p, struct sbuf *out);
/* Parse what pos_format() prints (a stable id: the reverse engineer's `goto`).
 * Returns 0 or -EINVAL. */
int pos_parse(const char *text, struct pos_point *out);

/* ---- for reverse execution (replay/ reverse engineer) ---- */

/* Where the program stands: the current event number and the selected thread's
 * position. Returns 0, or -ENOENT when nothing is recorded or replayed. */
int pos_now(struct session *s, struct pos_point *out);
/* Replay forward to p: every event before p.event is replayed, then thread p.tid
 * runs to p.pos. Fills *st (SR_LOCATION when reached; a divergence, the end of the
 * recording or a user breakpoint stop otherwise). The program must be replaying (a
 * checkpoint before p was restored). Returns 0 or -errno. */
int pos_run_to(struct session *s, const struct pos_point *p, struct stop *st);

#endif
