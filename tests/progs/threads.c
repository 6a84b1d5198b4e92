/* Four worker threads summing slices of an array under a mutex; main joins them. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define NTHREADS 4
#define N 4000

static int data[N];
static long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct slice {
	int id;
	int lo, hi;
	long sum;
};

static void add_total(long v)
{
	pthread_mutex_lock(&lock);
	total += v;
	pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
	struct slice *s = arg;
	for (int i = s->lo; i < s->hi; i++)
		s->sum += data[i];
	add_total(s->sum);
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];
	struct slice sl[NTHREADS];
	for (int i = 0; i < N; i++)
		data[i] = i;
	for (int t = 0; t < NTHREADS; t++) {
		sl[t] = (struct slice){ t, t * (N / NTHREADS), (t + 1) * (N / NTHREADS), 0 };
		pthread_create(&th[t], NULL, worker, &sl[t]);
	}
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	printf("total=%ld expected=%ld\n", total, (long)N * (N - 1) / 2);
	return total == (long)N * (N - 1) / 2 ? 0 : 1;
}
