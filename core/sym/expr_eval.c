/* Evaluating parsed expressions with gdb's rules: C arithmetic conversions,
 * pointer arithmetic scaled by the pointee, array decay, assignment through
 * memory or registers, value history and convenience variables. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"
#include "sym_int.h"
#include "types_int.h"
#include "value_int.h"

/* ---- evaluation */

struct ev {
	const struct expr_env *env;
	const struct sym_ctx *c;
	char **err;
	int depth;
};

static struct value *fail(struct ev *e, char *msg)
{
	if (e->err && !*e->err)
		*e->err = msg;
	else
		free(msg);
	return NULL;
}

static struct value *eval(struct ev *e, const struct expr_node *n);

static bool is_float(struct type *t)
{
	return type_strip(t)->kind == TY_FLOAT;
}

/* Integer promotion and the usual arithmetic conversions (gdb's binop_promote). */
static struct type *promote(struct type *a, struct type *b)
{
	struct type *x = type_strip(a), *y = b ? type_strip(b) : NULL;
	if (is_float(x) || (y && is_float(y))) {
		uint64_t sx = is_float(x) ? x->size : 0, sy = y && is_float(y) ? y->size : 0;
		if (MAX(sx, sy) > 8)
			return type_builtin("long double");
		if (MAX(sx, sy) == 8 || !y || !is_float(x) || !is_float(y))
			return MAX(sx, sy) == 4 && (!y || !is_float(y) || !is_float(x)) ? type_builtin("float")
			                                                              : type_double();
		return type_builtin("float");
	}
	uint64_t s1 = x->size, s2 = y ? y->size : 0;
	bool u1 = !x->is_signed && x->kind != TY_BOOL, u2 = y && !y->is_signed && y->kind != TY_BOOL;
	if (s1 < 4) {
		s1 = 4;
		u1 = false;
	}
	if (y && s2 < 4) {
		s2 = 4;
		u2 = false;
	}
	uint64_t s = MAX(s1, s2);
	bool u = (s1 == s && u1) || (s2 == s && u2);
	if (s >= 16)
		return type_builtin(u ? "unsigned __int128" : "__int128");
	if (s == 8)
		return u ? type_ulong() : type_long();
	return u ? type_uint() : type_int();
}

static struct value *rvalue(struct ev *e, struct value *v)
{
	/* references read through, arrays and functions decay */
	struct value *r = value_coerce_ref(e->c, v);
	value_free(v);
	struct type *t = type_strip(r->type);
	if (t->kind == TY_ARRAY || t->kind == TY_FUNC) {
		struct value *p = value_coerce_array(e->c, r);
		if (p->lval == LV_NONE && r->lval != LV_MEM && t->kind == TY_ARRAY) {
			value_free(p);
			return r;   /* an array not in memory (a string literal): keep it */
		}
		value_free(r);
		return p;
	}
	return r;
}

