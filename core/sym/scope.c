/* Names in scope at a pc, in gdb's lookup order, and the values of DWARF
 * variables: locations evaluated in the frame, constants, VLA bounds, static
 * members, functions and enumerators as values. */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/regs.h"
#include "sym_int.h"
#include "types_int.h"
#include "value_int.h"

/* ---- locations to values */

static bool reg_bytes(const struct sym_ctx *c, int reg, uint8_t *buf, size_t *len)
{
	if (!c->frame)
		return false;
	if (reg >= 0 && reg < UNWIND_NREGS) {
		uint64_t x;
		struct user_regs_struct r;
		int off = regs_dwarf_to_gpr_off(reg);
		/* frame 0 reads the registers as they are now (after assignments) */
		if (c->frame->level == 0 && c->acc && off >= 0 && c->acc->get_regs(c->acc->ctx, &r) == 0)
			x = *regs_gpr(&r, (size_t)off);
		else if (unwind_reg(c->frame, reg, &x) < 0)
			return false;
		memcpy(buf, &x, 8);
		*len = 8;
		return true;
	}
	if (reg >= 17 && reg <= 32 && c->frame->level == 0 && c->acc && c->acc->get_xstate) {
		uint8_t *xs;
		size_t xl;
		if (c->acc->get_xstate(c->acc->ctx, &xs, &xl) < 0 || xl < (size_t)FX_XMM(16))
			return false;
		memcpy(buf, xs + FX_XMM(reg - 17), 16);
		*len = 16;
		return true;
	}
	return false;
}

struct value *value_from_loc(const struct sym_ctx *c, struct type *t, const struct loc *l,
                             Dwarf_Attribute *attr)
{
	struct value *v;
	uint8_t rb[16];
	size_t rl = 0;
	switch (l->kind) {
	case LOC_MEM:
		return value_at(t, l->addr);
	case LOC_REG:
		if (!reg_bytes(c, l->reg, rb, &rl))
			return value_optimized_out(t);
		v = value_new(t);
		memcpy(v->bytes, rb, MIN(rl, v->len));
		v->lval = LV_REG;
		v->reg = l->reg;
		v->frame_level = c->frame ? c->frame->level : 0;
		return v;
	case LOC_VALUE:
		v = value_new(t);
		for (size_t i = 0; i < v->len && i < 8; i++)
			v->bytes[i] = (uint8_t)(l->value >> (8 * i));
		return v;
	case LOC_IMPLICIT:
		v = value_new(t);
		memcpy(v->bytes, l->bytes, MIN(l->nbytes, v->len));
		return v;
	case LOC_PIECES: {
		v = value_new(t);
		uint64_t bit = 0;
		for (size_t i = 0; i < l->npieces; i++) {
			const struct loc_piece *p = &l->pieces[i];
			uint8_t src[16] = { 0 };
			size_t n = (size_t)((p->bits + 7) / 8);
			bool ok = n <= sizeof src;
			switch (p->kind) {
			case LOC_MEM:
				ok = ok && value_read_mem(c, p->addr, src, n) == 0;
				break;
			case LOC_REG:
				ok = ok && reg_bytes(c, p->reg, src, &rl);
				break;
			case LOC_VALUE:
				memcpy(src, &p->value, 8);
				break;
			case LOC_IMPLICIT:
				if (ok)
					memcpy(src, p->bytes, n);
				break;
			default:
				ok = false;
			}
			if (!ok) {
				/* this piece lives nowhere: its bytes are <optimized out> */
				if (!v->optmask)
					v->optmask = xcalloc(1, v->len ? v->len : 1);
				for (uint64_t k = 0; k < p->bits && (bit + k) / 8 < v->len; k++)
					v->optmask[(bit + k) / 8] = 1;
				bit += p->bits;
				continue;
			}
			for (uint64_t k = 0; k < p->bits && (bit + k) / 8 < v->len; k++) {
				uint64_t sb = p->bit_off + k;
				if (src[sb / 8] & (1u << (sb % 8)))
					v->bytes[(bit + k) / 8] |= (uint8_t)(1u << ((bit + k) % 8));
			}
			bit += p->bits;
		}
		if (v->optmask) {
			bool all = true;
			for (size_t k = 0; k < v->len && all; k++)
				all = v->optmask[k];
			if (all) {
				free(v->optmask);
				v->optmask = NULL;
				v->optimized_out = true;
			}
		}
		return v;
	}
	default:
		return value_optimized_out(t);
	}
}

