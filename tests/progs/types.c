/* A types-rich debuggee for the symbol layer: every family of C type, file
 * statics, globals across two files, function pointers and a VLA. */
#include <stdio.h>
#include <string.h>

#include "types.h"

int global_counter = 7;
static int file_static = 11;
struct node nodes[3] = { { 1, &nodes[1] }, { 2, &nodes[2] }, { 3, 0 } };
struct shape the_shape;
int matrix[2][3] = { { 1, 2, 3 }, { 4, 5, 6 } };
int zeros[20];
int big[300];
char greeting[] = "hello";
char *gptr = greeting;
const char *empty_str = "";
char *null_str;
enum color gcolor = BLUE;
enum flags gflags = F_READ | F_EXEC;
enum color bad_color = (enum color)7;
struct bits gbits = { 5, -3, 1, 42 };
union num gnum = { .i = 0x40490fdb };
double gdouble = 3.5;
float gfloat = -0.25f;
long long gll = -1234567890123LL;
unsigned long gul = 18446744073709551615UL;
short gshort = -5;
unsigned char guchar = 200;
signed char gschar = -3;
char gchar = 'a';
bool gbool = true;
uint guint = 4000000000u;
point_t gpoint = { 3, 4 };
point_t *gpoint_ptr = &gpoint;
void *gvoidp;
int (*gfn)(int) = bump;
int *int_ptr_null;

int bump(int by)
{
	global_counter += by;
	return global_counter;
}

static int vla_sum(int n)
{
	int arr[n];
	for (int i = 0; i < n; i++)
		arr[i] = i * i;
	int s = 0;
	for (int i = 0; i < n; i++)
		s += arr[i];
	return s;
}

int inspect(struct shape *s, int count, char tag, double scale, point_t pt)
{
	int local_i = count * 2;
	char local_buf[8] = "abc";
	tag += local_buf[0] - 'a';
	struct node *head = &nodes[0];
	{
		int inner = local_i + 1;
		file_static += inner;
	}
	return local_i + s->pts[0].x + tag + (int)scale + pt.y + head->value;
}

int main(void)
{
	strcpy(the_shape.name, "square");
	the_shape.color = GREEN;
	for (int i = 0; i < 3; i++) {
		the_shape.pts[i].x = i;
		the_shape.pts[i].y = -i;
	}
	the_shape.n.f = 1.5f;
	the_shape.area = 2.25;
	the_shape.box.w = 10;
	the_shape.box.h = 20;
	the_shape.fn = bump;
	the_shape.label = "lbl";
	the_shape.visible = true;
	for (int i = 0; i < 300; i++)
		big[i] = i < 250 ? 0 : i;
	int r = inspect(&the_shape, 4, 'x', 2.5, gpoint);
	r += other_file_func(&the_shape, 2);
	r += vla_sum(5);
	r += the_shape.fn(1);
	printf("r=%d static=%d\n", r, file_static);
	return 0;
}
