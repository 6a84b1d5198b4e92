/* The DWARF expression stack machine: DW_OP_addr, fbreg, reg/breg(x), piece,
 * bit_piece, stack_value, implicit_value, call_frame_cfa, deref, arithmetic and
 * control flow; entry values and parameter references are optimized out. */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "loc.h"
#include "sym_int.h"

#define STACK_MAX 64

struct machine {
	const struct loc_ctx *c;
	Dwarf_Attribute *attr;
	uint64_t st[STACK_MAX];
	int sp;
	char **err;
	bool not_saved;     /* a register the frame does not recover was needed */
};

static int fail(struct machine *m, int e, const char *fmt, unsigned long long a)
{
	if (m->err && !*m->err)
		*m->err = xasprintf(fmt, a);
	return e;
}

static int push(struct machine *m, uint64_t v)
{
	if (m->sp >= STACK_MAX)
		return fail(m, -E2BIG, "DWARF expression stack overflow%.0llu", 0);
	m->st[m->sp++] = v;
	return 0;
}

static int pop(struct machine *m, uint64_t *v)
{
	if (m->sp <= 0)
		return fail(m, -EINVAL, "DWARF expression stack underflow%.0llu", 0);
	*v = m->st[--m->sp];
	return 0;
}

static int frame_reg(struct machine *m, int r, uint64_t *v)
{
	const struct unwind_frame *f = m->c->frame;
	if (!f)
		return fail(m, -ENOENT, "No frame selected.%.0llu", 0);
	if (unwind_reg(f, r, v) < 0) {
		m->not_saved = true;   /* the value is <optimized out> */
		return -ENOENT;
	}
	return 0;
}

static int read_mem(struct machine *m, uint64_t a, void *buf, size_t n)
{
	const struct sym_access *acc = m->c->acc;
	if (!acc || !acc->read_mem || acc->read_mem(acc->ctx, a, buf, n) < 0)
		return fail(m, -EIO, "Cannot access memory at address 0x%llx", (unsigned long long)a);
	return 0;
}

static int frame_base(struct machine *m, uint64_t *fb)
{
	Dwarf_Attribute a;
	if (!m->c->func || !dwarf_attr_integrate(m->c->func, DW_AT_frame_base, &a))
		return fail(m, -ENOENT, "Could not find the frame base.%.0llu", 0);
	struct loc l;
	struct loc_ctx c2 = *m->c;
	c2.func = NULL;
	int e = loc_eval_attr(&c2, &a, &l, m->err);
	if (e < 0)
		return e;
	switch (l.kind) {
	case LOC_MEM: *fb = l.addr; break;
	case LOC_VALUE: *fb = l.value; break;
	case LOC_REG: e = frame_reg(m, l.reg, fb); break;
	default: e = fail(m, -ENOENT, "Could not find the frame base.%.0llu", 0);
	}
	loc_free(&l);
	return e;
}

/* Current piece state while evaluating. */
struct cur {
	enum loc_kind kind;
	int reg;
	const uint8_t *bytes;
	size_t nbytes;
};

static int add_piece(struct loc *out, struct machine *m, struct cur *cur, uint64_t bits,
                     uint64_t bit_off)
{
	struct loc_piece p = { .kind = cur->kind, .bits = bits, .bit_off = bit_off };
	uint64_t v = 0;
	switch (cur->kind) {
	case LOC_MEM:
		if (m->sp == 0)
			p.kind = LOC_NONE;     /* an empty piece: optimized out */
		else
			pop(m, &v);
		p.addr = v;
		break;
	case LOC_VALUE:
		if (pop(m, &v) < 0)
			return -EINVAL;
		p.value = v;
		break;
	case LOC_REG:
		p.reg = cur->reg;
		break;
	case LOC_IMPLICIT:
		p.bytes = cur->bytes;
		break;
	default:
		break;
	}
	out->pieces = xrealloc(out->pieces, (out->npieces + 1) * sizeof *out->pieces);
	out->pieces[out->npieces++] = p;
	out->kind = LOC_PIECES;
	*cur = (struct cur){ .kind = LOC_MEM };
	m->sp = 0;
	return 0;
}

static int64_t sx(uint64_t v) { return (int64_t)v; }

