/* Shared memory: MAP_SHARED mappings (anonymous, file, memfd, SysV) are the same pages
 * in the program and in its checkpoints, not copy-on-write, so the writable ones are
 * copied at checkpoint and written back at restore. The copy goes through the mapped
 * object itself (/proc/PID/map_files, root only) so that holes are skipped with
 * SEEK_DATA/SEEK_HOLE instead of being filled, and punched again at restore; without
 * map_files access it falls back to /proc/PID/mem over the whole range.
 * Objects already copied as files (memfds) are not copied twice.
 *
 * Also here: fork does not copy MADV_DONTFORK mappings, so a checkpoint would lack them;
 * the checkpoint's size is compared with the program's to notice. */
#include "snap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "maps.h"

static int open_object(pid_t pid, const struct map_entry *m, int flags)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)m->start,
		 (unsigned long)m->end);
	int fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int read_full(int fd, uint8_t *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(fd, buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

static void add_extent(struct snap_shm *sh, uint64_t off, uint64_t len)
{
	struct shm_extent x = { off, len, xmalloc(len) };
	vec_push(&sh->ext, x);
}

/* The data extents of the object behind m, within the mapping. */
static int copy_object(struct snap_shm *sh, int fd, uint64_t *copied)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	sh->obj_size = st.st_size;
	off_t lo = (off_t)sh->file_off, hi = (off_t)(sh->file_off + sh->len);
	if (hi > st.st_size)
		hi = st.st_size;        /* beyond the end of the object: SIGBUS, nothing to copy */
	for (off_t pos = lo; pos < hi;) {
		off_t d = lseek(fd, pos, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			break;
		if (d < 0)
			return -errno;
		if (d >= hi)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || h > hi)
			h = hi;
		add_extent(sh, (uint64_t)(d - lo), (uint64_t)(h - d));
		struct shm_extent *x = &sh->ext.v[sh->ext.n - 1];
		int e = read_full(fd, x->data, x->len, d);
		if (e < 0)
			return e;
		*copied += x->len;
		pos = h;
	}
	return 0;
}

int snap_shm_save(struct snap_proc *sp, struct snapshot *s)
{
	struct maps m;
	int e = maps_read(sp->pid, &m);
	if (e < 0) {
		pr_err(LM_SNAP, "pid %d: cannot read its mappings: %s", sp->pid, strerror(-e));
		return e;
	}
	for (size_t i = 0; i < m.n && !e; i++) {
		const struct map_entry *me = &m.v[i];
		if (!me->shared || (me->prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE))
			continue;
		bool copied_as_file = false;
		for (size_t k = 0; k < s->files.n; k++)
			copied_as_file |= s->files.v[k].ino == me->inode &&
					  major(s->files.v[k].dev) == me->dev_major &&
					  minor(s->files.v[k].dev) == me->dev_minor;
		if (copied_as_file)
			continue;
		struct snap_shm sh = { .start = me->start, .len = me->end - me->start,
				       .file_off = me->offset, .obj_size = -1,
				       .name = xstrdup(me->path) };
		int fd = open_object(sp->pid, me, O_RDONLY);
		if (fd >= 0) {
			e = copy_object(&sh, fd, &s->copied_bytes);
			close(fd);
		} else {
			/* No map_files (not privileged): the whole range through memory. */
			sh.via_mem = true;
			add_extent(&sh, 0, sh.len);
			e = proc_read_raw(sp->live, RADDR(sh.start), sh.ext.v[0].data, sh.len);
			s->copied_bytes += sh.len;
		}
		if (e < 0)
			pr_err(LM_SNAP, "pid %d: cannot copy shared mapping %#lx-%#lx (%s): %s",
			       sp->pid, (unsigned long)me->start, (unsigned long)me->end, me->path,
			       strerror(-e));
		vec_push(&sp->shm, sh);
	}
	maps_free(&m);
	return e;
}

/* Write sh back through the object mapped at the same place in r. */
static int put_object(struct proc *r, const struct snap_shm *sh)
{
	struct map_entry me = { .start = sh->start, .end = sh->start + sh->len };
	int fd = open_object(r->pid, &me, O_RDWR);
	if (fd < 0)
		return fd;
	struct stat st;
	int e = 0;
	if (sh->obj_size >= 0 && fstat(fd, &st) == 0 && st.st_size != sh->obj_size &&
	    ftruncate(fd, sh->obj_size) < 0)
		e = -errno;
	uint64_t lo = 0, end = sh->obj_size >= 0 && (uint64_t)sh->obj_size < sh->file_off + sh->len
			       ? (uint64_t)sh->obj_size - sh->file_off : sh->len;
	/* Extents back, and the gaps between them made holes again (or zeroed). */
	for (size_t i = 0; i <= sh->ext.n && !e; i++) {
		uint64_t next = i < sh->ext.n ? sh->ext.v[i].off : end;
		if (next > lo && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					   (off_t)(sh->file_off + lo), (off_t)(next - lo)) < 0) {
			static const uint8_t zero[4096];
			for (uint64_t z = lo; z < next && !e; z += sizeof zero)
				e = write_full(fd, zero, MIN(sizeof zero, next - z),
					       (off_t)(sh->file_off + z));
		}
		if (i < sh->ext.n && !e) {
			const struct shm_extent *x = &sh->ext.v[i];
			e = write_full(fd, x->data, x->len, (off_t)(sh->file_off + x->off));
			lo = x->off + x->len;
		}
	}
	close(fd);
	return e;
}

