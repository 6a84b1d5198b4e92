/* Checkpoints of a tree with nested tracers: bringing it to a consistent stop,
 * saving and loading the emulation state, and what a restore does not carry.
 *
 * The emulation state is the tracers' view of the world; the processes' own state is
 * the snapshot's. At a checkpoint every task is stopped, no emulated wait sleeps (its
 * syscall is given back, to restart), and every queued event but syscall entries has
 * been turned into emulated stops, so the copy is consistent with the processes.
 * After a restore, the processes are rewind's children sitting at interrupt stops:
 * real parents and real zombies change, resume signals must be queued, the tracers'
 * debug registers and their fds on /proc/PID/mem are put back here. */
#include "nest_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inject.h"

void nest_state_clear(struct nest_state *s)
{
	for (struct nest_task *t = s->tasks, *n; t; t = n) {
		n = t->next;
		free(t);
	}
	for (struct nest_proc *p = s->procs, *n; p; p = n) {
		n = p->next;
		free(p);
	}
	for (struct nest_zombie *z = s->zombies, *n; z; z = n) {
		n = z->next;
		free(z);
	}
	vec_free(&s->memfds);
	s->tasks = NULL;
	s->procs = NULL;
	s->zombies = NULL;
}

void nest_state_free(struct nest_state *s)
{
	if (!s)
		return;
	nest_state_clear(s);
	free(s);
}

/* Copy a singly linked list of structs with a `next` member (order kept). */
#define COPY_LIST(type, src, dst) do { \
	type **pp_ = &(dst); \
	for (const type *x_ = (src); x_; x_ = x_->next) { \
		type *c_ = xmalloc(sizeof *c_); \
		*c_ = *x_; \
		c_->next = NULL; \
		*pp_ = c_; \
		pp_ = &c_->next; \
	} \
} while (0)

/* ---- process groups ----
 * A checkpoint is forked from its process: it is in its process group. When that
 * process leads the group, the checkpoint keeps the group's id — the process's pid —
 * in use, and a restore could not give the pid back. So checkpoints leave such groups
 * (setpgid(0, 0)) and restored processes rejoin theirs. */

static pid_t pgid_now(pid_t pid)
{
	char path[64], *text;
	int pg = -1;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (read_file(path, &text, NULL) == 0) {
		char *rp = strrchr(text, ')');
		if (!rp || sscanf(rp + 1, " %*c %*d %d", &pg) != 1)
			pg = -1;
		free(text);
	}
	return pg;
}

static int setpgid_in(struct nest *n, struct proc *p, pid_t pgid)
{
	struct task *t = proc_main_task(p);
	int64_t r = 0;
	if (!t || t->state != TS_STOPPED)
		return -ESRCH;
	int e = inject_syscall6(n->tg, t, SYS_setpgid, &r, 0, (uint64_t)pgid, 0, 0, 0, 0);
	return e < 0 ? e : (int)(r < 0 ? r : 0);
}

static void ckpt_leave_groups(struct nest *n)
{
	for (struct proc *c = n->tg->procs; c; c = c->next) {
		if (!c->snapshot || c->dead)
			continue;
		pid_t pg = pgid_now(c->pid);
		if (pg <= 0 || pg == c->pid || !target_find_proc(n->tg, pg))
			continue;
		int e = setpgid_in(n, c, 0);
		if (e < 0)
			pr_warn(LM_NEST, "checkpoint process %d: cannot leave process group %d: %s",
				c->pid, pg, strerror(-e));
	}
}

static void rejoin_groups(struct nest *n, struct sbuf *problems)
{
	for (int leaders = 1; leaders >= 0; leaders--)
		for (struct nest_proc *np = n->procs; np; np = np->next) {
			struct proc *p = target_find_proc(n->tg, np->pid);
			if (!p || (np->pgid == np->pid) != leaders || pgid_now(np->pid) == np->pgid)
				continue;
			int e = setpgid_in(n, p, np->pgid == np->pid ? 0 : np->pgid);
			if (e < 0)
				sbuf_printf(problems, "pid %d: cannot rejoin process group %d: %s\n",
					    np->pid, np->pgid, strerror(-e));
		}
}

