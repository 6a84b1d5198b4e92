/* File descriptors. A checkpoint shares every open file description with the program
 * (fork), so what lives in the description changes under it: offsets are saved and
 * put back; memfd contents, and with snap_opts.files the contents of regular files
 * open for writing, are copied. Every fd is reached from rewind with pidfd_getfd, no
 * injection needed.
 *
 * Pipes whose both ends are held inside the tree are special: a checkpoint holding a
 * write end would keep the reader from ever seeing EOF (and one holding a read end
 * would keep the writer from EPIPE), and the bytes in flight belong to the program's
 * state. So their unread bytes are saved (drained and written back), the checkpoint
 * closes its copies of them, and each restore builds a fresh pipe holding those bytes
 * and installs its ends at the same fd numbers (pidfd_open + pidfd_getfd injected in
 * the restored process). Pipes with one end outside the tree (a terminal's, a
 * harness's) are left alone: they stay shared with the checkpoints. A pipe counts as
 * held outside when rewind or an ancestor of the tree holds it. */
#include "snap_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

/* A pipe end seen by the scan. */
struct pipe_ref {
	int proc;
	size_t fdi;
	uint64_t ino;
	int acc;        /* O_RDONLY / O_WRONLY / O_RDWR */
	int flags;
};

typedef VEC(struct pipe_ref) pipe_refs;

static void fd_link(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
	ssize_t n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
}

/* The devices a program can go on using after a restore. */
static bool harmless_chr(dev_t rdev)
{
	unsigned ma = major(rdev), mi = minor(rdev);
	if (ma == 1)                               /* null zero full random urandom */
		return mi == 3 || mi == 5 || mi == 7 || mi == 8 || mi == 9;
	if (ma == 5)                               /* /dev/tty, /dev/console */
		return mi == 0 || mi == 1;
	return ma == 4 || (ma >= 136 && ma <= 143);/* ttys, pty slaves */
}

static void describe_socket(int d, pid_t pid, int fd, struct sbuf *marks)
{
	int dom = 0, type = 0;
	socklen_t l = sizeof dom;
	getsockopt(d, SOL_SOCKET, SO_DOMAIN, &dom, &l);
	l = sizeof type;
	getsockopt(d, SOL_SOCKET, SO_TYPE, &type, &l);
	struct sockaddr_storage peer;
	socklen_t pl = sizeof peer;
	memset(&peer, 0, sizeof peer);
	bool connected = getpeername(d, (struct sockaddr *)&peer, &pl) == 0;
	bool stream = type == SOCK_STREAM || type == SOCK_SEQPACKET;
	char addr[INET6_ADDRSTRLEN + 8] = "?";

	switch (dom) {
	case AF_INET:
	case AF_INET6:
		/* Listening and datagram sockets go on working live; a connection does not
		 * survive the checkpointed process being killed and recreated. */
		if (!connected || !stream)
			return;
		if (dom == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&peer;
			inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
			sbuf_printf(marks, "pid %d fd %d: TCP socket to %s:%u; it cannot be restored "
				    "live\n", pid, fd, addr, ntohs(a->sin_port));
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&peer;
			inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
			sbuf_printf(marks, "pid %d fd %d: TCP socket to [%s]:%u; it cannot be "
				    "restored live\n", pid, fd, addr, ntohs(a->sin6_port));
		}
		return;
	case AF_UNIX: {
		if (!connected || !stream)
			return;
		struct sockaddr_un *u = (struct sockaddr_un *)&peer;
		size_t plen = pl > offsetof(struct sockaddr_un, sun_path) ?
			      pl - offsetof(struct sockaddr_un, sun_path) : 0;
		if (plen && u->sun_path[0])
			sbuf_printf(marks, "pid %d fd %d: unix socket connected to %.*s; it cannot be "
				    "restored live\n", pid, fd, (int)plen, u->sun_path);
		else if (plen > 1)
			sbuf_printf(marks, "pid %d fd %d: unix socket connected to @%.*s; it cannot "
				    "be restored live\n", pid, fd, (int)plen - 1, u->sun_path + 1);
		else
			sbuf_printf(marks, "pid %d fd %d: unix socket pair (unnamed peer); its queued "
				    "data and its peer are live, shared with the checkpoint\n", pid, fd);
		return;
	}
	case AF_NETLINK:
		sbuf_printf(marks, "pid %d fd %d: netlink socket; it cannot be restored live\n", pid,
			    fd);
		return;
	default:
		sbuf_printf(marks, "pid %d fd %d: socket of address family %d; it cannot be "
			    "restored live\n", pid, fd, dom);
	}
}

