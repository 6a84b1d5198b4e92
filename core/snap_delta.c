/* Compacted checkpoints: an older checkpoint kept as the pages in which it differs from
 * a newer one, instead of as a forked process.
 *
 * Every forked checkpoint of a big process holds a full set of page tables (2 MiB per
 * GiB mapped) however little the program changed between two stops. When an older
 * checkpoint A and a newer forked one B of the same processes agree on everything that
 * lives in the process and not in the snapshot's saved state (mappings, open file
 * descriptions, signal dispositions, credentials, limits, cwd...), A is fully described
 * by B plus the pages where they differ. Those pages are found exactly by comparing the
 * page frame numbers of A's and B's page tables (/proc/PID/pagemap: same frame, same
 * page), copied out of A, and A's process is killed. Restoring A forks B's process (or
 * the forked checkpoint at the end of the chain, when B was compacted in turn), writes
 * each page of the chain once, with the value of the oldest delta holding it, then puts
 * A's own saved state back as for any checkpoint. Page frame numbers are visible only with CAP_SYS_ADMIN: without it
 * nothing is compacted. */
#include "snap_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "maps.h"

#define PAGE 4096ull
#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_EXCLUSIVE (1ull << 56)
#define PM_FRAME ((1ull << 55) - 1)      /* PFN, or swap type and offset */
#define PM_CHUNK 65536                    /* pagemap entries read at a time */
#define CHAIN_MAX 4096                    /* compacted snapshots in one chain, at most */

const struct snapshot *snap_chain_end(const struct snapshot *s)
{
	while (s->base)
		s = s->base;
	return s;
}

const struct snap_proc *snap_src(const struct snapshot *s, size_t i)
{
	return &snap_chain_end(s)->procs.v[i];
}

/* ---- do A and B agree on everything outside memory and the saved state? ---- */

static char *slurp(pid_t pid, const char *file)
{
	char path[96], *text = NULL;
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	return read_file(path, &text, NULL) == 0 ? text : NULL;
}

static char *link_of(pid_t pid, const char *file)
{
	char path[96], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return xstrdup(buf);
}

/* The lines of /proc/PID/status that fork copies and a process can change. */
static char *status_settings(pid_t pid)
{
	static const char *const keep[] = { "Umask:", "Uid:", "Gid:", "Groups:", "NoNewPrivs:",
		"Seccomp:", "Seccomp_filters:", "SigIgn:", "SigCgt:", "CapInh:", "CapPrm:",
		"CapEff:", "CapBnd:", "CapAmb:" };
	char *text = slurp(pid, "status");
	if (!text)
		return NULL;
	struct sbuf out = { 0 };
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		for (size_t k = 0; k < ARRAY_SIZE(keep); k++)
			if (!strncmp(line, keep[k], strlen(keep[k]))) {
				sbuf_puts(&out, line);
				sbuf_putc(&out, '\n');
			}
	free(text);
	return sbuf_steal(&out);
}

typedef char *(*fact_fn)(pid_t pid, const char *arg);

static char *fact_file(pid_t pid, const char *arg) { return slurp(pid, arg); }
static char *fact_link(pid_t pid, const char *arg) { return link_of(pid, arg); }
static char *fact_status(pid_t pid, const char *arg) { (void)arg; return status_settings(pid); }

