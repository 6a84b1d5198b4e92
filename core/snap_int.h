/* Internal to the snapshot module (core/snap*.c): the saved state and the helpers the
 * per-concept files share. Not for other modules. */
#ifndef REWIND_SNAP_INT_H
#define REWIND_SNAP_INT_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/user.h>
#include <time.h>

#include "inject.h"
#include "log.h"
#include "proc.h"
#include "snapshot.h"
#include "target.h"
#include "util.h"

/* Syscall-restart codes as a stopped task shows them in rax (kernel-internal). */
#define SNAP_ERESTARTSYS 512
#define SNAP_ERESTARTNOINTR 513
#define SNAP_ERESTARTNOHAND 514
#define SNAP_ERESTART_RESTARTBLOCK 516

/* glibc (2.26 and later, x86-64): struct pthread's tid field, at fs_base + this. */
#define SNAP_GLIBC_TID_OFF 0x2d0

typedef VEC(siginfo_t) siginfo_vec;

/* One thread as it was. */
struct snap_thread {
	pid_t tid;
	unsigned num;
	int last_ev;
	struct user_regs_struct regs;
	uint8_t *xstate;
	size_t xstate_len;
	uint64_t sigmask;
	uint64_t robust_head;           /* 0: none registered */
	uint64_t robust_len;
	uint64_t ctid;                  /* clear_child_tid, 0 if none */
	uint64_t rseq_ptr;              /* 0: rseq not registered */
	uint32_t rseq_len, rseq_sig;
	bool has_altstack;              /* sigaltstack other than disabled (non-main only) */
	uint64_t ss_sp, ss_size;
	int ss_flags;
	char comm[16];                  /* thread name (non-main only) */
	bool has_affinity;
	cpu_set_t affinity;
	struct task *rest;              /* during snap_restore only: the restored task */
	int stop_sig;                   /* signal held by a signal-delivery-stop, 0 if none */
	siginfo_t stop_si;
	siginfo_vec pending;            /* the thread's private signal queue */
};

enum snap_fd_kind {
	SFD_OTHER,      /* nothing to do at restore (inherited as is) */
	SFD_SEEK,       /* regular file or directory: offset put back */
	SFD_PIPE,       /* end of a pipe inside the tree: closed in the checkpoint,
	                   replaced by a fresh pipe at restore */
};

struct snap_fd {
	int fd;
	enum snap_fd_kind kind;
	int64_t off;                    /* SFD_SEEK */
	int pipe;                       /* SFD_PIPE: index in snapshot->pipes */
	int end;                        /* SFD_PIPE: 0 read end, 1 write end */
	bool cloexec;
};

/* A pipe whose both ends were held inside the tree. */
struct snap_pipe {
	uint64_t ino;
	int size;                       /* F_GETPIPE_SZ */
	int flags[2];                   /* status flags of each end (O_NONBLOCK...) */
	uint8_t *data;                  /* unread bytes at checkpoint time */
	size_t len;
};

/* Saved contents of a file (memfd, or a regular file open for writing with files). */
struct snap_file {
	dev_t dev;
	ino_t ino;
	int proc;                       /* index of a proc holding it, and its fd there */
	int fd;
	int copy;                       /* memfd in rewind holding the contents */
	off_t size;
	char *name;
};

/* Contents of a writable MAP_SHARED mapping: the data extents of its object (holes
 * are not copied, and are punched again at restore). */
struct shm_extent {
	uint64_t off, len;              /* relative to the mapping start */
	uint8_t *data;
};

struct snap_shm {
	uint64_t start, len;
	uint64_t file_off;              /* offset of the mapping in its object */
	int64_t obj_size;               /* size of the object, -1 if unknown */
	bool via_mem;                   /* copied through /proc/PID/mem (no map_files) */
	VEC(struct shm_extent) ext;
	char *name;
};

