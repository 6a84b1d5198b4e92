/* Unwinding through libdwfl's frame state with our own thread callbacks (memory and
 * initial registers come from a sym_access; libdwfl never attaches), CFA from the
 * modules' CFI, and a frame-pointer fallback once CFI runs out. */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "loc.h"
#include "sym_int.h"
#include "unwind.h"

#define MAX_FRAMES 4096

/* The Dwfl's attached state: which access the callbacks read this time. */
struct uw_state {
	bool attached, attach_failed;
	const struct sym_access *acc;
	uint64_t main_lo, main_hi;      /* gdb's backtrace past-main boundary */
	unsigned main_gen;
	bool main_known;
};

static pid_t uw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	if (*thread_argp)
		return 0;
	*thread_argp = arg;
	return 1;
}

static bool uw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = arg;
	return true;
}

static bool uw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct uw_state *s = arg;
	if (!s->acc)
		return false;
	uint64_t v;
	if (s->acc->read_mem(s->acc->ctx, addr, &v, sizeof v) < 0)
		return false;
	*result = v;
	return true;
}

static void regs_to_dwarf(const struct user_regs_struct *r, uint64_t *d)
{
	d[0] = r->rax; d[1] = r->rdx; d[2] = r->rcx; d[3] = r->rbx;
	d[4] = r->rsi; d[5] = r->rdi; d[6] = r->rbp; d[7] = r->rsp;
	d[8] = r->r8; d[9] = r->r9; d[10] = r->r10; d[11] = r->r11;
	d[12] = r->r12; d[13] = r->r13; d[14] = r->r14; d[15] = r->r15;
	d[16] = r->rip;
}

static bool uw_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct uw_state *s = arg;
	struct user_regs_struct r;
	if (!s->acc || s->acc->get_regs(s->acc->ctx, &r) < 0)
		return false;
	Dwarf_Word d[UNWIND_NREGS];
	regs_to_dwarf(&r, d);
	return dwfl_thread_state_registers(thread, 0, UNWIND_NREGS, d);
}

static const Dwfl_Thread_Callbacks uw_callbacks = {
	.next_thread = uw_next_thread,
	.get_thread = uw_get_thread,
	.memory_read = uw_memory_read,
	.set_initial_registers = uw_set_initial_registers,
};

static void uw_free(struct symtab *st)
{
	free(st->unwind);
	st->unwind = NULL;
}

static struct uw_state *uw_attach(struct symtab *st)
{
	struct uw_state *s = st->unwind;
	if (!s) {
		s = st->unwind = xcalloc(1, sizeof *s);
		st->unwind_free = uw_free;
	}
	if (!s->attached && !s->attach_failed) {
		Elf *elf = NULL;
		for (size_t i = 0; i < st->mods.n && !elf; i++) {
			GElf_Addr b;
			elf = dwfl_module_getelf(st->mods.v[i]->dm, &b);
		}
		if (elf && dwfl_attach_state(st->dwfl, elf, st->pid ? st->pid : 1, &uw_callbacks, s))
			s->attached = true;
		else {
			s->attach_failed = true;
			pr_debug(LM_SYM, "dwfl_attach_state: %s", dwfl_errmsg(-1));
		}
	}
	return s;
}

int unwind_reg(const struct unwind_frame *f, int r, uint64_t *val)
{
	if (r < 0 || r >= UNWIND_NREGS || !(f->valid & (1u << r)))
		return -ENOENT;
	*val = f->regs[r];
	return 0;
}

/* CFI of a module at runtime address pc: the frame row and whether it is a
 * signal trampoline. */
static bool cfi_frame(struct symtab *st, uint64_t pc, Dwarf_Frame **fr, uint64_t *bias_out)
{
	struct sym_mod *m = sym_mod_at(st, pc);
	if (!m)
		return false;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(m->dm, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, fr) == 0) {
		*bias_out = bias;
		return true;
	}
	cfi = dwfl_module_dwarf_cfi(m->dm, &bias);
	if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, fr) == 0) {
		*bias_out = bias;
		return true;
	}
	return false;
}

/* CFA of a frame from its CFI row and registers; 0 if unknown. Sets *sig when
 * the FDE is a signal frame. */
static uint64_t frame_cfa(struct symtab *st, const struct sym_access *acc,
                          const struct unwind_frame *f, bool *sig)
{
	Dwarf_Frame *fr;
	uint64_t bias;
	*sig = false;
	if (!cfi_frame(st, f->lookup_pc, &fr, &bias))
		return 0;
	Dwarf_Addr start, end;
	bool signalp = false;
	dwarf_frame_info(fr, &start, &end, &signalp);
	*sig = signalp;
	Dwarf_Op *ops;
	size_t n;
	uint64_t cfa = 0;
	if (dwarf_frame_cfa(fr, &ops, &n) == 0) {
		struct loc_ctx c = { .acc = acc, .frame = f };
		if (loc_eval_value(&c, NULL, ops, n, &cfa, NULL) < 0)
			cfa = 0;
	}
	free(fr);
	return cfa;
}

