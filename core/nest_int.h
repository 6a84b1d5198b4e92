/* Internal to the nested-tracer emulation (core/nest*.c). Not for other modules.
 *
 * nest.c        tables, emulated stops and resumption
 * nest_stop.c   real stops turned into emulated ones: the handlers and the dispatch
 * nest_notify.c the calls answered through the seccomp listener
 * nest_ptrace.c the ptrace requests
 * nest_regs.c   registers, the user area, regsets, syscall info (pure helpers too)
 * nest_wait.c   wait4/waitid, waits that block
 * nest_exit.c   exits and zombies, SIGCHLD
 * nest_state.c  quiesce, save/load for checkpoints, restore fix-ups */
#ifndef REWIND_NEST_INT_H
#define REWIND_NEST_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>

#include "log.h"
#include "nest.h"
#include "target.h"


/* Kernel-internal restart codes a stopped task shows in rax. */
#define NEST_ERESTARTSYS 512
#define NEST_ERESTARTNOHAND 514

/* What kind of stop the nested tracer sees. */
enum nstop {
	NS_NONE,
	NS_SIGNAL,        /* signal-delivery-stop */
	NS_GROUP,         /* group-stop (seized: shown as PTRACE_EVENT_STOP) */
	NS_EVENT,         /* PTRACE_EVENT_* stop, incl. PTRACE_EVENT_STOP (interrupt) */
	NS_SYSCALL_ENTRY,
	NS_SYSCALL_EXIT,
};

/* A wait4/waitid call, decoded. */
struct nest_waitreq {
	long nr;                 /* SYS_wait4 or SYS_waitid */
	uint64_t a[6];           /* its arguments as called */
	int idtype;              /* P_ALL, P_PID, P_PGID */
	pid_t id;
	int options;             /* WNOHANG, WUNTRACED/WSTOPPED, WEXITED, WCONTINUED,
	                            WNOWAIT, __WALL, __WCLONE, __WNOTHREAD */
	uint64_t status_at;      /* wait4: int *status */
	uint64_t info_at;        /* waitid: siginfo_t * */
	uint64_t ru_at;          /* struct rusage * */
};

/* Every live task of the target has one (task->user). */
struct nest_task {
	pid_t tid, tgid;
	struct nest_task *next;
	struct task *t;               /* NULL while not attached to a live task */

	/* How it runs when nothing holds it: the nested tracer's last resume request. */
	enum resume_mode mode;
	bool held;                    /* stopped for its nested tracer */
	bool kick;                    /* resume deferred (during quiesce) */
	int birth;                    /* 1: created by its parent's event, first stop to come;
	                                 2: first stop seen, parent's event to come */
	bool born_traced;             /* auto-attached at its creation (TRACEFORK...) */
	bool real_sig;                /* the real stop is a signal-delivery-stop (a resume
	                                 signal is honoured) */
	bool restored;                /* recreated by a restore, not run since */

	/* The ptrace link, tracer == 0 when none. */
	pid_t tracer, tracer_tgid;
	bool seized;
	unsigned long options;

	/* The stop the tracer believes in (while held). */
	enum nstop kind;
	int code;                     /* wait status is code << 8 | 0x7f */
	bool pending;                 /* not yet collected by a wait */
	uint64_t seq;                 /* report order */
	unsigned long msg;            /* PTRACE_GETEVENTMSG */
	siginfo_t si;                 /* PTRACE_GETSIGINFO (see nt_siginfo) */
	bool si_lazy;                 /* a trap's siginfo, read from the kernel when asked */
	bool listening;               /* PTRACE_LISTEN */

