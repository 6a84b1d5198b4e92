/* gdbserver_exec: moving the program for gdb (c s C S vCont, range stepping, bc bs,
 * vRun vAttach k vKill D), the stop replies, and the poller thread that turns gdb's
 * ^C (or its disappearance) into an interrupt of the running session.
 *
 * Policy: a stop that ends a continue gets the session's automatic checkpoint; a stop
 * that ends a single step or a range step does not (gdb's next/step are made of many
 * of them, and a checkpoint costs about ten steps). Stepping one thread
 * keeps the others stopped. */
#include "gdbserver_int.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "replay/record.h"
#include "replay/reverse.h"
#include "replay/record.h"
#include "rsp_codec.h"

#define RANGE_STEP_MAX 100000   /* steps per vCont;r before gdb gets a plain stop */
#define REINTERRUPT_MS 100      /* repeat an unanswered interrupt this often */

/* ---- signals ---- */

void gs__apply_signals(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	for (int s = 1; s < NSIG; s++) {
		int gsig = rsp_sig_from_host(s);
		bool pass = gsig > 0 && gsig < 256 && (g->pass[gsig / 64] >> (gsig % 64) & 1);
		/* Signals gdb wants to see stop and are taken away; gdb gives them back
		 * with C/S when it decides to pass them. */
		inf->sigs[s] = pass ? (struct sig_disp){ false, false, true }
				    : (struct sig_disp){ true, false, false };
	}
}

/* ---- the poller ---- */

void gs__pump(struct gdbserver *g)
{
	int fd = g->opts.output_fd;
	if (fd < 0)
		return;
	char buf[4096];
	pthread_mutex_lock(&g->pump_mu);
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(g->opts.output_to, buf + off, (size_t)(n - off));
			if (w <= 0 && errno != EINTR)
				break;
			off += w > 0 ? w : 0;
		}
	}
	pthread_mutex_unlock(&g->pump_mu);
}

/* Interrupt the session while the run of generation gen is still going. Returns false
 * once that run is over. */
static bool interrupt_run(struct gdbserver *g, unsigned gen)
{
	pthread_mutex_lock(&g->mu);
	bool still = g->armed && g->gen == gen && !g->quit;
	if (still) {
		inf_interrupt(gs__inf(g));
		g->fired = true;
	}
	pthread_mutex_unlock(&g->mu);
	return still;
}

/* The poller: idle until armed (ctl_fd), then watches gdb's connection and copies the
 * program's output until the run is over. gdb sends nothing but ^C while the program
 * runs in all-stop, so any input (or its end) means: interrupt. */
static void *poller_main(void *arg)
{
	struct gdbserver *g = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	int fd = rsp_conn_fd(g->c);
	for (;;) {
		struct pollfd c = { g->ctl_fd, POLLIN, 0 };
		if (poll(&c, 1, -1) < 0)
			continue;
		uint64_t v;
		ssize_t r = read(g->ctl_fd, &v, sizeof v);
		(void)r;
		pthread_mutex_lock(&g->mu);
		bool quit = g->quit, armed = g->armed;
		unsigned gen = g->gen;
		pthread_mutex_unlock(&g->mu);
		if (quit)
			return NULL;
		if (!armed)
			continue;
		bool fired = false, hup = false;
		for (;;) {
			struct pollfd p[3] = { { g->ctl_fd, POLLIN, 0 },
					       { hup ? -1 : g->opts.output_fd, POLLIN, 0 },
					       { fired ? -1 : fd, POLLIN, 0 } };
			int n = poll(p, 3, fired ? REINTERRUPT_MS : -1);
			if (n < 0)
				continue;
			if (p[0].revents & POLLIN)
				break;   /* a new run, or quit: back to the top */
			if (p[1].revents & (POLLIN | POLLHUP))
				gs__pump(g);
			if ((p[2].revents && !fired) || (fired && n == 0)) {
				fired = true;
				if (!interrupt_run(g, gen))
					break;
			}
			hup |= (p[1].revents & POLLHUP) != 0;   /* no writer left */
		}
	}
}

static void arm(struct gdbserver *g)
{
	if (!g->poller_started) {
		if (pthread_create(&g->poller, NULL, poller_main, g) != 0) {
			pr_warn(LM_GDB, "cannot start the interrupt poller: ^C will not work");
			return;
		}
		g->poller_started = true;
	}
	pthread_mutex_lock(&g->mu);
	g->armed = true;
	g->fired = false;
	g->gen++;
	pthread_mutex_unlock(&g->mu);
	uint64_t one = 1;
	ssize_t w = write(g->ctl_fd, &one, sizeof one);
	(void)w;
}

