/* rr_inputs: nondeterministic inputs between breakpoints, for record/replay tests.
 * Stage i (0..2) reads a line from stdin, samples the clock (through the vDSO),
 * rdtsc, getrandom and getpid into vals[i], writes one line of output, then calls
 * mark(i). At the end it prints everything it read, so a replay that read a pipe
 * twice or lost a value shows in the last lines. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

/* Per stage: clock ns, rdtsc, getrandom, getpid. */
unsigned long long vals[12];
char lines[3][64];
int counter;

void mark(int i) { counter += i + 1; }

static void say(const char *s)
{
	ssize_t w = write(1, s, strlen(s));
	(void)w;
}

int main(void)
{
	for (int i = 0; i < 3; i++) {
		/* One line, a byte at a time: lines that arrive together stay apart. */
		size_t n = 0;
		char c;
		while (n + 1 < sizeof lines[i] && read(0, &c, 1) == 1 && c != '\n')
			lines[i][n++] = c;
		lines[i][n] = 0;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		vals[4 * i] = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
		vals[4 * i + 1] = __rdtsc();
		unsigned r = 0;
		if (getrandom(&r, sizeof r, 0) != sizeof r)
			r = 0;
		vals[4 * i + 2] = r;
		vals[4 * i + 3] = (unsigned long long)getpid();
		char msg[96];
		snprintf(msg, sizeof msg, "stage %d read '%s'\n", i, lines[i]);
		say(msg);
		mark(i);
	}
	for (int i = 0; i < 3; i++) {
		char msg[160];
		snprintf(msg, sizeof msg, "final %d '%s' ns %llu tsc %llu rnd %llu pid %llu\n", i,
			 lines[i], vals[4 * i], vals[4 * i + 1], vals[4 * i + 2], vals[4 * i + 3]);
		say(msg);
	}
	return 0;
}
