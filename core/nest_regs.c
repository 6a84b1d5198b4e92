/* Registers of a nested tracee as its tracer reads and writes them: general
 * registers (the view of a syscall-entry stop a checkpoint backed out), the user
 * area with the debug registers (DR6 emulated, the others applied to the real task),
 * regsets incl. NT_X86_XSTATE (a buffer shorter than the kernel's size, as gdb 13
 * writes, is merged into the full one), and PTRACE_GET_SYSCALL_INFO. */
#include "nest_int.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/elf.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "regs.h"

/* The engine's task: set by nest_ptrace() for the duration of a request. */
static struct task *T(struct nest_task *nt)
{
	return nt->t;
}

int nr_get_regs(struct nest_task *nt, struct user_regs_struct *out)
{
	if (nt->entry_settled) {
		*out = nt->entry_view;
		return 0;
	}
	struct user_regs_struct *r;
	int e = task_get_regs(T(nt), &r);
	if (e < 0)
		return e;
	*out = *r;
	return 0;
}

int nr_set_regs(struct nest_task *nt, const struct user_regs_struct *r)
{
	if (nt->entry_settled) {
		nt->entry_view = *r;
		return 0;
	}
	struct task *t = T(nt);
	int e = task_set_regs(t, r);
	if (e == 0 && (e = task_flush(t)) < 0) {
		/* The kernel refused them (a bad segment or base): nothing changed. */
		task_invalidate(t);
		e = -EIO;
	}
	return e;
}

int nr_user_slot(uint64_t off, size_t *reg)
{
	if ((off & 7) || off >= sizeof(struct user))
		return -1;
	if (off < sizeof(struct user_regs_struct)) {
		*reg = (size_t)off;
		return 0;
	}
	size_t dr0 = offsetof(struct user, u_debugreg);
	if (off >= dr0 && off < dr0 + 8 * 8) {
		*reg = (size_t)(off - dr0) / 8;
		return 1;
	}
	return 2;
}

int64_t nr_peekuser(struct nest_task *nt, uint64_t off, uint64_t *val)
{
	size_t i;
	struct user_regs_struct r;
	int e;
	switch (nr_user_slot(off, &i)) {
	case 0:
		if ((e = nr_get_regs(nt, &r)) < 0)
			return e;
		memcpy(val, (char *)&r + i, 8);
		return 0;
	case 1:
		if (i == 6)
			*val = nt->dr[6];
		else if (i == 4 || i == 5)
			*val = 0;
		else
			return task_get_dr(T(nt), (int)i, val);
		return 0;
	case 2:
		*val = 0;
		return 0;
	default:
		return -EIO;
	}
}

int64_t nr_pokeuser(struct nest_task *nt, uint64_t off, uint64_t val)
{
	size_t i;
	struct user_regs_struct r;
	int e;
	switch (nr_user_slot(off, &i)) {
	case 0:
		if ((e = nr_get_regs(nt, &r)) < 0)
			return e;
		memcpy((char *)&r + i, &val, 8);
		return nr_set_regs(nt, &r);
	case 1:
		if (i == 4 || i == 5)
			return -EIO;
		if (i == 6) {
			nt->dr[6] = val;
			return 0;
		}
		if ((e = task_set_dr(T(nt), (int)i, val)) < 0)
			return e;
		nt->dr[i] = val;
		nt->dr_used = true;
		/* The engine must not write its own (empty) set over these. */
		T(nt)->dr_gen = T(nt)->proc->hw_gen;
		return 0;
	default:
		return -EIO;
	}
}

int nr_xstate_merge(uint8_t *full, size_t full_len, const uint8_t *part, size_t part_len,
		    uint64_t keep_bv)
{
	if (part_len < XSAVE_HDR_OFF + 64 || part_len > full_len)
		return -EINVAL;
	uint64_t old_bv, new_bv;
	memcpy(&old_bv, full + XSAVE_HDR_OFF, 8);
	memcpy(&new_bv, part + XSAVE_HDR_OFF, 8);
	memcpy(full, part, part_len);
	new_bv |= old_bv & keep_bv;
	memcpy(full + XSAVE_HDR_OFF, &new_bv, 8);
	return 0;
}