/* A POSIX timer (timer_create). */
struct snap_ptimer {
	int id;
	int clock;
	int signo;
	int notify;                     /* SIGEV_* incl. SIGEV_THREAD_ID */
	pid_t notify_tid;
	uint64_t value;                 /* sigev_value */
	struct itimerspec its;          /* remaining time and interval */
};

/* Pages of a compacted checkpoint's process (snap_delta.c): where it differs from the
 * snapshot it is based on. */
typedef VEC(uint64_t) snap_pagevec;

struct snap_delta {
	snap_pagevec pages;             /* page addresses, ascending */
	uint8_t *data;                  /* their contents, pages.n * 4096 bytes (mmap) */
	size_t cap;
	snap_pagevec holes;             /* pages absent from the process (zero, or the
	                                   file's contents): dropped at restore */
};

/* One process of the tree. */
struct snap_proc {
	pid_t pid;                      /* as it was */
	unsigned num;
	pid_t parent_pid;               /* the traced proc that forked it, 0 if none */
	bool attached;
	bool parent_is_us;              /* its real parent was rewind */
	pid_t pgid, sid;                /* its process group and session */
	uint64_t sigcgt;                /* caught signals (from /proc status) */
	uint64_t vm_kb;                 /* VmSize before the checkpoint was made */
	struct proc *live;              /* during snap_take only */
	struct proc *rest;              /* during snap_restore only: the restored proc */
	struct proc *ckpt;              /* the checkpoint process; NULL once compacted */
	int ckpt_pidfd;
	bool tid_off_ok;                /* the glibc tid field was found in every thread */
	VEC(struct snap_thread) threads;/* [0] is the thread-group leader */
	VEC(struct bpsite) sites;
	struct hwslot hw[4];
	uint64_t syscall_insn;
	uint32_t tags;                  /* proc->tags */
	siginfo_vec shared_pending;
	struct itimerval itimers[3];    /* ITIMER_REAL, _VIRTUAL, _PROF */
	VEC(struct snap_ptimer) timers;
	VEC(struct snap_fd) fds;
	VEC(struct snap_shm) shm;
	struct snap_delta delta;        /* compacted: the pages that differ from base's */
};

struct snapshot {
	VEC(struct snap_proc) procs;    /* in tg->procs order: parents before children */
	VEC(struct snap_pipe) pipes;
	VEC(struct snap_file) files;
	char *marks;                    /* non-NULL: taken with force over these problems */
	VEC(struct proc *) holders;     /* address-space holders of the last restore */
	uint64_t copied_bytes;          /* bytes rewind holds for it (shm, files, xstate) */
	struct snapshot *base;          /* compacted: its processes are base's plus the deltas */
	VEC(struct snapshot *) deps;    /* compacted snapshots based on this one */
	unsigned depth;                 /* longest chain of compacted snapshots ending here */
	bool dropped;                   /* snap_drop'ed while others were based on it */
	uint64_t delta_bytes;           /* sum of its procs' delta pages */
};

/* ---- snap_delta.c ---- */

/* The forked snapshot s's processes come from (s itself when not compacted), and its
 * i-th proc (same pid as s's i-th): the checkpoint process to fork at restore. */
const struct snapshot *snap_chain_end(const struct snapshot *s);
const struct snap_proc *snap_src(const struct snapshot *s, size_t i);
/* Write the pages of s's chain of deltas for proc i into the restored process r (its
 * leader stopped: holes are dropped by an injected madvise). */
int snap_delta_apply(struct target *tg, const struct snapshot *s, size_t i, struct proc *r);
/* Free s's pages (not the chain). */
void snap_delta_free(struct target *tg, struct snapshot *s);
/* s is going: hand it over to the snapshots based on it. A compacted s gives each of
 * them the pages it lacks and its base; they are then based on s's base. Returns false
 * if s must stay (a forked snapshot others are based on): it is marked dropped and
 * goes with the last of them. Unlinks s from its base's dependents when it goes. */
