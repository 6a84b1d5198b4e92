/* Reverse execution with threads: workers add to a shared total under a spin lock,
 * each in its own loop; main waits for them (yielding) and prints while they wait
 * too. No thread blocks in the kernel: a stop never interrupts a blocking call
 * (tests/e2e/reverse_threads_signals.sh). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#define NTHREADS 3
#define ROUNDS 4

static long total;
static int last_writer;
static long results[NTHREADS + 1];
static pthread_spinlock_t lock;
static int finished;

static void deposit(int id, long v)
{
	pthread_spin_lock(&lock);
	total += v;
	last_writer = id;
	pthread_spin_unlock(&lock);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	long mine = 0;
	for (int r = 0; r < ROUNDS; r++) {
		mine += id * 10 + r;
		deposit(id, id * 10 + r);
	}
	results[id] = mine;
	__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
	for (;;)
		sched_yield();   /* main exits first */
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
	for (long t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(t + 1));
	while (__atomic_load_n(&finished, __ATOMIC_SEQ_CST) < NTHREADS)
		sched_yield();
	long sum = 0;
	for (int t = 1; t <= NTHREADS; t++)
		sum += results[t];
	printf("total=%ld sum=%ld\n", total, sum);
	fflush(stdout);
	return total == sum ? 0 : 1;
}
