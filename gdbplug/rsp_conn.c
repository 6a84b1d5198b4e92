/* rsp_conn: framing, checksums, acknowledgements and interrupts on one connection. */
#include "rsp_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "rsp_codec.h"

#define READ_CHUNK 65536
#define UNACKED_MAX 16        /* frames sent but not yet acknowledged */
#define RETRANSMIT_MAX 5      /* '-' answers to one frame before giving it up */
#define WRITE_TIMEOUT_MS 30000

enum state { S_IDLE, S_BODY, S_CSUM1, S_CSUM2 };

struct frame {
	char *bytes;
	size_t len;
	int retransmits;
};

struct rsp_conn {
	int in_fd, out_fd;
	bool out_is_socket;
	bool noack, rle, eof;
	bool warned_unacked;

	uint8_t *in;                  /* raw input not yet parsed: in[pos..len) */
	size_t in_pos, in_len, in_cap;

	enum state st;
	char *pkt;                    /* payload being assembled, RSP_PACKET_SIZE + 1 */
	size_t pkt_len;
	uint8_t sum;                  /* running checksum of the body */
	bool overlong;
	char csum_hi;

	struct frame unacked[UNACKED_MAX];
	size_t ua_head, ua_n;

	struct sbuf frame;            /* scratch for building frames */
	struct rsp_conn_stats st_;
};

static void log_payload(const char *dir, const char *p, size_t n)
{
	if (!log_on(LM_GDB, LOG_TRACE))
		return;
	char buf[256];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 5 < sizeof buf; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			buf[k++] = (char)ch;
		else
			k += (size_t)snprintf(buf + k, sizeof buf - k, "\\x%02x", ch);
	}
	buf[k] = 0;
	pr_trace(LM_GDB, "%s %s%s", dir, buf, k + 5 >= sizeof buf ? "..." : "");
}

int rsp_conn_new(int in_fd, int out_fd, struct rsp_conn **out)
{
	if (out_fd < 0)
		return -EBADF;
	struct stat sb;
	if (fstat(out_fd, &sb) < 0)
		return -errno;
	struct rsp_conn *c = xcalloc(1, sizeof *c);
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->out_is_socket = S_ISSOCK(sb.st_mode);
	c->rle = true;
	c->in_cap = READ_CHUNK;
	c->in = xmalloc(c->in_cap);
	c->pkt = xmalloc(RSP_PACKET_SIZE + 1);
	*out = c;
	return 0;
}

void rsp_conn_free(struct rsp_conn *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ua_n; i++)
		free(c->unacked[(c->ua_head + i) % UNACKED_MAX].bytes);
	sbuf_free(&c->frame);
	free(c->in);
	free(c->pkt);
	free(c);
}

int rsp_conn_fd(const struct rsp_conn *c) { return c->in_fd; }
bool rsp_conn_noack(const struct rsp_conn *c) { return c->noack; }
void rsp_conn_set_rle(struct rsp_conn *c, bool on) { c->rle = on; }
void rsp_conn_get_stats(const struct rsp_conn *c, struct rsp_conn_stats *st) { *st = c->st_; }

void rsp_conn_set_noack(struct rsp_conn *c)
{
	pr_debug(LM_GDB, "no-ack mode");
	c->noack = true;
}

/* Write all of buf; a stalled peer is waited for, a vanished one reported. */
static int write_all(struct rsp_conn *c, const char *buf, size_t n)
{
	if (c->eof)
		return -EPIPE;
	while (n) {
		ssize_t w = c->out_is_socket ? send(c->out_fd, buf, n, MSG_NOSIGNAL)
		                             : write(c->out_fd, buf, n);
		if (w > 0) {
			buf += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = c->out_fd, .events = POLLOUT };
			int r = poll(&pfd, 1, WRITE_TIMEOUT_MS);
			if (r > 0 || (r < 0 && errno == EINTR))
				continue;
			pr_err(LM_GDB, "gdb connection: write stalled for %d ms", WRITE_TIMEOUT_MS);
			return r == 0 ? -ETIMEDOUT : -errno;
		}
		int e = w < 0 ? errno : EPIPE;
		pr_debug(LM_GDB, "gdb connection: write failed: %s", strerror(e));
		if (e == EPIPE || e == ECONNRESET)
			c->eof = true;
		return -e;
	}
	return 0;
}

