/* trace_read: the bounds-checked trace reader. A trace is untrusted input: every
 * length is checked against the bytes that remain before anything is read or
 * allocated, and the first bad record stops reading with its offset and reason. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "replay/trace.h"
#include "replay/trace_codec.h"

struct trace_reader {
	const uint8_t *base;
	size_t size;
	void *map;                 /* our mapping of the file, or NULL */
	struct trace_info info;
	char *strs[4];             /* info strings, owned */
	size_t first;              /* offset of the first record */
	size_t pos;
	uint64_t recno;
	pid_t last_tid;
	bool lenient;              /* the file's minor version is newer than ours */
	bool ended;                /* the END record was read */
	int state;                 /* 0, or the error every later call returns */
	struct trace_error err;
	struct tscratch scratch;
};

static void set_err(struct trace_error *err, uint64_t off, uint64_t recno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_err(struct trace_error *err, uint64_t off, uint64_t recno, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	err->off = off;
	err->recno = recno;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int parse_header(struct trace_reader *r, struct trace_error *err)
{
	const uint8_t *b = r->base;
	if (r->size < TRACE__FIXED_HEADER + 4 || memcmp(b, TRACE_MAGIC, 8)) {
		set_err(err, 0, 0, "not a rewind trace (%s)",
			r->size < 8 ? "file too short" : "bad magic");
		return -EBADMSG;
	}
	unsigned major = (unsigned)le(b + 8, 2), minor = (unsigned)le(b + 10, 2);
	r->info.major = major;
	r->info.minor = minor;
	if (major != TRACE_VERSION_MAJOR) {
		set_err(err, 8, 0, "trace format %u.%u is %s this rewind (reads %u.x)%s", major,
			minor, major > TRACE_VERSION_MAJOR ? "newer than" : "not supported by",
			TRACE_VERSION_MAJOR, major > TRACE_VERSION_MAJOR ? ": use a newer rewind" : "");
		return -EPROTONOSUPPORT;
	}
	r->lenient = minor > TRACE_VERSION_MINOR;
	uint64_t hlen = le(b + 12, 4);
	if (hlen < TRACE__FIXED_HEADER + 4 || hlen > r->size) {
		set_err(err, 12, 0, "header length %llu does not fit the file (%zu bytes)",
			(unsigned long long)hlen, r->size);
		return -EBADMSG;
	}
	uint32_t stored = (uint32_t)le(b + hlen - 4, 4);
	uint32_t crc = trace__crc32c(0, b, hlen - 4);
	if (stored != crc) {
		set_err(err, hlen - 4, 0, "header checksum mismatch (stored %08x, computed %08x)",
			stored, crc);
		return -EBADMSG;
	}
	r->info.created_ns = le(b + 16, 8);
	struct tdec d = { b + TRACE__FIXED_HEADER, b + hlen - 4, NULL };
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = NULL;
		size_t n = 0;
		td_blob(&d, &p, &n);
		r->strs[i] = xstrndup(p ? (const char *)p : "", n);
	}
	if (d.err) {
		set_err(err, TRACE__FIXED_HEADER, 0, "header: %s", d.err);
		return -EBADMSG;
	}
	r->info.rewind_version = r->strs[0];
	r->info.kernel = r->strs[1];
	r->info.host = r->strs[2];
	r->info.machine = r->strs[3];
	r->first = r->pos = (size_t)hlen;
	return 0;
}

int trace_reader_mem(const void *buf, size_t len, struct trace_reader **out,
		     struct trace_error *err)
{
	struct trace_reader *r = xcalloc(1, sizeof *r);
	r->base = buf;
	r->size = len;
	int e = parse_header(r, err);
	if (e) {
		trace_reader_close(r);
		return e;
	}
	*out = r;
	return 0;
}

int trace_reader_open(const char *path, struct trace_reader **out, struct trace_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		set_err(err, 0, 0, "cannot open %s: %s", path, strerror(errno));
		return e;
	}
	struct stat st;
	int e = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (e) {
		close(fd);
		set_err(err, 0, 0, "%s: %s", path, e == -EINVAL ? "not a regular file" : strerror(-e));
		return e;
	}
	void *map = NULL;
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			e = -errno;
			close(fd);
			set_err(err, 0, 0, "cannot map %s: %s", path, strerror(-e));
			return e;
		}
	}
	close(fd);
	struct trace_reader *r;
	e = trace_reader_mem(map ? map : "", (size_t)st.st_size, &r, err);
	if (e) {
		if (map)
			munmap(map, (size_t)st.st_size);
		pr_warn(LM_REPLAY, "trace %s: %s", path, err ? err->msg : "bad header");
		return e;
	}
	r->map = map;
	*out = r;
	return 0;
}

