/* babysit: hand detached programs that need a tracer for life (rewind's seccomp
 * RET_TRACE filter, rdtsc trapped with PR_SET_TSC) to a small babysitter process. */
#ifndef REWIND_BABYSIT_H
#define REWIND_BABYSIT_H

#include <stddef.h>
#include <sys/types.h>

/* Step 1, while rewind still traces them: queue a SIGSTOP to each process, so that
 * once detached each enters group-stop before running untraced. 0 or -errno. */
int babysit_stop(const pid_t *pids, size_t n);
/* Step 2, after detaching: fork the babysitter (own session, outlives rewind); it
 * seizes every thread, resumes them, and serves them until the last one exits.
 * Returns its pid or -errno. */
pid_t babysit_spawn(const pid_t *pids, size_t n);

#endif
