#include "inferior.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "babysit.h"
#include "infcall.h"
#include "log.h"

static void default_signals(struct inferior *inf)
{
	for (int s = 1; s < NSIG; s++)
		inf->sigs[s] = (struct sig_disp){ true, true, true };
	static const int quiet[] = { SIGALRM, SIGURG, SIGCHLD, SIGWINCH, SIGIO, SIGVTALRM,
				     SIGPROF, SIGPWR };
	for (size_t i = 0; i < ARRAY_SIZE(quiet); i++)
		inf->sigs[quiet[i]] = (struct sig_disp){ false, false, true };
	inf->sigs[SIGINT] = (struct sig_disp){ true, true, false };
	inf->sigs[SIGTRAP] = (struct sig_disp){ true, true, false };
}

int inf_init(struct inferior *inf)
{
	memset(inf, 0, sizeof *inf);
	bp_table_init(&inf->bps);
	default_signals(inf);
	return target_init(&inf->tg);
}

static void free_argv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void drop_procs(struct inferior *inf)
{
	for (struct proc *p = inf->tg.procs; p; p = p->next)
		if (p->user && inf->sym && inf->sym->detach_proc)
			inf->sym->detach_proc(inf, p);
}

void inf_fini(struct inferior *inf)
{
	drop_procs(inf);
	target_fini(&inf->tg);
	if (inf->sym && inf->sym->fini)
		inf->sym->fini(inf);
	bp_table_free(&inf->bps);
	free_argv(inf->argv);
	free(inf->cwd);
	char *n;
	while ((n = inf_take_notice(inf)))
		free(n);
	vec_free(&inf->notices);
}

void inf_set_program(struct inferior *inf, char *const *argv)
{
	size_t n = 0;
	while (argv && argv[n])
		n++;
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(argv[i]);
	free_argv(inf->argv);
	inf->argv = v;
}

void inf_notice(struct inferior *inf, const char *fmt, ...)
{
	struct sbuf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (inf->notice_fn) {
		inf->notice_fn(inf->notice_ctx, sbuf_str(&b));
		sbuf_free(&b);
		return;
	}
	vec_push(&inf->notices, sbuf_steal(&b));
}

char *inf_take_notice(struct inferior *inf)
{
	if (!inf->notices.n)
		return NULL;
	char *s = inf->notices.v[0];
	memmove(inf->notices.v, inf->notices.v + 1, (inf->notices.n - 1) * sizeof(char *));
	inf->notices.n--;
	return s;
}

bool inf_alive(const struct inferior *inf)
{
	return inf->main && !inf->main->dead;
}

struct task *inf_thread(struct inferior *inf, unsigned num)
{
	if (!inf_alive(inf))
		return NULL;
	for (struct task *t = inf->main->tasks; t; t = t->next)
		if (t->num == num && t->state != TS_DEAD)
			return t;
	return NULL;
}

int inf_select(struct inferior *inf, unsigned num)
{
	struct task *t = inf_thread(inf, num);
	if (!t)
		return -ESRCH;
	inf->cur = t;
	return 0;
}

/* Resolve one breakpoint in one process; pending if nothing matched. */
static void bind_one(struct inferior *inf, struct proc *p, struct breakpoint *b, struct sbuf *err)
{
	if (b->kind != BPK_BREAK && b->kind != BPK_HBREAK)
		return;
	if (b->internal != BPI_NONE && b->internal != BPI_SOLIB)
		return;
	if (!b->spec)
		return;
	/* Numeric addresses need no symbols. */
	if (b->spec[0] == '*' && (!inf->sym || !inf->sym->resolve)) {
		char *end;
		uint64_t a = strtoull(b->spec + 1, &end, 0);
		if (*end == 0) {
			bp_add_loc(b, p->pid, a, NULL, NULL, 0);
			b->pending = false;
		}
		return;
	}
	if (inf->sym && inf->sym->resolve) {
		size_t before = b->locs.n;
		inf->sym->resolve(inf, p, b, err);
		b->pending = b->locs.n == 0 && before == 0;
	} else {
		b->pending = true;
	}
}

