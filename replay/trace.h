/* trace: the recording's append-only, versioned, checksummed event log.
 *
 * File: a header, then records until an END record.
 *   header  "RWTRACE\0", u16 major, u16 minor, u32 header length, u64 creation time
 *           (ns since the epoch), u32 flags, then strings (rewind version, kernel
 *           release, host name, machine), then a CRC32C of all of it. Little-endian.
 *   record  u8 type (bit 7: "same thread as the previous record that named one"),
 *           varint payload length, payload, u32 CRC32C of type+length+payload.
 * Payloads use LEB128 varints (zigzag for signed values) and length-prefixed byte
 * strings; zero syscall arguments and trailing zero siginfo bytes are not stored.
 * A syscall of one argument with no out-buffer takes about 10 bytes.
 *
 * Compatibility: a reader refuses a newer major version. Within a major version, a
 * file of a newer minor version may contain record types and trailing payload
 * fields this reader does not know: they are skipped. In a file of this reader's
 * minor version (or older) they are corruption.
 *
 * Thread context: records that carry a thread id may omit it when it equals the
 * previous one's. The context is reset after every CHECKPOINT record, so reading
 * may start at the offset just after one (trace_reader_seek).
 *
 * Event numbers are record numbers, from 0. */
#ifndef REWIND_TRACE_H
#define REWIND_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/util.h"

#define TRACE_MAGIC "RWTRACE"          /* 8 bytes with its NUL */
#define TRACE_VERSION_MAJOR 1
#define TRACE_VERSION_MINOR 5      /* 1: SIGNAL and SCHED may end with run_ns; 2: META with cpu;
                                      3: SYSBUF; 4: SCHED YIELD is written; 5: positions
                                      end with fastkey */
#define TRACE_MAX_PAYLOAD (1u << 30)   /* the writer refuses bigger records */

enum trace_type {
	TR_SYSCALL = 1,     /* a trapped syscall: number, arguments, result, out-buffers */
	TR_SIGNAL = 2,      /* a signal delivered to a thread, at a position */
	TR_SCHED = 3,       /* the scheduler switched threads, at a position */
	TR_RDTSC = 4,       /* value of a trapped rdtsc/rdtscp */
	TR_MMAP = 5,        /* an mmap: request, result, stored copy of the file */
	TR_TASK = 6,        /* fork/vfork/clone/exec/exit of a task */
	TR_CHECKPOINT = 7,  /* a snapshot was taken at an event */
	TR_META = 8,        /* process metadata: argv, env, cwd, exe, maps, auxv */
	TR_END = 9,         /* the recording ended */
	TR_SYSBUF = 10,     /* calls a thread's agent logged in-process (replay/sysbuf.h) */
	TR__COUNT
};

/* A position in a thread's execution for asynchronous events (DESIGN, "Positions"):
 * the k-th time the thread reached pc since its previous recorded event, with a
 * hash of its general registers to tell apart hits of the same pc. */
struct trace_pos {
	uint64_t pc;
	uint64_t k;
	uint64_t reghash;
	/* CPU time the thread ran since its previous event, when known (0: unknown);
	 * lets a replay run most of the way before it starts comparing breakpoint
	 * hits. Stored as a trailing field of SIGNAL and SCHED (minor version 1). */
	uint64_t run_ns;
	/* Hash of the general registers alone (0: unknown): most breakpoint hits are
	 * told apart by it without reading the vector state and the stack. Trailing,
	 * after run_ns (minor version 1). */
	uint64_t gprhash;
	/* condtrap_key() of the registers (0: unknown): a replay checks it inside the
	 * thread (core/condtrap.h) instead of stopping at every hit. After gprhash
	 * (minor version 5). */
	uint64_t fastkey;
};

/* One out-buffer of a syscall: tracee memory the kernel wrote. When arg >= 0 the
 * buffer starts at the address in args[arg] (stored compactly); otherwise at addr. */
struct trace_piece {
	int arg;
	uint64_t addr;
	uint32_t len;
	const uint8_t *data;
};

