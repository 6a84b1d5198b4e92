/* Raw machine state: x (examine memory), info registers, disassemble. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "core/disasm.h"
#include "core/regs.h"
#include "symbols.h"

/* x's sticky defaults, as gdb keeps them between uses. */
static char last_fmt = 'x';
static unsigned last_size = 4;
static uint64_t next_addr;

static unsigned size_of_letter(char c)
{
	switch (c) {
	case 'b': return 1;
	case 'h': return 2;
	case 'w': return 4;
	case 'g': return 8;
	}
	return 0;
}

static void print_int(struct shell *sh, char fmt, uint64_t v, unsigned size)
{
	uint64_t mask = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
	v &= mask;
	int64_t sv = size == 8 ? (int64_t)v : (v & (1ull << (size * 8 - 1))) ? (int64_t)(v | ~mask) : (int64_t)v;
	switch (fmt) {
	case 'x': sh_out(sh, "0x%0*" PRIx64, (int)size * 2, v); break;
	case 'd': sh_out(sh, "%" PRId64, sv); break;
	case 'u': sh_out(sh, "%" PRIu64, v); break;
	case 'o': sh_out(sh, "0%" PRIo64, v); break;
	case 't': {
		char bits[65];
		for (unsigned i = 0; i < size * 8; i++)
			bits[i] = (v >> (size * 8 - 1 - i)) & 1 ? '1' : '0';
		bits[size * 8] = 0;
		sh_out(sh, "%s", bits);
		break;
	}
	case 'c': {
		int c = (int)(int8_t)v;
		if (isprint(c))
			sh_out(sh, "%d '%c'", c, c);
		else
			sh_out(sh, "%d '\\%03o'", c, (unsigned)(uint8_t)v);
		break;
	}
	case 'a': {
		struct sbuf s = { 0 };
		sym_addr_suffix(sh, v, &s);
		sh_out(sh, "0x%" PRIx64 "%s", v, sbuf_str(&s));
		sbuf_free(&s);
		break;
	}
	}
}

static void print_addr_label(struct shell *sh, uint64_t a)
{
	struct sbuf s = { 0 };
	sym_addr_suffix(sh, a, &s);
	sh_out(sh, "0x%" PRIx64 "%s:", a, sbuf_str(&s));
	sbuf_free(&s);
}

/* One instruction line for x/i and disassemble; returns its length (0 if unreadable). */
static unsigned print_insn(struct shell *sh, struct proc *p, uint64_t a, uint64_t pc,
			   uint64_t func_lo, bool long_addr)
{
	uint8_t code[16];
	struct insn in;
	if (proc_read(p, RADDR(a), code, sizeof code) < 0) {
		sh_error(sh, "Cannot access memory at address 0x%" PRIx64, a);
		return 0;
	}
	bool ok = disasm_one(code, sizeof code, a, &in) == 0;
	sh_out(sh, "%s", a == pc ? "=> " : "   ");
	if (long_addr)
		sh_out(sh, "0x%016" PRIx64 " <+%" PRIu64 ">:\t", a, a - func_lo);
	else {
		print_addr_label(sh, a);
		sh_out(sh, "\t");
	}
	if (!ok) {
		sh_out(sh, "(bad)\n");
		return 1;
	}
	char text[256];
	uint64_t ripref;
	disasm_format_gdb(&in, text, sizeof text, &ripref);
	sh_out(sh, "%s", text);
	if (ripref) {
		struct sbuf s = { 0 };
		sym_addr_suffix(sh, ripref, &s);
		sh_out(sh, "        # 0x%" PRIx64 "%s", ripref, sbuf_str(&s));
		sbuf_free(&s);
	}
	if (in.target && (in.kind == IK_CALL || in.kind == IK_JMP || in.kind == IK_JCC)) {
		struct sbuf s = { 0 };
		sym_addr_suffix(sh, in.target, &s);
		sh_out(sh, "%s", sbuf_str(&s));
		sbuf_free(&s);
	}
	sh_out(sh, "\n");
	return in.len;
}

