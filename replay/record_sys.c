/* record_sys: recording trapped syscalls and faulting rdtsc instructions. */
#include "replay/record_int.h"

#include <errno.h>
#include <sys/syscall.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include "core/disasm.h"
#include "core/log.h"
#include "core/maps.h"
#include "replay/recdir.h"

#define MAX_PIECE (64u << 20)   /* a bigger out-buffer is a bug in the table */

static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return proc_read(ctx, RADDR(addr), buf, len);
}

/* A call made through the recording: note when replay may not reproduce it. */
static void warn_once(struct rec_engine *e, struct inferior *inf, int nr, const char *why)
{
	if (nr < 0 || nr >= SC_TABLE_SIZE || e->warned[nr])
		return;
	e->warned[nr] = true;
	const char *name = sc_name(nr);
	inf_notice(inf, "[record: %s (syscall %d) %s]", name ? name : "unknown", nr, why);
}

static int restart_goes_on(struct rec_engine *e, struct inferior *inf, struct task *t, int nr);

int rec_sys_entry(struct rec_engine *e, struct inferior *inf, struct task *t, int nr)
{
	struct rec_task *rt = rec_task_of(e, t);
	struct user_regs_struct *r;
	int err = task_get_regs(t, &r);
	if (err < 0)
		return 0;
	if (restart_goes_on(e, inf, t, nr))
		return 1;
	rt->sb_fs = r->fs_base;   /* the agent's buffer is found through it while the call runs */
	if (nr == SYS_execve || nr == SYS_execveat)
		sb_flush(e, inf, t);   /* the exec takes the agent's buffer with it */
	const struct sc_entry *se = sc_get(nr);
	uint64_t args[6];
	rec_regs_args(r, args);
	if ((se && (se->flags & SCF_DENY)) || nr == 101) {
		/* Programs fall back when these are missing; replay could not follow them.
		 * ptrace: rewind is the tracer of the whole tree, so the program cannot be
		 * one (the kernel says EPERM); a program waiting for its tracee's stops
		 * would wait for ever: the recording stops, and says why, at the first. */
		int64_t fail = nr == 101 ? -EPERM : -ENOSYS;
		r->orig_rax = (uint64_t)-1;
		r->rax = (uint64_t)fail;
		t->regs_dirty = true;
		struct trace_ev ev = { .type = TR_SYSCALL, .tid = t->tid };
		ev.sys.nr = nr;
		memcpy(ev.sys.args, args, sizeof args);
		ev.sys.ret = fail;
		rec_log(e, inf, &ev);
		if (nr == 101 && !e->ptrace_refused) {
			e->ptrace_refused = true;
			struct stop st = { .reason = SR_ERROR, .print = SP_SRC_AND_LOC };
			stop_fill_thread(&st, t);
			snprintf(st.err, sizeof st.err, "process %d calls ptrace (request %d): a "
				 "program that traces cannot be recorded (rewind is the tracer; "
				 "`rewind run` debugs nested tracers). Resumed, its ptrace calls fail "
				 "with EPERM.", t->proc->pid, (int)args[0]);
			return rec_request_stop(e, &st);
		}
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	if (!se)
		warn_once(e, inf, nr, "is not in rewind's syscall table; its memory effects are "
			  "not recorded and replay may diverge");
	else if (se->cls == SC_UNSUPPORTED)
		warn_once(e, inf, nr, "cannot be replayed faithfully; replay may diverge after it");
	if (nr == 231) {
		sb_flush_all(e, inf, t->proc);   /* its other threads end with it */
		rec_note_exit(e, inf, t);
	}
	if (nr == 60 || nr == 231) {
		/* exit, exit_group: logged now, the task does not come back. */
		struct trace_ev ev = { .type = TR_SYSCALL, .tid = t->tid };
		ev.sys.nr = nr;
		memcpy(ev.sys.args, args, sizeof args);
		rec_log(e, inf, &ev);
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	rt->pend = RP_RECORD;
	rt->nr = nr;
	memcpy(rt->args, args, sizeof args);
	free(rt->mmap_file);
	rt->mmap_file = NULL;
	if (nr == 9 && !(args[3] & MAP_ANONYMOUS) && e->rd) {
		/* A file mapping: store the file now, as it is when mapped. */
		char path[64], file[4096];
		snprintf(path, sizeof path, "/proc/%d/fd/%d", t->proc->pid, (int)args[4]);
		ssize_t n = readlink(path, file, sizeof file - 1);
		const char *stored = NULL;
		if (n > 0) {
			file[n] = 0;
			int s = file[0] == '/' ? recdir_store(e->rd, file, &stored) : -EINVAL;
			if (s < 0)
				pr_debug(LM_REPLAY, "mmap of %s: not stored (%s)", file, strerror(-s));
		}
		rt->mmap_file = xstrdup(stored ? stored : "");
	}
	int x = target_resume(&inf->tg, t, RESUME_SYSCALL);
	if (x == 0 && se && (se->flags & SCF_BLOCK))
		sched_rec_blocking(e, t);   /* another task runs if it does not come back */
	return x < 0 ? 0 : 1;
}

struct pieces {
	struct trace_piece *v;
	size_t n, cap;
};

/* Out-buffers of a completed call, read from the tracee. */
static int collect_pieces(struct rec_engine *e, struct inferior *inf, struct task *t,
			  struct rec_task *rt, int64_t ret, struct pieces *pieces)
{
	struct sc_spans sp = { 0 };
	int r = sc_outs(rt->nr, rt->args, ret, read_mem, t->proc, &sp);
	if (r == -ENOTSUP && rt->nr == 219 && ret >= 0)
		r = 0;   /* a restarted sleep that completed wrote nothing */
	if (r == -ENOTSUP) {
		if (rt->nr == 16) {
			/* One notice per unknown ioctl request. */
			uint64_t req = rt->args[1];
			size_t i;
			for (i = 0; i < ARRAY_SIZE(e->ioctl_warned) && e->ioctl_warned[i]; i++)
				if (e->ioctl_warned[i] == req)
					break;
			if (i < ARRAY_SIZE(e->ioctl_warned) && !e->ioctl_warned[i]) {
				e->ioctl_warned[i] = req;
				inf_notice(inf, "[record: ioctl request %#" PRIx64 " on fd %d writes "
					   "memory rewind does not know; replay may differ]", req,
					   (int)rt->args[0]);
			}
		} else {
			warn_once(e, inf, rt->nr, "wrote memory the syscall table cannot describe; "
				  "replay may differ");
		}
	} else if (r < 0) {
		pr_warn(LM_REPLAY, "tid %d: %s: out-parameters not recorded: %s", t->tid,
			sc_name(rt->nr), strerror(-r));
	}
	for (size_t i = 0; i < sp.n; i++) {
		const struct sc_span *s = &sp.v[i];
		if (!s->len)
			continue;
		if (s->len > MAX_PIECE) {
			pr_err(LM_REPLAY, "tid %d: %s: out-buffer of %" PRIu64 " bytes not recorded",
			       t->tid, sc_name(rt->nr), s->len);
			continue;
		}
		uint8_t *data = xmalloc(s->len);
		if (proc_read(t->proc, RADDR(s->addr), data, s->len) < 0) {
			/* Partly unmapped (the kernel faulted too): keep what reads. */
			free(data);
			continue;
		}
		struct trace_piece p = { .arg = s->arg, .addr = s->addr, .len = (uint32_t)s->len,
					 .data = data };
		vec_push(pieces, p);
	}
	free(sp.v);
	return 0;
}

/* shmat: the attached segment's contents (its whole mapping at the call's exit) as a
 * piece; a replay attaches a fresh segment there and writes them. Changes that other
 * processes make to the segment later are not seen. */
static void shmat_piece(struct inferior *inf, struct task *t, struct rec_task *rt,
			uint64_t at, struct pieces *pieces)
{
	struct maps maps;
	if (maps_read(t->proc->pid, &maps) < 0)
		return;
	const struct map_entry *m = maps_find(&maps, at);
	uint64_t len = m && m->start == at ? m->end - m->start : 0;
	maps_free(&maps);
	uint8_t *data = len && len <= MAX_PIECE ? xmalloc(len) : NULL;
	if (!data || proc_read(t->proc, RADDR(at), data, len) < 0) {
		free(data);
		inf_notice(inf, "[record: the SysV segment %d attached at %#" PRIx64 " (%" PRIu64
			   " bytes) cannot be recorded; replay will diverge there]", (int)rt->args[0],
			   at, len);
		return;
	}
	struct trace_piece p = { .arg = -1, .addr = at, .len = (uint32_t)len, .data = data };
	vec_push(pieces, p);
	/* Attached elsewhere too: what the others write is outside the recording. */
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	char line[512];
	long id, nattch;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%*d %ld %*o %*u %*d %*d %ld", &id, &nattch) == 2 &&
		    id == (long)(int)rt->args[0] && nattch > 1)
			inf_notice(inf, "[record: the SysV segment %ld is attached by %ld processes: "
				   "what others write to it is not recorded; replay may differ]",
				   id, nattch);
	if (f)
		fclose(f);
}

static bool is_restart(int64_t ret)
{
	return ret <= -512 && ret >= -516;   /* ERESTARTSYS .. ERESTART_RESTARTBLOCK */
}

/* A signal t may take now: pending for it or its process and not blocked. */
static bool signal_pending(struct task *t)
{
	char path[64], *s;
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", t->proc->pid, t->tid);
	if (read_file(path, &s, NULL) < 0)
		return true;   /* cannot tell: log the interruption */
	uint64_t pnd = 0, shd = 0, blk = 0;
	char *p;
	if ((p = strstr(s, "\nSigPnd:")))
		pnd = strtoull(p + 8, NULL, 16);
	if ((p = strstr(s, "\nShdPnd:")))
		shd = strtoull(p + 8, NULL, 16);
	if ((p = strstr(s, "\nSigBlk:")))
		blk = strtoull(p + 8, NULL, 16);
	free(s);
	return ((pnd | shd) & ~blk) != 0;
}

/* Log the call rt ended with ret, with what it wrote (an interrupted one too:
 * ppoll's time left; shmat: the attached segment). */
static void log_call(struct rec_engine *e, struct inferior *inf, struct task *t,
		     struct rec_task *rt, int64_t ret, uint32_t flags)
{
	struct pieces pieces = { 0 };
	collect_pieces(e, inf, t, rt, ret, &pieces);
	if (rt->nr == 30 && ret >= 0)
		shmat_piece(inf, t, rt, (uint64_t)ret, &pieces);
	struct trace_ev ev = { .type = TR_SYSCALL, .tid = t->tid };
	ev.sys.nr = rt->nr;
	memcpy(ev.sys.args, rt->args, sizeof rt->args);
	ev.sys.ret = ret;
	ev.sys.flags = flags;
	ev.sys.pieces = pieces.v;
	ev.sys.npieces = pieces.n;
	rec_log(e, inf, &ev);
	for (size_t i = 0; i < pieces.n; i++)
		free((void *)pieces.v[i].data);
	vec_free(&pieces);
}

void rec_restart_flush(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (!rt->rs_pend)
		return;
	rt->rs_pend = false;
	log_call(e, inf, t, rt, rt->rs_ret, TRS_INTERRUPTED);
	rt->sstate = SS_READY;
}

/* The call t comes back to after an unlogged interruption (rs_pend) goes on. */
static int restart_goes_on(struct rec_engine *e, struct inferior *inf, struct task *t, int nr)
{
	struct rec_task *rt = rec_task_of(e, t);
	if (!rt->rs_pend)
		return 0;
	if (nr != rt->nr && !(nr == 219 && rt->rs_ret == -516)) {
		rec_restart_flush(e, inf, t);   /* not the same call after all */
		return 0;
	}
	rt->rs_pend = false;
	rt->pend = RP_RECORD;
	pr_trace(LM_REPLAY, "tid %d: its %s goes on after an interruption", t->tid, sc_name(rt->nr));
	int x = target_resume(&inf->tg, t, RESUME_SYSCALL);
	if (x == 0 && rt->sstate != SS_KERNEL)
		sched_rec_blocking(e, t);
	return 1;
}

int rec_sys_exit(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	struct rec_task *rt = rec_task_of(e, t);
	struct user_regs_struct *r;
	rt->pend = RP_NONE;
	if (task_get_regs(t, &r) < 0)
		return 0;
	int64_t ret = (int64_t)r->rax;
	if (is_restart(ret) && !signal_pending(t)) {
		/* rewind's own stop interrupted it: the kernel makes the call again when
		 * the task resumes (a seccomp stop: restart_goes_on), nothing to log. */
		rt->rs_pend = true;
		rt->rs_ret = ret;
		pr_trace(LM_REPLAY, "tid %d: its %s came back with %" PRId64 " (no signal): made "
			 "again when it resumes", t->tid, sc_name(rt->nr), ret);
		if (rt->sstate == SS_KERNEL)   /* back into the kernel, whoever's turn it is */
			return target_resume(&inf->tg, t, RESUME_CONT) < 0 ? 0 : 1;
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	if (is_restart(ret)) {
		/* Interrupted before it completed: the kernel restarts it, or a handler
		 * runs and the program sees EINTR. Replay reproduces the restart code. */
		log_call(e, inf, t, rt, ret, TRS_INTERRUPTED);
		if (sched_rec_back(e, inf, t))
			return 1;
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	if (rt->nr == 9) {
		struct trace_ev ev = { .type = TR_MMAP, .tid = t->tid };
		ev.mmap.addr = rt->args[0];
		ev.mmap.len = rt->args[1];
		ev.mmap.prot = rt->args[2];
		ev.mmap.flags = rt->args[3];
		ev.mmap.fd = (int)rt->args[4];
		ev.mmap.offset = rt->args[5];
		ev.mmap.ret = ret;
		ev.mmap.file = rt->mmap_file ? rt->mmap_file : "";
		rec_log(e, inf, &ev);
		if (sched_rec_back(e, inf, t))
			return 1;
		return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
	}
	log_call(e, inf, t, rt, ret, 0);
	if (sched_rec_back(e, inf, t))
		return 1;   /* another task has the turn: this one waits at its exit */
	return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
}

/* ---- rdtsc ---- */

int rec_tsc_fault(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	siginfo_t si;
	if (task_get_siginfo(t, &si) < 0 || si.si_code != SI_KERNEL)
		return 0;
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return 0;
	uint8_t code[16];
	struct insn in;
	if (proc_read(t->proc, RADDR(r->rip), code, sizeof code) < 0 ||
	    disasm_one(code, sizeof code, r->rip, &in) < 0 ||
	    (in.kind != IK_RDTSC && in.kind != IK_RDTSCP))
		return 0;
	bool p = in.kind == IK_RDTSCP;
	uint64_t value = 0;
	uint32_t aux = 0;
	if (e->mode == REC_OFF) {
		value = p ? __rdtscp((unsigned *)&aux) : __rdtsc();
		goto apply;
	}
	if (e->mode == REC_REPLAYING) {
		const struct trace_ev *ev = rpl_peek(e);
		if (!ev) {
			rec_go_live(e, inf, "[replay reached the end of the recording; the program "
				    "now runs live]");
		} else if (rpl_live_tid(e, ev->tid) != t->tid && sched_rpl_in_flight(e, inf, ev)) {
			/* Recorded, that task's call ended first: wait here for it. */
			struct rec_task *rt = rec_task_of(e, t);
			if (rt->ev_wait == EW_NONE) {
				rt->ev_wait = EW_RDTSC;
				e->waiters++;
			}
			return 1;
		} else if (ev->type != TR_RDTSC || ev->tsc.pc != r->rip || ev->tsc.rdtscp != p) {
			return rpl_diverge(e, inf, t, "%s at %#llx, but the recording has %s",
					   p ? "rdtscp" : "rdtsc", (unsigned long long)r->rip,
					   trace_type_name(ev->type));
		} else {
			value = ev->tsc.value;
			aux = ev->tsc.aux;
			rpl_consume(e);
			goto apply;
		}
	}
	if (p) {
		unsigned a;
		value = __rdtscp(&a);
		aux = a;
	} else {
		value = __rdtsc();
	}
	struct trace_ev ev = { .type = TR_RDTSC, .tid = t->tid };
	ev.tsc.value = value;
	ev.tsc.pc = r->rip;
	ev.tsc.rdtscp = p;
	ev.tsc.aux = aux;
	rec_log(e, inf, &ev);
apply:
	r->rax = value & 0xffffffffu;
	r->rdx = value >> 32;
	if (p)
		r->rcx = aux;
	r->rip += in.len;
	t->regs_dirty = true;
	t->pending_sig = 0;
	return rec_resume_want(e, inf, t) < 0 ? 0 : 1;
}
