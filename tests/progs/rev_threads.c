/* Reverse execution with threads: workers add to a shared total under a mutex, each
 * in its own loop; main joins them (tests/e2e/reverse_threads.sh). */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 3
#define ROUNDS 4

static long total;
static int last_writer;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void deposit(int id, long v)
{
	pthread_mutex_lock(&lock);
	total += v;
	last_writer = id;
	pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	long mine = 0;
	for (int r = 0; r < ROUNDS; r++) {
		mine += id * 10 + r;
		deposit(id, id * 10 + r);
	}
	return (void *)mine;
}

int main(void)
{
	pthread_t th[NTHREADS];
	for (long t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(t + 1));
	long sum = 0;
	for (int t = 0; t < NTHREADS; t++) {
		void *v;
		pthread_join(th[t], &v);
		sum += (long)v;
	}
	printf("total=%ld sum=%ld\n", total, sum);
	return total == sum ? 0 : 1;
}
