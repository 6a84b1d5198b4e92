/* Restore: kill the current incarnation of the tree, fork each checkpoint again with
 * its pid (clone3 set_tid), recreate the other threads, and put back what fork does not
 * carry (snap_threads.c, snap_fds.c, snap_shm.c, snap_signals.c).
 *
 * The restored process is forked with CLONE_PARENT from its checkpoint, whose parent is
 * rewind once the process it was taken from has died: every restored process is
 * rewind's child with exit signal SIGCHLD. A restored child's parent therefore does not
 * see it with wait4/waitid, and its SIGCHLD goes to rewind; proc->parent_pid keeps the
 * original relation for the engine to emulate them. */
#include "snap_int.h"

#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static bool ckpt_gone(const struct snap_proc *sp)
{
	if (!sp->ckpt || sp->ckpt->dead)
		return true;
	for (struct task *t = sp->ckpt->tasks; t; t = t->next)
		if (t->exiting || t->state != TS_STOPPED)
			return true;
	struct pollfd pfd = { sp->ckpt_pidfd, POLLIN, 0 };
	return poll(&pfd, 1, 0) != 0 || snap_dying(sp->ckpt->pid);
}

bool snap_alive(const struct snapshot *s)
{
	for (size_t i = 0; i < s->procs.n; i++)
		if (ckpt_gone(snap_src(s, i)))
			return false;
	return true;
}

/* Resident bytes of a process, from /proc/PID/statm. */
static uint64_t resident(pid_t pid)
{
	char path[64], *text;
	unsigned long long size = 0, rss = 0;
	snprintf(path, sizeof path, "/proc/%d/statm", pid);
	if (read_file(path, &text, NULL) < 0)
		return 0;
	sscanf(text, "%llu %llu", &size, &rss);
	free(text);
	return rss * (uint64_t)getpagesize();
}

/* Tearing down a large address space takes about as long as forking it. Before such a
 * process is killed, an injected clone(CLONE_VM) makes a holder that keeps the address
 * space alive: the process then dies (and frees its pid) at once, and the holder, killed
 * once the restored processes exist, tears the memory down on another CPU while the
 * program runs on. Holders are forgotten once dead (seen at the next restore of s),
 * and waited for when s is dropped. */
#define HOLDER_MIN_RSS (32ull << 20)

static void make_holder(struct target *tg, struct snapshot *s, struct proc *p,
			struct snap_pin *pn)
{
	struct task *lead = proc_task(p, p->pid);
	if (!lead || lead->state != TS_STOPPED || lead->in_syscall || lead->exiting ||
	    resident(p->pid) < HOLDER_MIN_RSS)
		return;
	cpu_set_t old, one;
	bool have_old = sched_getaffinity(lead->tid, sizeof old, &old) == 0;
	/* Pinned for the injection, not recorded: the restored process reuses the tid. */
	CPU_ZERO(&one);
	CPU_SET(pn->cpu, &one);
	if (pn->self)
		sched_setaffinity(lead->tid, sizeof one, &one);
	struct proc *h;
	uint64_t flags = CLONE_VM;
	if (snap_real_parent(p->pid) == getpid())
		flags |= CLONE_PARENT | SIGCHLD;
	if (snap_inject_fork(tg, lead, flags, &h) < 0)
		return;             /* the plain way then */
	/* In p's group and session, it would keep their ids (pids of the tree when a
	 * process of it leads them) in use and the restore could not give them back. */
	snap_holder_leave(tg, h);
	snap_quiet_death(h);
	/* Away from rewind's CPU: woken by its SIGKILL there, it would preempt rewind for
	 * the whole teardown. */
	if (have_old) {
		cpu_set_t away = old;
		CPU_CLR(pn->cpu, &away);
		sched_setaffinity(h->pid, sizeof away, CPU_COUNT(&away) ? &away : &old);
	}
	vec_push(&s->holders, h);
}

/* Forget the holders that are gone; with wait, kill and reap the others too. */
void snap_reap_holders(struct target *tg, struct snapshot *s, bool wait)
{
	size_t j = 0;
	for (size_t i = 0; i < s->holders.n; i++) {
		struct proc *h = s->holders.v[i];
		if (!h->dead && wait)
			target_kill(tg, h);
		if (h->dead)
			target_forget(tg, h);
		else
			s->holders.v[j++] = h;
	}
	s->holders.n = j;
}

