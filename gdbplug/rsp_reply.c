/* rsp_reply: payloads a server sends gdb. */
#include "rsp_reply.h"

#include <errno.h>
#include <string.h>

#include "rsp_codec.h"

/* Room kept free under RSP_PACKET_SIZE for a reply's prefix and framing. */
#define REPLY_SLACK 64
#define OUTPUT_CHUNK 1024  /* console bytes per O packet */

static const char *const server_feature_names[RSP_S__COUNT] = {
	[RSP_S_NOACK] = "QStartNoAckMode+",
	[RSP_S_XFER_FEATURES] = "qXfer:features:read+",
	[RSP_S_XFER_AUXV] = "qXfer:auxv:read+",
	[RSP_S_XFER_EXEC_FILE] = "qXfer:exec-file:read+",
	[RSP_S_XFER_LIBRARIES_SVR4] = "qXfer:libraries-svr4:read+",
	[RSP_S_XFER_THREADS] = "qXfer:threads:read+",
	[RSP_S_XFER_SIGINFO] = "qXfer:siginfo:read+",
	[RSP_S_PASS_SIGNALS] = "QPassSignals+",
	[RSP_S_PROGRAM_SIGNALS] = "QProgramSignals+",
	[RSP_S_REVERSE] = "ReverseContinue+;ReverseStep+",
	[RSP_S_DISABLE_RANDOMIZATION] = "QDisableRandomization+",
	[RSP_S_ENVIRONMENT] = "QEnvironmentHexEncoded+;QEnvironmentUnset+;QEnvironmentReset+",
	[RSP_S_WORKING_DIR] = "QSetWorkingDir+",
	[RSP_S_STARTUP_WITH_SHELL] = "QStartupWithShell+",
	[RSP_S_BINARY_UPLOAD] = "binary-upload+",
};

unsigned rsp_reply_supported(struct sbuf *b, unsigned server_bits, unsigned shared_bits,
			     unsigned gdb_bits)
{
	sbuf_printf(b, "PacketSize=%x", RSP_PACKET_SIZE);
	for (int i = 0; i < RSP_S__COUNT; i++)
		if (server_bits & RSP_FBIT(i))
			sbuf_printf(b, ";%s", server_feature_names[i]);
	unsigned agreed = shared_bits & gdb_bits & (RSP_FBIT(RSP_F__COUNT) - 1);
	for (int i = 0; i < RSP_F__COUNT; i++)
		if (agreed & RSP_FBIT(i))
			sbuf_printf(b, ";%s+", rsp_feature_name(i));
	return agreed;
}

void rsp_reply_ok(struct sbuf *b) { sbuf_puts(b, "OK"); }

void rsp_reply_error(struct sbuf *b, int err, const char *text, bool error_strings)
{
	if (!error_strings || !text || !*text) {
		sbuf_printf(b, "E%02x", (err < 0 ? -err : err) & 0xff);
		return;
	}
	/* The text travels unescaped: keep it printable and free of framing bytes. */
	sbuf_puts(b, "E.");
	for (size_t i = 0; text[i] && i < 200; i++) {
		unsigned char ch = (unsigned char)text[i];
		bool ok = ch >= 0x20 && ch < 0x7f && !rsp_needs_escape(ch);
		sbuf_putc(b, ok ? (char)ch : '?');
	}
}

void rsp_reply_hex(struct sbuf *b, const void *data, size_t n) { rsp_put_hex(b, data, n); }

void rsp_reply_binary(struct sbuf *b, const void *data, size_t n)
{
	sbuf_putc(b, 'b');
	rsp_put_escaped(b, data, MIN(n, (size_t)RSP_MAX_READ_BIN), RSP_PACKET_SIZE - REPLY_SLACK);
}

static void put_id(struct sbuf *b, long id)
{
	if (id < 0)
		sbuf_puts(b, "-1");
	else
		sbuf_printf(b, "%lx", (unsigned long)id);
}

void rsp_put_ptid(struct sbuf *b, struct rsp_ptid t, bool multiprocess)
{
	if (multiprocess) {
		sbuf_putc(b, 'p');
		put_id(b, t.pid);
		sbuf_putc(b, '.');
	}
	put_id(b, t.tid);
}

void rsp_reply_current_thread(struct sbuf *b, struct rsp_ptid t, bool multiprocess)
{
	sbuf_puts(b, "QC");
	rsp_put_ptid(b, t, multiprocess);
}

void rsp_reply_thread_list(struct sbuf *b, const struct rsp_ptid *threads, size_t n,
			   size_t *cursor, bool multiprocess)
{
	if (*cursor >= n) {
		sbuf_putc(b, 'l');
		return;
	}
	size_t start = b->len;
	sbuf_putc(b, 'm');
	for (size_t first = *cursor; *cursor < n; (*cursor)++) {
		/* A thread id is at most "p-1." + 2 * 8 digits: keep well inside a packet. */
		if (b->len - start + 40 > RSP_PACKET_SIZE - REPLY_SLACK)
			break;
		if (*cursor > first)
			sbuf_putc(b, ',');
		rsp_put_ptid(b, threads[*cursor], multiprocess);
	}
}

