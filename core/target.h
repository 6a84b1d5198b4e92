/* target: every process rewind supervises, and the event loop over them.
 *
 * rewind is the only tracer of each task (PTRACE_SEIZE everywhere, fork/vfork/clone
 * and exec followed). target_wait() turns raw wait statuses into classified events
 * and keeps the task/proc bookkeeping right (new threads and processes, exec, exit).
 * Policy (what to report, what to resume) belongs to the caller. */
#ifndef REWIND_TARGET_H
#define REWIND_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc.h"
#include "task.h"
#include "util.h"

struct launch_spec {
	char *const *argv;       /* argv[0] is the program (searched in PATH if no '/') */
	char *const *envp;       /* NULL: rewind's environment */
	const char *cwd;         /* NULL: rewind's cwd */
	bool keep_aslr;          /* default false: ADDR_NO_RANDOMIZE, as gdb does */
	bool exitkill;           /* default true for launched programs */
	/* Runs in the child after rewind has seized it, just before execve.
	 * Return 0 or -errno (the launch then fails with that error). */
	int (*child_setup)(void *arg);
	void *child_arg;
};

enum tev_kind {
	TEV_NONE,
	TEV_SIGNAL,        /* signal-delivery-stop; task->pending_sig holds it (clear to suppress) */
	TEV_BREAKPOINT,    /* int3 at an inserted site; pc already set back to ev.addr */
	TEV_STEP,          /* single-step finished */
	TEV_HWBP,          /* debug-register trap; ev.msg = DR6 slot mask */
	TEV_SYSCALL_ENTRY,
	TEV_SYSCALL_EXIT,
	TEV_SECCOMP,       /* seccomp RET_TRACE stop; ev.msg = filter data */
	TEV_FORK, TEV_VFORK, TEV_CLONE, /* ev.child = the new task (stopped or about to be) */
	TEV_VFORK_DONE,
	TEV_EXEC,          /* ev.msg = former tid */
	TEV_EXITING,       /* PTRACE_EVENT_EXIT; ev.status = the exit status */
	TEV_THREAD_EXITED, /* a non-leader task was reaped */
	TEV_EXITED,        /* a process is gone; ev.status = wait status */
	TEV_GROUP_STOP,    /* ev.sig = stopping signal */
	TEV_INTERRUPT,     /* our PTRACE_INTERRUPT (or a new task's first stop) */
	TEV_CONDTRAP,      /* a condtrap's trap (condtrap.h); pc set back to ev.addr */
};

struct tev {
	enum tev_kind kind;
	struct task *task;       /* NULL for TEV_EXITED of an unknown pid */
	struct proc *proc;
	pid_t tid;
	int sig;
	int status;
	uint64_t addr;
	uint64_t msg;
	struct task *child;
};

struct target {
	struct proc *procs;
	unsigned next_task_num, next_proc_num;
	VEC(struct tev) queue;       /* events seen while stopping everyone */
	int sigfd;                   /* signalfd for SIGCHLD (+ SIGINT when asked) */
	int wake_fd;                 /* eventfd: poke to make target_wait return -EINTR */
	bool interrupted;            /* SIGINT arrived while waiting */
	bool wake_pending;           /* a wake arrived together with an event: report it next */
	uint64_t snap_delta_bytes;   /* pages compacted snapshots hold (core/snap_delta.c) */
};

int target_init(struct target *tg);
/* Kill launched processes and snapshots, detach attached ones, free everything. */
void target_fini(struct target *tg);

/* Fork+exec under ptrace. On success the new proc is stopped at its exec event
 * (first instruction of the dynamic loader, or the entry of a static program). */
int target_launch(struct target *tg, const struct launch_spec *ls, struct proc **out);
/* Seize every thread of a running process and stop them all. */
int target_attach(struct target *tg, pid_t pid, struct proc **out);
/* Remove breakpoints and debug registers, then let the process run untraced. */
int target_detach(struct target *tg, struct proc *p);
/* SIGKILL the process and reap it. The proc stays in the list, marked dead. */
int target_kill(struct target *tg, struct proc *p);
/* Unlink and free a dead (or detached) proc. */
void target_forget(struct target *tg, struct proc *p);

/* Next event. Queued events first; otherwise waits up to timeout_ms (-1 forever).
 * Returns 1 with *ev filled, 0 on timeout, -EINTR when woken (wake_fd or SIGINT),
 * -EDEADLK when no task is running and the queue is empty. */
int target_wait(struct target *tg, struct tev *ev, int timeout_ms);
/* Wait for the next fresh event of one task (after resuming it), queueing events
 * of others. Events of t already in the queue stay there for target_wait(). */
int target_wait_task(struct target *tg, struct task *t, struct tev *ev);

/* Interrupt every running task of every live, non-snapshot proc and wait until all
 * are stopped. Events other than the interrupts themselves are queued. */
int target_stop_all(struct target *tg);
/* Resume every stopped task of live non-snapshot procs except `except`, with CONT
 * (debug registers applied first). */
int target_resume_all(struct target *tg, struct task *except);
/* Resume one task in a mode, after applying its proc's debug registers. */
int target_resume(struct target *tg, struct task *t, enum resume_mode m);
bool target_any_running(struct target *tg);
/* Bring a task stopped inside a syscall (entry, seccomp, fork/clone/exec events) to
 * an equivalent stop outside it, where registers may be changed and syscalls injected:
 * a syscall not yet executed is backed out (the task will execute the same syscall
 * instruction again when resumed); one already under way (fork, exec) is finished.
 * No-op for a task that is not inside a syscall. Other tasks' events are queued. */
int target_settle(struct target *tg, struct task *t);
void target_queue_push(struct target *tg, const struct tev *ev);

struct task *target_find_task(struct target *tg, pid_t tid);
struct proc *target_find_proc(struct target *tg, pid_t pid);
/* Task with a user-visible number, or NULL. */
struct task *target_task_by_num(struct target *tg, unsigned num);

const char *tev_name(enum tev_kind k);

#endif
