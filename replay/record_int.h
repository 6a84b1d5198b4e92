/* Internals of the record/replay engine, shared by record*.c and replay*.c. */
#ifndef REWIND_RECORD_INT_H
#define REWIND_RECORD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cpu_alarm.h"
#include "core/inferior.h"
#include "replay/record.h"
#include "replay/position.h"
#include "replay/recording.h"
#include "replay/sched_tasks.h"
#include "replay/seccomp.h"
#include "replay/systable.h"
#include "replay/trace.h"

/* What a task is doing between a seccomp stop and the matching syscall-exit stop. */
enum rec_pend {
	RP_NONE,
	RP_RECORD,      /* recording: the call runs; log it at its exit */
	RP_REPLAY,      /* replaying: the call was skipped or executed; finish it at exit */
};

/* One traced task as the engine sees it. */
struct rec_task {
	pid_t tid;
	enum rec_pend pend;
	int nr;                     /* the pending call */
	uint64_t args[6];
	enum resume_mode want;      /* how the run loop wants it to run (CONT, STEP...) */
	/* record: the stored copy of a file being mmapped ("" when anonymous) */
	char *mmap_file;
	/* replay: the event being applied at the exit stop */
	uint64_t event;
	int placeholder;            /* replay: the exit must produce this descriptor (-1) */
	bool fds_pair;              /* replay: ... or the pair in the out-buffer */
	bool mmap_inject;           /* replay: map the stored copy at the exit stop */
	bool shmat_inject;          /* replay: attach a segment like the recorded one there */
	bool restart_fix;           /* replay: an interrupted call: restore orig_rax at exit */
	bool passthru;              /* a skipped call passing to its exit stop */
	/* record: the call came back with a restart code while no signal was pending (a
	 * stop of rewind's interrupted it): the kernel makes it again, the same call
	 * going on, logged once at its real end. A signal stop first logs it after all. */
	bool rs_pend;
	int64_t rs_ret;
	/* replay: stopped at an rdtsc fault, or at an exec's stop, while the log's next
	 * event is the result of another task's call still in the kernel (the vfork
	 * parent this task's exec released): its own event is taken when it comes up
	 * (sched_rpl_drive); EW_POS: it stands at the position of its next event, a
	 * preemption or a signal, which the log has after such results */
	enum { EW_NONE, EW_RDTSC, EW_EXEC, EW_POS } ev_wait;
	bool fix_orig;              /* ... where orig_rax must say the call again (replay) */
	/* scheduling (sched_tasks.h) */
	bool held;                  /* wants to run; not its turn */
	enum { SS_READY, SS_KERNEL, SS_ENTRY, SS_WAIT } sstate;
	/* replay, with SS_ENTRY: stopped at a call's entry before its event came up
	 * (the log has the results of calls other tasks were in first); the entry is
	 * dealt with when it does */
	bool parked;
	/* record: an asynchronous signal seen at a signal-delivery stop, logged when the
	 * task resumes with it (the user may have discarded or replaced it) */
	bool sig_seen;
	int sig_signo;
	siginfo_t sig_info;
	struct trace_pos sig_pos;
	/* replay: looking for a position (an asynchronous event of this thread) */
	enum { SRCH_NONE, SRCH_HW, SRCH_SW, SRCH_FAST } search;   /* FAST: a condtrap */
	int search_slot;            /* debug-register slot */
	uint64_t search_pc;
	int delivering;             /* replay: the recorded signal injected, not yet stopped */
	/* replay: delivered at the exit of a call with a mask of its own (pselect6,
	 * ppoll, epoll_pwait, rt_sigsuspend), which the replay skipped: the call's mask
	 * is in force until the delivery stop, then this one (the frame saves it) */
	bool mask_swapped;
	uint64_t mask_restore;
	bool passing;               /* replay: at the delivery stop of that signal */
	siginfo_t deliver_info;
	/* CPU time (ns) the task had at its previous event (/proc/.../schedstat, plus
	 * cpu_bias: a restored task's clock starts again from zero, the bias continues
	 * the checkpoint's) */
	int statfd;
	uint64_t last_cpu;
	uint64_t cpu_bias;
	/* No event since it was created: its first stretch's CPU time counts its start
	 * (first touches of its stack, TLS), which a replay may run much faster, so no
	 * untrapped approach then (it overshot: "expected sched, got exit" in an ASan
	 * build's --chaos race, 3 replays in 9). */
	bool young;
	uint64_t held_at;           /* its CPU time when rec_cpu_hold was called */
	/* replay: running untrapped towards a position until this much CPU time */
	bool ff;
	bool ff_stopping;           /* interrupted at the end of the run */
	uint64_t ff_until;
	uint64_t ff_pos_cpu;        /* the CPU time the recording reached the position at */
	uint64_t ff_event;          /* 1 + the event it was done for (once per event) */
	struct cpu_alarm ff_alarm;  /* stops the untrapped run on time (polling is the backup) */
	int alarm_fd_last;          /* fd of the last alarm armed (stale signals), -1 if none */
	/* record: the agent's buffer of this thread (sysbuf.c), 0 until found; the
	 * offset in it from which records are new */
	uint64_t sb_addr;
	uint64_t sb_fs;             /* fs_base at its last trapped entry (its TLS while in the call) */
	uint64_t sb_first;          /* the fill of the buffer sb_off is for (its first_seq) */
	size_t sb_off;
	bool sb_warned;
};