int loc_eval_ops(const struct loc_ctx *c, Dwarf_Attribute *attr, const Dwarf_Op *ops,
                 size_t n, struct loc *out, char **err)
{
	memset(out, 0, sizeof *out);
	struct machine mm = { .c = c, .attr = attr, .err = err }, *m = &mm;
	struct cur cur = { .kind = LOC_MEM };
	if (n == 0) {
		out->kind = LOC_NONE;
		return 0;
	}
	int e = 0;
	uint64_t a, b;
	size_t steps = 0;
	for (size_t i = 0; i < n && e == 0; i++) {
		const Dwarf_Op *op = &ops[i];
		uint8_t at = op->atom;
		if (++steps > 10000)
			return fail(m, -ELOOP, "DWARF expression does not terminate%.0llu", 0);
		if (cur.kind != LOC_MEM && at != DW_OP_piece && at != DW_OP_bit_piece) {
			loc_free(out);
			return fail(m, -EINVAL, "DWARF expression: operation 0x%llx after a register "
			                        "or value location", at);
		}
		if (at >= DW_OP_lit0 && at <= DW_OP_lit31) {
			e = push(m, at - DW_OP_lit0);
		} else if (at >= DW_OP_reg0 && at <= DW_OP_reg31) {
			cur.kind = LOC_REG;
			cur.reg = at - DW_OP_reg0;
		} else if (at >= DW_OP_breg0 && at <= DW_OP_breg31) {
			e = frame_reg(m, at - DW_OP_breg0, &a);
			if (e == 0)
				e = push(m, a + op->number);
		} else switch (at) {
		case DW_OP_addr:
			e = push(m, op->number + c->bias);
			break;
		case DW_OP_addrx:
		case DW_OP_GNU_addr_index:
		case DW_OP_constx:
		case DW_OP_GNU_const_index: {
			Dwarf_Attribute r;
			Dwarf_Addr ad;
			if (!attr || dwarf_getlocation_attr(attr, op, &r) != 0 || dwarf_formaddr(&r, &ad) != 0) {
				e = fail(m, -EINVAL, "Cannot resolve DW_OP_addrx%.0llu", 0);
				break;
			}
			e = push(m, ad + (at == DW_OP_constx || at == DW_OP_GNU_const_index ? 0 : c->bias));
			break;
		}
		case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
		case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
		case DW_OP_constu: case DW_OP_consts:
			e = push(m, op->number);
			break;
		case DW_OP_regx:
			cur.kind = LOC_REG;
			cur.reg = (int)op->number;
			break;
		case DW_OP_bregx:
			e = frame_reg(m, (int)op->number, &a);
			if (e == 0)
				e = push(m, a + op->number2);
			break;
		case DW_OP_fbreg:
			e = frame_base(m, &a);
			if (e == 0)
				e = push(m, a + op->number);
			break;
		case DW_OP_call_frame_cfa:
			if (!c->frame || !c->frame->cfa)
				e = fail(m, -ENOENT, "Could not compute CFA%.0llu", 0);
			else
				e = push(m, c->frame->cfa);
			break;
		case DW_OP_push_object_address:
			if (!c->has_object)
				e = fail(m, -EINVAL, "DW_OP_push_object_address without an object%.0llu", 0);
			else
				e = push(m, c->object_addr);
			break;
		case DW_OP_dup:
			if ((e = pop(m, &a)) == 0 && (e = push(m, a)) == 0)
				e = push(m, a);
			break;
		case DW_OP_drop:
			e = pop(m, &a);
			break;
		case DW_OP_over:
			if (m->sp < 2)
				e = fail(m, -EINVAL, "DWARF expression stack underflow%.0llu", 0);
			else
				e = push(m, m->st[m->sp - 2]);
			break;
		case DW_OP_pick:
			if (op->number >= (uint64_t)m->sp)
				e = fail(m, -EINVAL, "DWARF expression stack underflow%.0llu", 0);
			else
				e = push(m, m->st[m->sp - 1 - (int)op->number]);
			break;
		case DW_OP_swap:
			if (m->sp < 2) {
				e = fail(m, -EINVAL, "DWARF expression stack underflow%.0llu", 0);
			} else {
				a = m->st[m->sp - 1];
				m->st[m->sp - 1] = m->st[m->sp - 2];
				m->st[m->sp - 2] = a;
			}
			break;
		case DW_OP_rot:
			if (m->sp < 3) {
				e = fail(m, -EINVAL, "DWARF expression stack underflow%.0llu", 0);
			} else {
				a = m->st[m->sp - 1];
				m->st[m->sp - 1] = m->st[m->sp - 2];
				m->st[m->sp - 2] = m->st[m->sp - 3];
				m->st[m->sp - 3] = a;
			}
			break;
		case DW_OP_deref:
		case DW_OP_deref_size:
		case DW_OP_deref_type:
		case DW_OP_GNU_deref_type: {
			size_t sz = at == DW_OP_deref ? 8 : (size_t)op->number;
			if (sz > 8)
				sz = 8;
			uint64_t v = 0;
			if ((e = pop(m, &a)) == 0 && (e = read_mem(m, a, &v, sz)) == 0)
				e = push(m, v);
			break;
		}
		case DW_OP_abs:
			if ((e = pop(m, &a)) == 0)
				e = push(m, sx(a) < 0 ? -a : a);
			break;
		case DW_OP_neg:
			if ((e = pop(m, &a)) == 0)
				e = push(m, -a);
			break;
		case DW_OP_not:
			if ((e = pop(m, &a)) == 0)
				e = push(m, ~a);
			break;
		case DW_OP_plus_uconst:
			if ((e = pop(m, &a)) == 0)
				e = push(m, a + op->number);
			break;
		case DW_OP_and: case DW_OP_div: case DW_OP_minus: case DW_OP_mod: case DW_OP_mul:
		case DW_OP_or: case DW_OP_plus: case DW_OP_shl: case DW_OP_shr: case DW_OP_shra:
		case DW_OP_xor: case DW_OP_le: case DW_OP_ge: case DW_OP_eq: case DW_OP_lt:
		case DW_OP_gt: case DW_OP_ne: {
			if ((e = pop(m, &b)) < 0 || (e = pop(m, &a)) < 0)
				break;
			uint64_t r = 0;
			switch (at) {
			case DW_OP_and: r = a & b; break;
			case DW_OP_div:
				if (!b)
					return fail(m, -EDOM, "Division by zero%.0llu", 0);
				r = (uint64_t)(sx(a) / sx(b));
				break;
			case DW_OP_minus: r = a - b; break;
			case DW_OP_mod:
				if (!b)
					return fail(m, -EDOM, "Division by zero%.0llu", 0);
				r = a % b;
				break;
			case DW_OP_mul: r = a * b; break;
			case DW_OP_or: r = a | b; break;
			case DW_OP_plus: r = a + b; break;
			case DW_OP_shl: r = b >= 64 ? 0 : a << b; break;
			case DW_OP_shr: r = b >= 64 ? 0 : a >> b; break;
			case DW_OP_shra: r = (uint64_t)(sx(a) >> (b >= 64 ? 63 : b)); break;
			case DW_OP_xor: r = a ^ b; break;
			case DW_OP_le: r = sx(a) <= sx(b); break;
			case DW_OP_ge: r = sx(a) >= sx(b); break;
			case DW_OP_eq: r = a == b; break;
			case DW_OP_lt: r = sx(a) < sx(b); break;
			case DW_OP_gt: r = sx(a) > sx(b); break;
			case DW_OP_ne: r = a != b; break;
			}
			e = push(m, r);
			break;
		}
		case DW_OP_skip:
		case DW_OP_bra: {
			if (at == DW_OP_bra) {
				if ((e = pop(m, &a)) < 0)
					break;
				if (!a)
					break;
			}
			/* number is the target's offset in the expression */
			uint64_t target = op->number;
			size_t k = 0;
			while (k < n && ops[k].offset != target)
				k++;
			i = k - 1;   /* a target past the last operation ends the expression */
			break;
		}
		case DW_OP_nop:
			break;
		case DW_OP_stack_value:
			cur.kind = LOC_VALUE;
			break;
		case DW_OP_implicit_value: {
			Dwarf_Block blk;
			if (!attr || dwarf_getlocation_implicit_value(attr, op, &blk) != 0)
				return fail(m, -EINVAL, "Cannot read DW_OP_implicit_value%.0llu", 0);
			cur.kind = LOC_IMPLICIT;
			cur.bytes = blk.data;
			cur.nbytes = blk.length;
			break;
		}
		case DW_OP_piece:
			e = add_piece(out, m, &cur, op->number * 8, 0);
			break;
		case DW_OP_bit_piece:
			e = add_piece(out, m, &cur, op->number, op->number2);
			break;
		case DW_OP_regval_type:
		case DW_OP_GNU_regval_type:
			e = frame_reg(m, (int)op->number, &a);
			if (e == 0)
				e = push(m, a);
			break;
		case DW_OP_convert:
		case DW_OP_GNU_convert:
		case DW_OP_reinterpret:
		case DW_OP_GNU_reinterpret:
			break;   /* integers of at most 64 bits: a no-op for our untyped stack */
		case DW_OP_entry_value:
		case DW_OP_GNU_entry_value: {
			/* DW_OP_entry_value(DW_OP_regN): the register at function entry,
			 * as the caller's call site recorded it */
			Dwarf_Attribute sub;
			Dwarf_Op *sops;
			size_t sn;
			int reg = -1;
			if (attr && dwarf_getlocation_attr(attr, op, &sub) == 0 &&
			    dwarf_getlocation(&sub, &sops, &sn) == 0 && sn == 1) {
				if (sops[0].atom >= DW_OP_reg0 && sops[0].atom <= DW_OP_reg31)
					reg = sops[0].atom - DW_OP_reg0;
				else if (sops[0].atom == DW_OP_regx)
					reg = (int)sops[0].number;
			}
			uint64_t ev;
			if (reg >= 0 && loc_entry_value(c, reg, &ev) == 0) {
				e = push(m, ev);
				break;
			}
			loc_free(out);
			out->kind = LOC_NONE;
			return 0;
		}
		case DW_OP_GNU_parameter_ref:
		case DW_OP_implicit_pointer:
		case DW_OP_GNU_implicit_pointer:
			/* needs the caller's call-site values: not available here */
			loc_free(out);
			out->kind = LOC_NONE;
			return 0;
		case DW_OP_form_tls_address:
		case DW_OP_GNU_push_tls_address:
			return fail(m, -ENOTSUP, "Cannot access thread-local variables on this target%.0llu", 0);
		default:
			return fail(m, -ENOTSUP, "Unhandled dwarf expression opcode 0x%llx", at);
		}
	}
	if (e < 0 && m->not_saved) {
		/* a register not recovered in this frame */
		loc_free(out);
		out->kind = LOC_NONE;
		return 0;
	}
	if (e < 0) {
		loc_free(out);
		return e;
	}
	if (out->kind == LOC_PIECES)
		return 0;
	out->kind = cur.kind;
	switch (cur.kind) {
	case LOC_MEM:
		if (m->sp == 0) {
			out->kind = LOC_NONE;
			break;
		}
		out->addr = m->st[m->sp - 1];
		break;
	case LOC_VALUE:
		if (m->sp == 0)
			return fail(m, -EINVAL, "DW_OP_stack_value on an empty stack%.0llu", 0);
		out->value = m->st[m->sp - 1];
		break;
	case LOC_REG:
		out->reg = cur.reg;
		break;
	case LOC_IMPLICIT:
		out->bytes = cur.bytes;
		out->nbytes = cur.nbytes;
		break;
	default:
		break;
	}
	return 0;
}

