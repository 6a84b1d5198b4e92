/* Values: lazy fetching (through the target, or from the files before `run`),
 * bitfields, members, indexing, dereference, address-of, casts, assignment and
 * registers by gdb name. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/regs.h"
#include "sym_int.h"
#include "types_int.h"
#include "value.h"
#include "value_int.h"

#define MAX_VALUE_SIZE 65536   /* gdb's max-value-size */

static char *errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errf(const char *fmt, ...)
{
	struct sbuf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	return sbuf_steal(&b);
}

static void set_err(char **err, char *msg)
{
	if (err && !*err)
		*err = msg;
	else
		free(msg);
}

struct value *value_new(struct type *t)
{
	struct value *v = xcalloc(1, sizeof *v);
	v->type = t;
	uint64_t sz = type_size(t);
	if (sz > MAX_VALUE_SIZE)
		sz = 0;
	v->len = (size_t)sz;
	v->bytes = xcalloc(1, v->len ? v->len : 1);
	return v;
}

struct value *value_at(struct type *t, uint64_t addr)
{
	struct value *v = value_new(t);
	v->lval = LV_MEM;
	v->addr = addr;
	v->lazy = true;
	return v;
}

static void store_int(uint8_t *b, size_t len, uint64_t x)
{
	for (size_t i = 0; i < len && i < 8; i++)
		b[i] = (uint8_t)(x >> (8 * i));
	for (size_t i = 8; i < len; i++)
		b[i] = (int64_t)x < 0 ? 0xff : 0;
}

struct value *value_from_long(struct type *t, int64_t x)
{
	struct value *v = value_new(t);
	struct type *s = type_strip(t);
	if (s->kind == TY_FLOAT) {
		value_free(v);
		return value_from_double(t, (double)x);
	}
	store_int(v->bytes, v->len, (uint64_t)x);
	return v;
}

struct value *value_from_double(struct type *t, double d)
{
	return value_from_ldouble(t, d);
}

struct value *value_optimized_out(struct type *t)
{
	struct value *v = value_new(t);
	v->optimized_out = true;
	return v;
}

struct value *value_copy(const struct value *v)
{
	struct value *n = xmalloc(sizeof *n);
	*n = *v;
	n->bytes = xmalloc(v->len ? v->len : 1);
	memcpy(n->bytes, v->bytes, v->len ? v->len : 1);
	n->error = v->error ? xstrdup(v->error) : NULL;
	if (v->optmask) {
		n->optmask = xmalloc(v->len ? v->len : 1);
		memcpy(n->optmask, v->optmask, v->len ? v->len : 1);
	}
	return n;
}

/* Take the availability of bytes [off, off + r->len) of v into r. */
static void inherit_mask(struct value *r, const struct value *v, size_t off)
{
	if (!v->optmask)
		return;
	size_t masked = 0;
	for (size_t k = 0; k < r->len && off + k < v->len; k++)
		masked += v->optmask[off + k] != 0;
	if (!masked)
		return;
	if (masked == r->len || r->bitsize) {
		r->optimized_out = true;
		return;
	}
	r->optmask = xcalloc(1, r->len);
	for (size_t k = 0; k < r->len && off + k < v->len; k++)
		r->optmask[k] = v->optmask[off + k];
}

bool value_partly_optimized_out(const struct value *v)
{
	if (v->optimized_out)
		return true;
	for (size_t k = 0; v->optmask && k < v->len; k++)
		if (v->optmask[k])
			return true;
	return false;
}

void value_free(struct value *v)
{
	if (!v)
		return;
	free(v->optmask);
	free(v->bytes);
	free(v->error);
	free(v);
}

int value_read_mem(const struct sym_ctx *c, uint64_t addr, void *buf, size_t len)
{
	if (c->acc)
		return c->acc->read_mem(c->acc->ctx, addr, buf, len);
	struct sym_mod *m = c->st ? sym_mod_at(c->st, addr) : NULL;
	if (!m)
		return -EIO;
	return sym_read_image(m, addr, buf, len);
}

