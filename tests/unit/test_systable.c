/* The syscall table (against the kernel headers and the running kernel) and the
 * seccomp filter (against a BPF interpreter and against real ptrace stops). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/target.h"
#include "core/util.h"
#include "replay/seccomp.h"
#include "replay/systable.h"

#define UNISTD_64 "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"

/* ---- the table against <asm/unistd_64.h> ---- */

Test(systable, numbers_and_names_match_kernel_header)
{
	FILE *f = fopen(UNISTD_64, "r");
	cr_assert_not_null(f, "cannot open %s", UNISTD_64);
	char line[256], name[128];
	long nr, max = -1;
	int seen = 0;
	bool in_header[SC_TABLE_SIZE] = { 0 };
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "#define __NR_%127s %ld", name, &nr) != 2)
			continue;
		seen++;
		cr_assert_lt(nr, SC_TABLE_SIZE, "%s = %ld beyond the table", name, nr);
		cr_expect_str_eq(sc_name(nr) ? sc_name(nr) : "(none)", name, "number %ld", nr);
		cr_expect_eq(sc_by_name(name), nr, "%s", name);
		in_header[nr] = true;
		max = MAX(max, nr);
	}
	fclose(f);
	cr_assert_gt(seen, 300, "parsed only %d syscalls", seen);
	/* Newer than the header: exactly the calls Linux 6.18 has beyond 6.1's. */
	static const char *const newer[] = {
		"uretprobe", "uprobe", "cachestat", "fchmodat2", "map_shadow_stack",
		"futex_wake", "futex_wait", "futex_requeue", "statmount", "listmount",
		"lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules", "mseal",
		"setxattrat", "getxattrat", "listxattrat", "removexattrat", "open_tree_attr",
		"file_getattr", "file_setattr",
	};
	int extra = 0;
	for (long n = 0; n < SC_TABLE_SIZE; n++) {
		if (!sc_get(n) || in_header[n])
			continue;
		extra++;
		bool listed = false;
		for (size_t i = 0; i < ARRAY_SIZE(newer); i++)
			listed |= !strcmp(newer[i], sc_name(n));
		cr_expect(listed, "table has %ld (%s), the header does not (max %ld)", n,
			  sc_name(n), max);
	}
	cr_expect_eq(extra, (int)ARRAY_SIZE(newer));
	for (size_t i = 0; i < ARRAY_SIZE(newer); i++)
		cr_expect_geq(sc_by_name(newer[i]), 0, "%s missing", newer[i]);
}

Test(systable, entries_are_well_formed)
{
	int names = 0;
	for (long n = 0; n < SC_TABLE_SIZE; n++) {
		const struct sc_entry *e = sc_get(n);
		if (!e) {
			cr_expect_eq(sc_class_of(n), SC_NONE);
			continue;
		}
		names++;
		cr_expect_leq(e->nargs, 6, "%s", e->name);
		cr_expect(e->cls > SC_NONE && e->cls < SC__NCLASS, "%s class %d", e->name, e->cls);
		cr_expect_lt(e->fam, SCH__COUNT, "%s", e->name);
		bool ended = false;
		for (int i = 0; i < SC_MAX_OUT; i++) {
			const struct sc_out *o = &e->out[i];
			if (o->how == SZ_NONE) {
				ended = true;
				continue;
			}
			cr_expect(!ended, "%s: out-parameter after the end", e->name);
			cr_expect_lt(o->arg, e->nargs, "%s out %d", e->name, i);
			if (o->how != SZ_FIXED && o->how != SZ_RET)
				cr_expect_lt(o->sarg, e->nargs, "%s out %d size arg", e->name, i);
			if (o->how == SZ_FIXED)
				cr_expect_gt(o->n, 0, "%s", e->name);
		}
		/* A family handler replaces the table's description. */
		if (e->fam != SCH_NONE)
			cr_expect_eq(e->out[0].how, SZ_NONE, "%s has both", e->name);
		/* Names are unique. */
		cr_expect_eq(sc_by_name(e->name), n, "%s duplicated", e->name);
	}
	cr_expect_gt(names, 360);
	cr_expect_null(sc_get(-1));
	cr_expect_null(sc_get(SC_TABLE_SIZE));
	cr_expect_null(sc_get(400));
	cr_expect_eq(sc_by_name("no_such_call"), -ENOENT);
	cr_expect_eq(sc_by_name(NULL), -ENOENT);
}

