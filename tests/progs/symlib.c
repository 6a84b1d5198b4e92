/* A shared library for the library-breakpoint debuggee (dlprog). */
#include "symlib.h"

int lib_calls;

int lib_square(int x)
{
	lib_calls++;
	return x * x;
}

static int lib_private(int x)
{
	return x + lib_calls;
}

int lib_combine(int a, int b)
{
	return lib_private(lib_square(a) + b);
}