static struct value *arith(struct ev *e, int op, struct value *a, struct value *b)
{
	struct type *ta = type_strip(a->type), *tb = type_strip(b->type);
	char *err = NULL;
	/* pointer arithmetic */
	if ((op == '+' || op == '-') && (ta->kind == TY_PTR || tb->kind == TY_PTR)) {
		if (ta->kind == TY_PTR && tb->kind == TY_PTR) {
			if (op != '-')
				return fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
			int64_t x, y;
			if (value_as_long(e->c, a, &x, e->err) < 0 || value_as_long(e->c, b, &y, e->err) < 0)
				return NULL;
			uint64_t sz = type_size(ta->target ? ta->target : type_void());
			uint64_t sz2 = type_size(tb->target ? tb->target : type_void());
			if (sz != sz2) {
				return fail(e, xstrdup("First argument of `-' is a pointer and second argument "
				                       "is neither\nan integer nor a pointer of the same type."));
			}
			return value_from_long(type_long(), (int64_t)((uint64_t)x - (uint64_t)y) /
			                                        (int64_t)(sz ? sz : 1));
		}
		struct value *p = ta->kind == TY_PTR ? a : b, *i = ta->kind == TY_PTR ? b : a;
		if (op == '-' && p == b)
			return fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
		if (!type_is_integral(i->type))
			return fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
		int64_t base, k;
		if (value_as_long(e->c, p, &base, e->err) < 0 || value_as_long(e->c, i, &k, e->err) < 0)
			return NULL;
		struct type *pt = type_strip(p->type);
		uint64_t sz = type_size(pt->target ? pt->target : type_void());
		if (!sz)
			sz = 1;
		uint64_t off = (uint64_t)k * sz;
		int64_t r = (int64_t)(op == '+' ? (uint64_t)base + off : (uint64_t)base - off);
		return value_from_long(p->type, r);
	}
	bool cmp = op == '<' || op == '>' || op == 'L' || op == 'G' || op == 'E' || op == 'N';
	if (ta->kind == TY_STRUCT || ta->kind == TY_UNION || ta->kind == TY_CLASS ||
	    tb->kind == TY_STRUCT || tb->kind == TY_UNION || tb->kind == TY_CLASS) {
		static const char *const names[][2] = {
			{ "+", "+" }, { "-", "-" }, { "*", "*" }, { "/", "/" }, { "%", "%" },
			{ "<", "<" }, { ">", ">" }, { "L", "<=" }, { "G", ">=" }, { "E", "==" },
			{ "N", "!=" }, { "l", "<<" }, { "r", ">>" }, { "&", "&" }, { "|", "|" },
			{ "^", "^" },
		};
		const char *on = "?";
		for (size_t k = 0; k < ARRAY_SIZE(names); k++)
			if (names[k][0][0] == op)
				on = names[k][1];
		return fail(e, xasprintf("Structure has no component named operator%s.", on));
	}
	if (!type_is_scalar(ta) || !type_is_scalar(tb)) {
		if (cmp && (op == 'E' || op == 'N'))
			return fail(e, xstrdup("Argument to comparison operation not integer, pointer or boolean."));
		return fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
	}
	if (ta->kind == TY_PTR || tb->kind == TY_PTR) {
		if (!cmp)
			return fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
		int64_t x, y;
		if (value_as_long(e->c, a, &x, e->err) < 0 || value_as_long(e->c, b, &y, e->err) < 0)
			return NULL;
		uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
		int r = op == '<' ? ux < uy : op == '>' ? ux > uy : op == 'L' ? ux <= uy
		      : op == 'G' ? ux >= uy : op == 'E' ? ux == uy : ux != uy;
		return value_from_long(type_int(), r);
	}
	struct type *rt = promote(ta, tb);
	if (is_float(rt)) {
		long double x, y;
		if (value_as_ldouble(e->c, a, &x, e->err) < 0 || value_as_ldouble(e->c, b, &y, e->err) < 0)
			return NULL;
		if (cmp) {
			int r = op == '<' ? x < y : op == '>' ? x > y : op == 'L' ? x <= y
			      : op == 'G' ? x >= y : op == 'E' ? x == y : x != y;
			return value_from_long(type_int(), r);
		}
		long double r;
		switch (op) {
		case '+': r = x + y; break;
		case '-': r = x - y; break;
		case '*': r = x * y; break;
		case '/': r = x / y; break;
		case '%': return fail(e, xstrdup("Integer only operation MOD."));
		default:
			return fail(e, xstrdup("Integer only operation."));
		}
		if (rt->size == 4)
			r = (float)r;
		else if (rt->size == 8)
			r = (double)r;
		return value_from_ldouble(rt, r);
	}
	int64_t x, y;
	if (value_as_long(e->c, a, &x, e->err) < 0 || value_as_long(e->c, b, &y, e->err) < 0)
		return NULL;
	bool u = !rt->is_signed;
	if (rt->size == 4) {
		x = u ? (int64_t)(uint32_t)x : (int64_t)(int32_t)x;
		y = u ? (int64_t)(uint32_t)y : (int64_t)(int32_t)y;
	}
	uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
	if (cmp) {
		int r;
		if (u)
			r = op == '<' ? ux < uy : op == '>' ? ux > uy : op == 'L' ? ux <= uy
			  : op == 'G' ? ux >= uy : op == 'E' ? ux == uy : ux != uy;
		else
			r = op == '<' ? x < y : op == '>' ? x > y : op == 'L' ? x <= y
			  : op == 'G' ? x >= y : op == 'E' ? x == y : x != y;
		return value_from_long(type_int(), r);
	}
	int64_t r = 0;
	switch (op) {
	case '+': r = (int64_t)(ux + uy); break;
	case '-': r = (int64_t)(ux - uy); break;
	case '*': r = (int64_t)(ux * uy); break;
	case '/': case '%':
		if (!y)
			return fail(e, xstrdup("Division by zero"));
		if (u)
			r = (int64_t)(op == '/' ? ux / uy : ux % uy);
		else if (x == INT64_MIN && y == -1)
			r = op == '/' ? x : 0;
		else
			r = op == '/' ? x / y : x % y;
		break;
	case '&': r = x & y; break;
	case '|': r = x | y; break;
	case '^': r = x ^ y; break;
	case 'l': r = uy >= 64 ? 0 : (int64_t)(ux << uy); break;
	case 'r':
		if (uy >= 64)
			r = u || x >= 0 ? 0 : -1;
		else
			r = u ? (int64_t)(ux >> uy) : x >> uy;
		break;
	}
	(void)err;
	/* shifts take the type of the promoted left operand */
	if (op == 'l' || op == 'r')
		rt = promote(ta, NULL);
	return value_from_long(rt, r);
}

