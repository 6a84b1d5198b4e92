/* record: the engine's lifecycle, its inf_policy (event dispatch and resumption),
 * checkpoints' places in history, and state changes made by the user. */
#include "replay/record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "core/agent/agent_abi.h"
#include "core/inject.h"
#include "core/log.h"
#include "replay/recdir.h"

#ifndef PR_SET_TSC
#define PR_SET_TSC 26
#endif
#ifndef PR_TSC_SIGSEGV
#define PR_TSC_SIGSEGV 2
#endif

static int on_event(void *ctx, struct inferior *inf, struct tev *ev);
static int resume_hook(void *ctx, struct inferior *inf, struct task *t, enum resume_mode m);
static int take_stop(void *ctx, struct inferior *inf, struct stop *st);
static int policy_timeout(void *ctx, struct inferior *inf);
static void policy_on_timeout(void *ctx, struct inferior *inf);

int rec_new(struct rec_engine **out)
{
	struct rec_engine *e = xcalloc(1, sizeof *e);
	e->policy.ctx = e;
	e->policy.on_event = on_event;
	e->policy.resume = resume_hook;
	e->policy.take_stop = take_stop;
	e->policy.timeout = policy_timeout;
	e->policy.on_timeout = policy_on_timeout;
	struct sched_opts so = { 0 };
	sched_set_opts(e, &so);
	e->enabled = true;
	e->live_at_end = true;
	e->ff_part = 0.85;
	e->emit_fd = -1;
	e->next_branch = 1;
	*out = e;
	return 0;
}

static void free_task(struct rec_task *rt)
{
	if (rt->statfd > 0)
		close(rt->statfd);
	cpu_alarm_disarm(&rt->ff_alarm);
	free(rt->mmap_file);
	free(rt);
}

void rec_drop_tasks(struct rec_engine *e)
{
	for (size_t i = 0; i < e->tasks.n; i++)
		free_task(e->tasks.v[i]);
	e->tasks.n = 0;
	e->ff_tid = 0;
	e->waiters = 0;
}

