/* The harness of the snapshot suites (test_snapshot.c, test_snapshot_faults.c):
 * launch a tests/progs debuggee under a fresh target, run it to a trap, take and
 * restore checkpoints, read its output. Included once per suite executable. */
#ifndef REWIND_TEST_SNAP_HARNESS_H
#define REWIND_TEST_SNAP_HARNESS_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/elf.h>
#include "core/inject.h"
#include "core/log.h"
#include "core/regs.h"
#include "core/snapshot.h"
#include "core/target.h"

#ifndef PROGS_DIR
#define PROGS_DIR "tests/progs"
#endif

static struct target tg;
static char outpath[128];

static inline void setup(void)
{
	log_init();
	cr_assert_eq(target_init(&tg), 0);
	snprintf(outpath, sizeof outpath, "/tmp/rewind-snap-%d-%ld.out", getpid(),
		 (long)now_ns());
}

static inline void teardown(void)
{
	target_fini(&tg);
	unlink(outpath);
}

/* ---- running debuggees ---- */

struct launch_io {
	const char *out;
	int in_fd;         /* >= 0: becomes stdin */
};

static inline int redirect(void *arg)
{
	const struct launch_io *io = arg;
	int fd = open(io->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0)
		return -errno;
	close(fd);
	if (io->in_fd >= 0 && dup2(io->in_fd, 0) < 0)
		return -errno;
	return 0;
}

static struct launch_io io;

static inline struct proc *launch_args(char *const *argv)
{
	io.out = outpath;
	io.in_fd = -1;
	struct launch_spec ls = { .argv = argv, .exitkill = true, .child_setup = redirect,
				  .child_arg = &io };
	struct proc *p = NULL;
	int e = target_launch(&tg, &ls, &p);
	cr_assert_eq(e, 0, "launch %s: %s", argv[0], strerror(-e));
	return p;
}

static inline struct proc *launch(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", PROGS_DIR, name);
	char *argv[] = { path, NULL };
	return launch_args(argv);
}

struct outcome {
	struct tev ev;          /* the stop (a trap or breakpoint), or the last exit */
	int exits;              /* processes that exited while running */
	int status[8];          /* their wait statuses, in order */
	pid_t pid[8];
};

static bool ckpt_may_die;      /* a test kills a checkpoint process itself */

static inline bool live_procs(void)
{
	for (struct proc *p = tg.procs; p; p = p->next)
		if (!p->dead && !p->snapshot)
			return true;
	return false;
}

/* Resume everything and run until a program trap (int3 of SNAP_POINT), a breakpoint
 * stop, or until every process has exited. All-stop: the others are stopped then. */
static inline struct outcome run(void)
{
	struct outcome o;
	memset(&o, 0, sizeof o);
	for (struct proc *p = tg.procs; p; p = p->next)
		for (struct task *t = p->tasks; t && !p->snapshot; t = t->next)
			if (t->state == TS_STOPPED && t->pending_sig == SIGTRAP)
				t->pending_sig = 0;
	target_resume_all(&tg, NULL);
	for (;;) {
		struct tev ev;
		int r = target_wait(&tg, &ev, 30000);
		cr_assert_eq(r, 1, "target_wait: %d", r);
		if (ev.proc && ev.proc->snapshot) {
			cr_assert(ev.kind != TEV_EXITED || ckpt_may_die,
				  "a checkpoint process %d exited", ev.proc->pid);
			continue;
		}
		switch (ev.kind) {
		case TEV_EXITED:
			if (o.exits < 8) {
				o.pid[o.exits] = ev.proc ? ev.proc->pid : ev.tid;
				o.status[o.exits] = ev.status;
			}
			o.exits++;
			o.ev = ev;
			if (!live_procs())
				return o;
			continue;
		case TEV_BREAKPOINT:
			o.ev = ev;
			target_stop_all(&tg);
			return o;
		case TEV_SIGNAL:
			if (ev.sig == SIGTRAP) {
				o.ev = ev;
				ev.task->pending_sig = 0;
				target_stop_all(&tg);
				return o;
			}
			target_resume(&tg, ev.task, RESUME_CONT);   /* delivered */
			continue;
		case TEV_THREAD_EXITED:
			continue;
		default:
			if (ev.task && ev.task->state == TS_STOPPED)
				target_resume(&tg, ev.task, RESUME_CONT);
			continue;
		}
	}
}

static inline struct outcome run_to_trap(void)
{
	struct outcome o = run();
	cr_assert(o.ev.kind == TEV_SIGNAL || o.ev.kind == TEV_BREAKPOINT,
		  "expected a trap, got %s (status %#x)", tev_name(o.ev.kind), o.ev.status);
	return o;
}