int nest_quiesce(struct nest *n, struct sbuf *why)
{
	struct target *tg = n->tg;
	for (struct proc *p = tg->procs; p; p = p->next)
		if (!p->dead && !p->snapshot && p->vfork_child) {
			sbuf_printf(why, "pid %d is a vfork child that has not called exec yet; try "
				    "again in a moment\n", p->pid);
			return -EAGAIN;
		}
	n->deferring = true;
	for (int round = 0; round < 16; round++) {
		n->quiet_kills = false;
		int e = target_stop_all(tg);
		if (e < 0) {
			sbuf_printf(why, "the processes could not be stopped: %s\n", strerror(-e));
			return e;
		}
		for (struct nest_task *nt = n->tasks; nt; nt = nt->next)
			if (nt->parked) {
				/* It restarts its wait when resumed; its tracer must not see that
				 * syscall enter again. */
				nw_unpark(n, nt);
				nt->kick = true;
				if (nt->tracer && (nt->mode == RESUME_SYSCALL || nt->mode == RESUME_SYSEMU))
					nt->hide_entry = true;
			}
		/* Everything that happened meanwhile becomes what the tracers see, except
		 * syscall entries and seccomp stops, which the checkpoint backs out. */
		size_t k = tg->queue.n;
		struct tev *evs = xmalloc((k ? k : 1) * sizeof *evs);
		memcpy_n(evs, tg->queue.v, k * sizeof *evs);
		tg->queue.n = 0;
		for (size_t i = 0; i < k; i++) {
			struct task *t = evs[i].task;
			bool entry = evs[i].kind == TEV_SECCOMP || evs[i].kind == TEV_SYSCALL_ENTRY;
			if (entry && t && t->state == TS_STOPPED && t->in_syscall)
				target_queue_push(tg, &evs[i]);
			else
				nest_handle(n, &evs[i]);
		}
		free(evs);
		if (!n->quiet_kills && !target_any_running(tg))
			break;
	}
	for (struct proc *p = tg->procs; p; p = p->next) {
		struct task *lead = p->dead || p->snapshot ? NULL : proc_task(p, p->pid);
		if (lead && lead->exiting) {
			sbuf_printf(why, "pid %d is exiting; try again in a moment\n", p->pid);
			return -EAGAIN;
		}
	}
	/* Registers of syscall-entry stops the tracers see, before they are backed out. */
	for (struct nest_task *nt = n->tasks; nt; nt = nt->next) {
		struct task *t = target_find_task(tg, nt->tid);
		struct user_regs_struct *r;
		if (nt->held && nt->kind == NS_SYSCALL_ENTRY && !nt->entry_settled && t &&
		    t->in_syscall && task_get_regs(t, &r) == 0)
			nt->entry_view = *r;
	}
	return 0;
}

void nest_prepared(struct nest *n)
{
	struct target *tg = n->tg;
	for (struct nest_task *nt = n->tasks; nt; nt = nt->next) {
		struct task *t = target_find_task(tg, nt->tid);
		if (nt->held && nt->kind == NS_SYSCALL_ENTRY && !nt->entry_settled && t &&
		    !t->in_syscall)
			nt->entry_settled = true;
	}
	ckpt_leave_groups(n);
	/* Queued entries of tasks the checkpoint backed out are stale: they will be
	 * met again when the syscall instruction runs again. */
	size_t j = 0;
	for (size_t i = 0; i < tg->queue.n; i++) {
		struct tev *ev = &tg->queue.v[i];
		bool entry = ev->kind == TEV_SECCOMP || ev->kind == TEV_SYSCALL_ENTRY;
		if (entry && ev->task && !ev->task->in_syscall)
			continue;
		tg->queue.v[j++] = *ev;
	}
	tg->queue.n = j;
}

int nest_resume_all(struct nest *n)
{
	struct target *tg = n->tg;
	n->deferring = false;
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		for (struct task *t = p->tasks; t; t = t->next) {
			if (t->state != TS_STOPPED)
				continue;
			bool queued = false;
			for (size_t i = 0; i < tg->queue.n && !queued; i++)
				queued = tg->queue.v[i].task == t;
			if (queued)
				continue;   /* the event loop meets it */
			struct nest_task *nt = nt_of(n, t);
			nt->kick = false;
			nest_on_quiet_stop(n, nt);
		}
	}
	return 0;
}

/* ---- /proc/PID/mem fds held by processes of the tree ---- */

static void scan_memfds(struct nest *n, struct nest_state *s)
{
	for (struct proc *p = n->tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		char dir[64];
		snprintf(dir, sizeof dir, "/proc/%d/fd", p->pid);
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			char path[384], link[64];
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			ssize_t k = readlink(path, link, sizeof link - 1);
			if (k <= 0 || k >= (ssize_t)sizeof link - 1)
				continue;
			link[k] = 0;
			int pid = 0, tid = 0, end = 0;
			if (sscanf(link, "/proc/%d/task/%d/mem%n", &pid, &tid, &end) < 2 || link[end])
				if (sscanf(link, "/proc/%d/mem%n", &pid, &end) < 1 || link[end])
					continue;
			if (!target_find_proc(n->tg, pid))
				continue;
			struct nest_memfd m = { p->pid, atoi(de->d_name), O_RDWR, "" };
			snprintf(m.path, sizeof m.path, "%s", link);
			char info[96], *text, *f;
			snprintf(info, sizeof info, "/proc/%d/fdinfo/%d", p->pid, m.fd);
			if (read_file(info, &text, NULL) == 0) {
				if ((f = strstr(text, "flags:")))
					m.flags = (int)strtol(f + 6, NULL, 8);
				free(text);
			}
			vec_push(&s->memfds, m);
		}
		if (d)
			closedir(d);
	}
}

/* Open m->path in the restored process and put it at m->fd (an fd opened before
 * the restore reaches the memory of a process that no longer exists). */