static void describe_anon(const char *link, pid_t pid, int fd, struct sbuf *marks)
{
	static const struct { const char *name, *what; } kinds[] = {
		{ "[eventpoll]", "epoll instance; its interest list is live state, not restored "
				 "(the program will go on using it live)" },
		{ "[eventfd]", "eventfd; its counter is live state, not restored" },
		{ "[timerfd]", "timerfd; it keeps running live, not restored" },
		{ "[signalfd]", "signalfd; the program will go on using it live" },
		{ "[io_uring]", "io_uring instance; its rings are live state, not restored" },
		{ "[userfaultfd]", "userfaultfd; it cannot be restored live" },
		{ "[pidfd]", "pidfd; the process it refers to is not restored with it" },
	};
	const char *kind = strchr(link, ':') ? strchr(link, ':') + 1 : link;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(kind, kinds[i].name)) {
			sbuf_printf(marks, "pid %d fd %d: %s\n", pid, fd, kinds[i].what);
			return;
		}
	sbuf_printf(marks, "pid %d fd %d: %s; the program will go on using it live\n", pid, fd,
		    link[0] ? link : "unknown kind of file");
}

/* Copy len bytes from src to dst (both at offset 0). */
static int copy_range(int dst, int src, off_t len)
{
	off_t in = 0, out = 0;
	while (in < len) {
		ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)(len - in), 0);
		if (n > 0)
			continue;
		if (n == 0)
			break;
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		char buf[65536];
		while (in < len) {
			ssize_t r = pread(src, buf, (size_t)MIN((off_t)sizeof buf, len - in), in);
			if (r <= 0)
				return r < 0 ? -errno : 0;
			for (ssize_t w = 0; w < r;) {
				ssize_t k = pwrite(dst, buf + w, (size_t)(r - w), out);
				if (k < 0)
					return -errno;
				w += k;
				out += k;
			}
			in += r;
		}
	}
	return 0;
}

static int reopen(int d, int flags)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", d);
	int fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Copy the contents of the file behind d (fd `fd` of proc pi), once per inode. */
static int save_file(struct snapshot *s, int pi, int fd, int d, const struct stat *st,
		     const char *name)
{
	for (size_t i = 0; i < s->files.n; i++)
		if (s->files.v[i].dev == st->st_dev && s->files.v[i].ino == st->st_ino)
			return 0;
	int rd = reopen(d, O_RDONLY);
	if (rd < 0)
		return rd;
	int copy = memfd_create("rewind-file", MFD_CLOEXEC);
	int e = copy < 0 ? -errno : copy_range(copy, rd, st->st_size);
	close(rd);
	if (e < 0) {
		if (copy >= 0)
			close(copy);
		pr_err(LM_SNAP, "pid %d fd %d: cannot copy %s: %s", s->procs.v[pi].pid, fd, name,
		       strerror(-e));
		return e;
	}
	struct snap_file f = { st->st_dev, st->st_ino, pi, fd, copy, st->st_size, xstrdup(name) };
	vec_push(&s->files, f);
	s->copied_bytes += (uint64_t)st->st_size;
	return 0;
}

