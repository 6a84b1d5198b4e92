/* Built without unwind tables or debug info (but with frame pointers): backtraces
 * must fall back to the rbp chain, as gdb's prologue analyser does. */
#include <stdio.h>

__attribute__((noinline)) int leaf(int x)
{
	return x + 1;
}

__attribute__((noinline)) int middle(int n)
{
	if (n == 0)
		return leaf(n);
	return middle(n - 1) + 1;
}

int main(void)
{
	int r = middle(3);
	printf("r=%d\n", r);
	return r == 4 ? 0 : 1;
}
