/* The type model: builtin C types, types built from DWARF DIEs (cached per module
 * by DIE offset), derived types, lookup by name and completion of declarations. */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sym_int.h"
#include "types.h"
#include "types_int.h"

/* ---- builtin types */

#define BT(var, k, nm, sz, sg) static struct type var = { .kind = k, .name = nm, .size = sz, .is_signed = sg, .count = -1 }
BT(t_void, TY_VOID, "void", 1, false);
BT(t_char, TY_CHAR, "char", 1, true);
BT(t_schar, TY_CHAR, "signed char", 1, true);
BT(t_uchar, TY_CHAR, "unsigned char", 1, false);
BT(t_short, TY_INT, "short", 2, true);
BT(t_ushort, TY_INT, "unsigned short", 2, false);
BT(t_int, TY_INT, "int", 4, true);
BT(t_uint, TY_INT, "unsigned int", 4, false);
BT(t_long, TY_INT, "long", 8, true);
BT(t_ulong, TY_INT, "unsigned long", 8, false);
BT(t_llong, TY_INT, "long long", 8, true);
BT(t_ullong, TY_INT, "unsigned long long", 8, false);
BT(t_bool, TY_BOOL, "_Bool", 1, false);
BT(t_float, TY_FLOAT, "float", 4, true);
BT(t_double, TY_FLOAT, "double", 8, true);
BT(t_ldouble, TY_FLOAT, "long double", 16, true);
BT(t_i128, TY_INT, "__int128", 16, true);
BT(t_u128, TY_INT, "unsigned __int128", 16, false);

static struct { const char *name; struct type *t; } builtins[] = {
	{ "void", &t_void }, { "char", &t_char }, { "signed char", &t_schar },
	{ "unsigned char", &t_uchar }, { "short", &t_short }, { "short int", &t_short },
	{ "signed short", &t_short }, { "unsigned short", &t_ushort },
	{ "short unsigned int", &t_ushort }, { "unsigned short int", &t_ushort },
	{ "int", &t_int }, { "signed int", &t_int }, { "signed", &t_int },
	{ "unsigned int", &t_uint }, { "unsigned", &t_uint },
	{ "long", &t_long }, { "long int", &t_long }, { "signed long", &t_long },
	{ "unsigned long", &t_ulong }, { "long unsigned int", &t_ulong },
	{ "unsigned long int", &t_ulong }, { "long long", &t_llong },
	{ "long long int", &t_llong }, { "unsigned long long", &t_ullong },
	{ "long long unsigned int", &t_ullong }, { "unsigned long long int", &t_ullong },
	{ "_Bool", &t_bool }, { "bool", &t_bool }, { "float", &t_float },
	{ "double", &t_double }, { "long double", &t_ldouble },
	{ "__int128", &t_i128 }, { "unsigned __int128", &t_u128 },
	{ "int8_t", &t_schar }, { "uint8_t", &t_uchar }, { "int16_t", &t_short },
	{ "uint16_t", &t_ushort }, { "int32_t", &t_int }, { "uint32_t", &t_uint },
	{ "int64_t", &t_long }, { "uint64_t", &t_ulong }, { "size_t", &t_ulong },
};

struct type *type_builtin(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
		if (!strcmp(builtins[i].name, name))
			return builtins[i].t;
	return NULL;
}

struct type *type_void(void) { return &t_void; }
struct type *type_int(void) { return &t_int; }
struct type *type_long(void) { return &t_long; }
struct type *type_ulong(void) { return &t_ulong; }
struct type *type_char(void) { return &t_char; }
struct type *type_double(void) { return &t_double; }
struct type *type_bool(void) { return &t_int; }
struct type *type_uint(void) { return &t_uint; }
struct type *type_ullong(void) { return &t_ullong; }
struct type *type_llong(void) { return &t_llong; }
struct type *type_float(void) { return &t_float; }
struct type *type_real_bool(void) { return &t_bool; }

/* ---- derived types */

