/* Internals of the gdb server, shared by gdbserver.c (connection, dispatch, queries),
 * gdbserver_data.c (registers, memory, breakpoints), gdbserver_exec.c (resuming, stop
 * replies, the interrupt poller), gdbserver_xfer.c (qXfer documents) and
 * gdbserver_monitor.c (monitor commands). Not for other modules. */
#ifndef REWIND_GDBSERVER_INT_H
#define REWIND_GDBSERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gdbserver.h"
#include "rsp_conn.h"
#include "rsp_packet.h"
#include "rsp_reply.h"
#include "tdesc.h"

/* A breakpoint or watchpoint gdb inserted (Z0-Z4), kept after z so that gdb's
 * remove-insert around every step-over only toggles it. */
struct gs_zbp {
	int type;           /* 0 sw, 1 hw, 2 write, 3 read, 4 access */
	uint64_t addr, kind;
	int bp_id;          /* the inferior's breakpoint number */
	bool inserted;      /* gdb's view: Z seen, no z since */
};

struct gdbserver {
	struct session *s;
	struct rsp_conn *c;
	const struct tdesc *td;
	struct gs_opts opts;

	/* negotiated */
	bool mp;                  /* multiprocess thread ids */
	bool extended;            /* '!' seen */
	bool error_strings;       /* QEnableErrorStrings */
	bool swbreak, hwbreak;    /* gdb understands these stop reasons */

	/* gdb's selections */
	struct rsp_ptid hg, hc;
	struct rsp_ptid *threads; /* snapshot for qfThreadInfo/qsThreadInfo */
	size_t nthreads, thread_cursor;
	uint64_t pass[4];         /* QPassSignals, gdb numbering */

	VEC(struct gs_zbp) z;
	const struct proc *z_proc;/* process the z table belongs to */
	unsigned exec_gen;        /* its exec_gen then: a change means gdb's addresses are stale */

	/* the last stop, for '?' and qXfer:siginfo (the thread's own siginfo may have been
	   replaced since, by syscalls injected for a checkpoint) */
	char *last_reply;
	pid_t last_sig_tid;       /* thread that stopped with a signal, 0 if none */
	siginfo_t last_si;

	/* environment and arguments for vRun */
	VEC(char *) env;          /* "NAME=VALUE"; used when env_set */
	bool env_set;
	char **envv;              /* NULL-terminated copy handed to the inferior */

	/* qXfer: the document being read in pieces */
	struct sbuf xdoc;
	int xdoc_object;
	char *xdoc_annex;

	VEC(int) vfds;            /* files gdb opened with vFile:open */

	/* packets that arrived while deciding to resume, handled after the stop */
	VEC(char *) stash;
	VEC(size_t) stash_len;
	bool pending_interrupt;   /* a ^C came before the program was resumed */
	bool eof;                 /* gdb is gone */
	bool done;                /* the connection is over */

	/* the poller thread (gdbserver_exec.c) */
	pthread_t poller;
	bool poller_started;
	int ctl_fd;               /* eventfd: arm / quit */
	pthread_mutex_t mu;
	bool armed, fired, quit;
	unsigned gen;
	pthread_mutex_t pump_mu;  /* copying the program's output (opts.output_fd) */

	/* the session's notice callback before ours */
	void (*prev_notice)(void *ctx, const char *msg);
	void *prev_notice_ctx;
	bool running;             /* inside session_exec: notices go out as O packets */

	struct sbuf out;          /* reply being built */
};

/* ---- gdbserver.c ---- */
struct inferior *gs__inf(struct gdbserver *g);
/* The thread a ptid names in the followed process (any/all: the current one). */
struct task *gs__task(struct gdbserver *g, struct rsp_ptid p);
/* The thread gdb selected with Hg (registers, memory), or the current one. */
struct task *gs__hg_task(struct gdbserver *g);
struct rsp_ptid gs__ptid(struct gdbserver *g, const struct task *t);
/* The live threads of the followed process in creation order (gdb numbers them so);
 * *out is malloc'd. */
size_t gs__threads(struct gdbserver *g, struct task ***out);
void gs__error(struct gdbserver *g, int err, const char *text);
/* Send text to gdb's console (O packets). */
void gs__console(struct gdbserver *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- gdbserver_data.c ---- */
void gs__read_regs(struct gdbserver *g);
void gs__write_regs(struct gdbserver *g, const struct rsp_packet *p);
void gs__read_reg(struct gdbserver *g, const struct rsp_packet *p);
void gs__write_reg(struct gdbserver *g, const struct rsp_packet *p);
void gs__read_mem(struct gdbserver *g, const struct rsp_packet *p);
void gs__write_mem(struct gdbserver *g, const struct rsp_packet *p);
void gs__insert_bp(struct gdbserver *g, const struct rsp_packet *p);
void gs__remove_bp(struct gdbserver *g, const struct rsp_packet *p);
/* The z-table entry owning inferior breakpoint id, or NULL. */
struct gs_zbp *gs__zbp_by_id(struct gdbserver *g, int id);
/* Does an inserted gdb breakpoint sit at addr? */
bool gs__zbp_at(struct gdbserver *g, uint64_t addr);
/* Forget every gdb breakpoint (the process is gone or gdb starts afresh). */
void gs__zbp_clear(struct gdbserver *g);
/* After an exec: gdb's breakpoints were in the old image; disable them. */
void gs__zbp_check_exec(struct gdbserver *g);
/* The program is a new process now (launch, attach, restore): the z table follows it. */
void gs__zbp_rebase(struct gdbserver *g);

/* ---- gdbserver_exec.c ---- */
void gs__continue(struct gdbserver *g, const struct rsp_packet *p);
void gs__step(struct gdbserver *g, const struct rsp_packet *p);
void gs__vcont(struct gdbserver *g, const struct rsp_packet *p);
void gs__reverse(struct gdbserver *g, const struct rsp_packet *p);
/* Build the stop reply for st into g->out and remember it for '?'. */
void gs__stop_reply(struct gdbserver *g, const struct stop *st);
/* The reply for '?' (or the initial stop when none was reported yet). */
void gs__status(struct gdbserver *g);
void gs__vrun(struct gdbserver *g, const struct rsp_packet *p);
void gs__vattach(struct gdbserver *g, const struct rsp_packet *p);
void gs__kill(struct gdbserver *g, const struct rsp_packet *p);
void gs__detach(struct gdbserver *g, const struct rsp_packet *p);
/* gdb is gone: kill or detach the program. */
void gs__disconnect(struct gdbserver *g);
void gs__poller_stop(struct gdbserver *g);
/* Copy whatever the program wrote to opts.output_fd (non-blocking). */
void gs__pump(struct gdbserver *g);
/* Apply QPassSignals to the inferior's dispositions. */
void gs__apply_signals(struct gdbserver *g);

/* ---- gdbserver_xfer.c ---- */
void gs__xfer(struct gdbserver *g, const struct rsp_packet *p);
/* Build the svr4 library list of process p (annex as gdb sends it) into doc.
 * Returns 0 or -errno (-ENOENT: the program has no dynamic section). */
int gs__svr4_libraries(struct proc *p, const char *annex, struct sbuf *doc);

/* ---- gdbserver_vfile.c ---- */
/* vFile: host I/O, so gdb reads the program's files (and /proc) through the server. */
void gs__vfile(struct gdbserver *g, const struct rsp_packet *p);
void gs__vfile_close_all(struct gdbserver *g);

/* ---- gdbserver_monitor.c ---- */
void gs__monitor(struct gdbserver *g, const char *cmd);

#endif
