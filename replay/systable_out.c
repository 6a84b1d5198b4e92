/* systable_out: which tracee memory a syscall wrote — the table's regular
 * out-parameters, and the family handlers for the irregular ones. */
#include "replay/systable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_SPANS 65536
#define MAX_IOV 1024            /* UIO_MAXIOV: the kernel refuses more */
#define SOCKADDR_MAX 128        /* sizeof(struct sockaddr_storage) */
#define CONTROL_MAX 65536
#define BITMAP_MAX (1u << 20)
#define MSGHDR_SIZE 56
#define MMSGHDR_SIZE 64

struct outctx {
	const uint64_t *args;
	unsigned nargs;
	int64_t ret;
	sc_read_fn rd;
	void *rctx;
	struct sc_spans *out;
};

static int push(struct outctx *c, uint64_t addr, uint64_t len)
{
	if (!addr || !len)
		return 0;
	if (c->out->n >= MAX_SPANS)
		return -E2BIG;
	struct sc_span s = { .addr = addr, .len = len, .arg = -1 };
	for (unsigned i = 0; i < c->nargs; i++)
		if (c->args[i] == addr) {
			s.arg = (int)i;
			break;
		}
	vec_push(c->out, s);
	return 0;
}

static int read_u32(struct outctx *c, uint64_t addr, uint32_t *v)
{
	return c->rd(c->rctx, addr, v, sizeof *v);
}

/* Spread `bytes` over the iovec array at iov (cnt entries), as the kernel fills them. */
static int push_iov(struct outctx *c, uint64_t iov, uint64_t cnt, uint64_t bytes)
{
	if (!iov || !bytes)
		return 0;
	if (cnt > MAX_IOV)
		cnt = MAX_IOV;
	struct { uint64_t base, len; } *v = xmalloc(cnt * sizeof *v + 1);
	int e = c->rd(c->rctx, iov, v, cnt * sizeof *v);
	for (uint64_t i = 0; !e && i < cnt && bytes; i++) {
		uint64_t take = MIN(v[i].len, bytes);
		e = push(c, v[i].base, take);
		bytes -= take;
	}
	free(v);
	return e;
}

static int regular(struct outctx *c, const struct sc_out *o)
{
	uint64_t addr = c->args[o->arg], a = o->how == SZ_FIXED ? 0 : c->args[o->sarg];
	uint64_t len = 0;
	uint32_t u;
	if (c->ret < 0 && !(o->flags & SO_ERR))
		return 0;
	switch (o->how) {
	case SZ_FIXED:
		len = o->n;
		break;
	case SZ_RET:
		len = c->ret > 0 ? (uint64_t)c->ret * o->n : 0;
		break;
	case SZ_ARG:
		len = a * o->n;
		break;
	case SZ_PTR:
		if (!a || !addr || read_u32(c, a, &u) < 0)
			return 0;
		len = MIN(u, o->n);
		break;
	case SZ_BITS:
		len = MIN((a + 63) / 64 * 8, BITMAP_MAX);
		break;
	case SZ_PAGES:
		len = (a + 4095) / 4096;
		break;
	case SZ_IOV:
		return push_iov(c, addr, a, c->ret > 0 ? (uint64_t)c->ret : 0);
	}
	return push(c, addr, len);
}

/* ioctl: _IOC_READ-encoded requests say their size; old tty (0x54xx) and socket
 * (0x89xx) requests predate the encoding and are listed. */
