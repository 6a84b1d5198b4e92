#include "disasm.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static csh handle;
static bool inited, intel;

static int init(void)
{
	if (inited)
		return 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) {
		pr_err(LM_CORE, "capstone: cs_open failed");
		return -ENOSYS;
	}
	cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(handle, CS_OPT_SYNTAX, intel ? CS_OPT_SYNTAX_INTEL : CS_OPT_SYNTAX_ATT);
	inited = true;
	return 0;
}

void disasm_set_intel(bool on)
{
	intel = on;
	if (inited)
		cs_option(handle, CS_OPT_SYNTAX, intel ? CS_OPT_SYNTAX_INTEL : CS_OPT_SYNTAX_ATT);
}

static enum insn_kind kind_of(const cs_insn *ci)
{
	switch (ci->id) {
	case X86_INS_SYSCALL: return IK_SYSCALL;
	case X86_INS_INT3: return IK_INT3;
	case X86_INS_RDTSC: return IK_RDTSC;
	case X86_INS_RDTSCP: return IK_RDTSCP;
	case X86_INS_CPUID: return IK_CPUID;
	case X86_INS_HLT: return IK_HLT;
	case X86_INS_JMP: case X86_INS_LJMP: return IK_JMP;
	default: break;
	}
	const cs_detail *d = ci->detail;
	for (uint8_t i = 0; d && i < d->groups_count; i++) {
		switch (d->groups[i]) {
		case CS_GRP_CALL: return IK_CALL;
		case CS_GRP_RET: case CS_GRP_IRET: return IK_RET;
		case CS_GRP_JUMP: return IK_JCC;
		default: break;
		}
	}
	return IK_OTHER;
}

/* movs, stos, lods, cmps, scas, ins, outs in every width. */
static bool is_string_op(unsigned id)
{
	switch (id) {
	case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
	case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
	case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD: case X86_INS_LODSQ:
	case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD: case X86_INS_CMPSQ:
	case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD: case X86_INS_SCASQ:
	case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
	case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
		return true;
	default:
		return false;
	}
}

int disasm_one(const uint8_t *code, size_t len, uint64_t addr, struct insn *out)
{
	if (init() < 0)
		return -ENOSYS;
	cs_insn *ci;
	size_t n = cs_disasm(handle, code, len, addr, 1, &ci);
	if (n < 1)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->addr = addr;
	out->len = ci->size;
	out->kind = kind_of(ci);
	memcpy(out->bytes, ci->bytes, ci->size < 16 ? ci->size : 16);
	snprintf(out->mnemonic, sizeof out->mnemonic, "%s", ci->mnemonic);
	snprintf(out->operands, sizeof out->operands, "%s", ci->op_str);
	const cs_x86 *x = &ci->detail->x86;
	out->rep_string = (x->prefix[0] == X86_PREFIX_REP || x->prefix[0] == X86_PREFIX_REPNE) &&
			  is_string_op(ci->id);
	for (uint8_t i = 0; i < x->op_count; i++) {
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP) {
			out->rip_relative = true;
			out->rip_disp = x->operands[i].mem.disp;
			if (x->encoding.disp_size == 4)
				out->disp_off = x->encoding.disp_offset;
		}
		if ((out->kind == IK_CALL || out->kind == IK_JMP || out->kind == IK_JCC) &&
		    x->operands[i].type == X86_OP_IMM && x->op_count == 1)
			out->target = (uint64_t)x->operands[i].imm;
	}
	cs_free(ci, n);
	return 0;
}

unsigned disasm_len(const uint8_t *code, size_t len, uint64_t addr)
{
	struct insn in;
	return disasm_one(code, len, addr, &in) < 0 ? 0 : in.len;
}

/* Mnemonics whose size suffix gdb leaves out when a register operand sets the size. */
static bool suffix_droppable(const char *m, size_t n)
{
	static const char *const base[] = {
		"mov", "add", "sub", "and", "or", "xor", "cmp", "test", "lea", "push", "pop",
		"inc", "dec", "neg", "not", "shl", "shr", "sar", "sal", "rol", "ror", "imul",
		"adc", "sbb", "xchg", "idiv", "div", "mul", "bt", "cmpxchg", "xadd", NULL,
	};
	for (int i = 0; base[i]; i++)
		if (strlen(base[i]) == n && !strncmp(m, base[i], n))
			return true;
	return false;
}

/* Copy an operand string, turning decimal numbers into gdb's hex. */
static void hexify(const char *src, char *dst, size_t len)
{
	size_t j = 0;
	for (size_t i = 0; src[i] && j + 24 < len;) {
		char c = src[i];
		bool num_start = (c >= '0' && c <= '9') && (i == 0 || strchr("$,( -", src[i - 1]));
		if (c == ' ' && i && src[i - 1] == ',') {
			i++;
			continue;
		}
		if (num_start && !(c == '0' && (src[i + 1] == 'x' || src[i + 1] == 'X'))) {
			char *end;
			unsigned long long v = strtoull(src + i, &end, 10);
			j += (size_t)snprintf(dst + j, len - j, "0x%llx", v);
			i = (size_t)(end - src);
			continue;
		}
		dst[j++] = c;
		i++;
	}
	dst[j] = 0;
}

void disasm_format_gdb(const struct insn *in, char *buf, size_t len, uint64_t *rip_target)
{
	char ops[192];
	char mn[32];
	hexify(in->operands, ops, sizeof ops);
	snprintf(mn, sizeof mn, "%s", in->mnemonic);
	size_t n = strlen(mn);
	bool has_reg = false;
	int depth = 0;
	for (const char *p = ops; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (*p == '%' && depth == 0)
			has_reg = true;
	}
	if (has_reg && n > 1 && strchr("bwlq", mn[n - 1]) && suffix_droppable(mn, n - 1))
		mn[n - 1] = 0;
	/* 64-bit is implied for control transfers: gdb says call/ret/jmp/leave. */
	static const char *const q64[] = { "callq", "retq", "jmpq", "leaveq", "pushq", "popq", NULL };
	for (int i = 0; q64[i]; i++)
		if (!strcmp(mn, q64[i]) && (strcmp(mn, "pushq") && strcmp(mn, "popq") ? true : has_reg))
			mn[n - 1] = 0;
	if (ops[0])
		snprintf(buf, len, "%-6s %s", mn, ops);
	else
		snprintf(buf, len, "%s", mn);
	*rip_target = in->rip_relative ? in->addr + in->len + (uint64_t)in->rip_disp : 0;
}
