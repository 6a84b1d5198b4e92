#include "inject.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "disasm.h"
#include "log.h"
#include "maps.h"

bool inject_is_syscall_insn(struct proc *p, uint64_t addr)
{
	uint8_t b[2];
	return proc_read(p, RADDR(addr), b, 2) == 0 && b[0] == 0x0f && b[1] == 0x05;
}

static uint64_t scan_for_syscall(struct proc *p, const struct map_entry *m)
{
	size_t len = m->end - m->start;
	if (len > (1u << 20))
		len = 1u << 20;
	uint8_t *buf = xmalloc(len);
	uint64_t found = 0;
	if (proc_read(p, RADDR(m->start), buf, len) == 0) {
		for (size_t i = 0; i + 1 < len && !found; i++)
			if (buf[i] == 0x0f && buf[i + 1] == 0x05)
				found = m->start + i;
	}
	free(buf);
	return found;
}

uint64_t inject_find_syscall_insn(struct proc *p)
{
	if (p->syscall_insn && p->syscall_insn_gen == p->exec_gen)
		return p->syscall_insn;
	struct maps maps;
	if (maps_read(p->pid, &maps) < 0)
		return 0;
	uint64_t at = 0;
	const struct map_entry *v = maps_find_name(&maps, "[vdso]");
	if (v)
		at = scan_for_syscall(p, v);
	/* No vDSO (vdso=0): any executable mapping holding the two bytes will do. */
	for (size_t i = 0; !at && i < maps.n; i++)
		if ((maps.v[i].prot & PROT_EXEC) && maps.v[i].path[0] != '[')
			at = scan_for_syscall(p, &maps.v[i]);
	maps_free(&maps);
	p->syscall_insn = at;
	p->syscall_insn_gen = p->exec_gen;
	if (!at)
		pr_err(LM_CORE, "pid %d: no syscall instruction found to inject through", p->pid);
	return at;
}

/* Wait until a freshly created task reaches its first stop. */
static int wait_first_stop(struct target *tg, struct task *c)
{
	while (c->state == TS_RUNNING) {
		struct tev ev;
		int e = target_wait_task(tg, c, &ev);
		if (e < 0)
			return e;
		if (ev.kind == TEV_EXITED || ev.kind == TEV_THREAD_EXITED)
			return -ESRCH;
		if (ev.kind != TEV_INTERRUPT && ev.kind != TEV_GROUP_STOP)
			target_queue_push(tg, &ev);
	}
	return 0;
}

int inject_syscall(struct target *tg, struct task *t, long nr, const uint64_t args[6],
		   int64_t *ret, struct task **child)
{
	struct user_regs_struct *cur, saved, r;
	uint64_t mask;
	int e;

	if (child)
		*child = NULL;
	if (t->state != TS_STOPPED)
		return -ESRCH;
	if (t->in_syscall)
		return -EBUSY;
	uint64_t insn = inject_find_syscall_insn(t->proc);
	if (!insn)
		return -ENOEXEC;
	if ((e = task_get_regs(t, &cur)) < 0)
		return e;
	saved = *cur;
	if ((e = task_get_sigmask(t, &mask)) < 0)
		return e;
	int saved_sig = t->pending_sig;
	t->pending_sig = 0;
	/* The step over the syscall instruction ends in a SIGTRAP the kernel forces on
	 * the tracee at syscall exit (the tracer takes it as the step's stop). A forced
	 * signal that is blocked resets its handler to SIG_DFL: the program's SIGTRAP
	 * handler would be gone and its next int3 would kill it. So SIGTRAP stays
	 * unblocked. (One the program ignores is reset all the same, by this or any
	 * single step: a kernel rule that no tracer can avoid.) */
	task_set_sigmask(t, ~0ull & ~(1ull << (SIGTRAP - 1)));

	r = saved;
	r.rip = insn;
	r.rax = (uint64_t)nr;
	r.orig_rax = (uint64_t)-1;   /* not in a syscall: no restart logic on resume */
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	task_set_regs(t, &r);

	struct task *created = NULL;
	e = task_resume(t, RESUME_STEP);
	while (e == 0) {
		struct tev ev;
		int wr = target_wait_task(tg, t, &ev);
		if (wr < 0) {
			e = wr;
			break;
		}
		if (ev.kind == TEV_STEP)
			break;
		switch (ev.kind) {
		case TEV_FORK: case TEV_VFORK: case TEV_CLONE:
			created = ev.child;
			e = task_resume(t, RESUME_STEP);
			continue;
		case TEV_SECCOMP: case TEV_INTERRUPT: case TEV_GROUP_STOP:
		case TEV_SYSCALL_ENTRY: case TEV_SYSCALL_EXIT: case TEV_VFORK_DONE:
			e = task_resume(t, RESUME_STEP);
			continue;
		case TEV_EXITING:
			e = -ESRCH;
			break;
		case TEV_EXITED: case TEV_THREAD_EXITED:
			return -ESRCH;
		case TEV_SIGNAL:
			if (t->pending_sig == SIGTRAP && task_pc(t) == insn) {
				/* A breakpoint trap queued before we took over (its pc was set
				 * back onto the int3, which it will hit again): drop it. */
				t->pending_sig = 0;
				e = task_resume(t, RESUME_STEP);
				continue;
			}
			pr_err(LM_CORE, "tid %d: signal %d while injecting syscall %ld at %#lx",
			       t->tid, t->pending_sig, nr, (unsigned long)insn);
			t->pending_sig = 0;
			e = -EFAULT;
			break;
		default:
			pr_warn(LM_CORE, "tid %d: unexpected %s while injecting syscall %ld",
				t->tid, tev_name(ev.kind), nr);
			e = task_resume(t, RESUME_STEP);
			continue;
		}
		break;
	}
	if (e == 0 && task_get_regs(t, &cur) == 0)
		*ret = (int64_t)cur->rax;
	if (t->state == TS_STOPPED) {
		task_set_regs(t, &saved);
		task_set_sigmask(t, mask);
		t->pending_sig = saved_sig;
	}
	if (e == 0 && created) {
		int we = wait_first_stop(tg, created);
		if (we < 0)
			pr_warn(LM_CORE, "tid %d: new task %d died at birth", t->tid, created->tid);
		else if (child)
			*child = created;
	}
	pr_trace(LM_CORE, "tid %d: injected syscall %ld -> %ld (e=%d)", t->tid, nr,
		 e == 0 ? (long)*ret : 0L, e);
	return e;
}

int inject_syscall6(struct target *tg, struct task *t, long nr, int64_t *ret, uint64_t a0,
		    uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	const uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };
	return inject_syscall(tg, t, nr, args, ret, NULL);
}
