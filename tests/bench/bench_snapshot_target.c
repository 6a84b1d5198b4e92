/* The debuggee of bench_snapshot: SIZE MiB of touched private memory, THREADS-1 extra
 * threads parked in pthread_cond_wait, and a command loop on stdin:
 *   f  time a plain fork of this process (raw clone, CLONE_UNTRACED so the tracer does
 *      not see it; the child exits at once) and print the nanoseconds the clone took
 *   d  dirty the next 10 MiB of the memory (rotating) and print "ok"
 *   p  print "ok"
 *   c  print a checksum of the memory (its first byte of every page, which d changes)
 *   q  exit
 * Usage: bench_snapshot_target SIZE_MIB THREADS [thp] */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *parked(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	size_t size = (size_t)atol(argv[1]) << 20;
	int threads = atoi(argv[2]);
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 2;
	if (argc > 3 && !strcmp(argv[3], "thp"))
		madvise(mem, size, MADV_HUGEPAGE);
	for (size_t i = 0; i < size; i += 4096)
		mem[i] = (uint8_t)i;
	for (int i = 1; i < threads; i++) {
		pthread_t t;
		pthread_create(&t, NULL, parked, NULL);
	}
	size_t dirty_at = 0, chunk = 10u << 20;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (;;) {
		char c;
		ssize_t n = read(0, &c, 1);
		if (n <= 0 || c == 'q')
			return 0;
		if (c == 'f') {
			/* SIGCHLD blocked while timing: its delivery would stop us (traced) inside
			 * the measurement until the tracer resumes us. */
			sigset_t chld, old;
			sigemptyset(&chld);
			sigaddset(&chld, SIGCHLD);
			sigprocmask(SIG_BLOCK, &chld, &old);
			uint64_t t0 = now_ns();
			long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
			if (pid == 0)
				syscall(SYS_exit, 0);
			uint64_t t1 = now_ns();
			waitpid((pid_t)pid, NULL, 0);
			sigprocmask(SIG_SETMASK, &old, NULL);
			printf("%llu\n", (unsigned long long)(t1 - t0));
		} else if (c == 'd') {
			for (size_t i = 0; i < chunk && size; i += 4096)
				mem[(dirty_at + i) % size]++;
			dirty_at = (dirty_at + chunk) % (size ? size : 1);
			printf("ok\n");
		} else if (c == 'p') {
			printf("ok\n");
		} else if (c == 'c') {
			uint64_t h = 1469598103934665603ull;
			for (size_t i = 0; i < size; i += 4096)
				h = (h ^ mem[i]) * 1099511628211ull;
			printf("%016llx\n", (unsigned long long)h);
		}
	}
}