int cmd_x(struct shell *sh, char *args)
{
	struct inferior *inf = sh_inf(sh);
	if (!inf_alive(inf))
		return sh_error(sh, "The program has no memory now; run it first.");
	unsigned count = 1;
	char fmt = last_fmt;
	unsigned size = last_size;
	bool size_given = false;
	char *p = args ? args : (char *)"";
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '/') {
		p++;
		if (isdigit((unsigned char)*p))
			count = (unsigned)strtoul(p, &p, 10);
		while (*p && !isspace((unsigned char)*p)) {
			unsigned s = size_of_letter(*p);
			if (s) {
				size = s;
				size_given = true;
			} else if (strchr("xduotcasif", *p)) {
				fmt = *p;
			} else {
				return sh_error(sh, "Undefined output format \"%c\".", *p);
			}
			p++;
		}
	}
	uint64_t addr = next_addr;
	p = str_trim(p);
	if (*p && sym_eval_u64(sh, p, &addr) < 0)
		return -1;
	if (!*p && !next_addr)
		return sh_error(sh, "Argument required (starting display address).");
	if (fmt == 'c' && !size_given)
		size = 1;
	if (fmt == 'a' && !size_given)
		size = 8;
	struct proc *pr = inf->main;
	uint64_t pc = inf->cur ? task_pc(inf->cur) : 0;
	if (fmt == 'i') {
		for (unsigned i = 0; i < count; i++) {
			unsigned n = print_insn(sh, pr, addr, pc, 0, false);
			if (!n)
				return -1;
			addr += n;
		}
	} else if (fmt == 's') {
		for (unsigned i = 0; i < count; i++) {
			char buf[4096];
			if (proc_read_str(pr, RADDR(addr), buf, sizeof buf) < 0)
				return sh_error(sh, "Cannot access memory at address 0x%" PRIx64, addr);
			print_addr_label(sh, addr);
			sh_out(sh, "\t\"");
			for (char *c = buf; *c; c++) {
				if (*c == '"' || *c == '\\')
					sh_out(sh, "\\%c", *c);
				else if (*c == '\n')
					sh_out(sh, "\\n");
				else if (*c == '\t')
					sh_out(sh, "\\t");
				else if (isprint((unsigned char)*c))
					sh_out(sh, "%c", *c);
				else
					sh_out(sh, "\\%03o", (unsigned char)*c);
			}
			sh_out(sh, "\"\n");
			addr += strlen(buf) + 1;
		}
	} else {
		unsigned per_line = size == 8 ? 2 : size == 4 ? 4 : 8;
		if (fmt == 'c')
			per_line = 8;
		for (unsigned i = 0; i < count; i++) {
			if (i % per_line == 0) {
				if (i)
					sh_out(sh, "\n");
				print_addr_label(sh, addr);
			}
			uint64_t v = 0;
			if (proc_read(pr, RADDR(addr), &v, size) < 0) {
				sh_out(sh, "\n");
				return sh_error(sh, "Cannot access memory at address 0x%" PRIx64, addr);
			}
			sh_out(sh, "\t");
			if (fmt == 'f') {
				if (size == 8) {
					double d;
					memcpy(&d, &v, 8);
					sh_out(sh, "%g", d);
				} else {
					float f;
					memcpy(&f, &v, 4);
					sh_out(sh, "%g", (double)f);
				}
			} else {
				print_int(sh, fmt, v, size);
			}
			addr += size;
		}
		sh_out(sh, "\n");
	}
	last_fmt = fmt;
	last_size = size;
	next_addr = addr;
	return 0;
}

