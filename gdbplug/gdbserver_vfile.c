/* gdbserver_vfile: gdb's host I/O packets (vFile:open/pread/close/fstat/readlink/
 * setfs), read-only, so that gdb reads the program's executable, its libraries and its
 * /proc files through the server ("target:" sysroot), as with gdbserver. Replies are
 * "F<result>[,<errno>][;<binary data>]" with gdb's own errno numbers. */
#include "gdbserver_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rsp_codec.h"

#define VFILE_MAX_FDS 64

/* gdb's File-I/O errno values (gdbsupport/fileio.h). */
static int fio_errno(int e)
{
	switch (e) {
	case EPERM: case ENOENT: case EINTR: case EBADF: case EACCES: case EFAULT: case EBUSY:
	case EEXIST: case ENODEV: case ENOTDIR: case EISDIR: case EINVAL: case ENFILE:
	case EMFILE: case EFBIG: case ENOSPC: case ESPIPE: case EROFS:
		return e;
	case ENAMETOOLONG:
		return 91;
	default:
		return 9999;   /* FILEIO_EUNKNOWN */
	}
}

static void fail(struct gdbserver *g, int e)
{
	sbuf_reset(&g->out);
	sbuf_printf(&g->out, "F-1,%x", fio_errno(e < 0 ? -e : e));
}

/* Decode a hex file name in place; NULL if malformed. */
static char *hex_name(char *hex, size_t n)
{
	if (n % 2 || n / 2 >= PATH_MAX || rsp_hex_decode(hex, n, (uint8_t *)hex) < 0)
		return NULL;
	hex[n / 2] = 0;
	return hex;
}

static bool our_fd(struct gdbserver *g, long fd, size_t *at)
{
	for (size_t i = 0; i < g->vfds.n; i++)
		if (g->vfds.v[i] == fd) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void vf_open(struct gdbserver *g, char *args)
{
	char *c1 = strchr(args, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2)
		return fail(g, EINVAL);
	long flags = strtol(c1 + 1, NULL, 16);
	char *name = hex_name(args, (size_t)(c1 - args));
	if (!name)
		return fail(g, EINVAL);
	if (flags & 0xf)   /* FILEIO_O_WRONLY / O_RDWR / O_APPEND: the program's files stay */
		return fail(g, EACCES);
	if (g->vfds.n >= VFILE_MAX_FDS)
		return fail(g, EMFILE);
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(g, errno);
	vec_push(&g->vfds, fd);
	sbuf_printf(&g->out, "F%x", fd);
}

static void vf_pread(struct gdbserver *g, char *args)
{
	unsigned long fd, count, off;
	if (sscanf(args, "%lx,%lx,%lx", &fd, &count, &off) != 3)
		return fail(g, EINVAL);
	if (!our_fd(g, (long)fd, NULL))
		return fail(g, EBADF);
	/* Escaping can double the data: stay within a packet. */
	count = MIN(count, (unsigned long)(RSP_PACKET_SIZE - 64) / 2);
	char *buf = xmalloc(count ? count : 1);
	ssize_t n = pread((int)fd, buf, count, (off_t)off);
	if (n < 0) {
		free(buf);
		return fail(g, errno);
	}
	sbuf_printf(&g->out, "F%zx;", (size_t)n);
	rsp_put_escaped(&g->out, buf, (size_t)n, RSP_PACKET_SIZE);
	free(buf);
}

static void vf_close(struct gdbserver *g, char *args)
{
	size_t at;
	long fd = strtol(args, NULL, 16);
	if (!our_fd(g, fd, &at))
		return fail(g, EBADF);
	close((int)fd);
	g->vfds.v[at] = g->vfds.v[--g->vfds.n];
	sbuf_puts(&g->out, "F0");
}

static void vf_fstat(struct gdbserver *g, char *args)
{
	long fd = strtol(args, NULL, 16);
	struct stat st;
	if (!our_fd(g, fd, NULL))
		return fail(g, EBADF);
	if (fstat((int)fd, &st) < 0)
		return fail(g, errno);
	uint8_t f[64];   /* struct fio_stat, big-endian */
	put_be(f + 0, st.st_dev, 4);
	put_be(f + 4, st.st_ino, 4);
	put_be(f + 8, st.st_mode, 4);
	put_be(f + 12, st.st_nlink, 4);
	put_be(f + 16, st.st_uid, 4);
	put_be(f + 20, st.st_gid, 4);
	put_be(f + 24, st.st_rdev, 4);
	put_be(f + 28, (uint64_t)st.st_size, 8);
	put_be(f + 36, (uint64_t)st.st_blksize, 8);
	put_be(f + 44, (uint64_t)st.st_blocks, 8);
	put_be(f + 52, (uint64_t)st.st_atime, 4);
	put_be(f + 56, (uint64_t)st.st_mtime, 4);
	put_be(f + 60, (uint64_t)st.st_ctime, 4);
	sbuf_printf(&g->out, "F%zx;", sizeof f);
	rsp_put_escaped(&g->out, f, sizeof f, RSP_PACKET_SIZE);
}

static void vf_readlink(struct gdbserver *g, char *args)
{
	char *name = hex_name(args, strlen(args));
	char buf[PATH_MAX];
	if (!name)
		return fail(g, EINVAL);
	ssize_t n = readlink(name, buf, sizeof buf);
	if (n < 0)
		return fail(g, errno);
	sbuf_printf(&g->out, "F%zx;", (size_t)n);
	rsp_put_escaped(&g->out, buf, (size_t)n, RSP_PACKET_SIZE);
}

void gs__vfile(struct gdbserver *g, const struct rsp_packet *p)
{
	const char *op = p->u.vfile.op ? p->u.vfile.op : "";
	char *args = xstrdup(p->u.vfile.args ? p->u.vfile.args : "");
	if (!strcmp(op, "setfs"))
		sbuf_puts(&g->out, "F0");   /* one mount namespace: ours is the program's */
	else if (!strcmp(op, "open"))
		vf_open(g, args);
	else if (!strcmp(op, "pread"))
		vf_pread(g, args);
	else if (!strcmp(op, "close"))
		vf_close(g, args);
	else if (!strcmp(op, "fstat"))
		vf_fstat(g, args);
	else if (!strcmp(op, "readlink"))
		vf_readlink(g, args);
	/* else "": pwrite, unlink and the rest are not offered */
	free(args);
}

void gs__vfile_close_all(struct gdbserver *g)
{
	for (size_t i = 0; i < g->vfds.n; i++)
		close(g->vfds.v[i]);
	vec_free(&g->vfds);
}
