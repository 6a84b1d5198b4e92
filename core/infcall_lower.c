/* Types of an inferior call: checking what the caller described, the default
 * argument promotions of variadic calls, and lowering to the agent's type table.
 *
 * libffi classifies a struct by its elements, laid out with natural alignment. A C
 * struct whose members sit exactly where natural alignment puts them is handed to
 * libffi as it is (nested structs nested, arrays expanded). Anything libffi cannot
 * mirror is rewritten into an equivalent for the ABI:
 *  - larger than 16 bytes: always passed in memory, so a blob of the same size and
 *    alignment (64-byte chunks, words, bytes);
 *  - up to 16 bytes but not naturally laid out (unions, explicit padding, packed
 *    but aligned members): rewind classifies each eightbyte itself as the SysV ABI
 *    does (INTEGER wins over SSE) and gives libffi one integer or floating element
 *    per eightbyte, which makes libffi use the same registers for the same bytes.
 * What neither can express (a misaligned member, which the ABI sends to memory
 * even for a small struct; over-aligned small structs) is refused. A struct that
 * is just a long double is passed as a long double (libffi mishandles its return). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infcall_int.h"

#define SCALAR(k, s) { .kind = (k), .size = (s) }
const struct infcall_type infcall_void = SCALAR(IC_VOID, 0);
const struct infcall_type infcall_s8 = SCALAR(IC_SINT, 1), infcall_u8 = SCALAR(IC_UINT, 1);
const struct infcall_type infcall_s16 = SCALAR(IC_SINT, 2), infcall_u16 = SCALAR(IC_UINT, 2);
const struct infcall_type infcall_s32 = SCALAR(IC_SINT, 4), infcall_u32 = SCALAR(IC_UINT, 4);
const struct infcall_type infcall_s64 = SCALAR(IC_SINT, 8), infcall_u64 = SCALAR(IC_UINT, 8);
const struct infcall_type infcall_ptr = SCALAR(IC_PTR, 8);
const struct infcall_type infcall_float = SCALAR(IC_FLOAT, 4);
const struct infcall_type infcall_double = SCALAR(IC_DOUBLE, 8);
const struct infcall_type infcall_ldouble = SCALAR(IC_LDOUBLE, 16);

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static bool is_agg(const struct infcall_type *ty)
{
	return ty->kind == IC_STRUCT || ty->kind == IC_UNION;
}

static size_t nat_align(const struct infcall_type *ty)
{
	switch (ty->kind) {
	case IC_ARRAY:
		return nat_align(ty->elem);
	case IC_STRUCT:
	case IC_UNION: {
		if (ty->align)
			return ty->align;
		size_t a = 1;
		for (size_t i = 0; i < ty->nmembers; i++)
			a = MAX(a, nat_align(ty->members[i].type));
		return a;
	}
	default:
		return ty->size ? ty->size : 1;
	}
}

static int bad(struct sbuf *err, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct sbuf *err, const char *what, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		if (what)
			sbuf_printf(err, "%s: ", what);
		sbuf_vprintf(err, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int check_rec(const struct infcall_type *ty, bool member, unsigned depth, const char *what,
		     struct sbuf *err)
{
	if (!ty)
		return bad(err, what, "no type given");
	if (depth > 32)
		return bad(err, what, "types nested more than 32 deep");
	switch (ty->kind) {
	case IC_VOID:
		return member ? bad(err, what, "a member of type void") : 0;
	case IC_SINT:
	case IC_UINT:
		if (ty->size == 1 || ty->size == 2 || ty->size == 4 || ty->size == 8)
			return 0;
		return bad(err, what, "an integer of %zu bytes (1, 2, 4 and 8 can be passed)", ty->size);
	case IC_PTR:
		return ty->size == 8 ? 0 : bad(err, what, "a pointer of %zu bytes", ty->size);
	case IC_FLOAT:
		return ty->size == 4 ? 0 : bad(err, what, "a float of %zu bytes", ty->size);
	case IC_DOUBLE:
		return ty->size == 8 ? 0 : bad(err, what, "a double of %zu bytes", ty->size);
	case IC_LDOUBLE:
		return ty->size == 16 ? 0 : bad(err, what, "a long double of %zu bytes", ty->size);
	case IC_ARRAY: {
		if (!member)
			return bad(err, what, "an array by value (an array argument is passed as a pointer to it)");
		int e = check_rec(ty->elem, true, depth + 1, what, err);
		if (e < 0)
			return e;
		if (ty->elem->size && ty->count > ICL_MAX_AGG / ty->elem->size)
			return bad(err, what, "an array of %zu elements", ty->count);
		if (ty->size != ty->count * ty->elem->size)
			return bad(err, what, "an array of %zu x %zu bytes described as %zu bytes",
				   ty->count, ty->elem->size, ty->size);
		return 0;
	}
	case IC_STRUCT:
	case IC_UNION: {
		const char *k = ty->kind == IC_STRUCT ? "struct" : "union";
		if (!ty->nmembers || !ty->size)
			return bad(err, what, "an empty %s (it has no ABI class)", k);
		if (ty->align & (ty->align - 1))
			return bad(err, what, "a %s aligned to %zu bytes", k, ty->align);
		if (nat_align(ty) > 16)
			return bad(err, what, "a %s aligned to %zu bytes by value (at most 16 is supported)",
				   k, nat_align(ty));
		for (size_t i = 0; i < ty->nmembers; i++) {
			const struct infcall_member *m = &ty->members[i];
			int e = check_rec(m->type, true, depth + 1, what, err);
			if (e < 0)
				return e;
			if (m->offset > ty->size || m->type->size > ty->size - m->offset)
				return bad(err, what, "member %zu (offset %zu, %zu bytes) lies outside its "
					   "%zu-byte %s", i, m->offset, m->type->size, ty->size, k);
			if (ty->kind == IC_UNION && m->offset)
				return bad(err, what, "a union member at offset %zu", m->offset);
		}
		return 0;
	}
	}
	return bad(err, what, "an unknown kind of type (%d)", (int)ty->kind);
}

int icl_check(const struct infcall_type *ty, bool as_return, struct sbuf *err)
{
	const char *what = as_return ? "the return type" : "an argument";
	if (!ty || ty->kind == IC_VOID)
		return as_return ? 0 : bad(err, what, "void");
	int e = check_rec(ty, false, 0, what, err);
	if (e == 0 && is_agg(ty) && ty->size > ICL_MAX_AGG)
		return bad(err, what, "a %zu-byte aggregate by value (at most %u bytes)", ty->size,
			   ICL_MAX_AGG);
	return e;
}

bool icl_direct_ok(const struct infcall_type *ty)
{
	return ty->kind == IC_SINT || ty->kind == IC_UINT || ty->kind == IC_PTR ||
	       ty->kind == IC_FLOAT || ty->kind == IC_DOUBLE;
}

size_t icl_buf_size(const struct infcall_type *ty)
{
	if (!ty)
		return 16;
	return MAX((size_t)16, align_up(ty->size, 16));
}

/* C's default argument promotions for the variadic part. */
static void promote(const struct infcall_arg *in, struct infcall_arg *out, uint8_t st[8])
{
	const struct infcall_type *ty = in->type;
	*out = *in;
	if (ty->kind == IC_FLOAT) {
		float f;
		memcpy(&f, in->data, 4);
		double d = f;
		memcpy(st, &d, 8);
		out->type = &infcall_double;
		out->data = st;
	} else if ((ty->kind == IC_SINT || ty->kind == IC_UINT) && ty->size < 4) {
		int32_t v = 0;
		if (ty->kind == IC_SINT)
			v = ty->size == 1 ? *(const int8_t *)in->data : *(const int16_t *)in->data;
		else
			v = ty->size == 1 ? *(const uint8_t *)in->data : *(const uint16_t *)in->data;
		memcpy(st, &v, 4);
		out->type = &infcall_s32;
		out->data = st;
	}
}