bool snap_delta_release(struct target *tg, struct snapshot *s);

/* ---- snapshot.c ---- */

/* A field (kB) of /proc/PID/FILE ("\nVmPTE:"), in bytes; 0 if unreadable. */
uint64_t snap_proc_field(pid_t pid, const char *file, const char *field);
/* Kill and forget sp's checkpoint process (sp->ckpt becomes NULL). */
void snap_kill_ckpt(struct target *tg, struct snap_proc *sp);

/* ---- snap_scratch.c: tracee memory for syscall arguments, injection helpers ---- */

#define SCRATCH_MAX 512

/* Bytes of a tracee borrowed below a task's stack red zone; put back by scratch_end. */
struct scratch {
	struct proc *p;
	uint64_t at;
	size_t len;
	uint8_t saved[SCRATCH_MAX];
};

/* Borrow len (<= SCRATCH_MAX) bytes of t's process below t's stack pointer (past the
 * red zone), or of a writable private mapping when the stack has no room. */
int scratch_begin(struct task *t, size_t len, struct scratch *s);
/* Put the borrowed bytes back; also into `also` (a fork child made meanwhile that
 * inherited them) when non-NULL. */
int scratch_end(struct scratch *s, struct proc *also);
int scratch_put(struct scratch *s, size_t off, const void *buf, size_t len);
int scratch_get(struct scratch *s, size_t off, void *buf, size_t len);
static inline uint64_t scratch_addr(const struct scratch *s, size_t off) { return s->at + off; }

/* Inject syscall nr into t. Returns the syscall's result (>= 0 or its -errno) in *ret;
 * the function returns 0, or -errno when the injection failed (logged with the tid). */