enum trace_syscall_flag {
	TRS_AGENT = 1 << 0,        /* logged in-process by the agent, not at a ptrace stop */
	TRS_INTERRUPTED = 1 << 1,  /* interrupted by a signal (ret is the restart code) */
};

struct trace_syscall {
	int nr;
	uint64_t args[6];          /* arguments past the call's count are not stored (0) */
	int64_t ret;
	uint32_t flags;            /* enum trace_syscall_flag */
	const struct trace_piece *pieces;
	size_t npieces;
};

enum trace_signal_flag {
	TRSIG_SYNC = 1 << 0,       /* raised by an instruction (fault, trap), not sent */
};

struct trace_signal {
	int signo;
	uint32_t flags;            /* enum trace_signal_flag */
	uint8_t siginfo[128];      /* raw siginfo_t */
	struct trace_pos pos;
};

enum trace_sched_reason { TRSCHED_PREEMPT = 1, TRSCHED_BLOCK = 2, TRSCHED_YIELD = 3,
			  TRSCHED_EXIT = 4 };

struct trace_sched {
	pid_t to;                  /* the record's tid is the thread switched away from */
	uint32_t reason;           /* enum trace_sched_reason */
	struct trace_pos pos;      /* where the switched-away thread stopped */
};

struct trace_rdtsc {
	uint64_t value;
	uint64_t pc;               /* address of the instruction, for divergence checks */
	bool rdtscp;
	uint32_t aux;              /* rdtscp's TSC_AUX (ecx) */
};

struct trace_mmap {
	uint64_t addr, len, prot, flags, offset;   /* the request */
	int fd;
	int64_t ret;               /* mapped address or -errno */
	const char *file;          /* stored copy, relative to the recording; "" if none */
};

enum trace_task_kind { TRT_FORK = 1, TRT_VFORK = 2, TRT_CLONE = 3, TRT_EXEC = 4,
		       TRT_EXIT = 5 };

struct trace_task {
	uint32_t kind;             /* enum trace_task_kind */
	pid_t other;               /* fork/vfork/clone: the new tid; exec: the former tid */
	uint64_t flags;            /* clone flags */
	int64_t status;            /* exit: the wait status */
	const char *path;          /* exec: the program; "" otherwise */
};

struct trace_checkpoint {
	uint64_t id;
	uint64_t event;            /* the event number the snapshot stands at */
	const char *name;          /* "" when unnamed */
};

struct trace_meta {
	pid_t pid;
	const char *const *argv;
	size_t argc;
	const char *const *env;
	size_t envc;
	const char *cwd, *exe;
	const char *maps;          /* /proc/PID/maps text at the start */
	const uint64_t *auxv;      /* (type, value) pairs */
	size_t nauxv;              /* number of pairs */
	/* The one CPU the program ran on (minor version 2): cpuid reports it (the APIC
	 * id, which static glibc keeps in writable memory), so a replay runs there too. */
	bool have_cpu;
	unsigned cpu;
};

enum trace_end_flag { TRE_ABORTED = 1 << 0 };   /* the recording was cut short */

/* Calls the agent made and logged for a thread (struct rwsb_rec records, as the
 * agent wrote them), numbered first_seq, first_seq + 1, ... */
struct trace_sysbuf {
	uint64_t first_seq;
	uint32_t count;
	uint32_t len;
	const uint8_t *data;
};

struct trace_end {
	int64_t status;            /* wait status of the initial process */
	uint32_t flags;            /* enum trace_end_flag */
	uint64_t events;           /* records before this one (set by the writer) */
};

/* One event. Strings and arrays a reader returns live until its next call. */
struct trace_ev {
	enum trace_type type;
	uint64_t num;              /* record number (reader) */
	uint64_t off;              /* byte offset of the record in the file (reader) */
	pid_t tid;                 /* SYSCALL, SIGNAL, SCHED, RDTSC, MMAP, TASK, SYSBUF; else 0 */
	union {
		struct trace_syscall sys;
		struct trace_signal sig;
		struct trace_sched sched;
		struct trace_rdtsc tsc;
		struct trace_mmap mmap;
		struct trace_task task;
		struct trace_checkpoint ckpt;
		struct trace_meta meta;
		struct trace_end end;
		struct trace_sysbuf sbuf;
	};
};

