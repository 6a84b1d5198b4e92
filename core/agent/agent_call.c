/* Inferior function calls inside the debuggee: rewind points a stopped thread at
 * rwagent_call_entry with a descriptor (agent_abi.h); the agent turns the type
 * table into ffi_types, calls the function with libffi (structs by value, float,
 * double, long double and variadic calls follow the ABI exactly) and traps back.
 * Working memory is alloca'd on the thread's stack, below rewind's scratch area. */
#include <alloca.h>
#include <ffi.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

/* rdi = struct rwagent_call *, rsp 16-byte aligned. The call pushes the return
 * address, so rwagent_call starts with the alignment the ABI promises; it returns
 * onto the int3, where rewind takes the thread back and restores its registers.
 * The CFI marks this as the outermost frame for unwinders looking at the call. */
__asm__(
	"	.text\n"
	"	.globl rwagent_call_entry\n"
	"	.type rwagent_call_entry, @function\n"
	"rwagent_call_entry:\n"
	"	.cfi_startproc\n"
	"	.cfi_undefined rip\n"
	"	call rwagent_call\n"
	"	.globl rwagent_call_trap\n"
	"rwagent_call_trap:\n"
	"	int3\n"
	"	ud2\n"
	"	.cfi_endproc\n"
	"	.size rwagent_call_entry, . - rwagent_call_entry\n");

static ffi_type *scalar(unsigned kind)
{
	switch (kind) {
	case RWT_VOID: return &ffi_type_void;
	case RWT_U8: return &ffi_type_uint8;
	case RWT_S8: return &ffi_type_sint8;
	case RWT_U16: return &ffi_type_uint16;
	case RWT_S16: return &ffi_type_sint16;
	case RWT_U32: return &ffi_type_uint32;
	case RWT_S32: return &ffi_type_sint32;
	case RWT_U64: return &ffi_type_uint64;
	case RWT_S64: return &ffi_type_sint64;
	case RWT_FLOAT: return &ffi_type_float;
	case RWT_DOUBLE: return &ffi_type_double;
	case RWT_LDOUBLE: return &ffi_type_longdouble;
	case RWT_PTR: return &ffi_type_pointer;
	default: return NULL;
	}
}

/* Build tp[i] for every node. Struct nodes get an ffi_type in nodes[] whose
 * element list lives in ev[]; libffi computes their size and alignment later. */
static int build_types(const struct rwagent_call *d, ffi_type *nodes, ffi_type **tp,
		       ffi_type **ev, uint32_t *bad)
{
	const struct rwagent_type *ty = (const struct rwagent_type *)(uintptr_t)d->types;
	const uint32_t *el = (const uint32_t *)(uintptr_t)d->elems;
	size_t k = 0;
	for (uint32_t i = 0; i < d->ntypes; i++) {
		*bad = i;
		if (ty[i].kind != RWT_STRUCT) {
			if (!(tp[i] = scalar(ty[i].kind)))
				return RWAGENT_E_TYPE;
			continue;
		}
		if (!ty[i].nelem || ty[i].first > d->nelems || ty[i].nelem > d->nelems - ty[i].first)
			return RWAGENT_E_TYPE;
		nodes[i].size = 0;
		nodes[i].alignment = 0;
		nodes[i].type = FFI_TYPE_STRUCT;
		nodes[i].elements = ev + k;
		for (uint32_t j = 0; j < ty[i].nelem; j++) {
			uint32_t e = el[ty[i].first + j];
			if (e >= i || ty[e].kind == RWT_VOID)
				return RWAGENT_E_TYPE;
			ev[k++] = tp[e];
		}
		ev[k++] = NULL;
		tp[i] = &nodes[i];
	}
	return RWAGENT_OK;
}

void rwagent_call(struct rwagent_call *d)
{
	if (d->magic != RWAGENT_CALL_MAGIC || d->version != RWAGENT_VERSION) {
		d->status = RWAGENT_E_VERSION;
		return;
	}
	if (!d->ntypes || d->ntypes > RWAGENT_MAX_TYPES || d->nelems > RWAGENT_MAX_ELEMS ||
	    d->nargs > RWAGENT_MAX_ARGS || d->nfixed > d->nargs || d->rettype >= d->ntypes) {
		d->status = RWAGENT_E_LIMIT;
		return;
	}
	ffi_type *nodes = alloca(d->ntypes * sizeof *nodes);
	ffi_type **tp = alloca(d->ntypes * sizeof *tp);
	ffi_type **ev = alloca((d->nelems + d->ntypes) * sizeof *ev);
	ffi_type **at = alloca((d->nargs + 1) * sizeof *at);
	void **av = alloca((d->nargs + 1) * sizeof *av);
	uint32_t bad = 0;
	int st = build_types(d, nodes, tp, ev, &bad);
	if (st != RWAGENT_OK) {
		d->detail = bad;
		d->status = st;
		return;
	}
	const uint32_t *argt = (const uint32_t *)(uintptr_t)d->argtypes;
	const uint64_t *argv = (const uint64_t *)(uintptr_t)d->argvals;
	for (uint32_t i = 0; i < d->nargs; i++) {
		if (argt[i] >= d->ntypes || tp[argt[i]] == &ffi_type_void) {
			d->detail = argt[i];
			d->status = RWAGENT_E_TYPE;
			return;
		}
		at[i] = tp[argt[i]];
		av[i] = (void *)(uintptr_t)argv[i];
	}
	ffi_cif cif;
	ffi_status fs;
	if (d->flags & RWAGENT_F_VARIADIC)
		fs = ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI, d->nfixed, d->nargs, tp[d->rettype], at);
	else
		fs = ffi_prep_cif(&cif, FFI_DEFAULT_ABI, d->nargs, tp[d->rettype], at);
	if (fs != FFI_OK) {
		d->detail = (uint32_t)fs;
		d->status = RWAGENT_E_PREP;
		return;
	}
	/* libffi must have laid every struct out as rewind expects. */
	const struct rwagent_type *ty = (const struct rwagent_type *)(uintptr_t)d->types;
	for (uint32_t i = 0; i < d->ntypes; i++)
		if (ty[i].kind == RWT_STRUCT && nodes[i].size &&
		    (nodes[i].size != ty[i].size || nodes[i].alignment != ty[i].align)) {
			d->detail = i;
			d->status = RWAGENT_E_LAYOUT;
			return;
		}
	d->status = RWAGENT_E_RUNNING;
	ffi_call(&cif, FFI_FN((uintptr_t)d->fn), (void *)(uintptr_t)d->result, av);
	d->status = RWAGENT_OK;
}
