/* Snapshots against real processes, when things go wrong: resources that cannot be
 * restored, a checkpoint killed from outside, a program that dies while being
 * checkpointed, a signal held by a delivery stop. Harness: snap_harness.h. */
#include "snap_harness.h"
/* ---- 8. resources that cannot be restored: refused, or taken and marked ---- */

static int count_ckpts(void)
{
	int n = 0;
	for (struct proc *p = tg.procs; p; p = p->next)
		n += p->snapshot && !p->dead;
	return n;
}

Test(snapshot, unrestorable_resources, .init = setup, .fini = teardown)
{
	pid_t outsider = fork();
	if (outsider == 0) {
		pause();
		_exit(0);
	}
	char arg[16];
	snprintf(arg, sizeof arg, "%d", outsider);
	static char path[256];
	snprintf(path, sizeof path, "%s/snap_unrestorable", PROGS_DIR);
	char *argv[] = { path, arg, NULL };
	struct proc *p = launch_args(argv);
	pid_t pid = p->pid;
	run_to_trap();

	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	cr_assert_eq(snap_take(&tg, NULL, &s, &pb), -EBUSY);
	cr_assert_null(s);
	const char *txt = sbuf_str(&pb);
	char want[64];
	snprintf(want, sizeof want, "pid %d fd ", pid);
	cr_assert(strstr(txt, want), "%s", txt);
	cr_assert(strstr(txt, ": TCP socket to 127.0.0.1:"), "%s", txt);
	cr_assert(strstr(txt, ": eventfd;"), "%s", txt);
	cr_assert(strstr(txt, ": epoll instance;"), "%s", txt);
	cr_assert(strstr(txt, ": timerfd;"), "%s", txt);
	cr_assert(strstr(txt, ": signalfd;"), "%s", txt);
	cr_assert(strstr(txt, ": device /dev/kmsg (1:11)"), "%s", txt);
	snprintf(want, sizeof want, "pid %d traces pid %d", pid, outsider);
	cr_assert(strstr(txt, want), "%s", txt);
	cr_assert_eq(count_ckpts(), 0, "nothing left behind");
	for (struct task *t = p->tasks; t; t = t->next)
		cr_assert(t->state == TS_STOPPED || t->state == TS_DEAD);
	sbuf_free(&pb);

	struct snap_opts o = { .force = true };
	cr_assert_eq(snap_take(&tg, &o, &s, &pb), 0, "%s", sbuf_str(&pb));
	cr_assert_not_null(snap_marks(s));
	cr_assert(strstr(snap_marks(s), ": eventfd;"));
	cr_assert(strstr(sbuf_str(&pb), ": eventfd;"), "problems say it too");
	sbuf_free(&pb);
	run_to_trap();
	restore(s);
	finish_expect(pid, "start\neventfd+epoll usable\ntcp usable\ndone\n");
	snap_drop(&tg, s);
	kill(outsider, SIGKILL);
	waitpid(outsider, NULL, 0);
}

/* ---- 9. death: of a checkpoint process, and of the program while checkpointing ---- */

Test(snapshot, checkpoint_process_killed_from_outside, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_regs");
	pid_t pid = p->pid;
	run_to_trap();
	struct snapshot *s1 = take(NULL);
	pid_t c1 = 0;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (q->snapshot && !q->dead)
			c1 = q->pid;
	cr_assert_neq(c1, 0);
	struct snapshot *s2 = take(NULL);
	cr_assert_eq(count_ckpts(), 2);
	cr_assert_eq(kill(c1, SIGKILL), 0);
	for (int i = 0; i < 200 && snap_alive(s1); i++)
		usleep(1000);
	cr_assert(!snap_alive(s1));
	cr_assert(snap_alive(s2));

	struct sbuf pb = { 0 };
	cr_assert_eq(snap_restore(&tg, s1, &pb), -ESRCH);
	char want[96];
	snprintf(want, sizeof want, "the checkpoint process of pid %d (pid %d) is gone", pid, c1);
	cr_assert(strstr(sbuf_str(&pb), want), "%s", sbuf_str(&pb));
	sbuf_free(&pb);
	cr_assert_not_null(target_find_proc(&tg, pid), "the program was not touched");
	ckpt_may_die = true;
	restore(s2);
	run_to_trap();
	run_to_exit(pid, 0);
	snap_drop(&tg, s1);
	snap_drop(&tg, s2);
	cr_assert_eq(count_ckpts(), 0);
}

