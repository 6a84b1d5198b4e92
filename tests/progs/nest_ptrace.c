/* The ptrace and wait API as debuggers and strace use it, with its own checks. It prints
 * a transcript free of pids and addresses: natively and under `rewind run` (where all
 * of it is emulated) the transcripts must be identical (tests/e2e/nest_ptrace.sh).
 * The exit status is the number of failed checks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/elf.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
volatile int target_var = 1;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		printf("FAIL %s:%d: ", __func__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

static const char *sig(int s)
{
	static char buf[32];
	const char *n = sigabbrev_np(s & 0x7f);
	snprintf(buf, sizeof buf, "%s%s", n ? n : "?", s & 0x80 ? "|0x80" : "");
	return buf;
}

static const char *st(int s)
{
	static char buf[96];
	if (WIFEXITED(s))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(s));
	else if (WIFSIGNALED(s))
		snprintf(buf, sizeof buf, "killed %s", sig(WTERMSIG(s)));
	else if (WIFCONTINUED(s))
		snprintf(buf, sizeof buf, "continued");
	else if (WIFSTOPPED(s) && (s >> 16))
		snprintf(buf, sizeof buf, "stopped %s event %d", sig(WSTOPSIG(s)), s >> 16);
	else if (WIFSTOPPED(s))
		snprintf(buf, sizeof buf, "stopped %s", sig(WSTOPSIG(s)));
	else
		snprintf(buf, sizeof buf, "status %#x", s);
	return buf;
}

static int wait_for(pid_t pid, int opts)
{
	int s = 0;
	pid_t r;
	while ((r = waitpid(pid, &s, opts)) < 0 && errno == EINTR)
		;
	CHECK(r == pid, "waitpid(%d) = %d: %s", pid, r, strerror(errno));
	return s;
}

/* A child that asks to be traced and stops itself. */
static pid_t traced_child(void (*body)(void))
{
	pid_t c = fork();
	if (c == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		body();
		_exit(0);
	}
	int s = wait_for(c, 0);
	CHECK(WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP, "first stop: %s", st(s));
	return c;
}

/* Let it run to its end, passing the signals it gets. */
static void finish(pid_t c, const char *what)
{
	int s, sig = 0;
	for (;;) {
		ptrace(PTRACE_CONT, c, 0, sig);
		s = wait_for(c, 0);
		if (!WIFSTOPPED(s))
			break;
		sig = WSTOPSIG(s) == SIGTRAP ? 0 : WSTOPSIG(s);
		printf("%s: passes %s\n", what, st(s));
	}
	printf("%s: %s\n", what, st(s));
}

static void nothing(void)
{
}

static void t_traceme_exec(void)
{
	pid_t c = fork();
	if (c == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int s = wait_for(c, 0);
	siginfo_t si;
	struct user_regs_struct r;
	CHECK(ptrace(PTRACE_GETSIGINFO, c, 0, &si) == 0, "GETSIGINFO: %s", strerror(errno));
	CHECK(ptrace(PTRACE_GETREGS, c, 0, &r) == 0 && r.rip, "GETREGS");
	long cs = ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, regs.cs), 0);
	printf("traceme+exec: %s, si_code %d, cs %#lx\n", st(s), si.si_code, cs);
	finish(c, "traceme+exec");
}

static void b_syscalls(void)
{
	getppid();
	syscall(SYS_getpid);
	execl("/bin/true", "true", (char *)NULL);
}

static void t_syscall_info(void)
{
	pid_t c = traced_child(b_syscalls);
	struct __ptrace_syscall_info info;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof info, &info);
	printf("syscall info at a signal stop: size %ld op %d\n", n, info.op);
	ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC |
	       PTRACE_O_EXITKILL);
	int entries = 0, exits = 0, s;
	bool in_getppid = false;
	for (;;) {
		ptrace(PTRACE_SYSCALL, c, 0, 0);
		s = wait_for(c, 0);
		if (!WIFSTOPPED(s) || WSTOPSIG(s) != (SIGTRAP | 0x80))
			break;
		n = ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof info, &info);
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			entries++;
			CHECK(n == 80, "entry info size %ld", n);
			if (info.entry.nr == SYS_getppid) {
				in_getppid = true;
				printf("entry getppid\n");
			}
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
			exits++;
			CHECK(n == 33, "exit info size %ld", n);
			if (in_getppid) {
				printf("exit getppid: %s\n", info.exit.rval == getpid() ? "the parent" :
				       "wrong");
				in_getppid = false;
			}
		}
	}
	unsigned long msg = 0;
	ptrace(PTRACE_GETEVENTMSG, c, 0, &msg);
	printf("then %s, event message is the tracee: %s; entries == exits: %s\n", st(s),
	       msg == (unsigned long)c ? "yes" : "no", entries == exits + 1 ? "yes" : "no");
	finish(c, "syscalls");
}

