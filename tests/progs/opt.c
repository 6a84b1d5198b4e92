/* Built with -O2: variables live in registers, location lists, optimized-out values. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int work(int n, int *out)
{
	int acc = 0;
	for (int i = 0; i < n; i++) {
		int sq = i * i;
		acc += sq ^ n;
	}
	*out = acc;
	return acc + n;
}

__attribute__((noinline)) static int unused_arg(int used, int unused)
{
	return used * 3;
}

int main(int argc, char **argv)
{
	int out = 0;
	int n = argc > 1 ? atoi(argv[1]) : 10;
	int r = work(n, &out);
	r += unused_arg(r, n);
	printf("%d %d\n", r, out);
	int use_pair(int x);   /* opt_b.c: a struct split into DWARF pieces */
	return use_pair(r) == 0;
}
