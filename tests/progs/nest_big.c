/* A debuggee with MiB mebibytes touched (argument, default 100) when it reaches
 * ready(): for timing checkpoints and restores of a gdb session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mem;
size_t len;

void ready(void)
{
}

int main(int argc, char **argv)
{
	len = (size_t)(argc > 1 ? atoi(argv[1]) : 100) << 20;
	mem = malloc(len);
	memset(mem, 1, len);
	ready();
	size_t sum = 0;
	for (size_t i = 0; i < len; i += 4096)
		sum += mem[i];
	printf("pages=%zu\n", sum);
	return 0;
}
