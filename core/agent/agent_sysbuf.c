/* The recorder's syscall buffer, in-process (agent_abi.h has the protocol).
 *
 * clock_gettime, gettimeofday, time and read are interposed (the agent comes first
 * in LD_PRELOAD). Unless rewind answered the hello, each goes straight to libc's
 * own. Buffered, a call is made from the gate's untraced `syscall` and logged here:
 * no ptrace stop, about a syscall's cost. A read is tried without blocking
 * (preadv2 RWF_NOWAIT at the file's offset); when it would block, or the file cannot
 * say (a tty), libc's read makes it, trapped as before. A call made while another
 * is being logged (a signal handler) goes to libc too.
 *
 * Semantics kept: results, errno, file offsets. Lost: read() as a cancellation point
 * when it does not block (a pending cancel acts at the next one). Calls libc makes
 * internally (stdio's reads) are not seen here; they stay trapped. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

struct rw_tls {
	struct rwsb_buf *sb;     /* rwsb_page.tls_off points here */
	uint64_t seq;
	uint32_t busy;
};
static __thread struct rw_tls rw_tls __attribute__((tls_model("initial-exec")));
static int rw_on;

static long raw_syscall2(long nr, long a0, long a1)
{
	long ret = nr;
	__asm__ volatile("syscall" : "+a"(ret) : "D"(a0), "S"(a1) : "rcx", "r11", "memory");
	return ret;
}

/* The call through the untraced gate; r12 carries its sequence number for a replay.
 * The gate's `call` would write into the red zone: step below it first. */
static long gate6(long nr, long a0, long a1, long a2, long a3, long a4, long a5, uint64_t seq)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	register uint64_t r12 __asm__("r12") = seq;
	long ret = nr;
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
			 "call *%[gate]\n\t"
			 "lea 128(%%rsp), %%rsp"
			 : "+a"(ret)
			 : "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9), "r"(r12),
			   [gate] "r"((uintptr_t)RWSB_GATE)
			 : "rcx", "r11", "memory", "cc");
	return ret;
}

/* libc's own function (RTLD_NEXT), looked up on first use. */
static void *next_fn(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

static void *p_clock_gettime, *p_gettimeofday, *p_time, *p_read;

__attribute__((constructor)) static void rwsb_init(void)
{
	long first = raw_syscall2(RWSB_NR, RWSB_OP_HELLO, 0);
	if (first < 1)
		return;   /* not recorded by rewind (-ENOSYS), or it wants no buffering */
	void *p = mmap((void *)(uintptr_t)RWSB_PAGE, 0x2000, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)(uintptr_t)RWSB_PAGE) {
		if (p != MAP_FAILED)
			munmap(p, 0x2000);   /* an old kernel took the hint elsewhere */
		return;
	}
	static const unsigned char code[] = { 0x0f, 0x05, 0xc3 };   /* syscall; ret */
	memcpy(p, code, sizeof code);
	if (mprotect(p, 0x1000, PROT_READ | PROT_EXEC) < 0)
		return;
	struct rwsb_page *pg = (struct rwsb_page *)(uintptr_t)RWSB_DATA;
	pg->tls_off = (char *)&rw_tls - (char *)__builtin_thread_pointer();
	pg->magic = RWSB_PAGE_MAGIC;
	rw_tls.seq = (uint64_t)first - 1;
	rw_on = 1;
}

static size_t rec_bytes(unsigned nargs, size_t data1, size_t data2, unsigned npieces)
{
	size_t n = sizeof(struct rwsb_rec) + 8 * nargs;
	if (npieces > 0)
		n += sizeof(struct rwsb_piece) + ((data1 + 7) & ~(size_t)7);
	if (npieces > 1)
		n += sizeof(struct rwsb_piece) + ((data2 + 7) & ~(size_t)7);
	return n;
}

/* Room for a record of at most `need` bytes, or NULL (buffering off for this call).
 * Starts a buffering section: busy until logged_call() commits. */
static struct rwsb_rec *reserve(size_t need)
{
	if (!rw_on || rw_tls.busy)
		return NULL;
	rw_tls.busy = 1;
	struct rwsb_buf *b = rw_tls.sb;
	if (!b) {
		void *m = mmap(NULL, RWSB_BUF_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			rw_tls.busy = 0;
			return NULL;
		}
		b = m;
		b->magic = RWSB_BUF_MAGIC;
		b->self = (uint64_t)(uintptr_t)b;
		b->size = RWSB_BUF_SIZE;
		b->used = 0;
		b->first_seq = rw_tls.seq + 1;
		rw_tls.sb = b;
	}
	if (sizeof *b + b->used + need > b->size) {
		raw_syscall2(RWSB_NR, RWSB_OP_FLUSH, 0);   /* rewind copies them out */
		b->used = 0;
		b->first_seq = rw_tls.seq + 1;
	}
	return (struct rwsb_rec *)((char *)(b + 1) + b->used);
}

static unsigned char *add_piece(unsigned char *at, const void *addr, size_t len)
{
	struct rwsb_piece pc = { .addr = (uint64_t)(uintptr_t)addr, .len = (uint32_t)len };
	memcpy(at, &pc, sizeof pc);
	memcpy(at + sizeof pc, addr, len);
	size_t padded = (len + 7) & ~(size_t)7;
	memset(at + sizeof pc + len, 0, padded - len);
	return at + sizeof pc + padded;
}