static uint64_t load_uint(const uint8_t *b, size_t len)
{
	uint64_t x = 0;
	for (size_t i = 0; i < len && i < 8; i++)
		x |= (uint64_t)b[i] << (8 * i);
	return x;
}

/* Extract a bitfield of `bits` bits at bit `pos` of b into dst (len bytes). */
static void extract_bits(const uint8_t *b, unsigned pos, unsigned bits, bool sign,
                         uint8_t *dst, size_t len)
{
	uint64_t x = 0;
	for (unsigned i = 0; i < bits && i < 64; i++) {
		unsigned p = pos + i;
		if (b[p / 8] & (1u << (p % 8)))
			x |= 1ull << i;
	}
	if (sign && bits && bits < 64 && (x & (1ull << (bits - 1))))
		x |= ~0ull << bits;
	store_int(dst, len, x);
}

int value_fetch(const struct sym_ctx *c, struct value *v)
{
	if (v->optimized_out)
		return -ENODATA;
	if (v->error)
		return -EIO;
	if (!v->lazy)
		return 0;
	v->lazy = false;
	uint64_t sz = type_size(v->type);
	if (sz > MAX_VALUE_SIZE) {
		v->error = errf("value requires %lu bytes, which is more than max-value-size",
		                (unsigned long)sz);
		return -E2BIG;
	}
	if (v->bitsize) {
		uint8_t tmp[16] = { 0 };
		size_t n = (v->bitpos + v->bitsize + 7) / 8;
		if (n > sizeof tmp || value_read_mem(c, v->addr, tmp, n) < 0) {
			v->error = errf("Cannot access memory at address 0x%lx", (unsigned long)v->addr);
			return -EIO;
		}
		extract_bits(tmp, v->bitpos, v->bitsize, type_strip(v->type)->is_signed, v->bytes,
		             v->len);
		return 0;
	}
	if (v->len && value_read_mem(c, v->addr, v->bytes, v->len) < 0) {
		v->error = errf("Cannot access memory at address 0x%lx", (unsigned long)v->addr);
		return -EIO;
	}
	return 0;
}

static int fetch_err(const struct sym_ctx *c, struct value *v, char **err)
{
	int e = value_fetch(c, v);
	if (e == 0 && v->optmask && value_partly_optimized_out(v) && type_is_scalar(v->type))
		e = -ENODATA;
	if (e == -ENODATA)
		set_err(err, xstrdup("value has been optimized out"));
	else if (e < 0)
		set_err(err, xstrdup(v->error));
	return e;
}

int value_as_long(const struct sym_ctx *c, struct value *v, int64_t *out, char **err)
{
	int e = fetch_err(c, v, err);
	if (e < 0)
		return e;
	struct type *t = type_strip(v->type);
	switch (t->kind) {
	case TY_INT: case TY_CHAR: case TY_BOOL: case TY_ENUM: {
		uint64_t x = load_uint(v->bytes, v->len);
		if (t->is_signed && v->len < 8 && v->len && (x & (1ull << (8 * v->len - 1))))
			x |= ~0ull << (8 * v->len);
		*out = (int64_t)x;
		return 0;
	}
	case TY_PTR: case TY_REF: case TY_RVREF:
		*out = (int64_t)load_uint(v->bytes, 8);
		return 0;
	case TY_FLOAT: {
		double d;
		value_as_double(c, v, &d, err);
		*out = (int64_t)d;
		return 0;
	}
	case TY_FUNC:
		if (v->lval == LV_MEM) {
			*out = (int64_t)v->addr;
			return 0;
		}
		/* fall through */
	default:
		set_err(err, xstrdup("Value can't be converted to integer."));
		return -EINVAL;
	}
}

int value_as_double(const struct sym_ctx *c, struct value *v, double *out, char **err)
{
	long double ld;
	int e = value_as_ldouble(c, v, &ld, err);
	if (e == 0)
		*out = (double)ld;
	return e;
}