static struct value *eval_ident(struct ev *e, const struct expr_node *n)
{
	return value_lookup(e->c, n->str, e->err);
}

/* $name: a convenience variable, else a register, else a void convenience
 * variable (which `$name = x` creates). name must outlive the value's use. */
static struct value *eval_dollar(struct ev *e, const char *name)
{
	struct value *v = expr_conv_get(e->env->hist, name);
	if (v) {
		v->lval = LV_CONV;
		v->conv = name;
		return v;
	}
	char *err = NULL;
	v = value_of_register(e->c, name, &err);
	if (v) {
		free(err);
		return v;
	}
	if (err && strncmp(err, "Invalid register", 16)) {
		/* a register, but not readable now */
		return fail(e, err);
	}
	free(err);
	/* an unset convenience variable is void */
	v = value_new(type_void());
	v->lval = LV_CONV;
	v->conv = name;
	return v;
}

static struct value *eval_hist(struct ev *e, int64_t k)
{
	const struct expr_history *h = e->env->hist;
	size_t count = h ? h->vals.n : 0;
	int64_t idx = k > 0 ? k : (int64_t)count + k;
	if (idx <= 0) {
		if (k == 0)
			return fail(e, xstrdup("The history is empty."));
		return fail(e, xasprintf("History does not go back to $$%ld.", (long)-k));
	}
	if ((size_t)idx > count)
		return fail(e, xasprintf("History has not yet reached $%ld.", (long)idx));
	struct value *v = value_copy(h->vals.v[idx - 1]);
	v->lval = LV_NONE;
	v->readonly = true;
	return v;
}

static struct value *assign(struct ev *e, struct value *lhs, struct value *rhs)
{
	if (lhs->lval == LV_CONV) {
		if (!e->env->hist)
			return fail(e, xstrdup("Left operand of assignment is not a modifiable lvalue."));
		struct value *nv = expr_snapshot(e->c, rhs);
		if (!e->env->no_side_effects)
			expr_conv_set(e->env->hist, lhs->conv, nv);
		nv->lval = LV_CONV;
		nv->conv = lhs->conv;
		return nv;
	}
	if (e->env->no_side_effects) {
		struct value *nv = value_cast(e->c, rhs, lhs->type, NULL);
		return nv ? nv : value_copy(lhs);
	}
	if (lhs->readonly)
		return fail(e, xstrdup("Left operand of assignment is not a modifiable lvalue."));
	if (lhs->lval == LV_NONE)
		return fail(e, xstrdup("Left operand of assignment is not an lvalue."));
	return value_assign(e->c, lhs, rhs, e->err);
}

