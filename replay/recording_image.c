/* recording_image: the state of a process rewind attached to, kept in the recording
 * (DIR/image) so that a recording that starts in the middle of a run can be replayed
 * later: the attach point is the recording's first snapshot, on disk.
 *
 * What is kept: every mapping (address, protection, and the contents of each readable
 * one), the main thread's registers, extended state and signal mask, the signal
 * dispositions, the memory-map bounds the kernel keeps (code, data, brk, stack,
 * arguments, environment, auxv) and which descriptors are open (with close-on-exec).
 * A replay restores it into a process started from the stored executable: its own
 * mappings go, the recorded ones are re-created (anonymous, with their contents; the
 * vDSO's patched entry points make syscalls wherever they sit), the kernel's bounds
 * are set with PR_SET_MM_MAP, descriptors become placeholders.
 *
 * Format: "RWIMAGE1", then little-endian fields as written by image_save(). */
#include "replay/record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/condtrap.h"
#include "core/inject.h"
#include "core/log.h"
#include "core/maps.h"
#include "replay/recdir.h"

#define IMAGE_MAGIC "RWIMAGE1"
#define NSIGACT 64

struct image_map {
	uint64_t start, end, offset;
	uint32_t prot, flags;     /* flags: 1 shared, 2 stack, 4 has data */
	char *path;
	uint8_t *data;
};

struct image {
	pid_t tid;
	uint32_t nthreads;
	struct user_regs_struct regs;
	uint8_t *xstate;
	uint32_t xlen;
	uint64_t sigmask;
	uint64_t mm[11];          /* start_code ... env_end, as struct prctl_mm_map */
	uint8_t *auxv;
	uint32_t auxv_len;
	uint8_t sigact[NSIGACT][32];
	VEC(struct image_map) maps;
	VEC(int32_t) fds;         /* (fd, cloexec) pairs */
};

static void image_free(struct image *im)
{
	for (size_t i = 0; i < im->maps.n; i++) {
		free(im->maps.v[i].path);
		free(im->maps.v[i].data);
	}
	vec_free(&im->maps);
	vec_free(&im->fds);
	free(im->xstate);
	free(im->auxv);
}

/* ---- saving (at attach) ---- */

static int stat_fields(pid_t pid, uint64_t mm[11])
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int e = read_file(path, &text, NULL);
	if (e < 0)
		return e;
	/* Fields after the command name (which may hold spaces) start at field 3. */
	char *p = strrchr(text, ')');
	uint64_t f[53] = { 0 };
	int n = 2;
	for (char *save, *w = p ? strtok_r(p + 2, " ", &save) : NULL; w && n < 52;
	     w = strtok_r(NULL, " ", &save))
		f[++n] = strtoull(w, NULL, 10);
	free(text);
	if (n < 51)
		return -EIO;
	uint64_t v[11] = { f[26], f[27], f[45], f[46], f[47], 0, f[28], f[48], f[49], f[50], f[51] };
	memcpy(mm, v, sizeof v);
	return 0;
}

static void put(FILE *f, const void *p, size_t n)
{
	fwrite(p, 1, n, f);
}

static void put_u64(FILE *f, uint64_t v) { put(f, &v, 8); }
static void put_u32(FILE *f, uint32_t v) { put(f, &v, 4); }

