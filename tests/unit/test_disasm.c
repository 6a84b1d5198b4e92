/* disasm: instruction kinds, lengths, direct targets, and repeated string
 * instructions (a single step stops after each of their iterations). */
#include <criterion/criterion.h>
#include <stdint.h>

#include "core/disasm.h"

static struct insn dec(const uint8_t *code, size_t len)
{
	struct insn in;
	cr_assert_eq(disasm_one(code, len, 0x1000, &in), 0);
	return in;
}

Test(disasm, kinds_lengths_and_targets)
{
	const uint8_t call[] = { 0xe8, 0x10, 0x00, 0x00, 0x00 };    /* call 0x1015 */
	struct insn in = dec(call, sizeof call);
	cr_assert_eq(in.kind, IK_CALL);
	cr_assert_eq(in.len, 5);
	cr_assert_eq(in.target, 0x1015);
	const uint8_t sys[] = { 0x0f, 0x05 }, tsc[] = { 0x0f, 0x31 }, ret[] = { 0xc3 };
	cr_assert_eq(dec(sys, sizeof sys).kind, IK_SYSCALL);
	cr_assert_eq(dec(tsc, sizeof tsc).kind, IK_RDTSC);
	cr_assert_eq(dec(ret, sizeof ret).kind, IK_RET);
}

Test(disasm, repeated_string_instructions)
{
	const uint8_t rep_stosq[] = { 0xf3, 0x48, 0xab }, rep_movsb[] = { 0xf3, 0xa4 },
		      repne_scasb[] = { 0xf2, 0xae }, repe_cmpsb[] = { 0xf3, 0xa6 };
	cr_assert(dec(rep_stosq, sizeof rep_stosq).rep_string);
	cr_assert(dec(rep_movsb, sizeof rep_movsb).rep_string);
	cr_assert(dec(repne_scasb, sizeof repne_scasb).rep_string);
	cr_assert(dec(repe_cmpsb, sizeof repe_cmpsb).rep_string);
	/* Not repeated, or an F3 prefix that is no rep: stosq, pause, rep ret, popcnt. */
	const uint8_t stosq[] = { 0x48, 0xab }, pause[] = { 0xf3, 0x90 }, repret[] = { 0xf3, 0xc3 },
		      popcnt[] = { 0xf3, 0x0f, 0xb8, 0xc0 };
	cr_assert_not(dec(stosq, sizeof stosq).rep_string);
	cr_assert_not(dec(pause, sizeof pause).rep_string);
	cr_assert_not(dec(repret, sizeof repret).rep_string);
	cr_assert_not(dec(popcnt, sizeof popcnt).rep_string);
}