static int send_frame(struct rsp_conn *c, char lead, const void *payload, size_t len, bool track)
{
	sbuf_reset(&c->frame);
	sbuf_putc(&c->frame, lead);
	if (c->rle)
		rsp_rle_encode(payload, len, &c->frame);
	else
		sbuf_append(&c->frame, payload, len);
	uint8_t cs = rsp_checksum(c->frame.s + 1, c->frame.len - 1);
	sbuf_printf(&c->frame, "#%02x", cs);
	log_payload(lead == '$' ? "->" : "-> notify", payload, len);
	int r = write_all(c, c->frame.s, c->frame.len);
	if (r || !track || c->noack)
		return r;
	if (c->ua_n == UNACKED_MAX) {
		if (!c->warned_unacked)
			pr_warn(LM_GDB, "gdb connection: %d packets unacknowledged; forgetting the oldest",
				UNACKED_MAX);
		c->warned_unacked = true;
		free(c->unacked[c->ua_head].bytes);
		c->ua_head = (c->ua_head + 1) % UNACKED_MAX;
		c->ua_n--;
	}
	struct frame *f = &c->unacked[(c->ua_head + c->ua_n++) % UNACKED_MAX];
	f->bytes = xmalloc(c->frame.len);
	memcpy(f->bytes, c->frame.s, c->frame.len);
	f->len = c->frame.len;
	f->retransmits = 0;
	return 0;
}

int rsp_conn_send(struct rsp_conn *c, const void *payload, size_t len)
{
	return send_frame(c, '$', payload, len, true);
}

int rsp_conn_send_str(struct rsp_conn *c, const char *payload)
{
	return send_frame(c, '$', payload, strlen(payload), true);
}

int rsp_conn_notify(struct rsp_conn *c, const void *payload, size_t len)
{
	return send_frame(c, '%', payload, len, false);
}

static void pop_unacked(struct rsp_conn *c)
{
	free(c->unacked[c->ua_head].bytes);
	c->unacked[c->ua_head].bytes = NULL;
	c->ua_head = (c->ua_head + 1) % UNACKED_MAX;
	c->ua_n--;
}

/* gdb answered our oldest unacknowledged frame. */
static void on_ack(struct rsp_conn *c, bool good)
{
	if (!c->ua_n)
		return; /* gdb's greeting '+', or stray acks in no-ack mode */
	if (good) {
		pop_unacked(c);
		return;
	}
	c->st_.nacks_received++;
	struct frame *f = &c->unacked[c->ua_head];
	if (f->retransmits++ >= RETRANSMIT_MAX) {
		pr_err(LM_GDB, "gdb connection: packet refused %d times; giving it up", RETRANSMIT_MAX);
		pop_unacked(c);
		return;
	}
	c->st_.retransmits++;
	pr_debug(LM_GDB, "gdb connection: nack; retransmitting %zu bytes", f->len);
	write_all(c, f->bytes, f->len);
}

static void send_ack(struct rsp_conn *c, char a)
{
	if (a == '-')
		c->st_.nacks_sent++;
	write_all(c, &a, 1);
}

int rsp_conn_feed(struct rsp_conn *c, const void *buf, size_t n)
{
	if (c->in_pos == c->in_len) {
		c->in_pos = c->in_len = 0;
	} else if (c->in_pos) {
		memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
		c->in_len -= c->in_pos;
		c->in_pos = 0;
	}
	if (c->in_len + n > c->in_cap) {
		while (c->in_len + n > c->in_cap)
			c->in_cap *= 2;
		c->in = xrealloc(c->in, c->in_cap);
	}
	memcpy(c->in + c->in_len, buf, n);
	c->in_len += n;
	return 0;
}

void rsp_conn_feed_eof(struct rsp_conn *c) { c->eof = true; }

