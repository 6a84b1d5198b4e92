/* A gdb session's debuggee: a loop calling bump(), which calls scale(); globals to
 * print and change. Prints its result so a test sees it ran to its normal end. */
#include <stdio.h>

int g = 5;
long history[8];

int scale(int x)
{
	return x * 2;
}

int bump(int x)
{
	int s = scale(x);
	g += s;
	return g;
}

int main(void)
{
	for (int i = 0; i < 4; i++)
		history[i] = bump(i);
	printf("g=%d last=%ld\n", g, history[3]);
	return g == 17 ? 0 : 1;
}
