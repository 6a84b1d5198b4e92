/* gdbserver: the connection, the dispatch of gdb's packets, and the small queries
 * (features, threads, selections, settings). Registers, memory and breakpoints are in
 * gdbserver_data.c, execution in gdbserver_exec.c, qXfer documents in
 * gdbserver_xfer.c, monitor commands in gdbserver_monitor.c. */
#include "gdbserver_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "rsp_codec.h"

struct inferior *gs__inf(struct gdbserver *g) { return &g->s->inf; }

struct task *gs__task(struct gdbserver *g, struct rsp_ptid p)
{
	struct inferior *inf = gs__inf(g);
	if (!inf_alive(inf))
		return NULL;
	if (p.has_pid && p.pid > 0 && p.pid != inf->main->pid)
		return NULL;
	if (p.tid <= 0)
		return inf->cur;
	struct task *t = proc_task(inf->main, (pid_t)p.tid);
	return t && t->state != TS_DEAD ? t : NULL;
}

struct task *gs__hg_task(struct gdbserver *g)
{
	struct task *t = gs__task(g, g->hg);
	if (!t)   /* the selected thread went away: gdb's next Hg fixes it */
		t = gs__inf(g)->cur;
	return t && t->state == TS_STOPPED ? t : NULL;
}

struct rsp_ptid gs__ptid(struct gdbserver *g, const struct task *t)
{
	(void)g;
	return (struct rsp_ptid){ t->proc->pid, t->tid, true };
}

void gs__error(struct gdbserver *g, int err, const char *text)
{
	sbuf_reset(&g->out);
	rsp_reply_error(&g->out, err, text, g->error_strings);
	if (text)
		pr_debug(LM_GDB, "error reply: %s", text);
}

void gs__console(struct gdbserver *g, const char *fmt, ...)
{
	struct sbuf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.len)
		rsp_send_console(g->c, b.s, b.len);
	sbuf_free(&b);
}

/* The session's notices: gdb announces threads and processes itself, so only the
 * others (automatic checkpoints skipped, exec) reach its console, and only while it
 * waits for a stop (O packets are not allowed as a reply to other packets). */
static void on_notice(void *ctx, const char *msg)
{
	struct gdbserver *g = ctx;
	gs__zbp_check_exec(g);
	pr_debug(LM_GDB, "notice: %s", msg);
	static const char *const gdb_says_it[] = {
		"[New Thread", "[New LWP", "[Thread ", "[LWP ", "[New process", "\nThread ",
	};
	for (size_t i = 0; i < ARRAY_SIZE(gdb_says_it); i++)
		if (!strncmp(msg, gdb_says_it[i], strlen(gdb_says_it[i])))
			return;
	if (g->running && !g->eof)
		gs__console(g, "%s\n", msg);
}

int gs_new(struct session *s, int in_fd, int out_fd, const struct gs_opts *o,
	   struct gdbserver **out)
{
	struct gdbserver *g = xcalloc(1, sizeof *g);
	int e = rsp_conn_new(in_fd, out_fd, &g->c);
	if (e < 0) {
		free(g);
		return e;
	}
	g->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->ctl_fd < 0) {
		e = -errno;
		rsp_conn_free(g->c);
		free(g);
		return e;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_mutex_init(&g->pump_mu, NULL);
	g->s = s;
	g->td = tdesc_get(tdesc_host_variant());
	g->opts.output_fd = -1;
	if (o)
		g->opts = *o;
	if (g->opts.output_fd > 0)
		fcntl(g->opts.output_fd, F_SETFL, fcntl(g->opts.output_fd, F_GETFL) | O_NONBLOCK);
	else
		g->opts.output_fd = -1;
	struct inferior *inf = &s->inf;
	g->prev_notice = inf->notice_fn;
	g->prev_notice_ctx = inf->notice_ctx;
	inf->notice_fn = on_notice;
	inf->notice_ctx = g;
	gs__zbp_rebase(g);
	gs__apply_signals(g);
	*out = g;
	return 0;
}

