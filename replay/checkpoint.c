#include "checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/inferior_int.h"
#include "core/log.h"

void ckpt_init(struct ckpt_list *l)
{
	memset(l, 0, sizeof *l);
	l->next_id = 1;
	l->next_hidden = -1;   /* timeline snapshots (reverse execution) */
	l->auto_on = true;
	l->budget = 1ull << 30;   /* 1 GiB of checkpoint memory by default */
	l->compact = CC_AUTO;
}

static uint64_t live_faults(struct inferior *inf, uint64_t *pte);

static void ckpt_free(struct inferior *inf, struct checkpoint *c)
{
	if (c->snap)
		snap_drop(&inf->tg, c->snap);
	free(c->name);
	free(c->where);
	free(c);
}

void ckpt_fini(struct ckpt_list *l, struct inferior *inf)
{
	for (struct checkpoint *c = l->head, *n; c; c = n) {
		n = c->next;
		ckpt_free(inf, c);
	}
	l->head = NULL;
}

struct checkpoint *ckpt_by_id(struct ckpt_list *l, int id)
{
	for (struct checkpoint *c = l->head; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

struct checkpoint *ckpt_find(struct ckpt_list *l, const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);
	if (*s && !*end)
		return ckpt_by_id(l, (int)id);
	for (struct checkpoint *c = l->head; c; c = c->next)
		if (c->name && !strcmp(c->name, s))
			return c;
	return NULL;
}

/* Compact c onto the checkpoint taken after it. Returns true if it was. */
static bool compact_onto_next(struct inferior *inf, struct checkpoint *c, bool always)
{
	struct sbuf why = { 0 };
	int e = snap_compact(&inf->tg, c->snap, c->next->snap, always, &why);
	if (e < 0) {
		c->no_compact = true;
		pr_debug(LM_SNAP, "checkpoint %d stays a process: %s", c->id,
			 why.len ? sbuf_str(&why) : strerror(-e));
	}
	sbuf_free(&why);
	return e == 0;
}

/* set checkpoint-compact always: the automatic checkpoint before c goes onto c. */
static void compact_previous(struct ckpt_list *l, struct inferior *inf, struct checkpoint *c)
{
	struct checkpoint *prev = NULL;
	for (struct checkpoint *p = l->head; p && p != c; p = p->next)
		prev = p;
	if (prev && prev->automatic && !prev->no_compact && !snap_compacted(prev->snap))
		compact_onto_next(inf, prev, true);
}

int ckpt_take(struct ckpt_list *l, struct inferior *inf, const char *name, bool automatic,
	      bool force, const char *where, struct checkpoint **out, struct sbuf *msg)
{
	if (!inf_alive(inf)) {
		sbuf_puts(msg, "The program is not being run.");
		return -ESRCH;
	}
	if (name && ckpt_find(l, name)) {
		sbuf_printf(msg, "A checkpoint named \"%s\" exists already.", name);
		return -EEXIST;
	}
	struct snap_opts o = { .files = l->files, .force = force };
	struct snapshot *s;
	int e = snap_take(&inf->tg, &o, &s, msg);
	if (e < 0)
		return e;
	struct checkpoint *c = xcalloc(1, sizeof *c), **pp = &l->head;
	c->id = l->next_id++;
	c->name = name ? xstrdup(name) : NULL;
	c->automatic = automatic && !name;
	c->snap = s;
	c->taken_ns = now_ns();
	c->serial = l->next_serial++;
	c->pc = inf->cur ? task_pc(inf->cur) : 0;
	c->thread = inf->cur ? inf->cur->num : 0;
	c->where = xstrdup(where ? where : "");
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	l->current = c->id;
	if (automatic)
		l->since_measure++;
	if (c->automatic && l->compact == CC_ALWAYS)
		compact_previous(l, inf, c);
	*out = c;
	return 0;
}

/* Timeline snapshots for reverse execution (replay/timeline.c): like an automatic
 * checkpoint, but numbered apart (negative) so the user's numbers do not move. */
int ckpt_take_hidden(struct ckpt_list *l, struct inferior *inf, const char *where,
		     struct checkpoint **out, struct sbuf *msg)
{
	int cur = l->current, id = l->next_id;
	int e = ckpt_take(l, inf, NULL, true, false, where, out, msg);
	if (e < 0)
		return e;
	l->next_id = id;
	l->current = cur;
	(*out)->id = l->next_hidden--;
	(*out)->hidden = true;
	return 0;
}

int ckpt_delete(struct ckpt_list *l, struct inferior *inf, struct checkpoint *c)
{
	for (struct checkpoint **pp = &l->head; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			if (l->current == c->id)
				l->current = 0;
			ckpt_free(inf, c);
			return 0;
		}
	return -ENOENT;
}

/* After a restore: give the new procs the old ones' symbols, put the breakpoints in
 * force now (not those of the checkpoint) into memory, refresh watch values. */
static void reconcile(struct inferior *inf, pid_t main_pid, unsigned thread)
{
	struct target *tg = &inf->tg;
	struct proc *main = NULL;
	for (struct proc *p = tg->procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		/* Symbols: take over the dead incarnation's symtab (same pid). */
		for (struct proc *o = tg->procs; o; o = o->next)
			if (o->dead && !o->snapshot && o->pid == p->pid && o->user && !p->user) {
				p->user = o->user;
				o->user = NULL;
			}
		if (!p->user && p->pid == main_pid && inf->sym && inf->sym->attach_proc)
			inf->sym->attach_proc(inf, p);
		if (p->user && inf->sym && inf->sym->refresh)
			inf->sym->refresh(inf, p);
		/* The int3s and debug registers of checkpoint time go; today's come back. */
		proc_bp_uninstall_all(p);
		proc_bp_forget_all(p);
		for (int i = 0; i < 4; i++)
			p->hw[i].used = false;
		p->hw_gen++;
		bp_forget_pid(&inf->bps, p->pid);
		if (p->pid == main_pid)
			main = p;
	}
	/* Dead incarnations are gone for good. */
	for (struct proc *p = tg->procs, *n; p; p = n) {
		n = p->next;
		if (p->dead && !p->snapshot) {
			if (p->user && inf->sym && inf->sym->detach_proc)
				inf->sym->detach_proc(inf, p);
			target_forget(tg, p);
		}
	}
	inf->main = main;
	inf->cur = main ? proc_main_task(main) : NULL;
	if (main) {
		for (struct task *t = main->tasks; t; t = t->next)
			if (t->num == thread && t->state != TS_DEAD)
				inf->cur = t;
		inf_rebind(inf, main);
		for (struct breakpoint *b = inf->bps.list; b; b = b->next)
			if (b->kind >= BPK_WATCH) {
				for (size_t i = 0; i < b->locs.n; i++)
					b->locs.v[i].pid = main->pid;
				b->old_valid = proc_read(main, RADDR(b->waddr), b->old, b->wlen) == 0;
			}
		for (struct task *t = main->tasks; t; t = t->next)
			t->stepover = true;   /* a task restored onto an int3 steps off it */
	}
	bp_sync(&inf->bps, tg->procs);
}

int ckpt_restore(struct ckpt_list *l, struct inferior *inf, struct checkpoint *c, struct sbuf *msg)
{
	pid_t main_pid = inf->main ? inf->main->pid : 0;
	if (!main_pid) {
		/* The program has exited: the checkpoint's main process is the one with no
		 * traced parent among the checkpointed ones; the restore tells us. */
		main_pid = -1;
	}
	/* Nothing of a previous command may be pending. */
	inf->tg.queue.n = 0;
	int e = snap_restore(&inf->tg, c->snap, msg);
	if (e < 0)
		return e;
	if (main_pid == -1) {
		for (struct proc *p = inf->tg.procs; p; p = p->next)
			if (!p->dead && !p->snapshot &&
			    (main_pid == -1 || !target_find_proc(&inf->tg, p->parent_pid)))
				main_pid = p->pid;
	}
	reconcile(inf, main_pid, c->thread);
	l->current = c->hidden ? 0 : c->id;   /* a timeline snapshot is never `current` */
	l->measured_faults = live_faults(inf, NULL);   /* the restored processes count anew */
	return inf->main ? 0 : -ESRCH;
}

/* Page faults of the live processes so far (/proc/PID/stat minflt + majflt, counters):
 * every page a checkpoint comes to hold alone was copied by such a fault. With pte,
 * also their page tables' size. */
static uint64_t live_faults(struct inferior *inf, uint64_t *pte)
{
	uint64_t faults = 0;
	if (pte)
		*pte = 0;
	for (struct proc *p = inf->tg.procs; p; p = p->next) {
		if (p->dead || p->snapshot)
			continue;
		char path[64], *text;
		snprintf(path, sizeof path, "/proc/%d/stat", p->pid);
		if (read_file(path, &text, NULL) < 0)
			continue;
		unsigned long long minflt = 0, cminflt = 0, majflt = 0;
		char *r = strrchr(text, ')');
		if (r)
			sscanf(r + 1, " %*c %*d %*d %*d %*d %*d %*u %llu %llu %llu", &minflt, &cminflt,
			       &majflt);
		faults += minflt + majflt;
		free(text);
		if (!pte)
			continue;
		snprintf(path, sizeof path, "/proc/%d/status", p->pid);
		if (read_file(path, &text, NULL) == 0) {
			char *f = strstr(text, "\nVmPTE:");
			*pte += f ? strtoull(f + 7, NULL, 10) * 1024 : 0;
			free(text);
		}
	}
	return faults;
}

uint64_t ckpt_measure(struct ckpt_list *l, struct inferior *inf)
{
	size_t n = 0;
	for (struct checkpoint *c = l->head; c; c = c->next)
		n++;
	struct snapshot **v = xcalloc(n + 1, sizeof *v);
	uint64_t *each = xcalloc(n + 1, sizeof *each), total = 0;
	n = 0;
	for (struct checkpoint *c = l->head; c; c = c->next)
		v[n++] = c->snap;
	if (n)
		total = snap_measure(&inf->tg, v, n, each);
	n = 0;
	for (struct checkpoint *c = l->head; c; c = c->next) {
		c->mem = each[n++];
		total += snap_copied_bytes(c->snap);
	}
	free(v);
	free(each);
	l->since_measure = 0;
	l->measured = total;
	l->measured_faults = live_faults(inf, NULL);
	return total;
}

/* At most what the checkpoints hold now: the last measure, plus a page per fault of
 * the live processes since and a copy of their page tables per checkpoint since. No
 * page-table walk. */
static uint64_t estimate(struct ckpt_list *l, struct inferior *inf)
{
	uint64_t pte, faults = live_faults(inf, &pte);
	uint64_t more = faults > l->measured_faults ? faults - l->measured_faults : 0;
	return l->measured + more * 4096 + l->since_measure * pte;
}

/* Compact the oldest automatic checkpoints that are still processes, each onto the
 * next one (the two newest stay processes), until the estimate fits. True if any was. */
static bool compact_pass(struct ckpt_list *l, struct inferior *inf, uint64_t total)
{
	bool compacted = false;
	for (struct checkpoint *c = l->head; c && c->next && c->next->next &&
	     total > l->budget && l->compact != CC_OFF; c = c->next) {
		if (!c->automatic || c->no_compact || snap_compacted(c->snap) ||
		    snap_compacted(c->next->snap))
			continue;
		uint64_t before = c->mem;
		if (!compact_onto_next(inf, c, false))
			continue;
		/* Roughly what it freed (its page tables); the caller measures again. */
		c->mem = snap_private_bytes(c->snap);
		total -= before > c->mem && before - c->mem < total ? before - c->mem : 0;
		compacted = true;
	}
	return compacted;
}

/* Drop automatic checkpoints (not the current one, not the two newest), the most
 * crowded for their age first, until the estimate fits. True if any was. */
static bool drop_pass(struct ckpt_list *l, struct inferior *inf, uint64_t total)
{
	uint64_t now = now_ns();
	bool dropped = false;
	while (total > l->budget) {
		struct checkpoint *v[4096];
		size_t n = 0;
		for (struct checkpoint *c = l->head; c && n < ARRAY_SIZE(v); c = c->next)
			v[n++] = c;
		struct checkpoint *victim = NULL;
		double best = 0;
		for (size_t i = 0; i + 2 < n; i++) {
			struct checkpoint *c = v[i];
			if (!c->automatic || c->id == l->current)
				continue;
			uint64_t older = i ? v[i - 1]->taken_ns : c->taken_ns;
			uint64_t newer = v[i + 1]->taken_ns;
			double gap = (double)(newer - older) + 1;
			double age = (double)(now - c->taken_ns) + 1;
			double score = gap / age;   /* small: crowded for its age */
			if (!victim || score < best) {
				victim = c;
				best = score;
			}
		}
		if (!victim)
			break;
		pr_debug(LM_SNAP, "budget: dropping automatic checkpoint %d (%llu bytes)", victim->id,
			 (unsigned long long)victim->mem);
		total -= victim->mem < total ? victim->mem : total;
		ckpt_delete(l, inf, victim);
		dropped = true;
	}
	return dropped;
}

void ckpt_enforce_budget(struct ckpt_list *l, struct inferior *inf, bool measure)
{
	if (!l->budget)
		return;
	/* Walking every checkpoint's page tables costs ~10 ms per GiB mapped: not while
	 * the estimate says the budget holds. */
	if (!measure && (l->since_measure < 8 || estimate(l, inf) <= l->budget))
		return;
	uint64_t total = ckpt_measure(l, inf);
	/* What one checkpoint frees is only estimated (pages several share count for none
	 * of them): measure again after each pass, a few rounds at most. */
	for (int round = 0; round < 4 && total > l->budget; round++) {
		if (compact_pass(l, inf, total))
			total = ckpt_measure(l, inf);
		if (total > l->budget && drop_pass(l, inf, total))
			total = ckpt_measure(l, inf);
		else
			break;
	}
}

void ckpt_format_taken(const struct checkpoint *c, struct sbuf *out)
{
	sbuf_printf(out, "Checkpoint %d", c->id);
	if (c->name)
		sbuf_printf(out, " \"%s\"", c->name);
	sbuf_printf(out, " at %s\n", c->where);
}

static void human_size(uint64_t b, char *buf, size_t n)
{
	if (b < 1024)
		snprintf(buf, n, "%llu B", (unsigned long long)b);
	else if (b < (1u << 20))
		snprintf(buf, n, "%.1f KiB", (double)b / 1024);
	else if (b < (1u << 30))
		snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
	else
		snprintf(buf, n, "%.2f GiB", (double)b / (1 << 30));
}

static void human_age(uint64_t ns, char *buf, size_t n)
{
	double s = (double)ns / 1e9;
	if (s < 60)
		snprintf(buf, n, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s / 60) % 60);
}

