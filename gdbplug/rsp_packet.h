/* rsp_packet: the grammar of the packets gdb sends a server, parsed into a tagged
 * struct so the server's dispatch is one switch on the kind. Parsing is in place: hex and
 * binary fields are decoded inside the payload buffer the connection handed out, and
 * pointers in the result point into it (valid as long as that buffer is). A packet rewind
 * does not know parses as RSP_UNSUPPORTED (reply with the empty packet); a known packet
 * with bad syntax parses as RSP_MALFORMED with a reason (reply with an error). */
#ifndef REWIND_RSP_PACKET_H
#define REWIND_RSP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsp_codec.h"

enum rsp_kind {
	RSP_UNSUPPORTED,        /* unknown or unimplemented: reply "" */
	RSP_MALFORMED,          /* known packet, bad syntax: .error says why */
	RSP_QSUPPORTED,         /* qSupported[:features] -> .supported */
	RSP_START_NOACK,        /* QStartNoAckMode */
	RSP_STOP_REASON,        /* ? */
	RSP_EXTENDED_MODE,      /* ! */
	RSP_READ_REGS,          /* g */
	RSP_WRITE_REGS,         /* G hex -> .regs */
	RSP_READ_REG,           /* p n -> .reg.regno */
	RSP_WRITE_REG,          /* P n=hex -> .reg */
	RSP_READ_MEM,           /* m addr,len -> .mem (hex reply) */
	RSP_READ_MEM_BIN,       /* x addr,len -> .mem (binary reply, "binary-upload") */
	RSP_WRITE_MEM,          /* M addr,len:hex -> .mem with data */
	RSP_WRITE_MEM_BIN,      /* X addr,len:binary -> .mem with data */
	RSP_INSERT_BREAK,       /* Ztype,addr,kind[;cond...][;cmds:...] -> .bp */
	RSP_REMOVE_BREAK,       /* ztype,addr,kind -> .bp */
	RSP_CONTINUE,           /* c[addr], Csig[;addr] -> .resume */
	RSP_STEP,               /* s[addr], Ssig[;addr] -> .resume */
	RSP_REVERSE_CONTINUE,   /* bc */
	RSP_REVERSE_STEP,       /* bs */
	RSP_VCONT_QUERY,        /* vCont? */
	RSP_VCONT,              /* vCont;action[:tid]... -> .vcont */
	RSP_SET_THREAD,         /* Hg tid / Hc tid -> .hthread */
	RSP_THREAD_ALIVE,       /* T tid -> .thread */
	RSP_CURRENT_THREAD,     /* qC */
	RSP_THREAD_INFO_FIRST,  /* qfThreadInfo */
	RSP_THREAD_INFO_NEXT,   /* qsThreadInfo */
	RSP_THREAD_EXTRA_INFO,  /* qThreadExtraInfo,tid -> .thread */
	RSP_XFER_READ,          /* qXfer:object:read:annex:offset,length -> .xfer */
	RSP_XFER_WRITE,         /* qXfer:object:write:annex:offset:binary -> .xfer */
	RSP_PASS_SIGNALS,       /* QPassSignals:sig;sig... -> .signals */
	RSP_PROGRAM_SIGNALS,    /* QProgramSignals:sig;sig... -> .signals */
	RSP_ATTACHED,           /* qAttached[:pid] -> .pid */
	RSP_OFFSETS,            /* qOffsets */
	RSP_SYMBOL,             /* qSymbol::  or  qSymbol:value:name -> .symbol */
	RSP_TRACE_STATUS,       /* qTStatus */
	RSP_MUST_REPLY_EMPTY,   /* vMustReplyEmpty: reply "" */
	RSP_KILL,               /* k */
	RSP_VKILL,              /* vKill;pid -> .pid */
	RSP_DETACH,             /* D[;pid] -> .pid */
	RSP_MONITOR,            /* qRcmd,hex -> .monitor (decoded, NUL-terminated) */
	RSP_VFILE,              /* vFile:op:args -> .vfile (may be answered unsupported) */
	RSP_NON_STOP,           /* QNonStop:0|1 -> .flag (only sent if QNonStop+ was
	                           announced; all-stop servers answer :1 with an error) */
	RSP_VRUN,               /* vRun;file;arg... -> .run (hex-decoded) */
	RSP_VATTACH,            /* vAttach;pid -> .pid */
	RSP_VCTRLC,             /* vCtrlC: the packet form of the interrupt */
	RSP_GET_TLS_ADDR,       /* qGetTLSAddr:tid,offset,lm -> .tls */
	RSP_ENABLE_ERROR_STRINGS, /* QEnableErrorStrings */
	RSP_DISABLE_RANDOMIZATION, /* QDisableRandomization:0|1 -> .flag */
	RSP_THREAD_EVENTS,      /* QThreadEvents:0|1 -> .flag */
	RSP_STARTUP_WITH_SHELL, /* QStartupWithShell:0|1 -> .flag */
	RSP_SET_WORKING_DIR,    /* QSetWorkingDir:[hex] -> .text (empty: the default) */
	RSP_ENV_SET,            /* QEnvironmentHexEncoded:hex(name=value) -> .env */
	RSP_ENV_UNSET,          /* QEnvironmentUnset:hex(name) -> .env */
	RSP_ENV_RESET,          /* QEnvironmentReset */
	RSP_KIND__COUNT,
};

/* A thread id: pid and tid are -1 for "all", 0 for "any". has_pid is false when gdb
 * used the plain (non-multiprocess) form, in which case pid is -1 for "-1" and 0 else. */