static struct value *eval_unary(struct ev *e, const struct expr_node *n)
{
	struct value *a = eval(e, n->a), *r = NULL;
	if (!a)
		return NULL;
	switch (n->op) {
	case '&':
		if (type_strip(a->type)->kind == TY_FUNC || type_strip(a->type)->kind == TY_ARRAY ||
		    a->lval == LV_MEM || a->lval == LV_NONE || a->lval == LV_REG || a->lval == LV_CONV)
			r = value_addr(e->c, a, e->err);
		break;
	case '*': {
		struct value *p = rvalue(e, a);
		a = NULL;
		struct type *t = type_strip(p->type);
		if (t->kind == TY_INT || t->kind == TY_CHAR) {
			/* gdb: *INT reads a long there */
			int64_t x;
			if (value_as_long(e->c, p, &x, e->err) == 0)
				r = value_at(type_long(), (uint64_t)x);
		} else {
			r = value_deref(e->c, p, e->err);
		}
		value_free(p);
		break;
	}
	case '-': case '+': case '~': {
		struct value *v = rvalue(e, a);
		a = NULL;
		struct type *t = type_strip(v->type);
		if (!type_is_scalar(t) || (t->kind == TY_PTR)) {
			value_free(v);
			return fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
		}
		struct type *rt = promote(t, NULL);
		if (is_float(rt)) {
			double d;
			if (n->op == '~') {
				value_free(v);
				return fail(e, xstrdup("Argument to complement operation not an integer, boolean."));
			}
			if (value_as_double(e->c, v, &d, e->err) == 0)
				r = value_from_double(rt, n->op == '-' ? -d : d);
		} else {
			int64_t x;
			if (value_as_long(e->c, v, &x, e->err) == 0)
				r = value_from_long(rt, n->op == '-' ? (int64_t)(0 - (uint64_t)x)
				                     : n->op == '~' ? ~x : x);
		}
		value_free(v);
		break;
	}
	case '!': {
		struct value *v = rvalue(e, a);
		a = NULL;
		if (!type_is_scalar(v->type)) {
			value_free(v);
			return fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
		}
		int fe = 0;
		bool t = value_is_true(e->c, v, &fe);
		if (fe < 0) {
			char *msg = NULL;
			int64_t dummy;
			value_as_long(e->c, v, &dummy, &msg);
			value_free(v);
			return fail(e, msg ? msg : xstrdup("Cannot evaluate"));
		}
		value_free(v);
		r = value_from_long(type_int(), !t);
		break;
	}
	}
	value_free(a);
	return r;
}

static struct value *eval_incdec(struct ev *e, const struct expr_node *n, bool post)
{
	struct value *lhs = eval(e, n->a);
	if (!lhs)
		return NULL;
	struct value *cur = value_copy(lhs);
	cur = rvalue(e, cur);
	struct value *one = value_from_long(type_int(), 1);
	struct value *nv = arith(e, n->op == '+' ? '+' : '-', cur, one);
	value_free(one);
	struct value *r = NULL;
	if (nv) {
		struct value *w = assign(e, lhs, nv);
		if (w) {
			if (post) {
				r = expr_snapshot(e->c, cur);
				value_free(w);
			} else {
				r = w;
			}
		}
	}
	value_free(nv);
	value_free(cur);
	value_free(lhs);
	return r;
}

/* a@n: an artificial array of n objects starting at a. */
static struct value *eval_at(struct ev *e, struct value *a, struct value *b)
{
	int64_t cnt;
	if (value_as_long(e->c, b, &cnt, e->err) < 0)
		return NULL;
	if (cnt <= 0)
		return fail(e, xstrdup("Only values in memory can be extended with '@'."));
	if (a->lval != LV_MEM)
		return fail(e, xstrdup("Only values in memory can be extended with '@'."));
	return value_at(type_array_of(a->type, cnt), a->addr);
}

static struct value *eval_binary(struct ev *e, const struct expr_node *n)
{
	if (n->op == 'A' || n->op == 'O') {
		struct value *a = eval(e, n->a);
		if (!a)
			return NULL;
		a = rvalue(e, a);
		int fe = 0;
		bool ta = value_is_true(e->c, a, &fe);
		value_free(a);
		if (fe < 0)
			return fail(e, xstrdup("Cannot evaluate the left operand."));
		if ((n->op == 'A' && !ta) || (n->op == 'O' && ta))
			return value_from_long(type_int(), n->op == 'O');
		struct value *b = eval(e, n->b);
		if (!b)
			return NULL;
		b = rvalue(e, b);
		bool tb = value_is_true(e->c, b, &fe);
		value_free(b);
		return value_from_long(type_int(), tb);
	}
	struct value *a = eval(e, n->a);
	if (!a)
		return NULL;
	struct value *b = eval(e, n->b);
	if (!b) {
		value_free(a);
		return NULL;
	}
	struct value *r;
	if (n->op == '@') {
		r = eval_at(e, a, b);
	} else {
		a = rvalue(e, a);
		b = rvalue(e, b);
		r = arith(e, n->op, a, b);
	}
	value_free(a);
	value_free(b);
	return r;
}

