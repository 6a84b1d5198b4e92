/* Direct calls without the agent: the SysV x86-64 calling convention for scalar
 * arguments, done by rewind on the thread's registers. Integers and pointers go
 * in rdi, rsi, rdx, rcx, r8, r9, float and double in xmm0-7, the rest on the
 * stack in order; al holds the number of vector registers used (variadic callees
 * read it). Results come back in rax or xmm0. */
#include <errno.h>
#include <string.h>

#include "infcall_int.h"
#include "regs.h"

#define XSTATE_BV_OFF XSAVE_HDR_OFF
#define XFEATURE_FP (1ull << 0)
#define XFEATURE_SSE (1ull << 1)
#define EFLAGS_DF 0x400ull

static const char *kind_phrase(const struct infcall_type *ty)
{
	switch (ty->kind) {
	case IC_STRUCT: return "struct";
	case IC_UNION: return "union";
	case IC_LDOUBLE: return "long double";
	default: return "such";
	}
}

static uint64_t int_value(const struct infcall_arg *a)
{
	const struct infcall_type *ty = a->type;
	switch (ty->size) {
	case 1: return ty->kind == IC_SINT ? (uint64_t)(int64_t)*(const int8_t *)a->data
					   : *(const uint8_t *)a->data;
	case 2: return ty->kind == IC_SINT ? (uint64_t)(int64_t)*(const int16_t *)a->data
					   : *(const uint16_t *)a->data;
	case 4: return ty->kind == IC_SINT ? (uint64_t)(int64_t)*(const int32_t *)a->data
					   : *(const uint32_t *)a->data;
	default: {
		uint64_t v;
		memcpy(&v, a->data, 8);
		return v;
	}
	}
}

int icd_check(const struct icl_args *a, const struct infcall_type *ret, const char *no_agent,
	      struct sbuf *err)
{
	if (ret && ret->kind != IC_VOID && !icl_direct_ok(ret)) {
		if (err)
			sbuf_printf(err, "Calling functions that return a %s needs the rewind agent, "
				    "which %s.", kind_phrase(ret), no_agent);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < a->n; i++)
		if (!icl_direct_ok(a->v[i].type)) {
			if (err)
				sbuf_printf(err, "Calling functions with %s arguments needs the rewind "
					    "agent, which %s.", kind_phrase(a->v[i].type), no_agent);
			return -ENOTSUP;
		}
	return 0;
}

void icd_build(const struct icl_args *a, struct icd_frame *f)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < a->n; i++) {
		const struct infcall_arg *x = &a->v[i];
		if (x->type->kind == IC_FLOAT || x->type->kind == IC_DOUBLE) {
			uint8_t v[16] = { 0 };
			memcpy(v, x->data, x->type->size);
			if (f->nsse < 8)
				memcpy(f->xmm[f->nsse++], v, 16);
			else
				memcpy(&f->stack[f->nstack++], v, 8);
		} else {
			uint64_t v = int_value(x);
			if (f->ngpr < 6)
				f->gpr[f->ngpr++] = v;
			else
				f->stack[f->nstack++] = v;
		}
	}
}

static void set_xfeatures(uint8_t *xs, size_t xlen, uint64_t bits)
{
	if (xlen < XSTATE_BV_OFF + 8)
		return;
	uint64_t bv;
	memcpy(&bv, xs + XSTATE_BV_OFF, 8);
	bv |= bits;
	memcpy(xs + XSTATE_BV_OFF, &bv, 8);
}

void icd_load(const struct icd_frame *f, struct user_regs_struct *r, uint8_t *xs, size_t xlen)
{
	unsigned long long *g[6] = { &r->rdi, &r->rsi, &r->rdx, &r->rcx, &r->r8, &r->r9 };
	for (unsigned i = 0; i < f->ngpr; i++)
		*g[i] = f->gpr[i];
	r->rax = f->nsse;
	if (!f->nsse || xlen < FX_XMM(8))
		return;
	for (unsigned i = 0; i < f->nsse; i++)
		memcpy(xs + FX_XMM(i), f->xmm[i], 16);
	/* The kernel ignores the legacy SSE area unless the header says it is in use. */
	set_xfeatures(xs, xlen, XFEATURE_SSE);
}

void icd_result(const struct infcall_type *ret, const struct user_regs_struct *r,
		const uint8_t *xs, size_t xlen, uint8_t *result)
{
	if (!ret || ret->kind == IC_VOID)
		return;
	if (ret->kind == IC_FLOAT || ret->kind == IC_DOUBLE) {
		if (xlen >= FX_XMM(1))
			memcpy(result, xs + FX_XMM(0), ret->size);
		return;
	}
	memcpy(result, &r->rax, ret->size);
}

void icd_clean_fp(struct user_regs_struct *r, uint8_t *xs, size_t xlen)
{
	r->eflags &= ~EFLAGS_DF;
	if (!xs || xlen < XSTATE_BV_OFF + 8)
		return;
	/* A thread stopped in the middle of x87 code may hold values on the x87 stack;
	 * the ABI promises the callee an empty one. (Restored after the call.) */
	if (xs[FX_FTW] == 0)
		return;
	uint16_t fsw;
	memcpy(&fsw, xs + FX_FSW, 2);
	fsw &= (uint16_t)~0x3800;   /* TOP = 0 */
	memcpy(xs + FX_FSW, &fsw, 2);
	xs[FX_FTW] = 0;             /* abridged tag word: every register empty */
	set_xfeatures(xs, xlen, XFEATURE_FP);
}
