/* Internals shared by inferior.c, runctl.c and stepping.c. Not for front ends. */
#ifndef REWIND_INFERIOR_INT_H
#define REWIND_INFERIOR_INT_H

#include "inferior.h"

/* What one event meant for the command in progress. */
enum ev_result {
	ER_RESUMED,     /* handled; whatever needed to run was resumed */
	ER_STOP,        /* report *st to the user */
	ER_STEP_DONE,   /* the stepping task finished its single step */
	ER_INTERNAL,    /* an internal breakpoint of the command was hit (run->hit) */
};

struct run {
	struct task *only;          /* step just this task (others stay stopped); NULL: all */
	enum resume_mode mode;      /* mode for `only` */
	bool all_running;           /* every thread was resumed (new threads follow) */
	struct breakpoint *hit;     /* internal breakpoint that ended the wait */
	enum bp_internal want;      /* internal kind the command waits for */
};

void inf_image_changed(struct inferior *inf, struct proc *p);
void inf_release_others(struct inferior *inf);

/* Resume one task (stepping off an int3 under its pc first if t->stepover). */
int run_resume_task(struct inferior *inf, struct run *r, struct task *t, enum resume_mode m);
/* Resume per r: only r->only in r->mode, or every stopped task. */
int run_resume(struct inferior *inf, struct run *r);
/* Wait for and handle events until one ends the wait (not ER_RESUMED). */
enum ev_result run_wait(struct inferior *inf, struct run *r, struct stop *st);
/* Stop everything, drop re-hittable breakpoint events, fill st's thread fields. */
void run_stop_all(struct inferior *inf, struct stop *st, struct task *t);
/* t stopped for the user on a breakpoint's address without having hit it (a step
 * ended there, a signal came): resumed from there it steps over it, as gdb does when
 * the pc is the stop's, rather than report a hit that did not move (inside a rep
 * string instruction each resume starts it again). */
void run_stopped_at(struct inferior *inf, struct task *t);
/* Execute exactly one instruction of t with every other task stopped, stepping off
 * a breakpoint if one sits at pc. Returns ER_STEP_DONE or ER_STOP (st filled). */
enum ev_result run_single_step(struct inferior *inf, struct task *t, struct stop *st);
/* Internal breakpoint at addr in t's process; frame_cfa 0 = any frame. */
struct breakpoint *run_internal_bp(struct inferior *inf, struct task *t, enum bp_internal kind,
				   uint64_t addr, uint64_t frame_cfa);
void run_drop_internal(struct inferior *inf, enum bp_internal kind);

void stop_fill_thread(struct stop *st, struct task *t);

#endif
