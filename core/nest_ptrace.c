/* The ptrace requests of a nested tracer, performed by rewind on the tracee it really
 * traces. Checks and errors follow the kernel's (kernel/ptrace.c, arch/x86/kernel/
 * ptrace.c): ESRCH for a task not traced by the caller or not stopped, EIO for a bad
 * request or signal, EPERM for an attach the kernel would refuse. */
#include "nest_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#define PTRACE_SYSEMU_SINGLESTEP 32
#endif
#ifndef PTRACE_ARCH_PRCTL
#define PTRACE_ARCH_PRCTL 30
#endif
#define NEST_PTRACE_O_MASK (0x000000ff | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP)
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

static struct task *live_task(struct nest *n, pid_t tid)
{
	struct task *t = tid > 0 ? target_find_task(n->tg, tid) : NULL;
	return t && !t->proc->snapshot && t->state != TS_DEAD ? t : NULL;
}

static struct proc *caller_proc(struct nest *n, struct nest_task *caller)
{
	return target_find_proc(n->tg, caller->tgid);
}

/* Copy to/from the caller's memory: -EFAULT as the kernel's copy_to_user. */
static int put(struct nest *n, struct nest_task *caller, uint64_t at, const void *buf, size_t len)
{
	struct proc *p = caller_proc(n, caller);
	return p && proc_write_raw(p, RADDR(at), buf, len) == 0 ? 0 : -EFAULT;
}

static int get(struct nest *n, struct nest_task *caller, uint64_t at, void *buf, size_t len)
{
	struct proc *p = caller_proc(n, caller);
	return p && proc_read_raw(p, RADDR(at), buf, len) == 0 ? 0 : -EFAULT;
}

/* A listening tracee is in a ptrace-stop for its tracer but running for rewind (it
 * waits for SIGCONT in the kernel): stop it for real to serve a request. Its events
 * meanwhile are queued; the group stop it shows again is the one it was in. */
static int stop_listener(struct nest *n, struct nest_task *nt, struct task *t)
{
	if (t->state == TS_STOPPED)
		return 0;
	int e = task_interrupt(t);
	while (!e && t->state != TS_STOPPED) {
		struct tev ev;
		e = target_wait_task(n->tg, t, &ev);
		if (e < 0)
			break;
		e = 0;
		if (ev.kind == TEV_INTERRUPT && t->state == TS_STOPPED) {
			/* The group stop ended meanwhile (SIGCONT): the tracee traps again,
			 * which its tracer hears of as it would natively. */
			nest_continued(n, nt);
			nest_notified(n, nt);
			break;
		}
		if (ev.kind != TEV_GROUP_STOP)
			target_queue_push(n->tg, &ev);
	}
	return e < 0 ? e : 0;
}

static int64_t do_traceme(struct nest *n, struct nest_task *caller)
{
	struct nest_proc *np = np_find(n, caller->tgid);
	if (caller->tracer)
		return -EPERM;
	if (!np || !np->ppid) {
		nest_warn_once(n, -1, "pid %d: PTRACE_TRACEME with a parent outside the session is "
			       "not supported (EPERM)", caller->tgid);
		return -EPERM;
	}
	struct nest_task *pt = nt_find(n, np->ptid);
	if (!pt || !live_task(n, pt->tid)) {
		/* The forking thread is gone: its process takes the role. */
		pt = nt_find(n, np->ppid);
		if (!pt)
			return -EPERM;
	}
	caller->tracer = pt->tid;
	caller->tracer_tgid = np->ppid;
	caller->seized = false;
	caller->options = 0;
	caller->mode = RESUME_CONT;
	pr_debug(LM_NEST, "pid %d: PTRACE_TRACEME, traced by %d", caller->tid, pt->tid);
	return 0;
}