static bool read_cloexec(pid_t pid, int fd)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
	if (read_file(path, &text, NULL) < 0)
		return false;
	char *f = strstr(text, "flags:");
	bool r = f && (strtoul(f + 6, NULL, 8) & O_CLOEXEC);
	free(text);
	return r;
}

static int cmp_fd(const void *a, const void *b)
{
	const struct snap_fd *x = a, *y = b;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Is the debuggee's fd the same open file description as one of rewind's own
 * standard streams (inherited at launch)? Its offset is rewind's output position
 * too: seeking it back at restore would overwrite rewind's own output. */
static bool shares_our_stdio(pid_t pid, int fd)
{
	for (int i = 0; i < 3; i++)
		if (syscall(SYS_kcmp, getpid(), pid, 0 /* KCMP_FILE */, i, fd) == 0)
			return true;
	return false;
}

/* One fd of proc pi, reached through d (our duplicate of it). */
static int scan_fd(struct snapshot *s, int pi, int fd, int d, const struct snap_opts *o,
		   struct sbuf *marks, pipe_refs *refs)
{
	struct snap_proc *sp = &s->procs.v[pi];
	struct snap_fd sf = { .fd = fd, .kind = SFD_OTHER, .off = -1, .pipe = -1 };
	struct stat st;
	char link[512];
	if (fstat(d, &st) < 0)
		return -errno;
	int flags = fcntl(d, F_GETFL);
	if (flags < 0 || (flags & O_PATH))
		goto keep;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
		sf.kind = SFD_SEEK;
		sf.off = lseek(d, 0, SEEK_CUR);
		if (sf.off < 0 || shares_our_stdio(sp->pid, fd))
			sf.kind = SFD_OTHER;
		if (!S_ISREG(st.st_mode))
			break;
		bool writable = (flags & O_ACCMODE) != O_RDONLY;
		if (!(o->files && writable) && st.st_nlink)
			break;
		fd_link(sp->pid, fd, link, sizeof link);
		if (!strncmp(link, "/memfd:", 7) || (o->files && writable && strncmp(link, "/proc/", 6)
						    && strncmp(link, "/sys/", 5) && strncmp(link, "/dev/", 5))) {
			int e = save_file(s, pi, fd, d, &st, link);
			if (e < 0)
				return e;
		}
		break;
	case S_IFBLK:
		fd_link(sp->pid, fd, link, sizeof link);
		sbuf_printf(marks, "pid %d fd %d: block device %s; its contents are not restored\n",
			    sp->pid, fd, link);
		break;
	case S_IFCHR:
		if (harmless_chr(st.st_rdev))
			break;
		fd_link(sp->pid, fd, link, sizeof link);
		sbuf_printf(marks, "pid %d fd %d: device %s (%u:%u); its state cannot be restored\n",
			    sp->pid, fd, link, major(st.st_rdev), minor(st.st_rdev));
		break;
	case S_IFSOCK:
		describe_socket(d, sp->pid, fd, marks);
		break;
	case S_IFIFO: {
		fd_link(sp->pid, fd, link, sizeof link);
		if (strncmp(link, "pipe:", 5))
			break;          /* a named FIFO: its peers may be anywhere; left shared */
		struct pipe_ref r = { pi, sp->fds.n, st.st_ino, flags & O_ACCMODE, flags };
		vec_push(refs, r);
		break;
	}
	default:
		fd_link(sp->pid, fd, link, sizeof link);
		describe_anon(link, sp->pid, fd, marks);
	}
keep:
	vec_push(&sp->fds, sf);
	return 0;
}

