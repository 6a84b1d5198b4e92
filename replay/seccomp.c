/* seccomp: build and install the recorder's BPF filter (see seccomp.h). */
#include "replay/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/inject.h"
#include "core/log.h"
#include "core/util.h"
#include "replay/systable.h"

#define NR_LIMIT 0x40000000u       /* x32 numbers start here (__X32_SYSCALL_BIT) */
#define NR_NEGATIVE 0x80000000u    /* syscall(-1) and friends */
#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define OFF_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI (OFF_IP_LO + 4)
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

struct code {
	struct sock_filter *v;
	size_t n, cap;
};

static void emit(struct code *c, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	struct sock_filter f = { code, jt, jf, k };
	vec_push(c, f);
}

static void append(struct code *c, const struct code *o)
{
	for (size_t i = 0; i < o->n; i++)
		vec_push(c, o->v[i]);
}

enum seg_kind { SEG_ALLOW, SEG_TRACE, SEG_SKIPRULE, SEG_FOREIGN };

/* A run of syscall numbers [start, next segment's start) with one action. */
struct seg {
	uint32_t start;
	enum seg_kind kind;
	const struct seccomp_rule *rule;   /* SEG_TRACE (data) and SEG_SKIPRULE */
	uint16_t data;
};

struct segs {
	struct seg *v;
	size_t n, cap;
};