	int stop_sig;                 /* NS_SIGNAL: the signal the stop holds */
	bool want_interrupt;          /* the tracer's PTRACE_INTERRUPT, not reported yet */
	bool attach_stop;             /* the SIGSTOP of PTRACE_ATTACH is on its way */
	bool exec_trap;               /* the SIGTRAP after exec (PTRACE_TRACEME) is on its way */
	int inject_sig;               /* to deliver, the real stop cannot take it: tgkill */
	bool inject_sent;
	siginfo_t inject_si;
	bool entry_settled;           /* held at a syscall-entry stop the checkpoint backed
	                                 out: the real task sits before its syscall insn */
	struct user_regs_struct entry_view;   /* registers as the tracer sees them then */
	bool hide_entry;              /* swallow the next syscall-entry stop (re-executed) */
	bool entry_apply;             /* ...and give it the registers of entry_view */
	bool deferred;                /* a real stop to show after the synthesized one: */
	struct tev deferred_ev;       /* ...its event (the task really sits in it) */
	int deferred_sig;
	long show_nr;                 /* syscall-exit stop: show this orig_rax (-1: none) */
	uint64_t dr[8];               /* debug registers as the tracer set them */
	bool dr_used;

	/* An emulated wait sleeping in the kernel (pause), or a real reap in flight. */
	bool parked;
	bool park_kicked;             /* interrupted to look again */
	struct nest_waitreq park;
	/* the address after the parked call's syscall instruction: where its answer
	 * returns to (the kernel may have moved rip back meanwhile, restarting the
	 * pause() it sleeps in, when a signal came during the stop it was kicked into) */
	uint64_t park_rip;
	bool conv;                    /* converted wait running: restore args at exit */
	struct user_regs_struct conv_regs;
	pid_t conv_pid;
};

/* Every live process of the target (not checkpoints). */
struct nest_proc {
	pid_t pid;
	struct nest_proc *next;
	pid_t ppid, ptid;             /* logical parent process and the forking thread; 0: none */
	pid_t real_ppid;              /* its parent in the kernel */
	bool wclone;                  /* exit signal other than SIGCHLD (__WCLONE) */
	uid_t uid;
	pid_t pgid;
	uint64_t born;                /* creation order (the kernel's children lists) */
	int gstop_code;               /* group-stop signal not yet reported to the parent */
	bool stopped;                 /* in a group stop */
	bool cont_pending;            /* continued, not yet reported (WCONTINUED) */
	uint64_t seq;
	bool chld_inflight;           /* our SIGCHLD is queued in it */
	uint64_t chld_caught_until;   /* seen catching SIGCHLD: trusted until then (now_ns) */
	siginfo_t chld;               /* ...and the siginfo it stands for */
};

/* An exit not yet collected by a wait. */
struct nest_zombie {
	pid_t tid, tgid;
	bool thread;                  /* a non-leader thread (tracer only) */
	pid_t waiter, waiter_tid;     /* the process that may collect it, and the thread */
	bool ptrace;                  /* reported as a tracee */
	bool wclone;
	int status;
	uid_t uid;
	pid_t pgid;
	bool real;                    /* the kernel holds it as waiter's zombie: reap it */
	pid_t then, then_tid;         /* after the tracer: goes to this parent (0: none) */
	bool then_real;
	bool sig_owed;                /* the kernel's SIGCHLD to then came too early: resend */
	uint64_t born;                /* creation order of its process */
	uint64_t seq;
	struct nest_zombie *next;
};

/* An fd a process holds on /proc/PID/mem of the tree. */
struct nest_memfd {
	pid_t pid;
	int fd;
	int flags;
	char path[64];
};

struct nest {
	struct target *tg;
	struct nest_task *tasks;
	struct nest_proc *procs;
	struct nest_zombie *zombies;
	uint64_t seq;
	bool deferring;               /* quiesce: note resumes, do not perform them */
	bool quiet_kills;             /* quiesce sent SIGKILLs: go round again */
	int listener;                 /* seccomp user-notification fd, -1 if none */
	pid_t self;
	uid_t uid;
	VEC(int) warned;              /* ptrace requests logged as unsupported */
};