static int ioctl_out_size(uint32_t req, uint64_t *size)
{
	static const struct { uint32_t req, size; } legacy[] = {
		{ 0x5401, 36 }, { 0x5402, 0 }, { 0x5403, 0 }, { 0x5404, 0 },  /* TCGETS, TCSETS* */
		{ 0x5405, 18 }, { 0x5406, 0 }, { 0x5407, 0 }, { 0x5408, 0 },  /* TCGETA, TCSETA* */
		{ 0x5409, 0 }, { 0x540a, 0 }, { 0x540b, 0 }, { 0x540c, 0 },   /* TCSBRK .. TIOCEXCL */
		{ 0x540d, 0 }, { 0x540e, 0 }, { 0x540f, 4 }, { 0x5410, 0 },   /* .. TIOCGPGRP, TIOCSPGRP */
		{ 0x5411, 4 }, { 0x5412, 0 }, { 0x5413, 8 }, { 0x5414, 0 },   /* TIOCOUTQ .. TIOCSWINSZ */
		{ 0x5415, 4 }, { 0x5416, 0 }, { 0x5417, 0 }, { 0x5418, 0 },   /* TIOCMGET .. TIOCMSET */
		{ 0x5419, 4 }, { 0x541a, 0 }, { 0x541b, 4 }, { 0x541d, 0 },   /* SOFTCAR, FIONREAD, CONS */
		{ 0x5420, 0 }, { 0x5421, 0 }, { 0x5422, 0 }, { 0x5423, 0 },   /* TIOCPKT, FIONBIO .. */
		{ 0x5424, 4 }, { 0x5425, 0 }, { 0x5427, 0 }, { 0x5428, 0 },   /* TIOCGETD .. TIOCCBRK */
		{ 0x5429, 4 }, { 0x5437, 0 }, { 0x5441, 0 }, { 0x5450, 0 },   /* TIOCGSID .. FIONCLEX */
		{ 0x5451, 0 }, { 0x5452, 0 }, { 0x5456, 36 }, { 0x5457, 0 },  /* FIOCLEX .. LCKTRMIOS */
		{ 0x5460, 8 },                                                /* FIOQSIZE */
		{ 0x8901, 0 }, { 0x8902, 0 }, { 0x8903, 4 }, { 0x8904, 4 },   /* FIOSETOWN .. SIOCGPGRP */
		{ 0x8905, 4 }, { 0x8906, 16 }, { 0x8907, 16 },                /* ATMARK, GSTAMP(NS) */
		{ 0x8910, 40 }, { 0x8913, 40 }, { 0x8914, 0 }, { 0x8915, 40 }, /* struct ifreq gets */
		{ 0x8917, 40 }, { 0x8919, 40 }, { 0x891b, 40 }, { 0x891d, 40 },
		{ 0x891f, 40 }, { 0x8921, 40 }, { 0x8927, 40 }, { 0x8933, 40 },
		{ 0x8942, 40 },
	};
	unsigned dir = req >> 30, type = (req >> 8) & 0xff, sz = (req >> 16) & 0x3fff;
	if (dir == 0 && (type == 0x54 || type == 0x89)) {
		for (size_t i = 0; i < ARRAY_SIZE(legacy); i++)
			if (legacy[i].req == req) {
				*size = legacy[i].size;
				return 0;
			}
		return -ENOTSUP;
	}
	*size = (dir & 2) ? sz : 0;   /* _IOC_READ: the kernel writes sz bytes */
	return 0;
}

static int fam_ioctl(struct outctx *c)
{
	uint64_t size;
	if (c->ret < 0)
		return 0;
	int e = ioctl_out_size((uint32_t)c->args[1], &size);
	return e ? e : push(c, c->args[2], size);
}

static int fam_fcntl(struct outctx *c)
{
	if (c->ret < 0)
		return 0;
	switch (c->args[1]) {
	case 5:    /* F_GETLK */
	case 36:   /* F_OFD_GETLK */
		return push(c, c->args[2], 32);
	case 16:   /* F_GETOWN_EX */
	case 1035: /* F_GET_RW_HINT */
	case 1037: /* F_GET_FILE_RW_HINT */
		return push(c, c->args[2], 8);
	}
	return 0;
}

