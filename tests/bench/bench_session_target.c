/* The debuggee of scripts/bench/snapshot.sh --session: SIZE MiB of touched private
 * memory; then STOPS times: dirty the next 10 MiB (one byte per page), call stop_here
 * (the benchmark's breakpoint). Prints a checksum of the memory at the end.
 * Usage: bench_session_target SIZE_MIB STOPS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

__attribute__((noinline)) void stop_here(int i)
{
	__asm__ volatile("" : : "r"(i) : "memory");
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	size_t size = (size_t)atol(argv[1]) << 20, chunk = 10u << 20, at = 0;
	int stops = atoi(argv[2]);
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || !size)
		return 2;
	for (size_t i = 0; i < size; i += 4096)
		mem[i] = (uint8_t)(i >> 12);
	for (int s = 0; s < stops; s++) {
		for (size_t i = 0; i < chunk; i += 4096)
			mem[(at + i) % size]++;
		at = (at + chunk) % size;
		stop_here(s);
	}
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < size; i += 4096)
		h = (h ^ mem[i]) * 1099511628211ull;
	printf("checksum %016llx\n", (unsigned long long)h);
	return 0;
}
