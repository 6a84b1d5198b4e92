/* Functions that rewind calls inside tests/progs/call_abi (and call_static). The
 * unit test includes this header too and calls the same code natively: the native
 * result is the oracle for the inferior call's result, byte for byte. Every ABI
 * class appears: integers of each size, pointers, float, double, long double,
 * structs in registers (INTEGER, SSE, mixed), in memory, x87, unions, a struct
 * with a gap natural alignment would not leave, variadic calls. */
#ifndef CALL_ABI_H
#define CALL_ABI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CF static __attribute__((used, noinline))

struct cf_small { int a, b; };                 /* INTEGER */
struct cf_pairf { float x, y; };               /* SSE (two floats in one eightbyte) */
struct cf_mix { int i; float f; };             /* INTEGER (merged) */
struct cf_dl { double d; long l; };            /* SSE, INTEGER */
struct cf_big { long v[5]; };                  /* MEMORY */
struct cf_ldw { long double x; };              /* X87: memory in, st(0) out */
struct cf_tri { char c[3]; };                  /* 3 bytes */
struct cf_nest { struct { float a; } f; int b; };   /* nested, INTEGER */
union cf_uf { float f; int i; };               /* INTEGER */
union cf_ud { double d; float f[2]; };         /* SSE */
struct cf_gap { float a; float b __attribute__((aligned(8))); };  /* SSE, SSE */
struct cf_packed { char c; int i; } __attribute__((packed));      /* misaligned: MEMORY */
struct cf_mixbig { char tag; double d[2]; float f; };             /* 32 bytes, MEMORY */

CF int cf_add_ints(int a, int b) { return a + b; }
CF long cf_mul_longs(long a, long b) { return a * b; }
CF char cf_next_char(char c) { return (char)(c + 1); }
CF unsigned char cf_uchar_not(unsigned char c) { return (unsigned char)~c; }
CF short cf_neg_short(short s) { return (short)-s; }
CF unsigned long long cf_mix_u64(unsigned long long a, unsigned b) { return (a << 3) ^ b; }
CF int cf_many_ints(int a, int b, int c, int d, int e, int f, int g, int h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}
CF const char *cf_str_tail(const char *s, int n) { return s + n; }
CF int cf_str_len(const char *s) { return (int)strlen(s); }
CF double cf_add_doubles(double a, double b) { return a + b; }
CF float cf_scale_float(float f, int k) { return f * (float)k; }
CF double cf_mixed(int a, double b, long c, float d, char e, double f)
{
	return a * 1000.0 + b * 100.0 + (double)c * 10.0 + d + e / 8.0 + f / 64.0;
}
CF double cf_many_doubles(double a, double b, double c, double d, double e, double f,
			  double g, double h, double i, double j)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j;
}
CF long double cf_ld_mul(long double a, long double b) { return a * b; }

CF struct cf_small cf_make_small(int a, int b) { return (struct cf_small){ a, b }; }
CF int cf_sum_small(struct cf_small s) { return s.a * 10 + s.b; }
CF struct cf_pairf cf_swap_pf(struct cf_pairf p) { return (struct cf_pairf){ p.y, p.x }; }
CF float cf_dot_pf(struct cf_pairf a, struct cf_pairf b) { return a.x * b.x + a.y * b.y; }
CF struct cf_mix cf_mix_scale(struct cf_mix m, int k) { return (struct cf_mix){ m.i * k, m.f * (float)k }; }
CF struct cf_dl cf_dl_add(struct cf_dl a, struct cf_dl b) { return (struct cf_dl){ a.d + b.d, a.l + b.l }; }
CF struct cf_big cf_big_make(long base)
{
	struct cf_big b;
	for (int i = 0; i < 5; i++)
		b.v[i] = base + i * i;
	return b;
}
CF long cf_big_sum(struct cf_big b, int w) { return b.v[0] + b.v[1] * w + b.v[2] + b.v[3] * w + b.v[4]; }
CF struct cf_big cf_big_twice(struct cf_big b)
{
	for (int i = 0; i < 5; i++)
		b.v[i] *= 2;
	return b;
}
CF struct cf_ldw cf_ldw_half(struct cf_ldw x) { return (struct cf_ldw){ x.x / 2 }; }
CF struct cf_tri cf_tri_rot(struct cf_tri t) { return (struct cf_tri){ { t.c[1], t.c[2], t.c[0] } }; }
CF struct cf_nest cf_nest_bump(struct cf_nest n) { n.f.a += 0.5f; n.b += 1; return n; }
CF union cf_uf cf_uf_flip(union cf_uf u) { u.i ^= (int)0x80000000u; return u; }
CF union cf_ud cf_ud_pass(union cf_ud u) { u.f[0] *= 2; return u; }
CF struct cf_gap cf_gap_swap(struct cf_gap g) { return (struct cf_gap){ g.b, g.a }; }
CF int cf_packed_sum(struct cf_packed p) { return p.c + p.i; }
CF double cf_mixbig_sum(struct cf_mixbig m, struct cf_small s, double k)
{
	return m.tag + m.d[0] * 2 + m.d[1] * 3 + m.f * 4 + s.a * k + s.b;
}
/* Struct arguments in memory and registers, and more floating arguments than xmm
 * registers: the agent's libffi must put each in the right place. */
CF double cf_crowd(struct cf_dl a, double x0, double x1, double x2, double x3, double x4,
		   double x5, double x6, struct cf_pairf p, double x7, struct cf_dl b)
{
	return a.d + (double)a.l * 2 + x0 + x1 * 2 + x2 * 3 + x3 * 4 + x4 * 5 + x5 * 6 + x6 * 7 +
	       p.x * 8 + p.y * 9 + x7 * 10 + b.d * 11 + (double)b.l * 12;
}

/* kinds: i int, l long, d double, c char, s string (its length), S struct cf_small,
 * L long double. Each value is weighted by its position. */
CF double cf_vsum(const char *kinds, ...)
{
	va_list ap;
	double sum = 0;
	int w = 1;
	va_start(ap, kinds);
	for (const char *k = kinds; *k; k++, w++) {
		switch (*k) {
		case 'i': sum += w * va_arg(ap, int); break;
		case 'l': sum += w * (double)va_arg(ap, long); break;
		case 'd': sum += w * va_arg(ap, double); break;
		case 'c': sum += w * (char)va_arg(ap, int); break;
		case 's': sum += w * (double)strlen(va_arg(ap, const char *)); break;
		case 'S': {
			struct cf_small s = va_arg(ap, struct cf_small);
			sum += w * (s.a * 10 + s.b);
			break;
		}
		case 'L': sum += w * (double)va_arg(ap, long double); break;
		}
	}
	va_end(ap);
	return sum;
}

CF int cf_format(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

#endif