/* Returns true if the poller interrupted the session while armed. */
static bool disarm(struct gdbserver *g)
{
	pthread_mutex_lock(&g->mu);
	g->armed = false;
	bool fired = g->fired;
	g->fired = false;
	pthread_mutex_unlock(&g->mu);
	if (fired) {
		/* An interrupt the session did not consume must not stop the next run. */
		struct inferior *inf = gs__inf(g);
		uint64_t v;
		inf->interrupt_req = 0;
		ssize_t r = read(inf->tg.wake_fd, &v, sizeof v);
		(void)r;
	}
	gs__pump(g);   /* the program's output goes before the stop reply */
	return fired;
}

void gs__poller_stop(struct gdbserver *g)
{
	if (!g->poller_started)
		return;
	pthread_mutex_lock(&g->mu);
	g->quit = true;
	pthread_mutex_unlock(&g->mu);
	uint64_t one = 1;
	ssize_t w = write(g->ctl_fd, &one, sizeof one);
	(void)w;
	pthread_join(g->poller, NULL);
	g->poller_started = false;
}

/* Before resuming: events already buffered behind the resume packet. A ^C (or gdb's
 * departure) means the program must not run; packets are kept for after the stop. */
static bool interrupted_before(struct gdbserver *g)
{
	bool intr = g->pending_interrupt;
	g->pending_interrupt = false;
	struct rsp_event ev;
	while (!g->eof && rsp_conn_next(g->c, &ev) == 1) {
		if (ev.kind == RSP_EV_INTERRUPT) {
			intr = true;
		} else if (ev.kind == RSP_EV_EOF) {
			g->eof = true;
			intr = true;
		} else if (ev.kind == RSP_EV_PACKET) {
			char *d = xmalloc(ev.len + 1);
			memcpy(d, ev.data, ev.len);
			d[ev.len] = 0;
			vec_push(&g->stash, d);
			vec_push(&g->stash_len, ev.len);
		}
	}
	return intr;
}

/* ---- stop replies ---- */

void gs__stop_reply(struct gdbserver *g, const struct stop *st)
{
	struct inferior *inf = gs__inf(g);
	struct rsp_stop rs = { .kind = RSP_STOP_SIGNAL, .sig = 5, .core = -1 };
	struct task *t = st->task && st->task->state == TS_STOPPED ? st->task : inf->cur;
	struct sbuf ex = { 0 };
	g->last_sig_tid = 0;
	sbuf_reset(&g->out);
	sbuf_append(&g->out, "", 0);
	switch (st->reason) {
	case SR_EXITED:
	case SR_KILLED:
		rs.kind = st->reason == SR_EXITED ? RSP_STOP_EXITED : RSP_STOP_KILLED;
		rs.status = st->code;
		rs.sig = rsp_sig_from_host(st->sig);
		rs.thread = (struct rsp_ptid){ st->pid, st->pid, true };
		rsp_reply_stop(&g->out, &rs, g->mp);
		gs__zbp_clear(g);
		free(g->last_reply);
		g->last_reply = NULL;
		if (!g->extended && !g->opts.multi)
			g->done = true;   /* as gdbserver: the plain protocol ends with the program */
		return;
	case SR_ERROR:
		if (!g->eof)
			gs__console(g, "%s\n", st->err);
		rs.sig = 0;   /* not a trap: gdb must not take it for a breakpoint's */
		break;
	case SR_BREAKPOINT: {
		struct gs_zbp *z = gs__zbp_by_id(g, st->bp_id);
		if (z && z->type == 0 && g->swbreak)
			rs.reason = RSP_REASON_SWBREAK;
		else if (z && z->type == 1 && g->hwbreak)
			rs.reason = RSP_REASON_HWBREAK;
		break;
	}
	case SR_WATCHPOINT: {
		struct gs_zbp *z = gs__zbp_by_id(g, st->bp_id);
		rs.reason = !z || z->type == 2 ? RSP_REASON_WATCH :
			    z->type == 3 ? RSP_REASON_RWATCH : RSP_REASON_AWATCH;
		rs.addr = z ? z->addr : st->waddr;
		break;
	}
	case SR_SIGNAL:
		rs.sig = rsp_sig_from_host(st->sig);
		if (st->si.si_signo == st->sig) {
			g->last_sig_tid = st->tid;
			g->last_si = st->si;
		}
		break;
	case SR_INTERRUPTED:
		rs.sig = rsp_sig_from_host(SIGINT);
		break;
	case SR_HISTORY_BEGIN:
		rs.reason = RSP_REASON_REPLAY_BEGIN;
		break;
	case SR_HISTORY_END:
		rs.reason = RSP_REASON_REPLAY_END;
		break;
	default:
		break;
	}
	if (!t || !inf_alive(inf)) {
		/* Nothing left to stop in. */
		int pid = st->pid;
		sbuf_printf(&g->out, "W00");
		if (g->mp && pid > 0)
			sbuf_printf(&g->out, ";process:%x", pid);
		return;
	}
	struct user_regs_struct *gpr;
	if (task_get_regs(t, &gpr) == 0) {
		struct tdesc_regs r = { .gpr = gpr };
		tdesc_expedite(g->td, &r, &ex);
		rs.expedite = ex.s;
	}
	rs.thread = gs__ptid(g, t);
	rsp_reply_stop(&g->out, &rs, g->mp);
	sbuf_free(&ex);
	free(g->last_reply);
	g->last_reply = xstrdup(sbuf_str(&g->out));
}

