/* The nested-tracer emulation (core/nest*): its pure pieces table by table (the user
 * area, the extended-state merge, syscall info, wait statuses and selection), and the
 * whole of it against real processes: tests/progs/nest_ptrace, a program that traces
 * its own children, run with every ptrace/wait call trapped and emulated, must pass
 * its own checks and print what it prints natively. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/nest.h"
#include "core/nest_int.h"
#include "core/regs.h"
#include "core/target.h"

#ifndef PROGS_DIR
#define PROGS_DIR "tests/progs"
#endif

/* ---- the user area ---- */

Test(nest, user_area_slots)
{
	static const struct { uint64_t off; int kind; size_t reg; } t[] = {
		{ 0, 0, 0 },                                             /* r15 */
		{ offsetof(struct user_regs_struct, rip), 0, offsetof(struct user_regs_struct, rip) },
		{ offsetof(struct user_regs_struct, gs), 0, offsetof(struct user_regs_struct, gs) },
		{ sizeof(struct user_regs_struct), 2, 0 },               /* u_fpvalid */
		{ offsetof(struct user, u_debugreg), 1, 0 },
		{ offsetof(struct user, u_debugreg) + 6 * 8, 1, 6 },
		{ offsetof(struct user, u_debugreg) + 7 * 8, 1, 7 },
		{ 3, -1, 0 },                                            /* misaligned */
		{ sizeof(struct user), -1, 0 },                          /* past the end */
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		size_t reg = 99;
		int k = nr_user_slot(t[i].off, &reg);
		cr_expect_eq(k, t[i].kind, "offset %lu: kind %d, want %d", (unsigned long)t[i].off,
			     k, t[i].kind);
		if (k == 0 || k == 1)
			cr_expect_eq(reg, t[i].reg, "offset %lu: slot %zu", (unsigned long)t[i].off,
				     reg);
	}
}

/* ---- a short NT_X86_XSTATE write merged into the full state ---- */

Test(nest, xstate_merge)
{
	enum { FULL = 11008, PART = 2696 };
	uint8_t *full = calloc(1, FULL), *part = calloc(1, PART);
	memset(full, 0xaa, FULL);
	uint64_t bv_full = 0x602e7, bv_part = 0x7;    /* AMX tiles (17, 18) only in the full */
	memcpy(full + XSAVE_HDR_OFF, &bv_full, 8);
	memset(part, 0x11, PART);
	memset(part + XSAVE_HDR_OFF, 0, 64);
	memcpy(part + XSAVE_HDR_OFF, &bv_part, 8);
	cr_assert_eq(nr_xstate_merge(full, FULL, part, PART, 3ull << 17), 0);
	uint64_t bv;
	memcpy(&bv, full + XSAVE_HDR_OFF, 8);
	cr_expect_eq(bv, 0x7 | (3ull << 17), "xstate_bv %#lx: the buffer's components and the "
		     "ones past it", (unsigned long)bv);
	cr_expect_eq(full[0], 0x11, "the legacy area comes from the buffer");
	cr_expect_eq(full[PART - 1], 0x11, "so does everything up to its length");
	cr_expect_eq(full[PART], 0xaa, "and nothing after it");
	cr_expect_eq(nr_xstate_merge(full, FULL, part, 512, 0), -EINVAL, "no header: refused");
	cr_expect_eq(nr_xstate_merge(full, 1024, part, PART, 0), -EINVAL, "longer than the state");
	free(full);
	free(part);
}

/* ---- PTRACE_GET_SYSCALL_INFO ---- */

Test(nest, syscall_info)
{
	struct user_regs_struct r;
	struct __ptrace_syscall_info i;
	memset(&r, 0, sizeof r);
	r.orig_rax = SYS_getppid;
	r.rdi = 1, r.rsi = 2, r.rdx = 3, r.r10 = 4, r.r8 = 5, r.r9 = 6;
	r.rip = 0x1000, r.rsp = 0x2000;
	cr_expect_eq(nr_build_syscall_info(&i, NS_SYSCALL_ENTRY, &r, UINT32_MAX), 80);
	cr_expect_eq(i.op, PTRACE_SYSCALL_INFO_ENTRY);
	cr_expect_eq(i.arch, AUDIT_ARCH_X86_64);
	cr_expect_eq(i.entry.nr, (uint64_t)SYS_getppid);
	cr_expect_eq(i.entry.args[3], 4, "the fourth argument is r10");
	cr_expect_eq(i.instruction_pointer, 0x1000);
	cr_expect_eq(i.stack_pointer, 0x2000);
	r.rax = (uint64_t)-ENOENT;
	cr_expect_eq(nr_build_syscall_info(&i, NS_SYSCALL_EXIT, &r, UINT32_MAX), 33);
	cr_expect_eq(i.exit.rval, -ENOENT);
	cr_expect_eq(i.exit.is_error, 1);
	r.rax = (uint64_t)-5000;   /* not an errno: a value */
	nr_build_syscall_info(&i, NS_SYSCALL_EXIT, &r, UINT32_MAX);
	cr_expect_eq(i.exit.is_error, 0);
	cr_expect_eq(nr_build_syscall_info(&i, NS_SIGNAL, &r, UINT32_MAX), 24);
	cr_expect_eq(i.op, PTRACE_SYSCALL_INFO_NONE);
	cr_expect_eq(nr_build_syscall_info(&i, NS_EVENT, &r, 7), 84);
	cr_expect_eq(i.op, PTRACE_SYSCALL_INFO_SECCOMP);
	cr_expect_eq(i.seccomp.ret_data, 7);
}

