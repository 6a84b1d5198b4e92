#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "condtrap.h"
#include "log.h"

#define TRACE_OPTS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
		    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | \
		    PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESECCOMP)

const char *tev_name(enum tev_kind k)
{
	static const char *const n[] = {
		"none", "signal", "breakpoint", "step", "hwbp", "syscall-entry", "syscall-exit",
		"seccomp", "fork", "vfork", "clone", "vfork-done", "exec", "exiting",
		"thread-exited", "exited", "group-stop", "interrupt", "condtrap",
	};
	return (unsigned)k < ARRAY_SIZE(n) ? n[k] : "?";
}

int target_init(struct target *tg)
{
	memset(tg, 0, sizeof *tg);
	tg->next_task_num = tg->next_proc_num = 1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	tg->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	tg->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (tg->sigfd < 0 || tg->wake_fd < 0)
		return -errno;
	/* Orphaned snapshots and grandchildren come back to us, not to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return 0;
}

struct proc *target_find_proc(struct target *tg, pid_t pid)
{
	for (struct proc *p = tg->procs; p; p = p->next)
		if (p->pid == pid && !p->dead)
			return p;
	return NULL;
}

struct task *target_find_task(struct target *tg, pid_t tid)
{
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead)
			continue;
		struct task *t = proc_task(p, tid);
		if (t)
			return t;
	}
	return NULL;
}

struct task *target_task_by_num(struct target *tg, unsigned num)
{
	for (struct proc *p = tg->procs; p; p = p->next)
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->num == num && t->state != TS_DEAD && !p->snapshot)
				return t;
	return NULL;
}

static struct proc *add_proc(struct target *tg, pid_t pid)
{
	struct proc *p = proc_new(tg, pid), **pp = &tg->procs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
	return p;
}

static struct task *add_task(struct target *tg, struct proc *p, pid_t tid)
{
	struct task *t = proc_add_task(p, tid);
	if (!p->snapshot)
		t->num = tg->next_task_num++;
	return t;
}

void target_forget(struct target *tg, struct proc *p)
{
	for (struct proc **pp = &tg->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	/* Drop queued events that point into it. */
	size_t j = 0;
	for (size_t i = 0; i < tg->queue.n; i++)
		if (tg->queue.v[i].proc != p)
			tg->queue.v[j++] = tg->queue.v[i];
	tg->queue.n = j;
	proc_free(p);
}

void target_queue_push(struct target *tg, const struct tev *ev)
{
	vec_push(&tg->queue, *ev);
}

bool target_any_running(struct target *tg)
{
	for (struct proc *p = tg->procs; p; p = p->next)
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->state == TS_RUNNING)
				return true;
	return false;
}

/* Tgid of a task from /proc, or -errno. */
static pid_t read_tgid(pid_t tid, pid_t *ppid)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/status", tid);
	int e = read_file(path, &text, NULL);
	if (e < 0)
		return e;
	pid_t tgid = -ESRCH;
	char *s = strstr(text, "\nTgid:");
	if (s)
		tgid = (pid_t)atoi(s + 6);
	s = strstr(text, "\nPPid:");
	if (s && ppid)
		*ppid = (pid_t)atoi(s + 6);
	free(text);
	return tgid;
}

/* A task we have not met: a new thread or process whose creation event we have not
 * processed yet. Create its bookkeeping from /proc. */
static struct task *adopt(struct target *tg, pid_t tid)
{
	pid_t ppid = 0;
	pid_t tgid = read_tgid(tid, &ppid);
	if (tgid < 0)
		return NULL;
	struct proc *p = target_find_proc(tg, tgid);
	if (!p) {
		p = add_proc(tg, tgid);
		p->num = tg->next_proc_num++;
		p->parent_pid = ppid;
	}
	struct task *t = proc_task(p, tid);
	if (!t)
		t = add_task(tg, p, tid);
	pr_debug(LM_CORE, "adopted tid %d of pid %d", tid, tgid);
	return t;
}

/* The child of a fork/vfork/clone event: known already (its first stop came first)
 * or created now, marked running until its first stop. */
