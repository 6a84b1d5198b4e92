/* sysbuf_fmt: parsing the agent's buffer records (a tracee's memory or a trace's
 * SYSBUF event: untrusted either way). */
#include "replay/sysbuf.h"

#include <errno.h>
#include <string.h>

#include "core/agent/agent_abi.h"

int sb_parse(const uint8_t *buf, size_t len, size_t *off, struct sb_call *c)
{
	size_t at = *off;
	if (at >= len)
		return 0;
	struct rwsb_rec r;
	if (len - at < sizeof r)
		return -EINVAL;
	memcpy(&r, buf + at, sizeof r);
	if (r.size % 8 || r.size < sizeof r || r.size > len - at || r.nargs > 6 || r.npieces > 2)
		return -EINVAL;
	size_t p = at + sizeof r, end = at + r.size;
	if ((size_t)r.nargs * 8 > end - p)
		return -EINVAL;
	memset(c, 0, sizeof *c);
	c->seq = r.seq;
	c->nr = r.nr;
	c->nargs = r.nargs;
	c->ret = r.ret;
	memcpy(c->args, buf + p, (size_t)r.nargs * 8);
	p += (size_t)r.nargs * 8;
	for (unsigned i = 0; i < r.npieces; i++) {
		struct rwsb_piece pc;
		if (end - p < sizeof pc)
			return -EINVAL;
		memcpy(&pc, buf + p, sizeof pc);
		p += sizeof pc;
		size_t padded = ((size_t)pc.len + 7) & ~(size_t)7;
		if (padded > end - p)
			return -EINVAL;
		c->pieces[i] = (struct trace_piece){ .arg = -1, .addr = pc.addr, .len = pc.len,
						     .data = buf + p };
		p += padded;
	}
	if (p != end)
		return -EINVAL;
	c->npieces = r.npieces;
	*off = end;
	return 1;
}

void sb_call_as_syscall(const struct sb_call *c, struct trace_syscall *out)
{
	*out = (struct trace_syscall){ .nr = c->nr, .ret = c->ret, .pieces = c->pieces,
				       .npieces = c->npieces };
	memcpy(out->args, c->args, sizeof out->args);
}

const char *sb_check(const uint8_t *blob, size_t len, uint64_t first, uint32_t count)
{
	size_t off = 0;
	struct sb_call c;
	for (uint32_t i = 0; i < count; i++) {
		int r = sb_parse(blob, len, &off, &c);
		if (r < 0)
			return "malformed buffered call";
		if (r == 0)
			return "fewer buffered calls than the record says";
		if (c.seq != first + i)
			return "buffered calls out of sequence";
	}
	return off == len ? NULL : "bytes after the buffered calls";
}