int snap_sys(struct target *tg, struct task *t, long nr, int64_t *ret, uint64_t a0, uint64_t a1,
	     uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
/* The same, for a call whose failure is an error too: returns its -errno. */
int snap_sys_ok(struct target *tg, struct task *t, long nr, int64_t *ret, uint64_t a0,
		uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);

/* Inject clone(flags) into t; *out is the child, stopped at its first stop and marked
 * a snapshot proc (never resumed, no user-visible numbers). */
int snap_inject_fork(struct target *tg, struct task *t, uint64_t flags, struct proc **out);
/* About to SIGKILL p: clear PTRACE_O_TRACEEXIT so its tasks do not stop at their exit. */
void snap_quiet_death(struct proc *p);
/* p is dying or dead without the engine knowing yet (SIGKILL pending, zombie, gone). */
bool snap_dying(pid_t pid);
/* The real parent of pid (/proc/PID/stat), 0 if unknown. */
pid_t snap_real_parent(pid_t pid);

/* rewind and the tasks it injects into share one CPU for the length of an operation. */
struct snap_pinned {
	pid_t tid;
	cpu_set_t old;
};

struct snap_pin {
	int cpu;
	cpu_set_t self_old;
	bool self;
	VEC(struct snap_pinned) tasks;
};

void snap_pin_begin(struct snap_pin *pn);
void snap_pin_task(struct snap_pin *pn, pid_t tid);
void snap_pin_end(struct snap_pin *pn);

/* pidfd helpers (direct syscalls: glibc 2.36 has no wrappers). */
int snap_pidfd_open(pid_t pid);
int snap_pidfd_getfd(int pidfd, int fd);

/* ---- snap_restore.c ---- */

/* Forget the address-space holders of s that are gone; with wait, reap the others. */
void snap_reap_holders(struct target *tg, struct snapshot *s, bool wait);

/* ---- snap_groups.c ---- */

/* State letter, parent, process group and session of pid from /proc/PID/stat (each
 * may be NULL). */
int snap_stat_ids(pid_t pid, char *state, pid_t *ppid, pid_t *pgid, pid_t *sid);
/* Record the process group and session of every live process of s. */
int snap_groups_save(struct snapshot *s);
/* In sp's fresh checkpoint: a process group of its own, and a session of its own when
 * a process of s leads its session, so that it holds no pid of the tree. */
int snap_group_leave(struct target *tg, const struct snapshot *s, struct snap_proc *sp);
/* In an address-space holder: a session of its own (it holds no pid of the tree). */
void snap_holder_leave(struct target *tg, struct proc *h);
/* The restored processes (sp->rest) rejoin their groups and sessions; what cannot
 * be put back is described in problems. */
void snap_groups_restore(struct target *tg, const struct snapshot *s, struct sbuf *problems);
/* Reap rewind's zombie children that rewind does not know as processes and that hold
 * a pid, process group or session id of s: children of the killed processes that had
 * exited unwaited for came back to rewind (a subreaper) as zombies. */
void snap_reap_tree_zombies(struct target *tg, const struct snapshot *s);
/* Every process holding pid (as its pid, process group or session id) is on its
 * way out (a zombie, SIGKILL pending) or gone: worth trying the pid again shortly.
 * Zombies of rewind's the engine does not follow (children reparented to rewind,
 * the subreaper, after the restore's first look) are reaped on the way. */
bool snap_pid_freeing(struct target *tg, pid_t pid);
/* Append to out who holds pid ("as the process group id of process 12"). */
void snap_describe_pid_user(pid_t pid, struct sbuf *out);

/* ---- snap_threads.c ---- */

/* Save every live thread of sp->live (leader first). Exiting threads are skipped. */
int snap_threads_save(struct target *tg, struct snap_proc *sp, struct sbuf *problems);
/* Give the restored leader its state (registers, xstate, mask, robust list, signals). */
int snap_thread_put(struct target *tg, struct task *t, struct snap_thread *st,
		    bool leader);
/* Recreate the other threads in the restored process r (leader stopped). */
int snap_threads_recreate(struct target *tg, struct snap_proc *sp, struct proc *r,
			  bool same_tids, struct sbuf *problems);
void snap_thread_free(struct snap_thread *st);

/* ---- snap_signals.c ---- */

/* Shared pending queue, interval timers and POSIX timers of sp->live. */
int snap_signals_save(struct target *tg, struct snap_proc *sp);
/* Re-queue the shared signals and re-arm the timers in the restored leader t. */
int snap_signals_restore(struct target *tg, struct snap_proc *sp, struct task *t,
			 struct sbuf *problems);
/* Read a pending-signal queue of tid (the thread's own, or the process's shared one). */
int snap_peek_signals(pid_t tid, bool shared, siginfo_vec *out);
/* Re-queue a thread's own pending signals (and the one its stop held) in t. */
int snap_thread_signals_restore(struct target *tg, struct task *t, const struct snap_thread *st);

/* ---- snap_fds.c ---- */

/* Scan the fds of every proc: offsets, pipes inside the tree (contents saved), file
 * copies; unrestorable ones described in marks. */
int snap_fds_save(struct target *tg, struct snapshot *s, const struct snap_opts *o,
		  struct sbuf *marks);
/* In a fresh checkpoint: close the ends of pipes inside the tree. */
int snap_fds_detach_ckpt(struct target *tg, struct snap_proc *sp);
/* Put back offsets and file contents (from the checkpoints), and fresh pipes. */
int snap_fds_restore(struct target *tg, struct snapshot *s, struct sbuf *problems);
void snap_fds_free(struct snapshot *s);

/* ---- snap_shm.c ---- */

/* Copy the writable shared mappings of sp->live. */
int snap_shm_save(struct snap_proc *sp, struct snapshot *s);
/* Write them back into the restored process r. */
int snap_shm_restore(struct snap_proc *sp, struct proc *r);
/* The checkpoint lacks memory that fork did not copy (MADV_DONTFORK): describe it. */
int snap_shm_check_ckpt(struct snap_proc *sp, struct sbuf *marks);
void snap_shm_free(struct snap_proc *sp);

#endif
