/* Signals and timers: fork gives the child no pending signals, no interval timers and
 * no POSIX timers (handlers, masks and alarm-free state are inherited). Pending
 * signals are read with PTRACE_PEEKSIGINFO and queued again at restore by the
 * receiving thread itself (rt_tgsigqueueinfo/rt_sigqueueinfo from the target keep
 * every si_code, kernel ones included). Interval timers are read with an injected
 * getitimer (ITIMER_REAL always; VIRTUAL/PROF only when their signal is caught, since
 * their default action kills), POSIX timers from /proc/PID/timers plus an injected
 * timer_gettime, and both are re-armed at restore with the time that was left;
 * timers keep their ids through prctl(PR_TIMER_CREATE_RESTORE_IDS). */
#include "snap_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif

/* The kernel's struct sigevent (64 bytes). */
struct ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

int snap_peek_signals(pid_t tid, bool shared, siginfo_vec *out)
{
	siginfo_t buf[16];
	struct __ptrace_peeksiginfo_args a = { 0, shared ? PTRACE_PEEKSIGINFO_SHARED : 0, 16 };
	for (;;) {
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, buf);
		if (n < 0) {
			int e = -errno;
			pr_err(LM_SNAP, "tid %d: PTRACE_PEEKSIGINFO: %s", tid, strerror(errno));
			return e;
		}
		for (long i = 0; i < n; i++)
			vec_push(out, buf[i]);
		if (n < 16)
			return 0;
		a.off += (uint64_t)n;
	}
}

static int cmp_timer(const void *a, const void *b)
{
	const struct snap_ptimer *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* POSIX timers from /proc/PID/timers ("ID: 3\nsignal: 35/000..1234\n
 * notify: signal/tid.77\nClockID: 1\n" per timer). */
static int read_timers(struct snap_proc *sp)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/timers", sp->pid);
	int e = read_file(path, &text, NULL);
	if (e < 0)
		return e == -ENOENT ? 0 : e;
	struct snap_ptimer t;
	memset(&t, 0, sizeof t);
	bool have = false;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char kind[16] = "", who[8] = "";
		unsigned long long v;
		int n;
		if (sscanf(line, "ID: %d", &n) == 1) {
			if (have)
				vec_push(&sp->timers, t);
			memset(&t, 0, sizeof t);
			t.id = n;
			have = true;
		} else if (sscanf(line, "signal: %d/%llx", &n, &v) == 2) {
			t.signo = n;
			t.value = v;
		} else if (sscanf(line, "notify: %15[a-z]/%7[a-z].%d", kind, who, &n) == 3) {
			t.notify = !strcmp(kind, "none") ? SIGEV_NONE :
				   !strcmp(kind, "thread") ? SIGEV_THREAD : SIGEV_SIGNAL;
			if (!strcmp(who, "tid"))
				t.notify |= SIGEV_THREAD_ID;
			t.notify_tid = n;
		} else if (sscanf(line, "ClockID: %d", &n) == 1) {
			t.clock = n;
		}
	}
	if (have)
		vec_push(&sp->timers, t);
	free(text);
	if (sp->timers.n > 1)           /* qsort's base must not be NULL, even for 0 items */
		qsort(sp->timers.v, sp->timers.n, sizeof *sp->timers.v, cmp_timer);
	return 0;
}

int snap_signals_save(struct target *tg, struct snap_proc *sp)
{
	struct task *lead = proc_task(sp->live, sp->pid);
	struct scratch sc;
	int64_t r;
	int e;
	if ((e = snap_peek_signals(sp->pid, true, &sp->shared_pending)) < 0)
		return e;
	if ((e = read_timers(sp)) < 0) {
		pr_err(LM_SNAP, "pid %d: cannot read its POSIX timers: %s", sp->pid, strerror(-e));
		return e;
	}
	if ((e = scratch_begin(lead, sizeof(struct itimerspec), &sc)) < 0)
		return e;
	static const int sigs[3] = { SIGALRM, SIGVTALRM, SIGPROF };
	for (int w = 0; w < 3 && !e; w++) {
		if (w > 0 && !(sp->sigcgt & (1ull << (sigs[w] - 1))))
			continue;
		e = snap_sys_ok(tg, lead, SYS_getitimer, &r, (uint64_t)w, scratch_addr(&sc, 0), 0, 0,
				0, 0);
		if (!e)
			e = scratch_get(&sc, 0, &sp->itimers[w], sizeof sp->itimers[w]);
	}
	for (size_t i = 0; i < sp->timers.n && !e; i++) {
		struct snap_ptimer *t = &sp->timers.v[i];
		e = snap_sys_ok(tg, lead, SYS_timer_gettime, &r, (uint64_t)t->id,
				scratch_addr(&sc, 0), 0, 0, 0, 0);
		if (!e)
			e = scratch_get(&sc, 0, &t->its, sizeof t->its);
	}
	int e2 = scratch_end(&sc, NULL);
	if (e < 0)
		pr_err(LM_SNAP, "pid %d: cannot read its timers: %s", sp->pid, strerror(-e));
	return e ? e : e2;
}