struct value *value_from_ldouble(struct type *t, long double d)
{
	struct value *v = value_new(t);
	if (v->len == 4) {
		float f = (float)d;
		memcpy(v->bytes, &f, 4);
	} else if (v->len == 8) {
		double x = (double)d;
		memcpy(v->bytes, &x, 8);
	} else if (v->len >= 10) {
		memcpy(v->bytes, &d, 10);
	}
	return v;
}

int value_as_ldouble(const struct sym_ctx *c, struct value *v, long double *out, char **err)
{
	int e = fetch_err(c, v, err);
	if (e < 0)
		return e;
	struct type *t = type_strip(v->type);
	if (t->kind == TY_FLOAT) {
		if (v->len == 4) {
			float f;
			memcpy(&f, v->bytes, 4);
			*out = f;
		} else if (v->len == 8) {
			double d;
			memcpy(&d, v->bytes, 8);
			*out = d;
		} else {
			long double ld = 0;
			memcpy(&ld, v->bytes, MIN(v->len, 10));
			*out = ld;
		}
		return 0;
	}
	int64_t x;
	e = value_as_long(c, v, &x, err);
	if (e < 0)
		return e;
	*out = (t->kind == TY_INT && !t->is_signed) ? (long double)(uint64_t)x : (long double)x;
	return 0;
}

bool value_is_true(const struct sym_ctx *c, struct value *v, int *errp)
{
	struct type *t = type_strip(v->type);
	char *err = NULL;
	int e;
	bool r = false;
	if (t->kind == TY_FLOAT) {
		double d;
		e = value_as_double(c, v, &d, &err);
		r = d != 0;
	} else {
		int64_t x = 0;
		e = value_as_long(c, v, &x, &err);
		r = x != 0;
	}
	free(err);
	if (errp)
		*errp = e;
	return r;
}

struct value *value_field(const struct sym_ctx *c, struct value *v, size_t i)
{
	struct type *t = type_complete(c->st, type_strip(v->type));
	type_nfields(t);
	const struct type_field *f = &t->fields[i];
	if (f->is_static)
		return value_static_member(c, t, f);
	struct value *r;
	unsigned byte = (unsigned)(f->bitpos / 8), bit = (unsigned)(f->bitpos % 8);
	if (v->optimized_out || v->error) {
		r = value_new(f->type);
		r->optimized_out = v->optimized_out;
		r->error = v->error ? xstrdup(v->error) : NULL;
		return r;
	}
	if (v->lazy && v->lval == LV_MEM) {
		r = value_at(f->type, v->addr + byte);
		if (f->bitsize) {
			r->bitpos = bit;
			r->bitsize = f->bitsize;
		}
		return r;
	}
	r = value_new(f->type);
	if (f->bitsize) {
		if ((bit + f->bitsize + 7) / 8 + byte <= v->len)
			extract_bits(v->bytes + byte, bit, f->bitsize, type_strip(f->type)->is_signed,
			             r->bytes, r->len);
		r->bitpos = bit;
		r->bitsize = f->bitsize;
	} else if (byte + r->len <= v->len) {
		memcpy(r->bytes, v->bytes + byte, r->len);
	}
	inherit_mask(r, v, byte);
	if (v->lval == LV_MEM) {
		r->lval = LV_MEM;
		r->addr = v->addr + byte;
	}
	return r;
}

static struct value *find_member(const struct sym_ctx *c, struct value *v, const char *name)
{
	struct type *t = type_complete(c->st, type_strip(v->type));
	size_t n = type_nfields(t);
	for (size_t i = 0; i < n; i++)
		if (t->fields[i].name && !strcmp(t->fields[i].name, name) && !t->fields[i].is_base)
			return value_field(c, v, i);
	for (size_t i = 0; i < n; i++) {
		const struct type_field *f = &t->fields[i];
		struct type *ft = type_strip(f->type);
		if ((f->name && !f->is_base) ||
		    (ft->kind != TY_STRUCT && ft->kind != TY_UNION && ft->kind != TY_CLASS))
			continue;
		struct value *sub = value_field(c, v, i);
		struct value *r = find_member(c, sub, name);
		value_free(sub);
		if (r)
			return r;
	}
	return NULL;
}

