/* A small mutational fuzzer shared by every harness in tests/fuzz. A harness
 * defines fuzz_one(); this file supplies main(): it runs the seed corpus, then
 * random mutations of it for a time budget. No clang/libFuzzer needed.
 *
 *   fuzz-NAME [--smoke] [--seconds N] [--seed S] [FILE...]
 *
 * --smoke: a short deterministic run for CI (3 s). Output is TAP. When an input
 * crashes the process, it is written to $REWIND_BUILD/test-logs/fuzz-NAME.crash
 * (or ./fuzz-NAME.crash) from the signal handler before dying. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define FUZZ_MAX_INPUT 65536

static const uint8_t *cur_data;
static size_t cur_len;
static char crash_path[4096];

static void on_crash(int sig)
{
	int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		ssize_t w = write(fd, cur_data, cur_len);
		(void)w;
		close(fd);
	}
	static const char msg[] = "not ok - fuzz input crashed; saved to crash file\n";
	ssize_t w = write(1, msg, sizeof msg - 1);
	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct input { uint8_t *d; size_t n; };
static struct input *corpus;
static size_t ncorpus;

static void add_input(const uint8_t *d, size_t n)
{
	corpus = realloc(corpus, (ncorpus + 1) * sizeof *corpus);
	corpus[ncorpus].d = malloc(n ? n : 1);
	memcpy(corpus[ncorpus].d, d, n);
	corpus[ncorpus].n = n;
	ncorpus++;
}

static void load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	uint8_t *buf = malloc(FUZZ_MAX_INPUT);
	size_t n = fread(buf, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	add_input(buf, n);
	free(buf);
}

static void load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		load_file(p);
	}
	closedir(d);
}

static size_t mutate(uint8_t *buf, size_t n)
{
	static const uint8_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff, '$', '#', '}', '*', ':', ';', ',' };
	int rounds = 1 + (int)(rnd() % 4);
	for (int r = 0; r < rounds; r++) {
		switch (rnd() % 7) {
		case 0: if (n) buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8)); break;
		case 1: if (n) buf[rnd() % n] = (uint8_t)rnd(); break;
		case 2: if (n) buf[rnd() % n] = interesting[rnd() % sizeof interesting]; break;
		case 3: /* insert */
			if (n < FUZZ_MAX_INPUT) {
				size_t at = n ? rnd() % (n + 1) : 0;
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = (uint8_t)rnd();
				n++;
			}
			break;
		case 4: /* delete a run */
			if (n) {
				size_t at = rnd() % n, len = 1 + rnd() % (n - at);
				memmove(buf + at, buf + at + len, n - at - len);
				n -= len;
			}
			break;
		case 5: /* splice another corpus entry */
			if (ncorpus) {
				struct input *o = &corpus[rnd() % ncorpus];
				size_t at = n ? rnd() % n : 0, take = o->n ? rnd() % o->n : 0;
				if (at + take > FUZZ_MAX_INPUT)
					take = FUZZ_MAX_INPUT - at;
				memcpy(buf + at, o->d, take);
				if (at + take > n)
					n = at + take;
			}
			break;
		case 6: /* set a 32-bit little-endian word to an edge value */
			if (n >= 4) {
				static const uint32_t words[] = { 0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 4096, 65536 };
				uint32_t w = words[rnd() % 7];
				memcpy(buf + rnd() % (n - 3), &w, 4);
			}
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	double seconds = 30;
	uint64_t seed = 0x5eed;
	int nfiles = 0;
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke"))
			seconds = 3;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else {
			load_file(argv[i]);
			nfiles++;
		}
	}
	const char *b = getenv("REWIND_BUILD");
	snprintf(crash_path, sizeof crash_path, "%s/%s%s.crash", b ? b : ".", b ? "test-logs/" : "", name);
	signal(SIGSEGV, on_crash);
	signal(SIGABRT, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	signal(SIGILL, on_crash);
	rng_state = seed ? seed : 1;
	if (!nfiles) {
		load_dir(FUZZ_CORPUS_DIR);
		fuzz_seeds(add_input);
	}
	if (!ncorpus)
		add_input((const uint8_t *)"", 0);

	printf("TAP version 13\n1..2\n");
	int bad = 0;
	for (size_t i = 0; i < ncorpus; i++) {
		cur_data = corpus[i].d;
		cur_len = corpus[i].n;
		if (fuzz_one(cur_data, cur_len)) {
			printf("# seed %zu violates the harness's property\n", i);
			bad = 1;
		}
	}
	printf("%s - %s: %zu seed inputs\n", bad ? "not ok" : "ok", name, ncorpus);
	if (nfiles)
		return bad;

	uint8_t *buf = malloc(FUZZ_MAX_INPUT);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long runs = 0;
	int mbad = 0;
	for (;;) {
		if ((runs & 63) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9 >= seconds)
				break;
		}
		struct input *in = &corpus[rnd() % ncorpus];
		size_t n = in->n < FUZZ_MAX_INPUT ? in->n : FUZZ_MAX_INPUT;
		memcpy(buf, in->d, n);
		n = mutate(buf, n);
		cur_data = buf;
		cur_len = n;
		if (fuzz_one(buf, n)) {
			FILE *f = fopen(crash_path, "wb");
			if (f) {
				fwrite(buf, 1, n, f);
				fclose(f);
			}
			printf("# mutated input violates the harness's property; saved to %s\n", crash_path);
			mbad = 1;
			break;
		}
		runs++;
	}
	printf("%s - %s: %lu mutated inputs in %.0f s\n", mbad ? "not ok" : "ok", name, runs, seconds);
	free(buf);
	return bad || mbad;
}