struct nest_state {
	struct nest_task *tasks;
	struct nest_proc *procs;
	struct nest_zombie *zombies;
	uint64_t seq;
	VEC(struct nest_memfd) memfds;
};

/* ---- nest.c ---- */
/* Parent, uid and process group of pid from /proc (NULL: not wanted). */
void nest_read_ids(pid_t pid, pid_t *ppid, uid_t *uid, pid_t *pgid);
/* The engine's task for nt (NULL if gone or a checkpoint's). */
struct task *nt_task(struct nest *n, struct nest_task *nt);
void nt_free(struct nest *n, struct nest_task *nt);
struct nest_task *nt_of(struct nest *n, struct task *t);         /* creates */
struct nest_task *nt_find(struct nest *n, pid_t tid);
struct nest_proc *np_find(struct nest *n, pid_t pid);
struct nest_proc *np_get(struct nest *n, pid_t pid);            /* creates */
/* Resume t per its nest state (or note it while deferring). */
void nt_resume(struct nest *n, struct nest_task *nt);
/* Resume now in mode m, whatever the tracer asked (internal needs: parking, reaping). */
void nt_resume_as(struct nest *n, struct nest_task *nt, enum resume_mode m);
/* Hold nt for its tracer in a stop of this kind, notify the tracer. */
void nt_report(struct nest *n, struct nest_task *nt, enum nstop kind, int code,
	       unsigned long msg, const siginfo_t *si);
