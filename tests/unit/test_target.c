/* The ptrace engine against real processes: launch, breakpoints, stepping, injection. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/inject.h"
#include "core/target.h"

#ifndef PROGS_DIR
#define PROGS_DIR "tests/progs"
#endif

static struct target tg;

static void setup(void) { cr_assert_eq(target_init(&tg), 0); }
static void teardown(void) { target_fini(&tg); }

static struct proc *launch(const char *path)
{
	char *argv[] = { (char *)path, NULL };
	struct launch_spec ls = { .argv = argv, .exitkill = true };
	struct proc *p = NULL;
	int e = target_launch(&tg, &ls, &p);
	cr_assert_eq(e, 0, "launch %s: %s", path, strerror(-e));
	return p;
}

/* Run everything until some event other than thread bookkeeping arrives. */
static struct tev run_until_event(void)
{
	struct tev ev;
	target_resume_all(&tg, NULL);
	for (;;) {
		int r = target_wait(&tg, &ev, 10000);
		cr_assert_eq(r, 1, "target_wait: %d", r);
		if (ev.kind == TEV_EXITING || ev.kind == TEV_INTERRUPT || ev.kind == TEV_CLONE ||
		    ev.kind == TEV_THREAD_EXITED) {
			target_resume(&tg, ev.task, RESUME_CONT);
			continue;
		}
		return ev;
	}
}

Test(target, launch_and_exit, .init = setup, .fini = teardown)
{
	struct proc *p = launch("/bin/true");
	cr_assert(!p->dead);
	struct tev ev = run_until_event();
	cr_assert_eq(ev.kind, TEV_EXITED);
	cr_assert(WIFEXITED(ev.status) && WEXITSTATUS(ev.status) == 0);
}

Test(target, launch_missing_program, .init = setup, .fini = teardown)
{
	char *argv[] = { "/nonexistent/prog", NULL };
	struct launch_spec ls = { .argv = argv, .exitkill = true };
	struct proc *p = NULL;
	cr_assert_eq(target_launch(&tg, &ls, &p), -ENOENT);
}

Test(target, exit_code, .init = setup, .fini = teardown)
{
	char *argv[] = { "/bin/sh", "-c", "exit 3", NULL };
	struct launch_spec ls = { .argv = argv, .exitkill = true };
	struct proc *p;
	cr_assert_eq(target_launch(&tg, &ls, &p), 0);
	struct tev ev = run_until_event();
	cr_assert_eq(ev.kind, TEV_EXITED);
	cr_assert_eq(WEXITSTATUS(ev.status), 3);
}

Test(target, inject_getpid_and_fork, .init = setup, .fini = teardown)
{
	struct proc *p = launch("/bin/true");
	struct task *t = proc_main_task(p);
	uint64_t pc = task_pc(t);
	int64_t ret = 0;
	int ie = inject_syscall6(&tg, t, SYS_getpid, &ret, 0, 0, 0, 0, 0, 0);
	cr_assert_eq(ie, 0, "inject: %s", strerror(-ie));
	cr_assert_eq(ret, p->pid);
	cr_assert_eq(task_pc(t), pc, "registers restored");

	const uint64_t args[6] = { 0 /* exit signal 0: invisible to wait() */ };
	struct task *child = NULL;
	cr_assert_eq(inject_syscall(&tg, t, SYS_clone, args, &ret, &child), 0);
	cr_assert_gt(ret, 0);
	cr_assert_not_null(child);
	cr_assert_eq(child->tid, ret);
	cr_assert_neq(child->proc, p, "fork made a new process");
	cr_assert_eq(child->state, TS_STOPPED);
	/* The child's memory is a copy: same code at the same pc. */
	uint8_t a[16], b[16];
	cr_assert_eq(proc_read(p, RADDR(pc), a, 16), 0);
	cr_assert_eq(proc_read(child->proc, RADDR(pc), b, 16), 0);
	cr_assert_eq(memcmp(a, b, 16), 0);
	child->proc->snapshot = true;
	struct tev ev = run_until_event();
	cr_assert_eq(ev.kind, TEV_EXITED);
	cr_assert_eq(ev.proc, p);
}