void gs__status(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	if (g->last_reply && inf_alive(inf)) {
		sbuf_puts(&g->out, g->last_reply);
		return;
	}
	struct stop st = { .reason = SR_STEPPED };
	stop_fill_thread(&st, inf->cur);
	gs__stop_reply(g, &st);
}

/* ---- resuming ---- */

/* Everything a resume request asks, parsed from c/s/C/S/vCont. */
struct req {
	struct task *step;       /* the thread to step, NULL: continue all */
	bool range;
	uint64_t start, end;     /* range stepping: step while start <= pc < end */
};

/* Can one step of t take long? Only a system call can block (or write output): any
 * other instruction is done in microseconds, and waking the poller for it would cost
 * more than the step (gdb's stepi and next are made of thousands). */
static bool may_block(struct task *t)
{
	uint8_t b[2];
	if (proc_read(t->proc, RADDR(task_pc(t)), b, 2) < 0)
		return true;
	return (b[0] == 0x0f && (b[1] == 0x05 || b[1] == 0x34)) ||   /* syscall, sysenter */
	       (b[0] == 0xcd && b[1] == 0x80);                         /* int $0x80 */
}

/* Run r and reply with the stop. */
static void execute(struct gdbserver *g, const struct req *r)
{
	struct session *s = g->s;
	struct inferior *inf = gs__inf(g);
	struct stop st;
	memset(&st, 0, sizeof st);
	if (!inf_alive(inf) || !inf->cur) {
		st.reason = SR_ERROR;
		snprintf(st.err, sizeof st.err, "The program is not being run.");
		gs__stop_reply(g, &st);
		return;
	}
	if (interrupted_before(g)) {
		st.reason = SR_INTERRUPTED;
		stop_fill_thread(&st, r->step ? r->step : inf->cur);
		gs__stop_reply(g, &st);
		return;
	}
	bool auto_on = s->ckpts.auto_on;
	if (r->step) {
		s->ckpts.auto_on = false;
		inf_select(inf, r->step->num);
	}
	struct sess_args a = { .sig = -1, .no_print = true };
	bool armed = !r->step || r->range || may_block(r->step);
	if (armed)
		arm(g);
	g->running = true;
	if (!r->step) {
		session_exec(s, SC_CONTINUE, &a, &st);
	} else {
		for (unsigned n = 0;; n++) {
			session_exec(s, SC_STEPI, &a, &st);
			if (!r->range || st.reason != SR_STEPPED || !st.task)
				break;
			pthread_mutex_lock(&g->mu);
			bool fired = g->fired;
			pthread_mutex_unlock(&g->mu);
			if (fired) {
				st.reason = SR_INTERRUPTED;
				break;
			}
			if (st.pc < r->start || st.pc >= r->end || gs__zbp_at(g, st.pc) ||
			    n + 1 >= RANGE_STEP_MAX)
				break;
		}
	}
	g->running = false;
	if (armed)
		disarm(g);
	s->ckpts.auto_on = auto_on;
	/* A replay of a recording ends at the end of the recording, as under rr: the
	 * program is kept at its exit call ("No more reverse-execution history."), so
	 * that gdb can go back from there. */
	if (st.reason == SR_EXITED && rec_offline(s->rec) && rev_from_exit(s)) {
		struct stop end;
		if (rev_to_exit(s, &end) == 0)
			st = end;
	}
	gs__stop_reply(g, &st);
}