static struct task *new_child(struct target *tg, struct task *parent, pid_t ctid, enum tev_kind k)
{
	struct task *c = target_find_task(tg, ctid);
	if (!c) {
		pid_t tgid = read_tgid(ctid, NULL);
		if (tgid < 0)
			tgid = k == TEV_CLONE ? parent->proc->pid : ctid;
		struct proc *p = target_find_proc(tg, tgid);
		if (!p) {
			p = add_proc(tg, tgid);
			p->num = tg->next_proc_num++;
		}
		c = add_task(tg, p, ctid);
		c->state = TS_RUNNING;      /* its initial PTRACE_EVENT_STOP is on the way */
		c->interrupt_sent = true;   /* ...and counts as an interrupt */
	}
	struct proc *cp = c->proc;
	/* Not keyed on parent_pid: a child whose first stop came first was adopted with
	 * its parent's pid read from /proc, and still takes what it inherits. */
	if (cp != parent->proc && !cp->inherited) {
		cp->inherited = true;
		cp->parent_pid = parent->proc->pid;
		cp->vfork_child = k == TEV_VFORK;
		cp->tags = parent->proc->tags;
		/* The child's memory is a copy (or, for vfork, the same memory): it holds
		 * the parent's int3s, so it inherits the site table. */
		proc_bp_clone_from(cp, parent->proc);
		memcpy(cp->hw, parent->proc->hw, sizeof cp->hw);
		cp->hw_gen = parent->proc->hw_gen + 1;
	}
	return c;
}

static void mark_proc_dead(struct proc *p, int status)
{
	p->dead = true;
	p->wstatus = status;
	for (struct task *t = p->tasks; t; t = t->next)
		t->state = TS_DEAD;
	if (p->memfd >= 0) {
		close(p->memfd);
		p->memfd = -1;
	}
}

static void handle_exec(struct target *tg, struct task *t, struct tev *ev)
{
	struct proc *p = t->proc;
	unsigned long former = 0;
	task_get_eventmsg(t, &former);
	ev->msg = former;
	/* Every other thread is gone; the execing one now has tid == pid. */
	for (struct task *o = p->tasks; o; o = o->next)
		if (o != t)
			o->state = TS_DEAD;
	if (t->tid != p->pid) {
		struct task *leader = NULL;
		for (struct task *o = p->tasks; o; o = o->next)
			if (o->tid == p->pid)
				leader = o;
		if (leader)
			leader->tid = -1;
		t->tid = p->pid;
		ev->tid = p->pid;
	}
	(void)tg;
	p->exec_gen++;
	p->vfork_child = false;
	proc_bp_forget_all(p);      /* the new image has none of the old int3s */
	condtrap_free(p);
	p->hw_gen++;                /* exec flushed the debug registers */
	t->dr_gen = 0;
	proc_open_mem(p);
}

/* Classify a SIGTRAP signal-delivery-stop. */
static void classify_trap(struct task *t, const siginfo_t *si, struct tev *ev)
{
	struct proc *p = t->proc;
	uint64_t pc = task_pc(t);
	unsigned hit = 0;
	if (si->si_code == SI_KERNEL && proc_bp_find(p, pc - 1)) {
		ev->kind = TEV_BREAKPOINT;
		ev->addr = pc - 1;
		task_set_pc(t, pc - 1);
		return;
	}
	if (si->si_code == SI_KERNEL && proc_bp_find(p, pc)) {
		/* The stale trap of an int3 hit whose pc rewind_pending_traps set back. */
		ev->kind = TEV_BREAKPOINT;
		ev->addr = pc;
		return;
	}
	if (si->si_code == TRAP_HWBKPT || si->si_code == TRAP_TRACE || si->si_code == TRAP_BRKPT) {
		uint64_t dr6 = 0;
		task_get_dr(t, 6, &dr6);
		hit = (unsigned)(dr6 & 0xf);
		if (dr6 & 0x400f)
			task_set_dr(t, 6, 0);
		if (hit) {
			ev->kind = TEV_HWBP;
			ev->msg = hit;
			ev->addr = pc;
			return;
		}
		if (t->last_resume == RESUME_STEP) {
			ev->kind = TEV_STEP;
			ev->addr = pc;
			return;
		}
	}
	if (si->si_code == SIGTRAP && t->last_resume == RESUME_STEP) {
		/* The step delivered a signal: the kernel reports it at the handler's
		 * first instruction (ptrace_notify(SIGTRAP) in signal_delivered). */
		ev->kind = TEV_STEP;
		ev->addr = pc;
		return;
	}
	/* A SIGTRAP the program gets for real (raise, its own int3). */
	ev->kind = TEV_SIGNAL;
	t->pending_sig = SIGTRAP;
}