static int scan_proc(struct snapshot *s, int pi, int pidfd, const struct snap_opts *o,
		     struct sbuf *marks, pipe_refs *refs)
{
	struct snap_proc *sp = &s->procs.v[pi];
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", sp->pid);
	DIR *dir = opendir(path);
	if (!dir)
		return -errno;
	int e = 0;
	struct dirent *de;
	while (!e && (de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		int fd = atoi(de->d_name);
		int d = snap_pidfd_getfd(pidfd, fd);
		if (d < 0) {
			if (d == -EBADF)
				continue;
			e = d;
			pr_err(LM_SNAP, "pid %d fd %d: pidfd_getfd: %s", sp->pid, fd, strerror(-e));
			break;
		}
		e = scan_fd(s, pi, fd, d, o, marks, refs);
		close(d);
	}
	closedir(dir);
	return e;
}

/* Drain the unread bytes of a pipe and write them back, keeping a copy. */
static int save_pipe_bytes(struct snap_pipe *pp, int d)
{
	int n = 0;
	if (ioctl(d, FIONREAD, &n) < 0)
		return -errno;
	pp->size = fcntl(d, F_GETPIPE_SZ);
	if (n <= 0)
		return 0;
	int rd = reopen(d, O_RDONLY | O_NONBLOCK);
	if (rd < 0)
		return rd;
	int wr = reopen(d, O_WRONLY | O_NONBLOCK);
	if (wr < 0) {
		close(rd);
		return wr;
	}
	int e = 0;
	pp->data = xmalloc((size_t)n);
	while (pp->len < (size_t)n) {
		ssize_t k = read(rd, pp->data + pp->len, (size_t)n - pp->len);
		if (k <= 0)
			break;
		pp->len += (size_t)k;
	}
	for (size_t w = 0; w < pp->len;) {
		ssize_t k = write(wr, pp->data + w, pp->len - w);
		if (k <= 0) {
			/* The bytes are in pp->data but not back in the pipe: the program lost
			 * them. Cannot happen with a pipe we just drained; say so if it does. */
			e = k < 0 ? -errno : -EIO;
			pr_err(LM_SNAP, "pipe %lu: %zu bytes could not be written back: %s",
			       (unsigned long)pp->ino, pp->len - w, strerror(-e));
			break;
		}
		w += (size_t)k;
	}
	close(rd);
	close(wr);
	return e;
}

typedef VEC(pid_t) pid_vec;

static void add_pid(pid_vec *v, pid_t pid)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i] == pid)
			return;
	vec_push(v, pid);
}

/* Pipe inodes (candidates) that a process outside the tree also holds. Only the
 * processes that could have handed the tree a pipe by inheritance are looked at: rewind,
 * its ancestors and the ancestors of the tree's processes (walking every process's fds
 * would cost a millisecond or more per checkpoint). A pipe given to an unrelated
 * process (SCM_RIGHTS, pidfd_getfd) is not noticed. */
static void drop_held_outside(struct target *tg, const struct snapshot *s, uint64_t *cand,
			      size_t n)
{
	pid_vec who = { 0 };
	add_pid(&who, getpid());
	for (size_t i = 0; i <= s->procs.n; i++) {
		pid_t pid = i < s->procs.n ? s->procs.v[i].pid : getpid();
		for (int depth = 0; depth < 64 && (pid = snap_real_parent(pid)) > 1; depth++)
			if (!target_find_task(tg, pid))
				add_pid(&who, pid);
	}
	for (size_t w = 0; w < who.n; w++) {
		char path[64], link[64];
		snprintf(path, sizeof path, "/proc/%d/fd", who.v[w]);
		DIR *fdd = opendir(path);
		struct dirent *fe;
		while (fdd && (fe = readdir(fdd))) {
			if (fe->d_name[0] < '0' || fe->d_name[0] > '9')
				continue;
			ssize_t k = readlinkat(dirfd(fdd), fe->d_name, link, sizeof link - 1);
			if (k <= 6 || strncmp(link, "pipe:[", 6))
				continue;
			link[k] = 0;
			uint64_t ino = strtoull(link + 6, NULL, 10);
			for (size_t i = 0; i < n; i++)
				if (cand[i] == ino) {
					pr_debug(LM_SNAP, "pipe %lu is also held by pid %d: left shared",
						 (unsigned long)ino, who.v[w]);
					cand[i] = 0;
				}
		}
		if (fdd)
			closedir(fdd);
	}
	vec_free(&who);
}

