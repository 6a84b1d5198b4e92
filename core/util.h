/* util: allocation that never returns NULL, a growable string buffer, small helpers. */
#ifndef REWIND_UTIL_H
#define REWIND_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable array: struct { T *v; size_t n, cap; }. */
#define VEC(T) struct { T *v; size_t n, cap; }
#define vec_push(vec, x) do { \
	if ((vec)->n == (vec)->cap) { \
		(vec)->cap = (vec)->cap ? (vec)->cap * 2 : 8; \
		(vec)->v = xrealloc((vec)->v, (vec)->cap * sizeof(*(vec)->v)); \
	} \
	(vec)->v[(vec)->n++] = (x); \
} while (0)
#define vec_free(vec) do { free((vec)->v); (vec)->v = NULL; (vec)->n = (vec)->cap = 0; } while (0)

/* sbuf: a NUL-terminated growable string. Zero-initialise, then append. */
struct sbuf {
	char *s;
	size_t len, cap;
};

void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap);
void sbuf_append(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);
/* Hand the string to the caller (who frees it); the buffer becomes empty. */
char *sbuf_steal(struct sbuf *b);
static inline const char *sbuf_str(const struct sbuf *b) { return b->s ? b->s : ""; }

/* memcpy that accepts n == 0 with NULL pointers (an empty vector's storage). */
static inline void *memcpy_n(void *d, const void *s, size_t n)
{
	return n ? memcpy(d, s, n) : d;
}

/* Read a whole small file (e.g. under /proc) into a malloc'd NUL-terminated buffer.
 * Returns 0 or -errno. */
int read_file(const char *path, char **out, size_t *len);

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

/* Parse a size such as "512M", "2G", "4096". Returns 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);

/* Trim leading and trailing white space in place; returns s advanced past leading space. */
char *str_trim(char *s);

#endif