static void print_gpr(struct shell *sh, const struct reg_desc *d, const struct user_regs_struct *r)
{
	uint64_t v = *regs_gpr((struct user_regs_struct *)r, d->gpr_off);
	char hex[32];
	snprintf(hex, sizeof hex, "0x%" PRIx64, v);
	sh_out(sh, "%-15s%-20s", d->name, hex);
	if (!strcmp(d->name, "rip")) {
		struct sbuf s = { 0 };
		sym_addr_suffix(sh, v, &s);
		sh_out(sh, "0x%" PRIx64 "%s\n", v, sbuf_str(&s));
		sbuf_free(&s);
	} else if (!strcmp(d->name, "rsp") || !strcmp(d->name, "rbp")) {
		sh_out(sh, "0x%" PRIx64 "\n", v);
	} else if (d->cls == RC_FLAGS) {
		char fl[128];
		regs_format_eflags(v, fl, sizeof fl);
		sh_out(sh, "%s\n", fl);
	} else {
		sh_out(sh, "%" PRId64 "\n", (int64_t)v);
	}
}

static int print_vector(struct shell *sh, struct task *t, const char *name)
{
	uint8_t *xs;
	size_t len;
	int idx;
	char kind;
	if (sscanf(name, "xmm%d", &idx) == 1 && idx >= 0 && idx < 16)
		kind = 'x';
	else if (sscanf(name, "ymm%d", &idx) == 1 && idx >= 0 && idx < 16)
		kind = 'y';
	else if (sscanf(name, "st%d", &idx) == 1 && idx >= 0 && idx < 8)
		kind = 's';
	else if (!strcmp(name, "mxcsr"))
		kind = 'm', idx = 0;
	else
		return 1;
	if (task_get_xstate(t, &xs, &len) < 0)
		return sh_error(sh, "Cannot read the extended state of thread %u.", t->num);
	const struct xsave_layout *l = regs_xsave_layout();
	if (kind == 'm') {
		uint32_t m;
		memcpy(&m, xs + FX_MXCSR, 4);
		sh_out(sh, "%-15s0x%-17x[ ", "mxcsr", m);
		static const char *const bits[] = { "IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM",
						    "DM", "ZM", "OM", "UM", "PM", "FZ" };
		for (int i = 0; i < 14; i++)
			if (m & (1u << i))
				sh_out(sh, "%s ", bits[i]);
		sh_out(sh, "]\n");
		return 0;
	}
	if (kind == 's') {
		long double ld = 0;
		memcpy(&ld, xs + FX_ST(idx), 10);
		sh_out(sh, "%-15s%-19.17Lg(raw 0x", name, ld);
		for (int i = 9; i >= 0; i--)
			sh_out(sh, "%02x", xs[FX_ST(idx) + i]);
		sh_out(sh, ")\n");
		return 0;
	}
	uint8_t v[32] = { 0 };
	memcpy(v, xs + FX_XMM(idx), 16);
	unsigned n = 16;
	if (kind == 'y') {
		if (!l->avx_off || l->avx_off + 256 > len)
			return sh_error(sh, "This CPU has no AVX state.");
		memcpy(v + 16, xs + l->avx_off + 16 * idx, 16);
		n = 32;
	}
	sh_out(sh, "%-15s{", name);
	uint32_t f[8];
	uint64_t q[4];
	memcpy(f, v, sizeof f);
	memcpy(q, v, sizeof q);
	sh_out(sh, "v%u_int32 = {", n / 4);
	for (unsigned i = 0; i < n / 4; i++)
		sh_out(sh, "%s0x%x", i ? ", " : "", f[i]);
	sh_out(sh, "}, v%u_int64 = {", n / 8);
	for (unsigned i = 0; i < n / 8; i++)
		sh_out(sh, "%s0x%" PRIx64, i ? ", " : "", q[i]);
	sh_out(sh, "}}\n");
	return 0;
}