int icl_prepare(const struct infcall_fn *fn, const struct infcall_arg *args, size_t nargs,
		struct icl_args *out, struct sbuf *err)
{
	if (nargs > ICL_MAX_ARGS) {
		if (err)
			sbuf_printf(err, "Too many arguments (%zu): rewind passes at most %u.", nargs,
				    ICL_MAX_ARGS);
		return -EINVAL;
	}
	if (fn->variadic && fn->nfixed > nargs) {
		if (err)
			sbuf_printf(err, "Too few arguments in function call.");
		return -EINVAL;
	}
	int e = icl_check(fn->ret, true, err);
	if (e < 0)
		return e;
	for (size_t i = 0; i < nargs; i++) {
		char what[32];
		snprintf(what, sizeof what, "argument %zu", i + 1);
		if (!args[i].type || args[i].type->kind == IC_VOID)
			return bad(err, what, "void");
		if ((e = check_rec(args[i].type, false, 0, what, err)) < 0)
			return e;
		if (is_agg(args[i].type) && args[i].type->size > ICL_MAX_AGG)
			return bad(err, what, "a %zu-byte aggregate by value (at most %u bytes)",
				   args[i].type->size, ICL_MAX_AGG);
		if (!args[i].data)
			return bad(err, what, "no value");
		if (args[i].copy_len) {
			if (args[i].type->kind != IC_PTR)
				return bad(err, what, "passed by reference but not a pointer");
			if (args[i].copy_len > ICL_MAX_REFS - out->refs_len)
				return bad(err, what, "more than %u bytes passed by reference",
					   ICL_MAX_REFS);
			out->ref[i] = args[i].data;
			out->refs_len += (args[i].copy_len + 15) & ~(size_t)15;
			out->v[i] = args[i];
			out->v[i].data = out->promoted[i];   /* the address, once laid out */
			continue;
		}
		if (fn->variadic && i >= fn->nfixed)
			promote(&args[i], &out->v[i], out->promoted[i]);
		else
			out->v[i] = args[i];
	}
	out->n = nargs;
	return 0;
}

