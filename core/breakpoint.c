#include "breakpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void bp_table_init(struct bp_table *t)
{
	memset(t, 0, sizeof *t);
	t->next_id = 1;
	t->next_internal = -1;
}

static void bp_free(struct breakpoint *b)
{
	bp_clear_locs(b);
	vec_free(&b->locs);
	free(b->spec);
	free(b->cond);
	free(b->expr);
	free(b);
}

void bp_table_free(struct bp_table *t)
{
	for (struct breakpoint *b = t->list, *n; b; b = n) {
		n = b->next;
		bp_free(b);
	}
	t->list = NULL;
}

struct breakpoint *bp_new(struct bp_table *t, enum bp_kind kind, enum bp_internal internal)
{
	struct breakpoint *b = xcalloc(1, sizeof *b), **pp = &t->list;
	b->kind = kind;
	b->internal = internal;
	b->enabled = true;
	b->id = internal == BPI_NONE ? t->next_id++ : t->next_internal--;
	while (*pp)
		pp = &(*pp)->next;
	*pp = b;
	return b;
}

struct breakpoint *bp_find(struct bp_table *t, int id)
{
	for (struct breakpoint *b = t->list; b; b = b->next)
		if (b->id == id)
			return b;
	return NULL;
}

static struct proc *find_proc(struct proc *procs, pid_t pid)
{
	for (struct proc *p = procs; p; p = p->next)
		if (p->pid == pid && !p->dead && !p->snapshot)
			return p;
	return NULL;
}

static bool is_hw(const struct breakpoint *b)
{
	return b->kind != BPK_BREAK;
}

static void loc_remove(const struct breakpoint *b, struct bp_loc *l, struct proc *procs)
{
	if (!l->inserted)
		return;
	struct proc *p = find_proc(procs, l->pid);
	if (p) {
		if (is_hw(b))
			proc_hw_clear(p, l->hw_slot);
		else
			proc_bp_remove(p, l->addr);
	}
	l->inserted = false;
	l->hw_slot = -1;
}

static int loc_insert(const struct breakpoint *b, struct bp_loc *l, struct proc *procs)
{
	if (l->inserted)
		return 0;
	struct proc *p = find_proc(procs, l->pid);
	if (!p)
		return 0;   /* process gone: nothing to do until it comes back */
	int e;
	if (b->kind == BPK_BREAK) {
		e = proc_bp_insert(p, l->addr);
	} else {
		enum hw_kind k = b->kind == BPK_HBREAK ? HW_EXEC :
				 b->kind == BPK_WATCH ? HW_WRITE : HW_RW;
		unsigned len = b->kind == BPK_HBREAK ? 1 : l->len ? l->len : b->wlen;
		e = proc_hw_set(p, l->addr, k, len);
		if (e >= 0) {
			l->hw_slot = e;
			e = 0;
		}
	}
	if (e < 0) {
		pr_debug(LM_CORE, "breakpoint %d: insert at %#lx in %d failed: %s", b->id,
			 (unsigned long)l->addr, l->pid, strerror(-e));
		return e;
	}
	l->inserted = true;
	return 0;
}

void bp_uninsert(struct breakpoint *b, struct proc *procs)
{
	for (size_t i = 0; i < b->locs.n; i++)
		loc_remove(b, &b->locs.v[i], procs);
}

void bp_delete(struct bp_table *t, struct breakpoint *b, struct proc *procs)
{
	bp_uninsert(b, procs);
	for (struct breakpoint **pp = &t->list; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	bp_free(b);
}

void bp_add_loc(struct breakpoint *b, pid_t pid, uint64_t addr, const char *func,
		const char *file, int line)
{
	for (size_t i = 0; i < b->locs.n; i++)
		if (b->locs.v[i].pid == pid && b->locs.v[i].addr == addr)
			return;
	struct bp_loc l = { pid, addr, false, -1, 0, func ? xstrdup(func) : NULL,
			    file ? xstrdup(file) : NULL, line };
	vec_push(&b->locs, l);
}

void bp_add_watch_loc(struct breakpoint *b, pid_t pid, uint64_t addr, unsigned len)
{
	struct bp_loc l = { pid, addr, false, -1, len, NULL, NULL, 0 };
	vec_push(&b->locs, l);
}

void bp_clear_locs(struct breakpoint *b)
{
	for (size_t i = 0; i < b->locs.n; i++) {
		free(b->locs.v[i].func);
		free(b->locs.v[i].file);
	}
	b->locs.n = 0;
}

int bp_sync(struct bp_table *t, struct proc *procs)
{
	int err = 0;
	for (struct breakpoint *b = t->list; b; b = b->next)
		for (size_t i = 0; i < b->locs.n; i++) {
			struct bp_loc *l = &b->locs.v[i];
			if (b->enabled) {
				int e = loc_insert(b, l, procs);
				if (e < 0 && !err)
					err = e;
			} else {
				loc_remove(b, l, procs);
			}
		}
	return err;
}

void bp_forget_pid(struct bp_table *t, pid_t pid)
{
	for (struct breakpoint *b = t->list; b; b = b->next)
		for (size_t i = 0; i < b->locs.n; i++)
			if (b->locs.v[i].pid == pid) {
				b->locs.v[i].inserted = false;
				b->locs.v[i].hw_slot = -1;
			}
}

size_t bp_at(struct bp_table *t, pid_t pid, uint64_t addr, struct breakpoint **out, size_t max)
{
	size_t n = 0;
	for (struct breakpoint *b = t->list; b && n < max; b = b->next) {
		if (!b->enabled || (b->kind != BPK_BREAK && b->kind != BPK_HBREAK))
			continue;
		for (size_t i = 0; i < b->locs.n; i++)
			if (b->locs.v[i].pid == pid && b->locs.v[i].addr == addr &&
			    b->locs.v[i].inserted) {
				out[n++] = b;
				break;
			}
	}
	return n;
}

struct breakpoint *bp_by_slot(struct bp_table *t, pid_t pid, int slot)
{
	for (struct breakpoint *b = t->list; b; b = b->next)
		for (size_t i = 0; i < b->locs.n; i++)
			if (b->locs.v[i].pid == pid && b->locs.v[i].hw_slot == slot &&
			    b->locs.v[i].inserted)
				return b;
	return NULL;
}

const char *bp_kind_name(enum bp_kind k)
{
	switch (k) {
	case BPK_BREAK: return "breakpoint";
	case BPK_HBREAK: return "hw breakpoint";
	case BPK_WATCH: return "hw watchpoint";
	case BPK_RWATCH: return "read watchpoint";
	case BPK_AWATCH: return "acc watchpoint";
	}
	return "?";
}