/* XSAVE components whose area does not fit in the first len bytes (standard format):
 * a short buffer leaves them as they are. */
static uint64_t beyond(size_t len)
{
	uint64_t m = 0;
	for (unsigned i = 2; i < 63; i++) {
		unsigned a, b, c, d;
		if (!__get_cpuid_count(0xd, i, &a, &b, &c, &d) || !a)
			continue;
		if ((size_t)b + a > len)
			m |= 1ull << i;
	}
	return m;
}

static int64_t get_iov(struct proc *caller, uint64_t at, struct iovec *iov)
{
	return caller && proc_read_raw(caller, RADDR(at), iov, sizeof *iov) == 0 ? 0 : -EFAULT;
}

static int64_t put_mem(struct proc *caller, uint64_t at, const void *buf, size_t len)
{
	return caller && proc_write_raw(caller, RADDR(at), buf, len) == 0 ? 0 : -EFAULT;
}

static int64_t get_mem(struct proc *caller, uint64_t at, void *buf, size_t len)
{
	return caller && proc_read_raw(caller, RADDR(at), buf, len) == 0 ? 0 : -EFAULT;
}

int64_t nr_getregset(struct nest *n, struct nest_task *nt, struct proc *caller, unsigned type,
		     uint64_t iov_at)
{
	struct iovec iov;
	int64_t e = get_iov(caller, iov_at, &iov);
	if (e < 0)
		return e;
	uint8_t *src;
	size_t len;
	struct user_regs_struct r;
	switch (type) {
	case NT_PRSTATUS:
		if ((e = nr_get_regs(nt, &r)) < 0)
			return e;
		src = (uint8_t *)&r;
		len = sizeof r;
		break;
	case NT_PRFPREG:
	case NT_X86_XSTATE:
		if ((e = task_get_xstate(T(nt), &src, &len)) < 0)
			return e;
		if (type == NT_PRFPREG)
			len = 512;
		break;
	default:
		nest_warn_once(n, 0x10000 | (int)type, "PTRACE_GETREGSET of note type %#x is not "
			       "emulated (EINVAL)", type);
		return -EINVAL;
	}
	if (iov.iov_len % 8)
		return -EINVAL;
	size_t k = MIN(iov.iov_len, len);
	if ((e = put_mem(caller, (uint64_t)iov.iov_base, src, k)) < 0)
		return e;
	iov.iov_len = k;
	return put_mem(caller, iov_at + offsetof(struct iovec, iov_len), &iov.iov_len,
		       sizeof iov.iov_len);
}

int64_t nr_setregset(struct nest *n, struct nest_task *nt, struct proc *caller, unsigned type,
		     uint64_t iov_at)
{
	struct iovec iov;
	int64_t e = get_iov(caller, iov_at, &iov);
	if (e < 0)
		return e;
	if (iov.iov_len % 8)
		return -EINVAL;
	struct task *t = T(nt);
	struct user_regs_struct r;
	uint8_t *cur;
	size_t curlen;
	switch (type) {
	case NT_PRSTATUS:
		if ((e = nr_get_regs(nt, &r)) < 0)
			return e;
		if ((e = get_mem(caller, (uint64_t)iov.iov_base, &r, MIN(iov.iov_len, sizeof r))) < 0)
			return e;
		return nr_set_regs(nt, &r);
	case NT_PRFPREG:
		if (iov.iov_len < 512)
			return -EINVAL;
		return nr_setfpregs(nt, caller, (uint64_t)iov.iov_base);
	case NT_X86_XSTATE: {
		if ((e = task_get_xstate(t, &cur, &curlen)) < 0)
			return e;
		if (iov.iov_len > curlen)
			return -EFAULT;   /* what the kernel says to a wrong size */
		uint8_t *part = xmalloc(iov.iov_len), *full = xmalloc(curlen);
		memcpy(full, cur, curlen);
		e = get_mem(caller, (uint64_t)iov.iov_base, part, iov.iov_len);
		if (!e)
			e = nr_xstate_merge(full, curlen, part, iov.iov_len, beyond(iov.iov_len));
		if (!e && (e = task_set_xstate(t, full, curlen)) == 0 && (e = task_flush(t)) < 0) {
			task_invalidate(t);
			e = -EINVAL;
		}
		free(part);
		free(full);
		return e;
	}
	default:
		nest_warn_once(n, 0x20000 | (int)type, "PTRACE_SETREGSET of note type %#x is not "
			       "emulated (EINVAL)", type);
		return -EINVAL;
	}
}