int loc_eval_attr(const struct loc_ctx *c, Dwarf_Attribute *attr, struct loc *out, char **err)
{
	Dwarf_Op *ops;
	size_t n;
	memset(out, 0, sizeof *out);
	unsigned form = dwarf_whatform(attr);
	bool is_list = form == DW_FORM_sec_offset || form == DW_FORM_loclistx ||
	               form == DW_FORM_data4 || form == DW_FORM_data8;
	if (!is_list) {
		if (dwarf_getlocation(attr, &ops, &n) != 0) {
			out->kind = LOC_NONE;
			return 0;
		}
		return loc_eval_ops(c, attr, ops, n, out, err);
	}
	if (!c->frame) {
		out->kind = LOC_NONE;
		return 0;
	}
	uint64_t pc = c->frame->lookup_pc - c->bias;
	int r = dwarf_getlocation_addr(attr, pc, &ops, &n, 1);
	if (r <= 0) {
		out->kind = LOC_NONE;   /* no entry covers the pc: optimized out */
		return 0;
	}
	return loc_eval_ops(c, attr, ops, n, out, err);
}

int loc_eval_value(const struct loc_ctx *c, Dwarf_Attribute *attr, const Dwarf_Op *ops,
                   size_t n, uint64_t *val, char **err)
{
	struct loc l;
	int e = loc_eval_ops(c, attr, ops, n, &l, err);
	if (e < 0)
		return e;
	switch (l.kind) {
	case LOC_MEM: *val = l.addr; break;
	case LOC_VALUE: *val = l.value; break;
	case LOC_REG:
		if (!c->frame || unwind_reg(c->frame, l.reg, val) < 0)
			e = -ENOENT;
		break;
	default: e = -ENOENT;
	}
	loc_free(&l);
	return e;
}