/* PI operations update the futex word; WAKE_OP and the requeue-PI pair write uaddr2. */
static int fam_futex(struct outctx *c)
{
	switch (c->args[1] & ~(uint64_t)(128 | 256)) {   /* FUTEX_PRIVATE_FLAG, CLOCK_REALTIME */
	case 6: case 7: case 8: case 13:   /* LOCK_PI, UNLOCK_PI, TRYLOCK_PI, LOCK_PI2 */
		return push(c, c->args[0], 4);
	case 5:                            /* WAKE_OP */
		return push(c, c->args[4], 4);
	case 11: case 12: {                /* WAIT_REQUEUE_PI, CMP_REQUEUE_PI */
		int e = push(c, c->args[0], 4);
		return e ? e : push(c, c->args[4], 4);
	}
	}
	return 0;
}

static int fam_prctl(struct outctx *c)
{
	if (c->ret < 0)
		return 0;
	switch (c->args[0]) {
	case 2: case 5: case 9: case 11: case 19: case 25: case 37:
		/* PDEATHSIG, UNALIGN, FPEMU, FPEXC, ENDIAN, TSC, CHILD_SUBREAPER: an int */
		return push(c, c->args[1], 4);
	case 16:          /* PR_GET_NAME */
		return push(c, c->args[1], 16);
	case 40:          /* PR_GET_TID_ADDRESS */
		return push(c, c->args[1], 8);
	case 0x41555856:  /* PR_GET_AUXV: min(size, result) bytes */
		return push(c, c->args[1], MIN(c->args[2], (uint64_t)c->ret));
	}
	return 0;
}

/* One received message: header fields the kernel updates, name, data, control. */
static int one_msghdr(struct outctx *c, uint64_t hdr, uint64_t hdrlen, uint64_t bytes)
{
	struct {
		uint64_t name;
		uint32_t namelen, pad;
		uint64_t iov, iovlen, control, controllen;
		int32_t flags, pad2;
	} m;
	int e = push(c, hdr, hdrlen);
	if (!e)
		e = c->rd(c->rctx, hdr, &m, sizeof m);
	if (!e)
		e = push(c, m.name, MIN(m.namelen, SOCKADDR_MAX));
	if (!e)
		e = push_iov(c, m.iov, m.iovlen, bytes);
	if (!e)
		e = push(c, m.control, MIN(m.controllen, CONTROL_MAX));
	return e;
}

static int fam_msghdr(struct outctx *c)
{
	if (c->ret < 0)
		return 0;
	return one_msghdr(c, c->args[1], MSGHDR_SIZE, (uint64_t)c->ret);
}

static int fam_mmsghdr(struct outctx *c, bool recv)
{
	if (c->ret <= 0)
		return 0;
	uint64_t n = MIN((uint64_t)c->ret, MIN(c->args[2], MAX_IOV));
	int e = 0;
	for (uint64_t i = 0; !e && i < n; i++) {
		uint64_t ent = c->args[1] + i * MMSGHDR_SIZE;
		uint32_t len;
		if (!recv) {
			e = push(c, ent + MSGHDR_SIZE, 4);   /* msg_len */
			continue;
		}
		e = read_u32(c, ent + MSGHDR_SIZE, &len);
		if (!e)
			e = one_msghdr(c, ent, MMSGHDR_SIZE, len);
	}
	if (!e && recv)
		e = push(c, c->args[4], 16);            /* remaining timeout */
	return e;
}