/* Same open file description behind every fd, with the same fd flags. */
static int same_fds(pid_t a, pid_t b, struct sbuf *why)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", a);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int na = 0, e = 0;
	struct dirent *de;
	while (!e && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int fd = atoi(de->d_name);
		na++;
		char info[64];
		snprintf(info, sizeof info, "fdinfo/%d", fd);
		char *fa = slurp(a, info), *fb = slurp(b, info);
		char *la = fa ? strstr(fa, "flags:") : NULL, *lb = fb ? strstr(fb, "flags:") : NULL;
		if (syscall(SYS_kcmp, a, b, KCMP_FILE, fd, fd) != 0 || !la || !lb ||
		    strtoul(la + 6, NULL, 8) != strtoul(lb + 6, NULL, 8)) {
			sbuf_printf(why, "fd %d differs\n", fd);
			e = -EXDEV;
		}
		free(fa);
		free(fb);
	}
	closedir(d);
	if (e)
		return e;
	snprintf(path, sizeof path, "/proc/%d/fd", b);
	if (!(d = opendir(path)))
		return -errno;
	int nb = 0;
	while ((de = readdir(d)))
		nb += de->d_name[0] != '.';
	closedir(d);
	if (na != nb) {
		sbuf_printf(why, "%d fds against %d\n", na, nb);
		return -EXDEV;
	}
	return 0;
}

/* Read the dispositions of the caught signals of a checkpoint process. */
static int handlers(struct target *tg, const struct snap_proc *sp, uint64_t caught,
		    uint64_t out[64][4])
{
	struct task *t = proc_main_task(sp->ckpt);
	struct scratch sc;
	int e = scratch_begin(t, 32, &sc);
	if (e < 0)
		return e;
	for (int sig = 1; sig <= 64 && !e; sig++) {
		if (!(caught & (1ull << (sig - 1))))
			continue;
		int64_t r;
		e = snap_sys_ok(tg, t, SYS_rt_sigaction, &r, (uint64_t)sig, 0, scratch_addr(&sc, 0), 8,
				0, 0);
		if (!e)
			e = scratch_get(&sc, 0, out[sig - 1], 32);
	}
	int e2 = scratch_end(&sc, NULL);
	return e ? e : e2;
}

static int same_process(struct target *tg, const struct snap_proc *a, const struct snap_proc *b,
			struct sbuf *why)
{
	static const struct { fact_fn fn; const char *arg; } facts[] = {
		{ fact_file, "maps" }, { fact_status, NULL }, { fact_file, "comm" },
		{ fact_file, "limits" }, { fact_file, "personality" }, { fact_link, "cwd" },
		{ fact_link, "root" }, { fact_link, "exe" },
	};
	pid_t pa = a->ckpt->pid, pb = b->ckpt->pid;
	if (a->pid != b->pid) {
		sbuf_printf(why, "pid %d against pid %d\n", a->pid, b->pid);
		return -EXDEV;
	}
	for (size_t k = 0; k < ARRAY_SIZE(facts); k++) {
		char *fa = facts[k].fn(pa, facts[k].arg), *fb = facts[k].fn(pb, facts[k].arg);
		bool same = fa && fb && !strcmp(fa, fb);
		free(fa);
		free(fb);
		if (!same) {
			sbuf_printf(why, "pid %d: %s differ\n", a->pid, facts[k].arg ? facts[k].arg :
				    "credentials or signal settings");
			return -EXDEV;
		}
	}
	int e = same_fds(pa, pb, why);
	if (e < 0)
		return e;
	/* SigCgt is equal (status): compare what each caught signal runs. */
	uint64_t ha[64][4] = { { 0 } }, hb[64][4] = { { 0 } };
	if ((e = handlers(tg, a, a->sigcgt, ha)) < 0 || (e = handlers(tg, b, a->sigcgt, hb)) < 0)
		return e;
	if (memcmp(ha, hb, sizeof ha)) {
		sbuf_printf(why, "pid %d: signal handlers differ\n", a->pid);
		return -EXDEV;
	}
	return 0;
}

/* ---- the pages that differ ---- */

static int pagemap_read(int fd, uint64_t addr, size_t n, uint64_t *out)
{
	size_t got = 0;
	while (got < n * 8) {
		ssize_t k = pread(fd, (char *)out + got, n * 8 - got, (off_t)(addr / PAGE * 8 + got));
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		got += (size_t)k;
	}
	return 0;
}

