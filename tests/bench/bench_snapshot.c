/* Snapshot benchmark: checkpoint and restore latency of debuggees with 10 MiB to 4 GiB
 * of touched memory, next to a plain fork() of the same process measured in the same
 * run by the debuggee itself; the same with 8 threads; and the memory held by 100
 * checkpoints of a 1 GiB debuggee that dirties 10 MiB between them.
 *
 * Usage: bench_snapshot [--runs N] [--sizes 10,100,1024] [--big] [--threads N]
 *                       [--no-memory] [--thp] [--samples]
 * Prints medians (ms) and ratios as a table. Not a test: nothing here fails a build. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/snapshot.h"
#include "core/target.h"

#ifndef BENCH_TARGET
#define BENCH_TARGET "bench_snapshot_target"
#endif

static struct target tg;
static bool samples;       /* --samples: print every measurement */

struct dbg {
	pid_t pid;
	int cmd;        /* its stdin */
	int res;        /* its stdout */
	char buf[256];
	size_t len;
};

struct io { int in, out; };

static int plumb(void *arg)
{
	const struct io *io = arg;
	if (dup2(io->in, 0) < 0 || dup2(io->out, 1) < 0)
		return -errno;
	return 0;
}

static void die(const char *what, int e)
{
	fprintf(stderr, "bench_snapshot: %s: %s\n", what, strerror(e < 0 ? -e : e));
	exit(1);
}

/* Keep the debuggee running (new threads, exits of its plain-fork children are not
 * traced) until it prints a line. */
static void read_line(struct dbg *d, char *line, size_t max)
{
	for (;;) {
		char *nl = memchr(d->buf, '\n', d->len);
		if (nl) {
			size_t n = (size_t)(nl - d->buf);
			snprintf(line, max, "%.*s", (int)n, d->buf);
			memmove(d->buf, nl + 1, d->len - n - 1);
			d->len -= n + 1;
			return;
		}
		struct tev ev;
		while (target_wait(&tg, &ev, 0) == 1) {
			if (ev.kind == TEV_EXITED && ev.proc && !ev.proc->snapshot)
				die("the debuggee exited", ESRCH);
			if (ev.task && ev.task->state == TS_STOPPED && !ev.proc->snapshot)
				target_resume(&tg, ev.task, RESUME_CONT);
		}
		/* Wake up for the debuggee's output and for its stops alike. */
		struct pollfd pfd[2] = { { d->res, POLLIN, 0 }, { tg.sigfd, POLLIN, 0 } };
		if (poll(pfd, 2, 100) > 0 && (pfd[0].revents & POLLIN)) {
			ssize_t n = read(d->res, d->buf + d->len, sizeof d->buf - d->len - 1);
			if (n <= 0)
				die("debuggee output", n < 0 ? errno : EPIPE);
			d->len += (size_t)n;
		}
	}
}

static void command(struct dbg *d, char c, char *line, size_t max)
{
	if (write(d->cmd, &c, 1) != 1)
		die("debuggee input", errno);
	read_line(d, line, max);
}

static void launch(struct dbg *d, unsigned mib, int threads, bool thp)
{
	int cmd[2], res[2];
	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		die("pipe", errno);
	char size[16], nth[16];
	snprintf(size, sizeof size, "%u", mib);
	snprintf(nth, sizeof nth, "%d", threads);
	char *argv[] = { BENCH_TARGET, size, nth, thp ? "thp" : NULL, NULL };
	struct io io = { cmd[0], res[1] };
	struct launch_spec ls = { .argv = argv, .exitkill = true, .child_setup = plumb,
				  .child_arg = &io };
	struct proc *p;
	int e = target_launch(&tg, &ls, &p);
	if (e < 0)
		die("launch", e);
	close(cmd[0]);
	close(res[1]);
	memset(d, 0, sizeof *d);
	d->pid = p->pid;
	d->cmd = cmd[1];
	d->res = res[0];
	target_resume_all(&tg, NULL);
	char line[64];
	read_line(d, line, sizeof line);
	if (strcmp(line, "ready"))
		die("debuggee did not start", EPROTO);
}

