/* rsp_conn: one GDB Remote Serial Protocol connection over a file descriptor pair (a
 * socket, or stdin/stdout), server side. It frames and unframes packets ("$payload#cs"),
 * verifies checksums, sends and consumes '+'/'-' acknowledgements until no-ack mode,
 * recognises the 0x03 interrupt byte between packets, run-length encodes what it sends,
 * bounds every packet it accepts to RSP_PACKET_SIZE, and reports end of input cleanly.
 *
 * It never blocks on input: the server polls rsp_conn_fd() together with the debuggee,
 * calls rsp_conn_fill() when it is readable (or rsp_conn_feed() with bytes it read
 * itself), then drains events with rsp_conn_next(). Payloads are delivered raw: binary
 * fields are unescaped by the packet parser, which knows which fields are binary.
 * Writes block until the whole frame is out (a frame is never interleaved with another)
 * and never raise SIGPIPE on a socket; on a pipe the caller should ignore SIGPIPE. */
#ifndef REWIND_RSP_CONN_H
#define REWIND_RSP_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "rsp_codec.h" /* RSP_PACKET_SIZE */

struct rsp_conn;

enum rsp_ev {
	RSP_EV_PACKET,     /* data/len: a payload whose checksum was good (or no-ack mode) */
	RSP_EV_INTERRUPT,  /* a 0x03 byte between packets: stop the debuggee */
	RSP_EV_OVERLONG,   /* a packet longer than RSP_PACKET_SIZE arrived intact and was
	                      discarded; gdb awaits a reply: send an error */
	RSP_EV_EOF,        /* the peer closed or reset the connection; sticky */
};

struct rsp_event {
	enum rsp_ev kind;
	char *data;        /* RSP_EV_PACKET: NUL-terminated (may hold other NULs), writable,
	                      valid until the next call on the connection */
	size_t len;
};

/* Counters for logs and tests. */
struct rsp_conn_stats {
	unsigned long packets, interrupts, bad_checksums, overlong, garbage_bytes;
	unsigned long nacks_sent, nacks_received, retransmits;
};

/* Wrap in_fd (read) and out_fd (write; may equal in_fd). in_fd may be -1 when the caller
 * only feeds bytes. The descriptors stay the caller's: rsp_conn_free does not close them.
 * Starts in acknowledgement mode with run-length encoding on. Returns 0 or -errno. */
int rsp_conn_new(int in_fd, int out_fd, struct rsp_conn **out);
void rsp_conn_free(struct rsp_conn *c);

/* The descriptor to poll for input (-1 if none). */
int rsp_conn_fd(const struct rsp_conn *c);

/* Read whatever is available on the input fd without blocking. Returns the number of
 * bytes buffered (0 if none were ready, or at end of input: rsp_conn_next then reports
 * RSP_EV_EOF), or -errno (-ENOBUFS if the caller has not drained rsp_conn_next). */
long rsp_conn_fill(struct rsp_conn *c);

/* Hand the connection bytes read elsewhere. Returns 0. */
int rsp_conn_feed(struct rsp_conn *c, const void *buf, size_t n);

/* Declare end of input for a fed connection (rsp_conn_next reports RSP_EV_EOF once the
 * buffered bytes are consumed). */
void rsp_conn_feed_eof(struct rsp_conn *c);

/* Take the next event from buffered input: returns 1 with *ev filled, 0 if more input is
 * needed, or -errno. In acknowledgement mode it sends '+' for each good packet and '-'
 * for each bad one (which is dropped), and retransmits on a '-' from gdb. Garbage
 * between packets is skipped. */
int rsp_conn_next(struct rsp_conn *c, struct rsp_event *ev);

/* Block up to timeout_ms (-1: forever) for the next event, polling and filling as
 * needed. Returns 1 with *ev, 0 on timeout, or -errno. For simple loops and tests. */
int rsp_conn_wait(struct rsp_conn *c, int timeout_ms, struct rsp_event *ev);

/* Send one packet with this payload (already escaped where the packet type needs it).
 * Returns 0, or -errno (-EPIPE once the peer is gone; rsp_conn_next then reports EOF). */
int rsp_conn_send(struct rsp_conn *c, const void *payload, size_t len);
int rsp_conn_send_str(struct rsp_conn *c, const char *payload);

/* Send a notification ("%payload#cs"): never acknowledged, never retransmitted. */
int rsp_conn_notify(struct rsp_conn *c, const void *payload, size_t len);

/* Enter no-ack mode: call right after sending the "OK" reply to QStartNoAckMode. gdb's
 * '+' for that OK is still consumed; from then on nothing is acknowledged either way. */
void rsp_conn_set_noack(struct rsp_conn *c);
bool rsp_conn_noack(const struct rsp_conn *c);

/* Turn run-length encoding of sent payloads on or off (on by default). */
void rsp_conn_set_rle(struct rsp_conn *c, bool on);

void rsp_conn_get_stats(const struct rsp_conn *c, struct rsp_conn_stats *st);

#endif