uint64_t rec_task_cpu(struct rec_task *rt, struct task *t)
{
	if (rt->statfd <= 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", t->proc->pid, t->tid);
		rt->statfd = open(path, O_RDONLY | O_CLOEXEC);
		if (rt->statfd < 0)
			return 0;
	}
	char buf[96];
	ssize_t n = pread(rt->statfd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtoull(buf, NULL, 10) + rt->cpu_bias;
}

void rec_task_mark(struct rec_engine *e, struct inferior *inf, pid_t live_tid)
{
	struct task *t = target_find_task(&inf->tg, live_tid);
	if (t && t->state != TS_DEAD && !t->proc->snapshot) {
		struct rec_task *rt = rec_task_of(e, t);
		rt->last_cpu = rec_task_cpu(rt, t);
		rt->young = false;
	}
}

/* Remove a directory tree made by this engine (the session's stored copies). */
static void remove_tree(const char *dir)
{
	char *cmd = xasprintf("rm -rf -- '%s'", dir);
	if (strchr(dir, '\'') == NULL && system(cmd) != 0)
		pr_warn(LM_REPLAY, "could not remove %s", dir);
	free(cmd);
}

void rec_free(struct rec_engine *e, struct inferior *inf)
{
	if (!e)
		return;
	if (inf && inf->policy == &e->policy)
		inf->policy = NULL;
	rec_drop_tasks(e);
	vec_free(&e->tasks);
	for (size_t i = 0; i < e->ckpts.n; i++) {
		rec_branch_unref(e->ckpts.v[i].branch);
		vec_free(&e->ckpts.v[i].incalls);
		vec_free(&e->ckpts.v[i].since);
		vec_free(&e->ckpts.v[i].sblast);
		vec_free(&e->ckpts.v[i].tidmap);
	}
	vec_free(&e->ckpts);
	vec_free(&e->fdoffs);
	vec_free(&e->sblast);
	sb_index_free(e);
	vec_free(&e->writes);
	vec_free(&e->write_pids);
	rec_branch_unref(e->branch);
	rec_branch_unref(e->loaded);
	if (e->prog_built)
		seccomp_prog_free(&e->prog);
	if (e->tmpdir) {
		if (e->rd)
			recdir_close(e->rd);
		remove_tree(e->tmpdir);
		free(e->tmpdir);
	} else if (e->offline && e->rd) {
		recdir_close(e->rd);   /* opened by rec_load */
	}
	vec_free(&e->tidmap);
	vec_free(&e->tcounts);
	free(e->rd_abs);
	free(e->scratch_path);
	free(e);
}

bool rec_enabled(const struct rec_engine *e)
{
	return e->enabled;
}

enum rec_mode rec_mode(const struct rec_engine *e)
{
	return e->mode;
}

uint64_t rec_log_len(const struct rec_engine *e)
{
	if (e->disk)
		return e->cursor;
	return e->branch ? rec_branch_len(e->branch) : 0;
}

const char *rec_last_divergence(const struct rec_engine *e)
{
	return e->last_divergence;
}

uint64_t rec_event_now(const struct rec_engine *e)
{
	return e->cursor;
}

void rec_describe(const struct rec_engine *e, struct sbuf *out)
{
	static const char *const names[] = { "off", "recording", "replaying" };
	if (!e->enabled && e->mode == REC_OFF) {
		sbuf_puts(out, "Recording is off (set record on: the next run records).");
		return;
	}
	if (!e->branch) {
		sbuf_puts(out, "Recording is on; nothing recorded yet (the next run records).");
		return;
	}
	sbuf_printf(out, "Mode: %s. History branch %u: %" PRIu64 " events (%" PRIu64
		    " KiB in memory); current event %" PRIu64 ".", names[e->mode],
		    rec_branch_id(e->branch), rec_branch_len(e->branch),
		    rec_branch_bytes(e->branch) / 1024, e->cursor);
	if (e->mode == REC_REPLAYING)
		sbuf_printf(out, " %" PRIu64 " events left to replay.",
			    rec_branch_len(e->branch) - e->cursor);
}

/* ---- launch ---- */

static int build_prog(struct rec_engine *e, struct sbuf *err)
{
	if (e->prog_built && e->sb_range == !e->offline)
		return 0;
	if (e->prog_built)
		seccomp_prog_free(&e->prog);
	e->prog_built = false;
	struct seccomp_rule rules[SC_TABLE_SIZE];
	size_t n = seccomp_rules_from_table(rules);
	for (size_t i = 0; i < n; i++)
		if (rules[i].nr == 9) {   /* mmap: anonymous mappings run untraced */
			rules[i].skip_arg = 3;
			rules[i].skip_mask = MAP_ANONYMOUS;
			rules[i].skip_value = MAP_ANONYMOUS;
		}
	struct seccomp_opts o = { .rules = rules, .nrules = n, .trace_foreign = true,
				  .trace_unknown = true };
	/* The agent's gate runs untraced while recording (sysbuf.h); a replay of a
	 * recording traps it. */
	e->sb_range = !e->offline;
	if (e->sb_range) {
		o.agent_lo = RWSB_GATE;
		o.agent_hi = RWSB_GATE + 1;
	}
	int r = seccomp_build(&o, &e->prog);
	if (r < 0) {
		if (err)
			sbuf_printf(err, "cannot build the recording filter: %s", strerror(-r));
		return r;
	}
	e->prog_built = true;
	return 0;
}

/* Tracer and tracee on one CPU (the program inherits it): one task runs at a time
 * anyway, and a ptrace round trip between CPUs costs ten times more (PEERS.md).
 * A loaded recording is replayed on the CPU it was recorded on: cpuid tells the
 * program which one it runs on (leaf 1's APIC id, kept by static glibc in writable
 * memory). */
static void pin_cpu(struct rec_engine *e)
{
	int cpu = e->offline && e->have_rec_cpu ? (int)e->rec_cpu : sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) {
		if (e->offline && e->have_rec_cpu)
			pr_warn(LM_REPLAY, "cannot replay on CPU %d, where the program was recorded "
				"(%s): what cpuid reports to it may differ", cpu, strerror(errno));
		else
			pr_debug(LM_REPLAY, "cannot pin to CPU %d: %s", cpu, strerror(errno));
	}
	/* On a shared CPU the tracer must run as soon as it wakes (a time slice or a
	 * replay's untrapped run ends): real-time priority where allowed, not passed
	 * on to the program. Round-robin, not FIFO: another rewind pinned to the same
	 * CPU at the same priority (parallel tests) would hold it for as long as it
	 * computes, seconds, with this program stopped; under RR they take turns. */
	struct sched_param sp = { .sched_priority = 1 };
	if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0)
		pr_debug(LM_REPLAY, "no real-time priority for rewind: %s", strerror(errno));
}

/* In the child before exec: rdtsc faults, the filter traps what the table says. */
static int child_setup(void *arg)
{
	struct rec_engine *e = arg;
	if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) < 0)
		return -errno;
	return seccomp_install(&e->prog);
}

int rec_prepare_launch(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	/* Installed for good: even unrecorded, a program started for recording has
	 * rdtsc faulting, and the engine emulates it. */
	inf->policy = &e->policy;
	e->inf = inf;
	e->mode = REC_OFF;
	rec_drop_tasks(e);
	if (!e->enabled) {
		if (inf->child_setup == child_setup)
			inf->child_setup = NULL;
		return 0;
	}
	int r = build_prog(e, err);
	if (r < 0)
		return r;
	inf->child_setup = child_setup;
	inf->child_arg = e;
	pin_cpu(e);
	return 0;
}

