/* sched_tasks: one task at a time — the recorder's scheduler and the replayer's follower.
 *
 * Recording: of all traced tasks (threads and processes) exactly one, the current
 * task, runs program code; the others are held at a stop or sit in the kernel in a
 * syscall. The current task gives way (a SCHED record names the next one):
 *   - BLOCK: it entered a syscall that may block and has not come back after a
 *     millisecond while another task is ready (it is left in the kernel with
 *     PTRACE_SYSCALL; its result is logged when it comes back, and it waits to be
 *     scheduled again);
 *   - PREEMPT: it ran longer than its time slice (interrupted; the record carries
 *     its position);
 *   - YIELD: the same, for a task alone in its address space (one thread, no shared
 *     mapping, no vfork) giving way to another process: nothing that process does
 *     can change what it computes before its next event, so no position is needed
 *     (recordings to disk only: a session's stops are positions of the live run);
 * *   - EXIT: it is gone.
 * Ready tasks are taken round-robin, or at random with chaos scheduling (random
 * slices too).
 *
 * Replaying: the log says which task is current. A task that is not current is
 * held; the current one runs to its next event; a SCHED record moves the turn
 * (BLOCK: when the task reaches that syscall; PREEMPT: at its position; YIELD: at
 * its previous event, where it waits for its turn: it runs the stretch it ran before
 * the switch when the turn comes back, to the same next event). A syscall
 * record of a task that gave way at the call's entry is applied when it comes up. */
#ifndef REWIND_SCHED_TASKS_H
#define REWIND_SCHED_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inferior.h"

struct rec_engine;
struct rec_task;
struct trace_ev;

/* Scheduling options (rewind record --chaos). */
struct sched_opts {
	unsigned slice_ms;      /* time slice (default 10) */
	unsigned block_ms;      /* a syscall not back after this has blocked (default 1) */
	bool chaos;             /* random next task and random slices (1..2×slice_ms) */
	uint64_t seed;          /* chaos: 0 = from the clock */
};
void sched_set_opts(struct rec_engine *e, const struct sched_opts *o);

/* ---- recording ---- */
/* The run loop asks to resume t: 1 if t must stay held (not its turn), 0 if it may
 * run (it becomes current when none is). */
int sched_rec_resume(struct rec_engine *e, struct inferior *inf, struct task *t);
/* t, current, went into a syscall that may block (resumed with PTRACE_SYSCALL). */
void sched_rec_blocking(struct rec_engine *e, struct task *t);
/* t came back from a syscall: 1 if it must be held (it gave way meanwhile). */
int sched_rec_back(struct rec_engine *e, struct inferior *inf, struct task *t);
/* t stopped at an interrupt: 1 if it was the preemption asked for (handled). */
int sched_rec_interrupted(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Task tid is gone. */
void sched_gone(struct rec_engine *e, struct inferior *inf, pid_t tid);
/* A task was created (fork, clone): it is ready. */
void sched_new_task(struct rec_engine *e, struct task *child);
/* Record: parent made child with vfork (or clone with CLONE_VFORK) and waits in the
 * kernel until the child execs or exits: the child's turn now. */
void sched_rec_vfork(struct rec_engine *e, struct inferior *inf, struct task *parent,
		     struct task *child);
int sched_timeout_ms(struct rec_engine *e, struct inferior *inf);
void sched_on_timeout(struct rec_engine *e, struct inferior *inf);

/* ---- replaying ---- */
/* 1 if t must stay held now. */
int sched_rpl_resume(struct rec_engine *e, struct inferior *inf, struct task *t);
/* The SCHED event ev (t gives way) is due now: consume it and run the next task.
 * Returns 1 (t held), or <0 (a divergence stop). */
int sched_replay_switch(struct rec_engine *e, struct inferior *inf, struct task *t,
			const struct trace_ev *ev);
/* Apply what is due to tasks other than the one that just had an event: syscall
 * records of tasks waiting at a syscall entry or exit, switches after an exit.
 * Returns 0 or <0 (a divergence stop). */
int sched_rpl_drive(struct rec_engine *e, struct inferior *inf);

/* ev is the logged result of a call its task waits in (restored inside it from a
 * checkpoint, or gave way there): no other task may run past it. */
bool sched_rpl_result_due(struct rec_engine *e, struct inferior *inf, const struct trace_ev *ev);
/* ev belongs to a task inside a call whose result is logged at its exit (run for
 * real: fork, vfork, clone, exec): it is coming, ahead of anything else. */
bool sched_rpl_in_flight(struct rec_engine *e, struct inferior *inf, const struct trace_ev *ev);
/* The current task is gone: apply what is due and let the next one run (a held
 * task whose turn it now is). Returns 0 or <0 (a divergence stop). */
int sched_rpl_kick(struct rec_engine *e, struct inferior *inf);
/* Start of a history (launch, restore): t is current. */
void sched_reset(struct rec_engine *e, struct task *t);
/* Live tasks the engine schedules (not snapshots; threads at their exit stop count
 * until reaped, leaders excepted). */
unsigned sched_live_tasks(struct inferior *inf);
/* Task tid if it lives (not dead, not a snapshot's), else NULL. */
struct task *sched_live_task(struct inferior *inf, pid_t tid);

#endif