int snap_shm_restore(struct snap_proc *sp, struct proc *r)
{
	for (size_t i = 0; i < sp->shm.n; i++) {
		const struct snap_shm *sh = &sp->shm.v[i];
		int e = sh->via_mem ? proc_write_raw(r, RADDR(sh->start), sh->ext.v[0].data, sh->len)
				    : put_object(r, sh);
		if (e < 0) {
			pr_err(LM_SNAP, "pid %d: cannot write back shared mapping %#lx (%s): %s",
			       r->pid, (unsigned long)sh->start, sh->name, strerror(-e));
			return e;
		}
	}
	return 0;
}

/* VmSize (kB) of a process from /proc/PID/statm (pages). */
static int64_t vm_kb(pid_t pid)
{
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/%d/statm", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return atoll(buf) * (getpagesize() / 1024);
}

int snap_shm_check_ckpt(struct snap_proc *sp, struct sbuf *marks)
{
	int64_t c = vm_kb(sp->ckpt->pid);
	if (c < 0)
		return (int)c;
	if ((uint64_t)c >= sp->vm_kb)
		return 0;
	/* Name the mappings: those of the program missing in the checkpoint. */
	struct maps a, b;
	if (maps_read(sp->pid, &a) < 0)
		return 0;
	if (maps_read(sp->ckpt->pid, &b) < 0) {
		maps_free(&a);
		return 0;
	}
	for (size_t i = 0; i < a.n; i++) {
		bool found = false;
		for (size_t j = 0; j < b.n && !found; j++)
			found = b.v[j].start == a.v[i].start && b.v[j].end == a.v[i].end;
		if (!found)
			sbuf_printf(marks, "pid %d: mapping %#lx-%#lx %s is not copied by fork "
				    "(MADV_DONTFORK); the checkpoint does not have it\n", sp->pid,
				    (unsigned long)a.v[i].start, (unsigned long)a.v[i].end,
				    a.v[i].path);
	}
	maps_free(&a);
	maps_free(&b);
	return 0;
}

void snap_shm_free(struct snap_proc *sp)
{
	for (size_t i = 0; i < sp->shm.n; i++) {
		for (size_t k = 0; k < sp->shm.v[i].ext.n; k++)
			free(sp->shm.v[i].ext.v[k].data);
		vec_free(&sp->shm.v[i].ext);
		free(sp->shm.v[i].name);
	}
	vec_free(&sp->shm);
}