/* Run to the end; the exit status of pid (0: the last process) must be `code`. */
static inline void run_to_exit(pid_t pid, int code)
{
	struct outcome o = run();
	cr_assert_eq(o.ev.kind, TEV_EXITED, "expected the end, got %s at %#lx",
		     tev_name(o.ev.kind), (unsigned long)o.ev.addr);
	for (int i = 0; i < o.exits && i < 8; i++)
		if (!pid || o.pid[i] == pid) {
			cr_assert(WIFEXITED(o.status[i]), "pid %d: status %#x", o.pid[i], o.status[i]);
			cr_assert_eq(WEXITSTATUS(o.status[i]), code, "pid %d exited with %d",
				     o.pid[i], WEXITSTATUS(o.status[i]));
			return;
		}
	cr_assert_fail("pid %d did not exit", pid);
}

static inline char *output(void)
{
	char *text = NULL;
	cr_assert_eq(read_file(outpath, &text, NULL), 0);
	return text;
}

static inline struct snapshot *take(const struct snap_opts *o)
{
	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	int e = snap_take(&tg, o, &s, &pb);
	cr_assert_eq(e, 0, "snap_take: %s: %s", strerror(-e), sbuf_str(&pb));
	cr_assert_not_null(s);
	sbuf_free(&pb);
	return s;
}

static inline void restore(struct snapshot *s)
{
	struct sbuf pb = { 0 };
	int e = snap_restore(&tg, s, &pb);
	cr_assert_eq(e, 0, "snap_restore: %s: %s", strerror(-e), sbuf_str(&pb));
	cr_assert_eq(pb.len, 0, "restore reported: %s", sbuf_str(&pb));
	sbuf_free(&pb);
	/* The former incarnation is dead: forget it. */
	for (struct proc *p = tg.procs, *n; p; p = n) {
		n = p->next;
		if (p->dead)
			target_forget(&tg, p);
	}
}

/* Address of a symbol of a PIE program in p (nm + the load base from maps). */
static inline uint64_t sym_addr(struct proc *p, const char *prog, const char *name)
{
	char cmd[512], line[256];
	snprintf(cmd, sizeof cmd, "nm %s/%s", PROGS_DIR, prog);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	uint64_t off = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long a;
		char kind, sym[200];
		if (sscanf(line, "%llx %c %199s", &a, &kind, sym) == 3 && !strcmp(sym, name))
			off = a;
	}
	pclose(f);
	cr_assert_neq(off, 0, "no symbol %s", name);
	snprintf(cmd, sizeof cmd, "/proc/%d/maps", p->pid);
	f = fopen(cmd, "r");
	uint64_t base = 0;
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, prog) && !base)
			base = strtoull(line, NULL, 16);
	if (f)
		fclose(f);
	cr_assert_neq(base, 0);
	return base + off;
}

static inline struct task *leader(pid_t pid)
{
	struct proc *p = target_find_proc(&tg, pid);
	cr_assert_not_null(p, "no live pid %d", pid);
	struct task *t = proc_task(p, pid);
	cr_assert_not_null(t);
	return t;
}

/* ---- a private directory for file tests ---- */

/* A scratch directory for a test program (argv[1]), removed at the end. */
static char tmpdir[128];

static inline const char *make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/rewind-snapdir-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	return tmpdir;
}

static inline void remove_tmpdir(void)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static inline struct proc *launch_in_dir(const char *name, const char *dir, const char *extra)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", PROGS_DIR, name);
	char *argv[] = { path, (char *)dir, (char *)extra, NULL };
	return launch_args(argv);
}

static inline char *file_text(const char *dir, const char *name)
{
	char path[256], *text = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_eq(read_file(path, &text, NULL), 0, "read %s", path);
	return text;
}

/* The restored program runs from its trap to a clean exit and prints exactly want. */
static inline void finish_expect(pid_t pid, const char *want)
{
	run_to_trap();
	run_to_exit(pid, 0);
	char *t = output();
	cr_assert_str_eq(t, want);
	free(t);
}

/* After restore(s) of snap_signals (tests/progs/snap_signals.c, run in make_tmpdir's
 * directory): it runs to its end and everything it checks holds. */
static inline void snap_signals_finish(pid_t pid, struct snapshot *s)
{
	finish_expect(pid, "start\npending ok\nitimer ok\ntimers ok\ncwd ok\numask ok\nrlimit ok\n"
		      "delivered ok\nfired ok\ndone\n");
	snap_drop(&tg, s);
	remove_tmpdir();
}

#endif