Test(systable, classes_of_well_known_calls)
{
	static const struct { const char *name; enum sc_class cls; unsigned flags; } want[] = {
		{ "read", SC_INPUT, SCF_BLOCK | SCF_BUFFER }, { "write", SC_OUTPUT, SCF_EMIT },
		{ "close", SC_NATIVE, 0 }, { "dup2", SC_NATIVE, 0 }, { "mprotect", SC_NATIVE, 0 },
		{ "brk", SC_NATIVE, 0 }, { "rt_sigprocmask", SC_NATIVE, 0 },
		{ "mmap", SC_MMAP, 0 }, { "clock_gettime", SC_INPUT, SCF_VDSO | SCF_BUFFER },
		{ "getrandom", SC_INPUT, 0 }, { "getpid", SC_INPUT, 0 }, { "uname", SC_INPUT, 0 },
		{ "futex", SC_INPUT, SCF_BLOCK }, { "openat", SC_INPUT, SCF_NEWFD },
		{ "pipe2", SC_INPUT, SCF_NEWFD }, { "clone3", SC_PROCESS, 0 },
		{ "execve", SC_PROCESS, SCF_NORET }, { "exit_group", SC_PROCESS, SCF_NORET },
		{ "kill", SC_SIGNAL, 0 }, { "rt_sigaction", SC_SIGNAL, 0 },
		{ "set_tid_address", SC_STATE, 0 }, { "io_uring_setup", SC_UNSUPPORTED, SCF_DENY },
		{ "rseq", SC_UNSUPPORTED, SCF_DENY }, { "ptrace", SC_UNSUPPORTED, 0 },
		{ "wait4", SC_INPUT, SCF_BLOCK }, { "unlink", SC_OUTPUT, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		long nr = sc_by_name(want[i].name);
		const struct sc_entry *e = sc_get(nr);
		cr_assert_not_null(e, "%s", want[i].name);
		cr_expect_eq(e->cls, want[i].cls, "%s: %s", want[i].name, sc_class_name(e->cls));
		cr_expect_eq(e->flags & want[i].flags, want[i].flags, "%s flags %#x", want[i].name,
			     e->flags);
	}
	cr_expect_str_eq(sc_class_name(SC_MMAP), "mmap");
	cr_expect_str_eq(sc_family_name(SCH_MSGHDR), "msghdr");
	bool set[SC_TABLE_SIZE];
	size_t n = sc_trapped_set(set);
	cr_expect(set[SYS_read] && !set[SYS_close] && !set[400]);
	cr_expect(n > 250 && n < 400, "%zu trapped", n);
	uint64_t a[6] = { 3, F_DUPFD_CLOEXEC, 10 };
	cr_expect(sc_makes_fd(SYS_fcntl, a, 10));
	a[1] = F_GETFL;
	cr_expect(!sc_makes_fd(SYS_fcntl, a, 2));
	cr_expect(sc_makes_fd(SYS_openat, a, 5));
	cr_expect(!sc_makes_fd(SYS_openat, a, -ENOENT));
	cr_expect(!sc_makes_fd(SYS_dup, a, 5));
}

/* Fixed out-parameter sizes equal the C library's structs. */
Test(systable, fixed_sizes_match_structs)
{
	static const struct { long nr; int out; size_t size; } want[] = {
		{ SYS_stat, 0, sizeof(struct stat) }, { SYS_newfstatat, 0, sizeof(struct stat) },
		{ SYS_statfs, 0, sizeof(struct statfs) }, { SYS_uname, 0, sizeof(struct utsname) },
		{ SYS_sysinfo, 0, sizeof(struct sysinfo) }, { SYS_times, 0, sizeof(struct tms) },
		{ SYS_getrusage, 0, sizeof(struct rusage) }, { SYS_wait4, 1, sizeof(struct rusage) },
		{ SYS_waitid, 0, sizeof(siginfo_t) }, { SYS_rt_sigtimedwait, 0, sizeof(siginfo_t) },
		{ SYS_getrlimit, 0, sizeof(struct rlimit) }, { SYS_prlimit64, 0, sizeof(struct rlimit) },
		{ SYS_getitimer, 0, sizeof(struct itimerval) },
		{ SYS_timer_gettime, 0, sizeof(struct itimerspec) },
		{ SYS_clock_gettime, 0, sizeof(struct timespec) },
		{ SYS_gettimeofday, 0, sizeof(struct timeval) }, { SYS_adjtimex, 0, sizeof(struct timex) },
		{ SYS_statx, 0, sizeof(struct statx) }, { SYS_sigaltstack, 0, sizeof(stack_t) },
		{ SYS_time, 0, sizeof(time_t) }, { SYS_pipe2, 0, 2 * sizeof(int) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct sc_entry *e = sc_get(want[i].nr);
		const struct sc_out *o = &e->out[want[i].out];
		cr_expect_eq(o->how, SZ_FIXED, "%s", e->name);
		cr_expect_eq(o->n, want[i].size, "%s: table %u, struct %zu", e->name, o->n,
			     want[i].size);
	}
}

/* ---- out-parameters against the running kernel ---- */

static int local_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	memcpy(buf, (const void *)(uintptr_t)addr, len);
	return 0;
}

#define ARENA 65536
static uint8_t *arena, *before;

static void arena_setup(void)
{
	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(arena, MAP_FAILED);
	memset(arena, 0xa5, ARENA);
	before = malloc(ARENA);
}

static void arena_teardown(void)
{
	munmap(arena, ARENA);
	free(before);
}

static uint64_t A(size_t off) { return (uint64_t)(uintptr_t)(arena + off); }

/* Run syscall nr for real with arguments pointing into the arena; every byte of
 * the arena the kernel changed must lie inside a span sc_outs() reports, and at
 * least min_changed bytes must have changed (the call did something). */
static int64_t check_outs(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5, size_t min_changed)
{
	uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };
	memcpy(before, arena, ARENA);
	int64_t ret = syscall(nr, a0, a1, a2, a3, a4, a5);
	if (ret < 0)
		ret = -errno;
	struct sc_spans sp = { 0 };
	int e = sc_outs(nr, args, ret, local_read, NULL, &sp);
	cr_assert_eq(e, 0, "%s: sc_outs %d", sc_name(nr), e);
	size_t changed = 0;
	for (size_t i = 0; i < ARENA; i++) {
		if (arena[i] == before[i])
			continue;
		changed++;
		uint64_t at = A(i);
		bool in = false;
		for (size_t k = 0; k < sp.n && !in; k++)
			in = at >= sp.v[k].addr && at < sp.v[k].addr + sp.v[k].len;
		cr_assert(in, "%s (ret %lld): byte at arena+%zu changed outside every span",
			  sc_name(nr), (long long)ret, i);
	}
	cr_assert_geq(changed, min_changed, "%s changed %zu bytes", sc_name(nr), changed);
	vec_free(&sp);
	return ret;
}

