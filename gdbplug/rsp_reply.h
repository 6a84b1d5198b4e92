/* rsp_reply: builders for the payloads a server sends gdb. Each appends one unframed
 * payload to an sbuf (the connection frames, run-length encodes and checksums it), and
 * keeps within RSP_PACKET_SIZE where the data could be large. Thread ids are written in
 * the multiprocess form ("p1f.20") when that was negotiated, else as plain tids. */
#ifndef REWIND_RSP_REPLY_H
#define REWIND_RSP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "rsp_conn.h"
#include "rsp_packet.h"

/* Features a server announces in its qSupported reply, beyond the shared RSP_F_* ones. */
enum rsp_server_feature {
	RSP_S_NOACK,               /* QStartNoAckMode+ */
	RSP_S_XFER_FEATURES,       /* qXfer:features:read+ */
	RSP_S_XFER_AUXV,           /* qXfer:auxv:read+ */
	RSP_S_XFER_EXEC_FILE,      /* qXfer:exec-file:read+ */
	RSP_S_XFER_LIBRARIES_SVR4, /* qXfer:libraries-svr4:read+ */
	RSP_S_XFER_THREADS,        /* qXfer:threads:read+ */
	RSP_S_XFER_SIGINFO,        /* qXfer:siginfo:read+ */
	RSP_S_PASS_SIGNALS,        /* QPassSignals+ */
	RSP_S_PROGRAM_SIGNALS,     /* QProgramSignals+ */
	RSP_S_REVERSE,             /* ReverseContinue+;ReverseStep+ */
	RSP_S_DISABLE_RANDOMIZATION, /* QDisableRandomization+ */
	RSP_S_ENVIRONMENT,         /* QEnvironmentHexEncoded+;QEnvironmentUnset+;QEnvironmentReset+ */
	RSP_S_WORKING_DIR,         /* QSetWorkingDir+ */
	RSP_S_STARTUP_WITH_SHELL,  /* QStartupWithShell+ */
	RSP_S_BINARY_UPLOAD,       /* binary-upload+ (the x packet; gdb 16 and later) */
	RSP_S__COUNT,
};

/* qSupported reply: "PacketSize=...", the server features in server_bits
 * (RSP_FBIT(RSP_S_*)), and each shared feature (RSP_FBIT(RSP_F_*)) that is both in
 * shared_bits (what the server implements) and in gdb_bits (what gdb offered).
 * Returns the negotiated shared bits. */
unsigned rsp_reply_supported(struct sbuf *b, unsigned server_bits, unsigned shared_bits,
			     unsigned gdb_bits);

void rsp_reply_ok(struct sbuf *b);

/* "Exx" for errno err (either sign); with error_strings (gdb sent QEnableErrorStrings)
 * and a text, "E.text" instead, the text made safe for the wire. */
void rsp_reply_error(struct sbuf *b, int err, const char *text, bool error_strings);

/* m / p / g replies: the bytes in hex. */
void rsp_reply_hex(struct sbuf *b, const void *data, size_t n);

/* x reply: 'b' and the bytes binary-escaped (at most RSP_MAX_READ_BIN of them). */
void rsp_reply_binary(struct sbuf *b, const void *data, size_t n);

void rsp_put_ptid(struct sbuf *b, struct rsp_ptid t, bool multiprocess);

/* qC reply: "QC" and the thread. */
void rsp_reply_current_thread(struct sbuf *b, struct rsp_ptid t, bool multiprocess);

/* qfThreadInfo / qsThreadInfo reply: 'm' and as many of threads[*cursor..n) as fit,
 * comma-separated, advancing *cursor; 'l' once none are left. Start with *cursor = 0
 * for qfThreadInfo and keep it for the following qsThreadInfo packets. */
void rsp_reply_thread_list(struct sbuf *b, const struct rsp_ptid *threads, size_t n,
			   size_t *cursor, bool multiprocess);

/* qXfer read reply for the window [offset, offset + length) of a document: 'm' and
 * the bytes when more of the document follows, 'l' and the bytes for the last piece
 * ('l' alone past the end); binary-escaped and cut to fit a packet. */
void rsp_reply_xfer(struct sbuf *b, const void *doc, size_t doc_len, uint64_t offset,
		    uint64_t length);

enum rsp_stop_kind {
	RSP_STOP_SIGNAL,         /* T: a thread stopped with sig */
	RSP_STOP_EXITED,         /* W: the process exited with status */
	RSP_STOP_KILLED,         /* X: the process was killed by sig */
	RSP_STOP_THREAD_EXITED,  /* w: a thread exited with status (QThreadEvents) */
	RSP_STOP_NO_RESUMED,     /* N: nothing left to run (no-resumed) */
};

enum rsp_stop_reason {
	RSP_REASON_NONE,
	RSP_REASON_SWBREAK, RSP_REASON_HWBREAK,
	RSP_REASON_WATCH, RSP_REASON_RWATCH, RSP_REASON_AWATCH, /* .addr: data address */
	RSP_REASON_REPLAY_BEGIN, RSP_REASON_REPLAY_END,  /* reverse/forward ran out of history */
	RSP_REASON_FORK, RSP_REASON_VFORK,               /* .child: the new process */
	RSP_REASON_VFORK_DONE,
	RSP_REASON_EXEC,                                 /* .exec_path */
	RSP_REASON_CREATE,                               /* a new thread (QThreadEvents) */
	RSP_REASON_SYSCALL_ENTRY, RSP_REASON_SYSCALL_RETURN, /* .addr: syscall number */
};

struct rsp_stop {
	enum rsp_stop_kind kind;
	int sig;                     /* gdb signal number (rsp_sig_from_host) */
	int status;                  /* exit status for W / w */
	struct rsp_ptid thread;      /* T, w: the thread; W, X: .pid is the process */
	enum rsp_stop_reason reason; /* T only */
	uint64_t addr;
	struct rsp_ptid child;
	const char *exec_path;
	const char *expedite;        /* preformatted "NN:hex;" register pairs, or NULL */
	int core;                    /* CPU the thread last ran on, or -1 */
};

/* Stop reply for s: "T05swbreak:;06:...;thread:p1f.1f;core:1;", "W00;process:1f",
 * "X09;process:1f", "w00;p1f.20" or "N". Returns 0, or -EINVAL for a kind or reason
 * out of range (nothing appended). */
int rsp_reply_stop(struct sbuf *b, const struct rsp_stop *s, bool multiprocess);

/* One "O" console-output packet with as much of text as fits; returns the bytes used. */
size_t rsp_reply_output(struct sbuf *b, const char *text, size_t len);

/* Send text to gdb's console as a series of O packets (monitor command output; gdb
 * waits for the final reply, which the caller sends after). Returns 0 or -errno. */
int rsp_send_console(struct rsp_conn *c, const char *text, size_t len);

#endif
