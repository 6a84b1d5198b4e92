/* Exits and SIGCHLD: the zombies nest keeps (for a tracer, then for the parent, as
 * the kernel hands a traced child's exit over), what a dying tracer or parent leaves
 * behind, and the SIGCHLD the kernel would send for emulated events.
 *
 * SIGCHLD for emulated events is queued by rewind with rt_sigqueueinfo (SI_QUEUE, a
 * cookie) and replaced by the kernel-shaped siginfo at its signal-delivery-stop. It is
 * sent only to a process that catches or blocks SIGCHLD or is traced (the kernel
 * drops it otherwise), and once at a time (a pending SIGCHLD absorbs the next). */
#include "nest_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHLD_COOKIE ((void *)0x7265776e64UL)   /* "rewnd" */

/* ---- /proc facts ---- */

/* The OR of signal masks of pid's /proc status (fields like "\nSigCgt:"). */
static uint64_t status_mask(pid_t pid, const char *field, const char *field2)
{
	char path[64], *text, *f;
	uint64_t m = 0;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) < 0)
		return 0;
	if ((f = strstr(text, field)))
		m = strtoull(f + strlen(field), NULL, 16);
	if (field2 && (f = strstr(text, field2)))
		m |= strtoull(f + strlen(field2), NULL, 16);
	free(text);
	return m;
}

#define CHLD_BIT (1ull << (SIGCHLD - 1))

static bool ignores_sigchld(pid_t pid)
{
	return status_mask(pid, "\nSigIgn:", NULL) & CHLD_BIT;
}

/* ---- SIGCHLD ---- */

void nw_wake(struct nest *n, pid_t waiter)
{
	for (struct nest_task *nt = n->tasks; nt; nt = nt->next) {
		if (!nt->parked || nt->park_kicked || nt->tgid != waiter)
			continue;
		struct task *t = target_find_task(n->tg, nt->tid);
		if (t && t->state == TS_RUNNING && task_interrupt(t) == 0)
			nt->park_kicked = true;
	}
}

void nw_notify(struct nest *n, pid_t waiter, const siginfo_t *si)
{
	struct proc *p = target_find_proc(n->tg, waiter);
	struct nest_proc *np = np_find(n, waiter);
	if (!p || p->snapshot || !np)
		return;
	if (!np->chld_inflight) {
		/* The kernel drops a SIGCHLD nobody catches or blocks, unless the process is
		 * traced (its tracer hears of every signal). A process seen catching it is
		 * taken to still catch it for a moment (a debugger hears of every step). */
		struct nest_task *lead = nt_find(n, waiter);
		uint64_t now = now_ns();
		bool wants = (lead && lead->tracer) || now < np->chld_caught_until;
		if (!wants && (status_mask(waiter, "\nSigCgt:", "\nSigBlk:") & CHLD_BIT)) {
			wants = true;
			np->chld_caught_until = now + 100 * 1000000ull;
		}
		siginfo_t q;
		memset(&q, 0, sizeof q);
		q.si_signo = SIGCHLD;
		q.si_code = SI_QUEUE;
		q.si_pid = n->self;
		q.si_uid = n->uid;
		q.si_value.sival_ptr = CHLD_COOKIE;
		if (wants && syscall(SYS_rt_sigqueueinfo, waiter, SIGCHLD, &q) == 0) {
			np->chld_inflight = true;
			np->chld = *si;
		}
	}
	nw_wake(n, waiter);
}

bool nw_early_sigchld(struct nest *n, struct nest_task *nt, const siginfo_t *sip)
{
	struct task *t = target_find_task(n->tg, nt->tid);
	siginfo_t si = *sip;
	if (!t || si.si_code <= 0 || si.si_code > CLD_DUMPED)
		return false;
	for (struct nest_zombie *z = n->zombies; z; z = z->next) {
		if (z->tgid != si.si_pid || z->then != nt->tgid || !z->then_real)
			continue;
		z->sig_owed = true;
		t->pending_sig = 0;
		pr_debug(LM_NEST, "pid %d: SIGCHLD for %d held back until its tracer collects it",
			 nt->tgid, z->tgid);
		if (nt->parked)
			nt_resume_as(n, nt, RESUME_CONT);   /* its pause() restarts */
		else
			nt_resume(n, nt);
		return true;
	}
	return false;
}

void nw_sigchld_stop(struct nest *n, struct nest_task *nt, siginfo_t *si)
{
	struct task *t = target_find_task(n->tg, nt->tid);
	struct nest_proc *np = np_find(n, nt->tgid);
	if (!t)
		return;
	bool mine = si->si_code == SI_QUEUE && si->si_pid == n->self &&
		    si->si_value.sival_ptr == CHLD_COOKIE;
	if (mine && np && np->chld_inflight && task_set_siginfo(t, &np->chld) == 0)
		*si = np->chld;
	/* Ours, or a kernel SIGCHLD that absorbed ours: either way none is in flight. */
	if (np)
		np->chld_inflight = false;
}

/* ---- zombies ---- */

void nw_zombie_free(struct nest_zombie *z)
{
	free(z);
}

static void zombie_push(struct nest *n, struct nest_zombie *z)
{
	struct nest_zombie **pp = &n->zombies;
	while (*pp)
		pp = &(*pp)->next;
	z->next = NULL;
	*pp = z;
}