/* Queue si again in t (the thread itself, or the process when shared). */
static int requeue(struct target *tg, struct task *t, const siginfo_t *si, bool shared,
		   struct scratch *sc)
{
	int64_t r;
	int e = scratch_put(sc, 0, si, sizeof *si);
	if (e < 0)
		return e;
	if (shared)
		return snap_sys_ok(tg, t, SYS_rt_sigqueueinfo, &r, (uint64_t)t->proc->pid,
				   (uint64_t)si->si_signo, scratch_addr(sc, 0), 0, 0, 0);
	return snap_sys_ok(tg, t, SYS_rt_tgsigqueueinfo, &r, (uint64_t)t->proc->pid,
			   (uint64_t)t->tid, (uint64_t)si->si_signo, scratch_addr(sc, 0), 0, 0);
}

int snap_thread_signals_restore(struct target *tg, struct task *t, const struct snap_thread *st)
{
	if (!st->stop_sig && !st->pending.n)
		return 0;
	struct scratch sc;
	int e = scratch_begin(t, sizeof(siginfo_t), &sc);
	if (e < 0)
		return e;
	/* The signal a signal-delivery-stop held was dequeued already: it goes first.
	 * (A restored task sits at an interrupt stop, where a resume signal is ignored.) */
	if (st->stop_sig)
		e = requeue(tg, t, &st->stop_si, false, &sc);
	for (size_t i = 0; i < st->pending.n && !e; i++)
		e = requeue(tg, t, &st->pending.v[i], false, &sc);
	int e2 = scratch_end(&sc, NULL);
	return e ? e : e2;
}

static int rearm_timers(struct target *tg, struct snap_proc *sp, struct task *t,
			struct scratch *sc, struct sbuf *problems)
{
	int64_t r;
	int e = snap_sys(tg, t, SYS_prctl, &r, PR_TIMER_CREATE_RESTORE_IDS,
			 PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0, 0);
	if (e < 0)
		return e;
	bool exact = r == 0;
	/* Without the prctl, ids are handed out in order: create them in id order. */
	for (size_t i = 0; i < sp->timers.n && !e; i++) {
		const struct snap_ptimer *pt = &sp->timers.v[i];
		struct ksigevent sev;
		memset(&sev, 0, sizeof sev);
		sev.value = pt->value;
		sev.signo = pt->signo;
		sev.notify = pt->notify;
		sev.tid = pt->notify_tid;
		int32_t id = pt->id;
		if ((e = scratch_put(sc, 0, &sev, sizeof sev)) < 0 ||
		    (e = scratch_put(sc, 64, &id, sizeof id)) < 0 ||
		    (e = scratch_put(sc, 72, &pt->its, sizeof pt->its)) < 0)
			break;
		if ((e = snap_sys_ok(tg, t, SYS_timer_create, &r, (uint64_t)pt->clock,
				     scratch_addr(sc, 0), scratch_addr(sc, 64), 0, 0, 0)) < 0)
			break;
		if ((e = scratch_get(sc, 64, &id, sizeof id)) < 0)
			break;
		if (id != pt->id)
			sbuf_printf(problems, "pid %d: POSIX timer %d came back as timer %d%s\n",
				    t->proc->pid, pt->id, id, exact ? "" :
				    " (no PR_TIMER_CREATE_RESTORE_IDS in this kernel)");
		e = snap_sys_ok(tg, t, SYS_timer_settime, &r, (uint64_t)id, 0, scratch_addr(sc, 72),
				0, 0, 0);
	}
	if (exact)
		snap_sys(tg, t, SYS_prctl, &r, PR_TIMER_CREATE_RESTORE_IDS,
			 PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0, 0);
	return e;
}

int snap_signals_restore(struct target *tg, struct snap_proc *sp, struct task *t,
			 struct sbuf *problems)
{
	bool itimers = false;
	for (int w = 0; w < 3; w++)
		itimers |= sp->itimers[w].it_value.tv_sec || sp->itimers[w].it_value.tv_usec;
	if (!itimers && !sp->timers.n && !sp->shared_pending.n)
		return 0;
	struct scratch sc;
	int64_t r;
	int e = scratch_begin(t, sizeof(siginfo_t) > 104 ? sizeof(siginfo_t) : 104, &sc);
	if (e < 0)
		return e;
	for (int w = 0; w < 3 && !e; w++) {
		if (!sp->itimers[w].it_value.tv_sec && !sp->itimers[w].it_value.tv_usec)
			continue;
		if (!(e = scratch_put(&sc, 0, &sp->itimers[w], sizeof sp->itimers[w])))
			e = snap_sys_ok(tg, t, SYS_setitimer, &r, (uint64_t)w, scratch_addr(&sc, 0), 0,
					0, 0, 0);
	}
	if (!e && sp->timers.n)
		e = rearm_timers(tg, sp, t, &sc, problems);
	for (size_t i = 0; i < sp->shared_pending.n && !e; i++)
		e = requeue(tg, t, &sp->shared_pending.v[i], true, &sc);
	int e2 = scratch_end(&sc, NULL);
	if (e < 0)
		pr_err(LM_SNAP, "pid %d: cannot restore its signals and timers: %s", t->proc->pid,
		       strerror(-e));
	return e ? e : e2;
}
