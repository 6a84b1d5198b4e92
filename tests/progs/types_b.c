/* Second file of the types debuggee: its own file static with a clashing name. */
#include "types.h"

static int file_static = 99;
static const char *b_names[] = { "one", "two", "three" };
void fill_long_arrays(void);

int other_file_func(struct shape *s, int k)
{
	int res = s->box.w * k + file_static;
	res += (int)b_names[k][0];
	fill_long_arrays();
	return res;
}

/* Arrays past gdb's 200-element print limit, and a struct whose string
 * pointer points nowhere (printing it inside the struct says <error: ...>). */
int seq[250];
char longstr[300];
unsigned char bytes_mix[40] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3 };
struct shape bad_shape = { .name = "bad", .label = (const char *)16 };

void fill_long_arrays(void)
{
	for (int i = 0; i < 250; i++)
		seq[i] = i;
	for (int i = 0; i < 299; i++)
		longstr[i] = (char)('a' + i % 26);
}
