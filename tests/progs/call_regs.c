/* Registers across inferior calls. regs_roundtrip() loads known values into every
 * general register but rsp, into rflags (CF and DF set), MXCSR (round toward zero),
 * a full x87 stack (eight values), zmm0-31 and k1-7 (ymm0-15 without AVX-512),
 * stops at the global label regs_stop, then stores them all back; main compares and
 * prints "regs ok". The test stops at regs_stop and calls the functions below,
 * which clobber all of that (or crash with callee-saved registers trashed), so any
 * state rewind fails to put back shows up here. DF=1 and a full x87 stack at the
 * stop also check that a call gets the clean state the ABI promises the callee. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CF static __attribute__((used, noinline))

struct img {
	uint64_t gpr[15];      /* rax rbx rcx rdx rsi rdi rbp r8 ... r15 */
	uint64_t flags;        /* 120 */
	uint32_t mxcsr, pad;   /* 128 */
	uint64_t avx512;       /* 136: input: use zmm and k registers */
	uint8_t st[8][16];     /* 144: x87 values (10 bytes each), st[0] loaded first */
	uint64_t k[8];         /* 272 */
	uint8_t v[32][64] __attribute__((aligned(64)));   /* 384 */
};
_Static_assert(__builtin_offsetof(struct img, v) == 384, "layout the asm expects");
_Static_assert(sizeof(struct img) == 2432, "layout the asm expects");

void regs_roundtrip(const struct img *in, struct img *out);

__asm__(
	"	.text\n"
	"	.globl regs_roundtrip\n"
	"	.type regs_roundtrip, @function\n"
	"regs_roundtrip:\n"
	"	push %rbp\n	mov %rsp, %rbp\n"
	"	push %rbx\n	push %r12\n	push %r13\n	push %r14\n	push %r15\n"
	"	push %rsi\n	push %rdi\n"
	"	sub $2440, %rsp\n"                       /* the image, at 0(%rsp) */
	"	ldmxcsr 128(%rdi)\n"
	"	.irp i,0,1,2,3,4,5,6,7\n	fldt 144+16*\\i(%rdi)\n	.endr\n"
	"	cmpq $0, 136(%rdi)\n	je 1f\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 384+64*\\i(%rdi), %zmm\\i\n	.endr\n"
	"	.irp i,1,2,3,4,5,6,7\n	kmovq 272+8*\\i(%rdi), %k\\i\n	.endr\n"
	"	jmp 2f\n"
	"1:	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu 384+64*\\i(%rdi), %ymm\\i\n	.endr\n"
	"2:	mov 0(%rdi), %rax\n	mov 8(%rdi), %rbx\n	mov 16(%rdi), %rcx\n	mov 24(%rdi), %rdx\n"
	"	mov 32(%rdi), %rsi\n	mov 48(%rdi), %rbp\n	mov 56(%rdi), %r8\n	mov 64(%rdi), %r9\n"
	"	mov 72(%rdi), %r10\n	mov 80(%rdi), %r11\n	mov 88(%rdi), %r12\n	mov 96(%rdi), %r13\n"
	"	mov 104(%rdi), %r14\n	mov 112(%rdi), %r15\n	mov 40(%rdi), %rdi\n"
	"	stc\n	std\n"
	"	.globl regs_stop\n"
	"regs_stop:\n"
	"	nop\n"
	"	pushfq\n	popq 120(%rsp)\n	cld\n"
	"	mov %rax, 0(%rsp)\n	mov %rbx, 8(%rsp)\n	mov %rcx, 16(%rsp)\n	mov %rdx, 24(%rsp)\n"
	"	mov %rsi, 32(%rsp)\n	mov %rdi, 40(%rsp)\n	mov %rbp, 48(%rsp)\n	mov %r8, 56(%rsp)\n"
	"	mov %r9, 64(%rsp)\n	mov %r10, 72(%rsp)\n	mov %r11, 80(%rsp)\n	mov %r12, 88(%rsp)\n"
	"	mov %r13, 96(%rsp)\n	mov %r14, 104(%rsp)\n	mov %r15, 112(%rsp)\n"
	"	stmxcsr 128(%rsp)\n"
	"	.irp i,7,6,5,4,3,2,1,0\n	fstpt 144+16*\\i(%rsp)\n	.endr\n"
	"	mov 2440(%rsp), %rdi\n"                  /* in */
	"	cmpq $0, 136(%rdi)\n	je 3f\n"
	"	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 %zmm\\i, 384+64*\\i(%rsp)\n	.endr\n"
	"	.irp i,1,2,3,4,5,6,7\n	kmovq %k\\i, 272+8*\\i(%rsp)\n	.endr\n"
	"	jmp 4f\n"
	"3:	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu %ymm\\i, 384+64*\\i(%rsp)\n	.endr\n"
	"4:	vzeroupper\n"
	"	mov 2448(%rsp), %rdi\n	mov %rsp, %rsi\n	mov $2432, %rcx\n	rep movsb\n"
	"	add $2456, %rsp\n"
	"	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbx\n	pop %rbp\n"
	"	ret\n"
	"	.size regs_roundtrip, . - regs_roundtrip\n");