int64_t nr_getfpregs(struct nest_task *nt, struct proc *caller, uint64_t at)
{
	uint8_t *xs;
	size_t len;
	int64_t e = task_get_xstate(T(nt), &xs, &len);
	return e < 0 ? e : put_mem(caller, at, xs, 512);
}

int64_t nr_setfpregs(struct nest_task *nt, struct proc *caller, uint64_t at)
{
	struct task *t = T(nt);
	uint8_t *xs, fx[512];
	size_t len;
	int64_t e = task_get_xstate(t, &xs, &len);
	if (e < 0 || (e = get_mem(caller, at, fx, sizeof fx)) < 0)
		return e;
	memcpy(xs, fx, sizeof fx);
	uint64_t bv;
	memcpy(&bv, xs + XSAVE_HDR_OFF, 8);
	bv |= 3;   /* x87 and SSE state are now explicit */
	memcpy(xs + XSAVE_HDR_OFF, &bv, 8);
	t->xs_dirty = true;
	if ((e = task_flush(t)) < 0) {
		task_invalidate(t);
		return -EINVAL;
	}
	return 0;
}

size_t nr_build_syscall_info(void *out, enum nstop kind, const struct user_regs_struct *r,
			     uint32_t seccomp_data)
{
	struct __ptrace_syscall_info *i = out;
	memset(i, 0, sizeof *i);
	i->arch = AUDIT_ARCH_X86_64;
	i->instruction_pointer = r->rip;
	i->stack_pointer = r->rsp;
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	switch (kind) {
	case NS_SYSCALL_ENTRY:
		i->op = PTRACE_SYSCALL_INFO_ENTRY;
		i->entry.nr = r->orig_rax;
		memcpy(i->entry.args, a, sizeof a);
		return offsetof(struct __ptrace_syscall_info, entry.args) + sizeof i->entry.args;
	case NS_SYSCALL_EXIT:
		i->op = PTRACE_SYSCALL_INFO_EXIT;
		i->exit.rval = (int64_t)r->rax;
		i->exit.is_error = (int64_t)r->rax < 0 && (int64_t)r->rax >= -4095;
		return offsetof(struct __ptrace_syscall_info, exit.is_error) + 1;
	case NS_EVENT:
		if (seccomp_data != UINT32_MAX) {
			i->op = PTRACE_SYSCALL_INFO_SECCOMP;
			i->seccomp.nr = r->orig_rax;
			memcpy(i->seccomp.args, a, sizeof a);
			i->seccomp.ret_data = seccomp_data;
			return offsetof(struct __ptrace_syscall_info, seccomp.ret_data) + 4;
		}
		/* fallthrough */
	default:
		i->op = PTRACE_SYSCALL_INFO_NONE;
		return offsetof(struct __ptrace_syscall_info, entry);
	}
}

int64_t nr_syscall_info(struct nest_task *nt, struct proc *caller, uint64_t size, uint64_t at)
{
	struct __ptrace_syscall_info info;
	struct user_regs_struct r;
	int64_t e = nr_get_regs(nt, &r);
	if (e < 0)
		return e;
	uint32_t sd = nt->kind == NS_EVENT && (nt->code >> 8) == PTRACE_EVENT_SECCOMP ?
		      (uint32_t)nt->msg : UINT32_MAX;
	size_t len = nr_build_syscall_info(&info, nt->kind, &r, sd);
	if (size && (e = put_mem(caller, at, &info, MIN(size, len))) < 0)
		return e;
	return (int64_t)len;
}