static void leaf(struct code *c, const struct seg *s, bool trace_foreign)
{
	switch (s->kind) {
	case SEG_ALLOW:
		emit(c, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
		break;
	case SEG_TRACE:
		emit(c, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE | s->data);
		break;
	case SEG_SKIPRULE:
		emit(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_ARG_LO(s->rule->skip_arg));
		emit(c, BPF_ALU | BPF_AND | BPF_K, 0, 0, s->rule->skip_mask);
		emit(c, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, s->rule->skip_value);
		emit(c, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
		emit(c, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE | s->data);
		break;
	case SEG_FOREIGN:
		emit(c, BPF_RET | BPF_K, 0, 0, trace_foreign ?
		     SECCOMP_RET_TRACE | SECCOMP_DATA_FOREIGN : SECCOMP_RET_KILL_PROCESS);
		break;
	}
}

/* A balanced search over segments (A holds the number). Jumps only go forward and
 * jt/jf are 8 bits: a left subtree longer than 255 instructions is jumped over with
 * a 32-bit `ja`. */
static void tree(struct code *c, const struct seg *s, size_t n, bool trace_foreign)
{
	if (n == 1) {
		leaf(c, s, trace_foreign);
		return;
	}
	size_t mid = n / 2;
	struct code l = { 0 }, r = { 0 };
	tree(&l, s, mid, trace_foreign);
	tree(&r, s + mid, n - mid, trace_foreign);
	if (l.n <= 255) {
		emit(c, BPF_JMP | BPF_JGE | BPF_K, (uint8_t)l.n, 0, s[mid].start);
	} else {
		emit(c, BPF_JMP | BPF_JGE | BPF_K, 0, 1, s[mid].start);
		emit(c, BPF_JMP | BPF_JA, 0, 0, (uint32_t)l.n);
	}
	append(c, &l);
	append(c, &r);
	vec_free(&l);
	vec_free(&r);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct seccomp_rule *x = *(const struct seccomp_rule *const *)a;
	const struct seccomp_rule *y = *(const struct seccomp_rule *const *)b;
	return (x->nr > y->nr) - (x->nr < y->nr);
}

static bool same_action(const struct seg *a, const struct seg *b)
{
	return a->kind == b->kind && a->kind != SEG_SKIPRULE &&
	       (a->kind != SEG_TRACE || a->data == b->data);
}

static void add_seg(struct segs *v, struct seg s)
{
	if (v->n && v->v[v->n - 1].start == s.start)
		v->v[v->n - 1] = s;          /* an empty run before s: drop it */
	else if (!v->n || !same_action(&v->v[v->n - 1], &s))
		vec_push(v, s);
}

/* Cover [0, 2^32) with runs: rules, gaps allowed, x32 and negative numbers. */
static int segments(const struct seccomp_opts *o, struct segs *v)
{
	const struct seccomp_rule **sorted = xcalloc(o->nrules, sizeof *sorted);
	for (size_t i = 0; i < o->nrules; i++)
		sorted[i] = &o->rules[i];
	qsort(sorted, o->nrules, sizeof *sorted, cmp_rule);
	int err = 0;
	for (size_t i = 0; i < o->nrules; i++) {
		const struct seccomp_rule *r = sorted[i];
		if (r->nr < 0 || (uint32_t)r->nr >= NR_LIMIT || (i && sorted[i - 1]->nr == r->nr) ||
		    r->skip_arg > 5) {
			pr_err(LM_REPLAY, "seccomp: bad rule for syscall %d", r->nr);
			err = -EINVAL;
			break;
		}
		if (!i || sorted[i - 1]->nr + 1 != r->nr)
			add_seg(v, (struct seg){ .start = i ? (uint32_t)sorted[i - 1]->nr + 1 : 0,
						 .kind = SEG_ALLOW });
		add_seg(v, (struct seg){ .start = (uint32_t)r->nr, .rule = r, .data = r->data,
					 .kind = r->skip_arg >= 0 ? SEG_SKIPRULE : SEG_TRACE });
	}
	if (!err) {
		uint32_t after = o->nrules ? (uint32_t)sorted[o->nrules - 1]->nr + 1 : 0;
		struct seg unknown = { .kind = o->trace_unknown ? SEG_TRACE : SEG_ALLOW,
				       .data = SECCOMP_DATA_UNKNOWN };
		if (after < NR_LIMIT) {
			unknown.start = after;
			add_seg(v, unknown);
		}
		add_seg(v, (struct seg){ .start = NR_LIMIT, .kind = SEG_FOREIGN });
		unknown.start = NR_NEGATIVE;
		add_seg(v, unknown);
	}
	free(sorted);
	return err;
}

size_t seccomp_rules_from_table(struct seccomp_rule *rules)
{
	bool trapped[SC_TABLE_SIZE];
	size_t n = 0;
	sc_trapped_set(trapped);
	for (int nr = 0; nr < SC_TABLE_SIZE; nr++)
		if (trapped[nr] || !sc_get(nr))   /* gaps too: a newer kernel may define them */
			rules[n++] = (struct seccomp_rule){ .nr = nr, .data = (uint16_t)nr,
							    .skip_arg = -1 };
	return n;
}

int seccomp_build(const struct seccomp_opts *o, struct seccomp_prog *out)
{
	struct code c = { 0 };
	struct segs segs = { 0 };
	int err = segments(o, &segs);
	if (err)
		goto out;
	uint64_t lo = o->agent_lo + 2, hi = o->agent_hi + 2;   /* the kernel reports the ip
	                                                         after `syscall` (2 bytes) */
	if (o->agent_hi && (o->agent_hi <= o->agent_lo || (lo >> 32) != ((hi - 1) >> 32))) {
		pr_err(LM_REPLAY, "seccomp: agent range %#llx-%#llx is empty or crosses 4 GiB",
		       (unsigned long long)o->agent_lo, (unsigned long long)o->agent_hi);
		err = -EINVAL;
		goto out;
	}
	/* Architecture: anything but x86-64 (an i386 int $0x80) is foreign. */
	emit(&c, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_ARCH);
	emit(&c, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	struct seg foreign = { .kind = SEG_FOREIGN };
	leaf(&c, &foreign, o->trace_foreign);
	if (o->agent_hi) {
		uint32_t hi_lo32 = (uint32_t)hi;
		emit(&c, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_IP_HI);
		emit(&c, BPF_JMP | BPF_JEQ | BPF_K, 0, hi_lo32 ? 4 : 3, (uint32_t)(lo >> 32));
		emit(&c, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_IP_LO);
		emit(&c, BPF_JMP | BPF_JGE | BPF_K, 0, hi_lo32 ? 2 : 1, (uint32_t)lo);
		if (hi_lo32)   /* hi at a 4 GiB boundary: no upper bound in the low word */
			emit(&c, BPF_JMP | BPF_JGE | BPF_K, 1, 0, hi_lo32);
		emit(&c, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	}
	emit(&c, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)OFF_NR);
	tree(&c, segs.v, segs.n, o->trace_foreign);
	if (c.n > BPF_MAXINSNS) {
		pr_err(LM_REPLAY, "seccomp: filter of %zu instructions exceeds %d", c.n,
		       BPF_MAXINSNS);
		err = -E2BIG;
		goto out;
	}
	out->insns = c.v;
	out->len = c.n;
	c.v = NULL;
out:
	vec_free(&c);
	vec_free(&segs);
	return err;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}

int seccomp_install(const struct seccomp_prog *p)
{
	struct sock_fprog fp = { .len = (unsigned short)p->len, .filter = p->insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fp);
	if (r < 0)
		return -errno;
	return r > 0 ? -EBUSY : 0;   /* TSYNC: thread r could not be synchronised */
}

int seccomp_inject(struct target *tg, struct task *t, const struct seccomp_prog *p)
{
	size_t plen = p->len * sizeof(struct sock_filter);
	int64_t at, x = 0, y;
	int r = inject_syscall6(tg, t, SYS_mmap, &at, 0, plen + 16, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
	if (r < 0)
		return r;
	if (at < 0)
		return (int)at;
	struct { uint16_t len; uint16_t pad[3]; uint64_t filter; } fprog = {
		(uint16_t)p->len, { 0 }, (uint64_t)at + 16 };
	r = proc_write_raw(t->proc, RADDR((uint64_t)at), &fprog, sizeof fprog);
	if (r == 0)
		r = proc_write_raw(t->proc, RADDR((uint64_t)at + 16), p->insns, plen);
	if (r == 0)
		r = inject_syscall6(tg, t, SYS_seccomp, &x, SECCOMP_SET_MODE_FILTER,
				    SECCOMP_FILTER_FLAG_TSYNC, (uint64_t)at, 0, 0, 0);
	if (r == 0 && x == -EACCES) {
		inject_syscall6(tg, t, SYS_prctl, &y, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
		r = inject_syscall6(tg, t, SYS_seccomp, &x, SECCOMP_SET_MODE_FILTER,
				    SECCOMP_FILTER_FLAG_TSYNC, (uint64_t)at, 0, 0, 0);
	}
	inject_syscall6(tg, t, SYS_munmap, &y, (uint64_t)at, plen + 16, 0, 0, 0, 0);
	if (r < 0)
		return r;
	/* TSYNC: a positive result is the thread that could not take the filter. */
	return x > 0 ? -ESRCH : (int)x;
}