static bool classify_stop(struct target *tg, struct task *t, pid_t tid, int status,
			  struct tev *ev);

/* Turn one raw wait status into an event, updating bookkeeping. Returns false for a
 * status that needs no attention (an unknown task's exit). */
static bool process_status(struct target *tg, pid_t tid, int status, struct tev *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->tid = tid;
	ev->status = status;
	struct task *t = target_find_task(tg, tid);

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		struct proc *p = t ? t->proc : target_find_proc(tg, tid);
		if (!p) {
			pr_debug(LM_CORE, "exit of unknown tid %d", tid);
			return false;
		}
		ev->proc = p;
		if (tid == p->pid || (t && proc_live_tasks(p) <= 1)) {
			mark_proc_dead(p, status);
			ev->kind = TEV_EXITED;
			ev->task = t;
			pr_debug(LM_CORE, "pid %d exited, status %#x", p->pid, status);
		} else {
			t->state = TS_DEAD;
			ev->kind = TEV_THREAD_EXITED;
			ev->task = t;
		}
		return true;
	}
	if (!WIFSTOPPED(status))
		return false;
	if (!t)
		t = adopt(tg, tid);
	if (!t)
		return false;
	bool r = classify_stop(tg, t, tid, status, ev);
	t->last_ev = ev->kind;
	return r;
}

static bool classify_stop(struct target *tg, struct task *t, pid_t tid, int status, struct tev *ev)
{
	ev->task = t;
	ev->proc = t->proc;
	t->state = TS_STOPPED;
	t->status = status;
	/* Any ptrace stop clears a pending PTRACE_INTERRUPT trap (kernel/signal.c,
	 * ptrace_stop: "any trap clears pending STOP trap"). */
	t->interrupt_sent = false;
	task_invalidate(t);
	if (t->proc->ct && condtrap_stopped(t, status)) {
		t->in_syscall = false;
		ev->kind = TEV_CONDTRAP;
		ev->addr = task_pc(t);
		return true;
	}

	int sig = WSTOPSIG(status);
	int event = (unsigned)status >> 16;
	unsigned long msg = 0;
	ev->sig = sig;

	if (sig == (SIGTRAP | 0x80)) {
		struct __ptrace_syscall_info info;
		long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info);
		bool entry = n > 0 ? info.op == PTRACE_SYSCALL_INFO_ENTRY : !t->in_syscall;
		t->in_syscall = entry;
		ev->kind = entry ? TEV_SYSCALL_ENTRY : TEV_SYSCALL_EXIT;
		ev->sig = 0;
		return true;
	}
	switch (event) {
	case 0: {
		t->in_syscall = false;
		siginfo_t si;
		if (task_get_siginfo(t, &si) < 0)
			memset(&si, 0, sizeof si);
		if (sig == SIGTRAP) {
			classify_trap(t, &si, ev);
			if (ev->kind != TEV_SIGNAL)
				ev->sig = 0;
		} else {
			ev->kind = TEV_SIGNAL;
			t->pending_sig = sig;
		}
		return true;
	}
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		t->in_syscall = true;
		ev->kind = event == PTRACE_EVENT_FORK ? TEV_FORK :
			   event == PTRACE_EVENT_VFORK ? TEV_VFORK : TEV_CLONE;
		task_get_eventmsg(t, &msg);
		ev->msg = msg;
		ev->child = new_child(tg, t, (pid_t)msg, ev->kind);
		ev->sig = 0;
		return true;
	case PTRACE_EVENT_VFORK_DONE:
		t->in_syscall = true;
		ev->kind = TEV_VFORK_DONE;
		ev->sig = 0;
		return true;
	case PTRACE_EVENT_EXEC:
		ev->kind = TEV_EXEC;
		ev->sig = 0;
		t->in_syscall = true;
		handle_exec(tg, t, ev);
		return true;
	case PTRACE_EVENT_EXIT:
		task_get_eventmsg(t, &msg);
		t->exiting = true;
		ev->kind = TEV_EXITING;
		ev->status = (int)msg;
		ev->sig = 0;
		return true;
	case PTRACE_EVENT_SECCOMP:
		t->in_syscall = true;
		task_get_eventmsg(t, &msg);
		ev->kind = TEV_SECCOMP;
		ev->msg = msg;
		ev->sig = 0;
		return true;
	case PTRACE_EVENT_STOP:
		t->in_syscall = false;
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			ev->kind = TEV_GROUP_STOP;
			return true;
		}
		ev->kind = TEV_INTERRUPT;
		ev->sig = 0;
		return true;
	default:
		pr_warn(LM_CORE, "tid %d: unknown ptrace event %d", tid, event);
		ev->kind = TEV_INTERRUPT;
		return true;
	}
}

