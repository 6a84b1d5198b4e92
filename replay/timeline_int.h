/* Internals of the timeline (timeline.c, timeline_timer.c) and what the reverse
 * engine (reverse*.c) shares with it. */
#ifndef REWIND_TIMELINE_INT_H
#define REWIND_TIMELINE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "replay/timeline.h"

struct timeline {
	struct tl_node *head, *tail;
	size_t count;
	unsigned next_id;
	struct tl_node *now;          /* where the program stands, NULL if unknown */
	/* CPU coordinates: base's cpu corresponds to base_clock on the CPU clock of the
	 * current incarnation of the program (since launch or the last restore). */
	struct tl_node *base;
	uint64_t base_clock;
	int64_t base_drift;           /* the engine's cpu_drift then */
	clockid_t clock;              /* process CPU clock of clock_pid */
	pid_t clock_pid;
	/* the forward command under way */
	unsigned resume_branch;
	struct tl_node *resume_node;
	uint64_t resume_clock, stop_clock;
	/* timeline snapshots */
	uint64_t tick_ns;             /* interval of running between two */
	uint64_t snap_cost;           /* what one costs (ns, smoothed) */
	/* interrupting a run (timeline_timer.c): the policy wrapped while armed */
	struct inf_policy wrap;
	struct inf_policy *inner;
	bool armed, fired;
	uint64_t deadline;            /* wall clock (CLOCK_MONOTONIC ns), 0: none */
	uint64_t cpu_limit;           /* process CPU ns, 0: none */
	clockid_t arm_clock;          /* the clock cpu_limit is on */
};

/* timeline_timer.c */
void tl_timer_init(struct timeline *tl);
void tl_timer_fini(struct timeline *tl);

/* No thread is in the middle of a system call the recorder or replayer follows: a
 * snapshot can be taken without settling one. */
bool tl_quiet(struct session *s);
/* Withdraw an interrupt of the timer that arrived after the run had stopped. */
void tl_drain_interrupt(struct session *s);
/* The thread running at the current point (only one runs between two events): the
 * scheduler's current one, else the selected one. NULL if none is stopped. */
struct task *tl_running_task(struct session *s);
/* The running thread's position now. Returns 0 or -ENOENT. */
int tl_pos_here(struct session *s, struct pos_point *out);

#endif
