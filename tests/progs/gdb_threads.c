/* Four worker threads that are all alive when the first of them reaches report():
 * for gdb's info threads, thread switching and per-thread locals through the server. */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4

static pthread_barrier_t started, reported;
static int sum;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void report(int id, int *slot)
{
	*slot = (id + 1) * 10;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	int mine = 0;
	pthread_barrier_wait(&started);
	report(id, &mine);
	pthread_barrier_wait(&reported);
	pthread_mutex_lock(&lock);
	sum += mine;
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	pthread_barrier_init(&started, NULL, NTHREADS);
	pthread_barrier_init(&reported, NULL, NTHREADS);
	for (long t = 0; t < NTHREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	printf("sum=%d\n", sum);
	return sum == 100 ? 0 : 1;
}
