/* Second file of the types debuggee: its own file static with a clashing name. */
#include "types.h"

static int file_static = 99;
static const char *b_names[] = { "one", "two", "three" };

int other_file_func(struct shape *s, int k)
{
	int res = s->box.w * k + file_static;
	res += (int)b_names[k][0];
	return res;
}