struct value *value_member(const struct sym_ctx *c, struct value *v, const char *name,
                           char **err)
{
	struct type *t = type_strip(v->type);
	if (t->kind != TY_STRUCT && t->kind != TY_UNION && t->kind != TY_CLASS) {
		set_err(err, xstrdup("Attempt to extract a component of a value that is not a structure."));
		return NULL;
	}
	struct value *r = find_member(c, v, name);
	if (!r)
		set_err(err, errf("There is no member named %s.", name));
	return r;
}

struct value *value_coerce_ref(const struct sym_ctx *c, struct value *v)
{
	struct type *t = type_strip(v->type);
	if (t->kind != TY_REF && t->kind != TY_RVREF)
		return value_copy(v);
	int64_t a;
	char *err = NULL;
	if (value_as_long(c, v, &a, &err) < 0) {
		struct value *r = value_new(t->target);
		r->error = err ? err : xstrdup("Cannot access memory");
		r->optimized_out = v->optimized_out;
		return r;
	}
	return value_at(t->target, (uint64_t)a);
}

struct value *value_index(const struct sym_ctx *c, struct value *v, int64_t i, char **err)
{
	struct type *t = type_strip(v->type);
	if (t->kind == TY_ARRAY) {
		struct type *et = t->target;
		uint64_t es = type_size(et);
		if (v->lval == LV_MEM && (v->lazy || i < 0 || (uint64_t)i * es + es > v->len))
			return value_at(et, v->addr + (uint64_t)i * es);
		if (i < 0 || (uint64_t)i * es + es > v->len) {
			set_err(err, xstrdup("no such vector element"));
			return NULL;
		}
		struct value *r = value_new(et);
		memcpy(r->bytes, v->bytes + (uint64_t)i * es, r->len);
		r->optimized_out = v->optimized_out;
		inherit_mask(r, v, (size_t)((uint64_t)i * es));
		if (v->lval == LV_MEM) {
			r->lval = LV_MEM;
			r->addr = v->addr + (uint64_t)i * es;
		}
		return r;
	}
	if (t->kind == TY_PTR) {
		int64_t base;
		if (value_as_long(c, v, &base, err) < 0)
			return NULL;
		struct type *et = t->target ? t->target : type_void();
		if (type_strip(et)->kind == TY_VOID) {
			set_err(err, xstrdup("Attempt to take contents of a non-pointer value."));
			return NULL;
		}
		return value_at(et, (uint64_t)base + (uint64_t)i * type_size(et));
	}
	struct sbuf b = { 0 };
	type_name(&b, v->type, NULL);
	set_err(err, errf("cannot subscript something of type `%s'", sbuf_str(&b)));
	sbuf_free(&b);
	return NULL;
}

struct value *value_deref(const struct sym_ctx *c, struct value *v, char **err)
{
	struct type *t = type_strip(v->type);
	if (t->kind == TY_REF || t->kind == TY_RVREF)
		return value_coerce_ref(c, v);
	if (t->kind == TY_FUNC)
		return value_copy(v);
	if (t->kind == TY_ARRAY)
		return value_index(c, v, 0, err);   /* *array is its first element */
	if (t->kind != TY_PTR || type_strip(t->target)->kind == TY_VOID) {
		set_err(err, xstrdup("Attempt to take contents of a non-pointer value."));
		return NULL;
	}
	int64_t a;
	if (value_as_long(c, v, &a, err) < 0)
		return NULL;
	return value_at(t->target, (uint64_t)a);
}

