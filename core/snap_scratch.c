/* Helpers shared by the snapshot files: scratch memory in a tracee for the arguments
 * of injected syscalls, injection wrappers, CPU pinning, death checks. */
#include "snap_int.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "maps.h"

/* Below the 128-byte red zone, with room for a signal frame the kernel might be
 * building there (none: every task is stopped, but stay clear of it anyway). */
#define SCRATCH_GAP (128 + 256)

/* A writable private mapping to borrow from when the stack has no room below rsp. */
static uint64_t fallback_area(struct proc *p, size_t len)
{
	struct maps m;
	uint64_t at = 0;
	if (maps_read(p->pid, &m) < 0)
		return 0;
	for (size_t i = 0; i < m.n && !at; i++) {
		const struct map_entry *e = &m.v[i];
		if ((e->prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE) &&
		    !e->shared && e->end - e->start >= len)
			at = e->start;
	}
	maps_free(&m);
	return at;
}

int scratch_begin(struct task *t, size_t len, struct scratch *s)
{
	struct user_regs_struct *r;
	int e;
	if (len > SCRATCH_MAX)
		return -EINVAL;
	if ((e = task_get_regs(t, &r)) < 0)
		return e;
	s->p = t->proc;
	s->len = len;
	s->at = (r->rsp - SCRATCH_GAP - len) & ~(uint64_t)63;
	if (proc_read_raw(s->p, RADDR(s->at), s->saved, len) == 0)
		return 0;
	/* rsp sits near the bottom of its mapping (stacks do not grow through
	 * /proc/PID/mem): use the start of some writable private mapping instead. */
	s->at = fallback_area(s->p, len);
	if (!s->at || (e = proc_read_raw(s->p, RADDR(s->at), s->saved, len)) < 0) {
		pr_err(LM_SNAP, "tid %d: no scratch memory for syscall arguments", t->tid);
		return e < 0 ? e : -EFAULT;
	}
	return 0;
}

int scratch_end(struct scratch *s, struct proc *also)
{
	int e = proc_write_raw(s->p, RADDR(s->at), s->saved, s->len);
	if (e < 0)
		pr_err(LM_SNAP, "pid %d: cannot put back %zu scratch bytes at %#lx: %s", s->p->pid,
		       s->len, (unsigned long)s->at, strerror(-e));
	if (also) {
		int e2 = proc_write_raw(also, RADDR(s->at), s->saved, s->len);
		if (e2 < 0) {
			pr_err(LM_SNAP, "pid %d: cannot put back %zu scratch bytes at %#lx: %s",
			       also->pid, s->len, (unsigned long)s->at, strerror(-e2));
			e = e ? e : e2;
		}
	}
	return e;
}

int scratch_put(struct scratch *s, size_t off, const void *buf, size_t len)
{
	if (off + len > s->len)
		return -EINVAL;
	return proc_write_raw(s->p, RADDR(s->at + off), buf, len);
}

int scratch_get(struct scratch *s, size_t off, void *buf, size_t len)
{
	if (off + len > s->len)
		return -EINVAL;
	return proc_read_raw(s->p, RADDR(s->at + off), buf, len);
}

int snap_sys(struct target *tg, struct task *t, long nr, int64_t *ret, uint64_t a0, uint64_t a1,
	     uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	int e = inject_syscall6(tg, t, nr, ret, a0, a1, a2, a3, a4, a5);
	if (e < 0)
		pr_err(LM_SNAP, "pid %d tid %d: injecting syscall %ld failed: %s", t->proc->pid,
		       t->tid, nr, strerror(-e));
	return e;
}

int snap_sys_ok(struct target *tg, struct task *t, long nr, int64_t *ret, uint64_t a0,
		uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	int64_t r = 0;
	int e = snap_sys(tg, t, nr, &r, a0, a1, a2, a3, a4, a5);
	if (e < 0)
		return e;
	if (ret)
		*ret = r;
	if (r < 0 && r > -4096) {
		pr_err(LM_SNAP, "pid %d tid %d: injected syscall %ld returned %s", t->proc->pid,
		       t->tid, nr, strerror((int)-r));
		return (int)r;
	}
	return 0;
}

int snap_pidfd_open(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : (int)fd;
}