/* The session's own place for stored copies of mapped files. */
static int ensure_recdir(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	if (e->rd)
		return 0;
	char tmpl[] = "/tmp/rewind-session-XXXXXX";
	if (!mkdtemp(tmpl)) {
		int r = -errno;
		sbuf_printf(err, "cannot create a directory for the recording: %s", strerror(errno));
		return r;
	}
	const char *prog = inf->argv && inf->argv[0] ? inf->argv[0] : "program";
	int r = recdir_create(NULL, tmpl, prog, &e->rd);
	if (r < 0) {
		sbuf_printf(err, "cannot create the recording directory %s: %s", tmpl, strerror(-r));
		rmdir(tmpl);
		return r;
	}
	e->tmpdir = xstrdup(tmpl);
	return 0;
}

static void new_history(struct rec_engine *e)
{
	rec_branch_unref(e->branch);
	e->branch = rec_branch_new(e->next_branch++);
	e->cursor = 0;
	e->fdoffs.n = 0;
	e->tcounts.n = 0;
	e->tidmap.n = 0;
	rec_drop_tasks(e);
	sched_reset(e, NULL);
}

/* Event 0: what the process was when the recording started. */
static void log_meta(struct rec_engine *e, struct inferior *inf, struct proc *p)
{
	char path[64], exe[4096] = "", cwd[4096] = "";
	snprintf(path, sizeof path, "/proc/%d/exe", p->pid);
	ssize_t n = readlink(path, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof path, "/proc/%d/cwd", p->pid);
	n = readlink(path, cwd, sizeof cwd - 1);
	cwd[n > 0 ? n : 0] = 0;
	char *maps = NULL, *aux = NULL, *env = NULL;
	size_t auxlen = 0, envlen = 0;
	snprintf(path, sizeof path, "/proc/%d/maps", p->pid);
	read_file(path, &maps, NULL);
	snprintf(path, sizeof path, "/proc/%d/auxv", p->pid);
	read_file(path, &aux, &auxlen);
	snprintf(path, sizeof path, "/proc/%d/environ", p->pid);
	read_file(path, &env, &envlen);
	VEC(const char *) ev = { 0 };
	for (size_t i = 0; env && i < envlen; i += strlen(env + i) + 1)
		vec_push(&ev, env + i);
	size_t argc = 0;
	while (inf->argv && inf->argv[argc])
		argc++;
	struct trace_ev m = { .type = TR_META };
	m.meta.pid = p->pid;
	m.meta.argv = (const char *const *)inf->argv;
	m.meta.argc = argc;
	m.meta.env = ev.v;
	m.meta.envc = ev.n;
	m.meta.cwd = cwd;
	m.meta.exe = exe;
	m.meta.maps = maps ? maps : "";
	m.meta.auxv = (const uint64_t *)aux;
	m.meta.nauxv = aux ? auxlen / 16 : 0;
	cpu_set_t cpus;
	if (sched_getaffinity(p->pid, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) == 1)
		for (int c = 0; c < CPU_SETSIZE && !m.meta.have_cpu; c++)
			if (CPU_ISSET(c, &cpus)) {
				m.meta.have_cpu = true;
				m.meta.cpu = (unsigned)c;
			}
	rec_log(e, inf, &m);
	vec_free(&ev);
	free(maps);
	free(aux);
	free(env);
}

/* A loaded recording: replay it from its start in the freshly launched program. */
static int start_offline(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	struct proc *p = inf->main;
	struct task *t = proc_main_task(p);
	int r = rec_vdso_patch(p);
	if (r < 0) {
		sbuf_printf(err, "cannot patch the vDSO of the replayed process: %s", strerror(-r));
		return r;
	}
	if (rec_image_exists(e))
		r = rec_image_restore(e, inf, err);   /* recorded from an attach */
	else
		r = rec_stack_apply(e, t, 0, err);
	if (r < 0)
		return r;
	rec_branch_unref(e->branch);
	e->branch = rec_branch_ref(e->loaded);
	e->cursor = 0;
	e->fdoffs.n = 0;
	e->tidmap.n = 0;
	e->tcounts.n = 0;
	rec_drop_tasks(e);
	sched_reset(e, t);
	rpl_map_tid(e, e->rec_pid, p->pid);
	e->mode = REC_REPLAYING;
	inf->policy = &e->policy;
	pr_info(LM_REPLAY, "replaying %" PRIu64 " events as pid %d (recorded as %d)",
		rec_branch_len(e->branch), p->pid, e->rec_pid);
	return 0;
}