/* Pipes with a read end and a write end inside the tree, and none outside it, become
 * snapshot pipes. */
static int save_pipes(struct target *tg, struct snapshot *s, pipe_refs *refs,
		      const int *pidfds)
{
	VEC(uint64_t) cand = { 0 };
	for (size_t i = 0; i < refs->n; i++) {
		struct pipe_ref *r = &refs->v[i];
		bool rd = false, wr = false, rdwr = false, seen = false;
		for (size_t j = 0; j < refs->n; j++) {
			if (refs->v[j].ino != r->ino)
				continue;
			rd |= refs->v[j].acc == O_RDONLY;
			wr |= refs->v[j].acc == O_WRONLY;
			rdwr |= refs->v[j].acc == O_RDWR;
		}
		for (size_t k = 0; k < cand.n; k++)
			seen |= cand.v[k] == r->ino;
		if (rd && wr && !rdwr && !seen)
			vec_push(&cand, r->ino);
	}
	if (cand.n)
		drop_held_outside(tg, s, cand.v, cand.n);
	int e = 0;
	for (size_t i = 0; i < refs->n && !e; i++) {
		struct pipe_ref *r = &refs->v[i];
		bool internal = false;
		for (size_t k = 0; k < cand.n; k++)
			internal |= cand.v[k] == r->ino;
		if (!internal)
			continue;
		int pi = -1;
		for (size_t k = 0; k < s->pipes.n; k++)
			if (s->pipes.v[k].ino == r->ino)
				pi = (int)k;
		struct snap_proc *sp = &s->procs.v[r->proc];
		if (pi < 0) {
			struct snap_pipe np = { .ino = r->ino, .size = 0 };
			int d = snap_pidfd_getfd(pidfds[r->proc], sp->fds.v[r->fdi].fd);
			if (d < 0) {
				e = d;
				break;
			}
			e = save_pipe_bytes(&np, d);
			close(d);
			if (e < 0) {
				free(np.data);
				break;
			}
			pr_debug(LM_SNAP, "pid %d fd %d: pipe %lu inside the tree, %zu unread bytes",
				 sp->pid, sp->fds.v[r->fdi].fd, (unsigned long)np.ino, np.len);
			s->copied_bytes += np.len;
			vec_push(&s->pipes, np);
			pi = (int)s->pipes.n - 1;
		}
		int end = r->acc == O_WRONLY;
		s->pipes.v[pi].flags[end] = r->flags & ~O_ACCMODE;
		struct snap_fd *sf = &sp->fds.v[r->fdi];
		sf->kind = SFD_PIPE;
		sf->pipe = pi;
		sf->end = end;
		sf->cloexec = read_cloexec(sp->pid, sf->fd);
	}
	vec_free(&cand);
	return e;
}

int snap_fds_save(struct target *tg, struct snapshot *s, const struct snap_opts *o,
		  struct sbuf *marks)
{
	pipe_refs refs = { 0 };
	int *pidfds = xcalloc(s->procs.n, sizeof *pidfds);
	int e = 0;
	for (size_t i = 0; i < s->procs.n; i++)
		pidfds[i] = -1;
	for (size_t i = 0; i < s->procs.n && !e; i++) {
		pidfds[i] = snap_pidfd_open(s->procs.v[i].pid);
		if (pidfds[i] < 0) {
			e = pidfds[i];
			pr_err(LM_SNAP, "pid %d: pidfd_open: %s", s->procs.v[i].pid, strerror(-e));
			break;
		}
		e = scan_proc(s, (int)i, pidfds[i], o, marks, &refs);
	}
	if (!e)
		e = save_pipes(tg, s, &refs, pidfds);
	for (size_t i = 0; i < s->procs.n; i++) {
		if (pidfds[i] >= 0)
			close(pidfds[i]);
		struct snap_proc *sp = &s->procs.v[i];
		if (sp->fds.n > 1)      /* a process may have no fds: v is NULL then */
			qsort(sp->fds.v, sp->fds.n, sizeof *sp->fds.v, cmp_fd);
	}
	free(pidfds);
	vec_free(&refs);
	return e;
}

