/* Process groups and sessions of checkpoints and restored processes.
 *
 * A pid stays taken while any process uses it as its pid, process group id or session
 * id. A checkpoint is forked from its process and would stay in the process's group and
 * session: when the process leads one of them (setpgid(0, 0), setsid(), a shell's job),
 * or when another process of the tree does, the checkpoint keeps that process's pid in
 * use and the restore cannot give it back. So every checkpoint moves to a process group
 * of its own (which also keeps kill(0, sig) and a terminal's job-control signals away
 * from it), and to a session of its own when its session is led by a process of the
 * tree. The restored processes rejoin their groups, and a session leader makes its
 * session again. A process whose session was led by another process of the tree cannot
 * rejoin it (a session is only entered by fork): problems says so. */
#include "snap_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int snap_stat_ids(pid_t pid, char *state, pid_t *ppid, pid_t *pgid, pid_t *sid)
{
	char path[64], *text, st = 0;
	int pp = 0, pg = 0, sd = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int e = read_file(path, &text, NULL);
	if (e < 0)
		return e;
	char *r = strrchr(text, ')');
	int n = r ? sscanf(r + 1, " %c %d %d %d", &st, &pp, &pg, &sd) : 0;
	free(text);
	if (n != 4)
		return -EINVAL;
	if (state)
		*state = st;
	if (ppid)
		*ppid = pp;
	if (pgid)
		*pgid = pg;
	if (sid)
		*sid = sd;
	return 0;
}

static bool in_snapshot(const struct snapshot *s, pid_t pid)
{
	for (size_t i = 0; i < s->procs.n; i++)
		if (s->procs.v[i].pid == pid)
			return true;
	return false;
}

int snap_groups_save(struct snapshot *s)
{
	for (size_t i = 0; i < s->procs.n; i++) {
		struct snap_proc *sp = &s->procs.v[i];
		int e = snap_stat_ids(sp->pid, NULL, NULL, &sp->pgid, &sp->sid);
		if (e < 0)
			return e == -ENOENT ? -ESRCH : e;
	}
	return 0;
}

/* setsid() or setpgid(0, 0) injected into the stopped process p. */
static int leave(struct target *tg, struct proc *p, bool session)
{
	int64_t r = 0;
	struct task *t = proc_main_task(p);
	if (!t)
		return -ESRCH;
	return session ? snap_sys_ok(tg, t, SYS_setsid, &r, 0, 0, 0, 0, 0, 0) :
			 snap_sys_ok(tg, t, SYS_setpgid, &r, 0, 0, 0, 0, 0, 0);
}

int snap_group_leave(struct target *tg, const struct snapshot *s, struct snap_proc *sp)
{
	int e = leave(tg, sp->ckpt, in_snapshot(s, sp->sid));
	if (e < 0)
		pr_err(LM_SNAP, "pid %d: checkpoint %d cannot leave the process group %d or "
		       "session %d: %s", sp->pid, sp->ckpt->pid, sp->pgid, sp->sid, strerror(-e));
	return e;
}

void snap_holder_leave(struct target *tg, struct proc *h)
{
	/* A holder only lives until the restored processes exist: a session of its own
	 * frees every id it was using, whoever leads them. */
	if (leave(tg, h, true) < 0)
		pr_debug(LM_SNAP, "holder %d stays in its session and group", h->pid);
}

/* The pid the process that was pid has now (restored with a fresh one, or not). */
static pid_t now_pid(const struct snapshot *s, pid_t pid)
{
	for (size_t i = 0; i < s->procs.n; i++)
		if (s->procs.v[i].pid == pid && s->procs.v[i].rest)
			return s->procs.v[i].rest->pid;
	return pid;
}

