/* The trapped syscalls that never block (ptrace, kill, tkill, tgkill, getppid, and
 * wait4 with WNOHANG looking at exits only) are answered through a seccomp user-notification listener rather than at a ptrace stop:
 * the caller sleeps in the kernel until rewind answers, with no stop, no register
 * round trip and no wait status — a few microseconds instead of tens, and a debugger
 * makes several such calls per step. The other waits keep their ptrace stop: a wait
 * that blocks sleeps in pause() and one that reaps a real zombie is rewritten
 * (nest_wait.c); a WNOHANG wait answered here lets the kernel reap such a zombie.
 *
 * A signal or a PTRACE_INTERRUPT (a checkpoint stopping everyone) wakes a caller
 * waiting for its answer: its syscall is restarted and notified again, as a blocking
 * syscall would be.
 *
 * Such a syscall injected by rewind itself (inject_syscall) would wait for an answer
 * rewind cannot give while it injects: rewind injects none of them (waitid, which the
 * snapshots inject, is always answered at a ptrace stop). */
#include "nest_int.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

bool nest_by_listener(int nr)
{
	return nr == SYS_ptrace || nr == SYS_kill || nr == SYS_tkill || nr == SYS_tgkill ||
	       nr == SYS_getppid;
}

bool nest_wait_by_listener(int nr, int *arg, uint32_t *mask, uint32_t *value)
{
	/* wait4 only: waitid stays at a ptrace stop, so that rewind can inject it (as the
	 * snapshots do to reap their zombies) without waiting for its own answer. */
	if (nr != SYS_wait4)
		return false;
	*arg = 2;   /* the options */
	*mask = WNOHANG | WSTOPPED | WCONTINUED;
	*value = WNOHANG;
	return true;
}

void nest_set_listener(struct nest *n, int fd)
{
	if (n->listener >= 0)
		close(n->listener);
	n->listener = fd;
}

int nest_listener(const struct nest *n)
{
	return n->listener;
}

int nest_serve_listener(struct nest *n)
{
	int served = 0;
	while (n->listener >= 0) {
		struct pollfd pfd = { n->listener, POLLIN, 0 };
		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
			break;
		struct seccomp_notif req;
		memset(&req, 0, sizeof req);
		if (ioctl(n->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;   /* the caller was interrupted meanwhile */
			pr_warn(LM_NEST, "seccomp listener: %s", strerror(errno));
			break;
		}
		served++;
		struct seccomp_notif_resp resp;
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		struct task *t = target_find_task(n->tg, (pid_t)req.pid);
		bool native = true;
		int64_t r = 0;
		if (t && !t->proc->snapshot) {
			const uint64_t a[6] = { req.data.args[0], req.data.args[1], req.data.args[2],
						req.data.args[3], req.data.args[4], req.data.args[5] };
			r = nest_call(n, nt_of(n, t), req.data.nr, a, &native);
		}
		if (native)
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		else if (r < 0 && r >= -4095)
			resp.error = (int32_t)r;
		else
			resp.val = r;
		if (ioctl(n->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			pr_warn(LM_NEST, "tid %u: answer to syscall %d not delivered: %s", req.pid,
				req.data.nr, strerror(errno));
	}
	return served;
}
