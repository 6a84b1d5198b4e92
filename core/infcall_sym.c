/* `print f(x)`: the expression evaluator's call hook (core/sym/expr.h). Turns the
 * function's and the arguments' DWARF types into infcall types, coerces the
 * arguments as gdb does (to the prototype's parameter types; references and string
 * literals passed by address), calls, and wraps the result as a value. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "infcall.h"
#include "sym/types.h"
#include "sym/value.h"

/* Everything allocated for one call's types. */
struct conv {
	VEC(void *) allocs;
	char **err;
};

static void *conv_alloc(struct conv *cv, size_t n)
{
	void *p = xcalloc(1, n);
	vec_push(&cv->allocs, p);
	return p;
}

static int unsupported(struct conv *cv, struct type *t, const char *why)
{
	struct sbuf b = { 0 };
	sbuf_puts(&b, "Cannot pass or return a value of type ");
	type_name(&b, t, NULL);
	sbuf_printf(&b, " in a function call: %s.", why);
	*cv->err = sbuf_steal(&b);
	return -EINVAL;
}

static const struct infcall_type *int_type(uint64_t size, bool is_signed)
{
	static const struct infcall_type *const s[] = { &infcall_s8, &infcall_s16, NULL, &infcall_s32,
							NULL, NULL, NULL, &infcall_s64 };
	static const struct infcall_type *const u[] = { &infcall_u8, &infcall_u16, NULL, &infcall_u32,
							NULL, NULL, NULL, &infcall_u64 };
	if (size < 1 || size > 8)
		return NULL;
	return is_signed ? s[size - 1] : u[size - 1];
}

static int conv_type(struct conv *cv, struct type *t, const struct infcall_type **out, int depth)
{
	struct type *s = type_strip(t);
	if (depth > 32)
		return unsupported(cv, t, "nested too deeply");
	switch (s->kind) {
	case TY_VOID:
		*out = &infcall_void;
		return 0;
	case TY_INT: case TY_CHAR: case TY_ENUM: case TY_BOOL:
		*out = int_type(s->size ? s->size : 4, s->kind != TY_BOOL && s->is_signed);
		return *out ? 0 : unsupported(cv, t, "integers of this size cannot be passed");
	case TY_FLOAT:
		*out = s->size == 4 ? &infcall_float : s->size == 8 ? &infcall_double :
		       s->size == 16 ? &infcall_ldouble : NULL;
		return *out ? 0 : unsupported(cv, t, "floating type of an unknown size");
	case TY_PTR: case TY_REF: case TY_RVREF:
		*out = &infcall_ptr;
		return 0;
	case TY_ARRAY: {
		if (s->count < 0)
			return unsupported(cv, t, "an array of unknown size");
		struct infcall_type *a = conv_alloc(cv, sizeof *a);
		a->kind = IC_ARRAY;
		a->size = s->size;
		a->count = (size_t)s->count;
		*out = a;
		return conv_type(cv, s->target, &a->elem, depth + 1);
	}
	case TY_STRUCT: case TY_UNION: case TY_CLASS: {
		if (s->is_decl)
			return unsupported(cv, t, "its definition is not known");
		size_t n = type_nfields(s), k = 0;
		struct infcall_member *m = conv_alloc(cv, (n ? n : 1) * sizeof *m);
		for (size_t i = 0; i < n; i++) {
			const struct type_field *f = &s->fields[i];
			if (f->is_static)
				continue;
			if (f->bitsize) {
				/* A bit-field: the integer storage unit that holds it. */
				uint64_t unit = type_size(f->type);
				if (!int_type(unit, false))
					return unsupported(cv, t, "a bit-field of an odd type");
				m[k].offset = (f->bitpos / 8) & ~(unit - 1);
				m[k++].type = int_type(unit, false);
				continue;
			}
			m[k].offset = f->bitpos / 8;
			int e = conv_type(cv, f->type, &m[k++].type, depth + 1);
			if (e < 0)
				return e;
		}
		struct infcall_type *a = conv_alloc(cv, sizeof *a);
		a->kind = s->kind == TY_UNION ? IC_UNION : IC_STRUCT;
		a->size = s->size;
		a->members = m;
		a->nmembers = k;
		*out = a;
		return 0;
	}
	default:
		return unsupported(cv, t, "rewind cannot pass this kind of type");
	}
}

/* The function's address and type; its name for messages. */
static int callee(const struct infcall_expr *ie, struct value *fn, uint64_t *addr, struct type **ft,
		  const char **name, char **err)
{
	struct type *t = type_strip(fn->type);
	*addr = fn->addr;
	if (t->kind == TY_PTR) {
		int64_t a;
		if (value_as_long(ie->ctx, fn, &a, err) < 0)
			return -EINVAL;
		*addr = (uint64_t)a;
		t = type_strip(t->target);
	} else if (t->kind == TY_FUNC && fn->lval != LV_MEM) {
		t = NULL;
	}
	struct sym_addr_info info;
	*name = NULL;
	if (ie->ctx->st && symtab_describe(ie->ctx->st, *addr, &info) == 0 && info.offset == 0)
		*name = info.func;
	if (!t || t->kind != TY_FUNC) {
		*err = xstrdup("Invalid data type for function to be called.");
		return -EINVAL;
	}
	if (!t->target) {
		*err = xasprintf("'%s' has unknown return type; cast the call to its declared return "
				 "type", *name ? *name : "function");
		return -EINVAL;
	}
	*ft = t;
	return 0;
}

