/* Two processes computing at once: a parent and its fork child each run a loop with
 * no system call (the parent about 50 ms of CPU, the child half that), then the
 * parent waits for the child and both print their results. Recorded on one CPU, the two take turns by time slice.
 *
 *   procs_compute [private|shared] [ITERS]
 *
 * private (default): nothing shared; switches between them need no position (YIELD).
 * shared: the loops also add to a counter in a MAP_SHARED page, so each switch is a
 * preemption at a position (tests/e2e/record_nondet.sh checks which the dump shows). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long work(unsigned long seed, long iters, volatile unsigned long *shared)
{
	unsigned long x = seed;
	for (long i = 0; i < iters; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		if (shared && (i & 1023) == 0)
			*shared += 1;
	}
	return x;
}

int main(int argc, char **argv)
{
	int share = argc > 1 && strcmp(argv[1], "shared") == 0;
	long iters = argc > 2 ? atol(argv[2]) : 60000000;
	volatile unsigned long *counter = NULL;
	if (share) {
		counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (counter == MAP_FAILED)
			return 2;
	}
	/* SIGCHLD waits for the parent's loop to end: a signal delivered inside a hot
	 * loop is found in a replay hit by hit (record_progs' known limit), which is
	 * not what this program is about. */
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	pid_t c = fork();
	if (c < 0)
		return 2;
	if (c == 0) {
		unsigned long r = work(2, iters / 2, counter);   /* ends first: SIGCHLD comes
		                                                    while the parent computes */
		printf("child %lx\n", r);
		fflush(stdout);
		_exit(0);
	}
	unsigned long r = work(1, iters, counter);
	sigprocmask(SIG_SETMASK, &old, NULL);
	int st = 0;
	waitpid(c, &st, 0);
	printf("parent %lx, child exit %d\n", r, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (counter)
		printf("counter %lu\n", *counter);
	return 0;
}