static struct value *const_value(struct sym_mod *m, struct type *t, Dwarf_Attribute *a)
{
	struct value *v = value_new(t);
	Dwarf_Block blk;
	Dwarf_Sword sv;
	Dwarf_Word uv;
	const char *str;
	switch (dwarf_whatform(a)) {
	case DW_FORM_block1: case DW_FORM_block2: case DW_FORM_block4: case DW_FORM_block:
		if (dwarf_formblock(a, &blk) == 0)
			memcpy(v->bytes, blk.data, MIN(blk.length, v->len));
		break;
	case DW_FORM_sdata: case DW_FORM_implicit_const:
		if (dwarf_formsdata(a, &sv) == 0)
			memcpy(v->bytes, &sv, MIN(8, v->len));
		break;
	case DW_FORM_string: case DW_FORM_strp: case DW_FORM_line_strp: case DW_FORM_strx:
	case DW_FORM_strx1: case DW_FORM_strx2: case DW_FORM_strx4:
		str = dwarf_formstring(a);
		if (str)
			memcpy(v->bytes, str, MIN(strlen(str) + 1, v->len));
		break;
	default:
		if (dwarf_formudata(a, &uv) == 0)
			memcpy(v->bytes, &uv, MIN(8, v->len));
		break;
	}
	return v;
}

