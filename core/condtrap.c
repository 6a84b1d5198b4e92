/* condtrap: a breakpoint that tests its condition inside the tracee (condtrap.h).
 *
 * The page (code, then data 4 KiB on) at P:
 *   save rdx, rax, the status flags (lahf; seto al) to the data page;
 *   rax = condtrap_key(registers) computed with rdx as scratch;
 *   rdx = key == wanted ? &HIT : &DISP, kept in the data page;
 *   restore flags, rax, rdx; jmp [kept];
 * HIT:  int3
 * DISP: the displaced instructions, relocated; jmp addr+len
 * The stack is never touched: a position's hash reads the stack's top, and what lies
 * below the stack pointer must stay what the recording left there. */
#include "core/condtrap.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "core/disasm.h"
#include "core/inject.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/target.h"
#include "core/util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CT_PAGE 4096u
#define CT_MAX_INSN 5
#define CT_MAX_FN (256u << 10)   /* larger functions are not scanned for targets */

/* The data page: saved registers, then what the code reads. */
enum { D_RAX = 0, D_RDX = 8, D_FL = 16, D_JMP = 24, D_MAGIC = 32, D_KEY = 40, D_HIT = 48,
       D_DISP = 56 };
static const char magic[8] = "RWCTRAP1";

/* One odd constant per register, in the order the code adds them. */
enum { K_FL, K_RAX, K_RDX, K_RBX, K_RCX, K_RSI, K_RDI, K_RBP, K_RSP, K_R8, K_R9, K_R10,
       K_R11, K_R12, K_R13, K_R14, K_R15, K_N };
static const uint32_t kc[K_N] = {
	0x2545f491, 0x61c88647, 0x3c6ef373, 0x1b873593, 0x5bd1e995, 0x27d4eb2f, 0x165667b1,
	0x7feb352d, 0x68e31da5, 0x4cf5ad43, 0x2127599b, 0x0b4b82e9, 0x734ba08b, 0x3a8d5e61,
	0x52dce729, 0x6c8e9cf5, 0x1e35a7bd,
};
#define R11_MASK (~(uint64_t)0x10100)   /* RF and TF: the debugger's, in r11 after syscalls */

struct condtrap {
	bool armed, in;
	pid_t owner;
	uint64_t bad_addr;              /* no condtrap can go there (or its check faulted) */
	uint64_t addr, key, page;
	unsigned len;                   /* bytes the jump replaces */
	uint8_t orig[16];
	unsigned n;                     /* displaced instructions */
	uint64_t orig_at[CT_MAX_INSN];
	uint16_t tramp_at[CT_MAX_INSN];
	uint16_t back;                  /* the jump back */
	/* Where the code's steps end: registers are in the data page from a_* on,
	 * back in place after r_* (offsets of the instruction that restores them). */
	uint16_t a_rdx, a_rax, a_fl, r_sahf, r_rax, r_rdx, hit, disp;
};

/* The stack's top 8-byte word i is multiplied by this. */
static uint32_t kstack(unsigned i)
{
	return ((0x9e3779b1u * (i + 1)) & 0x7fffffffu) | 1;
}

uint64_t condtrap_key(const struct user_regs_struct *r, const uint64_t top[CONDTRAP_TOP])
{
	uint64_t fl = ((r->eflags & 0xff) << 8) | ((r->eflags >> 11) & 1);   /* lahf; seto al */
	const uint64_t v[K_N] = {
		fl, r->rax, r->rdx, r->rbx, r->rcx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8, r->r9,
		r->r10, r->r11 & R11_MASK, r->r12, r->r13, r->r14, r->r15,
	};
	uint64_t k = 0;
	for (int i = 0; i < K_N; i++)
		k += v[i] * (uint64_t)kc[i];
	for (unsigned i = 0; i < CONDTRAP_TOP; i++)
		k += top[i] * (uint64_t)kstack(i);
	return k;
}

/* ---- the code ---- */