TestSuite(outs, .init = arena_setup, .fini = arena_teardown);

Test(outs, read_readv_and_pipes)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "hello, world, how are you", 25), 25);
	cr_expect_eq(check_outs(SYS_read, p[0], A(128), 5, 0, 0, 0, 5), 5);
	struct iovec *iov = (struct iovec *)(arena + 1000);
	iov[0] = (struct iovec){ arena + 2000, 3 };
	iov[1] = (struct iovec){ arena + 3000, 4 };
	iov[2] = (struct iovec){ arena + 4000, 100 };
	cr_expect_eq(check_outs(SYS_readv, p[0], A(1000), 3, 0, 0, 0, 10), 20);
	cr_expect_eq(check_outs(SYS_pipe2, A(5000), O_CLOEXEC, 0, 0, 0, 0, 2), 0);
	close(p[0]);
	close(p[1]);
	int *q = (int *)(arena + 5000);
	close(q[0]);
	close(q[1]);
}

Test(outs, sockets_recvfrom_recvmsg_rights)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	cr_assert_eq(send(sv[0], "datagram", 8, 0), 8);
	*(socklen_t *)(arena + 192) = 110;
	cr_expect_eq(check_outs(SYS_recvfrom, sv[1], A(128), 64, 0, A(320), A(192), 8), 8);

	/* recvmsg with an fd passed in SCM_RIGHTS: data, control and header fields. */
	int fd = dup(0);
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec siov = { "xy", 2 };
	struct msghdr sm = { .msg_iov = &siov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&sm);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	cr_assert_eq(sendmsg(sv[0], &sm, 0), 2);
	struct iovec *iov = (struct iovec *)(arena + 1000);
	iov[0] = (struct iovec){ arena + 2000, 1 };
	iov[1] = (struct iovec){ arena + 2112, 10 };
	struct msghdr *m = (struct msghdr *)(arena + 3000);
	*m = (struct msghdr){ .msg_name = arena + 3136, .msg_namelen = 110, .msg_iov = iov,
			      .msg_iovlen = 2, .msg_control = arena + 3328, .msg_controllen = 64 };
	cr_expect_eq(check_outs(SYS_recvmsg, sv[1], A(3000), 0, 0, 0, 0, 2 + 16), 2);
	int got;
	memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(m)), sizeof got);
	close(got);
	close(fd);

	*(socklen_t *)(arena + 192) = 110;
	check_outs(SYS_getsockname, sv[0], A(320), A(192), 0, 0, 0, 2);
	cr_expect_eq(check_outs(SYS_recvfrom, sv[1], A(128), 64, MSG_DONTWAIT, 0, 0, 0), -EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

Test(outs, fixed_structs)
{
	check_outs(SYS_uname, A(128), 0, 0, 0, 0, 0, 10);
	check_outs(SYS_clock_gettime, CLOCK_MONOTONIC, A(1000), 0, 0, 0, 0, 4);
	check_outs(SYS_gettimeofday, A(1152), A(1216), 0, 0, 0, 0, 4);
	check_outs(SYS_fstat, 0, A(2000), 0, 0, 0, 0, 8);
	check_outs(SYS_newfstatat, AT_FDCWD, (uint64_t)(uintptr_t)"/", A(3000), 0, 0, 0, 8);
	check_outs(SYS_statx, AT_FDCWD, (uint64_t)(uintptr_t)"/", 0, STATX_ALL, A(4000), 0, 8);
	check_outs(SYS_sysinfo, A(5000), 0, 0, 0, 0, 0, 8);
	check_outs(SYS_getrusage, RUSAGE_SELF, A(6000), 0, 0, 0, 0, 4);
	check_outs(SYS_getresuid, A(7000), A(7168), A(7232), 0, 0, 0, 3);
	check_outs(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, A(7296), 0, 0, 4);
	check_outs(SYS_rt_sigpending, A(7424), 8, 0, 0, 0, 0, 1);
	check_outs(SYS_getcwd, A(8000), 4096, 0, 0, 0, 0, 2);
	check_outs(SYS_readlink, (uint64_t)(uintptr_t)"/proc/self/exe", A(9000), 4096, 0, 0, 0, 4);
	check_outs(SYS_getrandom, A(12000), 64, 0, 0, 0, 0, 32);
	check_outs(SYS_sched_getaffinity, 0, 128, A(13000), 0, 0, 0, 1);
	check_outs(SYS_getgroups, 64, A(14000), 0, 0, 0, 0, 0);
	check_outs(SYS_times, A(15000), 0, 0, 0, 0, 0, 0);
	check_outs(SYS_prctl, PR_GET_NAME, A(16000), 0, 0, 0, 0, 2);
	struct __user_cap_header_struct *h = (void *)(arena + 17000);
	h->version = _LINUX_CAPABILITY_VERSION_3;
	h->pid = 0;
	check_outs(SYS_capget, A(17000), A(17152), 0, 0, 0, 0, 8);
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	check_outs(SYS_getdents64, dir, A(20000), 4096, 0, 0, 0, 20);
	close(dir);
}

Test(outs, multiplexing_and_ioctl)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "x", 1), 1);
	/* select over 70 descriptors: three fd_sets of two longs each, plus the timeout. */
	fd_set *r = (fd_set *)(arena + 128), *w = (fd_set *)(arena + 320);
	memset(r, 0, 16);
	memset(w, 0, 16);
	FD_SET(p[0], r);
	FD_SET(p[1], w);
	FD_SET(p[0], w);
	struct timeval *tv = (struct timeval *)(arena + 512);
	*tv = (struct timeval){ 1, 0 };
	cr_expect_eq(check_outs(SYS_select, 70, A(128), A(320), 0, A(512), 0, 1), 2);
	struct pollfd *pf = (struct pollfd *)(arena + 640);
	pf[0] = (struct pollfd){ p[0], POLLIN, 0 };
	pf[1] = (struct pollfd){ p[1], POLLOUT, 0 };
	cr_expect_eq(check_outs(SYS_poll, A(640), 2, 0, 0, 0, 0, 2), 2);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 77 };
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	cr_expect_eq(check_outs(SYS_epoll_wait, ep, A(1000), 8, 0, 0, 0, 4), 1);
	cr_expect_eq(check_outs(SYS_ioctl, p[0], FIONREAD, A(2000), 0, 0, 0, 1), 0);
	struct flock *fl = (struct flock *)(arena + 3000);
	int tf = open("/proc/self/exe", O_RDONLY);
	*fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET };
	check_outs(SYS_fcntl, tf, F_GETLK, A(3000), 0, 0, 0, 1);
	close(tf);
	/* A pseudo-terminal: TCGETS and TIOCGWINSZ are legacy requests. */
	int pt = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert_geq(pt, 0);
	check_outs(SYS_ioctl, pt, TCGETS, A(4000), 0, 0, 0, 4);
	check_outs(SYS_ioctl, pt, TIOCGWINSZ, A(4160), 0, 0, 0, 0);
	check_outs(SYS_ioctl, pt, TIOCGPTN, A(4224), 0, 0, 0, 0);
	close(pt);
	close(ep);
	close(p[0]);
	close(p[1]);
}