struct rsp_ptid {
	long pid, tid;
	bool has_pid;
};

/* qSupported features gdb may announce ("name+"), as bits. */
enum rsp_feature {
	RSP_F_MULTIPROCESS, RSP_F_SWBREAK, RSP_F_HWBREAK, RSP_F_QRELOCINSN,
	RSP_F_FORK_EVENTS, RSP_F_VFORK_EVENTS, RSP_F_EXEC_EVENTS, RSP_F_VCONT_SUPPORTED,
	RSP_F_QTHREAD_EVENTS, RSP_F_NO_RESUMED, RSP_F_MEMORY_TAGGING, RSP_F_ERROR_MESSAGE,
	RSP_F__COUNT,
};
#define RSP_FBIT(f) (1u << (f))
/* Name as it appears in qSupported ("fork-events"), NULL if out of range. */
const char *rsp_feature_name(enum rsp_feature f);

struct rsp_vcont_action {
	char action;            /* 'c', 's', 't' (stop), 'r' (range step) */
	int sig;                /* gdb signal for 'C'/'S' (action then 'c'/'s'), else 0 */
	bool has_sig;
	uint64_t start, end;    /* 'r': step while start <= pc < end */
	bool has_thread;        /* false: applies to every thread not named before */
	struct rsp_ptid thread;
};

enum rsp_xfer_object {
	RSP_XFER_OTHER, RSP_XFER_FEATURES, RSP_XFER_AUXV, RSP_XFER_EXEC_FILE,
	RSP_XFER_LIBRARIES_SVR4, RSP_XFER_THREADS, RSP_XFER_SIGINFO,
};

struct rsp_packet {
	enum rsp_kind kind;
	const char *error;      /* RSP_MALFORMED: a static description */
	union {
		struct {
			unsigned features;      /* RSP_FBIT(RSP_F_*) gdb said "+" to */
			const char *xml_registers; /* "i386" from xmlRegisters=, or NULL */
		} supported;
		struct {
			uint8_t *data;          /* decoded bytes */
			size_t len;
		} regs;
		struct {
			unsigned regno;
			uint8_t *data;          /* P: decoded value */
			size_t len;
		} reg;
		struct {
			uint64_t addr, len;     /* m/x: len is clamped to what fits in a reply */
			uint8_t *data;          /* M/X: decoded bytes, len of them */
		} mem;
		struct {
			int type;               /* 0 sw, 1 hw, 2 write, 3 read, 4 access watchpoint */
			uint64_t addr, kind;
			bool has_cond, has_cmds; /* target-side conditions/commands (ignorable) */
		} bp;
		struct {
			int sig;                /* C/S: gdb signal, else 0 */
			bool has_sig, has_addr;
			uint64_t addr;
		} resume;
		struct {
			struct rsp_vcont_action *actions; /* owned: rsp_packet_free */
			size_t n;
		} vcont;
		struct {
			char op;                /* 'g' (registers, memory) or 'c' (resume) */
			struct rsp_ptid thread;
		} hthread;
		struct rsp_ptid thread;
		struct {
			enum rsp_xfer_object object;
			const char *object_name;
			const char *annex;      /* may be empty */
			uint64_t offset, length;
			uint8_t *data;          /* write: decoded bytes */
			size_t data_len;
		} xfer;
		struct {
			uint64_t bits[4];       /* gdb signal numbers 0..255 */
		} signals;
		struct {
			bool has_pid;
			long pid;
		} pid;
		struct {
			char *cmd;              /* decoded, NUL-terminated */
			size_t len;
		} monitor;
		struct {
			const char *op;         /* "open", "pread", "setfs", ... */
			const char *args;       /* the rest, raw */
		} vfile;
		bool flag;
		struct {
			char **argv;            /* owned array, strings in the payload; argv[0] is
			                           the program ("" means gdb's default) */
			size_t argc;
		} run;
		struct {
			struct rsp_ptid thread;
			uint64_t offset, lm;
		} tls;
		struct {
			bool has_value;         /* false: gdb could not find the symbol */
			uint64_t value;
			const char *name;       /* decoded; NULL for "qSymbol::" (ready to serve) */
		} symbol;
		struct {
			const char *name;       /* decoded; for SET the part before '=' */
			const char *value;      /* SET only */
		} env;
		const char *text;
	} u;
};

/* Parse one payload (len bytes at buf, buf[len] must be writable; the connection's
 * RSP_EV_PACKET data qualifies). Never fails: the result's kind says what it was.
 * Decodes in place, so buf is modified. */
void rsp_parse(char *buf, size_t len, struct rsp_packet *out);

/* Release what rsp_parse allocated (vCont actions, vRun argv). Safe on any result. */
void rsp_packet_free(struct rsp_packet *p);

/* Name of a kind for logs ("vCont", "qXfer:read", ...). */
const char *rsp_kind_name(enum rsp_kind k);

/* True if gdb signal sig is in a QPassSignals/QProgramSignals set. */
static inline bool rsp_signal_in(const struct rsp_packet *p, unsigned sig)
{
	return sig < 256 && (p->u.signals.bits[sig / 64] >> (sig % 64) & 1);
}

/* Largest m/x reply data, in bytes, that fits a reply within RSP_PACKET_SIZE. */
#define RSP_MAX_READ_HEX ((RSP_PACKET_SIZE - 16) / 2)
#define RSP_MAX_READ_BIN ((RSP_PACKET_SIZE - 16) / 2)

#endif