int rec_start(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	if (!e->enabled || !inf_alive(inf))
		return 0;
	if (inf->child_setup != child_setup) {
		sbuf_puts(err, "the program was started without the recording filter");
		return -EINVAL;
	}
	if (e->offline)
		return start_offline(e, inf, err);
	int r = e->disk ? 0 : ensure_recdir(e, inf, err);
	if (r < 0)
		return r;
	struct proc *p = inf->main;
	r = rec_vdso_patch(p);
	if (r < 0)
		inf_notice(inf, "[record: the vDSO could not be patched (%s); time calls through it "
			   "are not recorded]", strerror(-r));
	new_history(e);
	e->mode = REC_RECORDING;
	inf->policy = &e->policy;
	if (e->disk) {
		/* The executable, and the stack the kernel built for it (event 0). */
		char path[64], exe[4096];
		snprintf(path, sizeof path, "/proc/%d/exe", p->pid);
		ssize_t n = readlink(path, exe, sizeof exe - 1);
		const char *stored;
		if (n > 0) {
			exe[n] = 0;
			if ((r = recdir_store(e->rd, exe, &stored)) < 0) {
				sbuf_printf(err, "cannot store a copy of %s: %s", exe, strerror(-r));
				return r;
			}
		}
		if ((r = rec_stack_save(e, proc_main_task(p), 0)) < 0) {
			sbuf_printf(err, "cannot keep the program's initial stack: %s", strerror(-r));
			return r;
		}
	}
	log_meta(e, inf, p);
	pr_info(LM_REPLAY, "recording pid %d (branch %u)", p->pid, rec_branch_id(e->branch));
	return 0;
}

/* The filter and the rdtsc trap, put into a running process by injection. */
static int install_attached(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	struct target *tg = &inf->tg;
	struct proc *p = inf->main;
	struct task *t = proc_main_task(p);
	int64_t x;
	int r = seccomp_inject(tg, t, &e->prog);
	if (r < 0) {
		sbuf_printf(err, "cannot install the recording filter in process %d: %s", p->pid,
			    strerror(-r));
		return r;
	}
	for (struct task *o = p->tasks; o; o = o->next) {
		if (o->state != TS_STOPPED)
			continue;
		/* A registered rseq area is written by the kernel at every return to the
		 * thread, which replay cannot reproduce: unregister it (as the recording
		 * filter denies rseq to launched programs). */
		struct { uint64_t ptr; uint32_t size, sig, flags, pad; } rc = { 0 };
		if (ptrace(0x420f /* PTRACE_GET_RSEQ_CONFIGURATION */, o->tid, sizeof rc, &rc) > 0 &&
		    rc.ptr) {
			int64_t u;
			inject_syscall6(tg, o, 334, &u, rc.ptr, rc.size, 1 /* UNREGISTER */, rc.sig, 0, 0);
			if (u < 0)
				pr_warn(LM_REPLAY, "tid %d: rseq not unregistered: %s", o->tid, strerror((int)-u));
		}
		r = inject_syscall6(tg, o, 157, &x, PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0, 0);
		if (r < 0 || x < 0) {
			sbuf_printf(err, "cannot trap rdtsc in thread %d: %s", o->tid,
				    strerror(r < 0 ? -r : (int)-x));
			return r < 0 ? r : (int)x;
		}
	}
	return 0;
}

int rec_start_attached(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	if (!e->enabled || !inf_alive(inf))
		return 0;
	e->inf = inf;
	int r = build_prog(e, err);
	if (r == 0 && !e->disk)
		r = ensure_recdir(e, inf, err);
	if (r < 0)
		return r;
	struct proc *p = inf->main;
	for (struct task *t = p->tasks; t; t = t->next)
		if (t->state == TS_STOPPED && (r = target_settle(&inf->tg, t)) < 0) {
			sbuf_printf(err, "cannot bring thread %d out of its syscall: %s", t->tid,
				    strerror(-r));
			return r;
		}
	if ((r = install_attached(e, inf, err)) < 0)
		return r;
	r = rec_vdso_patch(p);
	if (r < 0)
		inf_notice(inf, "[record: the vDSO could not be patched (%s); time calls through it "
			   "are not recorded]", strerror(-r));
	if (e->disk) {
		char path[64], exe[4096];
		snprintf(path, sizeof path, "/proc/%d/exe", p->pid);
		ssize_t n = readlink(path, exe, sizeof exe - 1);
		const char *stored;
		if (n > 0) {
			exe[n] = 0;
			if ((r = recdir_store(e->rd, exe, &stored)) < 0) {
				sbuf_printf(err, "cannot store a copy of %s: %s", exe, strerror(-r));
				return r;
			}
		}
		/* The attach point is the recording's first snapshot. */
		if ((r = rec_image_save(e, inf, err)) < 0)
			return r;
	}
	new_history(e);
	e->mode = REC_RECORDING;
	inf->policy = &e->policy;
	log_meta(e, inf, p);
	pr_info(LM_REPLAY, "recording attached pid %d", p->pid);
	return 0;
}