void gs_free(struct gdbserver *g)
{
	if (!g)
		return;
	gs__poller_stop(g);
	struct inferior *inf = gs__inf(g);
	inf->notice_fn = g->prev_notice;
	inf->notice_ctx = g->prev_notice_ctx;
	gs__zbp_clear(g);
	vec_free(&g->z);
	gs__vfile_close_all(g);
	for (size_t i = 0; i < g->env.n; i++)
		free(g->env.v[i]);
	vec_free(&g->env);
	if (inf->envp == g->envv)
		inf->envp = NULL;
	free(g->envv);
	for (size_t i = 0; i < g->stash.n; i++)
		free(g->stash.v[i]);
	vec_free(&g->stash);
	vec_free(&g->stash_len);
	free(g->threads);
	free(g->last_reply);
	free(g->xdoc_annex);
	sbuf_free(&g->xdoc);
	sbuf_free(&g->out);
	rsp_conn_free(g->c);
	close(g->ctl_fd);
	pthread_mutex_destroy(&g->mu);
	pthread_mutex_destroy(&g->pump_mu);
	free(g);
}

/* ---- small queries ---- */

static void supported(struct gdbserver *g, const struct rsp_packet *p)
{
	unsigned server = RSP_FBIT(RSP_S_NOACK) | RSP_FBIT(RSP_S_XFER_FEATURES) |
			  RSP_FBIT(RSP_S_XFER_AUXV) | RSP_FBIT(RSP_S_XFER_EXEC_FILE) |
			  RSP_FBIT(RSP_S_XFER_LIBRARIES_SVR4) | RSP_FBIT(RSP_S_XFER_THREADS) |
			  RSP_FBIT(RSP_S_XFER_SIGINFO) | RSP_FBIT(RSP_S_PASS_SIGNALS) |
			  RSP_FBIT(RSP_S_REVERSE) | RSP_FBIT(RSP_S_DISABLE_RANDOMIZATION) |
			  RSP_FBIT(RSP_S_ENVIRONMENT) | RSP_FBIT(RSP_S_WORKING_DIR) |
			  RSP_FBIT(RSP_S_STARTUP_WITH_SHELL) | RSP_FBIT(RSP_S_BINARY_UPLOAD);
	unsigned shared = RSP_FBIT(RSP_F_MULTIPROCESS) | RSP_FBIT(RSP_F_SWBREAK) |
			  RSP_FBIT(RSP_F_HWBREAK) | RSP_FBIT(RSP_F_VCONT_SUPPORTED);
	unsigned agreed = rsp_reply_supported(&g->out, server, shared, p->u.supported.features);
	g->mp = agreed & RSP_FBIT(RSP_F_MULTIPROCESS);
	g->swbreak = agreed & RSP_FBIT(RSP_F_SWBREAK);
	g->hwbreak = agreed & RSP_FBIT(RSP_F_HWBREAK);
}

static int by_num(const void *a, const void *b)
{
	const struct task *x = *(struct task *const *)a, *y = *(struct task *const *)b;
	return x->num < y->num ? -1 : x->num > y->num;
}

size_t gs__threads(struct gdbserver *g, struct task ***out)
{
	struct inferior *inf = gs__inf(g);
	size_t n = 0;
	*out = NULL;
	if (!inf_alive(inf))
		return 0;
	for (struct task *t = inf->main->tasks; t; t = t->next)
		n += t->state != TS_DEAD;
	struct task **v = xcalloc(n ? n : 1, sizeof *v);
	n = 0;
	for (struct task *t = inf->main->tasks; t; t = t->next)
		if (t->state != TS_DEAD)
			v[n++] = t;
	qsort(v, n, sizeof *v, by_num);
	*out = v;
	return n;
}

static void thread_list(struct gdbserver *g, bool first)
{
	if (first) {
		struct task **v;
		size_t n = gs__threads(g, &v);
		free(g->threads);
		g->threads = xcalloc(n ? n : 1, sizeof *g->threads);
		for (size_t i = 0; i < n; i++)
			g->threads[i] = gs__ptid(g, v[i]);
		g->nthreads = n;
		g->thread_cursor = 0;
		free(v);
	}
	rsp_reply_thread_list(&g->out, g->threads, g->nthreads, &g->thread_cursor, g->mp);
}

static void set_thread(struct gdbserver *g, const struct rsp_packet *p)
{
	struct rsp_ptid t = p->u.hthread.thread;
	if (t.tid > 0 && !gs__task(g, t))
		return gs__error(g, ESRCH, "no such thread");
	if (p->u.hthread.op == 'g')
		g->hg = t;
	else
		g->hc = t;
	rsp_reply_ok(&g->out);
}

static void current_thread(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	if (!inf_alive(inf) || !inf->cur) {
		sbuf_puts(&g->out, "QC0");   /* gdbserver's answer with no process */
		return;
	}
	rsp_reply_current_thread(&g->out, gs__ptid(g, inf->cur), g->mp);
}

