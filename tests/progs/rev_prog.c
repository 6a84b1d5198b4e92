/* Reverse execution: loops, calls, recursion, an indirect call, a struct and values
 * written in several places (tests/e2e/reverse_*.sh). Prints what it computed. */
#include <stdio.h>

struct acc {
	long sum;
	int count;
};

struct acc acc;
int counter;
int a, b;
long trace[8];

int bump(int by)
{
	counter += by;
	return counter;
}

static int twice(int x)
{
	return 2 * x;
}

static int (*op)(int) = twice;

long fact(int n)
{
	if (n <= 1)
		return 1;
	return n * fact(n - 1);
}

void add(struct acc *p, long v)
{
	p->sum += v;
	p->count++;
}

int main(void)
{
	int total = 0;
	for (int i = 0; i < 5; i++)
		total += bump(i);
	for (int i = 0; i < 4; i++) {
		a += i;
		b += op(i);
		trace[i] = a + b;
	}
	long f = fact(5);
	add(&acc, f);
	add(&acc, total);
	counter = 100;
	printf("total=%d a=%d b=%d fact=%ld sum=%ld count=%d\n", total, a, b, f, acc.sum, acc.count);
	return 0;
}