/* The last buffered call logged (recording) or given (replay) for a thread. */
struct sb_last {
	pid_t tid;
	uint64_t seq;
};

/* The CPU time a task had run since its previous event when a checkpoint was
 * taken: positions count from that event (pos_point.run_ns). */
struct rec_since {
	pid_t tid;
	uint64_t ns;
};

/* Events per recorded thread (the k of positions). */
struct rec_tcount {
	pid_t tid;
	uint64_t n;
};

/* A task that stood inside a call when a checkpoint was taken (blocked in the
 * kernel while another thread had the turn). Restored, it makes the call again and
 * must wait at its entry for the call's logged result, as it did in the recording. */
struct rec_incall {
	pid_t tid;
	int nr;
	uint64_t args[6];
	bool parked;                /* replay: its event had not come up (rec_task.parked) */
};

/* A checkpoint's place in history. */
struct rec_ckpt {
	int id;
	struct rec_branch *branch;  /* a reference */
	uint64_t event;
	pid_t turn;                 /* the task whose turn it was */
	VEC(struct rec_incall) incalls;
	VEC(struct rec_since) since;
	VEC(struct sb_last) sblast;
	VEC(pid_t) tidmap;          /* the engine's at the checkpoint (replayed threads) */
};

/* A descriptor whose kernel offset lags behind the replayed one. */
struct rec_fdoff {
	int fd;
	bool absolute;              /* off is the offset itself, else a delta */
	int64_t off;
};

struct rec_engine {
	struct inf_policy policy;
	struct inferior *inf;       /* the inferior the policy is installed in */
	enum rec_mode mode;
	bool enabled;
	struct rec_branch *branch;  /* current history */
	uint64_t cursor;            /* replay: next event; record: == branch length */
	unsigned next_branch;
	VEC(struct rec_task *) tasks;
	VEC(struct rec_ckpt) ckpts;
	VEC(struct rec_fdoff) fdoffs; /* replay: offsets to fix before going live */

	struct seccomp_prog prog;   /* built once, installed by child_setup */
	bool prog_built;
	struct trace_writer *tw;    /* also write events here (disk recordings) */
	struct recdir *rd;          /* stored copies of mapped files */
	char *tmpdir;               /* the session's own recdir (removed at the end) */

	/* state-change detection across a user stop */
	bool watching;
	VEC(unsigned long) writes;  /* proc->writes of each live proc at the stop */
	VEC(pid_t) write_pids;

	/* the stop a divergence or the end of a replay asks the run loop to report */
	bool have_stop;
	struct stop stop;

