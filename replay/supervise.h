/* supervise: `rewind run` — any command tree under rewind, tracers inside it
 * emulated (core/nest.h), checkpointed and restored as a whole on request.
 *
 * The command gets the terminal untouched. Requests come over a control socket (a
 * unix datagram socket, mode 0600 in a 0700 directory; its path is given to the
 * command as REWIND_CONTROL): one datagram "REWIND1 PID COMMAND [ARG]" per request,
 * one datagram back, "ok TEXT" or "error TEXT". Commands: checkpoint [NAME],
 * checkpoint! [NAME] (despite unrestorable resources), restore N|NAME, list,
 * delete N|NAME, status, ping. A checkpoint asked for by a process of the session
 * (PID is in the tree, e.g. gdb's plugin) is taken while it waits for the answer;
 * after each restore of that checkpoint the restored requester is answered again,
 * "restored ID TEXT", on the same socket — like fork() returning twice. */
#ifndef REWIND_SUPERVISE_H
#define REWIND_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/util.h"

#define SV_ENV "REWIND_CONTROL"
#define SV_MAGIC "REWIND1"

struct sv_opts {
	char *const *argv;        /* the command (searched in PATH) */
	const char *control;      /* socket path; NULL: sv_default_control() */
	/* Called once the command runs (before it executes its first instruction): where
	 * the control socket is. */
	void (*ready)(void *ctx, pid_t pid, const char *control);
	void *ctx;
};

/* Run the command to its end. *status gets its wait status. Returns 0, or -errno
 * with the reason in err (the command could not be started, the socket not made). */
int sv_run(const struct sv_opts *o, int *status, struct sbuf *err);

/* The directory sessions put their sockets in ($XDG_RUNTIME_DIR/rewind or
 * /tmp/rewind-UID), created 0700 if missing; -EPERM if it exists and is not ours
 * or is open to others. */
int sv_control_dir(char *buf, size_t len);

/* Client side. Send one request (COMMAND [ARG]) to the session at path and wait up to
 * timeout_ms (-1 forever) for the answer, which goes to reply without its status
 * word. Returns 1 for "ok", 0 for "error" (reply says why), -errno when the session
 * could not be reached (-ECONNREFUSED: nobody listens there). */
int sv_request(const char *path, const char *request, struct sbuf *reply, int timeout_ms);

/* Sockets of live sessions in the control directory, one path per line. Returns how
 * many. */
int sv_sessions(struct sbuf *paths);

#endif