void rec_program_gone(struct rec_engine *e, struct inferior *inf)
{
	(void)inf;
	/* Killed in the middle of a replay: the rest of the log stays reachable
	 * through the checkpoints that refer to its branch. */
	e->mode = REC_OFF;
	e->watching = false;
	rec_drop_tasks(e);
}

void rec_set_enabled(struct rec_engine *e, struct inferior *inf, bool on)
{
	e->enabled = on;
	if (!on && e->mode != REC_OFF) {
		if (e->mode == REC_REPLAYING)
			rpl_fd_sync(e, inf);
		rec_program_gone(e, inf);
		if (inf->child_setup == child_setup)
			inf->child_setup = NULL;
	}
}

/* ---- logging and resuming ---- */

int rec_log(struct rec_engine *e, struct inferior *inf, struct trace_ev *ev)
{
	if (log_on(LM_REPLAY, LOG_TRACE)) {
		struct sbuf d = { 0 };
		uint64_t num = ev->num;
		ev->num = e->cursor;
		trace_dump_ev(&d, ev);
		ev->num = num;
		pr_trace(LM_REPLAY, "logged %s", sbuf_str(&d));
		sbuf_free(&d);
	}
	if (ev->tid && ev->type != TR_SYSBUF) {
		/* What the thread's agent logged comes first (sysbuf.h). */
		if (e->mode == REC_RECORDING)
			sb_flush(e, inf, sched_live_task(inf, ev->tid));
		rec_count_event(e, ev->tid);
		if (!rec_ev_yield(ev))
			rec_task_mark(e, inf, ev->tid);
	}
	if (e->disk) {
		/* Straight to the trace; nothing kept in memory. */
		int w = trace_write(e->tw, ev, NULL);
		if (w < 0) {
			pr_err(LM_REPLAY, "trace: event %" PRIu64 " not written: %s", e->cursor,
			       strerror(-w));
			return w;
		}
		e->cursor++;
		return 0;
	}
	if (e->branch && rec_branch_len(e->branch) > e->cursor)
		rec_branch_truncate(e->branch, e->cursor);   /* never happens while recording */
	int r = rec_branch_append(e->branch, ev);
	if (r < 0) {
		pr_err(LM_REPLAY, "cannot log a %s event: malformed", trace_type_name(ev->type));
		return r;
	}
	if (e->tw) {
		int w = trace_write(e->tw, ev, NULL);
		if (w < 0)
			pr_err(LM_REPLAY, "trace: event %" PRIu64 " not written: %s", e->cursor,
			       strerror(-w));
	}
	e->cursor = rec_branch_len(e->branch);
	return 0;
}

struct rec_task *rec_task_of(struct rec_engine *e, struct task *t)
{
	for (size_t i = 0; i < e->tasks.n; i++)
		if (e->tasks.v[i]->tid == t->tid)
			return e->tasks.v[i];
	struct rec_task *rt = xcalloc(1, sizeof *rt);
	rt->tid = t->tid;
	rt->want = RESUME_CONT;
	rt->placeholder = -1;
	rt->ff_alarm.fd = -1;
	rt->alarm_fd_last = -1;
	vec_push(&e->tasks, rt);
	return rt;
}

static void forget_task(struct rec_engine *e, pid_t tid)
{
	for (size_t i = 0; i < e->tasks.n; i++)
		if (e->tasks.v[i]->tid == tid) {
			if (e->tasks.v[i]->ev_wait != EW_NONE && e->waiters)
				e->waiters--;
			free_task(e->tasks.v[i]);
			e->tasks.v[i] = e->tasks.v[--e->tasks.n];
			return;
		}
}

static bool queued_for(struct inferior *inf, struct task *t)
{
	for (size_t i = 0; i < inf->tg.queue.n; i++)
		if (inf->tg.queue.v[i].task == t)
			return true;
	return false;
}

/* Replay: what t does next may come right after the call it is entering, so the
 * call is finished first: an asynchronous event of t (a signal, a preemption), the
 * target standing at the instruction after the syscall, or t's YIELD. */
static bool next_after_call(struct rec_engine *e, struct task *t)
{
	if (e->have_target && rec_event_here(e) == e->target.event &&
	    rpl_live_tid(e, e->target.tid) == t->tid && task_pc(t) == e->target.pos.pc)
		return true;
	const struct trace_ev *ev = rpl_peek(e);
	return ev && rpl_live_tid(e, ev->tid) == t->tid &&
	       (ev->type == TR_SIGNAL || (ev->type == TR_SCHED && (ev->sched.reason == TRSCHED_PREEMPT ||
								    ev->sched.reason == TRSCHED_YIELD)));
}

