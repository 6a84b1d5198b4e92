/* trace_codec: CRC32C, varints, byte buffers and the bounds-checked decoder. */
#include "replay/trace_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ---- CRC32C (reflected polynomial 0x82f63b78), slicing by 8 ---- */

static uint32_t crc_tab[8][256];
static bool crc_hw;

__attribute__((constructor)) static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
}

uint32_t trace__crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= crc;
		crc = crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
		      crc_tab[5][(w >> 16) & 0xff] ^ crc_tab[4][(w >> 24) & 0xff] ^
		      crc_tab[3][(w >> 32) & 0xff] ^ crc_tab[2][(w >> 40) & 0xff] ^
		      crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
							     size_t len)
{
	uint64_t c = ~crc & 0xffffffffu;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return ~c32;
}

uint32_t trace__crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc_hw ? crc32c_hw(crc, buf, len) : trace__crc32c_sw(crc, buf, len);
}

/* ---- encoding ---- */

static void tb_grow(struct tbuf *b, size_t need)
{
	if (b->n + need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->n + need)
		cap *= 2;
	b->v = xrealloc(b->v, cap);
	b->cap = cap;
}

void tb_bytes(struct tbuf *b, const void *p, size_t n)
{
	if (!n)
		return;
	tb_grow(b, n);
	memcpy(b->v + b->n, p, n);
	b->n += n;
}

void tb_u8(struct tbuf *b, uint8_t v)
{
	tb_grow(b, 1);
	b->v[b->n++] = v;
}

void tb_le(struct tbuf *b, uint64_t v, int bytes)
{
	tb_grow(b, (size_t)bytes);
	for (int i = 0; i < bytes; i++)
		b->v[b->n++] = (uint8_t)(v >> (8 * i));
}

void tb_varint(struct tbuf *b, uint64_t v)
{
	tb_grow(b, 10);
	while (v >= 0x80) {
		b->v[b->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->v[b->n++] = (uint8_t)v;
}

void tb_svarint(struct tbuf *b, int64_t v)
{
	tb_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void tb_str(struct tbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	tb_varint(b, n);
	tb_bytes(b, s, n);
}

size_t trace__varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* ---- decoding ---- */

static bool fail(struct tdec *d, const char *why)
{
	if (!d->err)
		d->err = why;
	d->p = d->end;
	return false;
}

bool td_u8(struct tdec *d, uint8_t *v)
{
	if (d->err || d->p >= d->end)
		return fail(d, "record ends inside a field");
	*v = *d->p++;
	return true;
}

bool td_le(struct tdec *d, uint64_t *v, int bytes)
{
	if (d->err || td_left(d) < (size_t)bytes)
		return fail(d, "record ends inside a field");
	*v = 0;
	for (int i = 0; i < bytes; i++)
		*v |= (uint64_t)d->p[i] << (8 * i);
	d->p += bytes;
	return true;
}

bool td_varint(struct tdec *d, uint64_t *v)
{
	uint64_t x = 0;
	for (int i = 0;; i++) {
		if (d->err || d->p >= d->end)
			return fail(d, "record ends inside a number");
		uint8_t c = *d->p++;
		if (i == 9 && c > 1)   /* a 10th byte holds bit 63 only, and ends the number */
			return fail(d, "number does not fit 64 bits");
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			*v = x;
			return true;
		}
	}
}

bool td_svarint(struct tdec *d, int64_t *v)
{
	uint64_t u;
	if (!td_varint(d, &u))
		return false;
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return true;
}

bool td_blob(struct tdec *d, const uint8_t **p, size_t *len)
{
	uint64_t n;
	if (!td_varint(d, &n))
		return false;
	if (n > td_left(d))
		return fail(d, "string longer than its record");
	*p = d->p;
	*len = (size_t)n;
	d->p += n;
	return true;
}

void trace__scratch_free(struct tscratch *s)
{
	free(s->arena);
	free(s->pieces);
	free(s->argv);
	free(s->env);
	free(s->auxv);
	memset(s, 0, sizeof *s);
}