int rec_image_save(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	struct proc *p = inf->main;
	struct task *t = proc_main_task(p);
	struct target *tg = &inf->tg;
	struct image im = { .tid = t->tid };
	int r;
	for (struct task *o = p->tasks; o; o = o->next)
		im.nthreads += o->state != TS_DEAD;
	/* Scratch page for sigaction results and brk(0). */
	int64_t scratch, x;
	if ((r = inject_syscall6(tg, t, 9, &scratch, 0, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0)) < 0 || scratch < 0) {
		sbuf_printf(err, "cannot map scratch memory in process %d: %s", p->pid,
			    strerror(r < 0 ? -r : (int)-scratch));
		return r < 0 ? r : (int)scratch;
	}
	for (int s = 1; s <= NSIGACT; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (inject_syscall6(tg, t, 13, &x, (uint64_t)s, 0, (uint64_t)scratch, 8, 0, 0) == 0 &&
		    x == 0)
			proc_read(p, RADDR((uint64_t)scratch), im.sigact[s - 1], 32);
	}
	inject_syscall6(tg, t, 11, &x, (uint64_t)scratch, 4096, 0, 0, 0, 0);
	if ((r = stat_fields(p->pid, im.mm)) < 0) {
		sbuf_printf(err, "cannot read /proc/%d/stat: %s", p->pid, strerror(-r));
		goto out;
	}
	int64_t brk;
	if (inject_syscall6(tg, t, 12, &brk, 0, 0, 0, 0, 0, 0) == 0 && brk > 0)
		im.mm[5] = (uint64_t)brk;
	struct user_regs_struct *regs;
	if ((r = task_get_regs(t, &regs)) < 0)
		goto out;
	im.regs = *regs;
	uint8_t *xs;
	size_t xl;
	if ((r = task_get_xstate(t, &xs, &xl)) < 0)
		goto out;
	im.xlen = (uint32_t)xl;
	task_get_sigmask(t, &im.sigmask);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/auxv", p->pid);
	size_t al = 0;
	char *aux = NULL;
	read_file(path, &aux, &al);
	im.auxv = (uint8_t *)aux;
	im.auxv_len = (uint32_t)al;
	/* Descriptors: numbers and close-on-exec, from fdinfo. */
	snprintf(path, sizeof path, "/proc/%d/fd", p->pid);
	char *ls = xasprintf("ls -1 /proc/%d/fd 2>/dev/null", p->pid);
	FILE *lf = popen(ls, "r");
	free(ls);
	char line[256];
	while (lf && fgets(line, sizeof line, lf)) {
		int fd = atoi(line);
		char fi[64], *info = NULL;
		snprintf(fi, sizeof fi, "/proc/%d/fdinfo/%d", p->pid, fd);
		int cloexec = 0;
		if (read_file(fi, &info, NULL) == 0) {
			char *fl = strstr(info, "flags:");
			if (fl)
				cloexec = (strtoul(fl + 6, NULL, 8) & O_CLOEXEC) != 0;
			free(info);
		}
		vec_push(&im.fds, fd);
		vec_push(&im.fds, cloexec);
	}
	if (lf)
		pclose(lf);
	struct maps maps;
	if ((r = maps_read(p->pid, &maps)) < 0)
		goto out;
	char *ipath = recdir_file(e->rd, "image");
	FILE *f = fopen(ipath, "we");
	if (!f) {
		r = -errno;
		sbuf_printf(err, "cannot create %s: %s", ipath, strerror(errno));
		free(ipath);
		maps_free(&maps);
		goto out;
	}
	put(f, IMAGE_MAGIC, 8);
	put_u32(f, (uint32_t)im.tid);
	put_u32(f, im.nthreads);
	put(f, &im.regs, sizeof im.regs);
	put_u32(f, im.xlen);
	put(f, xs, im.xlen);
	put_u64(f, im.sigmask);
	put(f, im.mm, sizeof im.mm);
	put_u32(f, im.auxv_len);
	put(f, im.auxv, im.auxv_len);
	put(f, im.sigact, sizeof im.sigact);
	put_u32(f, (uint32_t)(im.fds.n / 2));
	put(f, im.fds.v, im.fds.n * sizeof *im.fds.v);
	put_u32(f, (uint32_t)maps.n);
	uint64_t bytes = 0;
	for (size_t i = 0; i < maps.n; i++) {
		const struct map_entry *m = &maps.v[i];
		bool skip = !strncmp(m->path, "[vvar", 5) || !strcmp(m->path, "[vsyscall]");
		uint32_t flags = (m->shared ? 1 : 0) | (!strcmp(m->path, "[stack]") ? 2 : 0);
		uint8_t *data = NULL;
		size_t len = m->end - m->start;
		if (!skip && (m->prot & PROT_READ)) {
			data = xmalloc(len);
			if (proc_read_raw(p, RADDR(m->start), data, len) == 0)
				flags |= 4;
		}
		if (skip)
			flags |= 8;
		put_u64(f, m->start);
		put_u64(f, m->end);
		put_u64(f, m->offset);
		put_u32(f, m->prot);
		put_u32(f, flags);
		uint32_t pl = (uint32_t)strlen(m->path);
		put_u32(f, pl);
		put(f, m->path, pl);
		if (flags & 4) {
			put(f, data, len);
			bytes += len;
		}
		free(data);
	}
	maps_free(&maps);
	if (fflush(f) != 0 || ferror(f))
		r = -EIO;
	fclose(f);
	if (r < 0)
		sbuf_printf(err, "cannot write %s", ipath);
	else
		pr_info(LM_REPLAY, "pid %d: image of %" PRIu64 " bytes in %s", p->pid, bytes, ipath);
	free(ipath);
out:
	im.xstate = NULL;
	image_free(&im);
	return r;
}

