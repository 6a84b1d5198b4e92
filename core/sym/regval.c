/* Registers as values, with gdb's names and types: $rip/$pc (void (*)()),
 * $rsp/$sp/$rbp/$fp (void *), 64-bit registers (int64_t), sub-registers ($eax
 * int32_t...), $eflags (i386_eflags), segments, $fs_base. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/regs.h"
#include "sym_int.h"
#include "types_int.h"
#include "value_int.h"

struct type *type_named_int(const char *name, unsigned size, bool is_signed)
{
	static struct type cache[16];
	static size_t n;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cache[i].name, name))
			return &cache[i];
	if (n == ARRAY_SIZE(cache))
		return type_long();
	cache[n] = (struct type){ .kind = TY_INT, .name = name, .size = size,
	                          .is_signed = is_signed, .count = -1 };
	return &cache[n++];
}

static struct type *code_ptr_type(void)
{
	static struct type fn = { .kind = TY_FUNC, .count = -1 };
	fn.target = type_void();
	return type_pointer_to(&fn);
}

struct value *value_of_register(const struct sym_ctx *c, const char *name, char **err)
{
	const char *full = name;
	if (!strcmp(name, "pc"))
		full = "rip";
	else if (!strcmp(name, "sp"))
		full = "rsp";
	else if (!strcmp(name, "fp"))
		full = "rbp";
	const struct reg_desc *d = regs_by_name(full);
	unsigned shift = 0, width = 64;
	int sub_off = -1;
	if (!d) {
		sub_off = regs_subreg(name, &shift, &width);
		if (sub_off < 0) {
			if (err)
				*err = xasprintf("Invalid register `%s'", name);
			return NULL;
		}
	}
	if (!c->acc) {
		if (err)
			*err = xstrdup("No registers.");
		return NULL;
	}
	if (d && d->cls != RC_GPR && d->cls != RC_SEG && d->cls != RC_FLAGS) {
		if (err)
			*err = xasprintf("Invalid register `%s'", name);
		return NULL;
	}
	size_t off = d ? d->gpr_off : (size_t)sub_off;
	int dw = -1;
	for (size_t i = 0; i < regs_table_len; i++)
		if (regs_table[i].gpr_off == off && regs_table[i].dwarf >= 0 &&
		    regs_table[i].cls == RC_GPR)
			dw = regs_table[i].dwarf;
	uint64_t x = 0;
	bool have = false;
	unsigned level = c->frame ? c->frame->level : 0;
	if (level > 0 && dw >= 0 && dw < UNWIND_NREGS)
		have = unwind_reg(c->frame, dw, &x) == 0;
	if (!have && level == 0) {
		struct user_regs_struct r;
		int e = c->acc->get_regs(c->acc->ctx, &r);
		if (e < 0) {
			if (err)
				*err = xasprintf("Could not read registers: %s", strerror(-e));
			return NULL;
		}
		x = *regs_gpr(&r, off);
		have = true;
	}
	struct type *t;
	if (!strcmp(full, "rip"))
		t = code_ptr_type();
	else if (!strcmp(full, "rsp") || !strcmp(full, "rbp"))
		t = type_pointer_to(type_void());
	else if (d && d->cls == RC_FLAGS)
		t = type_named_int("i386_eflags", 4, false);
	else if (d && d->cls == RC_SEG)
		t = strstr(full, "_base") ? type_long() : type_named_int("int32_t", 4, true);
	else if (d)
		t = type_named_int("int64_t", 8, true);
	else
		t = type_named_int(width == 32 ? "int32_t" : width == 16 ? "int16_t" : "int8_t",
		                   width / 8, true);
	struct value *v;
	if (!have) {
		v = value_optimized_out(t);   /* gdb: <not saved> */
	} else {
		v = value_from_long(t, (int64_t)(x >> shift));
	}
	v->lval = LV_REG;
	v->reg = dw;
	v->frame_level = level;
	v->regname = d ? d->name : NULL;
	if (!d) {
		/* sub-registers keep their own name for assignment */
		static const char *subs[] = { "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp",
			"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d", "ax", "bx", "cx",
			"dx", "si", "di", "al", "bl", "cl", "dl", "ah", "bh", "ch", "dh", "eip" };
		for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
			if (!strcmp(subs[i], name))
				v->regname = subs[i];
	}
	return v;
}