Test(outs, irregular_cases_by_hand)
{
	struct sc_spans sp = { 0 };
	uint64_t a[6] = { 3, 0x54ff, 0x1000 };   /* an unknown old tty request */
	cr_expect_eq(sc_outs(SYS_ioctl, a, 0, local_read, NULL, &sp), -ENOTSUP);
	a[1] = _IOR('x', 1, char[24]);
	cr_expect_eq(sc_outs(SYS_ioctl, a, 0, local_read, NULL, &sp), 0);
	cr_assert_eq(sp.n, 1);
	cr_expect_eq(sp.v[0].len, 24);
	cr_expect_eq(sp.v[0].arg, 2);
	sp.n = 0;
	a[1] = _IOW('x', 1, char[24]);
	cr_expect_eq(sc_outs(SYS_ioctl, a, 0, local_read, NULL, &sp), 0);
	cr_expect_eq(sp.n, 0);
	cr_expect_eq(sc_outs(SYS_restart_syscall, a, 0, local_read, NULL, &sp), -ENOTSUP);
	/* nanosleep writes the remaining time after EINTR, read nothing after EBADF. */
	uint64_t ns[6] = { 0x1000, 0x2000 };
	cr_expect_eq(sc_outs(SYS_nanosleep, ns, -EINTR, local_read, NULL, &sp), 0);
	cr_assert_eq(sp.n, 1);
	cr_expect(sp.v[0].addr == 0x2000 && sp.v[0].len == 16 && sp.v[0].arg == 1);
	sp.n = 0;
	uint64_t rd[6] = { 0, 0x5000, 100 };
	cr_expect_eq(sc_outs(SYS_read, rd, -EBADF, local_read, NULL, &sp), 0);
	cr_expect_eq(sp.n, 0);
	/* futex: PI lock writes the word, WAKE_OP the second word, WAIT nothing. */
	uint64_t fx[6] = { 0x7000, 6 | 128, 0, 0, 0x8000, 0 };
	cr_expect_eq(sc_outs(SYS_futex, fx, 0, local_read, NULL, &sp), 0);
	cr_expect(sp.n == 1 && sp.v[0].addr == 0x7000 && sp.v[0].len == 4);
	sp.n = 0;
	fx[1] = 5;
	sc_outs(SYS_futex, fx, 1, local_read, NULL, &sp);
	cr_expect(sp.n == 1 && sp.v[0].addr == 0x8000 && sp.v[0].arg == 4);
	sp.n = 0;
	fx[1] = 0;
	sc_outs(SYS_futex, fx, 0, local_read, NULL, &sp);
	cr_expect_eq(sp.n, 0);
	/* epoll_wait: result × 12 bytes. */
	uint64_t ew[6] = { 4, 0x9000, 16, -1 };
	sc_outs(SYS_epoll_wait, ew, 3, local_read, NULL, &sp);
	cr_expect(sp.n == 1 && sp.v[0].len == 36);
	vec_free(&sp);
}