struct value *value_addr(const struct sym_ctx *c, struct value *v, char **err)
{
	struct type *t = type_strip(v->type);
	if (t->kind == TY_REF || t->kind == TY_RVREF) {
		struct value *r = value_coerce_ref(c, v);
		struct value *p = value_addr(c, r, err);
		value_free(r);
		return p;
	}
	if (v->lval != LV_MEM || v->bitsize) {
		set_err(err, xstrdup("Attempt to take address of value not located in memory."));
		return NULL;
	}
	return value_from_long(type_pointer_to(v->type), (int64_t)v->addr);
}

struct value *value_coerce_array(const struct sym_ctx *c, struct value *v)
{
	struct type *t = type_strip(v->type);
	if (t->kind == TY_ARRAY && v->lval == LV_MEM)
		return value_from_long(type_pointer_to(t->target), (int64_t)v->addr);
	if (t->kind == TY_FUNC && v->lval == LV_MEM)
		return value_from_long(type_pointer_to(v->type), (int64_t)v->addr);
	return value_copy(v);
}

struct value *value_cast(const struct sym_ctx *c, struct value *v, struct type *to, char **err)
{
	struct type *dt = type_strip(to), *st = type_strip(v->type);
	if (st->kind == TY_REF || st->kind == TY_RVREF) {
		struct value *r = value_coerce_ref(c, v);
		struct value *x = value_cast(c, r, to, err);
		value_free(r);
		return x;
	}
	if ((st->kind == TY_ARRAY || st->kind == TY_FUNC) && dt->kind != st->kind) {
		struct value *p = value_coerce_array(c, v);
		struct value *x = value_cast(c, p, to, err);
		value_free(p);
		return x;
	}
	switch (dt->kind) {
	case TY_INT: case TY_CHAR: case TY_BOOL: case TY_ENUM: case TY_PTR: {
		if (st->kind == TY_FLOAT && dt->kind != TY_PTR) {
			double d;
			if (value_as_double(c, v, &d, err) < 0)
				return NULL;
			if (dt->kind == TY_BOOL)
				return value_from_long(to, d != 0);
			return value_from_long(to, dt->is_signed ? (int64_t)d : (int64_t)(uint64_t)d);
		}
		if (!type_is_scalar(st)) {
			set_err(err, xstrdup("Invalid cast."));
			return NULL;
		}
		int64_t x;
		if (value_as_long(c, v, &x, err) < 0)
			return NULL;
		if (dt->kind == TY_BOOL)
			x = x != 0;
		return value_from_long(to, x);
	}
	case TY_FLOAT: {
		if (!type_is_scalar(st) || st->kind == TY_PTR) {
			set_err(err, xstrdup("Invalid cast."));
			return NULL;
		}
		long double d;
		if (value_as_ldouble(c, v, &d, err) < 0)
			return NULL;
		return value_from_ldouble(to, d);
	}
	case TY_VOID: {
		struct value *r = value_new(to);
		return r;
	}
	case TY_STRUCT: case TY_UNION: case TY_CLASS: case TY_ARRAY:
		if (type_size(dt) == type_size(st) || v->lval == LV_MEM) {
			struct value *r = value_copy(v);
			r->type = to;
			if (r->lval == LV_MEM) {
				r->lazy = true;
				free(r->bytes);
				r->len = (size_t)MIN(type_size(to), MAX_VALUE_SIZE);
				r->bytes = xcalloc(1, r->len ? r->len : 1);
			}
			return r;
		}
		/* fall through */
	default:
		set_err(err, xstrdup("Invalid cast."));
		return NULL;
	}
}