void inf_rebind(struct inferior *inf, struct proc *p)
{
	for (struct breakpoint *b = inf->bps.list; b; b = b->next) {
		if (b->kind != BPK_BREAK && b->kind != BPK_HBREAK)
			continue;
		if (b->internal != BPI_NONE)
			continue;
		/* Drop this process's old locations (and those found in the program file
		 * before it ran, pid 0), resolve again. */
		for (size_t i = 0; i < b->locs.n; i++)
			if ((b->locs.v[i].pid == p->pid || b->locs.v[i].pid == 0) &&
			    b->locs.v[i].inserted) {
				/* Still in memory (a rebind after a library load): take it out
				 * first, or its int3 site (debug register) would keep a reference
				 * forever and stay after the breakpoint is deleted. bp_sync below
				 * puts back what the new resolution finds. */
				bp_uninsert(b, inf->tg.procs);
				break;
			}
		size_t j = 0;
		for (size_t i = 0; i < b->locs.n; i++) {
			if (b->locs.v[i].pid == p->pid || b->locs.v[i].pid == 0) {
				free(b->locs.v[i].func);
				free(b->locs.v[i].file);
				continue;
			}
			b->locs.v[j++] = b->locs.v[i];
		}
		b->locs.n = j;
		bind_one(inf, p, b, NULL);
	}
	bp_sync(&inf->bps, inf->tg.procs);
}

/* The loader's rendezvous breakpoint of p, so library loads resolve pending
 * breakpoints before any code of the library runs. */
static void arm_solib(struct inferior *inf, struct proc *p)
{
	if (!inf->sym || !inf->sym->solib_bp_addr)
		return;
	uint64_t a = inf->sym->solib_bp_addr(inf, p);
	if (!a)
		return;
	for (struct breakpoint *b = inf->bps.list; b; b = b->next)
		if (b->internal == BPI_SOLIB)
			for (size_t i = 0; i < b->locs.n; i++)
				if (b->locs.v[i].pid == p->pid)
					return;
	struct breakpoint *b = bp_new(&inf->bps, BPK_BREAK, BPI_SOLIB);
	bp_add_loc(b, p->pid, a, "_dl_debug_state", NULL, 0);
}

/* A process we follow now has a (new) program image: symbols, breakpoints. */
void inf_image_changed(struct inferior *inf, struct proc *p)
{
	if (inf->sym && inf->sym->attach_proc) {
		if (p->user && inf->sym->detach_proc)
			inf->sym->detach_proc(inf, p);
		inf->sym->attach_proc(inf, p);
	}
	/* Old internal breakpoints of this pid are meaningless now. */
	for (struct breakpoint *b = inf->bps.list, *n; b; b = n) {
		n = b->next;
		if (b->internal == BPI_NONE)
			continue;
		for (size_t i = 0; i < b->locs.n; i++)
			if (b->locs.v[i].pid == p->pid) {
				b->locs.v[i].inserted = false;
				bp_delete(&inf->bps, b, inf->tg.procs);
				break;
			}
	}
	bp_forget_pid(&inf->bps, p->pid);
	arm_solib(inf, p);
	inf_rebind(inf, p);
}

int inf_launch(struct inferior *inf, struct sbuf *err)
{
	if (!inf->argv || !inf->argv[0]) {
		if (err)
			sbuf_puts(err, "No executable file specified.");
		return -EINVAL;
	}
	if (inf_alive(inf))
		inf_kill(inf);
	/* The agent (inferior calls, in-process syscall logging) rides in LD_PRELOAD. */
	char **env = NULL;
	if (!inf->no_agent && infcall_agent_env(inf->envp, &env) < 0) {
		pr_info(LM_CORE, "no rewind agent found: calls with struct arguments will not work");
		env = NULL;
	}
	struct launch_spec ls = {
		.argv = inf->argv, .envp = env ? env : inf->envp, .cwd = inf->cwd,
		.keep_aslr = inf->keep_aslr, .exitkill = true,
		.child_setup = inf->child_setup, .child_arg = inf->child_arg,
	};
	struct proc *p;
	int e = target_launch(&inf->tg, &ls, &p);
	if (env)
		infcall_env_free(env);
	if (e < 0) {
		if (err)
			sbuf_printf(err, "Cannot run %s: %s.", inf->argv[0], strerror(-e));
		return e;
	}
	inf->main = p;
	inf->cur = proc_main_task(p);
	inf->tracer_bound = inf->child_setup != NULL;
	inf_image_changed(inf, p);
	return 0;
}