static void delta_free(struct snap_delta *d)
{
	if (d->data)
		munmap(d->data, d->cap);
	vec_free(&d->pages);
	vec_free(&d->holes);
	memset(d, 0, sizeof *d);
}

/* Pages of A's private mappings whose frame differs in B, and how many pages only A
 * maps (what dropping A's process frees besides its page tables). */
static int diff_pages(pid_t a, pid_t b, struct snap_delta *d, uint64_t *exclusive,
		      struct sbuf *why)
{
	struct maps m = { 0 };
	char path[64];
	int e = maps_read(a, &m), fa = -1, fb = -1;
	uint64_t *ea = xmalloc(PM_CHUNK * 8), *eb = xmalloc(PM_CHUNK * 8);
	bool frames_seen = false;
	snprintf(path, sizeof path, "/proc/%d/pagemap", a);
	if (!e && (fa = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		e = -errno;
	snprintf(path, sizeof path, "/proc/%d/pagemap", b);
	if (!e && (fb = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		e = -errno;
	for (size_t i = 0; i < m.n && !e; i++) {
		const struct map_entry *me = &m.v[i];
		/* Shared mappings are saved apart (snap_shm.c); the kernel's own are equal. */
		if (me->shared || !strncmp(me->path, "[vvar", 5) || !strcmp(me->path, "[vsyscall]"))
			continue;
		for (uint64_t at = me->start; at < me->end && !e;) {
			size_t n = (size_t)((me->end - at) / PAGE);
			if (n > PM_CHUNK)
				n = PM_CHUNK;
			if ((e = pagemap_read(fa, at, n, ea)) < 0 || (e = pagemap_read(fb, at, n, eb)) < 0)
				break;
			for (size_t k = 0; k < n; k++) {
				uint64_t x = ea[k] & (PM_PRESENT | PM_SWAP | PM_FRAME);
				uint64_t y = eb[k] & (PM_PRESENT | PM_SWAP | PM_FRAME);
				if ((x & PM_PRESENT) && !(x & PM_SWAP))
					frames_seen |= (x & PM_FRAME) != 0;
				if ((ea[k] & PM_PRESENT) && (ea[k] & PM_EXCLUSIVE))
					*exclusive += PAGE;
				if (x == y)
					continue;
				if (x & (PM_PRESENT | PM_SWAP))
					vec_push(&d->pages, at + k * PAGE);
				else
					vec_push(&d->holes, at + k * PAGE);
			}
			at += n * PAGE;
		}
	}
	if (!e && !frames_seen && d->pages.n) {
		sbuf_puts(why, "page frame numbers are hidden (they need CAP_SYS_ADMIN)\n");
		e = -EPERM;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	free(ea);
	free(eb);
	maps_free(&m);
	return e;
}

/* Read len bytes of a process at addr through its /proc/PID/mem (memfd):
 * process_vm_readv would pin the pages, which makes the kernel unshare (copy) every
 * page the checkpoint shares with others. */
static int read_run(int memfd, uint8_t *buf, size_t len, uint64_t addr)
{
	for (size_t done = 0; done < len;) {
		ssize_t k = pread(memfd, buf + done, len - done, (off_t)(addr + done));
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		done += (size_t)k;
	}
	return 0;
}

/* Write len bytes into process pid at addr: process_vm_writev, and its /proc/PID/mem
 * (memfd, which may also write read-only pages) page by page for what it refuses. */
static int write_run(pid_t pid, int memfd, const uint8_t *buf, size_t len, uint64_t addr)
{
	for (size_t done = 0; done < len;) {
		struct iovec local = { (void *)(buf + done), len - done };
		struct iovec remote = { (void *)(uintptr_t)(addr + done), len - done };
		ssize_t k = process_vm_writev(pid, &local, 1, &remote, 1, 0);
		if (k <= 0) {
			/* One page the slow way, then the fast way again. */
			ssize_t w = pwrite(memfd, buf + done, PAGE, (off_t)(addr + done));
			if (w != (ssize_t)PAGE)
				return w < 0 ? -errno : -EIO;
			k = (ssize_t)PAGE;
		}
		done += (size_t)k;
	}
	return 0;
}

static int open_mem(pid_t pid, int flags)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", pid);
	int fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static uint64_t delta_bytes(const struct snapshot *s)
{
	uint64_t b = 0;
	for (size_t i = 0; i < s->procs.n; i++)
		b += s->procs.v[i].delta.pages.n * PAGE;
	return b;
}

/* Copy A's contents of d's pages. */
static int copy_pages(pid_t a, struct snap_delta *d)
{
	if (!d->pages.n)
		return 0;
	d->cap = d->pages.n * PAGE;
	d->data = mmap(NULL, d->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->data == MAP_FAILED) {
		d->data = NULL;
		return -ENOMEM;
	}
	int fd = open_mem(a, O_RDONLY), e = fd < 0 ? fd : 0;
	for (size_t i = 0; i < d->pages.n && !e;) {
		size_t j = i + 1;
		while (j < d->pages.n && d->pages.v[j] == d->pages.v[j - 1] + PAGE)
			j++;
		e = read_run(fd, d->data + i * PAGE, (j - i) * PAGE, d->pages.v[i]);
		i = j;
	}
	if (fd >= 0)
		close(fd);
	return e;
}

int snap_compact(struct target *tg, struct snapshot *older, struct snapshot *newer, bool always,
		 struct sbuf *why)
{
	if (older == newer || older->base || newer->base) {
		sbuf_puts(why, "both checkpoints must be forked processes\n");
		return -EINVAL;
	}
	if (older->procs.n != newer->procs.n || !snap_alive(older) || !snap_alive(newer)) {
		sbuf_puts(why, "the checkpoints hold different processes\n");
		return -EXDEV;
	}
	if (older->depth + 1 > CHAIN_MAX) {
		sbuf_printf(why, "a restore would write more than %d sets of pages\n", CHAIN_MAX);
		return -ELOOP;
	}
	uint64_t t0 = now_ns(), bytes = 0, saves = 0;
	int e = 0;
	for (size_t i = 0; i < older->procs.n && !e; i++)
		e = same_process(tg, &older->procs.v[i], &newer->procs.v[i], why);
	uint64_t t1 = now_ns();
	for (size_t i = 0; i < older->procs.n && !e; i++) {
		struct snap_proc *a = &older->procs.v[i];
		pid_t ap = a->ckpt->pid, bp = newer->procs.v[i].ckpt->pid;
		saves += snap_proc_field(ap, "status", "\nVmPTE:");
		if ((e = diff_pages(ap, bp, &a->delta, &saves, why)) < 0)
			break;
	}
	bytes = e ? 0 : delta_bytes(older);
	if (!e && !always && bytes >= saves) {
		sbuf_printf(why, "it would hold %llu KiB against %llu KiB now\n",
			    (unsigned long long)bytes >> 10, (unsigned long long)saves >> 10);
		e = -E2BIG;
	}
	uint64_t t2 = now_ns();
	for (size_t i = 0; i < older->procs.n && !e; i++)
		e = copy_pages(older->procs.v[i].ckpt->pid, &older->procs.v[i].delta);
	uint64_t t3 = now_ns();
	if (e < 0) {
		for (size_t i = 0; i < older->procs.n; i++)
			delta_free(&older->procs.v[i].delta);
		pr_debug(LM_SNAP, "not compacted: %s", why->len ? sbuf_str(why) : strerror(-e));
		return e;
	}
	for (size_t i = 0; i < older->procs.n; i++) {
		struct snap_proc *a = &older->procs.v[i];
		snap_kill_ckpt(tg, a);
		if (a->ckpt_pidfd >= 0)
			close(a->ckpt_pidfd);
		a->ckpt_pidfd = -1;
	}
	older->base = newer;
	vec_push(&newer->deps, older);
	if (newer->depth < older->depth + 1)
		newer->depth = older->depth + 1;
	older->delta_bytes = bytes;
	tg->snap_delta_bytes += bytes;
	size_t holes = 0;
	for (size_t i = 0; i < older->procs.n; i++)
		holes += older->procs.v[i].delta.holes.n;
	pr_debug(LM_SNAP, "compacted: %llu KiB of pages and %zu absent ones instead of a process "
		 "(%llu KiB) in %lu us (compare %lu, page frames %lu, copy %lu, kill %lu)",
		 (unsigned long long)bytes >> 10, holes, (unsigned long long)saves >> 10,
		 (unsigned long)(now_ns() - t0) / 1000, (unsigned long)(t1 - t0) / 1000,
		 (unsigned long)(t2 - t1) / 1000, (unsigned long)(t3 - t2) / 1000,
		 (unsigned long)(now_ns() - t3) / 1000);
	return 0;
}

bool snap_compacted(const struct snapshot *s)
{
	return s->base != NULL;
}

/* A set of page addresses (open addressing; 0 is never a page of a process). */
struct page_set {
	uint64_t *slot;
	size_t mask;
};

static bool page_set_add(struct page_set *ps, uint64_t page)
{
	for (size_t h = (size_t)((page >> 12) * 0x9e3779b97f4a7c15ull) & ps->mask;;
	     h = (h + 1) & ps->mask) {
		if (ps->slot[h] == page)
			return false;
		if (!ps->slot[h]) {
			ps->slot[h] = page;
			return true;
		}
	}
}

/* Drop len bytes of pages at addr in r: they read as zero, or as the file's contents. */
static int drop_run(struct target *tg, struct proc *r, uint64_t addr, size_t len)
{
	int64_t ret;
	int e = snap_sys(tg, proc_main_task(r), SYS_madvise, &ret, addr, len, MADV_DONTNEED, 0,
			 0, 0);
	if (!e && ret < 0)
		e = (int)ret;
	if (e < 0)
		pr_err(LM_SNAP, "pid %d: cannot drop %#llx+%zu: %s", r->pid, (unsigned long long)addr,
		       len, strerror(-e));
	return e;
}

/* Write (data) or drop (data NULL) the runs of v's pages not written yet. */
static int apply_list(struct target *tg, struct proc *r, int fd, struct page_set *ps,
		      const snap_pagevec *v, const uint8_t *data)
{
	int e = 0;
	for (size_t k = 0; k < v->n && !e;) {
		if (!page_set_add(ps, v->v[k])) {
			k++;
			continue;
		}
		size_t j = k + 1;
		while (j < v->n && v->v[j] == v->v[j - 1] + PAGE && page_set_add(ps, v->v[j]))
			j++;
		e = data ? write_run(r->pid, fd, data + k * PAGE, (j - k) * PAGE, v->v[k])
			 : drop_run(tg, r, v->v[k], (j - k) * PAGE);
		k = j;
	}
	return e;
}

int snap_delta_apply(struct target *tg, const struct snapshot *s, size_t i, struct proc *r)
{
	if (!s->base)
		return 0;
	size_t total = 0;
	for (const struct snapshot *c = s; c->base; c = c->base)
		total += c->procs.v[i].delta.pages.n + c->procs.v[i].delta.holes.n;
	struct page_set ps = { NULL, 0 };
	size_t cap = 16;
	while (cap < 2 * total)
		cap <<= 1;
	ps.slot = xcalloc(cap, sizeof *ps.slot);
	ps.mask = cap - 1;
	int fd = open_mem(r->pid, O_WRONLY), e = fd < 0 ? fd : 0;
	/* Oldest first: a page gets the value of the first delta holding it. */
	for (const struct snapshot *c = s; c->base && !e; c = c->base) {
		const struct snap_delta *d = &c->procs.v[i].delta;
		if (!(e = apply_list(tg, r, fd, &ps, &d->pages, d->data)))
			e = apply_list(tg, r, fd, &ps, &d->holes, NULL);
	}
	if (fd >= 0)
		close(fd);
	free(ps.slot);
	pr_debug(LM_SNAP, "pid %d: %zu pages of compacted checkpoints put back", r->pid, total);
	return e;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static const uint64_t *find(const snap_pagevec *v, uint64_t pg)
{
	return v->n ? bsearch(&pg, v->v, v->n, sizeof *v->v, cmp_u64) : NULL;
}

/* into (a dependent of from) takes the pages and holes of from it does not have. */
static int delta_merge(struct snap_delta *into, const struct snap_delta *from)
{
	struct snap_delta m = { 0 };
	for (size_t k = 0; k < into->holes.n; k++)
		vec_push(&m.holes, into->holes.v[k]);
	for (size_t k = 0; k < from->holes.n; k++)
		if (!find(&into->pages, from->holes.v[k]) && !find(&into->holes, from->holes.v[k]))
			vec_push(&m.holes, from->holes.v[k]);
	for (size_t k = 0; k < into->pages.n; k++)
		vec_push(&m.pages, into->pages.v[k]);
	for (size_t k = 0; k < from->pages.n; k++)
		if (!find(&into->pages, from->pages.v[k]) && !find(&into->holes, from->pages.v[k]))
			vec_push(&m.pages, from->pages.v[k]);
	if (m.holes.n)
		qsort(m.holes.v, m.holes.n, sizeof *m.holes.v, cmp_u64);
	if (m.pages.n)
		qsort(m.pages.v, m.pages.n, sizeof *m.pages.v, cmp_u64);
	if (m.pages.n) {
		m.cap = m.pages.n * PAGE;
		m.data = mmap(NULL, m.cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m.data == MAP_FAILED) {
			m.data = NULL;
			delta_free(&m);
			return -ENOMEM;
		}
	}
	for (size_t k = 0; k < m.pages.n; k++) {
		const uint64_t *at = find(&into->pages, m.pages.v[k]);
		const uint8_t *src = at ? into->data + (size_t)(at - into->pages.v) * PAGE
				       : from->data + (size_t)(find(&from->pages, m.pages.v[k]) -
							       from->pages.v) * PAGE;
		memcpy(m.data + k * PAGE, src, PAGE);
	}
	delta_free(into);
	*into = m;
	return 0;
}

static void unlink_dep(struct snapshot *base, struct snapshot *s)
{
	for (size_t k = 0; k < base->deps.n; k++)
		if (base->deps.v[k] == s) {
			base->deps.v[k] = base->deps.v[--base->deps.n];
			return;
		}
}

bool snap_delta_release(struct target *tg, struct snapshot *s)
{
	if (s->deps.n && !s->base) {
		s->dropped = true;
		return false;
	}
	for (size_t k = 0; k < s->deps.n; k++) {
		struct snapshot *d = s->deps.v[k];
		for (size_t i = 0; i < d->procs.n; i++)
			if (delta_merge(&d->procs.v[i].delta, &s->procs.v[i].delta) < 0) {
				/* No memory for the merge: keep s as it is. */
				s->dropped = true;
				return false;
			}
		uint64_t now = delta_bytes(d);
		tg->snap_delta_bytes += now - d->delta_bytes;
		d->delta_bytes = now;
		d->base = s->base;
		vec_push(&s->base->deps, d);
	}
	s->deps.n = 0;
	vec_free(&s->deps);
	if (s->base)
		unlink_dep(s->base, s);
	return true;
}

void snap_delta_free(struct target *tg, struct snapshot *s)
{
	for (size_t i = 0; i < s->procs.n; i++)
		delta_free(&s->procs.v[i].delta);
	tg->snap_delta_bytes -= s->delta_bytes < tg->snap_delta_bytes ? s->delta_bytes :
				tg->snap_delta_bytes;
	s->delta_bytes = 0;
}
