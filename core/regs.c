#include "regs.h"

#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#define G(n, d) { #n, RC_GPR, 8, offsetof(struct user_regs_struct, n), d, 0 }
#define S(n, d) { #n, RC_SEG, 8, offsetof(struct user_regs_struct, n), d, 0 }

const struct reg_desc regs_table[] = {
	G(rax, 0), G(rbx, 3), G(rcx, 2), G(rdx, 1), G(rsi, 4), G(rdi, 5), G(rbp, 6), G(rsp, 7),
	G(r8, 8), G(r9, 9), G(r10, 10), G(r11, 11), G(r12, 12), G(r13, 13), G(r14, 14), G(r15, 15),
	G(rip, 16),
	{ "eflags", RC_FLAGS, 8, offsetof(struct user_regs_struct, eflags), 49, 0 },
	S(cs, 51), S(ss, 52), S(ds, 53), S(es, 50), S(fs, 54), S(gs, 55),
	S(fs_base, 58), S(gs_base, 59),
	{ "orig_rax", RC_GPR, 8, offsetof(struct user_regs_struct, orig_rax), -1, 0 },
};
const size_t regs_table_len = sizeof(regs_table) / sizeof(regs_table[0]);

const struct reg_desc *regs_by_name(const char *name)
{
	if (!strcmp(name, "pc"))
		name = "rip";
	else if (!strcmp(name, "sp"))
		name = "rsp";
	else if (!strcmp(name, "fp"))
		name = "rbp";
	for (size_t i = 0; i < regs_table_len; i++)
		if (!strcmp(regs_table[i].name, name))
			return &regs_table[i];
	return NULL;
}

int regs_dwarf_to_gpr_off(int dwarf)
{
	for (size_t i = 0; i < regs_table_len; i++)
		if (regs_table[i].dwarf == dwarf)
			return (int)regs_table[i].gpr_off;
	return -1;
}

static const struct { const char *sub, *full; unsigned shift, width; } subregs[] = {
	{ "eax", "rax", 0, 32 }, { "ebx", "rbx", 0, 32 }, { "ecx", "rcx", 0, 32 },
	{ "edx", "rdx", 0, 32 }, { "esi", "rsi", 0, 32 }, { "edi", "rdi", 0, 32 },
	{ "ebp", "rbp", 0, 32 }, { "esp", "rsp", 0, 32 },
	{ "r8d", "r8", 0, 32 }, { "r9d", "r9", 0, 32 }, { "r10d", "r10", 0, 32 },
	{ "r11d", "r11", 0, 32 }, { "r12d", "r12", 0, 32 }, { "r13d", "r13", 0, 32 },
	{ "r14d", "r14", 0, 32 }, { "r15d", "r15", 0, 32 },
	{ "ax", "rax", 0, 16 }, { "bx", "rbx", 0, 16 }, { "cx", "rcx", 0, 16 }, { "dx", "rdx", 0, 16 },
	{ "si", "rsi", 0, 16 }, { "di", "rdi", 0, 16 },
	{ "al", "rax", 0, 8 }, { "bl", "rbx", 0, 8 }, { "cl", "rcx", 0, 8 }, { "dl", "rdx", 0, 8 },
	{ "ah", "rax", 8, 8 }, { "bh", "rbx", 8, 8 }, { "ch", "rcx", 8, 8 }, { "dh", "rdx", 8, 8 },
	{ "eip", "rip", 0, 32 },
};

int regs_subreg(const char *name, unsigned *shift, unsigned *width)
{
	for (size_t i = 0; i < sizeof subregs / sizeof subregs[0]; i++)
		if (!strcmp(subregs[i].sub, name)) {
			*shift = subregs[i].shift;
			*width = subregs[i].width;
			return (int)regs_by_name(subregs[i].full)->gpr_off;
		}
	return -1;
}

const struct xsave_layout *regs_xsave_layout(void)
{
	static struct xsave_layout l;
	static int done;
	unsigned a, b, c, d;
	if (done)
		return &l;
	done = 1;
	l.size = 512 + 64;
	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d))
		return &l;
	l.size = c; /* max size for all supported features */
	if (a & (1u << 2) && __get_cpuid_count(0xd, 2, &a, &b, &c, &d))
		l.avx_off = b;
	if (__get_cpuid_count(0xd, 0, &a, &b, &c, &d) && (a & (1u << 5))) {
		if (__get_cpuid_count(0xd, 5, &a, &b, &c, &d))
			l.k_off = b;
		if (__get_cpuid_count(0xd, 6, &a, &b, &c, &d))
			l.zmm_hi_off = b;
		if (__get_cpuid_count(0xd, 7, &a, &b, &c, &d))
			l.hi16_off = b;
	}
	return &l;
}

void regs_format_eflags(uint64_t fl, char *buf, size_t len)
{
	static const struct { int bit; const char *name; } flags[] = {
		{ 0, "CF" }, { 2, "PF" }, { 4, "AF" }, { 6, "ZF" }, { 7, "SF" }, { 8, "TF" },
		{ 9, "IF" }, { 10, "DF" }, { 11, "OF" }, { 14, "NT" }, { 16, "RF" }, { 17, "VM" },
		{ 18, "AC" }, { 19, "VIF" }, { 20, "VIP" }, { 21, "ID" },
	};
	size_t n = (size_t)snprintf(buf, len, "[ ");
	for (size_t i = 0; i < sizeof flags / sizeof flags[0] && n < len; i++)
		if (fl & (1ull << flags[i].bit))
			n += (size_t)snprintf(buf + n, len - n, "%s ", flags[i].name);
	if (n < len)
		snprintf(buf + n, len - n, "]");
}