void loc_free(struct loc *l)
{
	free(l->pieces);
	l->pieces = NULL;
	l->npieces = 0;
}

/* Depth-first search of a function's DIE tree for the call site returning to
 * ret (a DWARF address). */
static bool find_call_site(Dwarf_Die *parent, uint64_t ret, Dwarf_Die *out)
{
	Dwarf_Die ch;
	if (dwarf_child(parent, &ch) != 0)
		return false;
	do {
		int tag = dwarf_tag(&ch);
		if (tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site) {
			Dwarf_Attribute a;
			Dwarf_Addr pc;
			if ((dwarf_attr(&ch, DW_AT_call_return_pc, &a) || dwarf_attr(&ch, DW_AT_low_pc, &a)) &&
			    dwarf_formaddr(&a, &pc) == 0 && pc == ret) {
				*out = ch;
				return true;
			}
		} else if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) {
			if (find_call_site(&ch, ret, out))
				return true;
		}
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

/* Does the call site call the function the callee frame is in? gdb checks
 * this (an indirect call, without DW_AT_call_origin, is never trusted). */
static bool site_calls(const struct loc_ctx *c, struct sym_mod *m, Dwarf_Die *site)
{
	Dwarf_Attribute a;
	Dwarf_Die origin;
	if (!c->frame || !(dwarf_attr(site, DW_AT_call_origin, &a) ||
	                   dwarf_attr(site, DW_AT_abstract_origin, &a)) ||
	    !dwarf_formref_die(&a, &origin))
		return false;
	struct sym_addr_info callee;
	if (symtab_describe(c->st, c->frame->lookup_pc, &callee) < 0 || !callee.func_lo)
		return false;
	Dwarf_Addr entry;
	if (dwarf_entrypc(&origin, &entry) == 0)
		return entry + m->bias == callee.func_lo;
	/* a declaration: compare by name with the callee's symbols */
	const char *name = NULL;
	if (dwarf_attr_integrate(&origin, DW_AT_linkage_name, &a))
		name = dwarf_formstring(&a);
	if (!name)
		name = dwarf_diename(&origin);
	if (!name)
		return false;
	struct sym_loc_list l = { 0 };
	bool match = false;
	if (symtab_resolve(c->st, name, NULL, 0, SYMTAB_NO_SKIP, &l, NULL) == 0)
		for (size_t i = 0; i < l.n && !match; i++)
			match = l.v[i].addr == callee.func_lo;
	sym_loc_list_free(&l);
	return match;
}

int loc_entry_value(const struct loc_ctx *c, int reg, uint64_t *val)
{
	const struct unwind_frame *cf = c->caller;
	if (!cf || !c->st || cf->signal_frame)
		return -ENOENT;
	struct sym_mod *m = sym_mod_at(c->st, cf->lookup_pc);
	if (!m || !sym_mod_dwarf(m))
		return -ENOENT;
	int ci = sym_cu_at(m, cf->lookup_pc - m->bias);
	Dwarf_Die cud, *scopes = NULL, site;
	if (ci < 0 || !sym_cu_die(m, (uint32_t)ci, &cud))
		return -ENOENT;
	int n = sym_scopes(&cud, cf->lookup_pc - m->bias, &scopes);
	int fn = -1;
	for (int i = n - 1; i >= 0; i--)
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
			fn = i;
	int e = -ENOENT;
	if (fn >= 0 && find_call_site(&scopes[fn], cf->pc - m->bias, &site) &&
	    site_calls(c, m, &site)) {
		Dwarf_Die p;
		if (dwarf_child(&site, &p) == 0)
			do {
				int tag = dwarf_tag(&p);
				if (tag != DW_TAG_call_site_parameter && tag != DW_TAG_GNU_call_site_parameter)
					continue;
				Dwarf_Attribute la, va;
				Dwarf_Op *ops;
				size_t no;
				if (!dwarf_attr(&p, DW_AT_location, &la) || dwarf_getlocation(&la, &ops, &no) != 0 ||
				    no != 1)
					continue;
				int r = ops[0].atom == DW_OP_regx ? (int)ops[0].number
				      : ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31
				        ? ops[0].atom - DW_OP_reg0 : -1;
				if (r != reg)
					continue;
				if (!dwarf_attr(&p, DW_AT_call_value, &va) &&
				    !dwarf_attr(&p, DW_AT_GNU_call_site_value, &va))
					break;
				if (dwarf_getlocation(&va, &ops, &no) != 0)
					break;
				struct loc_ctx cc = { .acc = c->acc, .frame = cf, .func = &scopes[fn],
				                      .bias = m->bias, .st = c->st };
				if (loc_eval_value(&cc, &va, ops, no, val, NULL) == 0)
					e = 0;
				break;
			} while (dwarf_siblingof(&p, &p) == 0);
	}
	free(scopes);
	return e;
}