/* ---- lowering ---- */

struct lower {
	struct icl_tables *tb;
	uint32_t scalar[RWT__COUNT];   /* node index + 1 of each scalar kind, 0 = none yet */
	struct sbuf *err;
};

typedef VEC(uint32_t) idxvec;

static unsigned scalar_kind(const struct infcall_type *ty)
{
	static const unsigned s[4] = { RWT_S8, RWT_S16, RWT_S32, RWT_S64 };
	static const unsigned u[4] = { RWT_U8, RWT_U16, RWT_U32, RWT_U64 };
	unsigned l = ty->size == 1 ? 0 : ty->size == 2 ? 1 : ty->size == 4 ? 2 : 3;
	switch (ty->kind) {
	case IC_SINT: return s[l];
	case IC_UINT: return u[l];
	case IC_PTR: return RWT_PTR;
	case IC_FLOAT: return RWT_FLOAT;
	case IC_DOUBLE: return RWT_DOUBLE;
	case IC_LDOUBLE: return RWT_LDOUBLE;
	default: return RWT_VOID;
	}
}

static void node_layout(const struct icl_tables *tb, uint32_t i, size_t *size, size_t *align)
{
	static const unsigned char sz[RWT__COUNT] = {
		[RWT_VOID] = 1, [RWT_U8] = 1, [RWT_S8] = 1, [RWT_U16] = 2, [RWT_S16] = 2,
		[RWT_U32] = 4, [RWT_S32] = 4, [RWT_U64] = 8, [RWT_S64] = 8, [RWT_FLOAT] = 4,
		[RWT_DOUBLE] = 8, [RWT_LDOUBLE] = 16, [RWT_PTR] = 8,
	};
	const struct rwagent_type *n = &tb->types.v[i];
	if (n->kind == RWT_STRUCT) {
		*size = n->size;
		*align = n->align;
	} else {
		*size = *align = sz[n->kind];
	}
}

static int too_big(struct lower *L)
{
	if (L->err)
		sbuf_printf(L->err, "The types of this call are too complex for the rewind agent "
			    "(more than %u type nodes or %u struct elements).",
			    RWAGENT_MAX_TYPES, RWAGENT_MAX_ELEMS);
	return -EINVAL;
}

static int push_node(struct lower *L, struct rwagent_type n, uint32_t *idx)
{
	if (L->tb->types.n >= RWAGENT_MAX_TYPES)
		return too_big(L);
	*idx = (uint32_t)L->tb->types.n;
	vec_push(&L->tb->types, n);
	return 0;
}

static int node_scalar(struct lower *L, unsigned kind, uint32_t *idx)
{
	if (L->scalar[kind]) {
		*idx = L->scalar[kind] - 1;
		return 0;
	}
	int e = push_node(L, (struct rwagent_type){ .kind = (uint16_t)kind }, idx);
	if (e == 0)
		L->scalar[kind] = *idx + 1;
	return e;
}