static struct type *die_type(struct sym_mod *m, Dwarf_Die *d)
{
	Dwarf_Attribute a;
	Dwarf_Die t;
	if (!dwarf_attr_integrate(d, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
		return type_int();
	return type_from_die(m, &t);
}

/* A VLA type with its bounds evaluated in the frame: a concrete array type. */
static struct type *resolve_dynamic(const struct sym_ctx *c, struct sym_mod *m,
                                    struct type *t, Dwarf_Die *func)
{
	struct type *s = type_strip(t);
	if (s->kind != TY_ARRAY || !s->dynamic)
		return t;
	struct type *elem = resolve_dynamic(c, m, s->target, func);
	Dwarf_Die sub;
	if (!m->dw || !dwarf_offdie(m->dw, s->bound_die, &sub))
		return t;
	Dwarf_Attribute a;
	bool is_count = false;
	if (!dwarf_attr(&sub, DW_AT_upper_bound, &a)) {
		if (!dwarf_attr(&sub, DW_AT_count, &a))
			return t;
		is_count = true;
	}
	int64_t bound = -1;
	Dwarf_Die ref;
	Dwarf_Op *ops;
	size_t n;
	if (dwarf_formref_die(&a, &ref)) {
		struct value *bv = value_of_var_die(c, m, &ref, func, NULL);
		if (!bv || value_as_long(c, bv, &bound, NULL) < 0)
			bound = -1;
		value_free(bv);
	} else if (dwarf_getlocation(&a, &ops, &n) == 0) {
		struct loc_ctx lc = { .acc = c->acc, .frame = c->frame, .func = func, .bias = m->bias,
	                      .st = c->st, .caller = c->caller };
		uint64_t x;
		if (loc_eval_value(&lc, &a, ops, n, &x, NULL) == 0)
			bound = (int64_t)x;
	}
	if (bound < 0 && !is_count)
		return t;
	return type_array_of(elem, is_count ? bound : bound + 1);
}

struct value *value_of_var_die(const struct sym_ctx *c, struct sym_mod *m, Dwarf_Die *var,
                               Dwarf_Die *func, char **err)
{
	struct type *t = resolve_dynamic(c, m, die_type(m, var), func);
	Dwarf_Attribute a;
	if (dwarf_attr_integrate(var, DW_AT_const_value, &a))
		return const_value(m, t, &a);
	if (!dwarf_attr(var, DW_AT_location, &a))
		return value_optimized_out(t);
	struct loc_ctx lc = { .acc = c->acc, .frame = c->frame, .func = func, .bias = m->bias,
	                      .st = c->st, .caller = c->caller };
	struct loc l;
	char *msg = NULL;
	if (loc_eval_attr(&lc, &a, &l, &msg) < 0) {
		struct value *v = value_new(t);
		v->error = msg ? msg : xstrdup("Cannot evaluate the variable's location");
		return v;
	}
	struct value *v = value_from_loc(c, t, &l, &a);
	loc_free(&l);
	return v;
}

/* ---- scopes */

struct scopes {
	struct sym_mod *m;
	Dwarf_Die *dies;        /* innermost first, CU last */
	int n;
	int start;              /* the frame's first scope (past its inner inlined calls) */
	int call_site;          /* the innermost inlined call it contains, -1 if none */
	int func;               /* index of the (concrete or inlined) function scope, -1 */
	Dwarf_Die cu;
};

static bool get_scopes(const struct sym_ctx *c, struct scopes *s)
{
	memset(s, 0, sizeof *s);
	s->func = -1;
	if (!c->frame || !c->st)
		return false;
	uint64_t pc = c->frame->lookup_pc;
	struct sym_mod *m = sym_mod_at(c->st, pc);
	if (!m || !sym_mod_dwarf(m))
		return false;
	int ci = sym_cu_at(m, pc - m->bias);
	if (ci < 0 || !sym_cu_die(m, (uint32_t)ci, &s->cu))
		return false;
	s->m = m;
	s->n = sym_scopes(&s->cu, pc - m->bias, &s->dies);
	if (s->n < 0)
		s->n = 0;
	s->call_site = -1;
	unsigned skip = c->frame->inline_skip;
	for (int i = 0; i < s->n && skip; i++)
		if (dwarf_tag(&s->dies[i]) == DW_TAG_inlined_subroutine && --skip == 0) {
			s->start = i + 1;
			s->call_site = i;
		}
	for (int i = s->start; i < s->n; i++) {
		int tag = dwarf_tag(&s->dies[i]);
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			s->func = i;
			break;
		}
	}
	return true;
}

/* The concrete function DIE (for the frame base): the outermost subprogram. */
static Dwarf_Die *frame_func(struct scopes *s)
{
	for (int i = s->n - 1; i >= 0; i--)
		if (dwarf_tag(&s->dies[i]) == DW_TAG_subprogram)
			return &s->dies[i];
	return NULL;
}

static const char *attr_name(Dwarf_Die *d)
{
	return dwarf_diename(d);
}

/* Child variable/parameter `name` of scope d. */
static bool find_child_var(Dwarf_Die *d, const char *name, Dwarf_Die *out)
{
	Dwarf_Die ch;
	if (dwarf_child(d, &ch) != 0)
		return false;
	do {
		int tag = dwarf_tag(&ch);
		if (tag != DW_TAG_variable && tag != DW_TAG_formal_parameter)
			continue;
		const char *n = attr_name(&ch);
		if (n && !strcmp(n, name)) {
			*out = ch;
			return true;
		}
	} while (dwarf_siblingof(&ch, &ch) == 0);
	return false;
}

static struct value *function_value(struct sym_mod *m, const struct sym_func *f)
{
	Dwarf_Die d;
	if (!m->dw || !dwarf_offdie(m->dw, f->die, &d))
		return NULL;
	struct type *t = type_from_die(m, &d);
	struct value *v = value_new(t);
	v->lval = LV_MEM;
	v->addr = f->entry + m->bias;
	return v;
}

/* A global (or file-static) variable, function or enumerator of module m. */
static struct value *module_lookup(const struct sym_ctx *c, struct sym_mod *m, const char *key,
                                   int cu_only, bool statics)
{
	if (!sym_mod_dwarf(m))
		return NULL;
	sym_index_dwarf(m);
	for (int pass = 0; pass < 2; pass++)
		for (int i = ptrmap_get(&m->ent_by_name, (uintptr_t)key); i >= 0; i = m->ents.v[i].next) {
			const struct sym_ent *e = &m->ents.v[i];
			if (cu_only >= 0 && (int)e->cu != cu_only)
				continue;
			if (cu_only < 0 && !statics && !e->external && e->kind == SE_VAR)
				continue;
			Dwarf_Die d;
			if (!dwarf_offdie(m->dw, e->die, &d))
				continue;
			if (e->kind == SE_VAR && pass == 0) {
				Dwarf_Attribute a;
				if (!dwarf_attr(&d, DW_AT_location, &a) &&
				    !dwarf_attr_integrate(&d, DW_AT_const_value, &a))
					continue;   /* a declaration: its definition is elsewhere */
				return value_of_var_die(c, m, &d, NULL, NULL);
			}
			if (e->kind == SE_ENUMERATOR && pass == 0) {
				Dwarf_Die et;
				Dwarf_Attribute a;
				Dwarf_Sword sv = 0;
				if (!dwarf_offdie(m->dw, e->parent, &et))
					continue;
				if (dwarf_attr(&d, DW_AT_const_value, &a))
					dwarf_formsdata(&a, &sv);
				return value_from_long(type_from_die(m, &et), sv);
			}
		}
	for (size_t i = 0; i < m->funcs.n; i++) {
		const struct sym_func *f = &m->funcs.v[i];
		if (f->inlined || f->is_extra_range || (f->name != key && f->alias != key))
			continue;
		if (cu_only >= 0 && (int)f->cu != cu_only)
			continue;
		return function_value(m, f);
	}
	return NULL;
}

static struct value *global_lookup(const struct sym_ctx *c, struct sym_mod *first,
                                   const char *name)
{
	const char *key = pool_find(&c->st->pool, name);
	if (!key) {
		/* maybe not interned yet: index everything first */
		for (size_t i = 0; i < c->st->mods.n; i++)
			sym_index_dwarf(c->st->mods.v[i]);
		key = pool_find(&c->st->pool, name);
	}
	if (!key)
		return NULL;
	for (int statics = 0; statics < 2; statics++) {
		if (first) {
			struct value *v = module_lookup(c, first, key, -1, statics);
			if (v)
				return v;
		}
		for (size_t i = 0; i < c->st->mods.n; i++) {
			if (c->st->mods.v[i] == first)
				continue;
			struct value *v = module_lookup(c, c->st->mods.v[i], key, -1, statics);
			if (v)
				return v;
		}
	}
	return NULL;
}

/* A function known only from the ELF symbol table. */
static struct value *elf_lookup(const struct sym_ctx *c, const char *name, char **err)
{
	for (size_t mi = 0; mi < c->st->mods.n; mi++) {
		struct sym_mod *m = c->st->mods.v[mi];
		sym_index_elf(m);
		const char *key = pool_find(&c->st->pool, name);
		for (int i = key ? ptrmap_get(&m->sym_by_name, (uintptr_t)key) : -1; i >= 0;
		     i = m->syms.v[i].next) {
			const struct sym_elfsym *s = &m->syms.v[i];
			if (s->plt)
				continue;
			if (!s->func) {
				if (err)
					*err = xasprintf("'%s' has unknown type; cast it to its declared type", name);
				return NULL;
			}
			static struct type nodebug = { .kind = TY_FUNC, .name = "<text variable, no debug info>",
			                               .count = -1 };
			nodebug.target = type_int();
			struct value *v = value_new(&nodebug);
			v->lval = LV_MEM;
			v->addr = s->addr;
			return v;
		}
	}
	return NULL;
}

struct value *value_lookup(const struct sym_ctx *c, const char *name, char **err)
{
	struct scopes s;
	struct value *v = NULL;
	struct sym_mod *home = NULL;
	if (!c->st)
		goto notfound;
	if (get_scopes(c, &s)) {
		home = s.m;
		Dwarf_Die *ff = frame_func(&s);
		int last = s.func >= 0 ? s.func : s.n - 1;
		for (int i = s.start; i <= last && i < s.n && !v; i++) {
			Dwarf_Die d;
			if (dwarf_tag(&s.dies[i]) == DW_TAG_compile_unit)
				break;
			if (find_child_var(&s.dies[i], name, &d))
				v = value_of_var_die(c, s.m, &d, ff, NULL);
		}
		/* C++ members of *this */
		Dwarf_Die th;
		if (!v && s.func >= 0 && find_child_var(&s.dies[s.func], "this", &th)) {
			struct value *tv = value_of_var_die(c, s.m, &th, ff, NULL);
			struct value *obj = tv ? value_deref(c, tv, NULL) : NULL;
			if (obj && type_strip(obj->type)->kind != TY_VOID)
				v = value_member(c, obj, name, NULL);
			value_free(obj);
			value_free(tv);
		}
		if (!v) {
			const char *key = pool_find(&c->st->pool, name);
			int ci = sym_cu_index(s.m, dwarf_dieoffset(&s.cu));
			if (key && ci >= 0)
				v = module_lookup(c, s.m, key, ci, true);
		}
		free(s.dies);
	}
	if (!v)
		v = global_lookup(c, home, name);
	if (!v && err && !*err)
		v = elf_lookup(c, name, err);
	if (v)
		return v;
notfound:
	if (err && !*err)
		*err = xasprintf("No symbol \"%s\" in current context.", name);
	return NULL;
}

struct value *value_static_member(const struct sym_ctx *c, struct type *t,
                                  const struct type_field *f)
{
	struct value *v = NULL;
	if (t->name && f->name) {
		char *q = xasprintf("%s::%s", t->name, f->name);
		v = global_lookup(c, t->mod, q);
		free(q);
	}
	return v ? v : value_optimized_out(f->type);
}

static void push_var(struct value_var_list *out, const char *name, struct value *v,
                     struct value *entry)
{
	struct value_var x = { name, v, entry };
	vec_push(out, x);
}

/* gdb's read_variable_at_entry: when the parameter's location at the function's
 * entry is a plain register, its value at entry is what the caller's call site
 * put there. fentry is the DWARF entry pc of the frame's function. */
static struct value *param_entry(const struct sym_ctx *c, struct sym_mod *m, Dwarf_Die *d,
                                 Dwarf_Addr fentry)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	if (!c->caller || !c->frame || !dwarf_attr(d, DW_AT_location, &a))
		return NULL;
	unsigned form = dwarf_whatform(&a);
	if (form == DW_FORM_sec_offset || form == DW_FORM_loclistx || form == DW_FORM_data4 ||
	    form == DW_FORM_data8) {
		if (dwarf_getlocation_addr(&a, fentry, &ops, &n, 1) <= 0)
			return NULL;
	} else if (dwarf_getlocation(&a, &ops, &n) != 0) {
		return NULL;
	}
	if (n != 1)
		return NULL;
	int reg = ops[0].atom == DW_OP_regx ? (int)ops[0].number
	        : ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31 ? ops[0].atom - DW_OP_reg0 : -1;
	struct loc_ctx lc = { .acc = c->acc, .frame = c->frame, .bias = m->bias, .st = c->st,
	                      .caller = c->caller };
	uint64_t x;
	if (reg < 0 || reg > 16 || loc_entry_value(&lc, reg, &x) < 0)
		return NULL;
	struct value *v = value_new(die_type(m, d));
	memcpy(v->bytes, &x, MIN(8, v->len));
	return v;
}