int snap_pidfd_getfd(int pidfd, int fd)
{
	long nfd = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	return nfd < 0 ? -errno : (int)nfd;
}

/* About to SIGKILL p: without PTRACE_O_TRACEEXIT its tasks die without stopping once
 * more at their exit (one tracer round trip less per task). */
void snap_quiet_death(struct proc *p)
{
	for (struct task *t = p->tasks; t; t = t->next)
		if (t->state == TS_STOPPED && !t->exiting)
			ptrace(PTRACE_SETOPTIONS, t->tid, 0, (void *)(long)PTRACE_O_EXITKILL);
}

/* For the length of a snapshot operation, rewind and the tasks it injects into share
 * one CPU: every injection is a ptrace round trip, and in a VM waking a task on another
 * vCPU costs far more than switching to it (PEERS.md), sometimes a host tick. */
void snap_pin_begin(struct snap_pin *pn)
{
	memset(pn, 0, sizeof *pn);
	pn->cpu = sched_getcpu();
	if (pn->cpu < 0 || sched_getaffinity(0, sizeof pn->self_old, &pn->self_old) < 0)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(pn->cpu, &one);
	pn->self = sched_setaffinity(0, sizeof one, &one) == 0;
}

void snap_pin_task(struct snap_pin *pn, pid_t tid)
{
	struct snap_pinned pt;
	memset(&pt, 0, sizeof pt);
	pt.tid = tid;
	if (!pn->self || sched_getaffinity(tid, sizeof pt.old, &pt.old) < 0)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(pn->cpu, &one);
	if (sched_setaffinity(tid, sizeof one, &one) == 0)
		vec_push(&pn->tasks, pt);
}

void snap_pin_end(struct snap_pin *pn)
{
	for (size_t i = 0; i < pn->tasks.n; i++)
		sched_setaffinity(pn->tasks.v[i].tid, sizeof pn->tasks.v[i].old, &pn->tasks.v[i].old);
	vec_free(&pn->tasks);
	if (pn->self)
		sched_setaffinity(0, sizeof pn->self_old, &pn->self_old);
	pn->self = false;
}

/* Dying or dead without the engine having seen it yet: SIGKILL pending (a killed task
 * stops once more at its exit when traced), a zombie, or gone. */
bool snap_dying(pid_t pid)
{
	char path[64], *text, *f;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) < 0)
		return true;
	bool d = false;
	char state = 0;
	if ((f = strstr(text, "\nState:")) && sscanf(f + 7, " %c", &state) == 1)
		d = state == 'Z' || state == 'X';
	if ((f = strstr(text, "\nShdPnd:")) && (strtoull(f + 8, NULL, 16) & (1ull << (SIGKILL - 1))))
		d = true;
	if ((f = strstr(text, "\nSigPnd:")) && (strtoull(f + 8, NULL, 16) & (1ull << (SIGKILL - 1))))
		d = true;
	free(text);
	return d;
}

/* Inject clone(flags) into t; the child, stopped at its first stop, is marked a
 * snapshot proc (never resumed, no user-visible numbers). */
int snap_inject_fork(struct target *tg, struct task *t, uint64_t flags, struct proc **out)
{
	unsigned next_proc = tg->next_proc_num, next_task = tg->next_task_num;
	const uint64_t args[6] = { flags };
	struct task *c = NULL;
	int64_t ret = 0;
	int e = inject_syscall(tg, t, SYS_clone, args, &ret, &c);
	if (e == 0 && ret < 0)
		e = (int)ret;
	if (e == 0 && !c)
		e = -ESRCH;
	if (e < 0)
		return e;
	struct proc *cp = c->proc;
	cp->snapshot = true;
	if (cp->num + 1 == tg->next_proc_num && next_proc < tg->next_proc_num)
		tg->next_proc_num--;
	if (c->num + 1 == tg->next_task_num && next_task < tg->next_task_num)
		tg->next_task_num--;
	cp->num = 0;
	c->num = 0;
	cp->syscall_insn = t->proc->syscall_insn;
	cp->syscall_insn_gen = cp->exec_gen;
	*out = cp;
	return 0;
}

pid_t snap_real_parent(pid_t pid)
{
	pid_t ppid = 0;
	snap_stat_ids(pid, NULL, &ppid, NULL, NULL);
	return ppid;
}