uint64_t rec_mem_sum(struct proc *p)
{
	struct maps maps;
	if (maps_read(p->pid, &maps) < 0)
		return 0;
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t *buf = xmalloc(1 << 16);
	for (size_t i = 0; i < maps.n; i++) {
		const struct map_entry *m = &maps.v[i];
		if (!(m->prot & PROT_WRITE) || !strncmp(m->path, "[vvar", 5) ||
		    ((m->prot & PROT_EXEC) && !m->path[0] && condtrap_is_page(p, m->start, m->end)))
			continue;
		uint64_t mh = 0xcbf29ce484222325ull;
		for (uint64_t a = m->start; a < m->end; a += 1 << 16) {
			size_t n = (size_t)MIN(m->end - a, (uint64_t)1 << 16);
			if (proc_read(p, RADDR(a), buf, n) < 0)
				memset(buf, 0, n);
			for (size_t k = 0; k < n; k++) {
				h = (h ^ buf[k]) * 0x100000001b3ull;
				mh = (mh ^ buf[k]) * 0x100000001b3ull;
			}
			if (log_on(LM_REPLAY, LOG_TRACE)) {
				uint64_t ph = 0xcbf29ce484222325ull;
				for (size_t k = 0; k < n; k++)
					ph = (ph ^ buf[k]) * 0x100000001b3ull;
				pr_trace(LM_REPLAY, "  %#" PRIx64 "+%zu: %016" PRIx64, a, n, ph);
			}
		}
		pr_debug(LM_REPLAY, "memory %#" PRIx64 "-%#" PRIx64 " %s: %016" PRIx64, m->start,
			 m->end, m->path, mh);
	}
	free(buf);
	maps_free(&maps);
	return h;
}

void rec_note_exit(struct rec_engine *e, struct inferior *inf, struct task *t)
{
	if (t->proc != inf->main)
		return;
	e->exit_sum = rec_mem_sum(t->proc);
	e->have_exit_sum = true;


}

int rec_exit_checksum(const struct rec_engine *e, uint64_t *out)
{
	if (!e->have_exit_sum)
		return -ENOENT;
	*out = e->exit_sum;
	return 0;
}

/* ---- restoring (at the start of a replay) ---- */

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static const void *get(struct rd *d, size_t n)
{
	if (d->bad || (size_t)(d->end - d->p) < n) {
		d->bad = true;
		return NULL;
	}
	const void *r = d->p;
	d->p += n;
	return r;
}

