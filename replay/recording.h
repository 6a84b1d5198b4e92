/* recording: a session's event log in memory, as branches of shared events.
 *
 * An event is a struct trace_ev deep-copied into one allocation (its out-buffers,
 * strings and arrays travel with it) and reference-counted, so a branch can share
 * another branch's prefix without copying the events.
 *
 * A branch is one history: event i is the i-th thing that happened since the
 * recording started. Recording appends to the current branch. When the user changes
 * the program's state (set var, a register, an inferior call) the future recorded
 * after that point is no longer the program's future: the session forks a new branch
 * holding the events up to now and records into it; the old branch lives on as long
 * as a checkpoint taken in its future refers to it (restoring that checkpoint makes
 * it current again, so its future can be replayed). */
#ifndef REWIND_RECORDING_H
#define REWIND_RECORDING_H

#include <stdbool.h>
#include <stdint.h>

#include "replay/trace.h"

struct rec_branch;

/* A new, empty branch with one reference. id is for messages ("branch 2"). */
struct rec_branch *rec_branch_new(unsigned id);
/* A new branch (one reference) sharing b's events [0, upto); upto is capped at b's
 * length. */
struct rec_branch *rec_branch_fork(const struct rec_branch *b, uint64_t upto, unsigned id);
struct rec_branch *rec_branch_ref(struct rec_branch *b);
/* Drop a reference; the last one frees the branch and the events no other branch
 * shares. NULL is accepted. */
void rec_branch_unref(struct rec_branch *b);

unsigned rec_branch_id(const struct rec_branch *b);
uint64_t rec_branch_len(const struct rec_branch *b);
/* Event i (its num is i), or NULL past the end. Valid while the branch holds it. */
const struct trace_ev *rec_branch_get(const struct rec_branch *b, uint64_t i);
/* Append a deep copy of ev (num and off are set to the event's index). Returns 0 or
 * -EINVAL (a malformed event: pieces without data, strings missing). */
int rec_branch_append(struct rec_branch *b, const struct trace_ev *ev);
/* Drop the events from index n on (n >= length: nothing). */
void rec_branch_truncate(struct rec_branch *b, uint64_t n);
/* Bytes held by the events of b (shared ones counted in full). */
uint64_t rec_branch_bytes(const struct rec_branch *b);

/* Deep copy of one event into a single malloc'd block (free() it); NULL for a
 * malformed event. */
struct trace_ev *rec_ev_dup(const struct trace_ev *ev);

#endif
