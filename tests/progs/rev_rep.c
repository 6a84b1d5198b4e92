/* A repeated string instruction (rep stosb over 4096 bytes) for reverse stepping
 * inside it: a single step stops after each iteration, with rcx counting down, so a
 * position there is an iteration count that a breakpoint at the instruction meets
 * only before the first (tests/e2e/reverse_walk.sh). */
#include <stdio.h>

static unsigned char buf[4096];

__attribute__((noinline)) void fill(int c)
{
	void *d = buf;
	unsigned long n = sizeof buf;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
}

int main(void)
{
	fill(0x5a);
	fill(0x21);
	printf("%d %d\n", buf[0], buf[4095]);
	return 0;
}