int snap_fds_detach_ckpt(struct target *tg, struct snap_proc *sp)
{
	struct task *t = sp->ckpt->tasks;
	int64_t r;
	/* fds are sorted: close runs of consecutive pipe fds with one close_range each. */
	for (size_t i = 0; i < sp->fds.n; i++) {
		if (sp->fds.v[i].kind != SFD_PIPE)
			continue;
		size_t j = i;
		while (j + 1 < sp->fds.n && sp->fds.v[j + 1].kind == SFD_PIPE &&
		       sp->fds.v[j + 1].fd == sp->fds.v[j].fd + 1)
			j++;
		int e = snap_sys_ok(tg, t, SYS_close_range, &r, (uint64_t)sp->fds.v[i].fd,
				    (uint64_t)sp->fds.v[j].fd, 0, 0, 0, 0);
		if (e < 0)
			return e;
		i = j;
	}
	return 0;
}

/* Install this restore's fresh pipe ends (ours[pipe][end]) at their fds in sp->rest. */
static int install_pipes(struct target *tg, struct snap_proc *sp, int (*ours)[2])
{
	struct task *t = proc_task(sp->rest, sp->rest->pid);
	int64_t x, n, r;
	int maxfd = -1, e;
	bool any = false, hit = false;
	for (size_t i = 0; i < sp->fds.n; i++)
		if (sp->fds.v[i].kind == SFD_PIPE) {
			any = true;
			maxfd = sp->fds.v[i].fd;
		}
	if (!any)
		return 0;
	if ((e = snap_sys_ok(tg, t, SYS_pidfd_open, &x, (uint64_t)getpid(), 0, 0, 0, 0, 0)) < 0)
		return e;
	for (size_t i = 0; i < sp->fds.n; i++)
		hit |= sp->fds.v[i].kind == SFD_PIPE && sp->fds.v[i].fd == x;
	if (hit) {      /* the pidfd took one of the fd numbers to fill: move it above them */
		int64_t y;
		e = snap_sys_ok(tg, t, SYS_fcntl, &y, (uint64_t)x, F_DUPFD_CLOEXEC,
				(uint64_t)maxfd + 1, 0, 0, 0);
		snap_sys(tg, t, SYS_close, &r, (uint64_t)x, 0, 0, 0, 0, 0);
		if (e < 0)
			return e;
		x = y;
	}
	/* Ascending: every lower target is filled, so the lowest free fd pidfd_getfd
	 * returns is the target itself or a slot that is not one. */
	for (size_t i = 0; i < sp->fds.n && !e; i++) {
		const struct snap_fd *f = &sp->fds.v[i];
		if (f->kind != SFD_PIPE)
			continue;
		e = snap_sys_ok(tg, t, SYS_pidfd_getfd, &n, (uint64_t)x,
				(uint64_t)ours[f->pipe][f->end], 0, 0, 0, 0);
		if (e < 0)
			break;
		if (n != f->fd) {
			e = snap_sys_ok(tg, t, SYS_dup3, &r, (uint64_t)n, (uint64_t)f->fd,
					f->cloexec ? O_CLOEXEC : 0, 0, 0, 0);
			snap_sys(tg, t, SYS_close, &r, (uint64_t)n, 0, 0, 0, 0, 0);
		} else if (!f->cloexec) {
			e = snap_sys_ok(tg, t, SYS_fcntl, &r, (uint64_t)n, F_SETFD, 0, 0, 0, 0);
		}
	}
	snap_sys(tg, t, SYS_close, &r, (uint64_t)x, 0, 0, 0, 0, 0);
	return e;
}

