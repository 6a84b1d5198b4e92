#include "task.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <linux/elf.h>

#include "condtrap.h"
#include "proc.h"
#include "log.h"
#include "regs.h"
#include "util.h"

#ifndef PTRACE_LISTEN
#define PTRACE_LISTEN 0x4208
#endif
#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#define PTRACE_SETSIGMASK 0x420b
#endif

struct task *task_new(struct proc *p, pid_t tid)
{
	struct task *t = xcalloc(1, sizeof *t);
	t->tid = tid;
	t->proc = p;
	t->state = TS_STOPPED;
	t->new_task = true;
	return t;
}

void task_free(struct task *t)
{
	if (!t)
		return;
	free(t->xstate);
	free(t);
}

int task_get_regs(struct task *t, struct user_regs_struct **out)
{
	if (t->state != TS_STOPPED)
		return -ESRCH;
	if (!t->regs_valid) {
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) < 0) {
			int e = -errno;
			pr_debug(LM_CORE, "GETREGS %d: %s", t->tid, strerror(errno));
			return e;
		}
		t->regs_valid = true;
	}
	*out = &t->regs;
	return 0;
}

int task_set_regs(struct task *t, const struct user_regs_struct *r)
{
	if (t->state != TS_STOPPED)
		return -ESRCH;
	t->regs = *r;
	t->regs_valid = t->regs_dirty = true;
	return 0;
}

uint64_t task_pc(struct task *t)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return 0;
	return r->rip;
}

int task_set_pc(struct task *t, uint64_t pc)
{
	struct user_regs_struct *r;
	int e = task_get_regs(t, &r);
	if (e < 0)
		return e;
	r->rip = pc;
	t->regs_dirty = true;
	return 0;
}

int task_get_xstate(struct task *t, uint8_t **out, size_t *len)
{
	if (t->state != TS_STOPPED)
		return -ESRCH;
	if (!t->xs_valid) {
		size_t sz = regs_xsave_layout()->size;
		if (!t->xstate)
			t->xstate = xcalloc(1, sz);
		struct iovec iov = { t->xstate, sz };
		if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0) {
			int e = -errno;
			pr_debug(LM_CORE, "GETREGSET xstate %d: %s", t->tid, strerror(errno));
			return e;
		}
		t->xstate_len = iov.iov_len;
		t->xs_valid = true;
	}
	*out = t->xstate;
	*len = t->xstate_len;
	return 0;
}

int task_set_xstate(struct task *t, const uint8_t *xs, size_t len)
{
	uint8_t *cur;
	size_t curlen;
	int e = task_get_xstate(t, &cur, &curlen);
	if (e < 0)
		return e;
	if (len > curlen)
		len = curlen;
	memcpy(t->xstate, xs, len);
	t->xs_dirty = true;
	return 0;
}

int task_flush(struct task *t)
{
	if (t->regs_dirty) {
		pr_trace(LM_CORE, "tid %d: SETREGS rip %#llx rax %#llx orig_rax %#llx", t->tid,
			 t->regs.rip, t->regs.rax, t->regs.orig_rax);
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) < 0) {
			int e = -errno;
			pr_err(LM_CORE, "SETREGS tid %d: %s", t->tid, strerror(errno));
			return e;
		}
		t->regs_dirty = false;
	}
	if (t->xs_dirty) {
		struct iovec iov = { t->xstate, t->xstate_len };
		if (ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0) {
			int e = -errno;
			pr_err(LM_CORE, "SETREGSET xstate tid %d: %s", t->tid, strerror(errno));
			return e;
		}
		t->xs_dirty = false;
	}
	return 0;
}

void task_invalidate(struct task *t)
{
	t->regs_valid = t->regs_dirty = false;
	t->xs_valid = t->xs_dirty = false;
}

int task_resume(struct task *t, enum resume_mode m)
{
	static const int req[] = {
		[RESUME_CONT] = PTRACE_CONT, [RESUME_STEP] = PTRACE_SINGLESTEP,
		[RESUME_SYSCALL] = PTRACE_SYSCALL, [RESUME_SYSEMU] = PTRACE_SYSEMU,
		[RESUME_LISTEN] = PTRACE_LISTEN,
	};
	if (t->state != TS_STOPPED)
		return -ESRCH;
	if (t->proc->ct)
		condtrap_resume(t, m);
	int e = task_flush(t);
	if (e < 0)
		return e;
	int sig = m == RESUME_LISTEN ? 0 : t->pending_sig;
	if (ptrace(req[m], t->tid, 0, (void *)(long)sig) < 0) {
		e = -errno;
		pr_debug(LM_CORE, "resume tid %d mode %d: %s", t->tid, m, strerror(errno));
		return e;
	}
	pr_trace(LM_CORE, "resume tid %d mode %d sig %d", t->tid, m, sig);
	t->pending_sig = 0;
	t->last_resume = m;
	t->state = TS_RUNNING;
	task_invalidate(t);
	return 0;
}

int task_interrupt(struct task *t)
{
	if (t->state != TS_RUNNING || t->interrupt_sent)
		return 0;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
		int e = -errno;
		pr_debug(LM_CORE, "INTERRUPT tid %d: %s", t->tid, strerror(errno));
		return e;
	}
	t->interrupt_sent = true;
	return 0;
}

int task_get_siginfo(struct task *t, siginfo_t *si)
{
	return ptrace(PTRACE_GETSIGINFO, t->tid, 0, si) < 0 ? -errno : 0;
}

int task_set_siginfo(struct task *t, const siginfo_t *si)
{
	return ptrace(PTRACE_SETSIGINFO, t->tid, 0, si) < 0 ? -errno : 0;
}

int task_get_sigmask(struct task *t, uint64_t *mask)
{
	return ptrace(PTRACE_GETSIGMASK, t->tid, (void *)8, mask) < 0 ? -errno : 0;
}

int task_set_sigmask(struct task *t, uint64_t mask)
{
	return ptrace(PTRACE_SETSIGMASK, t->tid, (void *)8, &mask) < 0 ? -errno : 0;
}

int task_get_eventmsg(struct task *t, unsigned long *msg)
{
	return ptrace(PTRACE_GETEVENTMSG, t->tid, 0, msg) < 0 ? -errno : 0;
}

int task_get_dr(struct task *t, int i, uint64_t *v)
{
	errno = 0;
	long r = ptrace(PTRACE_PEEKUSER, t->tid,
			(void *)(offsetof(struct user, u_debugreg) + (size_t)i * 8), 0);
	if (errno)
		return -errno;
	*v = (uint64_t)r;
	return 0;
}

int task_set_dr(struct task *t, int i, uint64_t v)
{
	if (ptrace(PTRACE_POKEUSER, t->tid,
		   (void *)(offsetof(struct user, u_debugreg) + (size_t)i * 8), (void *)v) < 0) {
		int e = -errno;
		pr_debug(LM_CORE, "POKEUSER dr%d tid %d: %s", i, t->tid, strerror(errno));
		return e;
	}
	return 0;
}