static int reopen_memfd(struct nest *n, const struct nest_memfd *m)
{
	struct proc *p = target_find_proc(n->tg, m->pid);
	struct task *t = p ? proc_main_task(p) : NULL;
	struct user_regs_struct *r;
	if (!t || t->state != TS_STOPPED || task_get_regs(t, &r) < 0)
		return -ESRCH;
	/* The path goes below the stack's red zone for the time of the call. */
	uint64_t at = (r->rsp - 1024) & ~15ull;
	uint8_t saved[64];
	size_t len = strlen(m->path) + 1;
	int e = proc_read_raw(p, RADDR(at), saved, len);
	if (e == 0)
		e = proc_write_raw(p, RADDR(at), m->path, len);
	int64_t fd = -1, ret;
	if (e == 0)
		e = inject_syscall6(n->tg, t, SYS_openat, &fd, (uint64_t)AT_FDCWD, at,
				    (uint64_t)(m->flags & ~(O_CREAT | O_TRUNC | O_EXCL)), 0, 0, 0);
	proc_write_raw(p, RADDR(at), saved, len);
	if (e == 0 && fd < 0)
		e = (int)fd;
	if (e < 0)
		return e;
	if (fd != m->fd) {
		e = inject_syscall6(n->tg, t, SYS_dup3, &ret, (uint64_t)fd, (uint64_t)m->fd,
				    (uint64_t)(m->flags & O_CLOEXEC), 0, 0, 0);
		if (e == 0 && ret < 0)
			e = (int)ret;
		inject_syscall6(n->tg, t, SYS_close, &ret, (uint64_t)fd, 0, 0, 0, 0, 0);
	}
	return e;
}

struct nest_state *nest_save(struct nest *n)
{
	struct nest_state *s = xcalloc(1, sizeof *s);
	for (struct nest_task *nt = n->tasks; nt; nt = nt->next)
		nt_siginfo(n, nt);   /* the kernel's copy does not survive a restore */
	COPY_LIST(struct nest_task, n->tasks, s->tasks);
	COPY_LIST(struct nest_proc, n->procs, s->procs);
	COPY_LIST(struct nest_zombie, n->zombies, s->zombies);
	for (struct nest_task *t = s->tasks; t; t = t->next) {
		t->t = NULL;
		t->kick = false;
	}
	s->seq = n->seq;
	for (struct nest_proc *np = s->procs; np; np = np->next) {
		pid_t pg = pgid_now(np->pid);
		if (pg > 0)
			np->pgid = pg;
	}
	scan_memfds(n, s);
	pr_debug(LM_NEST, "saved: %zu fds on /proc/PID/mem", s->memfds.n);
	return s;
}

int nest_load(struct nest *n, const struct nest_state *s, struct sbuf *problems)
{
	struct nest_state old = { n->tasks, n->procs, n->zombies, 0, { 0 } };
	nest_state_clear(&old);
	n->tasks = NULL;
	n->procs = NULL;
	n->zombies = NULL;
	COPY_LIST(struct nest_task, s->tasks, n->tasks);
	COPY_LIST(struct nest_proc, s->procs, n->procs);
	COPY_LIST(struct nest_zombie, s->zombies, n->zombies);
	n->seq = s->seq;
	/* Every restored process is rewind's child; no zombie is the kernel's any more. */
	for (struct nest_proc *np = n->procs; np; np = np->next)
		np->real_ppid = n->self;
	for (struct nest_zombie *z = n->zombies; z; z = z->next)
		z->real = z->then_real = false;
	int err = 0;
	for (struct nest_task *nt = n->tasks; nt; nt = nt->next) {
		nt->t = NULL;
		nt->restored = true;
		nt->real_sig = false;   /* restored tasks sit at interrupt stops */
		nt->parked = nt->park_kicked = nt->conv = nt->kick = false;
		struct task *t = target_find_task(n->tg, nt->tid);
		if (!t) {
			sbuf_printf(problems, "tid %d: not restored; its tracer %d will not hear of it "
				    "again\n", nt->tid, nt->tracer);
			continue;
		}
		if (!nt->dr_used || t->state != TS_STOPPED)
			continue;
		for (int i = 0; i < 8; i++) {
			if (i == 4 || i == 5 || i == 6)
				continue;
			int e = task_set_dr(t, i, nt->dr[i]);
			if (e < 0 && !err) {
				sbuf_printf(problems, "tid %d: debug register %d could not be put back: "
					    "%s\n", nt->tid, i, strerror(-e));
				err = e;
			}
		}
		t->dr_gen = t->proc->hw_gen;
	}
	rejoin_groups(n, problems);
	for (size_t i = 0; i < s->memfds.n; i++) {
		int e = reopen_memfd(n, &s->memfds.v[i]);
		if (e < 0)
			sbuf_printf(problems, "pid %d fd %d (%s) could not be reopened: %s\n",
				    s->memfds.v[i].pid, s->memfds.v[i].fd, s->memfds.v[i].path,
				    strerror(-e));
		else
			pr_debug(LM_NEST, "pid %d fd %d: reopened %s", s->memfds.v[i].pid,
				 s->memfds.v[i].fd, s->memfds.v[i].path);
	}
	return 0;
}