static void b_exit_var(void)
{
	_exit(target_var);
}

static void t_memory(void)
{
	pid_t c = traced_child(b_exit_var);
	long v = 0;
	CHECK(ptrace(PTRACE_POKEDATA, c, &target_var, (void *)42L) == 0, "POKEDATA");
	errno = 0;
	long peek = ptrace(PTRACE_PEEKDATA, c, &target_var, 0);
	CHECK(errno == 0, "PEEKDATA");
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/mem", c, c);
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	int mem = 0;
	CHECK(pread(fd, &mem, sizeof mem, (off_t)(uintptr_t)&target_var) == sizeof mem, "pread");
	int vm = 0;
	struct iovec l = { &vm, sizeof vm }, r = { (void *)&target_var, sizeof vm };
	CHECK(process_vm_readv(c, &l, 1, &r, 1, 0) == sizeof vm, "process_vm_readv");
	printf("memory: peek %ld, /proc/PID/mem %d, process_vm_readv %d\n", peek & 0xffffffff, mem,
	       vm);
	int w = 43;
	CHECK(pwrite(fd, &w, sizeof w, (off_t)(uintptr_t)&target_var) == sizeof w, "pwrite");
	w = 44;
	l.iov_base = &w;
	CHECK(process_vm_writev(c, &l, 1, &r, 1, 0) == sizeof w, "process_vm_writev");
	close(fd);
	(void)v;
	finish(c, "memory (exit code is the variable)");
}

static void b_spin(void)
{
	for (volatile int i = 0; i < 1000; i++)
		;
}

static void t_singlestep(void)
{
	pid_t c = traced_child(b_spin);
	int traps = 0, bs = 0;
	for (int i = 0; i < 5; i++) {
		ptrace(PTRACE_SINGLESTEP, c, 0, 0);
		int s = wait_for(c, 0);
		siginfo_t si;
		ptrace(PTRACE_GETSIGINFO, c, 0, &si);
		long dr6 = ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, u_debugreg[6]), 0);
		traps += WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP && si.si_code == TRAP_TRACE;
		bs += (dr6 & 0x4000) != 0;
	}
	printf("singlestep: %d traps with TRAP_TRACE, %d with DR6.BS\n", traps, bs);
	finish(c, "singlestep");
}

static void b_write_var(void)
{
	target_var = 7;
	target_var = 8;
}

static void t_watchpoint(void)
{
	pid_t c = traced_child(b_write_var);
	unsigned long dr7 = 1 | (1ul << 16) | (3ul << 18);   /* L0, write, 4 bytes */
	CHECK(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[0]), &target_var) == 0,
	      "POKEUSER dr0: %s", strerror(errno));
	CHECK(ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[7]), dr7) == 0,
	      "POKEUSER dr7: %s", strerror(errno));
	long got = ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, u_debugreg[7]), 0);
	ptrace(PTRACE_CONT, c, 0, 0);
	int s = wait_for(c, 0);
	siginfo_t si;
	ptrace(PTRACE_GETSIGINFO, c, 0, &si);
	long dr6 = ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, u_debugreg[6]), 0);
	errno = 0;
	long var = ptrace(PTRACE_PEEKDATA, c, &target_var, 0);
	printf("watchpoint: dr7 reads back %s, %s si_code %d, DR6 slot 0 %s, variable %ld\n",
	       (unsigned long)got == dr7 ? "the same" : "differently", st(s), si.si_code,
	       dr6 & 1 ? "set" : "clear", var & 0xffffffff);
	ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[7]), 0);
	finish(c, "watchpoint");
}