long rsp_conn_fill(struct rsp_conn *c)
{
	if (c->in_fd < 0)
		return -EBADF;
	if (c->eof)
		return 0;
	if (c->in_pos == c->in_len)
		c->in_pos = c->in_len = 0;
	if (c->in_len == c->in_cap)
		return -ENOBUFS;
	struct pollfd pfd = { .fd = c->in_fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	ssize_t n = read(c->in_fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n > 0) {
		c->in_len += (size_t)n;
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n < 0 && errno != ECONNRESET && errno != EPIPE)
		return -errno;
	pr_debug(LM_GDB, "gdb connection: end of input%s", n < 0 ? " (reset)" : "");
	c->eof = true;
	return 0;
}

static void start_packet(struct rsp_conn *c)
{
	if (c->st != S_IDLE) {
		pr_debug(LM_GDB, "gdb connection: '$' inside a packet; restarting");
		c->st_.garbage_bytes += c->pkt_len + 1;
	}
	c->st = S_BODY;
	c->pkt_len = 0;
	c->sum = 0;
	c->overlong = false;
}

/* The two checksum digits have arrived: decide the packet's fate. Returns 1 with *ev
 * filled, or 0 if the packet was dropped. */
static int finish_packet(struct rsp_conn *c, char lo, struct rsp_event *ev)
{
	int hi_v = rsp_hex_digit((unsigned char)c->csum_hi), lo_v = rsp_hex_digit((unsigned char)lo);
	bool ok = hi_v >= 0 && lo_v >= 0 && (uint8_t)(hi_v << 4 | lo_v) == c->sum;
	c->st = S_IDLE;
	if (!ok) {
		c->st_.bad_checksums++;
		if (!c->noack) {
			pr_debug(LM_GDB, "gdb connection: bad checksum %c%c (sum %02x); nack",
				 c->csum_hi, lo, c->sum);
			send_ack(c, '-');
			return 0;
		}
		/* No one is listening for a nack now; gdbserver accepts such packets too. */
		pr_warn(LM_GDB, "gdb connection: bad checksum %c%c (sum %02x) in no-ack mode; accepted",
			c->csum_hi, lo, c->sum);
	} else if (!c->noack) {
		send_ack(c, '+');
	}
	if (c->overlong) {
		/* Intact but too big: a nack would only make gdb send it again. */
		c->st_.overlong++;
		pr_warn(LM_GDB, "gdb connection: packet longer than %#x bytes discarded", RSP_PACKET_SIZE);
		ev->kind = RSP_EV_OVERLONG;
		ev->data = NULL;
		ev->len = 0;
		return 1;
	}
	c->pkt[c->pkt_len] = 0;
	c->st_.packets++;
	log_payload("<-", c->pkt, c->pkt_len);
	ev->kind = RSP_EV_PACKET;
	ev->data = c->pkt;
	ev->len = c->pkt_len;
	return 1;
}

int rsp_conn_next(struct rsp_conn *c, struct rsp_event *ev)
{
	while (c->in_pos < c->in_len) {
		uint8_t ch = c->in[c->in_pos++];
		switch (c->st) {
		case S_IDLE:
			switch (ch) {
			case '$':
				start_packet(c);
				break;
			case 0x03:
				c->st_.interrupts++;
				pr_debug(LM_GDB, "<- interrupt");
				ev->kind = RSP_EV_INTERRUPT;
				ev->data = NULL;
				ev->len = 0;
				return 1;
			case '+':
			case '-':
				on_ack(c, ch == '+');
				break;
			default:
				c->st_.garbage_bytes++;
				break;
			}
			break;
		case S_BODY:
			if (ch == '$') {
				start_packet(c);
			} else if (ch == '#') {
				c->st = S_CSUM1;
			} else {
				c->sum += ch;
				if (c->pkt_len < RSP_PACKET_SIZE)
					c->pkt[c->pkt_len++] = (char)ch;
				else
					c->overlong = true;
			}
			break;
		case S_CSUM1:
			if (ch == '$') {
				c->st_.bad_checksums++;
				start_packet(c);
				break;
			}
			c->csum_hi = (char)ch;
			c->st = S_CSUM2;
			break;
		case S_CSUM2:
			if (ch == '$') {
				c->st_.bad_checksums++;
				start_packet(c);
				break;
			}
			if (finish_packet(c, (char)ch, ev))
				return 1;
			break;
		}
	}
	c->in_pos = c->in_len = 0;
	if (c->eof) {
		if (c->st != S_IDLE) {
			pr_debug(LM_GDB, "gdb connection: input ended inside a packet (%zu bytes)", c->pkt_len);
			c->st_.garbage_bytes += c->pkt_len + 1;
			c->st = S_IDLE;
		}
		ev->kind = RSP_EV_EOF;
		ev->data = NULL;
		ev->len = 0;
		return 1;
	}
	return 0;
}

int rsp_conn_wait(struct rsp_conn *c, int timeout_ms, struct rsp_event *ev)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ns() + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		int r = rsp_conn_next(c, ev);
		if (r)
			return r;
		if (c->in_fd < 0)
			return 0;
		int wait_ms = -1;
		if (timeout_ms >= 0) {
			uint64_t now = now_ns();
			if (now >= deadline)
				return 0;
			wait_ms = (int)((deadline - now + 999999) / 1000000);
		}
		struct pollfd pfd = { .fd = c->in_fd, .events = POLLIN };
		int p = poll(&pfd, 1, wait_ms);
		if (p < 0 && errno != EINTR)
			return -errno;
		if (p <= 0)
			continue;
		long n = rsp_conn_fill(c);
		if (n < 0)
			return (int)n;
	}
}