/* ---- wait statuses and waitid's siginfo ---- */

Test(nest, status_to_info)
{
	static const struct { int status; bool ptrace; int code, st; } t[] = {
		{ 3 << 8, false, CLD_EXITED, 3 },
		{ SIGKILL, false, CLD_KILLED, SIGKILL },
		{ SIGSEGV | 0x80, false, CLD_DUMPED, SIGSEGV },
		{ SIGSTOP << 8 | 0x7f, false, CLD_STOPPED, SIGSTOP },
		{ (SIGTRAP | 0x80) << 8 | 0x7f, true, CLD_TRAPPED, SIGTRAP | 0x80 },
		{ (SIGTRAP | PTRACE_EVENT_EXEC << 8) << 8 | 0x7f, true, CLD_TRAPPED,
		  SIGTRAP | PTRACE_EVENT_EXEC << 8 },
		{ 0xffff, false, CLD_CONTINUED, SIGCONT },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		int code = 0, st = 0;
		nw_status_to_info(t[i].status, t[i].ptrace, &code, &st);
		cr_expect_eq(code, t[i].code, "status %#x: si_code %d, want %d", t[i].status, code,
			     t[i].code);
		cr_expect_eq(st, t[i].st, "status %#x: si_status %#x, want %#x", t[i].status, st,
			     t[i].st);
	}
	cr_expect_eq(nest_wstatus(SIGTRAP | 0x80), 0x857f);
}

/* ---- which children a wait looks at ---- */

Test(nest, wait_selection)
{
	struct nest_waitreq w;
	memset(&w, 0, sizeof w);
	w.idtype = P_ALL;
	cr_expect(nw_selects(&w, 10, 10, 1, false, false), "any child");
	cr_expect(!nw_selects(&w, 10, 10, 1, false, true), "not a clone child without __WCLONE");
	cr_expect(nw_selects(&w, 10, 10, 1, true, true), "a tracee, whatever its exit signal");
	w.options = __WCLONE;
	cr_expect(nw_selects(&w, 10, 10, 1, false, true), "a clone child with __WCLONE");
	cr_expect(!nw_selects(&w, 10, 10, 1, false, false), "only clone children with __WCLONE");
	w.options = __WALL;
	cr_expect(nw_selects(&w, 10, 10, 1, false, true) && nw_selects(&w, 10, 10, 1, false, false),
		  "every child with __WALL");
	w.options = 0;
	w.idtype = P_PID;
	w.id = 11;
	cr_expect(!nw_selects(&w, 10, 10, 1, true, false), "another pid");
	cr_expect(nw_selects(&w, 11, 10, 1, false, false), "that pid");
	w.idtype = P_PGID;
	w.id = 0;
	cr_expect(nw_selects(&w, 11, 5, 5, false, false), "the caller's group");
	cr_expect(!nw_selects(&w, 11, 6, 5, false, false), "another group");
	w.id = 6;
	cr_expect(nw_selects(&w, 11, 6, 5, false, false), "a named group");
}

/* ---- the whole emulation against a program that traces its children ---- */

struct child_io {
	const char *out;
	int sock;          /* >= 0: use a listener, sent to the parent over this socket */
};

/* In the child before exec: output to a file, every nest syscall trapped (at a ptrace
 * stop, or through a listener for those nest_by_listener() names). */
static int child_setup(void *arg)
{
	const struct child_io *io = arg;
	int fd = open(io->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0)
		return -errno;
	struct sock_filter f[4 + 6 * 16 + 1];
	size_t n = 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (size_t i = 0; i < nest_ntrapped; i++) {
		unsigned nr = (unsigned)nest_trapped[i], trace = SECCOMP_RET_TRACE | nr;
		int argi;
		uint32_t mask, value;
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						      offsetof(struct seccomp_data, nr));
		if (io->sock >= 0 && nest_wait_by_listener((int)nr, &argi, &mask, &value)) {
			f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 4);
			f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				offsetof(struct seccomp_data, args) + 8 * (unsigned)argi);
			f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask);
			f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1);
			f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
			f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, trace);
			continue;
		}
		if (io->sock >= 0 && nest_by_listener((int)nr))
			trace = SECCOMP_RET_USER_NOTIF;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, trace);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { (unsigned short)n, f };
	unsigned flags = io->sock >= 0 ? SECCOMP_FILTER_FLAG_NEW_LISTENER | (1u << 5) : 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	long lfd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (lfd < 0)
		return -errno;
	if (io->sock >= 0) {
		char byte = 0, ctl[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &byte, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				    .msg_controllen = sizeof ctl };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		int ifd = (int)lfd;
		memcpy(CMSG_DATA(cm), &ifd, sizeof ifd);
		if (sendmsg(io->sock, &m, 0) < 0)
			return -errno;
		close(ifd);
	}
	return 0;
}