int inf_attach(struct inferior *inf, pid_t pid, struct sbuf *err)
{
	if (inf_alive(inf)) {
		if (err)
			sbuf_puts(err, "A program is being debugged already. Kill or detach it first.");
		return -EBUSY;
	}
	struct proc *p;
	int e = target_attach(&inf->tg, pid, &p);
	if (e < 0) {
		if (err)
			sbuf_printf(err, "Cannot attach to process %d: %s.", pid,
				    e == -EPERM ? "Operation not permitted (check ptrace_scope and ownership)"
						: strerror(-e));
		return e;
	}
	/* Note the program for a later `run`. */
	char path[64], exe[4096];
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	ssize_t n = readlink(path, exe, sizeof exe - 1);
	if (n > 0 && !inf->argv) {
		exe[n] = 0;
		char *argv[] = { exe, NULL };
		inf_set_program(inf, argv);
	}
	inf->main = p;
	inf->cur = proc_main_task(p);
	inf_image_changed(inf, p);
	return 0;
}

/* Detach every traced process that is not the followed one nor a snapshot. */
void inf_release_others(struct inferior *inf)
{
	for (struct proc *p = inf->tg.procs; p; p = p->next)
		if (!p->dead && !p->snapshot && p != inf->main)
			target_detach(&inf->tg, p);
}

int inf_detach(struct inferior *inf)
{
	if (!inf_alive(inf))
		return -ESRCH;
	struct proc *p = inf->main;
	target_stop_all(&inf->tg);
	for (struct breakpoint *b = inf->bps.list; b; b = b->next)
		bp_uninsert(b, inf->tg.procs);
	VEC(pid_t) bound = { 0 };
	if (inf->tracer_bound) {
		for (struct proc *q = inf->tg.procs; q; q = q->next)
			if (!q->dead && !q->snapshot)
				vec_push(&bound, q->pid);
		babysit_stop(bound.v, bound.n);
	}
	int e = target_detach(&inf->tg, p);
	inf_release_others(inf);
	if (bound.n) {
		pid_t b = babysit_spawn(bound.v, bound.n);
		if (b < 0)
			inf_notice(inf, "warning: no babysitter for the recorded program (%s): its "
				   "trapped system calls now fail with ENOSYS", strerror((int)-b));
		else
			inf_notice(inf, "[process %d keeps serving the program's recording filter "
				   "after the detach]", b);
		vec_free(&bound);
	}
	if (p->user && inf->sym && inf->sym->detach_proc)
		inf->sym->detach_proc(inf, p);
	inf->main = NULL;
	inf->cur = NULL;
	return e;
}

int inf_kill(struct inferior *inf)
{
	if (!inf_alive(inf))
		return -ESRCH;
	struct proc *p = inf->main;
	for (struct breakpoint *b = inf->bps.list; b; b = b->next)
		for (size_t i = 0; i < b->locs.n; i++)
			if (b->locs.v[i].pid == p->pid)
				b->locs.v[i].inserted = false;
	int e = target_kill(&inf->tg, p);
	inf_release_others(inf);
	if (p->user && inf->sym && inf->sym->detach_proc)
		inf->sym->detach_proc(inf, p);
	inf->main = NULL;
	inf->cur = NULL;
	return e;
}