static void t_regsets(void)
{
	pid_t c = traced_child(nothing);
	static uint8_t xs[32768];
	struct iovec iov = { xs, sizeof xs };
	CHECK(ptrace(PTRACE_GETREGSET, c, NT_X86_XSTATE, &iov) == 0, "GETREGSET xstate: %s",
	      strerror(errno));
	size_t full = iov.iov_len;
	CHECK(full > 576 && full < sizeof xs, "xstate size %zu", full);
	CHECK(ptrace(PTRACE_SETREGSET, c, NT_X86_XSTATE, &iov) == 0, "SETREGSET xstate: %s",
	      strerror(errno));
	struct user_fpregs_struct fp;
	CHECK(ptrace(PTRACE_GETFPREGS, c, 0, &fp) == 0, "GETFPREGS");
	struct user_regs_struct r;
	iov = (struct iovec){ &r, sizeof r };
	CHECK(ptrace(PTRACE_GETREGSET, c, NT_PRSTATUS, &iov) == 0, "GETREGSET prstatus");
	printf("regsets: xstate %s, mxcsr %#x, prstatus %zu bytes\n",
	       !memcmp(xs, &fp, 32) ? "matches fpregs" : "differs", fp.mxcsr, iov.iov_len);
	finish(c, "regsets");
}

static void t_seize_listen(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	CHECK(ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESYSGOOD) == 0, "SEIZE: %s",
	      strerror(errno));
	ptrace(PTRACE_INTERRUPT, c, 0, 0);
	printf("seize+interrupt: %s\n", st(wait_for(c, 0)));
	ptrace(PTRACE_CONT, c, 0, 0);
	kill(c, SIGSTOP);
	printf("SIGSTOP: %s\n", st(wait_for(c, 0)));
	ptrace(PTRACE_CONT, c, 0, SIGSTOP);
	int s = wait_for(c, 0);
	siginfo_t si;
	CHECK(ptrace(PTRACE_GETSIGINFO, c, 0, &si) == 0, "GETSIGINFO at a seized group-stop");
	printf("group-stop: %s, si_code %#x\n", st(s), si.si_code);
	CHECK(ptrace(PTRACE_LISTEN, c, 0, 0) == 0, "LISTEN: %s", strerror(errno));
	int none = waitpid(c, &s, WNOHANG);
	kill(c, SIGCONT);
	printf("listening: nothing to wait for (%d); after SIGCONT: %s\n", none,
	       st(wait_for(c, 0)));
	ptrace(PTRACE_CONT, c, 0, 0);
	printf("then: %s\n", st(wait_for(c, 0)));
	ptrace(PTRACE_CONT, c, 0, SIGCONT);
	kill(c, SIGKILL);
	printf("seize: %s\n", st(wait_for(c, 0)));
}

static void t_waits(void)
{
	int s;
	int r = waitpid(-1, &s, WNOHANG);
	printf("no children: %d (%s)\n", r, strerrorname_np(errno));
	pid_t c = fork();
	if (c == 0)
		_exit(3);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0, "waitid");
	printf("waitid WNOWAIT: code %d status %d pid %s\n", si.si_code, si.si_status,
	       si.si_pid == c ? "the child" : "wrong");
	printf("then wait4: %s\n", st(wait_for(c, 0)));
	r = waitpid(-1, &s, WNOHANG);
	printf("then nothing: %d (%s)\n", r, strerrorname_np(errno));
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	printf("running child, WNOHANG: %d\n", waitpid(c, &s, WNOHANG));
	kill(c, SIGSTOP);
	printf("WUNTRACED: %s\n", st(wait_for(c, WUNTRACED)));
	kill(c, SIGCONT);
	printf("WCONTINUED: %s\n", st(wait_for(c, WCONTINUED)));
	kill(c, SIGKILL);
	printf("killed: %s\n", st(wait_for(c, 0)));
}

static void t_exitkill(void)
{
	pid_t victim = fork();
	if (victim == 0) {
		for (;;)
			pause();
	}
	pid_t tracer = fork();
	if (tracer == 0)
		_exit(ptrace(PTRACE_SEIZE, victim, 0, PTRACE_O_EXITKILL) == 0 ? 0 : 1);
	printf("tracer: %s\n", st(wait_for(tracer, 0)));
	printf("EXITKILL victim: %s\n", st(wait_for(victim, 0)));
}