static uint32_t get_u32(struct rd *d)
{
	uint32_t v = 0;
	const void *p = get(d, 4);
	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t get_u64(struct rd *d)
{
	uint64_t v = 0;
	const void *p = get(d, 8);
	if (p)
		memcpy(&v, p, 8);
	return v;
}

bool rec_image_exists(struct rec_engine *e)
{
	char *path = recdir_file(e->rd, "image");
	bool y = access(path, R_OK) == 0;
	free(path);
	return y;
}

static int inj(struct target *tg, struct task *t, long nr, int64_t *ret, uint64_t a0, uint64_t a1,
	       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	int64_t x;
	int e = inject_syscall6(tg, t, nr, &x, a0, a1, a2, a3, a4, a5);
	if (ret)
		*ret = x;
	if (e < 0)
		return e;
	return x < 0 && x > -4096 ? (int)x : 0;
}

int rec_image_restore(struct rec_engine *e, struct inferior *inf, struct sbuf *err)
{
	struct target *tg = &inf->tg;
	struct proc *p = inf->main;
	struct task *t = proc_main_task(p);
	char *ipath = recdir_file(e->rd, "image");
	char *buf = NULL;
	size_t len = 0;
	int r = read_file(ipath, &buf, &len);
	if (r < 0) {
		sbuf_printf(err, "cannot read %s: %s", ipath, strerror(-r));
		free(ipath);
		return r;
	}
	struct rd d = { (const uint8_t *)buf, (const uint8_t *)buf + len, false };
	const void *magic = get(&d, 8);
	struct image im = { 0 };
	if (!magic || memcmp(magic, IMAGE_MAGIC, 8)) {
		sbuf_printf(err, "%s is not a process image", ipath);
		r = -EBADMSG;
		goto out;
	}
	im.tid = (pid_t)get_u32(&d);
	im.nthreads = get_u32(&d);
	const void *regs = get(&d, sizeof im.regs);
	im.xlen = get_u32(&d);
	const void *xs = get(&d, im.xlen);
	im.sigmask = get_u64(&d);
	const void *mm = get(&d, sizeof im.mm);
	im.auxv_len = get_u32(&d);
	const void *auxv = get(&d, im.auxv_len);
	const void *sa = get(&d, sizeof im.sigact);
	uint32_t nfds = get_u32(&d);
	const int32_t *fds = get(&d, (size_t)nfds * 8);
	uint32_t nmaps = get_u32(&d);
	if (d.bad) {
		sbuf_printf(err, "%s is truncated", ipath);
		r = -EBADMSG;
		goto out;
	}
	if (im.nthreads > 1) {
		sbuf_printf(err, "the recording started by attaching to a process of %u threads; "
			    "replaying such a recording from disk is not supported yet (threads "
			    "other than the main one cannot be re-created)", im.nthreads);
		r = -ENOTSUP;
		goto out;
	}
	memcpy(&im.regs, regs, sizeof im.regs);
	memcpy(im.mm, mm, sizeof im.mm);
	memcpy(im.sigact, sa, sizeof im.sigact);
	/* The container's own memory goes, except what injection runs through. */
	struct maps own;
	if ((r = maps_read(p->pid, &own)) < 0)
		goto out;
	uint64_t vdso = 0;
	for (size_t i = 0; i < own.n; i++) {
		const struct map_entry *m = &own.v[i];
		if (!strcmp(m->path, "[vdso]"))
			vdso = m->start;
		if (!strcmp(m->path, "[vdso]") || !strncmp(m->path, "[vvar", 5) ||
		    !strcmp(m->path, "[vsyscall]"))
			continue;
		inj(tg, t, 11, NULL, m->start, m->end - m->start, 0, 0, 0, 0);
	}
	maps_free(&own);
	for (uint32_t i = 0; i < nmaps && !d.bad; i++) {
		uint64_t start = get_u64(&d), end = get_u64(&d);
		get_u64(&d);   /* file offset: contents are restored, not the file */
		uint32_t prot = get_u32(&d), flags = get_u32(&d), pl = get_u32(&d);
		const char *path = get(&d, pl);
		const void *data = (flags & 4) ? get(&d, end - start) : NULL;
		if (d.bad)
			break;
		if ((flags & 8) || (start == vdso && pl == 6 && !memcmp(path, "[vdso]", 6)))
			continue;   /* vvar, vsyscall; the vDSO where the container has it too */
		uint64_t mf = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | ((flags & 2) ? MAP_GROWSDOWN : 0);
		if ((r = inj(tg, t, 9, NULL, start, end - start, PROT_READ | PROT_WRITE, mf,
			     (uint64_t)-1, 0)) < 0) {
			sbuf_printf(err, "cannot re-create the mapping %#" PRIx64 "-%#" PRIx64 " (%.*s): %s",
				    start, end, (int)pl, path, strerror(-r));
			goto out;
		}
		if (data && (r = proc_write_raw(p, RADDR(start), data, end - start)) < 0) {
			sbuf_printf(err, "cannot fill %#" PRIx64 "-%#" PRIx64 ": %s", start, end,
				    strerror(-r));
			goto out;
		}
		inj(tg, t, 10, NULL, start, end - start, prot, 0, 0, 0);
	}
	if (d.bad) {
		sbuf_printf(err, "%s is truncated", ipath);
		r = -EBADMSG;
		goto out;
	}
	/* Kernel-side bounds, dispositions and descriptors, through a scratch page. */
	int64_t scratch;
	if ((r = inj(tg, t, 9, &scratch, 0, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0)) < 0) {
		sbuf_printf(err, "cannot map scratch memory: %s", strerror(-r));
		goto out;
	}
	struct prctl_mm_map map = { 0 };
	memcpy(&map, im.mm, sizeof im.mm);
	map.auxv = (__u64 *)(uintptr_t)((uint64_t)scratch + sizeof map);
	map.auxv_size = im.auxv_len <= 4096 - sizeof map ? im.auxv_len : 0;
	map.exe_fd = (uint32_t)-1;
	proc_write_raw(p, RADDR((uint64_t)scratch), &map, sizeof map);
	if (map.auxv_size)
		proc_write_raw(p, RADDR((uint64_t)scratch + sizeof map), auxv, map.auxv_size);
	int me = inj(tg, t, 157, NULL, PR_SET_MM, PR_SET_MM_MAP, (uint64_t)scratch, sizeof map, 0, 0);
	if (me < 0)
		inf_notice(inf, "[replay: the process's memory bounds (brk) could not be set: %s; "
			   "brk calls may diverge]", strerror(-me));
	for (int s = 1; s <= NSIGACT; s++) {
		static const uint8_t zero[32];
		if (!memcmp(im.sigact[s - 1], zero, 32) || s == SIGKILL || s == SIGSTOP)
			continue;
		proc_write_raw(p, RADDR((uint64_t)scratch), im.sigact[s - 1], 32);
		inj(tg, t, 13, NULL, (uint64_t)s, (uint64_t)scratch, 0, 8, 0, 0);
	}
	/* Descriptors: close the container's, make placeholders for the recorded ones;
	 * 0, 1 and 2 stay rewind's own (the replay shows the output written there). */
	inj(tg, t, 436, NULL, 3, ~0u, 0, 0, 0, 0);
	for (uint32_t i = 0; i < nfds; i++) {
		int fd = fds[2 * i], cloexec = fds[2 * i + 1];
		if (fd <= 2)
			continue;
		int64_t pfd;
		if (inj(tg, t, 290, &pfd, 0, cloexec ? O_CLOEXEC : 0, 0, 0, 0, 0) < 0)
			continue;
		if (pfd != fd) {
			inj(tg, t, 292, NULL, (uint64_t)pfd, (uint64_t)fd, cloexec ? O_CLOEXEC : 0, 0, 0, 0);
			inj(tg, t, 3, NULL, (uint64_t)pfd, 0, 0, 0, 0, 0);
		}
	}
	inj(tg, t, 11, NULL, (uint64_t)scratch, 4096, 0, 0, 0, 0);
	task_set_sigmask(t, im.sigmask);
	task_set_regs(t, &im.regs);
	if (xs && im.xlen)
		task_set_xstate(t, xs, im.xlen);
	r = 0;
out:
	free(buf);
	free(ipath);
	return r;
}