int rec_run(struct rec_engine *e, struct inferior *inf, struct task *t, enum resume_mode m)
{
	if (queued_for(inf, t))
		return 0;   /* its event is handled first */
	if (e->mode == REC_RECORDING) {
		rec_sig_resume(e, inf, t);
		int r = rec_live_target(e, inf, t);   /* a replay's target past its log */
		if (r < 0)
			return r;
	} else if (e->mode == REC_REPLAYING) {
		int r = rpl_prepare(e, inf, t);
		if (r < 0)
			return r;
		if (r > 0)
			return 0;   /* it gave way to another thread, or stopped */
	}
	return target_resume(&inf->tg, t, m == RESUME_SYSCALL ? RESUME_CONT : m);
}

int rec_resume_want(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	bool at_entry = t->in_syscall && t->last_ev == TEV_SECCOMP;
	bool hold = e->mode == REC_REPLAYING ? sched_rpl_resume(e, inf, t) != 0 :
		    e->mode == REC_RECORDING ? sched_rec_resume(e, inf, t) != 0 : false;
	if (at_entry && (hold || (e->mode == REC_REPLAYING && next_after_call(e, t)))) {
		/* Finish the call first (it was skipped or denied): the task waits at its
		 * exit, or stands where a signal or the target was recorded right after
		 * the call (a stop asked for at the entry was lost), or gives way there
		 * (YIELD). */
		rt->pend = RP_REPLAY;
		rt->passthru = true;
		rt->fix_orig = e->mode == REC_REPLAYING;
		return target_resume(&inf->tg, t, RESUME_SYSCALL);
	}
	if (hold)
		return 0;
	if (rt->want != RESUME_STEP)
		return rec_run(e, inf, t, rt->want);
	if (at_entry)   /* a seccomp stop: the kernel reports the step after the call */
		return rec_run(e, inf, t, RESUME_STEP);
	/* At a syscall-exit or signal stop the stepped instruction is complete. */
	struct tev ev = { .kind = TEV_STEP, .task = t, .proc = t->proc, .tid = t->tid };
	ev.addr = task_pc(t);
	target_queue_push(&inf->tg, &ev);
	return 0;
}

int rec_request_stop(struct rec_engine *e, const struct stop *st)
{
	e->stop = *st;
	e->have_stop = true;
	return -1;
}

static int take_stop(void *ctx, struct inferior *inf, struct stop *st)
{
	struct rec_engine *e = ctx;
	(void)inf;
	if (!e->have_stop)
		return -1;
	*st = e->stop;
	e->have_stop = false;
	return 0;
}

void rec_regs_args(const struct user_regs_struct *r, uint64_t args[6])
{
	args[0] = r->rdi;
	args[1] = r->rsi;
	args[2] = r->rdx;
	args[3] = r->r10;
	args[4] = r->r8;
	args[5] = r->r9;
}

static int resume_hook(void *ctx, struct inferior *inf, struct task *t, enum resume_mode m)
{
	struct rec_engine *e = ctx;
	if (e->mode == REC_OFF || t->proc->snapshot)
		return target_resume(&inf->tg, t, m);
	struct rec_task *rt = rec_task_of(e, t);
	if (m == RESUME_SYSCALL && rt->pend == RP_NONE)
		m = RESUME_CONT;   /* left over from our own syscall-exit resumption */
	if (m != RESUME_SYSCALL)
		rt->want = m;
	if (rt->pend != RP_NONE) {
		/* Inside a call we follow to its exit: its queued exit comes first. */
		if (queued_for(inf, t) || rt->sstate == SS_WAIT)
			return 0;
		int x = target_resume(&inf->tg, t, RESUME_SYSCALL);
		/* Replay: a vfork parent back in its call gives the turn to its child
		 * (the log's block event, which needs it running): the child may wait for
		 * that already. */
		if (x == 0 && e->mode == REC_REPLAYING && sched_rpl_drive(e, inf) < 0)
			return 0;   /* a divergence: reported at the next event */
		return x;
	}
	if (rt->sstate == SS_ENTRY || rt->ev_wait != EW_NONE)
		return 0;   /* replay: waits at a call's entry for its result, or for its event */
	if (rt->rs_pend && rt->sstate == SS_KERNEL)
		/* Record: its blocking call, interrupted by our stop, is made again whoever's
		 * turn it is (restart_goes_on); held, it never was (a join on the thread
		 * that had the turn waited for ever once that thread exited). */
		return target_resume(&inf->tg, t, RESUME_CONT);
	if (e->mode == REC_RECORDING && sched_rec_resume(e, inf, t))
		return 0;   /* not its turn */
	if (e->mode == REC_REPLAYING) {
		if (sched_rpl_drive(e, inf) < 0)
			return 0;   /* a divergence: reported at the next event */
		if (sched_rpl_resume(e, inf, t))
			return 0;
	}
	return rec_run(e, inf, t, m);
}