/* A fresh pipe holding pp's bytes, with pp's size and status flags. */
static int fresh_pipe(const struct snap_pipe *pp, int ends[2])
{
	if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	if (pp->size > 0 && fcntl(ends[1], F_GETPIPE_SZ) != pp->size)
		fcntl(ends[1], F_SETPIPE_SZ, pp->size);
	int e = 0;
	for (size_t w = 0; w < pp->len;) {
		ssize_t k = write(ends[1], pp->data + w, pp->len - w);
		if (k <= 0) {
			e = k < 0 ? -errno : -EIO;
			break;
		}
		w += (size_t)k;
	}
	fcntl(ends[0], F_SETFL, pp->flags[0]);
	fcntl(ends[1], F_SETFL, pp->flags[1]);
	if (e < 0) {
		close(ends[0]);
		close(ends[1]);
	}
	return e;
}

static int put_offsets(const struct snapshot *s, size_t pi)
{
	const struct snap_proc *sp = &s->procs.v[pi];
	for (size_t i = 0; i < sp->fds.n; i++) {
		const struct snap_fd *f = &sp->fds.v[i];
		if (f->kind != SFD_SEEK)
			continue;
		int d = snap_pidfd_getfd(snap_src(s, pi)->ckpt_pidfd, f->fd);
		if (d < 0)
			return d;
		off_t o = lseek(d, f->off, SEEK_SET);
		int e = o < 0 ? -errno : 0;
		close(d);
		if (e < 0) {
			pr_err(LM_SNAP, "pid %d fd %d: cannot seek back to %lld: %s", sp->pid, f->fd,
			       (long long)f->off, strerror(-e));
			return e;
		}
	}
	return 0;
}

static int put_file(struct snapshot *s, const struct snap_file *f)
{
	int d = snap_pidfd_getfd(snap_src(s, (size_t)f->proc)->ckpt_pidfd, f->fd);
	if (d < 0)
		return d;
	int w = reopen(d, O_WRONLY);
	close(d);
	if (w < 0)
		return w;
	int e = ftruncate(w, f->size) < 0 ? -errno : copy_range(w, f->copy, f->size);
	close(w);
	return e;
}

int snap_fds_restore(struct target *tg, struct snapshot *s, struct sbuf *problems)
{
	int e = 0;
	for (size_t i = 0; i < s->procs.n && !e; i++)
		if ((e = put_offsets(s, i)) < 0)
			sbuf_printf(problems, "pid %d: file offsets could not be put back: %s\n",
				    s->procs.v[i].pid, strerror(-e));
	for (size_t i = 0; i < s->files.n && !e; i++)
		if ((e = put_file(s, &s->files.v[i])) < 0)
			sbuf_printf(problems, "%s: contents could not be put back: %s\n",
				    s->files.v[i].name, strerror(-e));
	if (e < 0 || !s->pipes.n)
		return e;
	int (*ours)[2] = xcalloc(s->pipes.n, sizeof *ours);
	size_t made = 0;
	for (; made < s->pipes.n && !e; made++)
		e = fresh_pipe(&s->pipes.v[made], ours[made]);
	if (e < 0)
		made--;
	for (size_t i = 0; i < s->procs.n && !e; i++)
		if ((e = install_pipes(tg, &s->procs.v[i], ours)) < 0)
			sbuf_printf(problems, "pid %d: pipes inside the tree could not be recreated: "
				    "%s\n", s->procs.v[i].pid, strerror(-e));
	for (size_t i = 0; i < made; i++) {
		close(ours[i][0]);
		close(ours[i][1]);
	}
	free(ours);
	return e;
}

void snap_fds_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->files.n; i++) {
		close(s->files.v[i].copy);
		free(s->files.v[i].name);
	}
	vec_free(&s->files);
	for (size_t i = 0; i < s->pipes.n; i++)
		free(s->pipes.v[i].data);
	vec_free(&s->pipes);
	for (size_t i = 0; i < s->procs.n; i++)
		vec_free(&s->procs.v[i].fds);
}
