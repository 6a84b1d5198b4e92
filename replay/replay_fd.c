/* replay_fd: the descriptor table and the address space during replay.
 *
 * A call that created descriptors when recorded (open, socket, accept, eventfd...)
 * is skipped in replay, but the program's descriptor table must stay the same (close
 * and dup run natively and must return what they returned then). The call is turned
 * into one that creates a placeholder: eventfd2 with the same close-on-exec flag,
 * which the kernel gives the lowest free number — the recorded one, since the table
 * is mirrored — or a real pipe2 where the call returned a pair. The exit stop checks
 * the numbers and restores the argument registers.
 *
 * Offsets: a skipped read or write does not move the kernel's offset of a descriptor
 * the replay shares with a live file (one restored by a checkpoint). Before the
 * program goes live, the offsets are moved to where the recording left them.
 *
 * File mappings are re-created from the recording's stored copy of the file, at the
 * recorded address, privately (a shared writable mapping must not write the file a
 * second time). */
#include "replay/record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "core/inject.h"
#include "core/log.h"
#include "replay/recdir.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Whether the descriptor a call of nr creates is close-on-exec. */
static bool new_fd_cloexec(struct task *t, int nr, const uint64_t a[6])
{
	switch (nr) {
	case 2: return a[1] & O_CLOEXEC;                    /* open */
	case 257: return a[2] & O_CLOEXEC;                  /* openat */
	case 437: {                                         /* openat2: open_how.flags */
		uint64_t flags = 0;
		proc_read(t->proc, RADDR(a[2]), &flags, sizeof flags);
		return flags & O_CLOEXEC;
	}
	case 41: return a[1] & O_CLOEXEC;                   /* socket: SOCK_CLOEXEC */
	case 288: return a[3] & O_CLOEXEC;                  /* accept4 */
	case 291: return a[0] & O_CLOEXEC;                  /* epoll_create1 */
	case 290: return a[1] & O_CLOEXEC;                  /* eventfd2 */
	case 289: return a[3] & O_CLOEXEC;                  /* signalfd4 */
	case 283: return a[1] & O_CLOEXEC;                  /* timerfd_create */
	case 294: return a[0] & O_CLOEXEC;                  /* inotify_init1 */
	case 319: return a[1] & 1;                          /* memfd_create: MFD_CLOEXEC */
	case 300: return a[0] & 1;                          /* fanotify_init: FAN_CLOEXEC */
	case 240: return a[1] & O_CLOEXEC;                  /* mq_open */
	case 304: return a[2] & O_CLOEXEC;                  /* open_by_handle_at */
	case 434: case 438: return true;                    /* pidfd_open, pidfd_getfd */
	case 85: case 43: case 213: case 284: case 282: case 253:
		return false;
	default:
		return true;   /* mount API, landlock: their fds are close-on-exec in practice */
	}
}

int rpl_fd_rewrite(struct rec_engine *e, struct task *t, struct rec_task *rt,
		   struct user_regs_struct *r, const struct trace_syscall *sys)
{
	(void)e;
	int nr = sys->nr;
	if (nr == 22 || nr == 293 || nr == 53) {
		/* pipe, pipe2, socketpair: a real pipe pair with the same flags. */
		uint64_t ptr = nr == 53 ? sys->args[3] : sys->args[0];
		uint64_t fl = nr == 293 ? (sys->args[1] & O_CLOEXEC) :
			      nr == 53 ? (sys->args[1] & O_CLOEXEC) : 0;
		r->orig_rax = 293;
		r->rdi = ptr;
		r->rsi = fl;
		t->regs_dirty = true;
		rt->fds_pair = true;
		return 1;
	}
	if (sys->ret < 0 || sys->ret > 0x7fffffff)
		return 0;
	bool cloexec = new_fd_cloexec(t, nr, sys->args);
	r->orig_rax = 290;   /* eventfd2(0, flags) */
	r->rdi = 0;
	r->rsi = cloexec ? O_CLOEXEC : 0;
	t->regs_dirty = true;
	rt->placeholder = (int)sys->ret;
	/* Its offset starts afresh. */
	for (size_t i = 0; i < e->fdoffs.n; i++)
		if (e->fdoffs.v[i].fd == rt->placeholder)
			e->fdoffs.v[i] = e->fdoffs.v[--e->fdoffs.n];
	return 1;
}

static void restore_args(struct user_regs_struct *r, const uint64_t a[6])
{
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
}