int value_frame_vars(const struct sym_ctx *c, unsigned what, struct value_var_list *out)
{
	struct scopes s;
	if (!get_scopes(c, &s))
		return -ENOENT;
	Dwarf_Die *ff = frame_func(&s);
	int last = s.func >= 0 ? s.func : -1;
	Dwarf_Addr fentry = 0;
	if (last >= 0)
		dwarf_entrypc(&s.dies[last], &fentry);
	for (int i = s.start; i <= last; i++) {
		Dwarf_Die ch;
		if (dwarf_child(&s.dies[i], &ch) != 0)
			continue;
		do {
			int tag = dwarf_tag(&ch);
			bool arg = tag == DW_TAG_formal_parameter;
			if (!(tag == DW_TAG_variable || arg) || (arg && i != last))
				continue;
			if ((arg && !(what & VALUE_ARGS)) || (!arg && !(what & VALUE_LOCALS)))
				continue;
			const char *n = attr_name(&ch);
			if (!n)
				continue;
			Dwarf_Attribute a;
			/* a local extern declaration is not a local */
			if (!arg && dwarf_attr(&ch, DW_AT_declaration, &a))
				continue;
			push_var(out, pool_intern(&c->st->pool, n), value_of_var_die(c, s.m, &ch, ff, NULL),
			         arg ? param_entry(c, s.m, &ch, fentry) : NULL);
		} while (dwarf_siblingof(&ch, &ch) == 0);
	}
	free(s.dies);
	return 0;
}