struct type *type_pointer_to(struct type *t)
{
	if (!t->ptr_to) {
		struct type *p = xcalloc(1, sizeof *p);
		p->kind = TY_PTR;
		p->size = 8;
		p->target = t;
		p->count = -1;
		p->is_cxx = t->is_cxx;
		t->ptr_to = p;
	}
	return t->ptr_to;
}

struct type *type_const_of(struct type *t)
{
	if (t->kind == TY_CONST)
		return t;
	if (!t->const_of) {
		struct type *c = xcalloc(1, sizeof *c);
		c->kind = TY_CONST;
		c->size = t->size;
		c->target = t;
		c->count = -1;
		c->is_cxx = t->is_cxx;
		t->const_of = c;
	}
	return t->const_of;
}

struct type *type_function_of(struct type *t)
{
	if (!t->fn_of) {
		struct type *f = xcalloc(1, sizeof *f);
		f->kind = TY_FUNC;
		f->target = t;
		f->count = -1;
		f->is_cxx = t->is_cxx;
		t->fn_of = f;
	}
	return t->fn_of;
}

struct type *type_array_of(struct type *elem, int64_t count)
{
	for (struct type *a = elem->arrays; a; a = a->next_array)
		if (a->count == count && !a->dynamic)
			return a;
	struct type *a = xcalloc(1, sizeof *a);
	a->kind = TY_ARRAY;
	a->target = elem;
	a->count = count;
	a->size = count > 0 ? (uint64_t)count * type_size(elem) : 0;
	a->is_cxx = elem->is_cxx;
	a->next_array = elem->arrays;
	elem->arrays = a;
	return a;
}

/* Free a type and everything derived from it that was allocated (not builtins). */
static void free_derived(struct type *t)
{
	if (t->ptr_to) {
		free_derived(t->ptr_to);
		free(t->ptr_to);
		t->ptr_to = NULL;
	}
	if (t->const_of) {
		free_derived(t->const_of);
		free(t->const_of);
		t->const_of = NULL;
	}
	if (t->fn_of) {
		free_derived(t->fn_of);
		free(t->fn_of);
		t->fn_of = NULL;
	}
	for (struct type *a = t->arrays, *n; a; a = n) {
		n = a->next_array;
		free_derived(a);
		free(a);
	}
	t->arrays = NULL;
}

/* ---- queries */

struct type *type_strip(struct type *t)
{
	while (t && (t->kind == TY_TYPEDEF || t->kind == TY_CONST || t->kind == TY_VOLATILE))
		t = t->target ? t->target : &t_void;
	return t ? t : &t_void;
}

struct type *type_strip_cv(struct type *t)
{
	while (t && (t->kind == TY_CONST || t->kind == TY_VOLATILE))
		t = t->target ? t->target : &t_void;
	return t ? t : &t_void;
}

uint64_t type_size(struct type *t)
{
	for (;;) {
		if (t->kind == TY_TYPEDEF || t->kind == TY_CONST || t->kind == TY_VOLATILE) {
			if (t->size || !t->target)
				return t->size;
			t = t->target;
			continue;
		}
		if (t->kind == TY_ARRAY && !t->size && t->count > 0 && t->target)
			return (uint64_t)t->count * type_size(t->target);
		return t->size;
	}
}

bool type_is_integral(struct type *t)
{
	t = type_strip(t);
	return t->kind == TY_INT || t->kind == TY_CHAR || t->kind == TY_BOOL || t->kind == TY_ENUM;
}

bool type_is_scalar(struct type *t)
{
	t = type_strip(t);
	return type_is_integral(t) || t->kind == TY_FLOAT || t->kind == TY_PTR;
}

bool type_is_aggregate(struct type *t)
{
	t = type_strip(t);
	return t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_CLASS ||
	       t->kind == TY_ARRAY;
}

/* ---- types from DWARF */

struct type_cache {
	struct ptrmap by_off;           /* DIE offset -> index in all */
	VEC(struct type *) all;
};