void snap_groups_restore(struct target *tg, const struct snapshot *s, struct sbuf *problems)
{
	/* Session leaders make their sessions, then group leaders their groups, then the
	 * others join theirs. */
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < s->procs.n; i++) {
			const struct snap_proc *sp = &s->procs.v[i];
			struct proc *r = sp->rest;
			bool sess_leader = sp->sid == sp->pid, grp_leader = sp->pgid == sp->pid;
			if (!r || pass != (sess_leader ? 0 : grp_leader ? 1 : 2))
				continue;
			pid_t pg = 0, sid = 0;
			if (snap_stat_ids(r->pid, NULL, NULL, &pg, &sid) < 0)
				continue;
			pid_t want_sid = now_pid(s, sp->sid), want_pg = now_pid(s, sp->pgid);
			int e = 0;
			if (sess_leader) {
				if (sid != r->pid && (e = leave(tg, r, true)) < 0)
					sbuf_printf(problems, "pid %d: cannot lead its session again: %s\n",
						    sp->pid, strerror(-e));
				continue;
			}
			if (sid != want_sid) {
				sbuf_printf(problems, "pid %d: it cannot rejoin session %d (a session is "
					    "only entered by fork); it is in session %d\n", sp->pid,
					    sp->sid, sid);
				continue;
			}
			if (pg == want_pg)
				continue;
			int64_t ret = 0;
			struct task *t = proc_main_task(r);
			e = t ? snap_sys(tg, t, SYS_setpgid, &ret, 0,
					 grp_leader ? 0 : (uint64_t)want_pg, 0, 0, 0, 0) : -ESRCH;
			if (!e && ret < 0)
				e = (int)ret;
			if (e < 0)
				sbuf_printf(problems, "pid %d: cannot rejoin process group %d: %s\n",
					    sp->pid, sp->pgid, e == -EPERM ? "the group is gone" :
					    strerror(-e));
		}
}

void snap_reap_tree_zombies(struct target *tg, const struct snapshot *s)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[64], *text;
		int tid = atoi(de->d_name);
		if (tid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%d/children", tid);
		if (read_file(path, &text, NULL) < 0)
			continue;
		for (char *tok = strtok(text, " \n"); tok; tok = strtok(NULL, " \n")) {
			pid_t pid = (pid_t)atoi(tok), pg = 0, sid = 0;
			char state = 0;
			siginfo_t si;
			if (pid <= 0 || target_find_proc(tg, pid) ||
			    snap_stat_ids(pid, &state, NULL, &pg, &sid) < 0 || state != 'Z')
				continue;
			if (in_snapshot(s, pid) || in_snapshot(s, pg) || in_snapshot(s, sid))
				waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | __WALL);
		}
		free(text);
	}
	if (d)
		closedir(d);
}

bool snap_pid_freeing(struct target *tg, pid_t pid)
{
	bool dying = true;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		pid_t p = (pid_t)atoi(de->d_name), ppid = 0, pg = 0, sid = 0;
		char state = 0;
		if (p <= 0 || snap_stat_ids(p, &state, &ppid, &pg, &sid) < 0 ||
		    (p != pid && pg != pid && sid != pid))
			continue;
		if (state == 'Z' && ppid == getpid() && !target_find_task(tg, p)) {
			waitpid(p, NULL, WNOHANG | __WALL);
			continue;
		}
		if (state != 'Z' && state != 'X' && !snap_dying(p))
			dying = false;
	}
	if (d)
		closedir(d);
	return dying;
}

void snap_describe_pid_user(pid_t pid, struct sbuf *out)
{
	pid_t pg = 0, sid = 0;
	char path[64], *text, *f;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) == 0) {
		pid_t tgid = (f = strstr(text, "\nTgid:")) ? (pid_t)atoi(f + 6) : pid;
		free(text);
		if (tgid != pid)
			sbuf_printf(out, "by a thread of process %d", tgid);
		else
			sbuf_printf(out, "by process %d itself (%s)", pid, snap_dying(pid) ?
				    "a zombie its old parent has not waited for" : "another process");
		return;
	}
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool found = false;
	while (d && !found && (de = readdir(d))) {
		pid_t p = (pid_t)atoi(de->d_name);
		if (p <= 0 || snap_stat_ids(p, NULL, NULL, &pg, &sid) < 0)
			continue;
		if (sid == pid)
			sbuf_printf(out, "as the session id of process %d", p);
		else if (pg == pid)
			sbuf_printf(out, "as the process group id of process %d", p);
		found = sid == pid || pg == pid;
	}
	if (d)
		closedir(d);
	if (!found)
		sbuf_puts(out, "by a process that has gone since");
}