/* One argument as the prototype wants it. *owned is a value to free afterwards. */
static int coerce(const struct infcall_expr *ie, struct conv *cv, struct type *ft, size_t i,
		  struct value *v, struct infcall_arg *a, struct value **owned)
{
	struct type *pt = i < ft->nparams ? ft->params[i] : NULL;
	struct type *ps = pt ? type_strip(pt) : NULL;
	*owned = NULL;
	if (ps && (ps->kind == TY_REF || ps->kind == TY_RVREF)) {
		/* By reference: the object's address, or a copy of it for the call. */
		if (value_fetch(ie->ctx, v) < 0) {
			*cv->err = xstrdup(v->error ? v->error : "Cannot read an argument.");
			return -EINVAL;
		}
		a->type = &infcall_ptr;
		if (v->lval == LV_MEM) {
			uint64_t *p = conv_alloc(cv, sizeof *p);
			*p = v->addr;
			a->data = p;
		} else {
			a->data = v->bytes;
			a->copy_len = v->len;
		}
		return 0;
	}
	if (type_strip(v->type)->kind == TY_ARRAY && v->lval != LV_MEM) {
		/* An array not in memory (a string literal): passed by address of a copy. */
		if (value_fetch(ie->ctx, v) < 0) {
			*cv->err = xstrdup(v->error ? v->error : "Cannot read an argument.");
			return -EINVAL;
		}
		a->type = &infcall_ptr;
		a->data = v->bytes;
		a->copy_len = v->len;
		return 0;
	}
	if (ps && type_is_scalar(ps) && type_strip(v->type) != ps) {
		v = *owned = value_cast(ie->ctx, v, pt, cv->err);
		if (!v)
			return -EINVAL;
	} else if (!pt && !ft->prototyped) {
		/* An unprototyped (K&R) function: float is passed as double. */
		struct type *vs = type_strip(v->type);
		if (vs->kind == TY_FLOAT && vs->size == 4) {
			v = *owned = value_cast(ie->ctx, v, type_builtin("double"), cv->err);
			if (!v)
				return -EINVAL;
		}
	}
	if (value_fetch(ie->ctx, v) < 0) {
		*cv->err = xstrdup(v->error ? v->error : "Cannot read an argument.");
		return -EINVAL;
	}
	a->data = v->bytes;
	return conv_type(cv, v->type, &a->type, 0);
}

int infcall_expr_call(void *arg, struct value *fn, struct value **args, size_t nargs,
		      struct value **out, char **err)
{
	const struct infcall_expr *ie = arg;
	struct conv cv = { .err = err };
	uint64_t addr;
	struct type *ft;
	const char *name;
	*out = NULL;
	*err = NULL;
	int e = callee(ie, fn, &addr, &ft, &name, err);
	if (e < 0)
		return e;
	if (nargs < ft->nparams) {
		*err = xstrdup("Too few arguments in function call.");
		return -EINVAL;
	}
	struct infcall_arg *a = xcalloc(nargs + 1, sizeof *a);
	struct value **owned = xcalloc(nargs + 1, sizeof *owned);
	const struct infcall_type *ret = NULL;
	for (size_t i = 0; e == 0 && i < nargs; i++)
		e = coerce(ie, &cv, ft, i, args[i], &a[i], &owned[i]);
	if (e == 0)
		e = conv_type(&cv, ft->target, &ret, 0);
	struct value *r = NULL;
	if (e == 0) {
		struct infcall_fn f = { .addr = addr, .name = name, .ret = ret,
					.variadic = ft->varargs, .nfixed = ft->nparams };
		struct sbuf msg = { 0 };
		r = value_new(ft->target);
		size_t need = ret->kind == IC_VOID ? 0 : ret->size;
		uint8_t *buf = xcalloc(1, need + 16);
		e = infcall_run(ie->inf, ie->t, &f, a, nargs, buf, need + 16, NULL, &msg);
		if (e == 0) {
			memcpy(r->bytes, buf, MIN(need, r->len));
			r->lazy = false;
		} else {
			*err = sbuf_steal(&msg);
			value_free(r);
			r = NULL;
		}
		free(buf);
		sbuf_free(&msg);
	}
	for (size_t i = 0; i < nargs; i++)
		value_free(owned[i]);
	free(owned);
	free(a);
	for (size_t i = 0; i < cv.allocs.n; i++)
		free(cv.allocs.v[i]);
	vec_free(&cv.allocs);
	*out = r;
	return e;
}
