/* inferior: the program being debugged as the user sees it: the followed process and
 * everything rewind traces with it (threads, forked children), the breakpoints in
 * force, signal dispositions, and forward execution with gdb's semantics (all-stop:
 * every thread stops when one stops).
 *
 * Symbols are reached through the hooks in struct inf_symops (filled by core/sym's
 * adapter), and the recorder/replayer plugs in through struct inf_policy. */
#ifndef REWIND_INFERIOR_H
#define REWIND_INFERIOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "breakpoint.h"
#include "target.h"
#include "util.h"

struct inferior;

enum stop_reason {
	SR_NONE,
	SR_BREAKPOINT,     /* a user breakpoint: bp_id */
	SR_WATCHPOINT,     /* bp_id, old/new bytes */
	SR_WATCH_SCOPE,    /* watchpoint bp_id deleted: its frame is gone */
	SR_SIGNAL,         /* sig, si */
	SR_STEPPED,        /* stepi/nexti/step/next/until finished */
	SR_FINISHED,       /* finish returned to the caller: finish_func */
	SR_LOCATION,       /* until/advance reached its location */
	SR_EXITED,         /* code */
	SR_KILLED,         /* terminated by sig */
	SR_INTERRUPTED,    /* user interrupt (Ctrl-C, gdb's 0x03) */
	SR_HISTORY_BEGIN,  /* reverse execution reached the start of history */
	SR_HISTORY_END,    /* replay reached the end of the recording */
	SR_EXEC,           /* the followed process executed a new program */
	SR_ERROR,          /* message in err */
};

/* What the front end should print about the location (gdb's print_what). */
enum stop_print { SP_SRC_LINE, SP_SRC_AND_LOC, SP_LOCATION };

struct stop {
	enum stop_reason reason;
	enum stop_print print;
	struct task *task;        /* the thread that stopped; NULL once the process is gone */
	pid_t pid, tid;
	unsigned thread;          /* user thread number */
	uint64_t pc;
	int bp_id;
	bool temporary;           /* a tbreak: already deleted */
	int sig;
	siginfo_t si;
	int code;                 /* exit code */
	uint64_t waddr;
	unsigned wlen;
	uint8_t wold[32], wnew[32];
	bool wold_valid;
	uint64_t finish_func;     /* address of the function that returned (finish) */
	char err[256];
};

struct sig_disp {
	bool stop, print, pass;
};

/* Symbol services the inferior needs, provided by core/sym (infsym.c). Each may be
 * NULL-safe: without symbols only *ADDR locations and instruction steps work. */
struct inf_symops {
	/* Release the services' own state (at inf_fini). */
	void (*fini)(struct inferior *inf);
	/* Per-process symbol state (created at exec/attach, freed with the proc). */
	int (*attach_proc)(struct inferior *inf, struct proc *p);
	void (*detach_proc)(struct inferior *inf, struct proc *p);
	/* Libraries may have changed (rendezvous breakpoint hit): returns 1 if so. */
	int (*refresh)(struct inferior *inf, struct proc *p);
	/* Resolve a location spec into b's locations in p; 0 if none (pending). */
	int (*resolve)(struct inferior *inf, struct proc *p, struct breakpoint *b, struct sbuf *err);
	/* Address of the loader's rendezvous function in p, 0 if none. */
	uint64_t (*solib_bp_addr)(struct inferior *inf, struct proc *p);
	/* Evaluate a breakpoint condition in t's innermost frame: 1 true, 0 false, <0 error. */
	int (*eval_cond)(struct inferior *inf, struct task *t, const char *cond, struct sbuf *err);
	/* Line-stepping facts. */
	int (*line_range)(struct inferior *inf, struct task *t, uint64_t pc, uint64_t *lo,
			  uint64_t *hi, int *line);
	bool (*is_stmt_start)(struct inferior *inf, struct task *t, uint64_t pc);
	bool (*has_line_info)(struct inferior *inf, struct task *t, uint64_t pc);
	/* Start [lo,hi) of the function containing pc; and where a breakpoint on it goes. */
	int (*func_range)(struct inferior *inf, struct task *t, uint64_t pc, uint64_t *lo, uint64_t *hi);
	uint64_t (*func_body)(struct inferior *inf, struct task *t, uint64_t func_lo);
	/* Frame 0's CFA and its caller's pc and CFA (for finish, next, until). */
	int (*frame_info)(struct inferior *inf, struct task *t, uint64_t *cfa, uint64_t *caller_pc,
			  uint64_t *caller_cfa);
};

/* The recorder/replayer's hook into execution. */
struct inf_policy {
	void *ctx;
	/* Sees every event first. Return 1 if it handled the event completely (it
	 * resumed what it needed), 0 to let the inferior handle it, <0 error. */
	int (*on_event)(void *ctx, struct inferior *inf, struct tev *ev);
	/* Resume: `only` non-NULL = just that task in mode m; else every thread. */
	int (*resume)(void *ctx, struct inferior *inf, struct task *only, enum resume_mode m);
	/* When on_event returned <0: fill *st with the stop to report (a replay
	 * divergence, the end of a replay) and return 0; every task is then stopped.
	 * May be NULL (the event is then handled as usual). */
	int (*take_stop)(void *ctx, struct inferior *inf, struct stop *st);
	/* Milliseconds until the policy's next deadline (-1: none); on_timeout runs
	 * when it passes with no event (the recorder's time slices). Both may be NULL. */
	int (*timeout)(void *ctx, struct inferior *inf);
	void (*on_timeout)(void *ctx, struct inferior *inf);
};

