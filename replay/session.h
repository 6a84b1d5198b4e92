/* session: the one engine API both front ends (shell, gdb server) drive.
 *
 * Queries (threads, memory, registers, symbols, breakpoints) go straight to the
 * inferior and core/sym; everything that moves the program — forwards or backwards,
 * to a checkpoint or a recorded position — goes through session_exec() and friends,
 * so recording, automatic checkpoints and the timeline stay consistent. */
#ifndef REWIND_SESSION_H
#define REWIND_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inferior.h"
#include "checkpoint.h"

enum sess_cmd {
	SC_CONTINUE,
	SC_STEPI,
	SC_NEXTI,
	SC_STEP,
	SC_NEXT,
	SC_FINISH,
	SC_UNTIL,      /* until with no argument */
	SC_RUN_TO,     /* until/advance LOCATION: addr, until_frame */
};

enum sess_dir { DIR_FORWARD, DIR_REVERSE };

struct sess_args {
	enum sess_dir dir;
	int sig;               /* continue: signal to deliver (-1: as pending) */
	uint64_t addr;         /* SC_RUN_TO */
	bool until_frame;      /* SC_RUN_TO: also stop when the current frame returns */
	uint64_t frame_cfa;    /* SC_FINISH of an outer frame: its CFA (addr: return pc,
	                          func: its function); 0 = finish frame 0 */
	uint64_t func;
	bool inner;            /* one step of a repeated command (stepi N) short of the
	                          last: not a stop the user sees, so no auto-checkpoint */
	bool no_print;         /* the caller prints no stop (gdbserver: gdb does):
	                          st->print is not worked out */
};

struct rec_engine;
struct timeline;

struct session {
	struct inferior inf;
	struct ckpt_list ckpts;
	struct rec_engine *rec;   /* record/replay (replay/record.h); recording on by default */
	struct timeline *tl;      /* reverse execution: known points and snapshots (replay/timeline.h) */
	bool started;          /* a program was launched or attached at least once */
	char auto_problem[256];/* why automatic checkpoints are off for this stop, once */
};

int session_init(struct session *s);
void session_fini(struct session *s);

/* Start the program from the beginning (kills a running one): stops at its first
 * instruction. Then session_exec(SC_CONTINUE) for `run`. */
int session_launch(struct session *s, struct sbuf *err);
int session_attach(struct session *s, pid_t pid, struct sbuf *err);
int session_detach(struct session *s);
int session_kill(struct session *s);

/* Move the program. Fills *st; returns 0 (st may still be SR_ERROR) or -errno. */
int session_exec(struct session *s, enum sess_cmd cmd, const struct sess_args *a, struct stop *st);

/* Checkpoints (see checkpoint.h). Messages for the user go to msg. */
int session_checkpoint(struct session *s, const char *name, bool force, struct checkpoint **out,
		       struct sbuf *msg);
/* Name the current state: names the automatic checkpoint taken at this stop if there
 * is one, else takes a checkpoint with that name. */
int session_bookmark(struct session *s, const char *name, struct checkpoint **out, struct sbuf *msg);
/* Go back (or forward) to a checkpoint; st describes the restored stop. */
int session_restore(struct session *s, const char *id_or_name, struct stop *st, struct sbuf *msg);
int session_delete_checkpoint(struct session *s, const char *id_or_name, struct sbuf *msg);
/* "bump (loop.c:8)" for t's pc. */
void session_describe_pc(struct session *s, struct task *t, struct sbuf *out);

#endif
