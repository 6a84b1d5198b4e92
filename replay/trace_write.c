/* trace_write: the buffered, append-only trace writer. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "replay/trace.h"
#include "replay/trace_codec.h"

#define FLUSH_AT 65536

struct trace_writer {
	int fd;
	char *path;
	struct tbuf buf;           /* whole records not yet written */
	struct tbuf payload;       /* one record being encoded */
	uint64_t off;              /* file offset of buf.v[0] */
	uint64_t nrec;
	pid_t last_tid;
	int err;                   /* first write error; sticky */
	struct trace_writer *next; /* writers flushed at exit() */
};

/* Writers still open, flushed by an atexit handler so that exit() anywhere in
 * rewind leaves whole records on disk. */
static struct trace_writer *open_writers;

static void flush_at_exit(void)
{
	for (struct trace_writer *w = open_writers; w; w = w->next)
		trace_writer_flush(w);
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t k = write(fd, b, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static void put_header(struct tbuf *h, const struct trace_info *info)
{
	struct utsname u;
	bool have_u = uname(&u) == 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	tb_bytes(h, TRACE_MAGIC, 8);
	tb_le(h, TRACE_VERSION_MAJOR, 2);
	tb_le(h, TRACE_VERSION_MINOR, 2);
	tb_le(h, 0, 4);                                    /* length, patched below */
	tb_le(h, info && info->created_ns ? info->created_ns : now, 8);
	tb_le(h, 0, 4);                                    /* flags */
	tb_str(h, info && info->rewind_version ? info->rewind_version : "unknown");
	tb_str(h, info && info->kernel ? info->kernel : have_u ? u.release : "");
	tb_str(h, info && info->host ? info->host : have_u ? u.nodename : "");
	tb_str(h, info && info->machine ? info->machine : have_u ? u.machine : "");
	uint32_t len = (uint32_t)h->n + 4;
	for (int i = 0; i < 4; i++)
		h->v[12 + i] = (uint8_t)(len >> (8 * i));
	tb_le(h, trace__crc32c(0, h->v, h->n), 4);
}

int trace_writer_create(const char *path, const struct trace_info *info,
			struct trace_writer **out)
{
	static bool registered;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = -errno;
		pr_err(LM_REPLAY, "trace: cannot create %s: %s", path, strerror(errno));
		return e;
	}
	struct trace_writer *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->path = xstrdup(path);
	put_header(&w->buf, info);
	int e = trace_writer_flush(w);
	if (e) {
		close(fd);
		unlink(path);
		free(w->buf.v);
		free(w->path);
		free(w);
		return e;
	}
	if (!registered) {
		atexit(flush_at_exit);
		registered = true;
	}
	w->next = open_writers;
	open_writers = w;
	*out = w;
	return 0;
}

int trace_writer_flush(struct trace_writer *w)
{
	if (w->err || !w->buf.n)
		return w->err;
	int e = write_all(w->fd, w->buf.v, w->buf.n);
	if (e) {
		w->err = e;
		pr_err(LM_REPLAY, "trace: writing %s: %s", w->path, strerror(-e));
		return e;
	}
	w->off += w->buf.n;
	w->buf.n = 0;
	return 0;
}

int trace_write(struct trace_writer *w, const struct trace_ev *ev, uint64_t *recno)
{
	if (w->err)
		return w->err;
	pid_t saved = w->last_tid;
	struct trace_ev end;
	if (ev->type == TR_END) {   /* the reader checks this count: the writer knows it */
		end = *ev;
		end.end.events = w->nrec;
		ev = &end;
	}
	w->payload.n = 0;
	int type = trace__encode(ev, &w->last_tid, &w->payload);
	if (type < 0 || w->payload.n > TRACE_MAX_PAYLOAD) {
		w->last_tid = saved;
		pr_err(LM_REPLAY, "trace: cannot write a %s record (%s)", trace_type_name(ev->type),
		       type < 0 ? "malformed" : "too big");
		return type < 0 ? type : -E2BIG;
	}
	uint8_t small[16];   /* type + a varint of at most 10 bytes: never grows */
	struct tbuf hdr = { .v = small, .cap = sizeof small };
	tb_u8(&hdr, (uint8_t)type);
	tb_varint(&hdr, w->payload.n);
	uint32_t crc = trace__crc32c(trace__crc32c(0, hdr.v, hdr.n), w->payload.v, w->payload.n);
	uint8_t c4[4] = { (uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
			  (uint8_t)(crc >> 24) };
	if (w->payload.n >= FLUSH_AT) {
		/* A big record goes straight to the file, after what is buffered. */
		int e = trace_writer_flush(w);
		if (!e)
			e = write_all(w->fd, hdr.v, hdr.n);
		if (!e)
			e = write_all(w->fd, w->payload.v, w->payload.n);
		if (!e)
			e = write_all(w->fd, c4, 4);
		if (e) {
			w->err = w->err ? w->err : e;
			pr_err(LM_REPLAY, "trace: writing %s: %s", w->path, strerror(-e));
			return e;
		}
		w->off += hdr.n + w->payload.n + 4;
	} else {
		tb_bytes(&w->buf, hdr.v, hdr.n);
		tb_bytes(&w->buf, w->payload.v, w->payload.n);
		tb_bytes(&w->buf, c4, 4);
		if (w->buf.n >= FLUSH_AT && trace_writer_flush(w))
			return w->err;
	}
	if (recno)
		*recno = w->nrec;
	w->nrec++;
	return 0;
}

uint64_t trace_writer_count(const struct trace_writer *w)
{
	return w->nrec;
}

uint64_t trace_writer_offset(const struct trace_writer *w)
{
	return w->off + w->buf.n;
}

int trace_writer_close(struct trace_writer *w)
{
	int e = trace_writer_flush(w);
	if (fsync(w->fd) < 0 && !e)
		e = -errno;
	if (close(w->fd) < 0 && !e)
		e = -errno;
	for (struct trace_writer **pp = &open_writers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	free(w->buf.v);
	free(w->payload.v);
	free(w->path);
	free(w);
	return e;
}