static void t_attach_detach(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	CHECK(ptrace(PTRACE_ATTACH, c, 0, 0) == 0, "ATTACH: %s", strerror(errno));
	int s = wait_for(c, 0);
	siginfo_t si;
	ptrace(PTRACE_GETSIGINFO, c, 0, &si);
	printf("attach: %s, si_code %d\n", st(s), si.si_code);
	long r = ptrace(PTRACE_ATTACH, c, 0, 0);
	printf("attach again: %ld (%s)\n", r, strerrorname_np(errno));
	CHECK(ptrace(PTRACE_DETACH, c, 0, 0) == 0, "DETACH");
	r = ptrace(PTRACE_GETREGS, c, 0, 0);
	printf("after detach GETREGS: %ld (%s)\n", r, strerrorname_np(errno));
	kill(c, SIGKILL);
	printf("detached: %s\n", st(wait_for(c, 0)));
}

static void b_pending(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	raise(SIGUSR2);
	raise(SIGSTOP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void t_signals(void)
{
	pid_t c = traced_child(b_pending);
	ptrace(PTRACE_CONT, c, 0, 0);
	printf("its second stop: %s\n", st(wait_for(c, 0)));   /* the raise(SIGSTOP) */
	siginfo_t q[8];
	struct __ptrace_peeksiginfo_args a = { 0, 0, 8 };
	long n = ptrace(PTRACE_PEEKSIGINFO, c, &a, q);
	uint64_t mask = 0;
	CHECK(ptrace(PTRACE_GETSIGMASK, c, sizeof mask, &mask) == 0, "GETSIGMASK");
	uint64_t both = 1ull << (SIGUSR1 - 1) | 1ull << (SIGUSR2 - 1);
	printf("pending: %ld (%s, ", n, n > 0 ? sig(q[0].si_signo) : "-");
	printf("%s); blocked USR1 and USR2: %s\n", n > 1 ? sig(q[1].si_signo) : "-",
	       (mask & both) == both ? "yes" : "no");
	int stops = 0;
	for (;;) {
		ptrace(PTRACE_CONT, c, 0, 0);   /* suppress each signal */
		int s = wait_for(c, 0);
		if (!WIFSTOPPED(s))
			break;
		printf("signal stop %d: %s\n", ++stops, st(s));
	}
	printf("signals suppressed, child ends\n");
}

static void on_usr1(int s, siginfo_t *si, void *ctx)
{
	_exit(si->si_code == SI_QUEUE ? si->si_value.sival_int : 100);
}

static void b_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	_exit(101);
}

static void t_setsiginfo(void)
{
	pid_t c = traced_child(b_handler);
	ptrace(PTRACE_CONT, c, 0, 0);
	int s = wait_for(c, 0);
	siginfo_t si;
	ptrace(PTRACE_GETSIGINFO, c, 0, &si);
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 77;
	CHECK(ptrace(PTRACE_SETSIGINFO, c, 0, &si) == 0, "SETSIGINFO");
	printf("setsiginfo at %s, ", st(s));
	ptrace(PTRACE_CONT, c, 0, SIGUSR1);
	printf("handler saw it: %s\n", st(wait_for(c, 0)));
}

static void b_fork(void)
{
	pid_t g = fork();
	if (g == 0)
		_exit(5);
	int s;
	_exit(waitpid(g, &s, 0) == g && WIFEXITED(s) ? 10 + WEXITSTATUS(s) : 99);
}

static void t_fork_event(void)
{
	pid_t c = traced_child(b_fork);
	ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACEFORK);
	ptrace(PTRACE_CONT, c, 0, 0);
	int s = wait_for(c, 0);
	unsigned long g = 0;
	ptrace(PTRACE_GETEVENTMSG, c, 0, &g);
	printf("fork event: %s\n", st(s));
	printf("grandchild first stop: %s\n", st(wait_for((pid_t)g, __WALL)));
	ptrace(PTRACE_CONT, (pid_t)g, 0, 0);
	printf("grandchild, as its tracer sees it: %s\n", st(wait_for((pid_t)g, __WALL)));
	finish(c, "child, after waiting for the grandchild");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_traceme_exec();
	t_syscall_info();
	t_memory();
	t_singlestep();
	t_watchpoint();
	t_regsets();
	t_seize_listen();
	t_waits();
	t_exitkill();
	t_attach_detach();
	t_signals();
	t_setsiginfo();
	t_fork_event();
	printf("%d failed checks\n", failures);
	return failures;
}
