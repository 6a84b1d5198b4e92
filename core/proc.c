#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "condtrap.h"
#include "log.h"

struct proc *proc_new(struct target *tg, pid_t pid)
{
	struct proc *p = xcalloc(1, sizeof *p);
	p->pid = pid;
	p->tg = tg;
	p->memfd = -1;
	proc_open_mem(p);
	return p;
}

void proc_free(struct proc *p)
{
	if (!p)
		return;
	for (struct task *t = p->tasks, *n; t; t = n) {
		n = t->next;
		task_free(t);
	}
	if (p->memfd >= 0)
		close(p->memfd);
	vec_free(&p->sites);
	condtrap_free(p);
	free(p);
}

int proc_open_mem(struct proc *p)
{
	char path[64];
	if (p->memfd >= 0)
		close(p->memfd);
	snprintf(path, sizeof path, "/proc/%d/mem", p->pid);
	p->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (p->memfd < 0) {
		int e = -errno;
		pr_debug(LM_CORE, "open %s: %s", path, strerror(errno));
		return e;
	}
	return 0;
}

struct task *proc_task(struct proc *p, pid_t tid)
{
	for (struct task *t = p->tasks; t; t = t->next)
		if (t->tid == tid && t->state != TS_DEAD)
			return t;
	return NULL;
}

struct task *proc_add_task(struct proc *p, pid_t tid)
{
	struct task *t = task_new(p, tid), **pp = &p->tasks;
	while (*pp)
		pp = &(*pp)->next;
	*pp = t;
	return t;
}

struct task *proc_main_task(struct proc *p)
{
	struct task *first = NULL;
	for (struct task *t = p->tasks; t; t = t->next) {
		if (t->state == TS_DEAD)
			continue;
		if (t->tid == p->pid)
			return t;
		if (!first)
			first = t;
	}
	return first;
}

size_t proc_live_tasks(struct proc *p)
{
	size_t n = 0;
	for (struct task *t = p->tasks; t; t = t->next)
		n += t->state != TS_DEAD;
	return n;
}

