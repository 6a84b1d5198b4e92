/* Reverse-execution benchmark program (scripts/bench/reverse.sh, and a record/replay
 * test like every program here).
 *
 *   rev_bench [cpu|sys|threads] [ROUNDS] [ITERS] [hot]
 *
 * Runs ROUNDS rounds of ITERS loop iterations (cpu: arithmetic only; sys: a getppid()
 * and a little arithmetic per iteration; threads: four threads, each doing the cpu
 * rounds). tick(r) is called at the start of round r (so the last tick is one round
 * before the end), and done() by the first thread after its rounds and a few short
 * lines; with `hot`, from inside the loop at the last iteration of the last round
 * instead: a breakpoint there stops in a hot loop, the hardest place for reverse
 * stepping (every pc of the loop was passed millions of times since any snapshot).
 * Defaults: cpu 2 1000. Prints the result. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NTHREADS 4

static int mode, hot;            /* 0 cpu, 1 sys, 2 threads */
static long rounds = 2, iters = 1000;
volatile int ticks;
volatile unsigned long results[NTHREADS];

__attribute__((noinline)) void tick(int r)
{
	ticks = r;
}

__attribute__((noinline)) void done(void)
{
	__asm__ volatile("" ::: "memory");
}

/* One round: ITERS iterations; calls done() in the last one when last is set. */
static unsigned long round_of(unsigned long x, int last)
{
	unsigned long y = 0;
	for (long i = 0; i < iters; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		y ^= x >> 17;
		if (mode == 1)
			y += (unsigned long)getppid();
		if (hot && last && i == iters - 1)
			done();
	}
	return x ^ y;
}

static void *worker(void *arg)
{
	long me = (long)arg;
	unsigned long x = (unsigned long)me + 1;
	for (long r = 1; r <= rounds; r++) {
		if (me == 0)
			tick((int)r);
		x = round_of(x, me == 0 && r == rounds);
	}
	x ^= (unsigned long)me;
	results[me] = x;
	if (me == 0 && !hot)
		done();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		mode = argv[1][0] == 's' ? 1 : argv[1][0] == 't' ? 2 : 0;   /* no strcmp: its
		                      AVX2 code stops gdb's record full in the static build */
	if (argc > 2)
		rounds = atol(argv[2]);
	if (argc > 3)
		iters = atol(argv[3]);
	hot = argc > 4 && argv[4][0] == 'h';
	if (mode == 2) {
		pthread_t th[NTHREADS];
		for (long i = 1; i < NTHREADS; i++)
			pthread_create(&th[i], NULL, worker, (void *)i);
		worker((void *)0);
		for (long i = 1; i < NTHREADS; i++)
			pthread_join(th[i], NULL);
	} else {
		worker((void *)0);
	}
	unsigned long sum = 0;
	for (int i = 0; i < NTHREADS; i++)
		sum += results[i];
	printf("rounds=%ld iters=%ld ticks=%d result=%lx\n", rounds, iters, ticks, sum);
	return 0;
}
