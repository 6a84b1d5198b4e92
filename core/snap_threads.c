/* Threads: fork copies only the calling thread, so every thread's state is saved at
 * checkpoint and the other threads are recreated at restore with an injected
 * clone3(CLONE_THREAD, set_tid) in the restored leader.
 *
 * clear_child_tid has no getter but prctl(PR_GET_TID_ADDRESS) (CONFIG_CHECKPOINT_RESTORE,
 * injected). glibc points it at its struct pthread's tid field (fs_base + 0x2d0) in
 * every thread it makes, and at startup in the main thread: when that word holds the
 * thread's own tid (it can only be glibc's TCB then: a thread without its own TLS sees
 * its creator's tid there), that address is used without injecting; otherwise the
 * prctl is asked (non-glibc threads, raw clones). A program that moved it with
 * set_tid_address itself is not noticed. */
#include "snap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif

void snap_thread_free(struct snap_thread *st)
{
	free(st->xstate);
	st->xstate = NULL;
	vec_free(&st->pending);
}

static void read_comm(pid_t pid, pid_t tid, char comm[16])
{
	char path[64], buf[32];
	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
	comm[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	size_t len = MIN(strcspn(buf, "\n"), (size_t)15);
	memcpy(comm, buf, len);
	comm[len] = 0;
}

/* Thread names can only be written by the thread group itself: PR_SET_NAME in t. */
static int put_comm(struct target *tg, struct task *t, const char *comm)
{
	struct scratch sc;
	int64_t r;
	int e = scratch_begin(t, 16, &sc);
	if (e < 0)
		return e;
	if (!(e = scratch_put(&sc, 0, comm, strlen(comm) + 1)))
		e = snap_sys_ok(tg, t, SYS_prctl, &r, PR_SET_NAME, scratch_addr(&sc, 0), 0, 0, 0, 0);
	int e2 = scratch_end(&sc, NULL);
	return e ? e : e2;
}

/* Ask t (injected) for its clear_child_tid and/or its sigaltstack. */
static int ask_thread(struct target *tg, struct task *t, struct snap_thread *st, bool ctid,
		      bool altstack)
{
	struct scratch sc;
	int64_t r;
	if (!ctid && !altstack)
		return 0;
	int e = scratch_begin(t, 32, &sc);
	if (e < 0)
		return e;
	uint64_t zero[4] = { 0 };
	if ((e = scratch_put(&sc, 0, zero, sizeof zero)) < 0)
		goto out;
	if (ctid) {
		if ((e = snap_sys(tg, t, SYS_prctl, &r, PR_GET_TID_ADDRESS, scratch_addr(&sc, 24), 0,
				  0, 0, 0)) < 0)
			goto out;
		if (r == 0)
			scratch_get(&sc, 24, &st->ctid, 8);
	}
	if (altstack) {
		if ((e = snap_sys_ok(tg, t, SYS_sigaltstack, &r, 0, scratch_addr(&sc, 0), 0, 0, 0,
				     0)) < 0)
			goto out;
		stack_t ss;
		if ((e = scratch_get(&sc, 0, &ss, sizeof ss)) < 0)
			goto out;
		st->has_altstack = !(ss.ss_flags & SS_DISABLE);
		st->ss_sp = (uint64_t)ss.ss_sp;
		st->ss_size = ss.ss_size;
		st->ss_flags = ss.ss_flags & ~(SS_ONSTACK | SS_DISABLE);
	}
out:
	{
		int e2 = scratch_end(&sc, NULL);
		return e ? e : e2;
	}
}

static int save_one(struct target *tg, struct snap_proc *sp, struct task *t, bool leader,
		    struct snap_thread *st)
{
	struct user_regs_struct *r;
	uint8_t *xs;
	size_t xl;
	int e;

	st->tid = t->tid;
	st->num = t->num;
	st->last_ev = t->last_ev;
	if ((e = task_get_regs(t, &r)) < 0)
		goto fail;
	st->regs = *r;
	if ((e = task_get_xstate(t, &xs, &xl)) < 0)
		goto fail;
	st->xstate = xmalloc(xl);
	memcpy(st->xstate, xs, xl);
	st->xstate_len = xl;
	if ((e = task_get_sigmask(t, &st->sigmask)) < 0)
		goto fail;

	uint64_t head = 0;
	size_t hlen = 0;
	if (syscall(SYS_get_robust_list, t->tid, &head, &hlen) < 0) {
		e = -errno;
		goto fail;
	}
	st->robust_head = head;
	st->robust_len = hlen;

	struct __ptrace_rseq_configuration rc;
	memset(&rc, 0, sizeof rc);
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof rc, &rc) > 0) {
		st->rseq_ptr = rc.rseq_abi_pointer;
		st->rseq_len = rc.rseq_abi_size;
		st->rseq_sig = rc.signature;
	}

	st->stop_sig = t->pending_sig;
	if (st->stop_sig && task_get_siginfo(t, &st->stop_si) < 0) {
		memset(&st->stop_si, 0, sizeof st->stop_si);
		st->stop_si.si_signo = st->stop_sig;
		st->stop_si.si_code = SI_KERNEL;
	}
	if ((e = snap_peek_signals(t->tid, false, &st->pending)) < 0)
		goto fail;
	st->has_affinity = sched_getaffinity(t->tid, sizeof st->affinity, &st->affinity) == 0;

	/* The glibc tid field: clear_child_tid, and where fresh tids are written. */
	uint32_t cached = 0;
	uint64_t field = st->regs.fs_base + SNAP_GLIBC_TID_OFF;
	bool glibc = st->regs.fs_base &&
		     proc_read_raw(sp->live, RADDR(field), &cached, 4) == 0 &&
		     cached == (uint32_t)t->tid;
	if (glibc)
		st->ctid = field;
	else
		sp->tid_off_ok = false;
	read_comm(sp->pid, t->tid, st->comm);
	/* A new thread gets the leader's name: only a different one is set at restore. */
	if (!leader && !strcmp(st->comm, sp->threads.v[0].comm))
		st->comm[0] = 0;
	/* fork keeps the leader's sigaltstack; a new thread needs its own. */
	if ((e = ask_thread(tg, t, st, !glibc, !leader)) < 0)
		goto fail;
	return 0;