/* ---- seccomp: the program against a BPF interpreter ---- */

struct sd {
	uint32_t nr, arch;
	uint64_t ip, args[6];
};

static uint32_t run_bpf(const struct seccomp_prog *p, const struct sd *d)
{
	struct seccomp_data sd = { .nr = (int)d->nr, .arch = d->arch, .instruction_pointer = d->ip };
	memcpy(sd.args, d->args, sizeof sd.args);
	const struct sock_filter *f = p->insns;
	uint32_t acc = 0;
	for (size_t pc = 0; pc < p->len; pc++) {
		const struct sock_filter *i = &f[pc];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			cr_assert_leq(i->k + 4, sizeof sd);
			memcpy(&acc, (const char *)&sd + i->k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K: acc &= i->k; break;
		case BPF_JMP | BPF_JA: pc += i->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += acc == i->k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += acc >= i->k ? i->jt : i->jf; break;
		case BPF_RET | BPF_K: return i->k;
		default: cr_assert_fail("unexpected BPF opcode %#x at %zu", i->code, pc);
		}
	}
	cr_assert_fail("fell off the end of the program");
	return 0;
}

#define AGENT 0x7f0000001000ull

Test(seccomp, decisions_for_every_number)
{
	static struct seccomp_rule rules[SC_TABLE_SIZE];
	size_t n = seccomp_rules_from_table(rules);
	for (size_t i = 0; i < n; i++)
		if (rules[i].nr == SYS_mmap) {
			rules[i].skip_arg = 3;              /* flags */
			rules[i].skip_mask = MAP_ANONYMOUS;
			rules[i].skip_value = MAP_ANONYMOUS;
		}
	struct seccomp_opts o = { .rules = rules, .nrules = n, .agent_lo = AGENT,
				  .agent_hi = AGENT + 4096, .trace_unknown = true };
	struct seccomp_prog p;
	cr_assert_eq(seccomp_build(&o, &p), 0);
	cr_assert_lt(p.len, 2000, "%zu instructions", p.len);
	bool trapped[SC_TABLE_SIZE];
	sc_trapped_set(trapped);
	for (uint32_t nr = 0; nr < 1100; nr++) {
		struct sd d = { .nr = nr, .arch = AUDIT_ARCH_X86_64, .ip = 0x401002 };
		uint32_t want = SECCOMP_RET_ALLOW;
		if (nr >= SC_TABLE_SIZE)
			want = SECCOMP_RET_TRACE | SECCOMP_DATA_UNKNOWN;
		else if (trapped[nr] || !sc_get(nr))
			want = SECCOMP_RET_TRACE | nr;
		cr_assert_eq(run_bpf(&p, &d), want, "nr %u", nr);
		/* From the agent's syscall instruction everything passes. */
		d.ip = AGENT + 0x100 + 2;
		cr_assert_eq(run_bpf(&p, &d), SECCOMP_RET_ALLOW, "agent nr %u", nr);
	}
	struct sd d = { .nr = SYS_read, .arch = AUDIT_ARCH_X86_64, .ip = AGENT + 4096 + 2 };
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_TRACE | SYS_read, "just past the range");
	d.ip = AGENT + 1;   /* a syscall instruction just before the range */
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_TRACE | SYS_read);
	d.ip = AGENT + 2 + (1ull << 32);
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_TRACE | SYS_read, "other 4 GiB block");
	d = (struct sd){ .nr = SYS_mmap, .arch = AUDIT_ARCH_X86_64 };
	d.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_ALLOW, "anonymous mmap skipped");
	d.args[3] = MAP_PRIVATE;
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_TRACE | SYS_mmap, "file mmap traced");
	d = (struct sd){ .nr = 39 | 0x40000000, .arch = AUDIT_ARCH_X86_64 };
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_KILL_PROCESS, "x32");
	d = (struct sd){ .nr = 20, .arch = AUDIT_ARCH_I386 };
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_KILL_PROCESS, "i386");
	d = (struct sd){ .nr = 0xffffffff, .arch = AUDIT_ARCH_X86_64 };
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_TRACE | SECCOMP_DATA_UNKNOWN, "syscall(-1)");
	seccomp_prog_free(&p);

	/* Foreign entries traced instead; a sparse rule set with custom data. */
	struct seccomp_rule few[] = { { .nr = 7, .data = 70, .skip_arg = -1 },
				      { .nr = 5, .data = 50, .skip_arg = -1 },
				      { .nr = 6, .data = 50, .skip_arg = -1 } };
	struct seccomp_opts o2 = { .rules = few, .nrules = 3, .trace_foreign = true };
	cr_assert_eq(seccomp_build(&o2, &p), 0);
	for (uint32_t nr = 0; nr < 20; nr++) {
		d = (struct sd){ .nr = nr, .arch = AUDIT_ARCH_X86_64 };
		uint32_t want = nr == 7 ? SECCOMP_RET_TRACE | 70 :
				nr == 5 || nr == 6 ? SECCOMP_RET_TRACE | 50 : SECCOMP_RET_ALLOW;
		cr_expect_eq(run_bpf(&p, &d), want, "nr %u", nr);
	}
	d = (struct sd){ .nr = 20, .arch = AUDIT_ARCH_I386 };
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_TRACE | SECCOMP_DATA_FOREIGN);
	d = (struct sd){ .nr = 0xffffffff, .arch = AUDIT_ARCH_X86_64 };
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_ALLOW);
	seccomp_prog_free(&p);
}

