/* Linked -static: symbols and unwinding without a dynamic loader. */
#include <stdio.h>

static int depth_sum(int n)
{
	if (n == 0)
		return 0;
	return n + depth_sum(n - 1);
}

int main(void)
{
	int r = depth_sum(4);
	printf("r=%d\n", r);
	return r == 10 ? 0 : 1;
}