fail:
	pr_err(LM_SNAP, "pid %d tid %d: cannot save thread state: %s", sp->pid, t->tid,
	       strerror(-e));
	return e;
}

int snap_threads_save(struct target *tg, struct snap_proc *sp, struct sbuf *problems)
{
	struct proc *p = sp->live;
	struct task *lead = proc_task(p, p->pid);
	if (!lead || lead->exiting) {
		sbuf_printf(problems, "pid %d: its main thread has %s; such a process cannot be "
			    "checkpointed\n", p->pid, lead ? "started to exit" : "exited");
		return lead ? -ESRCH : -EOPNOTSUPP;
	}
	sp->tid_off_ok = true;
	struct snap_thread st;
	memset(&st, 0, sizeof st);
	int e = save_one(tg, sp, lead, true, &st);
	vec_push(&sp->threads, st);
	if (e < 0)
		return e;
	for (struct task *t = p->tasks; t; t = t->next) {
		/* A thread at its exit stop is gone as far as the program can tell. */
		if (t == lead || t->state == TS_DEAD || t->exiting)
			continue;
		memset(&st, 0, sizeof st);
		e = save_one(tg, sp, t, false, &st);
		vec_push(&sp->threads, st);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Set the sigaltstack of t, a new thread (none yet, so even a thread restored inside a
 * handler running on that stack may set it). */
static int put_altstack(struct target *tg, struct task *t, const struct snap_thread *st)
{
	struct scratch sc;
	int64_t r;
	int e = scratch_begin(t, 32, &sc);
	if (e < 0)
		return e;
	stack_t ss = { .ss_sp = (void *)st->ss_sp, .ss_flags = st->ss_flags,
		       .ss_size = st->ss_size };
	if (!(e = scratch_put(&sc, 0, &ss, sizeof ss)))
		e = snap_sys_ok(tg, t, SYS_sigaltstack, &r, scratch_addr(&sc, 0), 0, 0, 0, 0, 0);
	int e2 = scratch_end(&sc, NULL);
	return e ? e : e2;
}

int snap_thread_put(struct target *tg, struct task *t, struct snap_thread *st,
		    bool leader)
{
	struct user_regs_struct r = st->regs;
	int64_t ret;
	int e;

	/* A syscall interrupted with -ERESTART_RESTARTBLOCK continues through the task's
	 * restart_block, which a new task does not have (it would fail with EINTR): run
	 * the original syscall again instead (its arguments are still in registers). The
	 * other restart codes are handled by the kernel when the task leaves this stop. */
	if ((int64_t)r.orig_rax >= 0 && (int64_t)r.rax == -SNAP_ERESTART_RESTARTBLOCK) {
		r.rax = r.orig_rax;
		r.rip -= 2;
		r.orig_rax = (uint64_t)-1;
	}
	if ((e = task_set_regs(t, &r)) < 0)
		goto fail;
	if ((e = task_set_xstate(t, st->xstate, st->xstate_len)) < 0)
		goto fail;
	if ((e = task_set_sigmask(t, st->sigmask)) < 0)
		goto fail;
	if (st->robust_head &&
	    (e = snap_sys_ok(tg, t, SYS_set_robust_list, &ret, st->robust_head, st->robust_len,
			     0, 0, 0, 0)) < 0)
		goto fail;
	if (st->rseq_ptr) {
		/* fork keeps the caller's registration; a new thread has none. */
		struct __ptrace_rseq_configuration rc;
		memset(&rc, 0, sizeof rc);
		ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, (void *)sizeof rc, &rc);
		if (rc.rseq_abi_pointer != st->rseq_ptr &&
		    (e = snap_sys_ok(tg, t, SYS_rseq, &ret, st->rseq_ptr, st->rseq_len, 0,
				     st->rseq_sig, 0, 0)) < 0)
			goto fail;
	}
	if (!leader) {
		/* fork keeps the caller's sigaltstack and name; a new thread has neither. */
		if (st->has_altstack && (e = put_altstack(tg, t, st)) < 0)
			goto fail;
		if (st->comm[0] && (e = put_comm(tg, t, st->comm)) < 0)
			goto fail;
	}
	if (t->tid != st->tid && st->regs.fs_base &&
	    st->ctid == st->regs.fs_base + SNAP_GLIBC_TID_OFF) {
		/* A fresh tid: glibc's cached one must follow (raise, pthread_kill use it). */
		uint32_t tid = (uint32_t)t->tid;
		proc_write_raw(t->proc, RADDR(st->ctid), &tid, 4);
	}
	if ((e = snap_thread_signals_restore(tg, t, st)) < 0)
		goto fail;
	st->rest = t;                  /* its affinity is set last */
	t->num = st->num;
	if (st->last_ev != TEV_SYSCALL_ENTRY && st->last_ev != TEV_SYSCALL_EXIT &&
	    st->last_ev != TEV_SECCOMP)
		t->last_ev = st->last_ev;
	t->new_task = false;
	return 0;
fail:
	pr_err(LM_SNAP, "pid %d tid %d: cannot restore thread state: %s", t->proc->pid, t->tid,
	       strerror(-e));
	return e;
}

/* clone3 in the restored leader for thread st; *out is the new task. */
static int clone_thread(struct target *tg, struct task *lead, const struct snap_thread *st,
			bool set_tid, struct task **out, int64_t *ret)
{
	struct scratch sc;
	struct clone_args ca;
	int e = scratch_begin(lead, sizeof ca + 8, &sc);
	if (e < 0)
		return e;
	memset(&ca, 0, sizeof ca);
	ca.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		   CLONE_SYSVSEM | CLONE_SETTLS | (st->ctid ? CLONE_CHILD_CLEARTID : 0);
	ca.child_tid = st->ctid;
	ca.tls = st->regs.fs_base;
	if (set_tid) {
		pid_t tid = st->tid;
		ca.set_tid = scratch_addr(&sc, sizeof ca);
		ca.set_tid_size = 1;
		if ((e = scratch_put(&sc, sizeof ca, &tid, sizeof tid)) < 0)
			goto out;
	}
	if ((e = scratch_put(&sc, 0, &ca, sizeof ca)) < 0)
		goto out;
	const uint64_t args[6] = { scratch_addr(&sc, 0), sizeof ca };
	e = inject_syscall(tg, lead, SYS_clone3, args, ret, out);
	if (e == 0 && *ret >= 0 && !*out)
		e = -ESRCH;
out:
	{
		int e2 = scratch_end(&sc, NULL);
		return e ? e : e2;
	}
}

int snap_threads_recreate(struct target *tg, struct snap_proc *sp, struct proc *r,
			  bool same_tids, struct sbuf *problems)
{
	struct task *lead = proc_task(r, r->pid);
	if (!lead)
		return -ESRCH;
	for (size_t i = 1; i < sp->threads.n; i++) {
		struct snap_thread *st = &sp->threads.v[i];
		struct task *nt = NULL;
		int64_t ret = 0;
		int e = clone_thread(tg, lead, st, same_tids, &nt, &ret);
		if (e == 0 && same_tids && (ret == -EEXIST || ret == -EPERM)) {
			sbuf_printf(problems, "pid %d: tid %d %s; thread restored as a new tid\n",
				    r->pid, st->tid, ret == -EEXIST ? "is taken by another process"
				    : "cannot be chosen (no privilege)");
			e = clone_thread(tg, lead, st, false, &nt, &ret);
		}
		if (e == 0 && ret < 0)
			e = (int)ret;
		if (e < 0) {
			pr_err(LM_SNAP, "pid %d: cannot recreate thread %d: %s", r->pid, st->tid,
			       strerror(-e));
			sbuf_printf(problems, "pid %d: thread %d could not be recreated: %s\n", r->pid,
				    st->tid, strerror(-e));
			return e;
		}
		if ((e = snap_thread_put(tg, nt, st, false)) < 0) {
			sbuf_printf(problems, "pid %d: the state of thread %d could not be put back: "
				    "%s\n", r->pid, st->tid, strerror(-e));
			return e;
		}
	}
	return 0;
}
