/* rr_sysbuf: the calls the agent's syscall buffer logs in-process (clock_gettime,
 * gettimeofday, time, read), in the ways that stress it: many of them (its buffer
 * fills and is emptied many times), reads that would block (the buffered try fails
 * and libc's read blocks, trapped), reads of a regular file (the offset moves), a
 * second thread with its own buffer, a forked child whose buffer is a copy of its
 * parent's, and calls from a signal handler while a call is being logged.
 *
 * rr_sysbuf [N]: N rounds (default 20000). Prints a digest of every value it saw;
 * checkpoint(k) marks the end of stage k for breakpoints. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long digest = 1469598103934665603ull;
static volatile unsigned long long in_handler;
int stage;

void checkpoint(int k) { stage = k; }

static void mix(unsigned long long v)
{
	digest = (digest ^ v) * 1099511628211ull;
}

static void on_alarm(int sig)
{
	(void)sig;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);   /* while main may be logging one */
	in_handler += (unsigned long long)ts.tv_nsec & 1;
}

static void *reader(void *arg)
{
	int fd = *(int *)arg;
	unsigned long long sum = 0;
	char b[16];
	ssize_t n;
	while ((n = read(fd, b, sizeof b)) > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		sum += (unsigned long long)ts.tv_nsec + (unsigned char)b[n - 1];
	}
	return (void *)(unsigned long)sum;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20000;
	struct timespec ts;
	for (int i = 0; i < rounds; i++) {
		clock_gettime(i & 1 ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
		mix((unsigned long long)ts.tv_nsec);
	}
	struct timeval tv;
	gettimeofday(&tv, NULL);
	mix((unsigned long long)tv.tv_usec);
	mix((unsigned long long)time(NULL));
	checkpoint(1);

	/* A pipe filled by a child: the first reads would block. */
	int p[2];
	if (pipe(p) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		char b[512];
		for (int i = 0; i < rounds / 64 + 1; i++) {
			for (size_t k = 0; k < sizeof b; k++)
				b[k] = (char)(i + k);
			clock_gettime(CLOCK_MONOTONIC, &ts);   /* the child's copy of the buffer */
			b[0] = (char)ts.tv_nsec;
			if (write(p[1], b, sizeof b) != sizeof b)
				_exit(3);
		}
		_exit(0);
	}
	close(p[1]);
	char b[8];
	ssize_t n;
	unsigned long long got = 0;
	while ((n = read(p[0], b, sizeof b)) > 0) {
		got += (unsigned long long)n;
		mix((unsigned char)b[0] + (unsigned long long)n * 256);
	}
	int st;
	waitpid(c, &st, 0);
	mix(got);
	checkpoint(2);

	/* A regular file, read in small pieces: its offset must end where it did. */
	char path[] = "/tmp/rr_sysbuf.XXXXXX";
	int f = mkstemp(path);
	if (f < 0)
		return 1;
	unlink(path);
	for (int i = 0; i < 256; i++) {
		char line[32];
		int len = snprintf(line, sizeof line, "line %d\n", i);
		if (write(f, line, (size_t)len) != len)
			return 1;
	}
	lseek(f, 0, SEEK_SET);
	while ((n = read(f, b, 5)) > 0)
		mix((unsigned long long)b[0] * 31 + (unsigned long long)n);
	mix((unsigned long long)lseek(f, 0, SEEK_CUR));
	checkpoint(3);

	/* A second thread with its own buffer, reading a pipe this one fills. */
	int q[2];
	if (pipe(q) < 0)
		return 1;
	pthread_t th;
	pthread_create(&th, NULL, reader, &q[0]);
	for (int i = 0; i < rounds / 16; i++) {
		char w[4] = { (char)i, 1, 2, 3 };
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (write(q[1], w, sizeof w) != sizeof w)
			return 1;
	}
	close(q[1]);
	void *ret;
	pthread_join(th, &ret);
	mix((unsigned long long)(unsigned long)ret);
	checkpoint(4);

	/* Signals arriving while calls are being logged. */
	signal(SIGALRM, on_alarm);
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < rounds; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		mix((unsigned long long)ts.tv_nsec);
	}
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	mix(in_handler);
	checkpoint(5);

	printf("digest %016llx child %d bytes %llu\n", digest, WEXITSTATUS(st), got);
	return 0;
}