void rsp_reply_xfer(struct sbuf *b, const void *doc, size_t doc_len, uint64_t offset,
		    uint64_t length)
{
	if (offset >= doc_len) {
		sbuf_putc(b, 'l');
		return;
	}
	size_t avail = doc_len - (size_t)offset;
	size_t want = (size_t)MIN((uint64_t)avail, length);
	size_t at = b->len;
	sbuf_putc(b, 'm');
	size_t used = rsp_put_escaped(b, (const char *)doc + offset, want,
				      RSP_PACKET_SIZE - REPLY_SLACK);
	if (used == avail)
		b->s[at] = 'l';
}

static const char *const reason_names[] = {
	[RSP_REASON_SWBREAK] = "swbreak", [RSP_REASON_HWBREAK] = "hwbreak",
	[RSP_REASON_WATCH] = "watch", [RSP_REASON_RWATCH] = "rwatch",
	[RSP_REASON_AWATCH] = "awatch", [RSP_REASON_REPLAY_BEGIN] = "replaylog",
	[RSP_REASON_REPLAY_END] = "replaylog", [RSP_REASON_FORK] = "fork",
	[RSP_REASON_VFORK] = "vfork", [RSP_REASON_VFORK_DONE] = "vforkdone",
	[RSP_REASON_EXEC] = "exec", [RSP_REASON_CREATE] = "create",
	[RSP_REASON_SYSCALL_ENTRY] = "syscall_entry",
	[RSP_REASON_SYSCALL_RETURN] = "syscall_return",
};

static void put_reason(struct sbuf *b, const struct rsp_stop *s, bool multiprocess)
{
	if (s->reason == RSP_REASON_NONE)
		return;
	sbuf_printf(b, "%s:", reason_names[s->reason]);
	switch (s->reason) {
	case RSP_REASON_WATCH: case RSP_REASON_RWATCH: case RSP_REASON_AWATCH:
	case RSP_REASON_SYSCALL_ENTRY: case RSP_REASON_SYSCALL_RETURN:
		sbuf_printf(b, "%llx", (unsigned long long)s->addr);
		break;
	case RSP_REASON_REPLAY_BEGIN:
		sbuf_puts(b, "begin");
		break;
	case RSP_REASON_REPLAY_END:
		sbuf_puts(b, "end");
		break;
	case RSP_REASON_FORK: case RSP_REASON_VFORK:
		/* gdb parses the child as a thread id in either mode. */
		rsp_put_ptid(b, s->child, multiprocess);
		break;
	case RSP_REASON_EXEC:
		if (s->exec_path)
			rsp_put_hex(b, s->exec_path, strlen(s->exec_path));
		break;
	default:
		break;
	}
	sbuf_putc(b, ';');
}

int rsp_reply_stop(struct sbuf *b, const struct rsp_stop *s, bool multiprocess)
{
	if ((unsigned)s->reason >= ARRAY_SIZE(reason_names) ||
	    (unsigned)s->kind > RSP_STOP_NO_RESUMED)
		return -EINVAL;
	switch (s->kind) {
	case RSP_STOP_SIGNAL:
		sbuf_printf(b, "T%02x", s->sig & 0xff);
		put_reason(b, s, multiprocess);
		if (s->expedite)
			sbuf_puts(b, s->expedite);
		sbuf_puts(b, "thread:");
		rsp_put_ptid(b, s->thread, multiprocess);
		sbuf_putc(b, ';');
		if (s->core >= 0)
			sbuf_printf(b, "core:%x;", (unsigned)s->core);
		break;
	case RSP_STOP_EXITED:
	case RSP_STOP_KILLED:
		sbuf_printf(b, "%c%02x", s->kind == RSP_STOP_EXITED ? 'W' : 'X',
			    (s->kind == RSP_STOP_EXITED ? s->status : s->sig) & 0xff);
		if (multiprocess) {
			sbuf_puts(b, ";process:");
			put_id(b, s->thread.pid);
		}
		break;
	case RSP_STOP_THREAD_EXITED:
		sbuf_printf(b, "w%02x;", s->status & 0xff);
		rsp_put_ptid(b, s->thread, multiprocess);
		break;
	case RSP_STOP_NO_RESUMED:
		sbuf_putc(b, 'N');
		break;
	}
	return 0;
}

size_t rsp_reply_output(struct sbuf *b, const char *text, size_t len)
{
	size_t n = MIN(len, (size_t)OUTPUT_CHUNK);
	sbuf_putc(b, 'O');
	rsp_put_hex(b, text, n);
	return n;
}

int rsp_send_console(struct rsp_conn *c, const char *text, size_t len)
{
	struct sbuf b = { 0 };
	int r = 0;
	while (len && !r) {
		sbuf_reset(&b);
		size_t n = rsp_reply_output(&b, text, len);
		r = rsp_conn_send(c, b.s, b.len);
		text += n;
		len -= n;
	}
	sbuf_free(&b);
	return r;
}
