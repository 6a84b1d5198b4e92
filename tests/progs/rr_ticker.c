/* rr_ticker: prints a numbered line with the time and a random number every 50 ms,
 * N times (argv[1], default 20), for attach recordings (rewind record --pid). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	char *heap = malloc(64);
	for (int i = 0; i < n; i++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned r = 0;
		if (getrandom(&r, sizeof r, 0) < 0)
			r = 0;
		snprintf(heap, 64, "%d", i);
		printf("tick %s t=%ld.%09ld r=%u\n", heap, (long)ts.tv_sec, ts.tv_nsec, r);
		fflush(stdout);
		free(malloc(1000 + i * 4096));   /* brk or mmap, as the heap grows */
		struct timespec d = { 0, 50 * 1000 * 1000 };
		nanosleep(&d, NULL);
	}
	return 7;
}