Test(target, breakpoint_and_step, .init = setup, .fini = teardown)
{
	struct proc *p = launch("/bin/true");
	struct task *t = proc_main_task(p);
	uint64_t pc = task_pc(t);
	/* Step a few instructions, then plant a breakpoint at the current pc + run. */
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(target_resume(&tg, t, RESUME_STEP), 0);
		struct tev ev;
		cr_assert_eq(target_wait(&tg, &ev, 5000), 1);
		cr_assert_eq(ev.kind, TEV_STEP, "got %s", tev_name(ev.kind));
	}
	cr_assert_neq(task_pc(t), pc);
	uint8_t orig, now;
	cr_assert_eq(proc_read(p, RADDR(pc), &orig, 1), 0);
	cr_assert_eq(proc_bp_insert(p, pc), 0);
	cr_assert_eq(proc_read_raw(p, RADDR(pc), &now, 1), 0);
	cr_assert_eq(now, 0xcc);
	cr_assert_eq(proc_read(p, RADDR(pc), &now, 1), 0);
	cr_assert_eq(now, orig, "reads hide the int3");
	cr_assert_eq(proc_bp_remove(p, pc), 0);
	cr_assert_eq(proc_read_raw(p, RADDR(pc), &now, 1), 0);
	cr_assert_eq(now, orig);
}

/* A fork child whose first stop is seen before its parent's fork event (adopted from
 * /proc, which names its parent) still inherits the parent's tags and debug-register
 * slots when the event comes (a recording lost every buffered call of such a child). */
Test(target, child_seen_before_fork_event_inherits, .init = setup, .fini = teardown)
{
	char *argv[] = { "/bin/sh", "-c", "/bin/true; exit 0", NULL };
	struct launch_spec ls = { .argv = argv, .exitkill = true };
	struct proc *p = NULL;
	cr_assert_eq(target_launch(&tg, &ls, &p), 0);
	p->tags = 0x5a;
	cr_assert_geq(proc_hw_set(p, 0x1000, HW_WRITE, 8), 0);
	cr_assert_eq(target_resume_all(&tg, NULL), 0);
	/* Wait for the child to exist, then take its first stop before anything else. */
	char path[64], buf[64] = "";
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", p->pid, p->pid);
	pid_t cpid = 0;
	for (int i = 0; i < 5000 && !cpid; i++) {
		FILE *f = fopen(path, "r");
		cr_assert_not_null(f);
		if (fgets(buf, sizeof buf, f))
			cpid = (pid_t)atoi(buf);
		fclose(f);
		if (!cpid)
			usleep(1000);
	}
	cr_assert_gt(cpid, 0, "the shell forked");
	struct task probe = { .tid = cpid };
	struct tev ev;
	cr_assert_eq(target_wait_task(&tg, &probe, &ev), 1);
	struct task *c = target_find_task(&tg, cpid);
	cr_assert_not_null(c, "the child was adopted at its first stop");
	cr_assert_eq(c->proc->parent_pid, p->pid, "its parent read from /proc");
	cr_assert_eq(c->proc->tags, 0, "nothing inherited yet");
	/* Now the parent's fork event. */
	for (;;) {
		cr_assert_eq(target_wait(&tg, &ev, 10000), 1);
		if (ev.kind == TEV_FORK || ev.kind == TEV_VFORK)
			break;
		target_resume(&tg, ev.task, RESUME_CONT);
	}
	cr_assert_eq(ev.child, c);
	cr_assert_eq(c->proc->tags, 0x5a, "tags inherited at the fork event");
	cr_assert(c->proc->hw[0].used && c->proc->hw[0].addr == 0x1000, "hw slots inherited");
	c->proc->hw[0].used = false;   /* let the child run without the watch */
	p->hw[0].used = false;
	p->hw_gen++, c->proc->hw_gen++;
}
