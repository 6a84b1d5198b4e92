/* CPU-time alarms for traced threads (cpu_alarm.h). */
#include "core/cpu_alarm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"

/* Whether tid blocks sig now (/proc/PID/task/TID/status, SigBlk). */
static bool blocks(pid_t pid, pid_t tid, int sig)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return true;
	bool blocked = true;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "SigBlk:", 7) == 0) {
			unsigned long long m = strtoull(line + 7, NULL, 16);
			blocked = (m >> (sig - 1)) & 1;
			break;
		}
	}
	fclose(f);
	return blocked;
}

int cpu_alarm_arm(struct cpu_alarm *a, pid_t pid, pid_t tid, uint64_t ns)
{
	cpu_alarm_disarm(a);
	if (blocks(pid, tid, CPU_ALARM_SIG)) {
		errno = EAGAIN;
		return -1;
	}
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.sample_period = ns < 10000 ? 10000 : ns;   /* the kernel's minimum */
	attr.wakeup_events = 1;
	int fd = (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		pr_debug(LM_CORE, "cpu alarm for tid %d: perf_event_open: %s", tid, strerror(errno));
		return -1;
	}
	struct f_owner_ex own = { .type = F_OWNER_TID, .pid = tid };
	if (fcntl(fd, F_SETOWN_EX, &own) < 0 || fcntl(fd, F_SETSIG, CPU_ALARM_SIG) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) < 0) {
		int err = errno;
		pr_debug(LM_CORE, "cpu alarm for tid %d: fcntl: %s", tid, strerror(err));
		close(fd);
		errno = err;
		return -1;
	}
	a->fd = fd;
	return 0;
}

bool cpu_alarm_sent(const struct cpu_alarm *a, const siginfo_t *si)
{
	if (si->si_signo != CPU_ALARM_SIG || (si->si_code != POLL_IN && si->si_code != POLL_HUP))
		return false;
	return !a || (a->fd >= 0 && si->si_fd == a->fd);
}

void cpu_alarm_disarm(struct cpu_alarm *a)
{
	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
}