static struct value *eval_member(struct ev *e, const struct expr_node *n, bool arrow)
{
	struct value *a = eval(e, n->a);
	if (!a)
		return NULL;
	struct value *obj = value_coerce_ref(e->c, a);
	value_free(a);
	struct type *t = type_strip(obj->type);
	if (t->kind == TY_PTR) {
		/* gdb allows `.` on pointers and `->` on structures */
		struct value *d = value_deref(e->c, obj, e->err);
		value_free(obj);
		if (!d)
			return NULL;
		obj = d;
	} else if (arrow && t->kind != TY_STRUCT && t->kind != TY_UNION && t->kind != TY_CLASS) {
		value_free(obj);
		struct sbuf b = { 0 };
		type_name(&b, t, NULL);
		char *msg = xasprintf("The -> operator must be applied to pointer or structure types, "
		                      "not `%s'.", sbuf_str(&b));
		sbuf_free(&b);
		return fail(e, msg);
	}
	struct type *ot = type_strip(obj->type);
	if (ot->kind != TY_STRUCT && ot->kind != TY_UNION && ot->kind != TY_CLASS) {
		value_free(obj);
		return fail(e, xasprintf("Attempt to extract a component of a value that is not a %s.",
		                         "structure"));
	}
	struct value *r = value_member(e->c, obj, n->str, e->err);
	value_free(obj);
	return r;
}

static struct value *eval_index(struct ev *e, const struct expr_node *n)
{
	struct value *a = eval(e, n->a);
	if (!a)
		return NULL;
	struct value *i = eval(e, n->b);
	if (!i) {
		value_free(a);
		return NULL;
	}
	struct value *base = value_coerce_ref(e->c, a);
	value_free(a);
	i = rvalue(e, i);
	struct value *r = NULL;
	int64_t k;
	/* C allows i[a] too */
	if (type_is_integral(base->type) && !type_is_integral(i->type)) {
		struct value *t = base;
		base = i;
		i = t;
	}
	if (!type_is_integral(i->type))
		fail(e, xstrdup("Argument to arithmetic operation not a number or boolean."));
	else if (value_as_long(e->c, i, &k, e->err) == 0)
		r = value_index(e->c, base, k, e->err);
	value_free(base);
	value_free(i);
	return r;
}

static struct value *eval_call(struct ev *e, const struct expr_node *n)
{
	struct value *fn = eval(e, n->a);
	if (!fn)
		return NULL;
	if (!e->env->call || e->env->no_side_effects) {
		struct type *t = type_strip(fn->type);
		if (t->kind == TY_PTR)
			t = type_strip(t->target);
		if (e->env->no_side_effects && t->kind == TY_FUNC) {
			struct value *r = value_new(t->target ? t->target : type_int());
			value_free(fn);
			return r;
		}
		value_free(fn);
		return fail(e, xstrdup("You can't do that without a process to debug."));
	}
	struct value **args = xcalloc(n->nargs + 1, sizeof *args);
	struct value *r = NULL;
	size_t k;
	for (k = 0; k < n->nargs; k++) {
		args[k] = eval(e, n->args[k]);
		if (!args[k])
			break;
		args[k] = rvalue(e, args[k]);
	}
	if (k == n->nargs) {
		char *msg = NULL;
		if (e->env->call(e->env->call_arg, fn, args, n->nargs, &r, &msg) < 0)
			fail(e, msg ? msg : xstrdup("The call failed."));
		else
			free(msg);
	}
	for (size_t i = 0; i < n->nargs; i++)
		value_free(args[i]);
	free(args);
	value_free(fn);
	return r;
}