static int policy_timeout(void *ctx, struct inferior *inf)
{
	struct rec_engine *e = ctx;
	if (e->mode == REC_REPLAYING)
		return rpl_ff_timeout_ms(e);
	return sched_timeout_ms(e, inf);
}

static void policy_on_timeout(void *ctx, struct inferior *inf)
{
	struct rec_engine *e = ctx;
	if (e->mode == REC_REPLAYING)
		rpl_ff_on_timeout(e, inf);
	else
		sched_on_timeout(e, inf);
}

/* ---- events ---- */

static int on_exec(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	t->proc->tags &= ~PROC_TAG_SB_AGENT;   /* a new program: its agent says hello again */
	rt->sb_addr = 0;
	int r = rec_vdso_patch(t->proc);
	if (r < 0)
		inf_notice(inf, "[record: the vDSO of process %d could not be patched: %s]",
			   t->proc->pid, strerror(-r));
	if (e->mode == REC_RECORDING) {
		char path[64], exe[4096] = "";
		snprintf(path, sizeof path, "/proc/%d/exe", t->proc->pid);
		ssize_t n = readlink(path, exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = 0;
		const char *stored = NULL;
		if (e->rd && exe[0])
			recdir_store(e->rd, exe, &stored);
		if (e->disk)
			rec_stack_save(e, t, e->cursor);
		struct trace_ev ev = { .type = TR_TASK, .tid = t->tid };
		ev.task.kind = TRT_EXEC;
		ev.task.other = t->tid;
		ev.task.path = exe;
		rec_log(e, inf, &ev);
		rt->pend = RP_NONE;   /* the execve is complete; its exit stop needs nothing */
		return 0;
	}
	int x = rpl_exec_event(e, inf, t);
	return x < 0 ? x : 0;   /* waiting (1): held at the resume (resume_hook) */
}

int rpl_exec_event(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	/* Replaying: the recorded exec event must be next. */
	const struct trace_ev *ev = rpl_peek(e);
	if (ev && rpl_live_tid(e, ev->tid) != t->tid && sched_rpl_in_flight(e, inf, ev)) {
		/* The vfork parent this exec released came back first, recorded. */
		if (rt->ev_wait == EW_NONE) {
			rt->ev_wait = EW_EXEC;
			e->waiters++;
		}
		return 1;
	}
	if (!ev || ev->type != TR_TASK || ev->task.kind != TRT_EXEC)
		return rpl_diverge(e, inf, t, "the program executed a new program; the recording "
				   "has %s here", ev ? trace_type_name(ev->type) : "nothing");
	uint64_t at = e->cursor;
	rpl_consume(e);
	rt->pend = RP_NONE;
	if (e->offline) {
		struct sbuf err = { 0 };
		if (rec_stack_apply(e, t, at, &err) < 0) {
			int x = rpl_diverge(e, inf, t, "%s", sbuf_str(&err));
			sbuf_free(&err);
			return x;
		}
		sbuf_free(&err);
	}
	return 0;
}

static int on_event_of(struct rec_engine *e, struct inferior *inf, struct tev *ev);

static int on_event(void *ctx, struct inferior *inf, struct tev *ev)
{
	struct rec_engine *e = ctx;
	bool had_stop = e->have_stop;
	int r = on_event_of(e, inf, ev);
	if (r >= 0 && e->have_stop && !had_stop)
		r = -1;   /* asked for on the way: callers turn a resume's <0 into "not handled" */
	if (r >= 0 && e->waiters && e->mode == REC_REPLAYING && !e->have_stop &&
	    sched_rpl_drive(e, inf) < 0)
		r = -1;   /* a divergence (the stop is pending) */
	if (r >= 0 && e->halt_event && e->cursor >= e->halt_event && !e->halted &&
	    e->mode == REC_REPLAYING && !e->have_stop) {
		e->halted = true;
		struct stop st = { .reason = SR_INTERRUPTED, .print = SP_SRC_AND_LOC };
		struct task *t = ev->task && ev->task->state != TS_DEAD ? ev->task : inf->cur;
		if (t)
			stop_fill_thread(&st, t);
		return rec_request_stop(e, &st);
	}
	return r;
}

static int on_event_of(struct rec_engine *e, struct inferior *inf, struct tev *ev)
{
	struct task *t = ev->task;
	if (!t || t->proc->snapshot)
		return 0;
	if (ev->kind == TEV_SIGNAL && t->pending_sig == CPU_ALARM_SIG) {
		int r = rpl_ff_alarm(e, inf, t);   /* ours: dropped in every mode */
		if (r != -2)
			return r;
	}
	if (e->mode == REC_OFF)   /* rdtsc may still fault: emulate it, log nothing */
		return ev->kind == TEV_SIGNAL && t->pending_sig == SIGSEGV ?
		       rec_tsc_fault(e, inf, t) : 0;
	if (ev->kind == TEV_SECCOMP && t->last_ev == TEV_SECCOMP && t->in_syscall &&
	    t->state == TS_STOPPED) {
		int r = sb_seccomp(e, inf, t);
		if (r != 2)
			return r;
	}
	if (e->mode == REC_REPLAYING && ev->kind != TEV_INTERRUPT)
		rpl_ff_cancel(e, t);   /* any other stop ends its untrapped run */
	switch (ev->kind) {
	case TEV_SECCOMP: {
		if (t->last_ev != TEV_SECCOMP || !t->in_syscall || t->state != TS_STOPPED)
			return 0;   /* stale: the stop was settled meanwhile */
		struct user_regs_struct *r;
		if (task_get_regs(t, &r) < 0)
			return 0;
		int nr = (int)(int64_t)r->orig_rax;
		if (e->mode == REC_REPLAYING)
			return rpl_sys_entry(e, inf, t, nr);
		return rec_sys_entry(e, inf, t, nr);
	}
	case TEV_SYSCALL_EXIT: {
		struct rec_task *rt = rec_task_of(e, t);
		if (rt->pend == RP_RECORD)
			return rec_sys_exit(e, inf, t);
		if (rt->pend == RP_REPLAY)
			return rpl_sys_exit(e, inf, t);
		return 0;
	}
	case TEV_SIGNAL: {
		if (t->pending_sig == SIGSEGV) {
			int r = rec_tsc_fault(e, inf, t);
			if (r != 0)
				return r;
		}
		if (e->mode == REC_REPLAYING)
			return rpl_sig_stop(e, inf, t);
		rec_restart_flush(e, inf, t);
		return rec_sig_stop(e, inf, t);
	}
	case TEV_BREAKPOINT:
	case TEV_HWBP:
	case TEV_CONDTRAP:
		if (e->mode == REC_REPLAYING || e->have_target)
			return rpl_search_hit(e, inf, t, ev);
		return 0;
	case TEV_INTERRUPT:
		if (e->mode == REC_RECORDING)
			return sched_rec_interrupted(e, inf, t);
		return rpl_ff_interrupted(e, inf, t);
	case TEV_FORK: case TEV_VFORK: case TEV_CLONE:
		if (e->mode == REC_REPLAYING)
			return rpl_new_task(e, inf, t, ev) < 0 ? -1 : 0;
		if (ev->child) {
			struct trace_ev te = { .type = TR_TASK, .tid = t->tid };
			te.task.kind = ev->kind == TEV_FORK ? TRT_FORK : ev->kind == TEV_VFORK ?
				       TRT_VFORK : TRT_CLONE;
			te.task.other = ev->child->tid;
			rec_log(e, inf, &te);
			if (ev->kind != TEV_CLONE)   /* the child's agent numbers on */
				sb_set_last(e, ev->child->tid, sb_last(e, t->tid));
			sched_new_task(e, ev->child);
			if (ev->kind == TEV_VFORK)
				sched_rec_vfork(e, inf, t, ev->child);
		}
		return 0;
	case TEV_EXEC:
		return on_exec(e, inf, t) < 0 ? -1 : 0;
	case TEV_THREAD_EXITED:
		forget_task(e, ev->tid);
		sched_gone(e, inf, ev->tid);
		if (e->mode == REC_REPLAYING)
			return sched_rpl_kick(e, inf) < 0 ? -1 : 0;
		return 0;
	case TEV_EXITED:
		if (e->mode == REC_RECORDING && ev->proc == inf->main) {
			struct trace_ev end = { .type = TR_END };
			end.end.status = ev->status;
			rec_log(e, inf, &end);
		} else if (e->mode == REC_REPLAYING && ev->proc == inf->main) {
			const struct trace_ev *n = rpl_peek(e);
			if (n && n->type == TR_END)
				rpl_consume(e);
		}
		for (struct task *o = ev->proc->tasks; o; o = o->next) {
			forget_task(e, o->tid);
			sched_gone(e, inf, o->tid);
		}
		if (e->mode == REC_REPLAYING)
			return sched_rpl_kick(e, inf) < 0 ? -1 : 0;
		return 0;
	default:
		return 0;
	}
}

bool rec_offline(const struct rec_engine *e)
{
	return e && e->offline;
}
