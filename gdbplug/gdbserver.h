/* gdbserver: rewind's GDB Remote Serial Protocol server, a thin policy layer over a
 * session. It answers gdb's packets from the session's state (threads, registers,
 * memory, breakpoints, libraries) and moves the program only through the session
 * (session_exec, session_restore, session_launch/attach/kill/detach), so automatic
 * checkpoints and, later, recording stay consistent with the shell.
 *
 * One connection per server. The server owns nothing it is given: the caller creates
 * the session (and usually launches or attaches the program first), the descriptors,
 * and frees them after gs_free. While the program runs, a small poller thread watches
 * the connection and interrupts the session when gdb sends ^C or goes away. */
#ifndef REWIND_GDBSERVER_H
#define REWIND_GDBSERVER_H

#include <stdbool.h>

#include "replay/session.h"

struct gs_opts {
	bool multi;           /* extended-remote use: no program needed at start, gdb's `run`
	                         (vRun) starts one, and the server outlives its exits */
	bool detach_on_exit;  /* when gdb disconnects, detach a launched program instead of
	                         killing it (attached programs are always detached) */
	int output_fd;        /* read end of a pipe carrying the program's output, copied to
	                         output_to while the program runs and before each stop reply
	                         (so it reaches gdb ahead of the stop); 0 or -1: none */
	int output_to;
	bool replay;          /* the session replays a loaded recording: vRun starts it again
	                         with the recorded arguments and environment, not gdb's */
};

struct gdbserver;

/* Serve gdb on in_fd/out_fd (may be equal) for session s. o may be NULL (defaults).
 * Takes over s's notice callback and, for programs it starts, nothing else.
 * Returns 0 with *out, or -errno. */
int gs_new(struct session *s, int in_fd, int out_fd, const struct gs_opts *o,
	   struct gdbserver **out);

/* Handle whatever gdb sends within timeout_ms (-1: wait for at least one event): each
 * packet is answered before the next is read; a resume returns once the program stops.
 * Returns 1 while the connection goes on, 0 once it is over (gdb left, or killed or
 * detached the program without extended mode), or -errno. When gdb leaves with the
 * program alive, the program is killed, or detached (attached programs, or
 * detach_on_exit): it is never left stopped. */
int gs_step(struct gdbserver *g, int timeout_ms);

/* gs_step until the connection is over. Returns 0 or -errno. */
int gs_serve(struct gdbserver *g);

/* Stop the poller thread, give the session its notice callback back, free. */
void gs_free(struct gdbserver *g);

#endif