/* A signal for t when it resumes (gdb numbering; 0: none). */
static int give_signal(struct task *t, int gsig)
{
	if (!t || !gsig)
		return 0;
	int h = rsp_sig_to_host(gsig);
	if (h < 0)
		return h;
	t->pending_sig = h;
	return 0;
}

/* c, C, s, S: the thread of Hc (or the current one). */
static void legacy_resume(struct gdbserver *g, const struct rsp_packet *p, bool step)
{
	struct inferior *inf = gs__inf(g);
	struct task *t = gs__task(g, g->hc);
	if (!t)
		t = inf->cur;
	if (t && p->u.resume.has_addr && task_set_pc(t, p->u.resume.addr) < 0)
		return gs__error(g, EINVAL, "cannot set the pc");
	if (p->u.resume.has_sig && give_signal(t, p->u.resume.sig) < 0)
		return gs__error(g, EINVAL, "no such signal");
	struct req r = { .step = step ? t : NULL };
	execute(g, &r);
}

void gs__continue(struct gdbserver *g, const struct rsp_packet *p) { legacy_resume(g, p, false); }
void gs__step(struct gdbserver *g, const struct rsp_packet *p) { legacy_resume(g, p, true); }

void gs__vcont(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	struct req r = { 0 };
	bool any_resume = false;
	const struct rsp_vcont_action *dflt = NULL;
	for (size_t i = 0; i < p->u.vcont.n; i++) {
		const struct rsp_vcont_action *a = &p->u.vcont.actions[i];
		bool specific = a->has_thread && a->thread.tid > 0;
		if (!specific) {
			if (!dflt)
				dflt = a;
			continue;
		}
		struct task *t = gs__task(g, a->thread);
		if (!t)
			return gs__error(g, ESRCH, "no such thread");
		if (a->action == 't')
			continue;
		any_resume = true;
		if (a->has_sig && give_signal(t, a->sig) < 0)
			return gs__error(g, EINVAL, "no such signal");
		if ((a->action == 's' || a->action == 'r') && !r.step) {
			r.step = t;
			r.range = a->action == 'r';
			r.start = a->start;
			r.end = a->end;
		}
	}
	if (dflt && dflt->action != 't') {
		any_resume = true;
		if (dflt->has_sig && give_signal(inf->cur, dflt->sig) < 0)
			return gs__error(g, EINVAL, "no such signal");
		if ((dflt->action == 's' || dflt->action == 'r') && !r.step && inf->cur) {
			r.step = inf->cur;
			r.range = dflt->action == 'r';
			r.start = dflt->start;
			r.end = dflt->end;
		}
	}
	if (!any_resume)
		return rsp_reply_ok(&g->out);   /* only 't': all-stop threads are stopped */
	execute(g, &r);
}

void gs__reverse(struct gdbserver *g, const struct rsp_packet *p)
{
	struct session *s = g->s;
	struct inferior *inf = gs__inf(g);
	struct stop st;
	memset(&st, 0, sizeof st);
	if (!inf_alive(inf) || !inf->cur)
		return gs__error(g, ESRCH, "The program is not being run.");
	struct sess_args a = { .dir = DIR_REVERSE, .sig = -1 };
	enum sess_cmd cmd = p->kind == RSP_REVERSE_STEP ? SC_STEPI : SC_CONTINUE;
	/* bs steps the thread of Hc (gdb selects it first), as s does. */
	struct task *t = cmd == SC_STEPI ? gs__task(g, g->hc) : NULL;
	pid_t tid = t ? t->tid : 0;   /* tasks are new structures after a restore */
	if (t && t != inf->cur)
		inf_select(inf, t->num);
	arm(g);
	g->running = true;
	int e = session_exec(s, cmd, &a, &st);
	g->running = false;
	disarm(g);
	if (e == -ENOTSUP) {
		/* No recording: the history begins here. gdb says "No more reverse-execution
		 * history." and shows the current location. */
		memset(&st, 0, sizeof st);
		st.reason = SR_HISTORY_BEGIN;
		stop_fill_thread(&st, inf->cur);
	} else if (st.reason == SR_ERROR && tid && inf_alive(inf) &&
		   (t = proc_task(inf->main, tid)) && t->state == TS_STOPPED) {
		st.task = t;   /* nothing moved: the stop is the stepped thread's */
	}
	gs__stop_reply(g, &st);
}

/* ---- starting, attaching, killing, detaching ---- */