struct collect {
	struct symtab *st;
	struct uw_state *s;
	unsigned max, flags;
	struct unwind_list *out;
	size_t first;
	bool stop;
};

static bool in_main(struct collect *c, uint64_t pc)
{
	struct uw_state *s = c->s;
	if (!s->main_known || s->main_gen != c->st->gen) {
		/* gdb's main is the executable's: look nowhere else (indexing every
		 * library's DWARF would cost the first backtrace 100+ ms) */
		s->main_known = true;
		s->main_gen = c->st->gen;
		s->main_lo = s->main_hi = 0;
		for (size_t i = 0; i < c->st->mods.n; i++) {
			struct sym_mod *m = c->st->mods.v[i];
			if (!m->is_main)
				continue;
			if (sym_mod_dwarf(m)) {
				sym_index_dwarf(m);
				const char *key = pool_find(&c->st->pool, "main");
				for (int k = key ? ptrmap_get(&m->func_by_name, (uintptr_t)key) : -1; k >= 0;
				     k = m->funcs.v[k].next)
					if (!m->funcs.v[k].inlined) {
						s->main_lo = m->funcs.v[k].lo + m->bias;
						s->main_hi = m->funcs.v[k].hi + m->bias;
					}
			}
			const char *en;
			uint64_t es, esz;
			struct sym_loc_list l = { 0 };
			if (!s->main_hi) {
				sym_index_elf(m);
				const char *key = pool_find(&c->st->pool, "main");
				for (int k = key ? ptrmap_get(&m->sym_by_name, (uintptr_t)key) : -1; k >= 0;
				     k = m->syms.v[k].next)
					if (m->syms.v[k].func && !m->syms.v[k].plt &&
					    sym_elf_at(m, m->syms.v[k].addr, &en, &es, &esz)) {
						s->main_lo = es;
						s->main_hi = es + (esz ? esz : 1);
					}
			}
			sym_loc_list_free(&l);
		}
	}
	return s->main_lo <= pc && pc < s->main_hi;
}

/* Append a frame; false when the walk should stop. */
static bool add_frame(struct collect *c, struct unwind_frame *f)
{
	struct unwind_list *out = c->out;
	size_t level = out->n - c->first;
	f->level = (unsigned)level;
	if (level > 0) {
		struct unwind_frame *prev = &out->v[out->n - 1];
		/* no progress: the same frame again */
		if (f->pc == prev->pc && f->regs[UNWIND_REG_RSP] == prev->regs[UNWIND_REG_RSP] &&
		    !prev->signal_frame)
			return false;
	}
	vec_push(out, *f);
	if (c->max && level + 1 >= c->max)
		return false;
	if (!(c->flags & UNWIND_PAST_MAIN) && !f->signal_frame && in_main(c, f->lookup_pc))
		return false;
	return true;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct collect *c = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
		return DWARF_CB_ABORT;
	struct unwind_frame f = { .pc = pc };
	size_t level = c->out->n - c->first;
	bool after_signal = level > 0 && c->out->v[c->out->n - 1].signal_frame;
	f.interrupted = level == 0 || after_signal || activation;
	f.lookup_pc = f.interrupted ? pc : pc - 1;
	for (int r = 0; r < UNWIND_NREGS; r++) {
		Dwarf_Word v;
		if (dwfl_frame_reg(state, (unsigned)r, &v) == 0) {
			f.regs[r] = v;
			f.valid |= 1u << r;
		}
	}
	f.regs[UNWIND_REG_RIP] = pc;
	f.valid |= 1u << UNWIND_REG_RIP;
	bool sig;
	f.cfa = frame_cfa(c->st, c->s->acc, &f, &sig);
	f.signal_frame = sig;
	if (!add_frame(c, &f)) {
		c->stop = true;
		return DWARF_CB_ABORT;
	}
	return DWARF_CB_OK;
}

/* Continue with rbp chains where CFI gave up (code built without unwind tables
 * but with frame pointers). */
static void fp_fallback(struct collect *c, const struct sym_access *acc)
{
	while (!c->stop && c->out->n > c->first && c->out->n - c->first < MAX_FRAMES) {
		struct unwind_frame *last = &c->out->v[c->out->n - 1];
		uint64_t rbp;
		if (unwind_reg(last, UNWIND_REG_RBP, &rbp) < 0 || !rbp || (rbp & 7))
			return;
		uint64_t sp;
		if (unwind_reg(last, UNWIND_REG_RSP, &sp) == 0 && rbp < sp)
			return;
		uint64_t w[2];
		if (acc->read_mem(acc->ctx, rbp, w, sizeof w) < 0 || !w[1])
			return;
		struct unwind_frame f = { .pc = w[1], .lookup_pc = w[1] - 1, .by_fp = true };
		f.regs[UNWIND_REG_RBP] = w[0];
		f.regs[UNWIND_REG_RSP] = rbp + 16;
		f.regs[UNWIND_REG_RIP] = w[1];
		f.valid = 1u << UNWIND_REG_RBP | 1u << UNWIND_REG_RSP | 1u << UNWIND_REG_RIP;
		if (!last->cfa)
			last->cfa = rbp + 16;
		bool sig;
		f.cfa = frame_cfa(c->st, acc, &f, &sig);
		f.signal_frame = sig;
		if (!sym_mod_at(c->st, f.pc) || !add_frame(c, &f))
			return;
		if (f.cfa)   /* CFI is back: let the next round use it through rbp only */
			continue;
	}
}