static int recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof ctl };
	if (recvmsg(sock, &m, MSG_DONTWAIT) < 0 || !CMSG_FIRSTHDR(&m))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
	return fd;
}

static char *slurp(const char *path)
{
	char *text = NULL;
	size_t len;
	cr_assert_eq(read_file(path, &text, &len), 0, "cannot read %s", path);
	return text;
}

/* nest_ptrace under the engine alone: every ptrace/wait call emulated, answered at a
 * ptrace stop only, or through a listener for the calls that allow it. */
static void run_ptrace_program(bool listener)
{
	char out[128], native[128];
	snprintf(out, sizeof out, "/tmp/rewind-nest-%d-%d.out", getpid(), listener);
	snprintf(native, sizeof native, "/tmp/rewind-nest-%d-%d.native", getpid(), listener);
	log_init();

	/* Natively. */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s/nest_ptrace > %s", PROGS_DIR, native);
	cr_assert_eq(system(cmd), 0, "nest_ptrace fails natively");

	/* Under the engine, every ptrace/wait call emulated. */
	struct target tg;
	struct nest *n;
	cr_assert_eq(target_init(&tg), 0);
	cr_assert_eq(nest_new(&tg, &n), 0);
	char prog[256];
	snprintf(prog, sizeof prog, "%s/nest_ptrace", PROGS_DIR);
	char *argv[] = { prog, NULL };
	int sv[2] = { -1, -1 };
	if (listener)
		cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	struct child_io io = { out, sv[1] };
	struct launch_spec ls = { .argv = argv, .keep_aslr = true, .exitkill = true,
				  .child_setup = child_setup, .child_arg = &io };
	struct proc *top;
	cr_assert_eq(target_launch(&tg, &ls, &top), 0);
	if (listener) {
		int lfd = recv_fd(sv[0]);
		cr_assert(lfd >= 0, "no listener from the child");
		nest_set_listener(n, lfd);
		close(sv[0]);
		close(sv[1]);
	}
	pid_t pid = top->pid;
	nest_adopt(n, top);
	nest_resume_all(n);
	int status = -1;
	uint64_t deadline = now_ns() + 60ull * 1000000000;
	for (;;) {
		struct tev ev;
		int r = target_wait(&tg, &ev, 0);
		if (r == 0 || r == -EDEADLK) {
			cr_assert(now_ns() < deadline, "nest_ptrace made no progress for a minute");
			if (listener && nest_serve_listener(n))
				continue;
			struct pollfd pfd[2] = { { tg.sigfd, POLLIN, 0 }, { nest_listener(n), POLLIN, 0 } };
			poll(pfd, listener ? 2 : 1, 1000);
			char buf[256];
			if ((pfd[0].revents & POLLIN) && read(tg.sigfd, buf, sizeof buf) < 0)
				cr_assert_fail("signalfd: %s", strerror(errno));
			continue;
		}
		cr_assert(r > 0, "target_wait: %d", r);
		cr_assert_eq(nest_handle(n, &ev), 0);
		if (ev.kind == TEV_EXITED && ev.proc && !ev.proc->snapshot) {
			bool top_exited = ev.proc->pid == pid;
			if (top_exited)
				status = ev.status;
			target_forget(&tg, ev.proc);
			if (top_exited)
				break;
		}
	}
	struct sbuf links = { 0 };
	nest_describe(n, &links);
	cr_expect_str_empty(sbuf_str(&links), "no ptrace link outlives its tracer: %s",
			    sbuf_str(&links));
	sbuf_free(&links);
	nest_free(n);
	target_fini(&tg);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "nest_ptrace under emulation: status %#x (failed checks)", status);
	char *a = slurp(native), *b = slurp(out);
	cr_expect_str_eq(b, a, "the emulated transcript differs from the native one");
	free(a);
	free(b);
	unlink(out);
	unlink(native);
}

Test(nest, ptrace_program_at_ptrace_stops, .timeout = 120)
{
	run_ptrace_program(false);
}

Test(nest, ptrace_program_through_the_listener, .timeout = 120)
{
	run_ptrace_program(true);
}
