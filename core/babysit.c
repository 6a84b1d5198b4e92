/* babysit: keep a detached program working when it cannot live without a tracer.
 *
 * A program started for recording carries rewind's seccomp filter (SECCOMP_RET_TRACE:
 * without a tracer every trapped syscall fails with ENOSYS) and traps rdtsc
 * (PR_SET_TSC: without a tracer rdtsc raises SIGSEGV). Neither can be undone from
 * outside. So `detach` hands such a program to a babysitter: a small process forked
 * from rewind, in its own session so it outlives rewind, that seizes every thread of
 * every process, lets trapped syscalls through, emulates rdtsc/rdtscp, passes signals
 * on and honours job control, and exits when the last tracee is gone.
 *
 * Handover: the caller stops the processes with SIGSTOP (pending while rewind still
 * traces them), detaches, and calls babysit_spawn(): the SIGSTOP puts each process in
 * group-stop before it runs a single instruction untraced; the babysitter seizes them
 * there and resumes them. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "babysit.h"
#include "log.h"
#include "util.h"

#define BS_OPTS (PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | \
		 PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC)

/* Wait (up to ~2 s) until pid is stopped (group-stop) or gone. */
static bool wait_stopped(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 2000; i++) {
		char *s;
		if (read_file(path, &s, NULL) < 0)
			return true;   /* gone */
		char *rp = strrchr(s, ')');
		char st = rp && rp[1] == ' ' ? rp[2] : '?';
		free(s);
		if (st == 'T' || st == 'Z' || st == 'X')
			return true;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Seize every thread of pid (it is in group-stop). Threads that appear meanwhile are
 * picked up by a second pass. Returns the number seized. */
static int seize_all(pid_t pid)
{
	int n = 0;
	for (int pass = 0; pass < 2; pass++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", pid);
		DIR *d = opendir(path);
		if (!d)
			return n;
		for (struct dirent *de; (de = readdir(d));) {
			pid_t tid = (pid_t)atoi(de->d_name);
			if (tid <= 0)
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)BS_OPTS) == 0)
				n++;
		}
		closedir(d);
	}
	return n;
}

/* At a SIGSEGV: if the faulting instruction is rdtsc or rdtscp (PR_SET_TSC), do it
 * here and step over it. Returns true if emulated. */
static bool emulate_tsc(pid_t tid)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return false;
	errno = 0;
	long w = ptrace(PTRACE_PEEKTEXT, tid, (void *)r.rip, 0);
	if (errno)
		return false;
	const unsigned char *b = (const unsigned char *)&w;
	unsigned lo, hi, aux = 0;
	int len;
	if (b[0] == 0x0f && b[1] == 0x31) {
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		len = 2;
	} else if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xf9) {
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
		r.rcx = aux;
		len = 3;
	} else {
		return false;
	}
	r.rax = lo;
	r.rdx = hi;
	r.rip += (unsigned long long)len;
	return ptrace(PTRACE_SETREGS, tid, 0, &r) == 0;
}

static bool is_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Take the handover stop of tid (it is in group-stop, seized): wait for its report
 * (up to ~1 s) and leave it listening, so the SIGCONT that follows wakes it with a
 * trap like any later group-stop. */
