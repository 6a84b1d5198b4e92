/* rsp_codec: the byte-level encodings of the GDB Remote Serial Protocol, shared by the
 * connection, the packet parser and the reply builders: checksums, hex, binary escapes
 * ('}' x^0x20), run-length encoding ('*'), and gdb's own signal numbering. Pure functions,
 * no state; every decoder is bounded by its input length and never trusts a NUL. */
#ifndef REWIND_RSP_CODEC_H
#define REWIND_RSP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

/* Largest payload accepted from gdb (bytes between '$' and '#', escapes included);
 * advertised as "PacketSize=%x" in the qSupported reply. */
#define RSP_PACKET_SIZE 0x10000

/* Modulo-256 sum of the bytes, as carried after '#'. */
uint8_t rsp_checksum(const void *data, size_t n);

/* Value of one hex digit (either case), or -1. */
int rsp_hex_digit(int c);

/* Append 2*n lowercase hex digits for the bytes. */
void rsp_put_hex(struct sbuf *b, const void *data, size_t n);

/* Decode hexlen hex digits into hexlen/2 bytes at out (out may equal hex: in place).
 * Returns 0, or -EINVAL for an odd length or a non-hex digit (out is then undefined). */
int rsp_hex_decode(const char *hex, size_t hexlen, uint8_t *out);

/* Parse a big-endian hex number of 1..16 digits at s[0..n), stopping at the first
 * non-hex character; *used gets the digits consumed. Returns 0, -EINVAL (no digit) or
 * -ERANGE (more than 64 bits). */
int rsp_parse_hex(const char *s, size_t n, uint64_t *out, size_t *used);

/* True for the bytes that must be escaped in binary data: '#', '$', '}', '*'. */
static inline bool rsp_needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

/* Append binary data escaped for the wire, stopping before the output would pass
 * max_out bytes; returns how many input bytes were consumed (all of them if they fit). */
size_t rsp_put_escaped(struct sbuf *b, const void *data, size_t n, size_t max_out);

/* Undo '}' escapes in place. Returns the decoded length, or -EINVAL if the data ends
 * with a lone '}'. */
long rsp_unescape(uint8_t *buf, size_t n);

/* Run-length encode a reply payload as gdb reads it: runs of four or more identical
 * bytes become "c*N" with N = repeats + 29, never '#' or '$' and at most '}' (as
 * gdbserver does).
 * Appends to out. Expansion with rsp_rle_decode gives back the input exactly. */
void rsp_rle_encode(const void *in, size_t n, struct sbuf *out);

/* Expand '*' run-length encoding. Returns 0, -EINVAL for a '*' with no preceding byte,
 * a missing or out-of-range count, or -EMSGSIZE if the output would pass max_out. */
int rsp_rle_decode(const void *in, size_t n, struct sbuf *out, size_t max_out);

/* gdb numbers signals its own way in the protocol (SIGBUS is 10, SIGUSR1 is 30, ...).
 * rsp_sig_from_host maps a Linux signal number to gdb's (143 "unknown" if none);
 * rsp_sig_to_host maps back, or returns -EINVAL for a number Linux has no signal for.
 * 0 maps to 0 both ways. */
int rsp_sig_from_host(int hostsig);
int rsp_sig_to_host(int gdbsig);

#endif
