/* Uses a shared library (symlib) and calls into libc without debug info. */
#include <stdio.h>

#include "symlib.h"

int main(void)
{
	int r = lib_combine(3, 4);
	r += lib_square(2);
	puts("dlprog done");
	printf("r=%d\n", r);
	return 0;
}