/* Number of inlined-call scopes at a frame's lookup pc. */
static unsigned inline_depth(struct symtab *st, const struct unwind_frame *f)
{
	struct sym_mod *m = sym_mod_at(st, f->lookup_pc);
	if (!m || !sym_mod_dwarf(m))
		return 0;
	int ci = sym_cu_at(m, f->lookup_pc - m->bias);
	Dwarf_Die cud, *scopes = NULL;
	if (ci < 0 || !sym_cu_die(m, (uint32_t)ci, &cud))
		return 0;
	int n = sym_scopes(&cud, f->lookup_pc - m->bias, &scopes);
	unsigned k = 0;
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_subprogram)
			break;
		k += tag == DW_TAG_inlined_subroutine;
	}
	free(scopes);
	return k;
}

/* Expand the real frames from `first` on into gdb's inline frames. */
static void expand_inline(struct symtab *st, struct unwind_list *out, size_t first,
                          unsigned max)
{
	struct unwind_list x = { 0 };
	for (size_t i = first; i < out->n; i++) {
		struct unwind_frame f = out->v[i];
		unsigned k = f.signal_frame ? 0 : inline_depth(st, &f);
		for (unsigned j = 0; j <= k; j++) {
			f.is_inline = j < k;
			f.inline_skip = j;
			vec_push(&x, f);
		}
	}
	out->n = first;
	for (size_t i = 0; i < x.n && (!max || i < max); i++) {
		x.v[i].level = (unsigned)i;
		vec_push(out, x.v[i]);
	}
	vec_free(&x);
}

int unwind_backtrace(struct symtab *st, const struct sym_access *acc, unsigned max,
                     unsigned flags, struct unwind_list *out)
{
	struct user_regs_struct r;
	int e = acc->get_regs(acc->ctx, &r);
	if (e < 0)
		return e;
	struct uw_state *s = uw_attach(st);
	struct collect c = { .st = st, .s = s, .max = max ? max : MAX_FRAMES, .flags = flags,
	                     .out = out, .first = out->n };
	s->acc = acc;
	if (s->attached)
		dwfl_getthread_frames(st->dwfl, st->pid ? st->pid : 1, frame_cb, &c);
	if (out->n == c.first) {
		/* not even frame 0 (no module at pc): make it from the registers */
		struct unwind_frame f = { .pc = r.rip, .lookup_pc = r.rip, .interrupted = true,
		                          .valid = (1u << UNWIND_NREGS) - 1 };
		regs_to_dwarf(&r, f.regs);
		bool sig;
		f.cfa = frame_cfa(st, acc, &f, &sig);
		f.signal_frame = sig;
		c.stop = !add_frame(&c, &f);
	}
	if (!c.stop)
		fp_fallback(&c, acc);
	/* gdb's rule for registers the CFI does not mention: the caller sees the
	 * callee's value ("same value"), so `p $rax` in an outer frame and entry
	 * values computed from caller-saved registers agree with gdb. */
	for (size_t i = c.first + 1; i < out->n; i++)
		for (int k = 0; k < UNWIND_NREGS; k++)
			if (!(out->v[i].valid & (1u << k)) && (out->v[i - 1].valid & (1u << k))) {
				out->v[i].regs[k] = out->v[i - 1].regs[k];
				out->v[i].valid |= 1u << k;
				out->v[i].same_value |= 1u << k;
			}
	/* A frame whose CFA CFI could not give: the caller's stack pointer is it;
	 * for the outermost one, the frame-pointer convention (rbp + 16). */
	for (size_t i = c.first; i < out->n; i++) {
		struct unwind_frame *f = &out->v[i];
		if (f->cfa)
			continue;
		if (i + 1 < out->n && (out->v[i + 1].valid & (1u << UNWIND_REG_RSP)))
			f->cfa = out->v[i + 1].regs[UNWIND_REG_RSP];
		else if ((f->valid & (1u << UNWIND_REG_RBP)) && f->regs[UNWIND_REG_RBP])
			f->cfa = f->regs[UNWIND_REG_RBP] + 16;
	}
	s->acc = NULL;
	if (flags & UNWIND_INLINE)
		expand_inline(st, out, c.first, max);
	return 0;
}

void unwind_list_free(struct unwind_list *l)
{
	vec_free(l);
}

int unwind_frame_info(struct symtab *st, const struct sym_access *acc, uint64_t *cfa,
                      uint64_t *caller_pc, uint64_t *caller_cfa)
{
	struct unwind_list l = { 0 };
	int e = unwind_backtrace(st, acc, 2, 0, &l);
	if (e < 0)
		return e;
	*cfa = l.v[0].cfa;
	if (l.n < 2) {
		e = -ENOENT;
	} else {
		*caller_pc = l.v[1].pc;
		*caller_cfa = l.v[1].cfa;
	}
	unwind_list_free(&l);
	return e;
}