/* A struct node over elements; its size and alignment as libffi will compute them. */
static int node_struct(struct lower *L, const uint32_t *el, size_t n, uint32_t *idx)
{
	if (L->tb->elems.n + n > RWAGENT_MAX_ELEMS)
		return too_big(L);
	size_t off = 0, al = 1;
	for (size_t i = 0; i < n; i++) {
		size_t s, a;
		node_layout(L->tb, el[i], &s, &a);
		off = align_up(off, a) + s;
		al = MAX(al, a);
	}
	struct rwagent_type t = {
		.kind = RWT_STRUCT, .align = (uint16_t)al, .nelem = (uint32_t)n,
		.first = (uint32_t)L->tb->elems.n, .size = (uint32_t)align_up(off, al),
	};
	int e = push_node(L, t, idx);
	if (e < 0)
		return e;
	for (size_t i = 0; i < n; i++)
		vec_push(&L->tb->elems, el[i]);
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	const struct infcall_member *x = *(const struct infcall_member *const *)a;
	const struct infcall_member *y = *(const struct infcall_member *const *)b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Members in offset order (caller frees). */
static const struct infcall_member **sorted(const struct infcall_type *ty)
{
	const struct infcall_member **v = xcalloc(ty->nmembers, sizeof *v);
	for (size_t i = 0; i < ty->nmembers; i++)
		v[i] = &ty->members[i];
	qsort(v, ty->nmembers, sizeof *v, cmp_member);
	return v;
}

/* Whether libffi's natural layout of the members reproduces ty exactly. */
static bool is_natural(const struct infcall_type *ty)
{
	if (ty->kind == IC_ARRAY)
		return ty->count && is_natural(ty->elem);
	if (ty->kind == IC_UNION)
		return false;
	if (ty->kind != IC_STRUCT)
		return true;
	const struct infcall_member **m = sorted(ty);
	size_t cur = 0, al = 1;
	bool ok = true;
	for (size_t i = 0; i < ty->nmembers && ok; i++) {
		size_t a = nat_align(m[i]->type);
		ok = m[i]->type->size && align_up(cur, a) == m[i]->offset && is_natural(m[i]->type);
		cur = m[i]->offset + m[i]->type->size;
		al = MAX(al, a);
	}
	free(m);
	return ok && (!ty->align || ty->align == al) && align_up(cur, al) == ty->size;
}

static int lower_natural(struct lower *L, const struct infcall_type *ty, uint32_t *idx);

/* Append the elements one member contributes to its struct's element list. */
static int append_member(struct lower *L, const struct infcall_type *ty, idxvec *el)
{
	uint32_t n;
	int e = 0;
	if (ty->kind == IC_ARRAY) {
		idxvec one = { 0 };
		e = append_member(L, ty->elem, &one);
		for (size_t i = 0; e == 0 && i < ty->count; i++) {
			if (el->n + one.n > RWAGENT_MAX_ELEMS) {
				e = too_big(L);
				break;
			}
			for (size_t j = 0; j < one.n; j++)
				vec_push(el, one.v[j]);
		}
		vec_free(&one);
		return e;
	}
	if (ty->kind == IC_STRUCT)
		e = lower_natural(L, ty, &n);
	else
		e = node_scalar(L, scalar_kind(ty), &n);
	if (e == 0)
		vec_push(el, n);
	return e;
}

static int lower_natural(struct lower *L, const struct infcall_type *ty, uint32_t *idx)
{
	const struct infcall_member **m = sorted(ty);
	idxvec el = { 0 };
	int e = 0;
	for (size_t i = 0; i < ty->nmembers && e == 0; i++)
		e = append_member(L, m[i]->type, &el);
	if (e == 0)
		e = node_struct(L, el.v, el.n, idx);
	free(m);
	vec_free(&el);
	return e;
}

/* Larger than 16 bytes: passed and returned in memory whatever the members are. */
static int lower_blob(struct lower *L, const struct infcall_type *ty, uint32_t *idx)
{
	idxvec el = { 0 };
	uint32_t n, chunk = 0, u64, u8;
	size_t left = ty->size;
	int e = node_scalar(L, RWT_U64, &u64);
	if (e == 0)
		e = node_scalar(L, RWT_U8, &u8);
	if (e == 0 && nat_align(ty) == 16) {
		/* Only long double has that alignment in libffi's eyes. */
		if ((e = node_scalar(L, RWT_LDOUBLE, &n)) == 0)
			vec_push(&el, n);
		left -= 16;
	}
	if (e == 0 && left >= 64) {
		uint32_t w[8] = { u64, u64, u64, u64, u64, u64, u64, u64 };
		e = node_struct(L, w, 8, &chunk);
	}
	for (; e == 0 && left >= 64; left -= 64)
		vec_push(&el, chunk);
	for (; e == 0 && left >= 8; left -= 8)
		vec_push(&el, u64);
	for (; e == 0 && left; left--)
		vec_push(&el, u8);
	if (e == 0)
		e = node_struct(L, el.v, el.n, idx);
	vec_free(&el);
	return e;
}

enum cls { C_NONE, C_INT, C_SSE };

static int classify(const struct infcall_type *ty, size_t base, enum cls c[2], struct sbuf *err)
{
	switch (ty->kind) {
	case IC_ARRAY:
		for (size_t i = 0; i < ty->count; i++) {
			int e = classify(ty->elem, base + i * ty->elem->size, c, err);
			if (e < 0)
				return e;
		}
		return 0;
	case IC_STRUCT:
	case IC_UNION:
		for (size_t i = 0; i < ty->nmembers; i++) {
			int e = classify(ty->members[i].type, base + ty->members[i].offset, c, err);
			if (e < 0)
				return e;
		}
		return 0;
	case IC_LDOUBLE:
		return bad(err, NULL, "a long double inside a union or an unusually laid out "
			   "struct (not supported by value)");
	default:
		if (base % nat_align(ty))
			return bad(err, NULL, "a packed struct with a misaligned member (the ABI "
				   "passes it in memory, which libffi cannot express)");
		enum cls k = ty->kind == IC_FLOAT || ty->kind == IC_DOUBLE ? C_SSE : C_INT;
		size_t w = base / 8;
		if (c[w] != C_INT)
			c[w] = k;
		return 0;
	}
}

/* Up to 16 bytes, not naturally laid out: one element per eightbyte, as classified. */
static int lower_synth(struct lower *L, const struct infcall_type *ty, uint32_t *idx)
{
	enum cls c[2] = { C_NONE, C_NONE };
	if (nat_align(ty) > 8)
		return bad(L->err, NULL, "an over-aligned struct or union of %zu bytes", ty->size);
	int e = classify(ty, 0, c, L->err);
	if (e < 0)
		return e;
	uint32_t el[2];
	size_t words = (ty->size + 7) / 8;
	for (size_t w = 0; w < words; w++) {
		size_t rem = MIN((size_t)8, ty->size - 8 * w);
		unsigned k;
		if (c[w] == C_NONE)
			return bad(L->err, NULL, "a struct or union with an eightbyte of padding only");
		if (c[w] == C_SSE)
			k = rem <= 4 ? RWT_FLOAT : RWT_DOUBLE;
		else
			k = rem <= 1 ? RWT_U8 : rem <= 2 ? RWT_U16 : rem <= 4 ? RWT_U32 : RWT_U64;
		if ((e = node_scalar(L, k, &el[w])) < 0)
			return e;
	}
	return node_struct(L, el, words, idx);
}

/* An aggregate holding exactly one long double at offset 0 (class X87). */
static bool only_ldouble(const struct infcall_type *ty)
{
	if (ty->kind == IC_LDOUBLE)
		return true;
	if (ty->size != 16)
		return false;
	if (ty->kind == IC_ARRAY)
		return ty->count == 1 && only_ldouble(ty->elem);
	if (!is_agg(ty))
		return false;
	for (size_t i = 0; i < ty->nmembers; i++)
		if (ty->members[i].offset || !only_ldouble(ty->members[i].type))
			return false;
	return true;
}

static int lower_type(struct lower *L, const struct infcall_type *ty, uint32_t *idx)
{
	if (!ty || ty->kind == IC_VOID)
		return node_scalar(L, RWT_VOID, idx);
	/* libffi 3.4 returns such a struct from rax:rdx, but the ABI puts it in st(0),
	 * as for a plain long double; passed, both go to memory. Same bytes either way. */
	if (!is_agg(ty) || only_ldouble(ty))
		return node_scalar(L, scalar_kind(ty->kind == IC_LDOUBLE || !is_agg(ty) ? ty :
						  &infcall_ldouble), idx);
	if (ty->size > 16)
		return lower_blob(L, ty, idx);
	if (is_natural(ty))
		return lower_natural(L, ty, idx);
	return lower_synth(L, ty, idx);
}

int icl_lower(const struct infcall_type *ret, const struct icl_args *a, struct icl_tables *tb,
	      struct sbuf *err)
{
	struct sbuf why = { 0 };
	struct lower L = { .tb = tb, .err = &why };
	memset(tb, 0, sizeof *tb);
	int e = lower_type(&L, ret, &tb->ret);
	size_t i = 0;
	for (; e == 0 && i < a->n; i++)
		e = lower_type(&L, a->v[i].type, &tb->args[i]);
	tb->nargs = a->n;
	if (e < 0) {
		if (err && e == -EINVAL && why.len && !strncmp(why.s, "The types", 9))
			sbuf_puts(err, why.s);
		else if (err && i == 0)
			sbuf_printf(err, "the return type: %s", sbuf_str(&why));
		else if (err)
			sbuf_printf(err, "argument %zu: %s", i, sbuf_str(&why));
		icl_tables_free(tb);
	}
	sbuf_free(&why);
	return e;
}

void icl_tables_free(struct icl_tables *tb)
{
	vec_free(&tb->types);
	vec_free(&tb->elems);
}