static void finish(struct dbg *d)
{
	if (write(d->cmd, "q", 1) < 0)
		perror("write");
	close(d->cmd);
	close(d->res);
	for (struct proc *p = tg.procs; p; p = p->next)
		if (!p->dead)
			target_kill(&tg, p);
	while (tg.procs)
		target_forget(&tg, tg.procs);
}

/* The killed incarnations. Dead snapshot procs (address-space holders) belong to their
 * snapshot, which forgets them itself: forgetting them here freed them twice. */
static void forget_dead(void)
{
	for (struct proc *p = tg.procs, *n; p; p = n) {
		n = p->next;
		if (p->dead && !p->snapshot)
			target_forget(&tg, p);
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct snapshot *timed_take(double *ms)
{
	struct sbuf pb = { 0 };
	struct snapshot *s = NULL;
	int e = target_stop_all(&tg);
	if (e < 0)
		die("stop", e);
	uint64_t t0 = now_ns();
	e = snap_take(&tg, NULL, &s, &pb);
	uint64_t t1 = now_ns();
	if (e < 0) {
		fprintf(stderr, "%s", sbuf_str(&pb));
		die("snap_take", e);
	}
	sbuf_free(&pb);
	target_resume_all(&tg, NULL);
	*ms = (double)(t1 - t0) / 1e6;
	return s;
}

static void timed_restore(struct dbg *d, struct snapshot *s, double *ms)
{
	struct sbuf pb = { 0 };
	int e = target_stop_all(&tg);
	if (e < 0)
		die("stop", e);
	uint64_t t0 = now_ns();
	e = snap_restore(&tg, s, &pb);
	uint64_t t1 = now_ns();
	if (e < 0 || pb.len) {
		fprintf(stderr, "%s", sbuf_str(&pb));
		if (e < 0)
			die("snap_restore", e);
	}
	sbuf_free(&pb);
	forget_dead();
	target_resume_all(&tg, NULL);
	char line[64];
	command(d, 'p', line, sizeof line);     /* the restored process answers */
	*ms = (double)(t1 - t0) / 1e6;
}

struct row {
	unsigned mib;
	int threads;
	double fork, take, restore;
};

static struct row measure(unsigned mib, int threads, int runs, bool thp)
{
	struct dbg d;
	struct row r = { mib, threads, 0, 0, 0 };
	double *f = calloc((size_t)runs, sizeof *f), *t = calloc((size_t)runs, sizeof *t),
	       *rs = calloc((size_t)runs, sizeof *rs);
	char line[64];
	launch(&d, mib, threads, thp);
	/* Plain forks first, in a row, before any checkpoint: once a checkpoint has been
	 * made and dropped the debuggee's own forks get slower (its page structures were
	 * last written on another CPU), which would flatter the ratios. */
	command(&d, 'f', line, sizeof line);            /* warm-up, untimed */
	for (int i = 0; i < runs; i++) {
		command(&d, 'f', line, sizeof line);
		f[i] = (double)strtoull(line, NULL, 10) / 1e6;
	}
	double dummy;
	snap_drop(&tg, timed_take(&dummy));             /* warm-up, untimed */
	for (int i = 0; i < runs; i++) {
		struct snapshot *s = timed_take(&t[i]);
		snap_drop(&tg, s);
	}
	struct snapshot *s = timed_take(&dummy);
	timed_restore(&d, s, &dummy);
	for (int i = 0; i < runs; i++)
		timed_restore(&d, s, &rs[i]);
	snap_drop(&tg, s);
	if (samples) {
		fprintf(stderr, "%u MiB x%d fork/checkpoint/restore ms:", mib, threads);
		for (int i = 0; i < runs; i++)
			fprintf(stderr, " %.3f/%.3f/%.3f", f[i], t[i], rs[i]);
		fprintf(stderr, "\n");
	}
	r.fork = median(f, runs);
	r.take = median(t, runs);
	r.restore = median(rs, runs);
	finish(&d);
	free(f);
	free(t);
	free(rs);
	return r;
}

static void print_row(const struct row *r)
{
	double tb = 1.2 * r->fork + 0.5, rb = 1.5 * r->fork + 1.0;
	printf("| %7u MiB | %2d | %8.3f | %8.3f | %5.2fx | %8.3f %-4s | %8.3f | %5.2fx | %8.3f %-4s |\n",
	       r->mib, r->threads, r->fork, r->take, r->take / r->fork, tb,
	       r->take <= tb ? "ok" : "OVER", r->restore, r->restore / r->fork, rb,
	       r->threads > 1 ? "-" : r->restore <= rb ? "ok" : "OVER");
	fflush(stdout);
}

/* kB of one field of a /proc file. */
static uint64_t proc_kb(const char *path, const char *field)
{
	char *text, *f;
	uint64_t v = 0;
	if (read_file(path, &text, NULL) < 0)
		return 0;
	if ((f = strstr(text, field)))
		v = strtoull(f + strlen(field), NULL, 10);
	free(text);
	return v;
}

static uint64_t pid_kb(pid_t pid, const char *file, const char *field)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	return proc_kb(path, field);
}

/* Memory held by n checkpoints of a debuggee of mib MiB dirtying 10 MiB between them.
 * With compact, each checkpoint is compacted onto the next as soon as that one is
 * taken (what a session does once the memory budget is reached, oldest first), and a
 * few are restored at the end to check that the program's memory comes back. */
static void memory(unsigned mib, int n, bool thp, bool compact)
{
	struct dbg d;
	char line[64];
	launch(&d, mib, 1, thp);
	uint64_t pss0 = pid_kb(d.pid, "smaps_rollup", "\nPss:");
	uint64_t avail0 = proc_kb("/proc/meminfo", "MemAvailable:");
	uint64_t self0 = proc_kb("/proc/self/status", "\nRssAnon:");
	struct snapshot **s = calloc((size_t)n, sizeof *s);
	char (*sum)[32] = calloc((size_t)n, sizeof *sum);
	double ms, total_ms = 0, compact_ms = 0;
	int compacted = 0;
	for (int i = 0; i < n; i++) {
		if (compact)
			command(&d, 'c', sum[i], sizeof sum[i]);
		s[i] = timed_take(&ms);
		total_ms += ms;
		if (compact && i > 0) {
			struct sbuf why = { 0 };
			uint64_t t0 = now_ns();
			compacted += snap_compact(&tg, s[i - 1], s[i], false, &why) == 0;
			compact_ms += (double)(now_ns() - t0) / 1e6;
			sbuf_free(&why);
		}
		command(&d, 'd', line, sizeof line);
	}
	target_stop_all(&tg);
	uint64_t pss = 0, pte = 0, priv = 0;
	for (struct proc *p = tg.procs; p; p = p->next) {
		if (p->dead)
			continue;
		pss += pid_kb(p->pid, "smaps_rollup", "\nPss:");
		if (p->snapshot)
			pte += pid_kb(p->pid, "status", "\nVmPTE:");
	}
	for (int i = 0; i < n; i++)
		priv += snap_private_bytes(s[i]) / 1024;
	uint64_t held = snap_held_bytes(&tg) / 1024;
	uint64_t avail1 = proc_kb("/proc/meminfo", "MemAvailable:");
	uint64_t self1 = proc_kb("/proc/self/status", "\nRssAnon:");
	double pages = (double)tg.snap_delta_bytes / (1 << 20);
	double data = (double)(pss - pss0) / 1024, tables = (double)pte / 1024;
	double total = data + tables + pages;
	printf("| %u MiB%s, %d checkpoints%s | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB (%s 1.1 "
	       "GiB) | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %.2f ms | %s |\n", mib,
	       thp ? " (THP)" : "", n, compact ? ", compacted" : "", data, tables, pages, total,
	       total <= 1.1 * 1024 ? "<=" : ">", (double)held / 1024, (double)priv / 1024,
	       (double)((int64_t)avail0 - (int64_t)avail1) / 1024,
	       (double)((int64_t)self1 - (int64_t)self0) / 1024, total_ms / n,
	       compact ? "" : "-");
	if (compact) {
		/* Oldest (the longest chain), middle, newest compacted. */
		int pick[3] = { 0, n / 2, n - 2 }, same = 0;
		double rms[3];
		for (int k = 0; k < 3; k++) {
			timed_restore(&d, s[pick[k]], &rms[k]);
			command(&d, 'c', line, sizeof line);
			same += !strcmp(line, sum[pick[k]]);
			target_stop_all(&tg);
		}
		printf("|  | %d of %d compacted in %.2f ms each (mean); restoring checkpoints %d, %d and "
		       "%d: %.1f, %.1f, %.1f ms, memory as taken in %d of 3 |\n", compacted, n - 1,
		       compact_ms / (n > 1 ? n - 1 : 1), pick[0] + 1, pick[1] + 1, pick[2] + 1,
		       rms[0], rms[1], rms[2], same);
	}
	fflush(stdout);
	for (int i = 0; i < n; i++)
		snap_drop(&tg, s[i]);
	free(s);
	free(sum);
	target_resume_all(&tg, NULL);
	finish(&d);
}

int main(int argc, char **argv)
{
	int runs = 7, threads = 8;
	bool big = false, mem = true, thp = false;
	char sizes_arg[128] = "10,100,1024";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
			snprintf(sizes_arg, sizeof sizes_arg, "%s", argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--big"))
			big = true;
		else if (!strcmp(argv[i], "--no-memory"))
			mem = false;
		else if (!strcmp(argv[i], "--thp"))
			thp = true;
		else if (!strcmp(argv[i], "--samples"))
			samples = true;
		else {
			fprintf(stderr, "usage: bench_snapshot [--runs N] [--sizes 10,100,1024] [--big] "
				"[--threads N] [--no-memory] [--thp] [--samples]\n");
			return 2;
		}
	}
	if (runs < 1)
		runs = 1;
	log_init();
	int e = target_init(&tg);
	if (e < 0)
		die("target_init", e);
	unsigned sizes[16];
	int ns = 0;
	for (char *tok = strtok(sizes_arg, ","); tok && ns < 15; tok = strtok(NULL, ","))
		sizes[ns++] = (unsigned)atoi(tok);
	if (big)
		sizes[ns++] = 4096;

	printf("Latency, median of %d runs (ms). Bounds: checkpoint <= 1.2 x fork + 0.5 ms, "
	       "restore <= 1.5 x fork + 1 ms (single-threaded).%s\n\n", runs,
	       thp ? " Debuggee memory madvise(MADV_HUGEPAGE)." : "");
	printf("| memory      | th | fork     | checkpt  | ratio  | bound         | restore  | "
	       "ratio  | bound         |\n");
	printf("|-------------|----|----------|----------|--------|---------------|----------|"
	       "--------|---------------|\n");
	for (int i = 0; i < ns; i++) {
		struct row r = measure(sizes[i], 1, runs, thp);
		print_row(&r);
	}
	for (int i = 0; i < ns && threads > 1; i++) {
		struct row r = measure(sizes[i], threads, runs, thp);
		print_row(&r);
	}
	if (mem) {
		printf("\nMemory held by checkpoints (data: Pss of debuggee and checkpoints minus the "
		       "debuggee's own before; tables: VmPTE of the checkpoints; snap_held_bytes: the "
		       "engine's own total; sum of snap_private_bytes: Private_Dirty + tables per "
		       "checkpoint, pages shared by several checkpoints in none; compacted pages: "
		       "what compacted checkpoints keep in rewind; MemAvailable: system-wide drop, "
		       "noisy).\n\n");
		printf("| case | data | page tables | compacted pages | total | snap_held_bytes | sum "
		       "of snap_private_bytes | MemAvailable drop | rewind RssAnon growth | "
		       "checkpoint (mean) | |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
		memory(1024, 100, false, false);
		memory(1024, 100, true, false);
		memory(1024, 100, false, true);
	}
	target_fini(&tg);
	return 0;
}