static void attached(struct gdbserver *g)
{
	struct inferior *inf = gs__inf(g);
	if (!inf_alive(inf))
		return gs__error(g, ESRCH, "no process");
	sbuf_puts(&g->out, inf->main->attached ? "1" : "0");
}

static void pass_signals(struct gdbserver *g, const struct rsp_packet *p)
{
	memcpy(g->pass, p->u.signals.bits, sizeof g->pass);
	gs__apply_signals(g);
	rsp_reply_ok(&g->out);
}

/* QEnvironment*: the environment for the next vRun (rewind's own until changed). */
static void env_packet(struct gdbserver *g, const struct rsp_packet *p)
{
	extern char **environ;
	if (p->kind == RSP_ENV_RESET) {
		for (size_t i = 0; i < g->env.n; i++)
			free(g->env.v[i]);
		g->env.n = 0;
		g->env_set = false;
		rsp_reply_ok(&g->out);
		return;
	}
	if (!g->env_set) {
		for (char **e = environ; *e; e++)
			vec_push(&g->env, xstrdup(*e));
		g->env_set = true;
	}
	const char *name = p->u.env.name;
	size_t nl = strlen(name);
	for (size_t i = 0; i < g->env.n; i++)
		if (!strncmp(g->env.v[i], name, nl) && g->env.v[i][nl] == '=') {
			free(g->env.v[i]);
			g->env.v[i] = g->env.v[--g->env.n];
			break;
		}
	if (p->kind == RSP_ENV_SET)
		vec_push(&g->env, xasprintf("%s=%s", name, p->u.env.value ? p->u.env.value : ""));
	rsp_reply_ok(&g->out);
}

static void thread_alive(struct gdbserver *g, const struct rsp_packet *p)
{
	if (gs__task(g, p->u.thread) && p->u.thread.tid > 0)
		rsp_reply_ok(&g->out);
	else
		gs__error(g, ESRCH, "thread is gone");
}

/* ---- dispatch ---- */

static void handle(struct gdbserver *g, char *data, size_t len)
{
	struct rsp_packet p;
	rsp_parse(data, len, &p);
	struct inferior *inf = gs__inf(g);
	bool reply = true;
	sbuf_reset(&g->out);
	sbuf_append(&g->out, "", 0);
	switch (p.kind) {
	case RSP_QSUPPORTED: supported(g, &p); break;
	case RSP_START_NOACK: case RSP_EXTENDED_MODE: case RSP_ENABLE_ERROR_STRINGS:
	case RSP_STARTUP_WITH_SHELL: case RSP_VCTRLC:
		if (p.kind == RSP_EXTENDED_MODE)
			g->extended = true;
		if (p.kind == RSP_ENABLE_ERROR_STRINGS)
			g->error_strings = true;
		rsp_reply_ok(&g->out);
		break;
	case RSP_STOP_REASON: gs__status(g); break;
	case RSP_READ_REGS: gs__read_regs(g); break;
	case RSP_WRITE_REGS: gs__write_regs(g, &p); break;
	case RSP_READ_REG: gs__read_reg(g, &p); break;
	case RSP_WRITE_REG: gs__write_reg(g, &p); break;
	case RSP_READ_MEM: case RSP_READ_MEM_BIN: gs__read_mem(g, &p); break;
	case RSP_WRITE_MEM: case RSP_WRITE_MEM_BIN: gs__write_mem(g, &p); break;
	case RSP_INSERT_BREAK: gs__insert_bp(g, &p); break;
	case RSP_REMOVE_BREAK: gs__remove_bp(g, &p); break;
	case RSP_CONTINUE: gs__continue(g, &p); break;
	case RSP_STEP: gs__step(g, &p); break;
	case RSP_VCONT: gs__vcont(g, &p); break;
	case RSP_REVERSE_CONTINUE: case RSP_REVERSE_STEP: gs__reverse(g, &p); break;
	case RSP_VCONT_QUERY: sbuf_puts(&g->out, "vCont;c;C;s;S;t;r"); break;
	case RSP_SET_THREAD: set_thread(g, &p); break;
	case RSP_THREAD_ALIVE: thread_alive(g, &p); break;
	case RSP_CURRENT_THREAD: current_thread(g); break;
	case RSP_THREAD_INFO_FIRST: thread_list(g, true); break;
	case RSP_THREAD_INFO_NEXT: thread_list(g, false); break;
	case RSP_XFER_READ: gs__xfer(g, &p); break;
	case RSP_PASS_SIGNALS: pass_signals(g, &p); break;
	case RSP_ATTACHED: attached(g); break;
	case RSP_SYMBOL: rsp_reply_ok(&g->out); break;
	case RSP_KILL:
		gs__kill(g, &p);
		reply = g->extended;   /* the plain protocol expects no answer to 'k' */
		break;
	case RSP_VKILL: gs__kill(g, &p); break;
	case RSP_DETACH: gs__detach(g, &p); break;
	case RSP_MONITOR: gs__monitor(g, p.u.monitor.cmd); break;
	case RSP_NON_STOP:
		if (p.u.flag)
			gs__error(g, ENOTSUP, "non-stop mode is not supported");
		else
			rsp_reply_ok(&g->out);
		break;
	case RSP_VRUN: gs__vrun(g, &p); break;
	case RSP_VATTACH: gs__vattach(g, &p); break;
	case RSP_DISABLE_RANDOMIZATION:
		inf->keep_aslr = !p.u.flag;
		rsp_reply_ok(&g->out);
		break;
	case RSP_SET_WORKING_DIR:
		free(inf->cwd);
		inf->cwd = p.u.text && *p.u.text ? xstrdup(p.u.text) : NULL;
		rsp_reply_ok(&g->out);
		break;
	case RSP_ENV_SET: case RSP_ENV_UNSET: case RSP_ENV_RESET: env_packet(g, &p); break;
	case RSP_MALFORMED:
		gs__error(g, EINVAL, p.error);
		break;
	case RSP_VFILE: gs__vfile(g, &p); break;
	case RSP_MUST_REPLY_EMPTY: case RSP_UNSUPPORTED: case RSP_OFFSETS: case RSP_TRACE_STATUS:
	case RSP_PROGRAM_SIGNALS: case RSP_XFER_WRITE: case RSP_THREAD_EVENTS:
	case RSP_THREAD_EXTRA_INFO: case RSP_GET_TLS_ADDR: case RSP_KIND__COUNT:
		break;   /* "": not supported */
	}
	pr_debug(LM_GDB, "%s -> %.60s", rsp_kind_name(p.kind), sbuf_str(&g->out));
	if (reply && !g->eof && rsp_conn_send(g->c, sbuf_str(&g->out), g->out.len) == -EPIPE)
		g->eof = true;
	if (p.kind == RSP_START_NOACK)
		rsp_conn_set_noack(g->c);
	rsp_packet_free(&p);
}