/* Undo the link (detach, tracer gone): the task runs on as untraced. */
void nt_unlink(struct nest *n, struct nest_task *nt, bool resume);
/* The siginfo of nt's stop (read from the kernel now if it was left for later). */
const siginfo_t *nt_siginfo(struct nest *n, struct nest_task *nt);
void nest_warn_once(struct nest *n, int what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Emulate a trapped call other than the waits (ptrace, kill..., getppid) for nt: the
 * result, or *native when the kernel should run it as it is. */
int64_t nest_call(struct nest *n, struct nest_task *nt, long nr, const uint64_t a[6], bool *native);
/* Finish the trapped syscall of t (at its seccomp stop) with result r, unexecuted. */
void nest_sys_return(struct nest *n, struct nest_task *nt, int64_t r);
/* First stop of a task whose creation is known: report it or let it run. */
void nest_first_stop(struct nest *n, struct nest_task *nt);
/* A listening task trapped again: its tracer hears of it (seized), or it runs on. */
void nest_notified(struct nest *n, struct nest_task *nt);
/* The group stop of nt's process ended (SIGCONT): books and the parent's WCONTINUED. */
void nest_continued(struct nest *n, struct nest_task *nt);
/* An interrupt-like stop with no event of its own (swallowed by target_stop_all). */
void nest_on_quiet_stop(struct nest *n, struct nest_task *nt);

/* ---- nest_ptrace.c ---- */
/* Emulate ptrace(req, pid, addr, data) for caller ct. Returns the syscall result. */
int64_t nest_ptrace(struct nest *n, struct nest_task *caller, long req, pid_t pid, uint64_t addr,
		    uint64_t data);

/* ---- nest_regs.c ---- */
/* Registers as the tracer sees them (the entry view after a backed-out entry). */
int nr_get_regs(struct nest_task *nt, struct user_regs_struct *out);
int nr_set_regs(struct nest_task *nt, const struct user_regs_struct *r);
int64_t nr_peekuser(struct nest_task *nt, uint64_t off, uint64_t *val);
int64_t nr_pokeuser(struct nest_task *nt, uint64_t off, uint64_t val);
int64_t nr_getregset(struct nest *n, struct nest_task *nt, struct proc *caller, unsigned type,
		     uint64_t iov_at);
int64_t nr_setregset(struct nest *n, struct nest_task *nt, struct proc *caller, unsigned type,
		     uint64_t iov_at);
int64_t nr_getfpregs(struct nest_task *nt, struct proc *caller, uint64_t at);
int64_t nr_setfpregs(struct nest_task *nt, struct proc *caller, uint64_t at);
int64_t nr_syscall_info(struct nest_task *nt, struct proc *caller, uint64_t size, uint64_t at);
/* Pure helpers (unit-tested). */
/* Merge a short NT_X86_XSTATE buffer (gdb's) into the full one: returns 0 or -EINVAL. */
int nr_xstate_merge(uint8_t *full, size_t full_len, const uint8_t *part, size_t part_len,
		    uint64_t keep_bv);
/* Fill struct ptrace_syscall_info for a stop; returns its size as the kernel does. */
size_t nr_build_syscall_info(void *info, enum nstop kind, const struct user_regs_struct *r,
			     uint32_t seccomp_data);
/* Offset in struct user: -1 bad (EIO), 0 register (*reg = offset in user_regs_struct),
 * 1 debug register (*reg = index), 2 other (reads 0, writes EIO). */
int nr_user_slot(uint64_t off, size_t *reg);

/* ---- nest_wait.c, nest_exit.c ---- */
/* The caller's wait4/waitid at its seccomp stop: answer, block, or reap for real. */
void nw_call(struct nest *n, struct nest_task *nt, long nr, const uint64_t a[6]);
/* The caller's wait4/waitid with WNOHANG and exits only (the filter sends only those
 * to the listener): the result, or *native to let the kernel reap a zombie it holds. */
int64_t nw_nohang(struct nest *n, struct nest_task *nt, long nr, const uint64_t a[6],
		  bool *native);
/* A stop of a parked waiter: returns true if it was consumed (the waiter's result). */
bool nw_park_event(struct nest *n, struct nest_task *nt, struct tev *ev);
/* Give a parked waiter its syscall back (restart on resume); it is no longer parked. */
void nw_unpark(struct nest *n, struct nest_task *nt);
/* Converted wait finished (syscall exit stop): put the arguments back. */
void nw_conv_exit(struct nest *n, struct nest_task *nt);
/* Something became collectable for this process: SIGCHLD (si) and wake its waiters. */
void nw_notify(struct nest *n, pid_t waiter, const siginfo_t *si);
/* Wake parked waiters of this process (no signal). */
void nw_wake(struct nest *n, pid_t waiter);
/* A SIGCHLD signal-delivery-stop of nt with siginfo si: put ours in place (in the
 * kernel and in *si) if it is ours. */
void nw_sigchld_stop(struct nest *n, struct nest_task *nt, siginfo_t *si);
/* A kernel SIGCHLD about a child its tracer has not collected yet (rewind reaped it
 * as the real tracer): natively the parent hears later. Holds it back; true if so. */
bool nw_early_sigchld(struct nest *n, struct nest_task *nt, const siginfo_t *si);
/* The tracer (or parent) collected z: it goes on to its parent or is freed. */
void nw_zombie_consume(struct nest *n, struct nest_zombie *z);
/* Exits. */
void nw_task_exited(struct nest *n, pid_t tid, pid_t tgid, int status, bool leader);
void nw_zombie_free(struct nest_zombie *z);
/* Does pid name a zombie nest keeps (gone from the kernel)? */
bool nw_is_zombie(struct nest *n, pid_t pid);
/* Wait status -> waitid si_code / si_status. Pure. */
void nw_status_to_info(int status, bool ptrace_stop, int *code, int *st);
/* Does a child/tracee match the wait's selector (pid/pgid) and clone rules? Pure. */
bool nw_selects(const struct nest_waitreq *w, pid_t pid, pid_t pgid, pid_t my_pgid,
		bool ptrace, bool wclone);

/* ---- nest_state.c ---- */
void nest_state_clear(struct nest_state *s);

/* Pure: ptrace wait status from a stop code. */
static inline int nest_wstatus(int code) { return (code << 8) | 0x7f; }

#endif