static int64_t do_attach(struct nest *n, struct nest_task *caller, struct task *t, bool seize,
			 uint64_t addr, uint64_t data)
{
	struct nest_task *nt = nt_of(n, t);
	if (seize && (addr || (data & ~(uint64_t)NEST_PTRACE_O_MASK)))
		return -EIO;
	if (t->proc->pid == caller->tgid || nt->tracer)
		return -EPERM;
	if (seize && (data & PTRACE_O_SUSPEND_SECCOMP))
		return -EPERM;   /* the caller runs under rewind's seccomp filter */
	nt->tracer = caller->tid;
	nt->tracer_tgid = caller->tgid;
	nt->seized = seize;
	nt->options = seize ? (unsigned long)data : 0;
	nt->mode = RESUME_CONT;
	nt->held = nt->pending = false;
	nt->dr[6] = 0xffff0ff0;
	struct nest_proc *np = np_find(n, nt->tgid);
	pr_debug(LM_NEST, "tid %d: %s by %d", nt->tid, seize ? "seized" : "attached", caller->tid);
	if (np && np->stopped && stop_listener(n, nt, t) == 0 && t->state == TS_STOPPED) {
		/* A group-stopped task re-traps so that its new tracer hears of the stop. */
		siginfo_t si, *sp = NULL;
		int code = seize ? np->gstop_code | (PTRACE_EVENT_STOP << 8) : np->gstop_code;
		if (seize) {
			memset(&si, 0, sizeof si);
			si.si_signo = np->gstop_code;
			si.si_code = code;
			si.si_pid = nt->tid;
			sp = &si;
		}
		nt->listening = false;
		nt_report(n, nt, NS_GROUP, code, 0, sp);
		return 0;
	}
	if (!seize) {
		/* The kernel queues a SIGSTOP; the stop it causes is shown as that. */
		nt->attach_stop = true;
		syscall(SYS_tgkill, nt->tgid, nt->tid, SIGSTOP);
	}
	return 0;
}

static int64_t do_resume(struct nest *n, struct nest_task *caller, struct nest_task *nt,
			 enum resume_mode m, uint64_t data)
{
	if (data >= NSIG)
		return -EIO;
	int sig = (int)data;
	if (sig)
		nt_siginfo(n, nt);
	nt->held = nt->pending = nt->listening = false;
	nt->mode = m;
	if (sig && (nt->kind == NS_SIGNAL || nt->kind == NS_SYSCALL_ENTRY ||
		    nt->kind == NS_SYSCALL_EXIT)) {
		/* At a signal-delivery-stop the signal is delivered (with the siginfo the
		 * tracer saw or set if it is the same signal); at a syscall stop the kernel
		 * sends it anew. Event and group stops ignore it. */
		nt->inject_sig = sig;
		nt->inject_sent = false;
		if (nt->kind == NS_SIGNAL && sig == nt->si.si_signo) {
			nt->inject_si = nt->si;
		} else {
			memset(&nt->inject_si, 0, sizeof nt->inject_si);
			nt->inject_si.si_signo = sig;
			nt->inject_si.si_code = nt->kind == NS_SIGNAL ? SI_USER : SI_KERNEL;
			nt->inject_si.si_pid = nt->kind == NS_SIGNAL ? caller->tgid : 0;
		}
	}
	nt->kind = NS_NONE;
	nt_resume(n, nt);
	return 0;
}

static int64_t do_detach(struct nest *n, struct nest_task *nt, uint64_t data)
{
	if (data >= NSIG)
		return -EIO;
	if (data && nt->kind == NS_SIGNAL) {
		nt_siginfo(n, nt);
		nt->inject_sig = (int)data;
		nt->inject_sent = false;
		nt->inject_si = nt->si;
		if (nt->si.si_signo != (int)data) {
			memset(&nt->inject_si, 0, sizeof nt->inject_si);
			nt->inject_si.si_signo = (int)data;
			nt->inject_si.si_code = SI_USER;
		}
	}
	pr_debug(LM_NEST, "tid %d: detached by %d", nt->tid, nt->tracer);
	nt_unlink(n, nt, true);
	return 0;
}

static int64_t do_interrupt(struct nest *n, struct nest_task *nt, struct task *t)
{
	if (!nt->seized)
		return -EIO;
	nt->want_interrupt = true;
	if (!nt->held)
		task_interrupt(t);   /* running or listening: it traps at once */
	(void)n;
	return 0;
}

static int64_t do_listen(struct nest *n, struct nest_task *nt)
{
	bool event_stop = nt->kind == NS_GROUP ||
			  (nt->kind == NS_EVENT && (nt->code >> 8) == PTRACE_EVENT_STOP);
	if (!nt->seized || !event_stop)
		return -EIO;
	nt->held = nt->pending = false;
	nt->listening = true;
	nt_resume(n, nt);
	return 0;
}