int inf_break(struct inferior *inf, enum bp_kind kind, const char *spec, const char *cond,
	      bool temporary, unsigned thread, struct breakpoint **out, struct sbuf *err)
{
	struct breakpoint *b = bp_new(&inf->bps, kind, BPI_NONE);
	b->spec = xstrdup(spec);
	b->cond = cond && *cond ? xstrdup(cond) : NULL;
	b->temporary = temporary;
	b->thread = thread;
	if (inf_alive(inf)) {
		bind_one(inf, inf->main, b, err);
	} else if (inf->sym && inf->sym->resolve) {
		/* No process: resolve against the program file (shown, re-resolved at run). */
		inf->sym->resolve(inf, NULL, b, err);
		b->pending = b->locs.n == 0;
	} else {
		b->pending = true;
	}
	if (b->pending && err && err->len && !inf_alive(inf) && b->spec[0] != '*') {
		/* The resolver explained why; the caller decides whether pending is ok. */
	}
	int e = bp_sync(&inf->bps, inf->tg.procs);
	if (e < 0 && err) {
		sbuf_reset(err);
		sbuf_printf(err, "Cannot insert breakpoint %d: %s.", b->id, strerror(-e));
	}
	*out = b;
	return 0;
}

int inf_watch(struct inferior *inf, enum bp_kind kind, const char *expr, uint64_t addr,
	      unsigned len, uint64_t scope_cfa, struct breakpoint **out, struct sbuf *err)
{
	if (!inf_alive(inf)) {
		if (err)
			sbuf_puts(err, "Cannot watch: the program is not being run.");
		return -ESRCH;
	}
	if (len == 0 || len > 32) {
		if (err)
			sbuf_printf(err, "Cannot watch %u bytes: hardware watchpoints cover 1 to 32 bytes.", len);
		return -EINVAL;
	}
	/* Split [addr, addr+len) into aligned 1/2/4/8-byte pieces. */
	uint64_t a = addr, end = addr + len;
	unsigned pieces = 0;
	struct { uint64_t a; unsigned n; } pc[8];
	while (a < end && pieces < 8) {
		unsigned n = 8;
		while (n > 1 && ((a & (n - 1)) || a + n > end))
			n /= 2;
		pc[pieces].a = a;
		pc[pieces].n = n;
		pieces++;
		a += n;
	}
	unsigned used = 0;
	for (int i = 0; i < 4; i++)
		used += inf->main->hw[i].used;
	if (a < end || pieces + used > 4) {
		if (err)
			sbuf_printf(err, "Cannot watch %s: it needs %u debug registers and %u are free (x86 has 4).",
				    expr ? expr : "this", pieces, 4 - used);
		return -ENOSPC;
	}
	struct breakpoint *b = bp_new(&inf->bps, kind, BPI_NONE);
	b->expr = xstrdup(expr ? expr : "");
	b->waddr = addr;
	b->wlen = len;
	b->scope_cfa = scope_cfa;
	b->scope_thread = inf->cur ? inf->cur->num : 0;
	for (unsigned i = 0; i < pieces; i++)
		bp_add_watch_loc(b, inf->main->pid, pc[i].a, pc[i].n);
	b->old_valid = proc_read(inf->main, RADDR(addr), b->old, len) == 0;
	int e = bp_sync(&inf->bps, inf->tg.procs);
	if (e < 0) {
		if (err)
			sbuf_printf(err, "Cannot set watchpoint: %s.", strerror(-e));
		bp_delete(&inf->bps, b, inf->tg.procs);
		return e;
	}
	*out = b;
	return 0;
}

int inf_delete(struct inferior *inf, struct breakpoint *b)
{
	bp_delete(&inf->bps, b, inf->tg.procs);
	return 0;
}

int inf_enable(struct inferior *inf, struct breakpoint *b, bool on)
{
	b->enabled = on;
	if (on && b->kind >= BPK_WATCH && inf_alive(inf))
		b->old_valid = proc_read(inf->main, RADDR(b->waddr), b->old, b->wlen) == 0;
	return bp_sync(&inf->bps, inf->tg.procs);
}

void inf_interrupt(struct inferior *inf)
{
	uint64_t one = 1;
	inf->interrupt_req = 1;
	ssize_t w = write(inf->tg.wake_fd, &one, sizeof one);
	(void)w;
}