/* Kill every live process of the target, so that their pids are free again. */
static void kill_current(struct target *tg, struct snapshot *s, struct snap_pin *pn)
{
	for (struct proc *p = tg->procs; p; p = p->next)
		if (!p->dead && !p->snapshot)
			make_holder(tg, s, p, pn);
	for (struct proc *p = tg->procs; p; p = p->next)
		if (!p->dead && !p->snapshot) {
			snap_quiet_death(p);
			kill(p->pid, SIGKILL);
		}
	for (struct proc *p = tg->procs; p; p = p->next)
		if (!p->dead && !p->snapshot)
			target_kill(tg, p);
	/* A process whose real parent was another traced one stayed that parent's zombie
	 * after we reaped it; it came back to us when the parent died: reap it now. */
	for (size_t i = 0; i < s->procs.n; i++) {
		pid_t pid = s->procs.v[i].pid;
		if (!target_find_task(tg, pid))
			while (waitpid(pid, NULL, WNOHANG | __WALL) > 0)
				;
	}
	/* So did children that exited before, unwaited for; they hold their process group
	 * and session ids, which may be the pids to restore. */
	snap_reap_tree_zombies(tg, s);
}

/* clone3 in the checkpoint process ckpt: the new process, with pid sp->pid when set_tid. */
static int fork_ckpt(struct target *tg, struct proc *ckpt, struct snap_proc *sp, bool set_tid,
		     struct task **out, int64_t *ret)
{
	struct task *ct = proc_main_task(ckpt);
	const struct snap_thread *lead = &sp->threads.v[0];
	struct clone_args ca;
	struct scratch sc;
	int e = scratch_begin(ct, sizeof ca + 8, &sc);
	if (e < 0)
		return e;
	memset(&ca, 0, sizeof ca);
	/* CLONE_PARENT: rewind's child (the checkpoint's parent is rewind once the process
	 * it was taken from is dead), exit signal that of the checkpoint: SIGCHLD. */
	ca.flags = CLONE_PARENT | (lead->ctid ? CLONE_CHILD_CLEARTID : 0);
	ca.child_tid = lead->ctid;
	if (set_tid) {
		pid_t pid = sp->pid;
		ca.set_tid = scratch_addr(&sc, sizeof ca);
		ca.set_tid_size = 1;
		e = scratch_put(&sc, sizeof ca, &pid, sizeof pid);
	}
	if (!e)
		e = scratch_put(&sc, 0, &ca, sizeof ca);
	*out = NULL;
	if (!e) {
		const uint64_t args[6] = { scratch_addr(&sc, 0), sizeof ca };
		e = inject_syscall(tg, ct, SYS_clone3, args, ret, out);
		if (!e && *ret >= 0 && !*out)
			e = -ESRCH;
	}
	/* The child inherited the borrowed bytes too. */
	int e2 = scratch_end(&sc, *out ? (*out)->proc : NULL);
	return e ? e : e2;
}

static int restore_proc(struct target *tg, struct snapshot *s, size_t i, struct sbuf *problems)
{
	struct snap_proc *sp = &s->procs.v[i];
	struct proc *ckpt = snap_src(s, i)->ckpt;
	struct task *t = NULL;
	int64_t ret = 0;
	int e = fork_ckpt(tg, ckpt, sp, true, &t, &ret);
	/* The killed incarnation of a process whose parent is not rewind (an attached one)
	 * stays that parent's zombie, holding the pid, until the parent waits for it; a
	 * child that exited or was reparented to us is reaped. */
	for (int k = 0; k < 200 && !e && ret == -EEXIST && snap_pid_freeing(tg, sp->pid); k++) {
		usleep(1000);
		e = fork_ckpt(tg, ckpt, sp, true, &t, &ret);
	}
	if (!e && (ret == -EPERM || ret == -EEXIST)) {
		struct sbuf why = { 0 };
		if (ret == -EEXIST) {
			sbuf_puts(&why, "the pid is still taken ");
			snap_describe_pid_user(sp->pid, &why);
		} else {
			sbuf_puts(&why, "choosing a pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE");
		}
		e = fork_ckpt(tg, ckpt, sp, false, &t, &ret);
		if (!e && ret > 0)
			sbuf_printf(problems, "pid %d: %s; restored as pid %d (the program may notice)"
				    "\n", sp->pid, sbuf_str(&why), (int)ret);
		sbuf_free(&why);
	}
	if (!e && ret < 0)
		e = (int)ret;
	if (e < 0) {
		pr_err(LM_SNAP, "pid %d: cannot fork checkpoint %d: %s", sp->pid, ckpt->pid,
		       strerror(-e));
		sbuf_printf(problems, "pid %d: its checkpoint could not be forked: %s\n", sp->pid,
			    strerror(-e));
		return e;
	}
	struct proc *r = t->proc;
	sp->rest = r;
	if ((e = snap_delta_apply(tg, s, i, r)) < 0) {
		sbuf_printf(problems, "pid %d: the pages of the compacted checkpoint could not be "
			    "written back: %s\n", sp->pid, strerror(-e));
		return e;
	}
	r->num = sp->num;
	r->parent_pid = sp->parent_pid;
	r->attached = sp->attached;
	proc_bp_forget_all(r);
	for (size_t k = 0; k < sp->sites.n; k++)
		vec_push(&r->sites, sp->sites.v[k]);
	memcpy(r->hw, sp->hw, sizeof r->hw);
	r->hw_gen++;
	r->syscall_insn = sp->syscall_insn;
	r->syscall_insn_gen = r->exec_gen;
	r->tags = sp->tags;
	r->inherited = true;
	if ((e = snap_thread_put(tg, t, &sp->threads.v[0], true)) < 0) {
		sbuf_printf(problems, "pid %d: the state of its main thread could not be put "
			    "back: %s\n", sp->pid, strerror(-e));
		return e;
	}
	return snap_threads_recreate(tg, sp, r, r->pid == sp->pid, problems);
}