static int write_reg(const struct sym_ctx *c, struct value *lhs, const uint8_t *bytes,
                     size_t len, char **err)
{
	if (!c->acc || !c->frame || c->frame->level != lhs->frame_level || lhs->frame_level != 0) {
		set_err(err, xstrdup("Attempt to assign to an unmodifiable value."));
		return -EPERM;
	}
	struct user_regs_struct r;
	int e = c->acc->get_regs(c->acc->ctx, &r);
	if (e < 0) {
		set_err(err, errf("Could not read registers: %s", strerror(-e)));
		return e;
	}
	int off = -1;
	unsigned shift = 0, width = 64;
	if (lhs->regname) {
		const struct reg_desc *d = regs_by_name(lhs->regname);
		if (d && (d->cls == RC_GPR || d->cls == RC_SEG || d->cls == RC_FLAGS))
			off = (int)d->gpr_off;
		else
			off = regs_subreg(lhs->regname, &shift, &width);
	} else {
		off = regs_dwarf_to_gpr_off(lhs->reg);
		width = (unsigned)MIN(len, 8) * 8;
	}
	if (off < 0) {
		set_err(err, xstrdup("Attempt to assign to an unmodifiable value."));
		return -EPERM;
	}
	uint64_t x = load_uint(bytes, len), *slot = regs_gpr(&r, (size_t)off);
	uint64_t mask = width >= 64 ? ~0ull : ((1ull << width) - 1) << shift;
	*slot = (*slot & ~mask) | ((x << shift) & mask);
	e = c->acc->set_regs(c->acc->ctx, &r);
	if (e < 0)
		set_err(err, errf("Could not write registers: %s", strerror(-e)));
	return e;
}

struct value *value_assign(const struct sym_ctx *c, struct value *lhs, struct value *rhs,
                           char **err)
{
	if (lhs->lval == LV_NONE) {
		set_err(err, xstrdup("Left operand of assignment is not an lvalue."));
		return NULL;
	}
	struct type *lt = type_strip(lhs->type);
	struct value *nv;
	if (type_is_scalar(lt)) {
		nv = value_cast(c, rhs, lhs->type, err);
	} else if (type_size(rhs->type) == type_size(lhs->type)) {
		nv = value_copy(rhs);
		if (fetch_err(c, nv, err) < 0) {
			value_free(nv);
			return NULL;
		}
		nv->type = lhs->type;
	} else {
		set_err(err, xstrdup("Invalid cast."));
		return NULL;
	}
	if (!nv)
		return NULL;
	int e = 0;
	if (lhs->lval == LV_MEM) {
		if (!c->acc || !c->acc->write_mem) {
			set_err(err, xstrdup("cannot access memory without a running process"));
			e = -EPERM;
		} else if (lhs->bitsize) {
			uint8_t tmp[16];
			size_t n = (lhs->bitpos + lhs->bitsize + 7) / 8;
			e = n <= sizeof tmp ? value_read_mem(c, lhs->addr, tmp, n) : -EINVAL;
			if (e == 0) {
				uint64_t x = load_uint(nv->bytes, nv->len);
				for (unsigned i = 0; i < lhs->bitsize; i++) {
					unsigned p = lhs->bitpos + i;
					tmp[p / 8] = (uint8_t)((tmp[p / 8] & ~(1u << (p % 8))) |
					                       (((x >> i) & 1) << (p % 8)));
				}
				e = c->acc->write_mem(c->acc->ctx, lhs->addr, tmp, n);
				extract_bits(tmp, lhs->bitpos, lhs->bitsize, lt->is_signed, nv->bytes, nv->len);
			}
			if (e < 0)
				set_err(err, errf("Cannot access memory at address 0x%lx", (unsigned long)lhs->addr));
		} else {
			e = c->acc->write_mem(c->acc->ctx, lhs->addr, nv->bytes, nv->len);
			if (e < 0)
				set_err(err, errf("Cannot access memory at address 0x%lx", (unsigned long)lhs->addr));
		}
	} else if (lhs->lval == LV_REG) {
		e = write_reg(c, lhs, nv->bytes, nv->len, err);
	}
	if (e < 0) {
		value_free(nv);
		return NULL;
	}
	nv->lval = lhs->lval;
	nv->addr = lhs->addr;
	nv->reg = lhs->reg;
	nv->frame_level = lhs->frame_level;
	nv->bitpos = lhs->bitpos;
	nv->bitsize = lhs->bitsize;
	nv->regname = lhs->regname;
	nv->conv = lhs->conv;
	return nv;
}
