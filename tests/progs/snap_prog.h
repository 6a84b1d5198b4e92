/* Shared by the snapshot debuggees (snap_*.c): a trap the test stops at, and checks
 * that print what they found. Each program prints its own expected results and exits
 * 0 only if every check passed. */
#ifndef SNAP_PROG_H
#define SNAP_PROG_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The test checkpoints or restores at these: an int3 the tracer sees as SIGTRAP (and
 * suppresses). Run on its own (or recorded), the program ignores them. */
#define SNAP_POINT() __asm__ volatile("int3" ::: "memory")

static void snap_trap_ignored(int sig) { (void)sig; }

__attribute__((constructor)) static void snap_prog_init(void)
{
	signal(SIGTRAP, snap_trap_ignored);
}

static int snap_failed __attribute__((unused));

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		snap_failed = 1; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

#endif