static void drain_fd(int fd)
{
	char buf[sizeof(struct signalfd_siginfo) * 8];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

/* One waitpid pass: 1 with an event, 0 if nothing is ready, -errno. */
static int poll_status(struct target *tg, struct tev *ev)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
		if (pid == 0)
			return 0;
		if (pid < 0)
			return errno == ECHILD ? 0 : -errno;
		if (process_status(tg, pid, status, ev)) {
			pr_trace(LM_CORE, "tid %d: %s (status %#x)", ev->tid, tev_name(ev->kind),
				 status);
			return 1;
		}
	}
}

int target_wait(struct target *tg, struct tev *ev, int timeout_ms)
{
	if (tg->queue.n) {
		*ev = tg->queue.v[0];
		memmove(tg->queue.v, tg->queue.v + 1, (tg->queue.n - 1) * sizeof *ev);
		tg->queue.n--;
		return 1;
	}
	if (tg->wake_pending) {
		tg->wake_pending = false;
		return -EINTR;
	}
	uint64_t deadline = timeout_ms >= 0 ? now_ns() + (uint64_t)timeout_ms * 1000000ull : 0;
	for (;;) {
		int r = poll_status(tg, ev);
		if (r)
			return r;
		if (!target_any_running(tg))
			return -EDEADLK;
		int left = -1;
		if (timeout_ms >= 0) {
			uint64_t now = now_ns();
			if (now >= deadline)
				return 0;
			left = (int)((deadline - now + 999999) / 1000000);
		}
		struct pollfd pfd[2] = { { tg->sigfd, POLLIN, 0 }, { tg->wake_fd, POLLIN, 0 } };
		int n = poll(pfd, 2, left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (pfd[0].revents & POLLIN))
			drain_fd(tg->sigfd);
		if (n > 0 && (pfd[1].revents & POLLIN)) {
			uint64_t v;
			if (read(tg->wake_fd, &v, sizeof v) > 0) {
				/* Events that arrived meanwhile still win; the wake is kept
				 * for the next call, never lost. */
				r = poll_status(tg, ev);
				if (r > 0)
					tg->wake_pending = true;
				return r ? r : -EINTR;
			}
		}
	}
}

int target_wait_task(struct target *tg, struct task *t, struct tev *ev)
{
	pid_t tid = t->tid;
	for (;;) {
		int status;
		pid_t pid = waitpid(tid, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!process_status(tg, pid, status, ev))
			continue;
		/* The execing thread may have changed tid. */
		if (ev->tid == tid || ev->task == t || (ev->kind == TEV_EXEC && ev->msg == (uint64_t)tid))
			return 1;
		if (ev->kind != TEV_INTERRUPT)
			target_queue_push(tg, ev);
	}
}