int rpl_fd_check(struct rec_engine *e, struct inferior *inf, struct task *t,
		 struct rec_task *rt, const struct trace_syscall *sys)
{
	struct user_regs_struct *r;
	int err = task_get_regs(t, &r);
	if (err < 0)
		return 0;
	int64_t got = (int64_t)r->rax;
	restore_args(r, rt->args);
	t->regs_dirty = true;
	if (rt->fds_pair) {
		rt->fds_pair = false;
		uint64_t ptr = sys->nr == 53 ? sys->args[3] : sys->args[0];
		int have[2] = { -1, -1 }, want[2] = { -1, -1 };
		proc_read(t->proc, RADDR(ptr), have, sizeof have);
		for (size_t i = 0; i < sys->npieces; i++)
			if (sys->pieces[i].len == 8)
				memcpy(want, sys->pieces[i].data, 8);
		if (got < 0 || have[0] != want[0] || have[1] != want[1])
			return rpl_diverge(e, inf, t, "%s made descriptors %d and %d when recorded; "
					   "the replay got %d and %d (result %" PRId64 ")",
					   sc_name(sys->nr), want[0], want[1], have[0], have[1], got);
		return 0;
	}
	int want = rt->placeholder;
	rt->placeholder = -1;
	if (got == want)
		return 0;
	if (got < 0)
		return rpl_diverge(e, inf, t, "no placeholder for descriptor %d of %s: %s", want,
				   sc_name(sys->nr), strerror((int)-got));
	/* The table differs (a descriptor closed natively in between?): move it. */
	int64_t x = -1;
	int ie = inject_syscall6(&inf->tg, t, 292, &x, (uint64_t)got, (uint64_t)want,
				 new_fd_cloexec(t, sys->nr, sys->args) ? O_CLOEXEC : 0, 0, 0, 0);
	int64_t c = -1;
	if (ie == 0 && x == want)
		inject_syscall6(&inf->tg, t, 3, &c, (uint64_t)got, 0, 0, 0, 0, 0);
	if (ie < 0 || x != want)
		return rpl_diverge(e, inf, t, "%s returned descriptor %d when recorded; the replay's "
				   "placeholder is %" PRId64, sc_name(sys->nr), want, got);
	pr_debug(LM_REPLAY, "placeholder %" PRId64 " moved to %d", got, want);
	return 0;
}

static struct rec_fdoff *fdoff(struct rec_engine *e, int fd)
{
	for (size_t i = 0; i < e->fdoffs.n; i++)
		if (e->fdoffs.v[i].fd == fd)
			return &e->fdoffs.v[i];
	struct rec_fdoff o = { .fd = fd };
	vec_push(&e->fdoffs, o);
	return &e->fdoffs.v[e->fdoffs.n - 1];
}

void rpl_fd_track(struct rec_engine *e, const struct trace_syscall *sys)
{
	int fd = (int)sys->args[0];
	switch (sys->nr) {
	case 0: case 1: case 19: case 20:   /* read, write, readv, writev */
		if (sys->ret > 0)
			fdoff(e, fd)->off += sys->ret;
		break;
	case 8:                              /* lseek */
		if (sys->ret >= 0) {
			struct rec_fdoff *o = fdoff(e, fd);
			o->absolute = true;
			o->off = sys->ret;
		}
		break;
	default:
		break;
	}
}

void rpl_fd_sync(struct rec_engine *e, struct inferior *inf)
{
	if (!e->fdoffs.n || !inf_alive(inf))
		return;
	struct task *t = NULL;
	for (struct task *o = inf->main->tasks; o && !t; o = o->next)
		if (o->state == TS_STOPPED && !o->in_syscall)
			t = o;
	if (!t) {
		pr_warn(LM_REPLAY, "offsets of %zu descriptors not brought up to date: no thread "
			"is outside a syscall", e->fdoffs.n);
		e->fdoffs.n = 0;
		return;
	}
	for (size_t i = 0; i < e->fdoffs.n; i++) {
		const struct rec_fdoff *o = &e->fdoffs.v[i];
		if (!o->absolute && !o->off)
			continue;
		int64_t ret;
		int ie = inject_syscall6(&inf->tg, t, 8, &ret, (uint64_t)o->fd, (uint64_t)o->off,
					 o->absolute ? SEEK_SET : SEEK_CUR, 0, 0, 0);
		pr_debug(LM_REPLAY, "fd %d: offset %s %" PRId64 " -> %" PRId64 " (%d)", o->fd,
			 o->absolute ? "=" : "+", o->off, ie == 0 ? ret : (int64_t)ie, ie);
	}
	e->fdoffs.n = 0;
}