static struct value *eval(struct ev *e, const struct expr_node *n)
{
	if (++e->depth > 400) {
		e->depth--;
		return fail(e, xstrdup("Expression too complex."));
	}
	struct value *r = NULL, *a, *b;
	switch (n->kind) {
	case EK_INT:
		r = value_from_long(n->type, n->ival);
		break;
	case EK_FLOAT:
		r = value_from_double(n->type, n->fval);
		break;
	case EK_STRING:
		r = value_new(type_array_of(type_char(), n->ival + 1));
		memcpy(r->bytes, n->str, (size_t)MIN((size_t)n->ival, r->len));
		break;
	case EK_IDENT:
		r = eval_ident(e, n);
		break;
	case EK_DOLLAR:
		r = eval_dollar(e, n->str);
		break;
	case EK_HIST:
		r = eval_hist(e, n->ival);
		break;
	case EK_TYPE:
		r = fail(e, xstrdup("Attempt to use a type name as an expression"));
		break;
	case EK_UNARY:
		r = eval_unary(e, n);
		break;
	case EK_PREINC:
	case EK_POSTINC:
		r = eval_incdec(e, n, n->kind == EK_POSTINC);
		break;
	case EK_BINARY:
		r = eval_binary(e, n);
		break;
	case EK_ASSIGN:
		a = eval(e, n->a);
		if (!a)
			break;
		b = eval(e, n->b);
		if (!b) {
			value_free(a);
			break;
		}
		b = rvalue(e, b);
		if (n->op) {
			struct value *cur = rvalue(e, value_copy(a));
			struct value *nv = arith(e, n->op, cur, b);
			value_free(cur);
			value_free(b);
			b = nv;
		}
		if (b)
			r = assign(e, a, b);
		value_free(a);
		value_free(b);
		break;
	case EK_COND: {
		a = eval(e, n->a);
		if (!a)
			break;
		a = rvalue(e, a);
		int fe = 0;
		bool t = value_is_true(e->c, a, &fe);
		value_free(a);
		if (fe < 0)
			r = fail(e, xstrdup("Cannot evaluate the condition."));
		else
			r = eval(e, t ? n->b : n->c);
		break;
	}
	case EK_COMMA:
		a = eval(e, n->a);
		if (!a)
			break;
		value_free(a);
		r = eval(e, n->b);
		break;
	case EK_MEMBER:
	case EK_ARROW:
		r = eval_member(e, n, n->kind == EK_ARROW);
		break;
	case EK_INDEX:
		r = eval_index(e, n);
		break;
	case EK_CALL:
		r = eval_call(e, n);
		break;
	case EK_CAST:
		a = eval(e, n->a);
		if (!a)
			break;
		r = value_cast(e->c, a, n->type, e->err);
		value_free(a);
		break;
	case EK_SIZEOF: {
		a = eval(e, n->a);
		if (!a)
			break;
		struct type *t = a->type;
		struct type *s = type_strip(t);
		if (s->kind == TY_REF || s->kind == TY_RVREF)
			t = s->target;
		/* gdb's C gives sizeof the type int */
		if (type_strip(t)->kind == TY_VOID)
			r = value_from_long(type_int(), 1);
		else
			r = value_from_long(type_int(), (int64_t)type_size(t));
		value_free(a);
		break;
	}
	case EK_SIZEOF_TYPE: {
		struct type *t = type_complete(e->c->st, n->type);
		r = value_from_long(type_int(), type_strip(t)->kind == TY_VOID ? 1
		                                                               : (int64_t)type_size(t));
		break;
	}
	}
	e->depth--;
	return r;
}

int expr_eval_node(const struct expr_env *env, const struct expr_node *n, struct value **out,
                   char **err)
{
	struct ev e = { .env = env, .c = &env->ctx, .err = err };
	if (err)
		*err = NULL;
	struct value *v = eval(&e, n);
	if (!v) {
		if (err && !*err)
			*err = xstrdup("Cannot evaluate the expression.");
		return -EINVAL;
	}
	v->conv = NULL;
	*out = v;
	return 0;
}

int expr_eval(const struct expr_env *env, const char *text, struct value **out, char **err)
{
	struct expr_node *n;
	int e = expr_parse(env, text, &n, err);
	if (e < 0)
		return e;
	e = expr_eval_node(env, n, out, err);
	expr_node_free(n);
	return e;
}

int expr_eval_cond(const struct expr_env *env, const char *text, char **err)
{
	struct value *v;
	int e = expr_eval(env, text, &v, err);
	if (e < 0)
		return e;
	struct ev ev = { .env = env, .c = &env->ctx, .err = err };
	v = rvalue(&ev, v);
	int fe = 0;
	bool t = value_is_true(&env->ctx, v, &fe);
	if (fe < 0 && err && !*err) {
		int64_t dummy;
		value_as_long(&env->ctx, v, &dummy, err);
	}
	value_free(v);
	return fe < 0 ? fe : t;
}
