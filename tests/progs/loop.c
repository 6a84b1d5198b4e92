/* A counter loop with a function call per iteration: breakpoints, stepping, watch. */
#include <stdio.h>

int counter;

int bump(int by)
{
	counter += by;
	return counter;
}

int main(void)
{
	int total = 0;
	for (int i = 0; i < 5; i++)
		total += bump(i);
	printf("total=%d counter=%d\n", total, counter);
	return total == 20 ? 0 : 1;
}