char bigbuf[100000];
int avx512;

/* Overwrite every vector and mask register and MXCSR's rounding mode. */
CF int clobber(int seed)
{
	if (avx512)
		__asm__ volatile(
			".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
			"vpternlogd $0xff, %%zmm\\i, %%zmm\\i, %%zmm\\i\n .endr\n"
			"kxnorq %%k1, %%k1, %%k1\n kxnorq %%k2, %%k2, %%k2\n kxnorq %%k7, %%k7, %%k7\n"
			::: "memory");
	else
		__asm__ volatile(
			".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
			"vpcmpeqd %%ymm\\i, %%ymm\\i, %%ymm\\i\n .endr\n" ::: "memory");
	unsigned m = 0x1f80;
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
	return seed * 3;
}

/* Trash the callee-saved registers, then fault: the call is abandoned mid-way. */
CF int crash_dirty(int *p)
{
	int v;
	__asm__ volatile(
		"mov $0xdead, %%rbx\n mov $0xdead, %%r12\n mov $0xdead, %%r13\n"
		"mov $0xdead, %%r14\n mov $0xdead, %%r15\n mov (%1), %0\n"
		: "=r"(v) : "r"(p) : "rbx", "r12", "r13", "r14", "r15");
	return v;
}

/* Needs x87 registers: wrong unless the call starts with an empty x87 stack. */
CF long double ld_sum3(long double a, long double b, long double c) { return a + b * 2 + c * 3; }

/* glibc's memset uses `rep stosb` for large sizes: wrong unless DF is clear. */
CF void *fill(void *p, int c, size_t n) { return memset(p, c, n); }

CF double sum_d(double a, double b, double c) { return a + b * 2 + c * 3; }

int main(void)
{
	static struct img in, out;
	static const long double st[8] = { 1.5L, -2.25L, 3.0L / 7, 3.14159265358979323846L,
					   1e300L, -1e-300L, 42.0L, 0.1L };
	avx512 = __builtin_cpu_supports("avx512f") != 0;
	for (int i = 0; i < 15; i++)
		in.gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1) ^ 0x8000000000000000ull;
	in.mxcsr = 0x1f80 | 0x6000;
	in.avx512 = (uint64_t)avx512;
	for (int i = 0; i < 8; i++) {
		memcpy(in.st[i], &st[i], 10);
		in.k[i] = 0x0102030405060708ull * (uint64_t)(i + 3);
	}
	for (int r = 0; r < 32; r++)
		for (int b = 0; b < 64; b++)
			in.v[r][b] = (uint8_t)(r * 64 + b * 7 + 1);

	regs_roundtrip(&in, &out);

	static const char *const names[15] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	int ok = 1;
	for (int i = 0; i < 15; i++)
		if (out.gpr[i] != in.gpr[i]) {
			printf("%s differs: %#llx\n", names[i], (unsigned long long)out.gpr[i]);
			ok = 0;
		}
	if ((out.flags & 0x401) != 0x401) {
		printf("flags differ: %#llx\n", (unsigned long long)out.flags);
		ok = 0;
	}
	if (out.mxcsr != in.mxcsr) {
		printf("mxcsr differs: %#x\n", out.mxcsr);
		ok = 0;
	}
	for (int i = 0; i < 8; i++)
		if (memcmp(out.st[i], in.st[i], 10)) {
			printf("x87 value %d differs\n", i);
			ok = 0;
		}
	int nv = avx512 ? 32 : 16, width = avx512 ? 64 : 32;
	for (int r = 0; r < nv; r++)
		if (memcmp(out.v[r], in.v[r], (size_t)width)) {
			printf("vector register %d differs\n", r);
			ok = 0;
		}
	for (int i = 1; avx512 && i < 8; i++)
		if (out.k[i] != in.k[i]) {
			printf("k%d differs\n", i);
			ok = 0;
		}
	printf(ok ? "regs ok\n" : "regs BAD\n");
	printf("bigbuf %d %d\n", bigbuf[0], bigbuf[sizeof bigbuf - 1]);
	return ok ? 0 : 1;
}