static void cache_free(struct sym_mod *m)
{
	struct type_cache *c = m->types;
	if (!c)
		return;
	for (size_t i = 0; i < c->all.n; i++) {
		struct type *t = c->all.v[i];
		free_derived(t);
		free(t->fields);
		free(t->enums);
		free(t->params);
		free(t);
	}
	vec_free(&c->all);
	ptrmap_free(&c->by_off);
	free(c);
	m->types = NULL;
}

static struct type_cache *cache_of(struct sym_mod *m)
{
	if (!m->types) {
		m->types = xcalloc(1, sizeof(struct type_cache));
		m->types_free = cache_free;
	}
	return m->types;
}

static bool die_flag(Dwarf_Die *d, int at)
{
	Dwarf_Attribute a;
	bool f = false;
	if (dwarf_attr_integrate(d, at, &a))
		dwarf_formflag(&a, &f);
	return f;
}

static bool die_udata(Dwarf_Die *d, int at, uint64_t *v)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (!dwarf_attr_integrate(d, at, &a) || dwarf_formudata(&a, &w) != 0)
		return false;
	*v = w;
	return true;
}

static bool unit_is_cxx(Dwarf_Die *d)
{
	Dwarf_Die cu;
	if (!dwarf_diecu(d, &cu, NULL, NULL))
		return false;
	int l = dwarf_srclang(&cu);
	return l == DW_LANG_C_plus_plus || l == DW_LANG_C_plus_plus_03 ||
	       l == DW_LANG_C_plus_plus_11 || l == DW_LANG_C_plus_plus_14;
}