int rpl_shmat_apply(struct rec_engine *e, struct inferior *inf, struct task *t,
		    const struct trace_syscall *sys)
{
	struct target *tg = &inf->tg;
	uint64_t at = (uint64_t)sys->ret;
	const struct trace_piece *p = sys->npieces ? &sys->pieces[0] : NULL;
	if (!p || p->arg >= 0 || p->addr != at)
		return rpl_diverge(e, inf, t, "the SysV segment attached at %#" PRIx64 " was not "
				   "recorded", at);
	int64_t id, x, y;
	int ie = inject_syscall6(tg, t, 29, &id, IPC_PRIVATE, p->len, IPC_CREAT | 0600, 0, 0, 0);
	if (ie < 0 || id < 0)
		return rpl_diverge(e, inf, t, "no SysV segment of %" PRIu32 " bytes for the replay: %s",
				   p->len, strerror(ie < 0 ? -ie : (int)-id));
	uint64_t flags = sys->args[2] & (SHM_RDONLY | SHM_EXEC | SHM_REMAP);
	ie = inject_syscall6(tg, t, 30, &x, (uint64_t)id, at, flags, 0, 0, 0);
	inject_syscall6(tg, t, 31, &y, (uint64_t)id, IPC_RMID, 0, 0, 0, 0);
	if (ie < 0 || x != (int64_t)at)
		return rpl_diverge(e, inf, t, "the SysV segment cannot be attached at %#" PRIx64
				   " in the replay: %s", at, ie < 0 ? strerror(-ie) : x < 0 ?
				   strerror((int)-x) : "the kernel chose another address");
	int r = proc_write(t->proc, RADDR(at), p->data, p->len);
	if (r < 0)
		return rpl_diverge(e, inf, t, "the SysV segment's contents cannot be written at %#"
				   PRIx64 ": %s", at, strerror(-r));
	return 0;
}

int rpl_mmap_apply(struct rec_engine *e, struct inferior *inf, struct task *t,
		   const struct trace_mmap *m)
{
	struct target *tg = &inf->tg;
	uint64_t at = (uint64_t)m->ret, len = m->len;
	int64_t x;
	/* Reserve the range (it must be free unless the call replaced a mapping). */
	uint64_t rflags = MAP_PRIVATE | MAP_ANONYMOUS |
			  ((m->flags & MAP_FIXED) ? MAP_FIXED : MAP_FIXED_NOREPLACE);
	int ie = inject_syscall6(tg, t, 9, &x, at, len, PROT_READ | PROT_WRITE, rflags,
				 (uint64_t)-1, 0);
	if (ie < 0 || x != (int64_t)at)
		return rpl_diverge(e, inf, t, "mmap of %" PRIu64 " bytes at %#" PRIx64 " cannot be "
				   "replayed: %s", len, at, ie < 0 ? strerror(-ie) :
				   x < 0 ? strerror((int)-x) : "the kernel chose another address");
	const char *file = m->file && *m->file ? m->file : NULL;
	if (!file || !e->rd) {
		/* Not a stored regular file (a device, a memfd): anonymous memory. */
		int64_t y;
		inject_syscall6(tg, t, 10, &y, at, len, m->prot, 0, 0, 0);
		pr_info(LM_REPLAY, "mmap at %#" PRIx64 " (fd %d) replayed as anonymous memory", at,
			m->fd);
		return 0;
	}
	char *path = xasprintf("%s/%s", e->rd_abs ? e->rd_abs : recdir_path(e->rd), file);
	size_t plen = strlen(path) + 1;
	int r = 0;
	if (plen > ((len + 4095) & ~(uint64_t)4095) ||
	    proc_write_raw(t->proc, RADDR(at), path, plen) < 0) {
		r = rpl_diverge(e, inf, t, "cannot stage the path of %s in the replayed process", path);
		goto out;
	}
	int64_t fd;
	ie = inject_syscall6(tg, t, 257, &fd, (uint64_t)AT_FDCWD, at, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	if (ie < 0 || fd < 0) {
		r = rpl_diverge(e, inf, t, "cannot open %s (the recording's copy of a mapped file): %s",
				path, strerror(ie < 0 ? -ie : (int)-fd));
		goto out;
	}
	uint64_t flags = (m->flags & ~(uint64_t)(MAP_SHARED | MAP_SHARED_VALIDATE |
						 MAP_FIXED_NOREPLACE)) | MAP_PRIVATE | MAP_FIXED;
	ie = inject_syscall6(tg, t, 9, &x, at, len, m->prot, flags, (uint64_t)fd, m->offset);
	int64_t c;
	inject_syscall6(tg, t, 3, &c, (uint64_t)fd, 0, 0, 0, 0, 0);
	if (ie < 0 || x != (int64_t)at)
		r = rpl_diverge(e, inf, t, "mapping %s at %#" PRIx64 " failed in replay: %s", path, at,
				ie < 0 ? strerror(-ie) : x < 0 ? strerror((int)-x) : "another address");
out:
	free(path);
	return r;
}