/* Creation information kept in the header. */
struct trace_info {
	unsigned major, minor;     /* format version (reader) */
	uint64_t created_ns;
	const char *rewind_version, *kernel, *host, *machine;
};

/* Why reading stopped early. */
struct trace_error {
	uint64_t off;              /* byte offset of the bad record (or header field) */
	uint64_t recno;            /* its record number */
	char msg[240];             /* "record 12 at offset 4567: checksum mismatch ..." */
};

/* ---- writer ---- */

struct trace_writer;

/* Create path (which must not exist; mode 0600) and write the header. info may be
 * NULL; kernel, host and machine default to uname(), created_ns to now.
 * Registers the writer to be flushed at exit(). Returns 0 or -errno. */
int trace_writer_create(const char *path, const struct trace_info *info,
			struct trace_writer **out);
/* Append one event (ev->num and ev->off are ignored). Buffered: records reach the
 * file whole, in order, at the next flush (automatic past 64 KiB). *recno (may be
 * NULL) gets its record number. Returns 0, -EINVAL for a malformed event, -E2BIG
 * for a payload over TRACE_MAX_PAYLOAD, or a sticky write error. */
int trace_write(struct trace_writer *w, const struct trace_ev *ev, uint64_t *recno);
/* Write buffered records to the file. Returns 0 or -errno (sticky). */
int trace_writer_flush(struct trace_writer *w);
/* Records written so far, and the file offset the next record will have. */
uint64_t trace_writer_count(const struct trace_writer *w);
uint64_t trace_writer_offset(const struct trace_writer *w);
/* Flush, fsync and close; frees w. Returns the first error met, or 0. */
int trace_writer_close(struct trace_writer *w);

/* ---- reader ---- */

struct trace_reader;

/* Open a trace file (mapped read-only) or a buffer the caller keeps alive, and check
 * the header. Returns 0; -EBADMSG (not a trace, damaged header), or -EPROTONOSUPPORT
 * (a newer major version) with *err describing it (err may be NULL); or -errno. */
int trace_reader_open(const char *path, struct trace_reader **out, struct trace_error *err);
int trace_reader_mem(const void *buf, size_t len, struct trace_reader **out,
		     struct trace_error *err);
const struct trace_info *trace_reader_info(const struct trace_reader *r);
/* Next event. Returns 1 with *ev filled; 0 after the END record at the end of the
 * file; -EBADMSG at a truncated or corrupt record, -ENODATA when the file ends
 * cleanly but without an END record (the recording was interrupted). After an
 * error, trace_reader_error() says where and why and every later call repeats it;
 * events before it are good. */
int trace_next(struct trace_reader *r, struct trace_ev *ev);
const struct trace_error *trace_reader_error(const struct trace_reader *r);
/* Continue reading at byte offset off as record number recno: off must be the
 * offset of the first record or the offset just after a CHECKPOINT record.
 * Returns 0 or -EINVAL (off outside the records). */
int trace_reader_seek(struct trace_reader *r, uint64_t off, uint64_t recno);
void trace_reader_close(struct trace_reader *r);

/* ---- dump ---- */

/* One readable line (with newline) for an event, e.g.
 * "#12 tid 4242 read(0, 0x7ffe1234, 4096) = 100 [arg1: 100 bytes]". */
void trace_dump_ev(struct sbuf *out, const struct trace_ev *ev);
/* The header as a few "key: value" lines. */
void trace_dump_info(struct sbuf *out, const struct trace_info *info);
/* Every event of r from where it stands, then a last line saying how the trace
 * ended (end record, interrupted, or the error). Stops after max events when
 * max > 0. Returns trace_next()'s final result (0, -EBADMSG, -ENODATA) or 1 when
 * stopped by max. */
int trace_dump(struct trace_reader *r, struct sbuf *out, uint64_t max);

/* Name of a record type ("syscall", "signal", ...), "?" if unknown. */
const char *trace_type_name(enum trace_type t);

#endif