static int fam_ipcctl(struct outctx *c, long nr)
{
	if (c->ret < 0)
		return 0;
	uint64_t cmd, buf, size = 0;
	if (nr == 66) {                     /* semctl(id, num, cmd, arg) */
		cmd = c->args[2] & ~0x100ull;   /* IPC_64 */
		buf = c->args[3];
		if (cmd == 2 || cmd == 18 || cmd == 20)          /* IPC_STAT, SEM_STAT(_ANY) */
			size = 104;
		else if (cmd == 3 || cmd == 19)                  /* IPC_INFO, SEM_INFO */
			size = 40;
		else if (cmd == 13)                              /* GETALL: nsems unknown here */
			return -ENOTSUP;
	} else {
		cmd = c->args[1] & ~0x100ull;
		buf = c->args[2];
		if (nr == 31) {             /* shmctl */
			if (cmd == 2 || cmd == 13 || cmd == 15)  /* IPC_STAT, SHM_STAT(_ANY) */
				size = 112;
			else if (cmd == 3)                       /* IPC_INFO: struct shminfo64 */
				size = 72;
			else if (cmd == 14)                      /* SHM_INFO */
				size = 48;
		} else {                    /* msgctl */
			if (cmd == 2 || cmd == 11 || cmd == 13)  /* IPC_STAT, MSG_STAT(_ANY) */
				size = 120;
			else if (cmd == 3 || cmd == 12)          /* IPC_INFO, MSG_INFO */
				size = 32;
		}
	}
	return push(c, buf, size);
}

static int fam_capget(struct outctx *c)
{
	uint32_t version;
	int e = push(c, c->args[0], 8);   /* the kernel writes its version on -EINVAL */
	if (e || c->ret < 0 || !c->args[0] || !c->args[1])
		return e;
	e = read_u32(c, c->args[0], &version);
	if (e)
		return e;
	return push(c, c->args[1], version == 0x19980330 ? 12 : 24);
}

static int fam_fhandle(struct outctx *c)
{
	uint32_t bytes;
	if (c->ret != 0 && c->ret != -EOVERFLOW)
		return 0;
	if (!c->args[2])
		return 0;
	int e = read_u32(c, c->args[2], &bytes);
	if (!e)
		e = push(c, c->args[2], 8 + (uint64_t)MIN(bytes, 128u));
	if (!e && c->ret == 0)   /* AT_HANDLE_MNT_ID_UNIQUE (1) makes the mount id 64-bit */
		e = push(c, c->args[3], (c->args[4] & 1) ? 8 : 4);
	return e;
}

static int fam_xattrargs(struct outctx *c)
{
	struct { uint64_t value; uint32_t size, flags; } xa;
	if (c->ret <= 0 || !c->args[4])
		return 0;
	int e = c->rd(c->rctx, c->args[4], &xa, sizeof xa);
	return e ? e : push(c, xa.value, (uint64_t)c->ret);
}

int sc_outs(long nr, const uint64_t args[6], int64_t ret, sc_read_fn rd, void *ctx,
	    struct sc_spans *out)
{
	const struct sc_entry *e = sc_get(nr);
	if (!e)
		return 0;
	struct outctx c = { .args = args, .nargs = e->nargs, .ret = ret, .rd = rd,
			    .rctx = ctx, .out = out };
	for (int i = 0; i < SC_MAX_OUT && e->out[i].how != SZ_NONE; i++) {
		int err = regular(&c, &e->out[i]);
		if (err)
			return err;
	}
	switch ((enum sc_family)e->fam) {
	case SCH_NONE:      return 0;
	case SCH_IOCTL:     return fam_ioctl(&c);
	case SCH_FCNTL:     return fam_fcntl(&c);
	case SCH_FUTEX:     return fam_futex(&c);
	case SCH_PRCTL:     return fam_prctl(&c);
	case SCH_MSGHDR:    return fam_msghdr(&c);
	case SCH_MMSGHDR:   return fam_mmsghdr(&c, nr == 299);
	case SCH_MSGRCV:    return ret >= 0 ? push(&c, args[1], 8 + (uint64_t)ret) : 0;
	case SCH_IPCCTL:    return fam_ipcctl(&c, nr);
	case SCH_CAPGET:    return fam_capget(&c);
	case SCH_FHANDLE:   return fam_fhandle(&c);
	case SCH_XATTRARGS: return fam_xattrargs(&c);
	case SCH_RESTART:   /* the caller knows which call was interrupted: use its entry */
	case SCH__COUNT:    return -ENOTSUP;
	}
	return -ENOTSUP;
}
