/* Functions returning every SysV x86-64 class, for `finish` values. */
#include <stdio.h>

struct two_ints { int a, b; };
struct two_doubles { double x, y; };
struct mixed { long n; double d; };
struct big { long v[5]; };
struct chars { char c[3]; };
struct floats4 { float a, b, c, d; };

__attribute__((noinline)) int ret_int(int x) { return x * 3; }
__attribute__((noinline)) char ret_char(void) { return 'r'; }
__attribute__((noinline)) double ret_double(double x) { return x / 4; }
__attribute__((noinline)) float ret_float(void) { return 1.25f; }
__attribute__((noinline)) long double ret_ldouble(void) { return 2.5L; }
__attribute__((noinline)) const char *ret_str(void) { return "returned"; }
__attribute__((noinline)) struct two_ints ret_two_ints(void) { return (struct two_ints){ 7, -8 }; }
__attribute__((noinline)) struct two_doubles ret_two_doubles(void) { return (struct two_doubles){ 0.5, -1.5 }; }
__attribute__((noinline)) struct mixed ret_mixed(void) { return (struct mixed){ 42, 3.25 }; }
__attribute__((noinline)) struct big ret_big(void) { return (struct big){ { 1, 2, 3, 4, 5 } }; }
__attribute__((noinline)) struct chars ret_chars(void) { return (struct chars){ { 'x', 'y', 0 } }; }
__attribute__((noinline)) struct floats4 ret_floats4(void) { return (struct floats4){ 1, 2, 3, 4 }; }
__attribute__((noinline)) void ret_void(void) { }

int main(void)
{
	long sum = ret_int(5) + ret_char();
	sum += (long)ret_double(10) + (long)ret_float() + (long)ret_ldouble();
	sum += ret_str()[0];
	sum += ret_two_ints().a + (long)ret_two_doubles().y + ret_mixed().n + ret_big().v[4];
	sum += ret_chars().c[0] + (long)ret_floats4().d;
	ret_void();
	printf("%ld\n", sum);
	return 0;
}