Test(seccomp, bad_options_are_refused)
{
	log_levels[LM_REPLAY] = -1;   /* the refusals are logged; keep the test output quiet */
	struct seccomp_prog p;
	struct seccomp_rule dup[] = { { .nr = 1, .skip_arg = -1 }, { .nr = 1, .skip_arg = -1 } };
	struct seccomp_opts o = { .rules = dup, .nrules = 2 };
	cr_expect_eq(seccomp_build(&o, &p), -EINVAL);
	struct seccomp_rule big[] = { { .nr = 0x40000000, .skip_arg = -1 } };
	o = (struct seccomp_opts){ .rules = big, .nrules = 1 };
	cr_expect_eq(seccomp_build(&o, &p), -EINVAL);
	struct seccomp_rule one[] = { { .nr = 1, .skip_arg = -1 } };
	o = (struct seccomp_opts){ .rules = one, .nrules = 1, .agent_lo = 0xfffff000,
				   .agent_hi = 0x100001000 };
	cr_expect_eq(seccomp_build(&o, &p), -EINVAL, "range crossing 4 GiB");
	o.agent_lo = 0x2000;
	o.agent_hi = 0x1000;
	cr_expect_eq(seccomp_build(&o, &p), -EINVAL, "empty range");
	o = (struct seccomp_opts){ .rules = NULL, .nrules = 0 };
	cr_assert_eq(seccomp_build(&o, &p), 0, "no rules: allow everything");
	struct sd d = { .nr = 1, .arch = AUDIT_ARCH_X86_64 };
	cr_expect_eq(run_bpf(&p, &d), SECCOMP_RET_ALLOW);
	seccomp_prog_free(&p);
}