int snap_restore(struct target *tg, struct snapshot *s, struct sbuf *problems)
{
	int e = 0;
	for (size_t i = 0; i < s->procs.n; i++) {
		const struct snap_proc *sp = snap_src(s, i);
		if (!ckpt_gone(sp))
			continue;
		sbuf_printf(problems, "the checkpoint process of pid %d (pid %d) is gone (killed "
			    "from outside?); this checkpoint cannot be restored\n", sp->pid,
			    sp->ckpt ? sp->ckpt->pid : 0);
		pr_err(LM_SNAP, "pid %d: checkpoint process %d is gone", sp->pid,
		       sp->ckpt ? sp->ckpt->pid : 0);
		return -ESRCH;
	}
	uint64_t t0 = now_ns();
	struct snap_pin pn;
	snap_pin_begin(&pn);
	for (size_t i = 0; i < s->procs.n; i++)
		snap_pin_task(&pn, snap_src(s, i)->ckpt->pid);
	snap_reap_holders(tg, s, false);     /* an earlier restore's may still be tearing down */
	kill_current(tg, s, &pn);
	uint64_t t1 = now_ns();
	for (size_t i = 0; i < s->procs.n && !e; i++)
		e = restore_proc(tg, s, i, problems);
	if (!e)
		snap_groups_restore(tg, s, problems);
	if (!e)
		e = snap_fds_restore(tg, s, problems);
	for (size_t i = 0; i < s->procs.n && !e; i++) {
		struct snap_proc *sp = &s->procs.v[i];
		if ((e = snap_shm_restore(sp, sp->rest)) < 0)
			sbuf_printf(problems, "pid %d: shared memory could not be written back: %s\n",
				    sp->pid, strerror(-e));
		else if ((e = snap_signals_restore(tg, sp, proc_task(sp->rest, sp->rest->pid),
						   problems)) < 0)
			sbuf_printf(problems, "pid %d: signals and timers could not be put back: %s\n",
				    sp->pid, strerror(-e));
	}
	/* The restored tasks inherited the pinning: give them their own affinity. */
	for (size_t i = 0; i < s->procs.n; i++)
		for (size_t k = 0; k < s->procs.v[i].threads.n; k++) {
			struct snap_thread *st = &s->procs.v[i].threads.v[k];
			if (!e && st->rest && st->has_affinity)
				sched_setaffinity(st->rest->tid, sizeof st->affinity, &st->affinity);
			st->rest = NULL;
		}
	snap_pin_end(&pn);
	/* The old address spaces go now, in the holders' time, on another CPU. */
	for (size_t i = 0; i < s->holders.n; i++)
		kill(s->holders.v[i]->pid, SIGKILL);
	pr_debug(LM_SNAP, "restore of %zu process(es) in %lu us (%lu us killing the current ones): "
		 "%s", s->procs.n, (unsigned long)(now_ns() - t0) / 1000,
		 (unsigned long)(t1 - t0) / 1000, e ? strerror(-e) : "ok");
	/* A failed restore leaves nothing half-made behind; the checkpoint stays usable. */
	for (size_t i = 0; i < s->procs.n; i++) {
		struct snap_proc *sp = &s->procs.v[i];
		if (e < 0 && sp->rest && !sp->rest->dead)
			target_kill(tg, sp->rest);
		sp->rest = NULL;
	}
	return e;
}
