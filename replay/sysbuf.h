/* sysbuf: the agent's syscall buffer on rewind's side (the protocol is in
 * core/agent/agent_abi.h, the agent's half in core/agent/agent_sysbuf.c).
 *
 * Recording: a thread's new records are copied into the log as one SYSBUF event
 * (its tid, the first record's sequence number, the records' bytes as the agent wrote
 * them) just before any other event of that thread is logged, when its buffer is
 * full (RWSB_OP_FLUSH), and for every thread before a checkpoint or a user stop, so
 * everything a thread did before a point in the log is in the log. SYSBUF events do
 * not count as events of their thread (positions ignore them) and a replay's cursor
 * steps over them: a replayed call finds its record by (thread, sequence number).
 *
 * Records are untrusted both in the tracee and in a trace: sb_parse checks every
 * length against the bytes it has. */
#ifndef REWIND_SYSBUF_H
#define REWIND_SYSBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/trace.h"

/* One buffered call. Pieces point into the parsed bytes. */
struct sb_call {
	uint64_t seq;
	int nr;
	unsigned nargs;
	uint64_t args[6];
	int64_t ret;
	unsigned npieces;
	struct trace_piece pieces[2];   /* arg = -1, addr absolute */
};

/* Parse the record at *off of buf[0..len): 1 (and *off moves past it), 0 at the end,
 * -EINVAL when malformed (*off stays). */
int sb_parse(const uint8_t *buf, size_t len, size_t *off, struct sb_call *c);

/* The call as a trace syscall (flags 0; pieces point into c). */
void sb_call_as_syscall(const struct sb_call *c, struct trace_syscall *out);

/* NULL when blob holds exactly count well-formed records numbered first, first + 1...;
 * otherwise why not. */
const char *sb_check(const uint8_t *blob, size_t len, uint64_t first, uint32_t count);

#endif