/* ---- seccomp: the kernel runs it ---- */

/* Without a tracer, RET_TRACE makes the call fail with ENOSYS: the whole table's
 * filter loads (the kernel verifies it) and traps exactly the trapped classes.
 * exit_group is trapped too, so the child reports through shared memory and ends
 * with a trap instruction. */
Test(seccomp, kernel_accepts_table_filter)
{
	static struct seccomp_rule rules[SC_TABLE_SIZE];
	struct seccomp_opts o = { .rules = rules, .nrules = seccomp_rules_from_table(rules) };
	struct seccomp_prog p;
	cr_assert_eq(seccomp_build(&o, &p), 0);
	volatile int *verdict = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq((void *)verdict, MAP_FAILED);
	pid_t pid = fork();
	if (pid == 0) {
		*verdict = 10;
		if (seccomp_install(&p) == 0)
			*verdict = 11;
		if (*verdict == 11 && syscall(SYS_getppid) == -1 && errno == ENOSYS)
			*verdict = 12;
		if (*verdict == 12 && syscall(SYS_sched_get_priority_max, SCHED_OTHER) == 0)
			*verdict = 13;                         /* native: runs */
		if (*verdict == 13 && syscall(SYS_close, -1) == -1 && errno == EBADF)
			*verdict = 14;
		if (*verdict == 14 && syscall(SYS_exit_group, 0) == -1 && errno == ENOSYS)
			*verdict = 1;
		__builtin_trap();
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	seccomp_prog_free(&p);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGILL, "status %#x", st);
	cr_expect_eq(*verdict, 1, "child stopped at step %d", *verdict);
	munmap((void *)verdict, 4096);
}

/* ---- seccomp under ptrace: exactly the selected syscalls stop ---- */

/* The traced child is this test binary re-executed with REWIND_SECCOMP_CHILD set:
 * the constructor below makes a known sequence of syscalls (each marked by its
 * first argument, which the kernel ignores) and exits. The "agent" is a page at a
 * fixed address holding `mov %rdi,%rax; syscall; ret`, as rr's page at a fixed
 * address: syscalls from its instruction must not stop. */
#define AGENT_PAGE 0x3f0000000000ull   /* clear of ASan's shadow and heap too */
#define MARK 0x5eed00

static long agent_call(long nr)
{
	return ((long (*)(long))(uintptr_t)AGENT_PAGE)(nr);
}