	bool live_at_end;           /* at the end of the log: go live (else stop there) */
	bool stop_at_exit;          /* replaying: stop at the main process's exit_group
	                               entry instead of making it (reverse from the end) */
	bool disk;                  /* recording to disk: events not kept in memory */
	bool offline;               /* replaying a loaded recording */
	struct rec_branch *loaded;  /* the loaded recording's events */
	char *rd_abs;               /* absolute path of rd (injected opens need one) */
	pid_t rec_pid;              /* the loaded recording's process id */
	bool have_rec_cpu;          /* the CPU it was recorded on (a replay runs there) */
	unsigned rec_cpu;
	VEC(pid_t) tidmap;          /* offline: pairs (recorded tid, live tid) */
	char damage[300];           /* the loaded trace ended early: why */
	char *scratch_path;         /* rec_stored_path()'s result */
	VEC(struct rec_tcount) tcounts;
	struct sched_opts sopts;
	uint64_t rng;
	pid_t sched_cur;            /* the task whose turn it is */
	uint64_t slice_end, block_end;   /* ms deadlines */
	pid_t preempting;           /* interrupted at the end of its slice */
	pid_t ff_tid;               /* replay: the task running untrapped towards a position */
	uint64_t ff_check;          /* ms: when to look at its CPU time */
	/* replay: CPU time the replayed threads took beyond the recording's to reach
	 * their positions (searches cost CPU), summed at each position found; the
	 * timeline's coordinates leave it out. */
	int64_t cpu_drift;
	/* replay: the part of a far position's recorded CPU time run untrapped; lowered
	 * when a replay diverges right after such a run (it overshot), and ff_retry
	 * then asks the reverse scan to run its window again. */
	double ff_part;
	bool ff_retry;
	bool ff_can_retry;          /* a reverse scan's first run is under way */
	pid_t drift_tid;            /* a task looking for its position now, and the CPU */
	uint64_t drift_due;         /* clock value the recording reached it at */
	bool have_exit_sum;         /* the initial process's memory checksum at exit_group */
	uint64_t exit_sum;
	bool have_target;           /* pos_run_to(): stop at this point */
	struct pos_point target;
	/* replay: stop (SR_INTERRUPTED, halted set) once the cursor reaches this event
	 * (0: never); a scan with a loose end knows it is past its end then */
	uint64_t halt_event;
	bool halted;
	unsigned waiters;           /* replay: tasks with an ev_wait */
	int emit_fd;                /* replay: re-emit recorded program output here, -1 */
	bool warned[SC_TABLE_SIZE]; /* "replay may differ" notices, once per syscall */
	bool ptrace_refused;        /* record: the program's first ptrace call stopped it */
	uint64_t ioctl_warned[16];
	char last_divergence[1024];
	/* the agent's syscall buffer (sysbuf.c) */
	bool sb_range;              /* the recording filter lets the agent's gate through */
	VEC(struct sb_last) sblast;
	struct sb_index *sbix;      /* replay: where each thread's SYSBUF events are */
};

/* proc->tags bits: the process traps the agent's gate (sb_trap_gate); its agent said
 * hello since its last exec (only then can it have buffers to read). */
#define PROC_TAG_SB_TRAP 1u
#define PROC_TAG_SB_AGENT 2u

/* ---- record.c ---- */
/* Records that are not events of the program (nothing to replay at the cursor;
 * not counted in a thread's events): META, CHECKPOINT, SYSBUF. */
static inline bool rec_ev_bookkeeping(const struct trace_ev *ev)
{
	return ev->type == TR_META || ev->type == TR_CHECKPOINT || ev->type == TR_SYSBUF;
}
/* A YIELD (sched_tasks.h): its task's CPU clock mark (positions' run_ns) stays at
 * its previous event, where a replay has it wait: the stretches it ran between its
 * yields are run in one piece there. */
static inline bool rec_ev_yield(const struct trace_ev *ev)
{
	return ev->type == TR_SCHED && ev->sched.reason == TRSCHED_YIELD;
}
/* (position.c) The event number of the current point, for positions: the cursor,
 * less the SYSBUF records just before it (logged at a stop or a checkpoint, or stepped over
 * by a replay at another moment: the same point either way). */
uint64_t rec_event_here(const struct rec_engine *e);
/* (position.c) rec_event_here less the results of other tasks' calls just before
 * it: a replay gives such a result as soon as its task stands at the call, the
 * recording logged it when the kernel returned it (at the user's stop, for a call
 * that stop completed). A point whose event lies in [floor, here] may be this one. */