int target_settle(struct target *tg, struct task *t)
{
	struct user_regs_struct *r;
	struct tev ev;
	int e;
	if (t->state != TS_STOPPED)
		return -ESRCH;
	if (!t->in_syscall)
		return 0;
	bool backout = t->last_ev == TEV_SECCOMP || t->last_ev == TEV_SYSCALL_ENTRY;
	long nr = 0;
	if (backout) {
		if ((e = task_get_regs(t, &r)) < 0)
			return e;
		nr = (long)r->orig_rax;
		r->orig_rax = (uint64_t)-1;   /* skip it; rax survives a skipped syscall */
		r->rax = (uint64_t)nr;
		t->regs_dirty = true;
	}
	int saved_sig = t->pending_sig;
	t->pending_sig = 0;
	if ((e = task_resume(t, RESUME_SYSCALL)) < 0)
		return e;
	for (;;) {
		if ((e = target_wait_task(tg, t, &ev)) < 0)
			return e;
		if (ev.kind == TEV_EXITED || ev.kind == TEV_THREAD_EXITED || ev.kind == TEV_EXITING)
			return -ESRCH;
		if (ev.kind == TEV_SYSCALL_EXIT)
			break;
		if (ev.kind == TEV_SIGNAL) {
			/* Keep it for later; the syscall finishes first. */
			saved_sig = t->pending_sig;
			t->pending_sig = 0;
		}
		if ((e = task_resume(t, RESUME_SYSCALL)) < 0)
			return e;
	}
	t->in_syscall = false;
	if (backout) {
		if ((e = task_get_regs(t, &r)) < 0)
			return e;
		r->rip -= 2;                   /* back onto the syscall instruction */
		r->rax = (uint64_t)nr;
		r->orig_rax = (uint64_t)-1;
		t->regs_dirty = true;
	}
	t->pending_sig = saved_sig;
	return 0;
}

int target_resume(struct target *tg, struct task *t, enum resume_mode m)
{
	(void)tg;
	if (t->proc->snapshot)
		return -EPERM;
	int e = proc_hw_apply(t->proc, t);
	if (e < 0)
		pr_debug(LM_CORE, "tid %d: debug registers not applied: %s", t->tid, strerror(-e));
	return task_resume(t, m);
}

int target_resume_all(struct target *tg, struct task *except)
{
	int err = 0;
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next) {
			if (t == except || t->state != TS_STOPPED)
				continue;
			int e = target_resume(tg, t, RESUME_CONT);
			if (e < 0 && e != -ESRCH)
				err = e;
		}
	}
	return err;
}

/* Is a SIGTRAP pending for this very thread (not yet reported)? */
static bool sigtrap_pending(pid_t tid)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/status", tid);
	if (read_file(path, &text, NULL) < 0)
		return false;
	bool pend = false;
	char *s = strstr(text, "\nSigPnd:");
	if (s) {
		unsigned long long m = strtoull(s + 8, NULL, 16);
		pend = m & (1ull << (SIGTRAP - 1));
	}
	free(text);
	return pend;
}

/* A thread interrupted just after executing an int3 can report the interrupt first
 * with the SIGTRAP still queued and its pc one past the int3. Put its pc back on the
 * int3: it hits the breakpoint again when resumed, and the stale SIGTRAP, delivered
 * then with pc on the site, is classified as that hit (classify_trap). */
static void rewind_pending_traps(struct target *tg)
{
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next) {
			if (t->state != TS_STOPPED || t->last_ev != TEV_INTERRUPT)
				continue;
			uint64_t pc = task_pc(t);
			if (!pc || !proc_bp_find(p, pc - 1) || !sigtrap_pending(t->tid))
				continue;
			pr_debug(LM_CORE, "tid %d: int3 at %#lx hit while stopping; pc set back", t->tid,
				 (unsigned long)(pc - 1));
			task_set_pc(t, pc - 1);
		}
	}
}

int target_stop_all(struct target *tg)
{
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next)
			if (t->state == TS_RUNNING)
				task_interrupt(t);
	}
	while (target_any_running(tg)) {
		struct tev ev;
		int status;
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!process_status(tg, pid, status, &ev))
			continue;
		if (ev.kind == TEV_INTERRUPT)
			continue;
		/* A new task created while stopping: it is stopped at its first stop or will
		 * be; interrupts for tasks that ran on get sent as they appear. */
		if (ev.kind == TEV_CLONE || ev.kind == TEV_FORK || ev.kind == TEV_VFORK) {
			if (ev.child && ev.child->state == TS_RUNNING)
				task_interrupt(ev.child);
		}
		target_queue_push(tg, &ev);
	}
	rewind_pending_traps(tg);
	return 0;
}