static int64_t peek_mem(struct nest *n, struct nest_task *caller, struct task *t, uint64_t addr,
			uint64_t data)
{
	uint64_t w;
	if (proc_read_raw(t->proc, RADDR(addr), &w, sizeof w) < 0)
		return -EIO;
	return put(n, caller, data, &w, sizeof w);
}

static int64_t arch_prctl(struct nest *n, struct nest_task *caller, struct nest_task *nt,
			  uint64_t addr, uint64_t code)
{
	struct user_regs_struct r;
	int e = nr_get_regs(nt, &r);
	if (e < 0)
		return e;
	switch (code) {
	case ARCH_GET_FS:
		return put(n, caller, addr, &r.fs_base, 8);
	case ARCH_GET_GS:
		return put(n, caller, addr, &r.gs_base, 8);
	case ARCH_SET_FS:
		r.fs_base = addr;
		return nr_set_regs(nt, &r);
	case ARCH_SET_GS:
		r.gs_base = addr;
		return nr_set_regs(nt, &r);
	default:
		return -EINVAL;
	}
}

static int64_t siginfo_req(struct nest *n, struct nest_task *caller, struct nest_task *nt,
			   struct task *t, bool set, uint64_t data)
{
	/* A legacy group-stop has no siginfo (the kernel says EINVAL). */
	nt_siginfo(n, nt);
	if (!nt->si.si_signo)
		return -EINVAL;
	if (!set)
		return put(n, caller, data, &nt->si, sizeof nt->si);
	siginfo_t si;
	int e = get(n, caller, data, &si, sizeof si);
	if (e < 0)
		return e;
	nt->si = si;
	if (nt->real_sig)
		task_set_siginfo(t, &si);
	return 0;
}

static int64_t peeksiginfo(struct nest *n, struct nest_task *caller, struct task *t,
			   uint64_t addr, uint64_t data)
{
	struct __ptrace_peeksiginfo_args a;
	int e = get(n, caller, addr, &a, sizeof a);
	if (e < 0)
		return e;
	if (a.flags & ~PTRACE_PEEKSIGINFO_SHARED || a.nr < 0)
		return -EINVAL;
	int64_t total = 0;
	siginfo_t buf[32];
	while (total < a.nr) {
		struct __ptrace_peeksiginfo_args b = { a.off + (uint64_t)total, a.flags,
						       (int32_t)MIN((int64_t)32, a.nr - total) };
		long k = ptrace(PTRACE_PEEKSIGINFO, t->tid, &b, buf);
		if (k < 0)
			return total ? total : -errno;
		if (k && (e = put(n, caller, data + (uint64_t)total * sizeof *buf, buf,
				  (size_t)k * sizeof *buf)) < 0)
			return total ? total : e;
		total += k;
		if (k < b.nr)
			break;
	}
	return total;
}

static int64_t sigmask_req(struct nest *n, struct nest_task *caller, struct task *t, bool set,
			   uint64_t addr, uint64_t data)
{
	uint64_t m;
	if (addr != sizeof m)
		return -EINVAL;
	if (!set) {
		int e = task_get_sigmask(t, &m);
		return e < 0 ? e : put(n, caller, data, &m, sizeof m);
	}
	int e = get(n, caller, data, &m, sizeof m);
	return e < 0 ? e : task_set_sigmask(t, m);
}

