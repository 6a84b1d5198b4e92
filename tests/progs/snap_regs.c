/* One thread's state across checkpoint/restore: memory (data, heap, stack), general
 * registers, fs_base, x87, SSE/AVX and (where present) AVX-512 registers incl. opmasks.
 * Trap 1 sits inside an asm block with known values in every vector register; the
 * block stores them back right after it, and main compares. Trap 2 is where the test
 * restores. Prints "vectors ok", "x87 ok", "memory ok" and exits 0 when all hold. */
#include <stdint.h>

#include "snap_prog.h"

uint8_t pattern[32 * 64] __attribute__((aligned(64)));
uint8_t out[32 * 64] __attribute__((aligned(64)));
uint64_t kin[8], kout[8];
volatile uint64_t counter;

__attribute__((noinline)) void marker_a(void) { counter += 1; }
__attribute__((noinline)) void marker_b(void) { counter += 2; }

static void vec_avx512(double *x87in, double *x87out)
{
	__asm__ volatile(
		"kmovq 8(%[k]), %%k1\n kmovq 16(%[k]), %%k2\n kmovq 24(%[k]), %%k3\n"
		"kmovq 32(%[k]), %%k4\n kmovq 40(%[k]), %%k5\n kmovq 48(%[k]), %%k6\n"
		"kmovq 56(%[k]), %%k7\n"
		"fldl 8(%[xi])\n fldl (%[xi])\n"
#define L(i) "vmovdqu64 " #i "*64(%[p]), %%zmm" #i "\n"
		L(0) L(1) L(2) L(3) L(4) L(5) L(6) L(7) L(8) L(9) L(10) L(11) L(12) L(13) L(14)
		L(15) L(16) L(17) L(18) L(19) L(20) L(21) L(22) L(23) L(24) L(25) L(26) L(27)
		L(28) L(29) L(30) L(31)
		"int3\n"
#define S(i) "vmovdqu64 %%zmm" #i ", " #i "*64(%[o])\n"
		S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7) S(8) S(9) S(10) S(11) S(12) S(13) S(14)
		S(15) S(16) S(17) S(18) S(19) S(20) S(21) S(22) S(23) S(24) S(25) S(26) S(27)
		S(28) S(29) S(30) S(31)
		"fstpl (%[xo])\n fstpl 8(%[xo])\n"
		"kmovq %%k1, 8(%[ko])\n kmovq %%k2, 16(%[ko])\n kmovq %%k3, 24(%[ko])\n"
		"kmovq %%k4, 32(%[ko])\n kmovq %%k5, 40(%[ko])\n kmovq %%k6, 48(%[ko])\n"
		"kmovq %%k7, 56(%[ko])\n"
		"vzeroupper\n"
		: : [p] "r"(pattern), [o] "r"(out), [k] "r"(kin), [ko] "r"(kout), [xi] "r"(x87in),
		    [xo] "r"(x87out)
		: "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17",
		  "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26",
		  "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k1", "k2", "k3", "k4", "k5", "k6",
		  "k7", "st", "st(1)");
}

static void vec_avx(double *x87in, double *x87out)
{
	__asm__ volatile(
		"fldl 8(%[xi])\n fldl (%[xi])\n"
#define LY(i) "vmovdqu " #i "*64(%[p]), %%ymm" #i "\n"
		LY(0) LY(1) LY(2) LY(3) LY(4) LY(5) LY(6) LY(7) LY(8) LY(9) LY(10) LY(11) LY(12)
		LY(13) LY(14) LY(15)
		"int3\n"
#define SY(i) "vmovdqu %%ymm" #i ", " #i "*64(%[o])\n"
		SY(0) SY(1) SY(2) SY(3) SY(4) SY(5) SY(6) SY(7) SY(8) SY(9) SY(10) SY(11) SY(12)
		SY(13) SY(14) SY(15)
		"fstpl (%[xo])\n fstpl 8(%[xo])\n"
		"vzeroupper\n"
		: : [p] "r"(pattern), [o] "r"(out), [xi] "r"(x87in), [xo] "r"(x87out)
		: "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int avx512 = __builtin_cpu_supports("avx512f") != 0;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 8; i++)
		kin[i] = 0x0101010101010101ull * (uint64_t)(i + 1) ^ 0xf0f0u;
	char *heap = malloc(64);
	strcpy(heap, "before");
	char stack_buf[32] = "stack before";
	counter = 100;
	double x87in[2] = { 1.25, -3.5 }, x87out[2] = { 0, 0 };
	printf("start avx512=%d\n", avx512);

	if (avx512)
		vec_avx512(x87in, x87out);      /* trap 1 inside */
	else
		vec_avx(x87in, x87out);

	size_t width = avx512 ? 64 : 32, nregs = avx512 ? 32 : 16;
	int vec_ok = 1;
	for (size_t r = 0; r < nregs; r++)
		vec_ok &= !memcmp(out + r * 64, pattern + r * 64, width);
	for (int i = 1; avx512 && i < 8; i++)
		vec_ok &= kout[i] == kin[i];
	CHECK(vec_ok, "vector registers differ after trap 1");
	if (vec_ok)
		printf("vectors ok\n");
	CHECK(x87out[0] == 1.25 && x87out[1] == -3.5, "x87 stack %g %g", x87out[0], x87out[1]);
	if (x87out[0] == 1.25 && x87out[1] == -3.5)
		printf("x87 ok\n");
	int mem_ok = counter == 100 && !strcmp(heap, "before") && !strcmp(stack_buf, "stack before");
	CHECK(mem_ok, "memory: counter=%lu heap=%s stack=%s", (unsigned long)counter, heap,
	      stack_buf);
	if (mem_ok)
		printf("memory ok\n");
	counter = 200;
	strcpy(heap, "after");
	strcpy(stack_buf, "stack after");
	marker_a();
	marker_b();
	SNAP_POINT();                           /* trap 2 */
	printf("done counter=%lu\n", (unsigned long)counter);
	return snap_failed;
}