uint64_t rec_event_floor(const struct rec_engine *e);
/* (position.c) The same for a point p of the current branch, seen from its thread:
 * p->event less the other tasks' results (and SYSBUF records) just before it. A
 * checkpoint at an event below it is before p whichever moment those results were
 * given at; one at p->event itself may be after p (a replay gave them before p, the
 * recording logged them at a later stop). */
uint64_t rec_pos_floor(const struct rec_engine *e, const struct pos_point *p);
struct rec_task *rec_task_of(struct rec_engine *e, struct task *t);
/* Append ev to the current branch (and the trace writer); cursor follows. */
int rec_log(struct rec_engine *e, struct inferior *inf, struct trace_ev *ev);
/* Resume t as the run loop wanted: CONT, or a synthetic step event when it was
 * single-stepping (the instruction it stepped was the syscall or rdtsc just done).
 * <0 when t could not be resumed *or* a stop was asked for on the way (a target
 * reached, a divergence): the hooks return `< 0 ? 0 : 1` ("not handled") either
 * way, and on_event() reports a stop asked for while it handled the event. */
int rec_resume_want(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Ask the run loop to stop with st (on_event then returns -1). */
int rec_request_stop(struct rec_engine *e, const struct stop *st);
/* Switch from replaying to recording at the cursor (the rest of the branch is kept
 * as a branch of its own); why goes into the notice. */
void rec_go_live(struct rec_engine *e, struct inferior *inf, const char *why);
/* The six syscall arguments of a task stopped at a syscall entry. */
void rec_regs_args(const struct user_regs_struct *r, uint64_t args[6]);

/* Resume t in mode m after the engine's bookkeeping: in recording, a signal it is
 * resumed with is logged; in replay, an asynchronous event due at this thread is
 * delivered now or searched for. */
int rec_run(struct rec_engine *e, struct inferior *inf, struct task *t, enum resume_mode m);
/* CPU time t has run so far (ns, from schedstat), 0 if unknown. */
uint64_t rec_task_cpu(struct rec_task *rt, struct task *t);
/* Note that t had an event now (its run_ns counts from here). */
void rec_task_mark(struct rec_engine *e, struct inferior *inf, pid_t live_tid);
/* (position.c) Events of recorded thread tid so far; counting one; recounting. */
uint64_t rec_thread_events(struct rec_engine *e, pid_t tid);
void rec_count_event(struct rec_engine *e, pid_t tid);
/* Recompute the counts from the branch up to the cursor (after a restore). */
void rec_recount(struct rec_engine *e);
/* Replay: the event at the cursor is done. */
void rpl_consume(struct rec_engine *e);
/* The recorded tid a live tid plays (identity in a session). */
pid_t rpl_rec_tid(const struct rec_engine *e, pid_t live);

/* ---- replay_async.c: signals and positions ---- */
/* Record: a signal-delivery stop of t (not a faulting rdtsc). */
int rec_sig_stop(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Record: t resumes with t->pending_sig: log its delivery. */
void rec_sig_resume(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Replay: a signal-delivery stop of t. */
int rpl_sig_stop(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Replay: the event at the cursor is t's YIELD (sched_tasks.h): t gives the turn
 * away where it stands, at its previous event. */
bool rpl_yield_due(struct rec_engine *e, struct task *t);
/* Replay: before t resumes. Returns 0, or <0 (a divergence stop requested). */
int rpl_prepare(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Replay: a breakpoint or debug-register hit of t; 1 handled (resumed), 0 not ours
 * or handed on, <0 stop requested. */
int rpl_search_hit(struct rec_engine *e, struct inferior *inf, struct task *t, struct tev *ev);
/* Recording again (a replay went live at the end of the log) while a pos_run_to()
 * target lies in this stretch: search it as the replay does. <0: stop requested. */
int rec_live_target(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Replay: running a task untrapped towards a far position (fast-forward). */
int rpl_ff_timeout_ms(struct rec_engine *e);
void rpl_ff_on_timeout(struct rec_engine *e, struct inferior *inf);
/* t stopped at an interrupt: 1 if it was the end of its fast-forward (handled). */
int rpl_ff_interrupted(struct rec_engine *e, struct inferior *inf, struct task *t);
/* A signal stop of t that is a CPU alarm of the untrapped runs: ends t's run (or is
 * dropped, stale). Returns -2 when the stop is not one. */
int rpl_ff_alarm(struct rec_engine *e, struct inferior *inf, struct task *t);
/* t had another stop before reaching the end of its run. */
void rpl_ff_cancel(struct rec_engine *e, struct task *t);
/* Drop t's search (its breakpoint). */
void rpl_search_cancel(struct rec_engine *e, struct task *t, struct rec_task *rt);

/* ---- record_sys.c: recording ---- */
int rec_sys_entry(struct rec_engine *e, struct inferior *inf, struct task *t, int nr);
int rec_sys_exit(struct rec_engine *e, struct inferior *inf, struct task *t);
/* A faulting rdtsc/rdtscp at t's pc (SIGSEGV, si_code SI_KERNEL): 1 if it was one
 * and has been emulated (recorded or replayed), 0 if not an rdtsc, <0 error. */
int rec_tsc_fault(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Replay: t stopped at its exec: take the recorded exec event (the stored copy's
 * stack). Returns 0, 1 (waits for results logged first: ev_wait) or <0. */
int rpl_exec_event(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Replay: t's own next event, past results of calls other tasks have in flight; NULL
 * if something else comes first. */
const struct trace_ev *rpl_peek_own(struct rec_engine *e, struct inferior *inf, struct task *t);

/* ---- recording_disk.c ---- */
/* Keep t's stack (from rsp to the top of its mapping) as the image of the exec
 * logged as event `event`. */
int rec_stack_save(struct rec_engine *e, struct task *t, uint64_t event);
/* Write that image back into t (just after the same exec) and set its rsp. */
int rec_stack_apply(struct rec_engine *e, struct task *t, uint64_t event, struct sbuf *err);
/* recording_image.c: the process state at an attach (DIR/image). */
int rec_image_save(struct rec_engine *e, struct inferior *inf, struct sbuf *err);
bool rec_image_exists(struct rec_engine *e);
/* FNV-1a over every writable mapping of p (not [vvar]), in address order. */
uint64_t rec_mem_sum(struct proc *p);
/* CPU the replay took beyond the recording's so far: e->cpu_drift, plus what the
 * task looking for its position has run past the recorded point. */
int64_t rec_cpu_drift_now(struct rec_engine *e, struct inferior *inf);
/* A divergence of t's: if it came right after an untrapped run towards its next
 * event's position, approach less far from now on (ff_part, ff_retry). */
void rpl_ff_overshot(struct rec_engine *e, struct task *t);
/* At exit_group of t: note the checksum if t belongs to the initial process. */
void rec_note_exit(struct rec_engine *e, struct inferior *inf, struct task *t);
int rec_image_restore(struct rec_engine *e, struct inferior *inf, struct sbuf *err);
/* Absolute path of the stored copy of orig (valid until the next call), or NULL. */
const char *rec_stored_path(struct rec_engine *e, const char *orig);
/* Offline: the live tid that plays recorded tid rec (0 if none). */
pid_t rpl_live_tid(struct rec_engine *e, pid_t rec);
void rpl_map_tid(struct rec_engine *e, pid_t rec, pid_t live);

/* ---- record_vdso.c ---- */
/* Patch the vDSO time functions of p into real syscalls. Returns the number of
 * entry points patched, or -errno. */
int rec_vdso_patch(struct proc *p);

/* ---- replay.c ---- */
/* Write a call's recorded out-buffers into t. */
void rpl_write_pieces(struct task *t, const struct trace_syscall *sys);
int rpl_sys_entry(struct rec_engine *e, struct inferior *inf, struct task *t, int nr);
/* Record: t stops for a signal with an interrupted call not logged (rs_pend): log it
 * now, as interrupted; the signal's handler decides what the program sees. */
void rec_restart_flush(struct rec_engine *e, struct inferior *inf, struct task *t);
int rpl_sys_exit(struct rec_engine *e, struct inferior *inf, struct task *t);
/* The next event to replay, or NULL at the end of the branch. */
const struct trace_ev *rpl_peek(struct rec_engine *e);
/* Apply the record ev to t's call (nr, args) at its seccomp stop. */
int rpl_apply_entry(struct rec_engine *e, struct inferior *inf, struct task *t, int nr,
		    const uint64_t args[6], const struct trace_ev *ev);
/* At t's syscall-exit stop: finish its call from the record. */
int rpl_apply_exit(struct rec_engine *e, struct inferior *inf, struct task *t);
/* t, restored from a checkpoint, stands just past call nr that the checkpoint's settle
 * finished (it was past the call's entry then, its result not logged yet). */
bool rpl_call_done(struct task *t, int nr);
/* Give such a t the logged result ev of that call (registers and out-buffers; the
 * call is not made again) and consume ev. t then waits for its turn. */
void rpl_give_result(struct rec_engine *e, struct task *t, const struct trace_ev *ev);
/* A task was born (fork, vfork, clone event of t). */
int rpl_new_task(struct rec_engine *e, struct inferior *inf, struct task *t, struct tev *tev);
/* The end of the log while replaying (not going live): the run loop stops there. */
int rpl_end_of_log(struct rec_engine *e, struct inferior *inf, struct task *t);
/* Report a divergence at the current event: the run loop stops with it. */
int rpl_diverge(struct rec_engine *e, struct inferior *inf, struct task *t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "read(0, 0x7ffe, 4096)" for a call. */
void rpl_format_call(struct sbuf *out, int nr, const uint64_t args[6]);

/* ---- sysbuf.c: the agent's syscall buffer ---- */
uint64_t sb_last(const struct rec_engine *e, pid_t tid);
void sb_set_last(struct rec_engine *e, pid_t tid, uint64_t seq);
/* Record: log t's new buffered calls (SYSBUF event) / those of every thread (of
 * `only`, if not NULL). Nothing in other modes. */
void sb_flush(struct rec_engine *e, struct inferior *inf, struct task *t);
void sb_flush_all(struct rec_engine *e, struct inferior *inf, struct proc *only);
/* A seccomp stop of t: the agent's own call or its trapped gate: 1 handled
 * (resumed), 0, <0 (a stop requested); 2: not the agent's. */
int sb_seccomp(struct rec_engine *e, struct inferior *inf, struct task *t);
/* After a restore: every process traps the gate (it replays). */
void sb_trap_gate(struct rec_engine *e, struct inferior *inf);
void sb_index_free(struct rec_engine *e);

/* ---- replay_fd.c ---- */
/* At the seccomp stop of a replayed call that created descriptors: turn the call
 * into one that creates a placeholder with the same number (regs changed). Returns
 * 1 when the call was rewritten (the exit stop must check it), 0 if nothing to do. */
int rpl_fd_rewrite(struct rec_engine *e, struct task *t, struct rec_task *rt,
		   struct user_regs_struct *r, const struct trace_syscall *sys);
/* At the exit stop of a rewritten call: the descriptors are the recorded ones?
 * Returns 0 or a divergence. */
int rpl_fd_check(struct rec_engine *e, struct inferior *inf, struct task *t,
		 struct rec_task *rt, const struct trace_syscall *sys);
/* Note how a replayed call moved a descriptor's offset (read, write, lseek...). */
void rpl_fd_track(struct rec_engine *e, const struct trace_syscall *sys);
/* Before going live: bring the kernel offsets of descriptors up to date. */
void rpl_fd_sync(struct rec_engine *e, struct inferior *inf);
/* At the exit stop of a skipped file mmap: map the stored copy at the recorded
 * address. Returns 0 or a divergence. */
int rpl_mmap_apply(struct rec_engine *e, struct inferior *inf, struct task *t,
		   const struct trace_mmap *m);
/* At the exit stop of a skipped shmat: a fresh segment (removed, so it goes with its
 * last detach) attached at the recorded address, holding the recorded contents (the
 * call's one piece). Returns 0 or a divergence. */
int rpl_shmat_apply(struct rec_engine *e, struct inferior *inf, struct task *t,
		    const struct trace_syscall *sys);

/* Forget every task's record/replay state (record.c). */
void rec_drop_tasks(struct rec_engine *e);

#endif