/* Make the call through the gate and log it: args, result, and the out-bytes the
 * caller names after the call (outs(ret) fills addr/len pairs). */
struct outs {
	const void *addr[2];
	size_t len[2];
	unsigned n;
};

static long logged_call(struct rwsb_rec *r, long nr, unsigned nargs, const long a[6],
			void (*outs)(long ret, const long a[6], struct outs *o))
{
	uint64_t seq = ++rw_tls.seq;
	long ret = gate6(nr, a[0], a[1], a[2], a[3], a[4], a[5], seq);
	struct outs o = { .n = 0 };
	outs(ret, a, &o);
	r->nr = (uint16_t)nr;
	r->nargs = (uint8_t)nargs;
	r->npieces = (uint8_t)o.n;
	r->ret = ret;
	r->seq = seq;
	for (unsigned i = 0; i < nargs; i++)
		r->args[i] = (uint64_t)a[i];
	unsigned char *at = (unsigned char *)&r->args[nargs];
	for (unsigned i = 0; i < o.n; i++)
		at = add_piece(at, o.addr[i], o.len[i]);
	r->size = (uint32_t)(at - (unsigned char *)r);
	rw_tls.sb->used += r->size;   /* commit: rewind reads up to here */
	rw_tls.busy = 0;
	return ret;
}

static long set_errno(long ret)
{
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static void outs_ts(long ret, const long a[6], struct outs *o)
{
	if (ret == 0 && a[1]) {
		o->addr[o->n] = (const void *)a[1];
		o->len[o->n++] = sizeof(struct timespec);
	}
}

RWAGENT_EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
	struct rwsb_rec *r = reserve(rec_bytes(2, sizeof *ts, 0, 1));
	if (!r) {
		int (*f)(clockid_t, struct timespec *) = next_fn(&p_clock_gettime, "clock_gettime");
		return f ? f(clk, ts) : (int)set_errno(raw_syscall2(SYS_clock_gettime, clk, (long)ts));
	}
	long a[6] = { clk, (long)ts };
	return (int)set_errno(logged_call(r, SYS_clock_gettime, 2, a, outs_ts));
}

static void outs_tv(long ret, const long a[6], struct outs *o)
{
	if (ret != 0)
		return;
	if (a[0]) {
		o->addr[o->n] = (const void *)a[0];
		o->len[o->n++] = sizeof(struct timeval);
	}
	if (a[1]) {
		o->addr[o->n] = (const void *)a[1];
		o->len[o->n++] = sizeof(struct timezone);
	}
}

RWAGENT_EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct rwsb_rec *r = reserve(rec_bytes(2, sizeof *tv, sizeof(struct timezone), 2));
	if (!r) {
		int (*f)(struct timeval *, void *) = next_fn(&p_gettimeofday, "gettimeofday");
		return f ? f(tv, tz) : (int)set_errno(raw_syscall2(SYS_gettimeofday, (long)tv, (long)tz));
	}
	long a[6] = { (long)tv, (long)tz };
	return (int)set_errno(logged_call(r, SYS_gettimeofday, 2, a, outs_tv));
}

static void outs_time(long ret, const long a[6], struct outs *o)
{
	if (ret >= 0 && a[0]) {
		o->addr[o->n] = (const void *)a[0];
		o->len[o->n++] = sizeof(time_t);
	}
}

RWAGENT_EXPORT time_t time(time_t *tp)
{
	struct rwsb_rec *r = reserve(rec_bytes(1, sizeof *tp, 0, 1));
	if (!r) {
		time_t (*f)(time_t *) = next_fn(&p_time, "time");
		return f ? f(tp) : (time_t)set_errno(raw_syscall2(SYS_time, (long)tp, 0));
	}
	long a[6] = { (long)tp };
	return (time_t)set_errno(logged_call(r, SYS_time, 1, a, outs_time));
}

static void outs_read(long ret, const long a[6], struct outs *o)
{
	if (ret > 0) {
		const struct iovec *iov = (const struct iovec *)a[1];
		o->addr[o->n] = iov->iov_base;
		o->len[o->n++] = (size_t)ret;
	}
}

RWAGENT_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t (*f)(int, void *, size_t) = next_fn(&p_read, "read");
	struct rwsb_rec *r = n && n <= RWSB_MAX_DATA ? reserve(rec_bytes(6, n, 0, 1)) : NULL;
	if (r) {
		struct iovec iov = { .iov_base = buf, .iov_len = n };
		long a[6] = { fd, (long)&iov, 1, -1, 0, RWF_NOWAIT };
		long ret = logged_call(r, SYS_preadv2, 6, a, outs_read);
		if (ret >= 0)
			return ret;
		/* Would block, or cannot be asked without blocking: libc's read, trapped. */
	}
	if (f)
		return f(fd, buf, n);
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"((long)SYS_read), "D"((long)fd), "S"(buf),
			 "d"(n) : "rcx", "r11", "memory");
	return set_errno(ret);
}