__attribute__((constructor)) static void seccomp_child(void)
{
	const char *mode = getenv("REWIND_SECCOMP_CHILD");
	if (!mode)
		return;
	if (!strcmp(mode, "syscalls")) {
		static const uint8_t stub[] = { 0x48, 0x89, 0xf8, 0x0f, 0x05, 0xc3 };
		void *pg = mmap((void *)(uintptr_t)AGENT_PAGE, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (pg != (void *)(uintptr_t)AGENT_PAGE)
			_exit(2);
		memcpy(pg, stub, sizeof stub);
		mprotect(pg, 4096, PROT_READ | PROT_EXEC);
		syscall(SYS_getppid, MARK + 1);
		syscall(SYS_getppid, MARK + 2);
		syscall(SYS_getuid, MARK + 3);
		syscall(SYS_getgid, MARK + 4);      /* not selected */
		syscall(SYS_getpgrp, MARK + 5);
		long ppid = syscall(SYS_getppid, MARK + 6);
		if (agent_call(SYS_getppid) != ppid)        /* through the agent: no stop */
			_exit(3);
		syscall(SYS_getppid, MARK + 7);
		_exit(0);
	}
	if (!strcmp(mode, "x32"))
		syscall(0x40000000 | SYS_getpid, MARK);
	if (!strcmp(mode, "i386")) {
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");   /* i386 getpid */
		_exit(r == getpid() ? 0 : 4);
	}
	_exit(5);
}

static int install_filter(void *arg)
{
	return seccomp_install(arg);
}

struct stop { long nr; uint64_t arg0; uint64_t data; };

/* Launch the child in a mode under a filter; collect its seccomp stops. */
static int run_child(const char *mode, const struct seccomp_opts *o, struct stop *stops,
		     int max, int *nstops)
{
	struct target tg;
	struct seccomp_prog p;
	cr_assert_eq(seccomp_build(o, &p), 0);
	cr_assert_eq(target_init(&tg), 0);
	char env[64];
	snprintf(env, sizeof env, "REWIND_SECCOMP_CHILD=%s", mode);
	char *argv[] = { "/proc/self/exe", NULL }, *envp[] = { env, NULL };
	struct launch_spec ls = { .argv = argv, .envp = envp, .exitkill = true,
				  .child_setup = install_filter, .child_arg = &p };
	struct proc *pr;
	int e = target_launch(&tg, &ls, &pr);
	cr_assert_eq(e, 0, "launch: %s", strerror(-e));
	struct task *t = proc_main_task(pr);
	int status = -1;
	*nstops = 0;
	cr_assert_eq(target_resume(&tg, t, RESUME_CONT), 0);
	for (;;) {
		struct tev ev;
		cr_assert_eq(target_wait(&tg, &ev, 10000), 1);
		if (ev.kind == TEV_EXITED) {
			status = ev.status;
			break;
		}
		if (ev.kind == TEV_SECCOMP) {
			struct user_regs_struct *r;
			cr_assert_eq(task_get_regs(ev.task, &r), 0);
			cr_assert_lt(*nstops, max);
			stops[(*nstops)++] = (struct stop){ (long)r->orig_rax, r->rdi, ev.msg };
		}
		target_resume(&tg, ev.task, RESUME_CONT);
	}
	target_fini(&tg);
	seccomp_prog_free(&p);
	return status;
}

Test(seccomp, ptrace_stops_exactly_the_selected_syscalls)
{
	struct seccomp_rule rules[] = {
		{ .nr = SYS_getppid, .data = 1000, .skip_arg = -1 },
		{ .nr = SYS_getuid, .data = 7, .skip_arg = -1 },
		{ .nr = SYS_getpgrp, .data = SYS_getpgrp, .skip_arg = -1 },
	};
	struct seccomp_opts o = { .rules = rules, .nrules = ARRAY_SIZE(rules),
				  .agent_lo = AGENT_PAGE, .agent_hi = AGENT_PAGE + 4096 };
	struct stop s[64];
	int n;
	int st = run_child("syscalls", &o, s, 64, &n);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	/* Ignore whatever the loader and libc did before the first marked call. */
	int first = 0;
	while (first < n && s[first].arg0 != MARK + 1)
		first++;
	static const struct stop want[] = {
		{ SYS_getppid, MARK + 1, 1000 }, { SYS_getppid, MARK + 2, 1000 },
		{ SYS_getuid, MARK + 3, 7 }, { SYS_getpgrp, MARK + 5, SYS_getpgrp },
		{ SYS_getppid, MARK + 6, 1000 }, { SYS_getppid, MARK + 7, 1000 },
	};
	cr_assert_eq(n - first, (int)ARRAY_SIZE(want), "%d stops after the first mark",
		     n - first);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct stop *g = &s[first + i];
		cr_expect(g->nr == want[i].nr && g->arg0 == want[i].arg0 && g->data == want[i].data,
			  "stop %zu: %s(%#llx) data %llu", i, sc_name(g->nr),
			  (unsigned long long)g->arg0, (unsigned long long)g->data);
	}
	/* Without the agent range the agent's call stops too. */
	o.agent_hi = 0;
	st = run_child("syscalls", &o, s, 64, &n);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	first = 0;
	while (first < n && s[first].arg0 != MARK + 1)
		first++;
	cr_expect_eq(n - first, (int)ARRAY_SIZE(want) + 1);
}

Test(seccomp, foreign_entries_killed_or_traced)
{
	struct seccomp_rule rules[] = { { .nr = SYS_getppid, .data = 1, .skip_arg = -1 } };
	struct seccomp_opts o = { .rules = rules, .nrules = 1 };
	struct stop s[64];
	int n;
	int st = run_child("x32", &o, s, 64, &n);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "x32: status %#x", st);
	st = run_child("i386", &o, s, 64, &n);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "i386: status %#x", st);
	o.trace_foreign = true;
	st = run_child("i386", &o, s, 64, &n);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "i386 traced: status %#x", st);
	cr_assert_geq(n, 1);
	cr_expect_eq(s[n - 1].data, SECCOMP_DATA_FOREIGN);
	cr_expect_eq(s[n - 1].nr, 20, "the i386 number");
}