static void fresh_process(struct gdbserver *g, int sig)
{
	struct inferior *inf = gs__inf(g);
	g->hg = g->hc = (struct rsp_ptid){ 0, 0, false };
	gs__zbp_clear(g);
	free(g->last_reply);
	g->last_reply = NULL;
	struct stop st = { .reason = SR_SIGNAL, .sig = sig };
	stop_fill_thread(&st, inf->cur);
	gs__stop_reply(g, &st);
}

/* The program, arguments and environment gdb's vRun asks for. Returns 0 or -ENOENT. */
static int program_of_vrun(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	const char *prog = p->u.run.argc && *p->u.run.argv[0] ? p->u.run.argv[0] :
			   inf->argv && inf->argv[0] ? inf->argv[0] : NULL;
	if (!prog)
		return -ENOENT;
	char **argv = xcalloc(p->u.run.argc + 2, sizeof *argv);
	argv[0] = (char *)prog;
	for (size_t i = 1; i < p->u.run.argc; i++)
		argv[i] = p->u.run.argv[i];
	char *keep = xstrdup(prog);   /* prog may point into inf->argv, replaced now */
	argv[0] = keep;
	inf_set_program(inf, argv);
	free(keep);
	free(argv);
	if (g->env_set) {
		free(g->envv);
		g->envv = xcalloc(g->env.n + 1, sizeof *g->envv);
		memcpy(g->envv, g->env.v, g->env.n * sizeof *g->envv);
		inf->envp = g->envv;
	} else {
		inf->envp = NULL;
	}
	return 0;
}

void gs__vrun(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	if (inf_alive(inf))
		session_kill(g->s);
	gs__zbp_clear(g);
	/* A replay starts the recording's program with its arguments and environment. */
	if (!g->opts.replay && program_of_vrun(g, p) < 0)
		return gs__error(g, ENOENT, "No executable file specified.");
	struct sbuf err = { 0 };
	int e = session_launch(g->s, &err);
	if (e < 0) {
		gs__error(g, e, sbuf_str(&err));
		sbuf_free(&err);
		return;
	}
	sbuf_free(&err);
	fresh_process(g, SIGTRAP);
}

void gs__vattach(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	if (inf_alive(inf))
		return gs__error(g, EBUSY, "A program is being debugged already.");
	struct sbuf err = { 0 };
	int e = session_attach(g->s, (pid_t)p->u.pid.pid, &err);
	if (e < 0) {
		gs__error(g, e, sbuf_str(&err));
		sbuf_free(&err);
		return;
	}
	sbuf_free(&err);
	fresh_process(g, SIGSTOP);
}

void gs__kill(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	if (p->kind == RSP_VKILL && p->u.pid.has_pid && inf_alive(inf) && p->u.pid.pid != inf->main->pid)
		return gs__error(g, ESRCH, "no such process");
	gs__zbp_clear(g);
	if (inf_alive(inf))
		session_kill(g->s);
	free(g->last_reply);
	g->last_reply = NULL;
	rsp_reply_ok(&g->out);
	if (p->kind == RSP_KILL && !g->extended)
		g->done = true;
}

void gs__detach(struct gdbserver *g, const struct rsp_packet *p)
{
	struct inferior *inf = gs__inf(g);
	if (!inf_alive(inf))
		return gs__error(g, ESRCH, "The program is not being run.");
	if (p->u.pid.has_pid && p->u.pid.pid != inf->main->pid)
		return gs__error(g, ESRCH, "no such process");
	gs__zbp_clear(g);
	if (rec_mode(g->s->rec) == REC_RECORDING && !inf->main->attached)
		pr_warn(LM_GDB, "process %d was recorded: the system calls its recording filter "
			"traps fail once rewind has let it go (rewind gdbserver --no-record)",
			inf->main->pid);
	int e = session_detach(g->s);
	if (e < 0)
		return gs__error(g, e, "cannot detach");
	free(g->last_reply);
	g->last_reply = NULL;
	rsp_reply_ok(&g->out);
	if (!g->extended)
		g->done = true;
}

void gs__disconnect(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	if (!inf_alive(inf))
		return;
	gs__zbp_clear(g);
	if (inf->main->attached || g->opts.detach_on_exit) {
		pr_info(LM_GDB, "gdb is gone: detaching from process %d", inf->main->pid);
		session_detach(g->s);
	} else {
		pr_info(LM_GDB, "gdb is gone: killing process %d", inf->main->pid);
		session_kill(g->s);
	}
}