int proc_read_raw(struct proc *p, raddr_t a, void *buf, size_t len)
{
	size_t done = 0;
	if (p->memfd < 0)
		return -ESRCH;
	while (done < len) {
		ssize_t n = pread(p->memfd, (char *)buf + done, len - done, (off_t)(a.v + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int proc_write_raw(struct proc *p, raddr_t a, const void *buf, size_t len)
{
	size_t done = 0;
	if (p->memfd < 0)
		return -ESRCH;
	while (done < len) {
		ssize_t n = pwrite(p->memfd, (const char *)buf + done, len - done,
				   (off_t)(a.v + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int proc_read(struct proc *p, raddr_t a, void *buf, size_t len)
{
	int e = proc_read_raw(p, a, buf, len);
	if (e < 0)
		return e;
	for (size_t i = 0; i < p->sites.n; i++) {
		uint64_t s = p->sites.v[i].addr;
		if (s >= a.v && s < a.v + len)
			((uint8_t *)buf)[s - a.v] = p->sites.v[i].orig;
	}
	if (p->ct)
		condtrap_hide(p, a.v, buf, len);
	return 0;
}

int proc_write(struct proc *p, raddr_t a, const void *buf, size_t len)
{
	bool covers = false;
	p->writes++;   /* a state change the record/replay engine must notice */
	for (size_t i = 0; i < p->sites.n; i++)
		if (p->sites.v[i].addr >= a.v && p->sites.v[i].addr < a.v + len)
			covers = true;
	if (!covers)
		return proc_write_raw(p, a, buf, len);
	uint8_t *tmp = xmalloc(len);
	memcpy(tmp, buf, len);
	for (size_t i = 0; i < p->sites.n; i++) {
		struct bpsite *s = &p->sites.v[i];
		if (s->addr >= a.v && s->addr < a.v + len) {
			s->orig = tmp[s->addr - a.v];
			tmp[s->addr - a.v] = 0xcc;
		}
	}
	int e = proc_write_raw(p, a, tmp, len);
	free(tmp);
	return e;
}

int proc_read_str(struct proc *p, raddr_t a, char *buf, size_t max)
{
	size_t n = 0;
	if (!max)
		return -EINVAL;
	while (n + 1 < max) {
		/* Read up to the end of the page so we never cross into unmapped memory. */
		size_t chunk = 4096 - ((a.v + n) & 4095);
		if (chunk > max - 1 - n)
			chunk = max - 1 - n;
		int e = proc_read(p, RADDR(a.v + n), buf + n, chunk);
		if (e < 0) {
			buf[n] = 0;
			return n ? 0 : e;
		}
		void *z = memchr(buf + n, 0, chunk);
		if (z)
			return 0;
		n += chunk;
	}
	buf[n] = 0;
	return 0;
}

struct bpsite *proc_bp_find(struct proc *p, uint64_t addr)
{
	for (size_t i = 0; i < p->sites.n; i++)
		if (p->sites.v[i].addr == addr)
			return &p->sites.v[i];
	return NULL;
}

int proc_bp_insert(struct proc *p, uint64_t addr)
{
	struct bpsite *s = proc_bp_find(p, addr);
	if (s) {
		s->refs++;
		return 0;
	}
	uint8_t orig, cc = 0xcc;
	int e = proc_read_raw(p, RADDR(addr), &orig, 1);
	if (e < 0)
		return e;
	e = proc_write_raw(p, RADDR(addr), &cc, 1);
	if (e < 0) {
		pr_debug(LM_CORE, "pid %d: cannot insert breakpoint at %#lx: %s", p->pid,
			 (unsigned long)addr, strerror(-e));
		return e;
	}
	struct bpsite ns = { addr, orig, 1 };
	vec_push(&p->sites, ns);
	return 0;
}

int proc_bp_remove(struct proc *p, uint64_t addr)
{
	for (size_t i = 0; i < p->sites.n; i++) {
		struct bpsite *s = &p->sites.v[i];
		if (s->addr != addr)
			continue;
		if (--s->refs > 0)
			return 0;
		int e = p->dead ? 0 : proc_write_raw(p, RADDR(addr), &s->orig, 1);
		p->sites.v[i] = p->sites.v[--p->sites.n];
		return e;
	}
	return -ENOENT;
}

int proc_bp_uninstall_all(struct proc *p)
{
	int err = 0;
	for (size_t i = 0; i < p->sites.n; i++) {
		int e = proc_write_raw(p, RADDR(p->sites.v[i].addr), &p->sites.v[i].orig, 1);
		if (e < 0)
			err = e;
	}
	return err;
}

void proc_bp_clone_from(struct proc *p, const struct proc *src)
{
	vec_free(&p->sites);
	for (size_t i = 0; i < src->sites.n; i++)
		vec_push(&p->sites, src->sites.v[i]);
}

void proc_bp_forget_all(struct proc *p)
{
	p->sites.n = 0;
}

int proc_hw_set(struct proc *p, uint64_t addr, enum hw_kind kind, unsigned len)
{
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	if (addr & (len - 1))
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (p->hw[i].used)
			continue;
		p->hw[i] = (struct hwslot){ true, addr, kind, len };
		p->hw_gen++;
		return i;
	}
	return -ENOSPC;
}

int proc_hw_clear(struct proc *p, int slot)
{
	if (slot < 0 || slot > 3 || !p->hw[slot].used)
		return -EINVAL;
	p->hw[slot].used = false;
	p->hw_gen++;
	return 0;
}

int proc_hw_apply(struct proc *p, struct task *t)
{
	if (t->dr_gen == p->hw_gen)
		return 0;
	uint64_t dr7 = 0;
	/* The kernel checks a new DR0-3 address against the slot's current DR7 setting:
	 * an odd exec address is refused while the slot still holds a 4-byte watch.
	 * Disable every slot first; the final DR7 write enables the new set. */
	int e = task_set_dr(t, 7, 0);
	if (e < 0)
		return e;
	for (int i = 0; i < 4; i++) {
		if (!p->hw[i].used)
			continue;
		static const unsigned lenbits[9] = { 0, 0, 1, 0, 3, 0, 0, 0, 2 };
		unsigned rw = p->hw[i].kind, ln = p->hw[i].kind == HW_EXEC ? 0 : lenbits[p->hw[i].len];
		e = task_set_dr(t, i, p->hw[i].addr);
		if (e < 0)
			return e;
		dr7 |= 1ull << (i * 2);                 /* local enable */
		dr7 |= (uint64_t)(rw | (ln << 2)) << (16 + i * 4);
	}
	e = task_set_dr(t, 7, dr7);
	if (e < 0)
		return e;
	t->dr_gen = p->hw_gen;
	return 0;
}

int proc_hw_hit(struct proc *p, struct task *t, unsigned *mask)
{
	uint64_t dr6;
	(void)p;
	int e = task_get_dr(t, 6, &dr6);
	if (e < 0)
		return e;
	*mask = (unsigned)(dr6 & 0xf);
	if (dr6 & 0xf)
		task_set_dr(t, 6, 0);
	return 0;
}