const struct trace_info *trace_reader_info(const struct trace_reader *r)
{
	return &r->info;
}

const struct trace_error *trace_reader_error(const struct trace_reader *r)
{
	return &r->err;
}

static int stop(struct trace_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int stop(struct trace_reader *r, int code, const char *fmt, ...)
{
	char why[180];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (code == -ENODATA)
		set_err(&r->err, r->pos, r->recno, "%s", why);
	else
		set_err(&r->err, r->pos, r->recno, "record %llu at offset %zu: %s",
			(unsigned long long)r->recno, r->pos, why);
	r->state = code;
	pr_info(LM_REPLAY, "trace: %s", r->err.msg);
	return code;
}

int trace_next(struct trace_reader *r, struct trace_ev *ev)
{
	for (;;) {
		if (r->state)
			return r->state;
		size_t left = r->size - r->pos;
		if (r->ended)
			return left ? stop(r, -EBADMSG, "%zu bytes after the end record", left) : 0;
		if (!left)
			return stop(r, -ENODATA, "trace ends after %llu records without an end "
				    "record: the recording was interrupted",
				    (unsigned long long)r->recno);
		const uint8_t *p = r->base + r->pos;
		struct tdec d = { p + 1, p + left, NULL };
		uint64_t len;
		if (!td_varint(&d, &len))
			return stop(r, -EBADMSG, "truncated record header (%zu bytes left)", left);
		size_t hdr = (size_t)(d.p - p);
		if (len > left - hdr || left - hdr - len < 4)
			return stop(r, -EBADMSG, "length %llu exceeds the file (%zu bytes left): "
				    "truncated or corrupt record", (unsigned long long)len, left - hdr);
		uint32_t stored = (uint32_t)le(p + hdr + len, 4);
		uint32_t crc = trace__crc32c(0, p, hdr + (size_t)len);
		if (stored != crc)
			return stop(r, -EBADMSG, "checksum mismatch (stored %08x, computed %08x)",
				    stored, crc);
		char why[160];
		int e = trace__decode(p[0], p + hdr, (size_t)len, &r->last_tid, r->lenient,
				      &r->scratch, ev, why, sizeof why);
		if (e < 0)
			return stop(r, -EBADMSG, "%s", why);
		size_t at = r->pos;
		r->pos += hdr + (size_t)len + 4;
		r->recno++;
		if (e == TRACE__DEC_SKIP)
			continue;
		ev->num = r->recno - 1;
		ev->off = at;
		if (ev->type == TR_END) {
			if (ev->end.events != ev->num) {
				r->pos = at;
				r->recno--;
				return stop(r, -EBADMSG, "end record counts %llu events, the trace "
					    "has %llu", (unsigned long long)ev->end.events,
					    (unsigned long long)ev->num);
			}
			r->ended = true;
		}
		return 1;
	}
}

int trace_reader_seek(struct trace_reader *r, uint64_t off, uint64_t recno)
{
	if (off < r->first || off > r->size)
		return -EINVAL;
	r->pos = (size_t)off;
	r->recno = recno;
	r->last_tid = 0;
	r->ended = false;
	r->state = 0;
	memset(&r->err, 0, sizeof r->err);
	return 0;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->size);
	for (int i = 0; i < 4; i++)
		free(r->strs[i]);
	trace__scratch_free(&r->scratch);
	free(r);
}