static struct type *sub_type(struct sym_mod *m, Dwarf_Die *d)
{
	Dwarf_Attribute a;
	Dwarf_Die t;
	if (!dwarf_attr_integrate(d, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
		return &t_void;
	return type_from_die(m, &t);
}

static struct type *new_type(struct sym_mod *m, Dwarf_Die *d, enum type_kind k)
{
	struct type_cache *c = cache_of(m);
	struct type *t = xcalloc(1, sizeof *t);
	t->kind = k;
	t->mod = m;
	t->die = dwarf_dieoffset(d);
	t->count = -1;
	vec_push(&c->all, t);
	ptrmap_put(&c->by_off, (uintptr_t)t->die, (int)c->all.n - 1);
	return t;
}

/* Bounds of one subrange: count (-1 unknown) or a bound that needs a frame. */
static void subrange_bounds(Dwarf_Die *sub, int64_t *count, bool *dynamic)
{
	uint64_t ub, cnt, lb = 0;
	Dwarf_Attribute a;
	*count = -1;
	*dynamic = false;
	die_udata(sub, DW_AT_lower_bound, &lb);
	if (die_udata(sub, DW_AT_count, &cnt)) {
		*count = (int64_t)cnt;
	} else if (dwarf_attr(sub, DW_AT_upper_bound, &a) || dwarf_attr(sub, DW_AT_count, &a)) {
		if (die_udata(sub, DW_AT_upper_bound, &ub) && dwarf_whatform(&a) != DW_FORM_exprloc)
			*count = ub == (uint64_t)-1 ? 0 : (int64_t)(ub - lb + 1);
		else
			*dynamic = true;
	}
}

static struct type *new_dynamic_array(struct sym_mod *m, struct type *elem, Dwarf_Die *sub)
{
	struct type_cache *c = cache_of(m);
	struct type *t = xcalloc(1, sizeof *t);
	t->kind = TY_ARRAY;
	t->target = elem;
	t->count = -1;
	t->dynamic = true;
	t->mod = m;
	t->bound_die = dwarf_dieoffset(sub);
	t->is_cxx = elem->is_cxx;
	vec_push(&c->all, t);
	return t;
}

/* The element type of the dimension `sub`: the dimensions after it, then elem. */
static struct type *dims_after(struct sym_mod *m, Dwarf_Die *sub, struct type *elem)
{
	Dwarf_Die next = *sub;
	if (dwarf_siblingof(&next, &next) != 0 || dwarf_tag(&next) != DW_TAG_subrange_type)
		return elem;
	struct type *inner = dims_after(m, &next, elem);
	int64_t count;
	bool dyn;
	subrange_bounds(&next, &count, &dyn);
	return dyn ? new_dynamic_array(m, inner, &next) : type_array_of(inner, count);
}

static void build_enum(struct sym_mod *m, Dwarf_Die *d, struct type *t)
{
	Dwarf_Die e;
	size_t cap = 0;
	uint64_t mask = 0;
	bool flag = true;
	t->is_signed = false;
	if (dwarf_child(d, &e) == 0)
		do {
			if (dwarf_tag(&e) != DW_TAG_enumerator)
				continue;
			Dwarf_Attribute a;
			Dwarf_Sword sv = 0;
			Dwarf_Word uv = 0;
			int64_t v = 0;
			if (dwarf_attr(&e, DW_AT_const_value, &a)) {
				if (dwarf_formsdata(&a, &sv) == 0)
					v = sv;
				else if (dwarf_formudata(&a, &uv) == 0)
					v = (int64_t)uv;
			}
			if (t->nenums == cap) {
				cap = cap ? cap * 2 : 8;
				t->enums = xrealloc(t->enums, cap * sizeof *t->enums);
			}
			const char *n = dwarf_diename(&e);
			t->enums[t->nenums++] = (struct type_enumerator){
				n ? pool_intern(&m->st->pool, n) : "?", v };
			/* gdb's flag enum: non-negative values of at most one bit each, no
			 * two sharing a bit */
			if (v < 0) {
				t->is_signed = true;
				flag = false;
			} else if (__builtin_popcountll((uint64_t)v) >= 2 || (mask & (uint64_t)v)) {
				flag = false;
			} else {
				mask |= (uint64_t)v;
			}
		} while (dwarf_siblingof(&e, &e) == 0);
	t->is_flag_enum = flag;
}

static void build_func(struct sym_mod *m, Dwarf_Die *d, struct type *t)
{
	t->target = sub_type(m, d);
	t->prototyped = die_flag(d, DW_AT_prototyped) || t->is_cxx;
	Dwarf_Die p;
	size_t cap = 0;
	if (dwarf_child(d, &p) == 0)
		do {
			int tag = dwarf_tag(&p);
			if (tag == DW_TAG_unspecified_parameters) {
				t->varargs = true;
				continue;
			}
			if (tag != DW_TAG_formal_parameter)
				continue;
			if (t->nparams == cap) {
				cap = cap ? cap * 2 : 4;
				t->params = xrealloc(t->params, cap * sizeof *t->params);
			}
			t->params[t->nparams++] = sub_type(m, &p);
		} while (dwarf_siblingof(&p, &p) == 0);
}

struct type *type_from_die(struct sym_mod *m, Dwarf_Die *d)
{
	struct type_cache *c = cache_of(m);
	int idx = ptrmap_get(&c->by_off, (uintptr_t)dwarf_dieoffset(d));
	if (idx >= 0)
		return c->all.v[idx];
	int tag = dwarf_tag(d);
	const char *name = dwarf_diename(d);
	uint64_t size = 0;
	die_udata(d, DW_AT_byte_size, &size);
	struct type *t;
	switch (tag) {
	case DW_TAG_base_type: {
		uint64_t enc = 0;
		die_udata(d, DW_AT_encoding, &enc);
		enum type_kind k = TY_INT;
		bool sg = true;
		switch (enc) {
		case DW_ATE_boolean: k = TY_BOOL; sg = false; break;
		case DW_ATE_float: case DW_ATE_complex_float: k = TY_FLOAT; break;
		case DW_ATE_signed_char: k = TY_CHAR; break;
		case DW_ATE_unsigned_char: k = TY_CHAR; sg = false; break;
		case DW_ATE_unsigned: case DW_ATE_UTF: sg = false; break;
		default: break;
		}
		/* C++ char8_t/char16_t/char32_t are UTF; plain unsigned ints here */
		t = new_type(m, d, k);
		t->is_signed = sg;
		break;
	}
	case DW_TAG_unspecified_type:
		t = new_type(m, d, TY_VOID);
		break;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		t = new_type(m, d, tag == DW_TAG_pointer_type ? TY_PTR
		                   : tag == DW_TAG_reference_type ? TY_REF : TY_RVREF);
		if (!size)
			size = 8;
		t->size = size;
		t->target = sub_type(m, d);
		break;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
	case DW_TAG_typedef:
		if (tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type) {
			t = sub_type(m, d);   /* gdb prints restrict as the plain type */
			ptrmap_put(&c->by_off, (uintptr_t)dwarf_dieoffset(d),
			           ptrmap_get(&c->by_off, (uintptr_t)t->die));
			return t;
		}
		t = new_type(m, d, tag == DW_TAG_const_type ? TY_CONST
		                   : tag == DW_TAG_volatile_type ? TY_VOLATILE : TY_TYPEDEF);
		t->target = sub_type(m, d);
		size = type_size(t->target);
		break;
	case DW_TAG_array_type: {
		t = new_type(m, d, TY_ARRAY);
		struct type *elem = sub_type(m, d);
		Dwarf_Die sub;
		bool found = false;
		if (dwarf_child(d, &sub) == 0)
			do
				found = dwarf_tag(&sub) == DW_TAG_subrange_type;
			while (!found && dwarf_siblingof(&sub, &sub) == 0);
		t->target = found ? dims_after(m, &sub, elem) : elem;
		if (found)
			subrange_bounds(&sub, &t->count, &t->dynamic);
		if (t->dynamic)
			t->bound_die = dwarf_dieoffset(&sub);
		t->is_cxx = elem->is_cxx;
		t->size = t->count > 0 ? (uint64_t)t->count * type_size(t->target) : 0;
		return t;
	}
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
		t = new_type(m, d, tag == DW_TAG_structure_type ? TY_STRUCT
		                   : tag == DW_TAG_class_type ? TY_CLASS : TY_UNION);
		t->is_decl = die_flag(d, DW_AT_declaration);
		break;
	case DW_TAG_enumeration_type:
		t = new_type(m, d, TY_ENUM);
		t->is_decl = die_flag(d, DW_AT_declaration);
		t->target = sub_type(m, d);
		build_enum(m, d, t);
		if (t->target->kind != TY_VOID)
			t->is_signed = type_strip(t->target)->is_signed;
		break;
	case DW_TAG_subroutine_type:
	case DW_TAG_subprogram:
		t = new_type(m, d, TY_FUNC);
		t->is_cxx = unit_is_cxx(d);
		build_func(m, d, t);
		return t;
	default:
		t = new_type(m, d, TY_UNKNOWN);
		break;
	}
	t->size = size;
	t->is_cxx = unit_is_cxx(d);
	if (name) {
		if (t->is_cxx && (tag == DW_TAG_structure_type || tag == DW_TAG_class_type ||
		                  tag == DW_TAG_union_type || tag == DW_TAG_enumeration_type ||
		                  tag == DW_TAG_typedef))
			t->name = sym_die_qualname(m, d);
		else
			t->name = pool_intern(&m->st->pool, name);
	}
	return t;
}

static void build_fields(struct type *t)
{
	t->fields_done = true;
	struct sym_mod *m = t->mod;
	Dwarf_Die d, f;
	if (!m || !m->dw || !dwarf_offdie(m->dw, t->die, &d) || dwarf_child(&d, &f) != 0)
		return;
	size_t cap = 0;
	do {
		int tag = dwarf_tag(&f);
		bool is_base = tag == DW_TAG_inheritance;
		bool is_static = false;
		if (tag == DW_TAG_variable)          /* DWARF 5 static data member */
			is_static = true;
		else if (tag == DW_TAG_member)
			is_static = die_flag(&f, DW_AT_external) || die_flag(&f, DW_AT_declaration);
		else if (!is_base)
			continue;
		struct type_field fl = { .type = sub_type(m, &f), .is_base = is_base,
		                         .is_static = is_static,
		                         .artificial = die_flag(&f, DW_AT_artificial) };
		/* gdb: the default of the aggregate kind; artificial members private */
		uint64_t acc;
		if (die_udata(&f, DW_AT_accessibility, &acc))
			fl.access = (unsigned char)acc;
		else
			fl.access = t->kind == TY_CLASS ? DW_ACCESS_private : DW_ACCESS_public;
		if (fl.artificial)
			fl.access = DW_ACCESS_private;
		const char *n = dwarf_diename(&f);
		fl.name = n ? pool_intern(&m->st->pool, n) : NULL;
		uint64_t off = 0, bsz = 0, boff = 0, dbo = 0;
		Dwarf_Attribute a;
		if (dwarf_attr(&f, DW_AT_data_member_location, &a)) {
			Dwarf_Word w;
			Dwarf_Op *ops;
			size_t nops;
			if (dwarf_formudata(&a, &w) == 0)
				off = w;
			else if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
			         ops[0].atom == DW_OP_plus_uconst)
				off = ops[0].number;
		}
		fl.bitpos = off * 8;
		if (die_udata(&f, DW_AT_bit_size, &bsz)) {
			fl.bitsize = (unsigned)bsz;
			if (die_udata(&f, DW_AT_data_bit_offset, &dbo)) {
				fl.bitpos = dbo;
			} else if (die_udata(&f, DW_AT_bit_offset, &boff)) {
				/* DWARF 2-4, big-endian-style offset within the storage unit */
				uint64_t storage = 0;
				if (!die_udata(&f, DW_AT_byte_size, &storage))
					storage = type_size(fl.type);
				fl.bitpos = off * 8 + storage * 8 - boff - bsz;
			}
		}
		if (t->nfields == cap) {
			cap = cap ? cap * 2 : 8;
			t->fields = xrealloc(t->fields, cap * sizeof *t->fields);
		}
		t->fields[t->nfields++] = fl;
	} while (dwarf_siblingof(&f, &f) == 0);
}

size_t type_nfields(struct type *t)
{
	if (!t->fields_done && (t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_CLASS))
		build_fields(t);
	return t->nfields;
}

/* Find a type entry of the index by qualified name and tag class. */
static struct type *index_type(struct symtab *st, const char *name, int kind_want,
                               bool want_complete)
{
	for (size_t mi = 0; mi < st->mods.n; mi++)
		if (sym_mod_dwarf(st->mods.v[mi]))
			sym_index_dwarf(st->mods.v[mi]);
	const char *key = pool_find(&st->pool, name);
	if (!key)
		return NULL;
	struct type *decl = NULL;
	for (size_t mi = 0; mi < st->mods.n; mi++) {
		struct sym_mod *m = st->mods.v[mi];
		if (!sym_mod_dwarf(m))
			continue;
		sym_index_dwarf(m);
		for (int i = ptrmap_get(&m->ent_by_name, (uintptr_t)key); i >= 0; i = m->ents.v[i].next) {
			const struct sym_ent *e = &m->ents.v[i];
			if (e->kind != SE_TYPE)
				continue;
			int k;
			switch (e->tag) {
			case DW_TAG_structure_type: k = TY_STRUCT; break;
			case DW_TAG_class_type: k = TY_CLASS; break;
			case DW_TAG_union_type: k = TY_UNION; break;
			case DW_TAG_enumeration_type: k = TY_ENUM; break;
			case DW_TAG_typedef: k = TY_TYPEDEF; break;
			default: k = TY_INT; break;
			}
			if (kind_want >= 0 && k != kind_want &&
			    !(kind_want == TY_STRUCT && k == TY_CLASS))
				continue;
			if (kind_want < 0 && (k == TY_STRUCT || k == TY_CLASS || k == TY_UNION ||
			                      k == TY_ENUM) && !e->decl) {
				/* a bare name finds tags only in C++ */
				Dwarf_Die d;
				if (!dwarf_offdie(m->dw, e->die, &d) || !unit_is_cxx(&d))
					continue;
			}
			Dwarf_Die d;
			if (!dwarf_offdie(m->dw, e->die, &d))
				continue;
			struct type *t = type_from_die(m, &d);
			if (!want_complete || !e->decl)
				return t;
			if (!decl)
				decl = t;
		}
	}
	return want_complete ? NULL : decl;
}

struct type *type_complete(struct symtab *st, struct type *t)
{
	if (!t->is_decl || !t->name || !st)
		return t;
	struct type *full = index_type(st, t->name, t->kind == TY_CLASS ? TY_STRUCT : (int)t->kind, true);
	return full ? full : t;
}

struct type *type_lookup(struct symtab *st, const char *name)
{
	while (*name == ' ')
		name++;
	int want = -1;
	static const struct { const char *kw; int kind; } kws[] = {
		{ "struct ", TY_STRUCT }, { "class ", TY_STRUCT }, { "union ", TY_UNION },
		{ "enum ", TY_ENUM },
	};
	for (size_t i = 0; i < ARRAY_SIZE(kws); i++)
		if (!strncmp(name, kws[i].kw, strlen(kws[i].kw))) {
			want = kws[i].kind;
			name += strlen(kws[i].kw);
			while (*name == ' ')
				name++;
		}
	if (want < 0) {
		struct type *b = type_builtin(name);
		if (b && st) {
			/* a typedef of the program beats a builtin spelling (size_t...) */
			struct type *t = index_type(st, name, TY_TYPEDEF, false);
			if (t)
				return t;
		}
		if (b)
			return b;
	}
	if (!st)
		return NULL;
	struct type *t = index_type(st, name, want, true);
	if (!t)
		t = index_type(st, name, want, false);
	return t;
}

/* ---- types that outlive their symtab (value history) */

struct type_clones {
	struct ptrmap map;              /* original -> index in all */
	VEC(struct type *) all;
	VEC(char *) strings;
};

static const char *clone_str(struct type_clones *s, const char *x)
{
	if (!x)
		return NULL;
	char *c = xstrdup(x);
	vec_push(&s->strings, c);
	return c;
}

struct type *type_clone(struct type_clones **setp, struct type *t)
{
	if (!t)
		return NULL;
	if (!*setp)
		*setp = xcalloc(1, sizeof **setp);
	struct type_clones *s = *setp;
	int i = ptrmap_get(&s->map, (uintptr_t)t);
	if (i >= 0)
		return s->all.v[i];
	if (t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_CLASS)
		type_nfields(t);   /* while the DWARF is still there */
	struct type *c = xmalloc(sizeof *c);
	*c = *t;
	c->mod = NULL;
	c->die = c->bound_die = 0;
	c->fields_done = true;
	c->ptr_to = c->const_of = c->fn_of = c->arrays = c->next_array = NULL;
	c->fields = NULL;
	c->enums = NULL;
	c->params = NULL;
	c->name = clone_str(s, t->name);
	vec_push(&s->all, c);
	ptrmap_put(&s->map, (uintptr_t)t, (int)s->all.n - 1);
	c->target = type_clone(setp, t->target);
	if (t->nfields) {
		c->fields = xmalloc(t->nfields * sizeof *c->fields);
		for (size_t k = 0; k < t->nfields; k++) {
			c->fields[k] = t->fields[k];
			c->fields[k].name = clone_str(s, t->fields[k].name);
			c->fields[k].type = type_clone(setp, t->fields[k].type);
		}
	}
	if (t->nenums) {
		c->enums = xmalloc(t->nenums * sizeof *c->enums);
		for (size_t k = 0; k < t->nenums; k++) {
			c->enums[k].value = t->enums[k].value;
			c->enums[k].name = clone_str(s, t->enums[k].name);
		}
	}
	if (t->nparams) {
		c->params = xmalloc(t->nparams * sizeof *c->params);
		for (size_t k = 0; k < t->nparams; k++)
			c->params[k] = type_clone(setp, t->params[k]);
	}
	return c;
}

void type_clones_free(struct type_clones *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->all.n; i++) {
		struct type *t = s->all.v[i];
		free_derived(t);
		free(t->fields);
		free(t->enums);
		free(t->params);
		free(t);
	}
	vec_free(&s->all);
	for (size_t i = 0; i < s->strings.n; i++)
		free(s->strings.v[i]);
	vec_free(&s->strings);
	ptrmap_free(&s->map);
	free(s);
}
