/* task: one traced thread. Holds the ptrace state rewind knows about it and a cache
 * of its registers (general, extended, debug), written back before it resumes.
 * All functions require the task to be in a ptrace-stop unless stated otherwise. */
#ifndef REWIND_TASK_H
#define REWIND_TASK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "raddr.h"

struct proc;

enum task_state {
	TS_RUNNING,  /* resumed; a wait status will come */
	TS_STOPPED,  /* in a ptrace-stop; registers readable */
	TS_DEAD,     /* exited and reaped (kept until the proc is freed) */
};

enum resume_mode {
	RESUME_CONT,
	RESUME_STEP,     /* one instruction */
	RESUME_SYSCALL,  /* stop at next syscall entry/exit */
	RESUME_SYSEMU,   /* stop at syscall entry and skip the syscall */
	RESUME_LISTEN,   /* group-stop: wait for SIGCONT without running */
};

struct task {
	pid_t tid;
	unsigned num;               /* user-visible thread number, 1-based, per session */
	struct proc *proc;
	struct task *next;          /* next task of the same proc */
	enum task_state state;
	int status;                 /* last raw wait status */
	int pending_sig;            /* signal to deliver at next resume, 0 for none */
	enum resume_mode last_resume;
	bool interrupt_sent;        /* PTRACE_INTERRUPT sent, its EVENT_STOP not seen */
	bool exiting;               /* PTRACE_EVENT_EXIT seen */
	bool in_syscall;            /* stopped inside a syscall (entry, seccomp, fork/clone/exec
	                               events): rax will be overwritten on resume */
	bool new_task;              /* created since the front end last listed threads */
	int last_ev;                /* enum tev_kind of the last stop (see target.h) */
	bool stepover;              /* at resume, step off an int3 at pc first */
	uint64_t thread_pointer;    /* fs_base given at creation (pthread_t), 0 if unknown */

	bool regs_valid, regs_dirty;
	struct user_regs_struct regs;
	bool xs_valid, xs_dirty;
	uint8_t *xstate;            /* NT_X86_XSTATE, regs_xsave_layout()->size bytes */
	size_t xstate_len;
	unsigned dr_gen;            /* proc->hw.gen applied to this task's DR0-7 */
	void *user;                 /* for upper layers (e.g. nested-tracer state) */
};

/* Register cache. task_regs() fetches on first use after a stop. Return 0 / -errno. */
int task_get_regs(struct task *t, struct user_regs_struct **out);
int task_set_regs(struct task *t, const struct user_regs_struct *r);
int task_get_xstate(struct task *t, uint8_t **out, size_t *len);
int task_set_xstate(struct task *t, const uint8_t *xs, size_t len);
/* Program counter convenience; 0 on failure (logged). */
uint64_t task_pc(struct task *t);
int task_set_pc(struct task *t, uint64_t pc);

/* Write dirty registers back to the kernel. Called by task_resume. */
int task_flush(struct task *t);
/* Forget cached registers (after the task ran). */
void task_invalidate(struct task *t);

/* Resume with a mode and the pending signal (cleared). Flushes registers first. */
int task_resume(struct task *t, enum resume_mode m);
/* PTRACE_INTERRUPT a running task (idempotent). */
int task_interrupt(struct task *t);

int task_get_siginfo(struct task *t, siginfo_t *si);
int task_set_siginfo(struct task *t, const siginfo_t *si);
int task_get_sigmask(struct task *t, uint64_t *mask);
int task_set_sigmask(struct task *t, uint64_t mask);
int task_get_eventmsg(struct task *t, unsigned long *msg);

/* Debug registers DR0-DR7 through PTRACE_PEEK/POKEUSER. */
int task_get_dr(struct task *t, int i, uint64_t *v);
int task_set_dr(struct task *t, int i, uint64_t v);

struct task *task_new(struct proc *p, pid_t tid);
void task_free(struct task *t);

#endif
