/* main waits in pthread_join while its worker stops at breakpoints: the join's futex
 * is interrupted by every stop and must be made again when the program continues,
 * whichever thread has the turn. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static volatile int marks;

__attribute__((noinline)) static void mark(int n)
{
	marks += n;
}

static void *worker(void *arg)
{
	(void)arg;
	usleep(20000);   /* main is in its join by now */
	mark(1);
	mark(2);
	return NULL;
}

int main(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, worker, NULL) != 0)
		return 1;
	pthread_join(th, NULL);
	printf("marks=%d\n", marks);
	return marks == 3 ? 0 : 2;
}