int64_t nest_ptrace(struct nest *n, struct nest_task *caller, long req, pid_t pid, uint64_t addr,
		    uint64_t data)
{
	if (req == PTRACE_TRACEME)
		return do_traceme(n, caller);
	struct task *t = live_task(n, pid);
	if (!t) {
		if ((req == PTRACE_ATTACH || req == PTRACE_SEIZE) && pid > 0 && kill(pid, 0) == 0) {
			nest_warn_once(n, -2, "pid %d: attaching to pid %d, outside the session, is not "
				       "supported (EPERM)", caller->tgid, pid);
			return -EPERM;
		}
		return -ESRCH;
	}
	if (req == PTRACE_ATTACH || req == PTRACE_SEIZE)
		return do_attach(n, caller, t, req == PTRACE_SEIZE, addr, data);
	struct nest_task *nt = nt_of(n, t);
	if (nt->tracer != caller->tid)
		return -ESRCH;
	nt->t = t;   /* for nest_regs.c during this request */
	if (req == PTRACE_KILL) {
		syscall(SYS_tgkill, nt->tgid, nt->tid, SIGKILL);
		return 0;
	}
	if (req == PTRACE_INTERRUPT)
		return do_interrupt(n, nt, t);
	if (!nt->held && !nt->listening)
		return -ESRCH;
	if (nt->listening) {
		int e = stop_listener(n, nt, t);
		if (e < 0)
			return -ESRCH;
	}
	int64_t r;
	struct user_regs_struct regs;
	switch (req) {
	case PTRACE_PEEKTEXT:
	case PTRACE_PEEKDATA:
		r = peek_mem(n, caller, t, addr, data);
		break;
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
		r = proc_write_raw(t->proc, RADDR(addr), &data, sizeof data) < 0 ? -EIO : 0;
		break;
	case PTRACE_PEEKUSER: {
		uint64_t v = 0;
		r = nr_peekuser(nt, addr, &v);
		if (r == 0)
			r = put(n, caller, data, &v, sizeof v);
		break;
	}
	case PTRACE_POKEUSER:
		r = nr_pokeuser(nt, addr, data);
		break;
	case PTRACE_GETREGS:
		r = nr_get_regs(nt, &regs);
		if (r == 0)
			r = put(n, caller, data, &regs, sizeof regs);
		break;
	case PTRACE_SETREGS:
		r = get(n, caller, data, &regs, sizeof regs);
		if (r == 0)
			r = nr_set_regs(nt, &regs);
		break;
	case PTRACE_GETFPREGS:
		r = nr_getfpregs(nt, caller_proc(n, caller), data);
		break;
	case PTRACE_SETFPREGS:
		r = nr_setfpregs(nt, caller_proc(n, caller), data);
		break;
	case PTRACE_GETREGSET:
		r = nr_getregset(n, nt, caller_proc(n, caller), (unsigned)addr, data);
		break;
	case PTRACE_SETREGSET:
		r = nr_setregset(n, nt, caller_proc(n, caller), (unsigned)addr, data);
		break;
	case PTRACE_CONT:
		return do_resume(n, caller, nt, RESUME_CONT, data);
	case PTRACE_SYSCALL:
		return do_resume(n, caller, nt, RESUME_SYSCALL, data);
	case PTRACE_SINGLESTEP:
		return do_resume(n, caller, nt, RESUME_STEP, data);
	case PTRACE_SYSEMU:
		return do_resume(n, caller, nt, RESUME_SYSEMU, data);
	case PTRACE_DETACH:
		return do_detach(n, nt, data);
	case PTRACE_LISTEN:
		return do_listen(n, nt);
	case PTRACE_SETOPTIONS:
		if (data & ~(uint64_t)NEST_PTRACE_O_MASK)
			r = -EINVAL;
		else if (data & PTRACE_O_SUSPEND_SECCOMP)
			r = -EPERM;
		else {
			nt->options = (unsigned long)data;
			r = 0;
		}
		break;
	case PTRACE_GETEVENTMSG:
		r = put(n, caller, data, &nt->msg, sizeof nt->msg);
		break;
	case PTRACE_GETSIGINFO:
	case PTRACE_SETSIGINFO:
		r = siginfo_req(n, caller, nt, t, req == PTRACE_SETSIGINFO, data);
		break;
	case PTRACE_PEEKSIGINFO:
		r = peeksiginfo(n, caller, t, addr, data);
		break;
	case PTRACE_GETSIGMASK:
	case PTRACE_SETSIGMASK:
		r = sigmask_req(n, caller, t, req == PTRACE_SETSIGMASK, addr, data);
		break;
	case PTRACE_GET_SYSCALL_INFO:
		r = nr_syscall_info(nt, caller_proc(n, caller), addr, data);
		break;
	case PTRACE_ARCH_PRCTL:
		r = arch_prctl(n, caller, nt, addr, data);
		break;
	case PTRACE_GET_RSEQ_CONFIGURATION: {
		struct __ptrace_rseq_configuration rc;
		memset(&rc, 0, sizeof rc);
		long k = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof rc, &rc);
		if (k < 0)
			r = -errno;
		else
			r = put(n, caller, data, &rc, MIN((size_t)addr, sizeof rc)) < 0 ? -EFAULT : k;
		break;
	}
	default:
		nest_warn_once(n, (int)req, "ptrace request %#lx (from pid %d) is not emulated; "
			       "it fails with EIO", req, caller->tgid);
		r = -EIO;
	}
	if (nt->listening && t->state == TS_STOPPED)
		nt_resume(n, nt);   /* back to listening */
	return r;
}