static void zombie_unlink(struct nest *n, struct nest_zombie *z)
{
	for (struct nest_zombie **pp = &n->zombies; *pp; pp = &(*pp)->next)
		if (*pp == z) {
			*pp = z->next;
			return;
		}
}

bool nw_is_zombie(struct nest *n, pid_t pid)
{
	for (struct nest_zombie *z = n->zombies; z; z = z->next)
		if (z->tid == pid || (!z->thread && z->tgid == pid))
			return true;
	return false;
}

static void exit_info(siginfo_t *si, int status, pid_t pid, uid_t uid)
{
	int code, st;
	nw_status_to_info(status, false, &code, &st);
	memset(si, 0, sizeof *si);
	si->si_signo = SIGCHLD;
	si->si_code = code;
	si->si_pid = pid;
	si->si_uid = uid;
	si->si_status = st;
}

/* The tracer collected z: a traced process goes on to its parent (as the kernel's
 * ptrace unlink notifies the real parent then). Frees z. */
void nw_zombie_consume(struct nest *n, struct nest_zombie *z)
{
	zombie_unlink(n, z);
	if (z->then && np_find(n, z->then)) {
		z->waiter = z->then;
		z->waiter_tid = z->then_tid;
		z->real = z->then_real;
		z->ptrace = false;
		z->then = 0;
		z->seq = ++n->seq;
		zombie_push(n, z);
		siginfo_t si;
		exit_info(&si, z->status, z->tgid, z->uid);
		if (z->real && !z->sig_owed)
			nw_wake(n, z->waiter);   /* the kernel told the real parent already */
		else
			nw_notify(n, z->waiter, &si);
		return;
	}
	free(z);
}

void nw_task_exited(struct nest *n, pid_t tid, pid_t tgid, int status, bool leader)
{
	struct nest_task *nt = nt_find(n, tid);
	struct nest_proc *np = np_find(n, tgid);
	siginfo_t si;
	exit_info(&si, status, tid, np ? np->uid : getuid());
	if (nt && nt->tracer) {
		struct nest_zombie *z = xcalloc(1, sizeof *z);
		z->tid = tid;
		z->tgid = tgid;
		z->thread = !leader;
		z->waiter = nt->tracer_tgid;
		z->waiter_tid = nt->tracer;
		z->ptrace = true;
		z->wclone = np && np->wclone;
		z->status = status;
		z->uid = np ? np->uid : getuid();
		z->pgid = np ? np->pgid : tgid;
		z->born = np ? np->born : 0;
		z->seq = ++n->seq;
		if (leader && np && np->ppid) {
			if (np->ppid == nt->tracer_tgid) {
				z->real = np->real_ppid == np->ppid;
			} else {
				z->then = np->ppid;
				z->then_tid = np->ptid;
				z->then_real = np->real_ppid == np->ppid;
			}
		}
		zombie_push(n, z);
		nw_notify(n, z->waiter, &si);
	} else if (leader && np && np->ppid && !ignores_sigchld(np->ppid)) {
		struct nest_zombie *z = xcalloc(1, sizeof *z);
		z->tid = z->tgid = tgid;
		z->waiter = np->ppid;
		z->waiter_tid = np->ptid;
		z->wclone = np->wclone;
		z->status = status;
		z->uid = np->uid;
		z->pgid = np->pgid;
		z->born = np->born;
		z->real = np->real_ppid == np->ppid;
		z->seq = ++n->seq;
		zombie_push(n, z);
		if (z->real)
			nw_wake(n, z->waiter);
		else
			nw_notify(n, z->waiter, &si);
	}
	/* A tracer thread that dies frees its tracees (killing them with EXITKILL). */
	for (struct nest_task *x = n->tasks; x; x = x->next) {
		if (x->tracer != tid)
			continue;
		if (x->options & PTRACE_O_EXITKILL) {
			kill(x->tgid, SIGKILL);
			n->quiet_kills = true;
		}
		pr_debug(LM_NEST, "tid %d: its tracer %d is gone", x->tid, tid);
		nt_unlink(n, x, true);
	}
	if (!leader) {
		for (struct nest_task **pp = &n->tasks; *pp; pp = &(*pp)->next)
			if (*pp == nt) {
				*pp = nt->next;
				free(nt);
				break;
			}
		return;
	}
	/* The process is gone: what waited for it moves on, its children are orphans. */
	for (struct nest_zombie *z = n->zombies, *next; z; z = next) {
		next = z->next;
		if (z->waiter != tgid)
			continue;
		if (z->then && z->then != tgid)
			nw_zombie_consume(n, z);
		else {
			zombie_unlink(n, z);
			free(z);
		}
	}
	for (struct nest_proc *c = n->procs; c; c = c->next)
		if (c->ppid == tgid) {
			c->ppid = c->ptid = 0;
			if (c->real_ppid == tgid)
				c->real_ppid = n->self;   /* rewind is the subreaper */
		}
	for (struct nest_task **pp = &n->tasks; *pp;) {
		struct nest_task *x = *pp;
		if (x->tgid == tgid) {
			*pp = x->next;
			free(x);
		} else {
			pp = &x->next;
		}
	}
	for (struct nest_proc **pp = &n->procs; *pp; pp = &(*pp)->next)
		if (*pp == np) {
			*pp = np->next;
			free(np);
			break;
		}
}