void ckpt_format_list(struct ckpt_list *l, struct inferior *inf, struct sbuf *out)
{
	bool any = false;
	for (struct checkpoint *c = l->head; c && !any; c = c->next)
		any = !c->hidden;
	if (!any) {
		sbuf_puts(out, "No checkpoints.\n");
		return;
	}
	uint64_t total = ckpt_measure(l, inf), now = now_ns();
	sbuf_puts(out, "  Id   Name             Where                                Age      Memory\n");
	for (struct checkpoint *c = l->head; c; c = c->next) {
		if (c->hidden)
			continue;   /* timeline snapshots: `info timeline` lists them */
		char age[32], mem[32];
		human_age(now - c->taken_ns, age, sizeof age);
		human_size(c->mem, mem, sizeof mem);
		const char *marks = snap_marks(c->snap);
		sbuf_printf(out, "%c %-4d %-16s %-36s %-8s %s%s%s%s%s\n", c->id == l->current ? '*' : ' ',
			    c->id, c->name ? c->name : (c->automatic ? "(auto)" : "-"), c->where, age,
			    mem, snap_compacted(c->snap) ? "  (compacted)" : "",
			    snap_alive(c->snap) ? "" : "  [gone: its process was killed]",
			    marks ? "  [forced: " : "", marks ? "not all resources restorable]" : "");
	}
	char t[32], b[32];
	human_size(total, t, sizeof t);
	human_size(l->budget, b, sizeof b);
	sbuf_printf(out, "Checkpoint memory: %s of %s budget.\n", t, l->budget ? b : "unlimited");
}
