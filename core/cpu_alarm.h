/* A stop after a thread has run for a given CPU time, made by the kernel: a
 * software task-clock perf event whose overflow sends CPU_ALARM_SIG to the thread
 * itself. The thread stops in its signal-delivery-stop on time however late the
 * tracer is scheduled (a loaded machine, a sanitizer build), which a tracer polling
 * the thread's clock cannot promise. Needs no hardware counters. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CPU_ALARM_SIG SIGSTKFLT   /* unused by the kernel and by libc */

struct cpu_alarm {
	int fd;   /* the perf event; -1 when disarmed */
};

#define CPU_ALARM_INIT { .fd = -1 }

/* Arms the alarm to stop thread tid after ns more nanoseconds of its CPU time.
 * Returns 0, or -1 (errno set) when the kernel has no perf events for us, or the
 * thread blocks CPU_ALARM_SIG (the signal would wait, pending, until unblocked):
 * the caller then falls back to polling the clock. */
int cpu_alarm_arm(struct cpu_alarm *a, pid_t pid, pid_t tid, uint64_t ns);

/* Whether si (a signal-delivery-stop's siginfo) was sent by an alarm of ours —
 * this one if armed, any if a is NULL (a stale one, queued before its disarm). */
bool cpu_alarm_sent(const struct cpu_alarm *a, const siginfo_t *si);

void cpu_alarm_disarm(struct cpu_alarm *a);
