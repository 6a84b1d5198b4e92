/* Scratch memory in a tracee for the arguments of injected syscalls, and small
 * injection helpers shared by the snapshot files. */
#include "snap_int.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
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