Test(snapshot, program_dies_while_checkpointing, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_tree");
	pid_t pid = p->pid;
	run_to_trap();
	pid_t child = 0;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (!q->dead && !q->snapshot && q->pid != pid)
			child = q->pid;
	struct snap_opts so = { .files = true };
	struct snapshot *good = take(&so);
	int before = count_ckpts();
	cr_assert_eq(before, 2);

	cr_assert_eq(kill(child, SIGKILL), 0);         /* the engine does not know yet */
	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	int e = snap_take(&tg, &so, &s, &pb);
	cr_assert_eq(e, -ESRCH, "got %d: %s", e, sbuf_str(&pb));
	cr_assert_null(s);
	char want[96];
	snprintf(want, sizeof want, "pid %d exited while the checkpoint was being taken", child);
	cr_assert(strstr(sbuf_str(&pb), want), "%s", sbuf_str(&pb));
	sbuf_free(&pb);
	cr_assert_eq(count_ckpts(), before, "no checkpoint process left behind");
	struct proc *lp = target_find_proc(&tg, pid);
	cr_assert_not_null(lp);
	for (struct task *t = lp->tasks; t; t = t->next)
		cr_assert(t->state == TS_STOPPED || t->state == TS_DEAD);

	/* The earlier checkpoint still brings the whole tree back. */
	restore(good);
	cr_assert_not_null(target_find_proc(&tg, child));
	run_to_trap();
	struct outcome end = run();
	cr_assert_eq(end.ev.kind, TEV_EXITED);
	char *t = output();
	cr_assert_str_eq(t, "start\nchild counted 200 lines\nparent: child reported 200\n"
			 "parent: child not waitable (No child processes)\nparent done\n");
	free(t);
	snap_drop(&tg, good);
}

/* A checkpoint taken while a thread is stopped delivering a signal: the signal is out
 * of the kernel's queues then; the restore queues it again. */
Test(snapshot, signal_held_by_a_delivery_stop, .init = setup, .fini = teardown)
{
	const char *dir = make_tmpdir();
	char real[PATH_MAX];
	cr_assert_not_null(realpath(dir, real));
	struct proc *p = launch_in_dir("snap_signals", real, NULL);
	pid_t pid = p->pid;
	run_to_trap();                                /* trap 1 */
	leader(pid)->pending_sig = 0;
	target_resume_all(&tg, NULL);
	struct tev ev;
	for (;;) {                                    /* until SIGUSR1 is being delivered */
		cr_assert_eq(target_wait(&tg, &ev, 10000), 1);
		if (ev.kind == TEV_SIGNAL && ev.sig == SIGUSR1)
			break;
		if (ev.task && ev.task->state == TS_STOPPED)
			target_resume(&tg, ev.task, RESUME_CONT);
	}
	target_stop_all(&tg);
	struct snap_opts o = { .files = true };
	struct snapshot *s = take(&o);
	ev.task->pending_sig = 0;                     /* the live run loses it */
	run_to_trap();
	char *t = output();
	cr_assert(strstr(t, "delivered WRONG"), "%s", t);
	free(t);
	restore(s);
	snap_signals_finish(pid, s);
}

/* A vfork under way cannot be checkpointed (the child shares the parent's memory, the
 * parent cannot leave vfork): refused, and nothing is disturbed. */
Test(snapshot, refused_during_vfork, .init = setup, .fini = teardown)
{
	struct proc *p = launch("snap_vfork");
	pid_t pid = p->pid;
	/* To trap 1, in the vfork child. Its parent waits in vfork, where no ptrace
	 * interrupt reaches it: it stays running. */
	target_resume_all(&tg, NULL);
	struct tev ev;
	for (;;) {
		cr_assert_eq(target_wait(&tg, &ev, 10000), 1);
		if (ev.kind == TEV_SIGNAL && ev.sig == SIGTRAP)
			break;
		if (ev.task && ev.task->state == TS_STOPPED)
			target_resume(&tg, ev.task, RESUME_CONT);
	}
	cr_assert_neq(ev.proc->pid, pid);
	cr_assert(ev.proc->vfork_child);
	ev.task->pending_sig = 0;
	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	int e = snap_take(&tg, NULL, &s, &pb);
	cr_assert_eq(e, -EAGAIN, "%d: %s", e, sbuf_str(&pb));
	cr_assert(strstr(sbuf_str(&pb), "vfork"), "%s", sbuf_str(&pb));
	cr_assert_eq(count_ckpts(), 0);
	sbuf_free(&pb);
	struct outcome o = run_to_trap();                 /* trap 2, in the parent */
	cr_assert_eq(o.ev.proc->pid, pid);
	s = take(NULL);
	restore(s);
	run_to_exit(pid, 0);
	char *t = output();
	cr_assert_str_eq(t, "start\nchild exited with 0\n");
	free(t);
	snap_drop(&tg, s);
}