struct cbuf {
	uint8_t b[CT_PAGE];
	size_t n;
	uint64_t at;   /* the page's address in the tracee */
	bool bad;
};

static void put(struct cbuf *c, const void *p, size_t n)
{
	if (c->n + n > sizeof c->b) {
		c->bad = true;
		return;
	}
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void put32(struct cbuf *c, uint32_t v)
{
	put(c, &v, 4);
}

/* op, a rip-relative disp32 to data offset d, then immlen bytes of imm. */
static void put_data(struct cbuf *c, const char *op, size_t oplen, unsigned d, uint32_t imm,
		     size_t immlen)
{
	put(c, op, oplen);
	int64_t rel = (int64_t)(c->at + CT_PAGE + d) - (int64_t)(c->at + c->n + 4 + immlen);
	put32(c, (uint32_t)rel);
	if (immlen)
		put32(c, imm);
}

static void imul_rdx(struct cbuf *c, int reg, uint32_t k)   /* imul rdx, reg, k */
{
	uint8_t op[3] = { (uint8_t)(0x48 | (reg >= 8)), 0x69, (uint8_t)(0xd0 | (reg & 7)) };
	put(c, op, 3);
	put32(c, k);
}

static void add_rax_rdx(struct cbuf *c)
{
	put(c, "\x48\x01\xd0", 3);
}

/* The check, up to the displaced instructions. */
static void emit_check(struct cbuf *c, struct condtrap *ct)
{
	put_data(c, "\x48\x89\x15", 3, D_RDX, 0, 0);          /* mov [rdx_save], rdx */
	ct->a_rdx = (uint16_t)c->n;
	put_data(c, "\x48\x89\x05", 3, D_RAX, 0, 0);          /* mov [rax_save], rax */
	ct->a_rax = (uint16_t)c->n;
	put(c, "\x9f\x0f\x90\xc0", 4);                         /* lahf; seto al */
	put_data(c, "\x66\x89\x05", 3, D_FL, 0, 0);           /* mov [fl_save], ax */
	ct->a_fl = (uint16_t)c->n;
	put_data(c, "\x0f\xb7\x15", 3, D_FL, 0, 0);           /* movzx edx, word [fl_save] */
	put(c, "\x48\x69\xc2", 3);                             /* imul rax, rdx, k */
	put32(c, kc[K_FL]);
	put_data(c, "\x48\x69\x15", 3, D_RAX, kc[K_RAX], 4);  /* imul rdx, [rax_save], k */
	add_rax_rdx(c);
	put_data(c, "\x48\x69\x15", 3, D_RDX, kc[K_RDX], 4);
	add_rax_rdx(c);
	static const struct { int reg, k; } regs[] = {
		{ 3, K_RBX }, { 1, K_RCX }, { 6, K_RSI }, { 7, K_RDI }, { 5, K_RBP }, { 4, K_RSP },
		{ 8, K_R8 }, { 9, K_R9 }, { 10, K_R10 }, { 12, K_R12 }, { 13, K_R13 },
		{ 14, K_R14 }, { 15, K_R15 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
		imul_rdx(c, regs[i].reg, kc[regs[i].k]);
		add_rax_rdx(c);
	}
	put(c, "\x4c\x89\xda\x48\x81\xe2", 6);                 /* mov rdx, r11; and rdx, m */
	put32(c, (uint32_t)R11_MASK);
	imul_rdx(c, 2, kc[K_R11]);
	add_rax_rdx(c);
	for (unsigned i = 0; i < CONDTRAP_TOP; i++) {
		put(c, "\x48\x69\x94\x24", 4);                 /* imul rdx, [rsp+8i], k */
		put32(c, 8 * i);
		put32(c, kstack(i));
		add_rax_rdx(c);
	}
	put_data(c, "\x48\x8b\x15", 3, D_DISP, 0, 0);         /* mov rdx, [&DISP] */
	put_data(c, "\x48\x3b\x05", 3, D_KEY, 0, 0);          /* cmp rax, [key] */
	put_data(c, "\x48\x0f\x44\x15", 4, D_HIT, 0, 0);      /* cmove rdx, [&HIT] */
	put_data(c, "\x48\x89\x15", 3, D_JMP, 0, 0);          /* mov [jmp], rdx */
	put_data(c, "\x66\x8b\x05", 3, D_FL, 0, 0);           /* mov ax, [fl_save] */
	put(c, "\x04\x7f", 2);                                 /* add al, 0x7f: OF */
	ct->r_sahf = (uint16_t)c->n;
	put(c, "\x9e", 1);                                     /* sahf */
	ct->r_rax = (uint16_t)c->n;
	put_data(c, "\x48\x8b\x05", 3, D_RAX, 0, 0);          /* mov rax, [rax_save] */
	ct->r_rdx = (uint16_t)c->n;
	put_data(c, "\x48\x8b\x15", 3, D_RDX, 0, 0);          /* mov rdx, [rdx_save] */
	put_data(c, "\xff\x25", 2, D_JMP, 0, 0);              /* jmp [jmp] */
	ct->hit = (uint16_t)c->n;
	put(c, "\xcc", 1);
	ct->disp = (uint16_t)c->n;
}

static bool rel32_ok(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* Put one displaced instruction, relocated. -ENOTSUP if it cannot move. */
static int emit_moved(struct cbuf *c, const struct insn *in)
{
	uint64_t now = c->at + c->n;
	const uint8_t *b = in->bytes;
	switch (in->kind) {
	case IK_CALL: case IK_SYSCALL: case IK_INT3: case IK_RDTSC: case IK_RDTSCP:
	case IK_CPUID: case IK_HLT:
		return -ENOTSUP;
	case IK_JCC: {
		uint8_t cc;
		if (b[0] >= 0x70 && b[0] <= 0x7f && in->len == 2)
			cc = b[0] - 0x70;
		else if (b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f && in->len == 6)
			cc = b[1] - 0x80;
		else
			return -ENOTSUP;   /* loop, jrcxz, prefixed forms */
		int64_t rel = (int64_t)in->target - (int64_t)(now + 6);
		if (!in->target || !rel32_ok(rel))
			return -ENOTSUP;
		uint8_t op[2] = { 0x0f, (uint8_t)(0x80 + cc) };
		put(c, op, 2);
		put32(c, (uint32_t)rel);
		return 0;
	}
	case IK_JMP:
		if (in->target) {
			if (b[0] != 0xe9 && b[0] != 0xeb)
				return -ENOTSUP;
			int64_t rel = (int64_t)in->target - (int64_t)(now + 5);
			if (!rel32_ok(rel))
				return -ENOTSUP;
			put(c, "\xe9", 1);
			put32(c, (uint32_t)rel);
			return 0;
		}
		break;   /* indirect: moves as it is (below) */
	default:
		break;
	}
	uint8_t copy[16];
	memcpy(copy, b, in->len);
	if (in->rip_relative) {
		if (!in->disp_off || in->disp_off + 4u > in->len)
			return -ENOTSUP;
		int64_t d = in->rip_disp + (int64_t)in->addr - (int64_t)now;
		if (!rel32_ok(d))
			return -ENOTSUP;
		int32_t d32 = (int32_t)d;
		memcpy(copy + in->disp_off, &d32, 4);
	}
	put(c, copy, in->len);
	return 0;
}

/* ---- placing it ---- */

/* No direct branch of lo..hi (a part of the function) lands inside the patch but at
 * its start, and no indirect jump could (a jump table). */
static int no_entry_from(struct proc *p, uint64_t addr, unsigned len, uint64_t lo, uint64_t hi)
{
	if (hi <= lo || hi - lo > CT_MAX_FN) {
		pr_debug(LM_CORE, "condtrap at %#" PRIx64 ": function part %#" PRIx64 "..%#" PRIx64
			 " too big", addr, lo, hi);
		return -ENOTSUP;
	}
	uint8_t *code = xmalloc(hi - lo + 16);
	memset(code + (hi - lo), 0, 16);
	int e = proc_read(p, RADDR(lo), code, hi - lo);
	for (uint64_t at = lo; e == 0 && at < hi;) {
		struct insn in;
		if (disasm_one(code + (at - lo), hi - at, at, &in) < 0) {
			pr_debug(LM_CORE, "condtrap at %#" PRIx64 ": no instruction at %#" PRIx64
				 " of %#" PRIx64 "..%#" PRIx64, addr, at, lo, hi);
			e = -ENOTSUP;   /* data among the code: cannot tell */
			break;
		}
		bool direct = in.kind == IK_JMP || in.kind == IK_JCC || in.kind == IK_CALL;
		if ((direct && in.target > addr && in.target < addr + len) ||
		    (in.kind == IK_JMP && !in.target)) {
			pr_debug(LM_CORE, "condtrap at %#" PRIx64 ": %s at %#" PRIx64 " may jump inside",
				 addr, in.mnemonic, at);
			e = -ENOTSUP;
		}
		at += in.len;
	}
	free(code);
	return e;
}

/* Decode what the jump would replace into ct (len, n, orig). */
static int take_insns(struct proc *p, struct condtrap *ct, struct insn ins[CT_MAX_INSN])
{
	uint8_t code[32];
	if (proc_read(p, RADDR(ct->addr), code, sizeof code) < 0)
		return -EIO;
	unsigned len = 0, n = 0;
	while (len < 5) {
		if (n == CT_MAX_INSN || disasm_one(code + len, sizeof code - len, ct->addr + len,
						   &ins[n]) < 0)
			return -ENOTSUP;
		if (n == 0 && ins[0].rep_string)
			return -ENOTSUP;   /* a position inside it is a count of iterations */
		len += ins[n++].len;
	}
	ct->len = len;
	ct->n = n;
	memcpy(ct->orig, code, len);
	return 0;
}

/* A breakpoint inside addr..addr+len (the jump would cover an int3, or code run from
 * the trampoline would not meet a debug register). */
static bool covers_bp(const struct proc *p, uint64_t addr, unsigned len)
{
	for (size_t i = 0; i < p->sites.n; i++)
		if (p->sites.v[i].addr >= addr && p->sites.v[i].addr < addr + len)
			return true;
	for (int i = 0; i < 4; i++)
		if (p->hw[i].used && p->hw[i].kind == HW_EXEC && p->hw[i].addr > addr &&
		    p->hw[i].addr < addr + len)
			return true;
	return false;
}

/* A signal handler of t's would return inside the patch: its frame, on the stack
 * above rsp, holds one of the displaced instructions' addresses but the first (a
 * return address cannot: no call is displaced). Read up to CT_FRAMES bytes. A
 * handler on an alternate stack is not seen. */
#define CT_FRAMES (64u << 10)
static bool frame_returns_inside(struct task *t, const struct condtrap *ct)
{
	if (ct->n < 2)
		return false;
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return true;
	uint64_t buf[512], at = r->rsp & ~(uint64_t)7, end = at + CT_FRAMES;
	for (size_t n; at < end; at += n) {
		n = 4096 - (at & 4095);   /* page by page: the stack's end is a page's */
		if (proc_read_raw(t->proc, RADDR(at), buf, n) < 0)
			return false;
		for (size_t k = 0; k < n / 8; k++)
			for (unsigned i = 1; i < ct->n; i++)
				if (buf[k] == ct->orig_at[i])
					return true;
	}
	return false;
}

/* No other thread of p's runs (it could meet the jump, or share the trampoline's
 * saved registers; one standing inside the patch is fine: the jump is out whenever
 * the owner is stopped), no breakpoint is inside addr..addr+len, no handler of the
 * owner's returns inside. */
static int patch_free(struct task *owner, const struct condtrap *ct)
{
	struct proc *p = owner->proc;
	for (struct task *o = p->tasks; o; o = o->next)
		if (o != owner && o->state == TS_RUNNING)
			return -EBUSY;
	return covers_bp(p, ct->addr, ct->len) || frame_returns_inside(owner, ct) ? -ENOTSUP : 0;
}

/* A page for addr's trampoline: one left by an earlier search (this process or the
 * one it was restored from), else a new one, within a jump's reach. 0 if none. */
static uint64_t find_page(struct target *tg, struct task *t, uint64_t addr)
{
	static const int64_t up[] = { 0x40000000, 0x50000000, 0x60000000, 0x30000000 };
	static const int64_t down[] = { -0x70000000, -0x60000000, -0x50000000, -0x40000000 };
	const int64_t *off = addr >= (1ull << 32) ? down : up;
	uint64_t base = addr & ~(uint64_t)(CT_PAGE - 1);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 4; i++) {
			uint64_t at = base + (uint64_t)off[i];
			char m[8];
			if (pass == 0) {
				if (proc_read_raw(t->proc, RADDR(at + CT_PAGE + D_MAGIC), m, 8) == 0 &&
				    !memcmp(m, magic, 8))
					return at;
				continue;
			}
			int64_t r;
			if (inject_syscall6(tg, t, 9, &r, at, 2 * CT_PAGE,
					    PROT_READ | PROT_WRITE | PROT_EXEC,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					    (uint64_t)-1, 0) < 0)
				return 0;   /* not now (inside a call): the caller traps per hit */
			if ((uint64_t)r == at) {
				proc_write_raw(t->proc, RADDR(at + CT_PAGE + D_MAGIC), magic, 8);
				return at;
			}
			if (r > 0)   /* an old kernel took it as a hint */
				inject_syscall6(tg, t, 11, &r, (uint64_t)r, 2 * CT_PAGE, 0, 0, 0, 0);
		}
	return 0;
}

static int no_entry_inside(struct proc *p, uint64_t addr, unsigned len,
			   const uint64_t (*parts)[2], int nparts)
{
	bool within = false;
	for (int i = 0; i < nparts; i++)
		within |= addr >= parts[i][0] && addr + len <= parts[i][1];
	if (!within) {
		pr_debug(LM_CORE, "condtrap at %#" PRIx64 ": its function's bounds are unknown, or "
			 "the jump would reach past its end", addr);
		return -ENOTSUP;
	}
	int e = 0;
	for (int i = 0; i < nparts && e == 0; i++)
		e = no_entry_from(p, addr, len, parts[i][0], parts[i][1]);
	return e;
}

static int build(struct target *tg, struct task *t, struct condtrap *ct,
		 const uint64_t (*parts)[2], int nparts)
{
	struct proc *p = t->proc;
	struct insn ins[CT_MAX_INSN];
	int e = take_insns(p, ct, ins);
	if (e == 0 && ct->n > 1)
		e = no_entry_inside(p, ct->addr, ct->len, parts, nparts);
	if (e < 0)
		return e;
	if (!ct->page && !(ct->page = find_page(tg, t, ct->addr)))
		return -ENOMEM;
	struct cbuf *c = xcalloc(1, sizeof *c);
	c->at = ct->page;
	emit_check(c, ct);
	for (unsigned i = 0; i < ct->n && e == 0; i++) {
		ct->orig_at[i] = ins[i].addr;
		ct->tramp_at[i] = (uint16_t)c->n;
		e = emit_moved(c, &ins[i]);
	}
	ct->back = (uint16_t)c->n;
	int64_t rel = (int64_t)(ct->addr + ct->len) - (int64_t)(c->at + c->n + 5);
	if (e == 0 && (!rel32_ok(rel) || !rel32_ok((int64_t)ct->page - (int64_t)(ct->addr + 5))))
		e = -ENOMEM;
	put(c, "\xe9", 1);
	put32(c, (uint32_t)rel);
	if (e == 0 && c->bad)
		e = -ENOTSUP;
	uint64_t data[2] = { ct->page + ct->hit, ct->page + ct->disp };
	if (e == 0)
		e = proc_write_raw(p, RADDR(ct->page), c->b, c->n);
	if (e == 0)
		e = proc_write_raw(p, RADDR(ct->page + CT_PAGE + D_HIT), data, sizeof data);
	free(c);
	return e;
}

int condtrap_arm(struct target *tg, struct task *t, uint64_t addr, uint64_t key,
		 const uint64_t (*parts)[2], int nparts)
{
	struct proc *p = t->proc;
	if (!key)
		return -EINVAL;
	struct condtrap *ct = p->ct;
	if (!ct)
		ct = p->ct = xcalloc(1, sizeof *ct);
	ct->armed = false;
	if (addr == ct->bad_addr)
		return -ENOTSUP;
	int e = 0;
	if (ct->addr != addr || !ct->len) {
		ct->addr = addr;
		ct->len = 0;
		if ((e = build(tg, t, ct, parts, nparts)) < 0) {
			ct->len = 0;
			if (e == -ENOTSUP)
				ct->bad_addr = addr;
			pr_debug(LM_CORE, "tid %d: no condtrap at %#" PRIx64 ": %s", t->tid, addr,
				 strerror(-e));
			return e;
		}
	}
	if ((e = patch_free(t, ct)) < 0 ||
	    (e = proc_write_raw(p, RADDR(ct->page + CT_PAGE + D_KEY), &key, 8)) < 0) {
		pr_debug(LM_CORE, "tid %d: no condtrap at %#" PRIx64 " now: %s", t->tid, addr,
			 strerror(-e));
		return e;
	}
	ct->key = key;
	ct->owner = t->tid;
	ct->armed = true;
	pr_debug(LM_CORE, "tid %d: condtrap at %#" PRIx64 " (%u instructions, page %#" PRIx64 ")",
		 t->tid, addr, ct->n, ct->page);
	return 0;
}

void condtrap_disarm(struct proc *p)
{
	if (p->ct)
		p->ct->armed = false;
}

bool condtrap_armed(struct task *t, uint64_t addr, uint64_t key)
{
	const struct condtrap *ct = t->proc->ct;
	return ct && ct->armed && ct->owner == t->tid && ct->addr == addr && ct->key == key &&
	       patch_free(t, ct) == 0;
}

void condtrap_resume(struct task *t, enum resume_mode m)
{
	struct condtrap *ct = t->proc->ct;
	if (ct && ct->in && ct->owner != t->tid)
		pr_warn(LM_CORE, "tid %d resumed while tid %d runs with a condtrap at %#" PRIx64,
			t->tid, ct->owner, ct->addr);
	if (!ct || !ct->armed || ct->owner != t->tid || m == RESUME_STEP || m == RESUME_LISTEN)
		return;
	if (covers_bp(t->proc, ct->addr, ct->len) || frame_returns_inside(t, ct)) {
		/* A breakpoint inserted, or a handler entered, since it was armed: no
		 * jump (condtrap_armed says no more; its user arms something else). */
		pr_debug(LM_CORE, "tid %d: condtrap at %#" PRIx64 " withdrawn", t->tid, ct->addr);
		ct->armed = false;
		return;
	}
	uint64_t pc = task_pc(t);
	for (unsigned i = 1; i < ct->n; i++)
		if (pc == ct->orig_at[i]) {   /* stopped mid-patch: go on in the trampoline */
			task_set_pc(t, ct->page + ct->tramp_at[i]);
			break;
		}
	if (ct->in)
		return;
	uint8_t jmp[16];
	memset(jmp, 0xcc, sizeof jmp);
	jmp[0] = 0xe9;
	int32_t rel = (int32_t)((int64_t)ct->page - (int64_t)(ct->addr + 5));
	memcpy(jmp + 1, &rel, 4);
	if (proc_write_raw(t->proc, RADDR(ct->addr), jmp, ct->len) == 0)
		ct->in = true;
}

/* t stopped at offset o of the trampoline: put it where it stands in the program. */
static void move_out(struct task *t, struct condtrap *ct, uint64_t o)
{
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return;
	uint64_t d = ct->page + CT_PAGE, v;
	if (o < ct->disp) {   /* in the check: the saved registers are the program's */
		if (o >= ct->a_rdx && o <= ct->r_rdx && proc_read_raw(t->proc, RADDR(d + D_RDX), &v, 8) == 0)
			r->rdx = v;
		if (o >= ct->a_rax && o <= ct->r_rax && proc_read_raw(t->proc, RADDR(d + D_RAX), &v, 8) == 0)
			r->rax = v;
		uint16_t fl;
		if (o >= ct->a_fl && o <= ct->r_sahf && proc_read_raw(t->proc, RADDR(d + D_FL), &fl, 2) == 0)
			r->eflags = (r->eflags & ~(uint64_t)0x8d5) | ((fl >> 8) & 0xd5) |
				    ((uint64_t)(fl & 1) << 11);
		r->rip = ct->addr;
	} else if (o == ct->disp) {
		r->rip = ct->addr;
	} else if (o == ct->back) {
		r->rip = ct->addr + ct->len;
	} else {
		bool known = false;
		for (unsigned i = 0; i < ct->n; i++)
			if (o == ct->tramp_at[i]) {
				r->rip = ct->orig_at[i];
				known = true;
			}
		if (!known)
			pr_warn(LM_CORE, "tid %d: stopped at %#" PRIx64 " in the trampoline of %#"
				PRIx64 ", not at one of its instructions", t->tid, ct->page + o, ct->addr);
	}
	t->regs_dirty = true;
}

bool condtrap_stopped(struct task *t, int status)
{
	struct condtrap *ct = t->proc->ct;
	if (!ct)
		return false;
	if (ct->in && proc_write_raw(t->proc, RADDR(ct->addr), ct->orig, ct->len) == 0)
		ct->in = false;
	uint64_t pc = task_pc(t);
	if (!ct->page || pc < ct->page || pc >= ct->page + CT_PAGE)
		return false;
	siginfo_t si;
	int sig = status >> 16 ? 0 : WSTOPSIG(status);
	bool hit = pc == ct->page + ct->disp && sig == SIGTRAP &&
		   task_get_siginfo(t, &si) == 0 && si.si_code == SI_KERNEL;
	if ((sig == SIGSEGV || sig == SIGBUS) && pc < ct->page + ct->disp) {
		/* The check read past the stack's mapping: ours, not the program's. Told
		 * as a trap (the caller compares there) with the condtrap gone. */
		pr_debug(LM_CORE, "tid %d: the condtrap's check at %#" PRIx64 " faulted", t->tid,
			 ct->addr);
		ct->bad_addr = ct->addr;
		ct->armed = false;
		hit = true;
	}
	move_out(t, ct, pc - ct->page);
	return hit;
}

void condtrap_pass(struct task *t)
{
	struct condtrap *ct = t->proc->ct;
	if (ct && ct->len && task_pc(t) == ct->addr)
		task_set_pc(t, ct->page + ct->disp);
}

bool condtrap_is_page(struct proc *p, uint64_t start, uint64_t end)
{
	char m[8];
	return end - start == 2 * CT_PAGE &&
	       proc_read_raw(p, RADDR(start + CT_PAGE + D_MAGIC), m, 8) == 0 && !memcmp(m, magic, 8);
}

void condtrap_hide(const struct proc *p, uint64_t at, void *buf, size_t len)
{
	const struct condtrap *ct = p->ct;
	if (!ct->in)
		return;
	for (unsigned i = 0; i < ct->len; i++)
		if (ct->addr + i >= at && ct->addr + i < at + len)
			((uint8_t *)buf)[ct->addr + i - at] = ct->orig[i];
}

void condtrap_free(struct proc *p)
{
	free(p->ct);
	p->ct = NULL;
}
