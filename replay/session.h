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
};

struct session {
	struct inferior inf;
	bool started;          /* a program was launched or attached at least once */
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

#endif