static void take_handover_stop(pid_t tid)
{
	for (int i = 0; i < 1000; i++) {
		int st;
		pid_t w = waitpid(tid, &st, __WALL | WNOHANG);
		if (w == tid && WIFSTOPPED(st)) {
			if (st >> 16 == PTRACE_EVENT_STOP)
				ptrace(PTRACE_LISTEN, tid, 0, 0);
			else   /* not stopped after all (a signal stop): let it go on */
				ptrace(PTRACE_CONT, tid, 0, (void *)(long)WSTOPSIG(st));
			return;
		}
		if (w < 0 && errno != EINTR)
			return;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* The babysitter's loop: never returns. */
static void babysit(const pid_t *pids, size_t n, int done_fd)
{
	for (size_t i = 0; i < n; i++) {
		if (seize_all(pids[i]) <= 0)
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", pids[i]);
		DIR *d = opendir(path);
		for (struct dirent *de; d && (de = readdir(d));)
			if (atoi(de->d_name) > 0)
				take_handover_stop((pid_t)atoi(de->d_name));
		if (d)
			closedir(d);
	}
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGCONT);
	/* Handed over: rewind may exit now. Before the SIGCONT its exit could orphan
	 * the program's process group while it was stopped, and the kernel then sends
	 * the group SIGHUP, which kills the program. */
	char ok = 1;
	if (write(done_fd, &ok, 1) < 0)
		pr_debug(LM_CORE, "babysitter: handover report: %s", strerror(errno));
	close(done_fd);
	for (;;) {
		int st;
		pid_t tid = waitpid(-1, &st, __WALL);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			_exit(0);   /* ECHILD: every tracee is gone */
		}
		if (WIFSIGNALED(st)) {
			/* Said, since nobody else may: rewind is gone, and the program's
			 * parent may be too. */
			for (size_t i = 0; i < n; i++)
				if (pids[i] == tid)
					fprintf(stderr, "rewind: process %d (detached, babysat) was killed by "
						"signal %d (%s)\n", tid, WTERMSIG(st), strsignal(WTERMSIG(st)));
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), ev = st >> 16;
		long inject = 0;
		if (ev == PTRACE_EVENT_STOP && is_stop_sig(sig)) {
			/* A group-stop (^Z, kill -STOP): stay stopped until SIGCONT, which
			 * wakes it with a trap (below: go on). */
			ptrace(PTRACE_LISTEN, tid, 0, 0);
			continue;
		}
		if (ev == 0 && sig != (SIGTRAP | 0x80)) {
			/* Signal-delivery-stop: pass it on (after emulating a trapped rdtsc). */
			inject = sig == SIGSEGV && emulate_tsc(tid) ? 0 : sig;
		}
		/* seccomp, clone/fork/vfork/exec events, new threads' first stop, the
		 * trap after SIGCONT: go on. */
		ptrace(PTRACE_CONT, tid, 0, (void *)inject);
	}
}

int babysit_stop(const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], SIGSTOP) < 0 && errno != ESRCH)
			return -errno;
	return 0;
}

pid_t babysit_spawn(const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!wait_stopped(pids[i]))
			pr_warn(LM_CORE, "process %d did not stop for the handover to a babysitter",
				pids[i]);
	/* Forked twice and the middle one reaped at once: the babysitter is nobody's
	 * child, so rewind's own wait loop never meets it. */
	int pfd[2];
	if (pipe(pfd) < 0)
		return -errno;
	pid_t m = fork();
	if (m < 0) {
		int e = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	if (m > 0) {
		close(pfd[1]);
		pid_t b = -ECHILD;
		ssize_t k;
		while ((k = read(pfd[0], &b, sizeof b)) < 0 && errno == EINTR)
			;   /* a signal of rewind's own (a timer) */
		if (k != (ssize_t)sizeof b)
			b = k < 0 ? -errno : -EPIPE;   /* EPIPE: it ended without a word */
		while (waitpid(m, NULL, __WALL) < 0 && errno == EINTR)
			;
		/* Wait (up to 5 s) for the babysitter's word that the program runs again
		 * (a byte), or its end (EOF). */
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		char ok;
		int pr;
		while ((pr = poll(&pf, 1, 5000)) < 0 && errno == EINTR)
			;
		if (b > 0 && (pr <= 0 || read(pfd[0], &ok, 1) != 1))
			pr_warn(LM_CORE, "babysitter %d did not report the handover", b);
		close(pfd[0]);
		return b;
	}
	close(pfd[0]);
	pid_t b = fork();
	if (b != 0) {
		/* The middle one. Only a failure is its to say: the babysitter says its own
		 * pid, then (later) the handover's byte; two writers would race (the byte
		 * came first once, read as "no babysitter"). */
		if (b < 0) {
			b = -errno;
			if (write(pfd[1], &b, sizeof b) < 0)
				_exit(1);
		}
		_exit(0);
	}
	b = getpid();
	if (write(pfd[1], &b, sizeof b) < 0)
		_exit(1);
	/* The babysitter: its own session, out of the terminal's way, no fds of rewind's. */
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != pfd[1])
			close(fd);
	babysit(pids, n, pfd[1]);
	_exit(0);
}