struct inferior {
	struct target tg;
	struct bp_table bps;
	struct proc *main;            /* the followed process, NULL when none runs */
	struct task *cur;             /* selected thread */
	char **argv;                  /* program and arguments for `run` */
	char **envp;                  /* NULL: rewind's environment */
	char *cwd;
	bool keep_aslr;
	bool no_agent;                /* set agent off: do not preload librewind-agent.so */
	int (*child_setup)(void *arg);/* runs in the child before exec (recorder's filter) */
	void *child_arg;
	/* The program cannot run untraced (the recorder's seccomp RET_TRACE filter and
	 * rdtsc trap, set up by child_setup or injected at attach): detach hands it to a
	 * babysitter (core/babysit.h) instead of letting its syscalls fail. */
	bool tracer_bound;
	struct sig_disp sigs[NSIG];
	bool follow_child;            /* follow-fork-mode child */
	const struct inf_symops *sym;
	void *symctx;
	struct inf_policy *policy;
	VEC(char *) notices;          /* "[New Thread ...]" lines for the front end */
	/* If set, notices go here as they happen instead of the queue. */
	void (*notice_fn)(void *ctx, const char *msg);
	void *notice_ctx;
	volatile int interrupt_req;
};

int inf_init(struct inferior *inf);
void inf_fini(struct inferior *inf);

/* Program and arguments used by `run` (copied). */
void inf_set_program(struct inferior *inf, char *const *argv);

/* Launch (killing any current process): the new process stops at its first
 * instruction with every breakpoint inserted. Returns 0 or -errno (err says why). */
int inf_launch(struct inferior *inf, struct sbuf *err);
int inf_attach(struct inferior *inf, pid_t pid, struct sbuf *err);
/* Leave the process running untraced. */
int inf_detach(struct inferior *inf);
int inf_kill(struct inferior *inf);
bool inf_alive(const struct inferior *inf);

/* Threads of the followed process. */
struct task *inf_thread(struct inferior *inf, unsigned num);
int inf_select(struct inferior *inf, unsigned num);

/* Execution. Each fills *st with why it stopped; returns 0 or -errno (then st is
 * SR_ERROR with a message). sig: deliver this signal on resume (-1: the pending one). */
int inf_continue(struct inferior *inf, int sig, struct stop *st);
int inf_stepi(struct inferior *inf, bool over_calls, struct stop *st);
int inf_step(struct inferior *inf, bool over_calls, struct stop *st);
int inf_finish(struct inferior *inf, struct stop *st);
/* finish an outer frame: run until the frame whose CFA is cfa returns to ret_pc
 * (func_lo: the function that frame runs, for the returned value). */
int inf_finish_frame(struct inferior *inf, uint64_t ret_pc, uint64_t cfa, uint64_t func_lo,
		     struct stop *st);
/* until without argument: like next, but never stops in a loop going backwards. */
int inf_until_next(struct inferior *inf, struct stop *st);
/* until/advance LOCATION: run to addr or until the current frame returns. */
int inf_run_to(struct inferior *inf, uint64_t addr, bool until, struct stop *st);
/* Ask a running inferior to stop (async-signal-safe). */
void inf_interrupt(struct inferior *inf);

/* Breakpoints (user numbers). Resolution happens now if a process exists, else at
 * launch; an unresolvable spec makes a pending breakpoint. */
int inf_break(struct inferior *inf, enum bp_kind kind, const char *spec, const char *cond,
	      bool temporary, unsigned thread, struct breakpoint **out, struct sbuf *err);
/* A watchpoint on [addr, addr+len) (split over debug registers as needed). */
int inf_watch(struct inferior *inf, enum bp_kind kind, const char *expr, uint64_t addr,
	      unsigned len, uint64_t scope_cfa, struct breakpoint **out, struct sbuf *err);
int inf_delete(struct inferior *inf, struct breakpoint *b);
int inf_enable(struct inferior *inf, struct breakpoint *b, bool on);
/* Re-resolve every breakpoint in p (after exec, library loads, restore). */
void inf_rebind(struct inferior *inf, struct proc *p);

/* Fill a stop's thread fields (pid, tid, number, pc) from t. */
void stop_fill_thread(struct stop *st, struct task *t);

/* Pop queued notices (caller frees each string). */
char *inf_take_notice(struct inferior *inf);
void inf_notice(struct inferior *inf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Signal names and gdb's descriptions ("SIGSEGV", "Segmentation fault"). */
const char *sig_name(int sig);
const char *sig_desc(int sig);
int sig_from_name(const char *name);

#endif
