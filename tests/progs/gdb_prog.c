/* The gdb server's debuggee (tests/e2e/gdb_*.sh): globals and locals of several types,
 * a function returning a value (finish), a loop (until), libc calls (break puts),
 * a watched global written with changed and unchanged values, vector registers loaded
 * with known values, and modes chosen by the first argument:
 *   (none)  do the work and print "result=N counter=N usr1=N"
 *   segv    crash on a NULL pointer after the work
 *   usr1    raise SIGUSR1 (handled) before printing
 *   spin    loop forever (for gdb's ^C)
 *   sleep   block in nanosleep for a minute (for detach and kill tests) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct point {
	int x, y;
};

int counter;
struct point origin = { 3, 4 };
char name[16] = "rewind";
double ratio = 0.75;
volatile int spinning = 1;
static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

int square(int x)
{
	return x * x;
}

/* A stop here sees the vector registers the callers loaded. */
void __attribute__((noinline)) vectors_loaded(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((target("avx"))) static void load_ymm(void)
{
	static const double d[4] = { 1.5, 2.5, 3.5, 4.5 };
	__asm__ volatile("vmovupd %0, %%ymm7" : : "m"(d) : "xmm7");
	vectors_loaded();
}

__attribute__((target("avx512f"))) static void load_zmm(void)
{
	static const long q[8] = { 11, 22, 33, 44, 55, 66, 77, 88 };
	__asm__ volatile("vmovdqu64 %0, %%zmm20\n\tmovl $0x5a, %%eax\n\tkmovw %%eax, %%k3"
			 : : "m"(q) : "xmm20", "eax", "k3");
	vectors_loaded();
}

int compute(int n)
{
	int a = 7;
	long b = 11;
	double c = 2.5;
	for (int i = 0; i < n; i++)
		counter += i;
	counter = counter;           /* a write that leaves the value as it was */
	int sq = square(a);
	return sq + (int)b + (int)(c * 2) + origin.x;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	signal(SIGUSR1, on_usr1);
	puts("hello from gdb_prog");
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx"))
		load_ymm();
	if (__builtin_cpu_supports("avx512f"))
		load_zmm();
	int result = compute(4);
	origin.y = origin.x + result;
	if (!strcmp(mode, "usr1"))
		raise(SIGUSR1);
	if (!strcmp(mode, "spin"))
		while (spinning)
			counter++;
	if (!strcmp(mode, "sleep")) {
		struct timespec ts = { 60, 0 };
		nanosleep(&ts, NULL);
	}
	if (!strcmp(mode, "segv"))
		*(volatile int *)(long)(argc - 2) = result;
	printf("result=%d counter=%d usr1=%d\n", result, counter, (int)usr1_count);
	return 0;
}