/* ---- launch / attach / detach / kill ---- */

static int exec_child(const struct launch_spec *ls, int syncfd_r, int errfd_w)
{
	char c;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	/* Wait until rewind has seized us. */
	while (read(syncfd_r, &c, 1) < 0 && errno == EINTR)
		;
	int e = 0;
	if (!ls->keep_aslr)
		personality(ADDR_NO_RANDOMIZE);
	if (ls->cwd && chdir(ls->cwd) < 0)
		e = -errno;
	if (!e && ls->child_setup)
		e = ls->child_setup(ls->child_arg);
	if (!e) {
		extern char **environ;
		char *const *envp = ls->envp ? ls->envp : environ;
		if (strchr(ls->argv[0], '/'))
			execve(ls->argv[0], ls->argv, envp);
		else
			execvpe(ls->argv[0], ls->argv, envp);
		e = -errno;
	}
	ssize_t w = write(errfd_w, &e, sizeof e);
	(void)w;
	_exit(127);
}

int target_launch(struct target *tg, const struct launch_spec *ls, struct proc **out)
{
	int sync[2], err[2];
	if (pipe2(sync, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		int e = -errno;
		close(sync[0]);
		close(sync[1]);
		return e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(sync[0]); close(sync[1]); close(err[0]); close(err[1]);
		return e;
	}
	if (pid == 0) {
		close(sync[1]);
		close(err[0]);
		exec_child(ls, sync[0], err[1]);
	}
	close(sync[0]);
	close(err[1]);
	unsigned long opts = TRACE_OPTS;
	if (ls->exitkill)
		opts |= PTRACE_O_EXITKILL;
	int e = 0;
	if (ptrace(PTRACE_SEIZE, pid, 0, (void *)opts) < 0) {
		e = -errno;
		pr_err(LM_CORE, "PTRACE_SEIZE of child %d: %s", pid, strerror(errno));
		kill(pid, SIGKILL);
	}
	char go = 1;
	if (write(sync[1], &go, 1) < 0 && !e)
		e = -errno;
	close(sync[1]);
	struct proc *p = add_proc(tg, pid);
	p->num = tg->next_proc_num++;
	struct task *t = add_task(tg, p, pid);
	t->state = TS_RUNNING;
	/* Wait for the exec event (or the child's death). */
	for (;;) {
		struct tev ev;
		int r = target_wait_task(tg, t, &ev);
		if (r < 0) {
			e = e ? e : r;
			break;
		}
		if (ev.kind == TEV_EXEC) {
			/* Leave execve so the process sits at its first instruction in a stop
			 * where registers may be changed (and syscalls injected). */
			target_resume(tg, t, RESUME_SYSCALL);
			continue;
		}
		if (ev.kind == TEV_SYSCALL_EXIT)
			break;
		if (ev.kind == TEV_EXITED) {
			int ce = 0;
			if (read(err[0], &ce, sizeof ce) == (ssize_t)sizeof ce && ce < 0)
				e = ce;
			else
				e = e ? e : -ECHILD;
			break;
		}
		/* Anything before exec (a signal sent to the child) is passed on. */
		target_resume(tg, t, RESUME_CONT);
	}
	close(err[0]);
	if (e < 0) {
		if (!p->dead)
			target_kill(tg, p);
		target_forget(tg, p);
		return e;
	}
	*out = p;
	return 0;
}

int target_attach(struct target *tg, pid_t pid, struct proc **out)
{
	if (target_find_proc(tg, pid))
		return -EALREADY;
	pid_t tgid = read_tgid(pid, NULL);
	if (tgid < 0)
		return tgid;
	if (tgid != pid)
		return -EINVAL;
	struct proc *p = add_proc(tg, pid);
	p->num = tg->next_proc_num++;
	/* Seize threads until the list stops growing (threads may be created meanwhile). */
	bool grew = true;
	int err = 0;
	while (grew && !err) {
		grew = false;
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", pid);
		DIR *d = opendir(path);
		if (!d) {
			err = -errno;
			break;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);
			if (tid <= 0 || proc_task(p, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(unsigned long)TRACE_OPTS) < 0) {
				if (errno == ESRCH)
					continue;
				err = -errno;
				pr_err(LM_CORE, "attach to tid %d: %s", tid, strerror(errno));
				break;
			}
			struct task *t = add_task(tg, p, tid);
			t->state = TS_RUNNING;
			task_interrupt(t);
			grew = true;
		}
		closedir(d);
	}
	int e = target_stop_all(tg);
	if (!err)
		err = e;
	if (err < 0 && !p->tasks) {
		target_forget(tg, p);
		return err;
	}
	if (err < 0) {
		target_detach(tg, p);
		target_forget(tg, p);
		return err;
	}
	/* Signals that arrived while we attached stay pending on their tasks. */
	p->attached = true;
	*out = p;
	return 0;
}