/* Pages the program changes after two checkpoints are held by both: each one's private
 * bytes leave them out, the total counts them once. */
Test(snapshot, memory_held_by_checkpoints, .init = setup, .fini = teardown)
{
	launch("snap_regs");
	cr_assert_eq(snap_held_bytes(&tg), 0, "no checkpoint, nothing held");
	run_to_trap();
	struct snapshot *s1 = take(NULL), *s2 = take(NULL);
	uint64_t held0 = snap_held_bytes(&tg);
	uint64_t priv0 = snap_private_bytes(s1) + snap_private_bytes(s2);
	run_to_trap();                  /* the program wrote its data, heap and stack */
	uint64_t held1 = snap_held_bytes(&tg);
	uint64_t priv1 = snap_private_bytes(s1) + snap_private_bytes(s2);
	cr_assert_geq(held1, held0 + 3 * 4096, "%lu -> %lu", (unsigned long)held0,
		      (unsigned long)held1);
	cr_assert_lt(priv1 - priv0, held1 - held0, "shared by both: private to neither");
	snap_drop(&tg, s1);
	snap_drop(&tg, s2);
	cr_assert_eq(snap_held_bytes(&tg), 0);
	run_to_exit(0, 0);
}

/* A process rewind attached to, whose parent is another program: its checkpoints are
 * its own children (exit signal 0, invisible to its wait()); a dropped one is reaped
 * inside it; a restore brings it back as rewind's child with its pid. */
static pid_t ppid_of(pid_t pid)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) < 0)
		return -1;
	char *f = strstr(text, "\nPPid:");
	pid_t r = f ? atoi(f + 6) : -1;
	free(text);
	return r;
}

static char *children_of(pid_t pid)
{
	char path[64], *text = NULL;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
	cr_assert_eq(read_file(path, &text, NULL), 0);
	return text;
}

Test(snapshot, attached_process_with_another_parent, .init = setup, .fini = teardown)
{
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t mid = fork();
	if (mid == 0) {
		pid_t c = fork();
		if (c == 0) {
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
			_exit(127);
		}
		if (write(pfd[1], &c, sizeof c) != sizeof c)
			_exit(1);
		waitpid(c, NULL, 0);
		_exit(0);
	}
	pid_t pid;
	cr_assert_eq(read(pfd[0], &pid, sizeof pid), (ssize_t)sizeof pid);
	usleep(50 * 1000);
	struct proc *p = NULL;
	cr_assert_eq(target_attach(&tg, pid, &p), 0);
	struct snapshot *s1 = take(NULL), *s2 = take(NULL);
	pid_t c1 = 0, c2 = 0;
	for (struct proc *q = tg.procs; q; q = q->next)
		if (q->snapshot && !q->dead) {
			if (!c1)
				c1 = q->pid;
			else
				c2 = q->pid;
		}
	cr_assert_eq(ppid_of(c1), pid, "the checkpoint is the attached process's child");
	cr_assert_eq(ppid_of(c2), pid);
	snap_drop(&tg, s2);
	char *kids = children_of(pid);
	char want[32];
	snprintf(want, sizeof want, "%d ", c1);
	cr_assert_str_eq(kids, want, "the dropped checkpoint was reaped inside its parent");
	free(kids);

	restore(s1);
	p = target_find_proc(&tg, pid);
	cr_assert_not_null(p);
	cr_assert_eq(ppid_of(pid), getpid(), "restored as rewind's child");
	cr_assert(p->attached);
	cr_assert_eq(waitpid(mid, NULL, 0), mid, "its old parent saw it die");
	target_kill(&tg, p);
	snap_drop(&tg, s1);
	cr_assert_eq(count_ckpts(), 0);
}
