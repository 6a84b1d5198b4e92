/* trace_codec (internal to trace_*.c): CRC32C, varints, and the payload encoding of
 * each record type, shared by the writer, the reader and the tests. */
#ifndef REWIND_TRACE_CODEC_H
#define REWIND_TRACE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "replay/trace.h"

#define TRACE__FIXED_HEADER 28      /* magic, major, minor, length, time, flags */
#define TRACE__SAME_TID 0x80        /* type byte: the tid is the previous record's */

/* CRC32C (Castagnoli), continuing from crc (0 to start). SSE4.2 when available. */
uint32_t trace__crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable table version, for tests. */
uint32_t trace__crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* A growable byte buffer. */
struct tbuf {
	uint8_t *v;
	size_t n, cap;
};
void tb_bytes(struct tbuf *b, const void *p, size_t n);
void tb_u8(struct tbuf *b, uint8_t v);
void tb_le(struct tbuf *b, uint64_t v, int bytes);
void tb_varint(struct tbuf *b, uint64_t v);
void tb_svarint(struct tbuf *b, int64_t v);
void tb_str(struct tbuf *b, const char *s);
/* Bytes a varint of v takes. */
size_t trace__varint_len(uint64_t v);

/* A bounds-checked cursor over untrusted bytes. Every getter returns false and sets
 * err (once) when the input ends or is malformed; afterwards all getters fail. */
struct tdec {
	const uint8_t *p, *end;
	const char *err;
};
bool td_u8(struct tdec *d, uint8_t *v);
bool td_le(struct tdec *d, uint64_t *v, int bytes);
bool td_varint(struct tdec *d, uint64_t *v);
bool td_svarint(struct tdec *d, int64_t *v);
/* A length-prefixed byte string: *p points into the input. */
bool td_blob(struct tdec *d, const uint8_t **p, size_t *len);
static inline size_t td_left(const struct tdec *d) { return (size_t)(d->end - d->p); }

/* Scratch memory a decoded record points into (strings, pieces, arrays); reused
 * from record to record, sized from the payload length (never from a field). */
struct tscratch {
	char *arena;                 /* NUL-terminated string copies */
	size_t arena_len, arena_cap;
	struct trace_piece *pieces;
	size_t pieces_cap;
	const char **argv, **env;
	size_t argv_cap, env_cap;
	uint64_t *auxv;
	size_t auxv_cap;
};
void trace__scratch_free(struct tscratch *s);

/* Encode ev's payload into *payload (appending) and return its type byte; *last_tid
 * is the thread context, updated. Returns the type byte (> 0) or -EINVAL. */
int trace__encode(const struct trace_ev *ev, pid_t *last_tid, struct tbuf *payload);

enum { TRACE__DEC_OK = 0, TRACE__DEC_SKIP = 1 };
/* Decode one payload of type byte `type` into ev, with the thread context
 * *last_tid (updated). lenient: the file's minor version is newer than ours, so
 * unknown types are skipped (TRACE__DEC_SKIP) and trailing fields ignored.
 * Returns TRACE__DEC_OK, TRACE__DEC_SKIP, or -EBADMSG with a reason in msg. */
int trace__decode(uint8_t type, const uint8_t *payload, size_t len, pid_t *last_tid,
		  bool lenient, struct tscratch *s, struct trace_ev *ev, char *msg,
		  size_t msglen);

#endif
