/* rsp_codec: checksums, hex, escapes, run-length encoding and signal numbers. */
#include "rsp_codec.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

uint8_t rsp_checksum(const void *data, size_t n)
{
	const uint8_t *p = data;
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += p[i];
	return (uint8_t)sum;
}

int rsp_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void rsp_put_hex(struct sbuf *b, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	char chunk[256];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		chunk[k++] = digits[p[i] >> 4];
		chunk[k++] = digits[p[i] & 15];
		if (k == sizeof chunk) {
			sbuf_append(b, chunk, k);
			k = 0;
		}
	}
	if (k || !b->s)
		sbuf_append(b, chunk, k);
}

int rsp_hex_decode(const char *hex, size_t hexlen, uint8_t *out)
{
	if (hexlen % 2)
		return -EINVAL;
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = rsp_hex_digit((unsigned char)hex[2 * i]);
		int lo = rsp_hex_digit((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int rsp_parse_hex(const char *s, size_t n, uint64_t *out, size_t *used)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < n; i++) {
		int d = rsp_hex_digit((unsigned char)s[i]);
		if (d < 0)
			break;
		if (v >> 60)
			return -ERANGE;
		v = v << 4 | (unsigned)d;
	}
	if (!i)
		return -EINVAL;
	*out = v;
	*used = i;
	return 0;
}

size_t rsp_put_escaped(struct sbuf *b, const void *data, size_t n, size_t max_out)
{
	const uint8_t *p = data;
	char chunk[256];
	size_t k = 0, out = 0, i = 0;
	for (; i < n; i++) {
		size_t need = rsp_needs_escape(p[i]) ? 2 : 1;
		if (out + need > max_out)
			break;
		if (k + 2 > sizeof chunk) {
			sbuf_append(b, chunk, k);
			k = 0;
		}
		if (need == 2) {
			chunk[k++] = '}';
			chunk[k++] = (char)(p[i] ^ 0x20);
		} else {
			chunk[k++] = (char)p[i];
		}
		out += need;
	}
	if (k || !b->s)
		sbuf_append(b, chunk, k);
	return i;
}

long rsp_unescape(uint8_t *buf, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '}') {
			if (i + 1 == n)
				return -EINVAL;
			buf[o++] = buf[++i] ^ 0x20;
		} else {
			buf[o++] = buf[i];
		}
	}
	return (long)o;
}

/* Repeats one count character may stand for. gdb accepts up to '~' (97); gdbserver
 * stops at '}' (96), and so do we, so our replies match its byte for byte. */
#define RLE_MAX_REPEAT 96
#define RLE_MAX_COUNT_CHAR 126

void rsp_rle_encode(const void *in, size_t n, struct sbuf *out)
{
	const uint8_t *p = in;
	size_t i = 0;
	if (!out->s)
		sbuf_append(out, "", 0);
	while (i < n) {
		size_t run = 1;
		while (i + run < n && p[i + run] == p[i] && run <= RLE_MAX_REPEAT)
			run++;
		size_t rep = run - 1;
		/* Only runs of four or more pay: "c*N" is three bytes. */
		while (rep + 29 == '#' || rep + 29 == '$')
			rep--;
		if (rep >= 3) {
			char enc[3] = { (char)p[i], '*', (char)(rep + 29) };
			sbuf_append(out, enc, 3);
			i += rep + 1;
		} else {
			sbuf_append(out, (const char *)&p[i], 1);
			i++;
		}
	}
}

int rsp_rle_decode(const void *in, size_t n, struct sbuf *out, size_t max_out)
{
	const uint8_t *p = in;
	size_t start = out->len;
	if (!out->s)
		sbuf_append(out, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '*') {
			if (out->len - start + 1 > max_out)
				return -EMSGSIZE;
			sbuf_append(out, (const char *)&p[i], 1);
			continue;
		}
		if (out->len == start || i + 1 == n)
			return -EINVAL;
		int c = p[++i];
		if (c < 29 + 1 || c > RLE_MAX_COUNT_CHAR)
			return -EINVAL;
		size_t rep = (size_t)c - 29;
		if (out->len - start + rep > max_out)
			return -EMSGSIZE;
		char prev = out->s[out->len - 1];
		char fill[RLE_MAX_COUNT_CHAR - 29];
		memset(fill, prev, rep);
		sbuf_append(out, fill, rep);
	}
	return 0;
}

/* Linux signal number -> gdb's protocol number (include/gdb/signals.def). */
static const uint8_t host_to_gdb[] = {
	[SIGHUP] = 1, [SIGINT] = 2, [SIGQUIT] = 3, [SIGILL] = 4, [SIGTRAP] = 5,
	[SIGABRT] = 6, [SIGBUS] = 10, [SIGFPE] = 8, [SIGKILL] = 9, [SIGUSR1] = 30,
	[SIGSEGV] = 11, [SIGUSR2] = 31, [SIGPIPE] = 13, [SIGALRM] = 14, [SIGTERM] = 15,
	[SIGSTKFLT] = 143, [SIGCHLD] = 20, [SIGCONT] = 19, [SIGSTOP] = 17, [SIGTSTP] = 18,
	[SIGTTIN] = 21, [SIGTTOU] = 22, [SIGURG] = 16, [SIGXCPU] = 24, [SIGXFSZ] = 25,
	[SIGVTALRM] = 26, [SIGPROF] = 27, [SIGWINCH] = 28, [SIGIO] = 23, [SIGPWR] = 32,
	[SIGSYS] = 12,
};

#define GDB_SIGNAL_UNKNOWN 143

int rsp_sig_from_host(int s)
{
	if (s == 0)
		return 0;
	if (s > 0 && s < (int)ARRAY_SIZE(host_to_gdb) && host_to_gdb[s])
		return host_to_gdb[s];
	if (s == 32)
		return 77;              /* GDB_SIGNAL_REALTIME_32 */
	if (s >= 33 && s <= 63)
		return 45 + (s - 33);   /* GDB_SIGNAL_REALTIME_33.. */
	if (s == 64)
		return 78;              /* GDB_SIGNAL_REALTIME_64 */
	return GDB_SIGNAL_UNKNOWN;
}

int rsp_sig_to_host(int g)
{
	if (g == 0)
		return 0;
	if (g == GDB_SIGNAL_UNKNOWN)
		return -EINVAL;
	for (int s = 1; s < (int)ARRAY_SIZE(host_to_gdb); s++)
		if (host_to_gdb[s] == g)
			return s;
	if (g == 33)                    /* GDB_SIGNAL_POLL: SIGIO on Linux */
		return SIGIO;
	if (g == 77)
		return 32;
	if (g >= 45 && g <= 75)
		return 33 + (g - 45);
	if (g == 78)
		return 64;
	return -EINVAL;
}