/* One event from the connection; returns 1 if one was handled, 0 if none ready. */
static int one_event(struct gdbserver *g)
{
	if (g->stash.n) {
		char *d = g->stash.v[0];
		size_t n = g->stash_len.v[0];
		memmove(g->stash.v, g->stash.v + 1, (g->stash.n - 1) * sizeof *g->stash.v);
		memmove(g->stash_len.v, g->stash_len.v + 1, (g->stash_len.n - 1) * sizeof(size_t));
		g->stash.n--;
		g->stash_len.n--;
		handle(g, d, n);
		free(d);
		return 1;
	}
	struct rsp_event ev;
	int r = rsp_conn_next(g->c, &ev);
	if (r <= 0)
		return r;
	switch (ev.kind) {
	case RSP_EV_PACKET:
		handle(g, ev.data, ev.len);
		break;
	case RSP_EV_INTERRUPT:
		/* The program is stopped already (a stop crossed gdb's ^C): nothing to do. */
		pr_debug(LM_GDB, "interrupt while stopped: ignored");
		break;
	case RSP_EV_OVERLONG:
		gs__error(g, EMSGSIZE, "packet too long");
		rsp_conn_send(g->c, g->out.s, g->out.len);
		break;
	case RSP_EV_EOF:
		g->eof = true;
		break;
	}
	return 1;
}

int gs_step(struct gdbserver *g, int timeout_ms)
{
	if (g->done)
		return 0;
	int handled = 0;
	for (;;) {
		int r = one_event(g);
		if (r < 0)
			return r;
		handled += r;
		if (g->eof) {
			gs__disconnect(g);
			g->done = true;
			return 0;
		}
		if (g->done)
			return 0;
		if (r)
			continue;
		if (handled && timeout_ms < 0)
			return 1;
		gs__pump(g);   /* our own messages, written to the program's output */
		struct pollfd pfd = { .fd = rsp_conn_fd(g->c), .events = POLLIN };
		int n = poll(&pfd, 1, handled ? 0 : timeout_ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			return 1;
		long f = rsp_conn_fill(g->c);
		if (f < 0)
			return (int)f;
	}
}

int gs_serve(struct gdbserver *g)
{
	int r;
	while ((r = gs_step(g, -1)) > 0)
		;
	return r < 0 ? r : 0;
}