int target_detach(struct target *tg, struct proc *p)
{
	if (p->dead)
		return 0;
	target_stop_all(tg);
	proc_bp_uninstall_all(p);
	proc_bp_forget_all(p);
	for (int i = 0; i < 4; i++)
		p->hw[i].used = false;
	p->hw_gen++;
	int err = 0;
	for (struct task *t = p->tasks; t; t = t->next) {
		if (t->state != TS_STOPPED)
			continue;
		proc_hw_apply(p, t);
		task_flush(t);
		if (ptrace(PTRACE_DETACH, t->tid, 0, (void *)(long)t->pending_sig) < 0 &&
		    errno != ESRCH)
			err = -errno;
		t->state = TS_DEAD;
	}
	/* Events of this process that we queued are moot now. */
	size_t j = 0;
	for (size_t i = 0; i < tg->queue.n; i++)
		if (tg->queue.v[i].proc != p)
			tg->queue.v[j++] = tg->queue.v[i];
	tg->queue.n = j;
	mark_proc_dead(p, 0);
	return err;
}

int target_kill(struct target *tg, struct proc *p)
{
	if (p->dead)
		return 0;
	kill(p->pid, SIGKILL);
	/* A task of p whose PTRACE_EVENT_EXIT stop was consumed (and queued) while another
	 * proc was being killed would wait forever for its resume: let it die. (Added for
	 * snapshots, which kill whole trees; target_fini had the same hang.) */
	for (struct task *t = p->tasks; t; t = t->next)
		if (t->state == TS_STOPPED && t->exiting)
			task_resume(t, RESUME_CONT);
	/* Reap every task of it; other procs' events are queued. */
	while (!p->dead) {
		int status;
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			mark_proc_dead(p, 0);
			return errno == ECHILD ? 0 : -errno;
		}
		struct tev ev;
		if (!process_status(tg, pid, status, &ev))
			continue;
		if (ev.proc == p) {
			/* A task stopped on its way out: let it die. */
			if (ev.task && ev.task->state == TS_STOPPED)
				task_resume(ev.task, RESUME_CONT);
			continue;
		}
		if (ev.kind != TEV_INTERRUPT)
			target_queue_push(tg, &ev);
	}
	size_t j = 0;
	for (size_t i = 0; i < tg->queue.n; i++)
		if (tg->queue.v[i].proc != p)
			tg->queue.v[j++] = tg->queue.v[i];
	tg->queue.n = j;
	return 0;
}

void target_fini(struct target *tg)
{
	for (struct proc *p = tg->procs; p; p = p->next)
		if (!p->dead && p->attached)
			target_detach(tg, p);
	for (struct proc *p = tg->procs; p; p = p->next)
		if (!p->dead)
			kill(p->pid, SIGKILL);
	while (tg->procs) {
		struct proc *p = tg->procs;
		if (!p->dead)
			target_kill(tg, p);
		target_forget(tg, p);
	}
	vec_free(&tg->queue);
	if (tg->sigfd >= 0)
		close(tg->sigfd);
	if (tg->wake_fd >= 0)
		close(tg->wake_fd);
}