static int info_regs(struct shell *sh, char *args, bool all)
{
	if (!sh_need_process(sh))
		return -1;
	struct task *t = sh_inf(sh)->cur;
	struct user_regs_struct *r;
	if (task_get_regs(t, &r) < 0)
		return sh_error(sh, "Cannot read registers of thread %u.", t->num);
	if (!args || !*args) {
		for (size_t i = 0; i < regs_table_len; i++) {
			if (!strcmp(regs_table[i].name, "orig_rax") && !all)
				continue;
			print_gpr(sh, &regs_table[i], r);
		}
		if (all) {
			char nm[8];
			for (int i = 0; i < 8; i++) {
				snprintf(nm, sizeof nm, "st%d", i);
				print_vector(sh, t, nm);
			}
			for (int i = 0; i < 16; i++) {
				snprintf(nm, sizeof nm, "ymm%d", i);
				print_vector(sh, t, nm);
			}
			print_vector(sh, t, "mxcsr");
		}
		return 0;
	}
	char *w;
	int err = 0;
	while ((w = sh_next_word(&args))) {
		if (*w == '$')
			w++;
		const struct reg_desc *d = regs_by_name(w);
		if (d) {
			print_gpr(sh, d, r);
			continue;
		}
		unsigned shift, width;
		int off = regs_subreg(w, &shift, &width);
		if (off >= 0) {
			uint64_t v = (*regs_gpr(r, (size_t)off) >> shift) & ((1ull << width) - 1);
			char hex[32];
			snprintf(hex, sizeof hex, "0x%" PRIx64, v);
			sh_out(sh, "%-15s%-20s%" PRId64 "\n", w, hex, (int64_t)v);
			continue;
		}
		int pv = print_vector(sh, t, w);
		if (pv == 1)
			err = sh_error(sh, "Invalid register `%s'", w);
		else if (pv < 0)
			err = -1;
	}
	return err;
}

int cmd_info_registers(struct shell *sh, char *args) { return info_regs(sh, args, false); }
int cmd_info_all_registers(struct shell *sh, char *args) { return info_regs(sh, args, true); }

int cmd_disassemble(struct shell *sh, char *args)
{
	struct inferior *inf = sh_inf(sh);
	if (!inf_alive(inf))
		return sh_error(sh, "The program has no memory now; run it first.");
	char *p = args ? args : (char *)"";
	while (*p == '/') {   /* /r /m /s modifiers are accepted and ignored */
		while (*p && !isspace((unsigned char)*p))
			p++;
		p = str_trim(p);
	}
	uint64_t pc = inf->cur ? task_pc(inf->cur) : 0;
	uint64_t lo, hi, where = pc;
	struct sbuf name = { 0 };
	char *comma = strchr(p, ',');
	if (comma) {
		*comma = 0;
		char *second = str_trim(comma + 1);
		if (sym_eval_u64(sh, str_trim(p), &lo) < 0)
			return -1;
		if (*second == '+') {
			uint64_t n;
			if (sym_eval_u64(sh, second + 1, &n) < 0)
				return -1;
			hi = lo + n;
		} else if (sym_eval_u64(sh, second, &hi) < 0) {
			return -1;
		}
		sh_out(sh, "Dump of assembler code from 0x%" PRIx64 " to 0x%" PRIx64 ":\n", lo, hi);
		for (uint64_t a = lo; a < hi;) {
			unsigned n = print_insn(sh, inf->main, a, pc, lo, false);
			if (!n)
				return -1;
			a += n;
		}
		sh_out(sh, "End of assembler dump.\n");
		return 0;
	}
	if (*p && sym_eval_u64(sh, p, &where) < 0)
		return -1;
	if (sym_function_bounds(sh, where, &lo, &hi, &name) < 0) {
		sbuf_free(&name);
		return sh_error(sh, "No function contains specified address.");
	}
	sh_out(sh, "Dump of assembler code for function %s:\n", sbuf_str(&name));
	sbuf_free(&name);
	for (uint64_t a = lo; a < hi;) {
		unsigned n = print_insn(sh, inf->main, a, pc, lo, true);
		if (!n)
			return -1;
		a += n;
	}
	sh_out(sh, "End of assembler dump.\n");
	return 0;
}