void value_var_list_free(struct value_var_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		value_free(l->v[i].value);
		value_free(l->v[i].entry);
	}
	vec_free(l);
}

int value_frame_function(const struct sym_ctx *c, const char **name, struct type **ret)
{
	struct scopes s;
	*name = NULL;
	if (ret)
		*ret = NULL;
	if (!get_scopes(c, &s) || s.func < 0) {
		if (s.dies)
			free(s.dies);
		return -ENOENT;
	}
	Dwarf_Die *f = &s.dies[s.func];
	*name = sym_die_qualname(s.m, f);
	if (ret)
		*ret = die_type(s.m, f);
	Dwarf_Attribute a;
	if (ret && !dwarf_attr_integrate(f, DW_AT_type, &a))
		*ret = type_void();
	free(s.dies);
	return 0;
}

int value_frame_location(const struct sym_ctx *c, const char **file, const char **fullpath,
                         int *line, bool *at_call)
{
	struct scopes s;
	int e = -ENOENT;
	if (at_call)
		*at_call = false;
	if (!c->frame || !c->frame->inline_skip) {
		struct sym_line ln;
		if (!c->frame || !c->st || symtab_pc_line(c->st, c->frame->lookup_pc, &ln) < 0)
			return -ENOENT;
		*file = ln.file;
		*fullpath = ln.fullpath;
		*line = ln.line;
		return 0;
	}
	if (get_scopes(c, &s) && s.call_site >= 0) {
		Dwarf_Die *cs = &s.dies[s.call_site];
		Dwarf_Attribute a;
		Dwarf_Word f = 0, l = 0;
		int ci = sym_cu_index(s.m, dwarf_dieoffset(&s.cu));
		if (ci >= 0 && dwarf_attr(cs, DW_AT_call_file, &a) && dwarf_formudata(&a, &f) == 0 &&
		    dwarf_attr(cs, DW_AT_call_line, &a) && dwarf_formudata(&a, &l) == 0) {
			struct sym_cu *cu = &s.m->cus.v[ci];
			sym_cu_lines(s.m, cu);
			if (f < cu->nfiles) {
				*file = cu->fnames[f];
				*fullpath = cu->fpaths[f];
				*line = (int)l;
				if (at_call)
					*at_call = true;
				e = 0;
			}
		}
	}
	free(s.dies);
	return e;
}

bool value_frame_in_inlined(const struct sym_ctx *c)
{
	struct scopes s;
	bool r = get_scopes(c, &s) && s.func >= 0 &&
	         dwarf_tag(&s.dies[s.func]) == DW_TAG_inlined_subroutine;
	free(s.dies);
	return r;
}
