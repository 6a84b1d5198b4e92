/* Four workers that are all alive (blocked on a barrier) whenever the main thread
 * stops in report(): a gdb session checkpointed there holds five threads. */
#include <pthread.h>
#include <stdio.h>

#define NWORKERS 4
#define ROUNDS 3

static pthread_barrier_t bar;
static int counter[NWORKERS];
static long total;

void report(int round)
{
	total += round + 1;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	for (int r = 0; r < ROUNDS; r++) {
		counter[id]++;
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[NWORKERS];
	pthread_barrier_init(&bar, NULL, NWORKERS + 1);
	for (long i = 0; i < NWORKERS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&bar);
		report(r);
		pthread_barrier_wait(&bar);
	}
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	printf("total=%ld counters=%d,%d,%d,%d\n", total, counter[0], counter[1], counter[2],
	       counter[3]);
	return total == 6 ? 0 : 1;
}
