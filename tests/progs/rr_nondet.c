/* rr_nondet: one nondeterministic input per mode, printed, for record/replay tests
 * (tests/e2e/record_nondet.sh: record each mode, replay it ten times, compare the
 * output and the memory checksum at exit).
 *   rr_nondet MODE [ARG]
 * Modes: pipe tcp udp unix tty file urandom time ids poll epoll fdsignal alarm
 *        sigchld kill stopped threads flaky mmap exec maskwait */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static unsigned long long nowns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* A child that writes `n` chunks to fd, a random pause before each. */
static void writer_child(int fd, int n)
{
	srand((unsigned)nowns());
	for (int i = 0; i < n; i++) {
		usleep((useconds_t)(rand() % 3000));
		char b[32];
		int l = snprintf(b, sizeof b, "chunk%d-%d;", i, rand() % 1000);
		if (write(fd, b, (size_t)l) < 0)
			_exit(1);
	}
	_exit(0);
}

static int m_pipe(void)
{
	int p[2];
	if (pipe(p) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		writer_child(p[1], 6);
	}
	close(p[1]);
	char buf[64];
	ssize_t n;
	int reads = 0;
	while ((n = read(p[0], buf, sizeof buf - 1)) > 0) {
		buf[n] = 0;
		printf("read %zd: %s\n", n, buf);
		reads++;
	}
	int st;
	waitpid(c, &st, 0);
	printf("reads %d status %d\n", reads, st);
	return 0;
}

static int m_tcp(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (bind(l, (void *)&a, sizeof a) < 0 || listen(l, 4) < 0 || getsockname(l, (void *)&a, &al) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (void *)&a, sizeof a) < 0)
			_exit(1);
		writer_child(s, 4);
	}
	struct sockaddr_in peer;
	socklen_t pl = sizeof peer;
	int s = accept(l, (void *)&peer, &pl);
	printf("listening on port %d, peer port %d\n", ntohs(a.sin_port), ntohs(peer.sin_port));
	char buf[64];
	ssize_t n;
	while ((n = recv(s, buf, sizeof buf - 1, 0)) > 0) {
		buf[n] = 0;
		printf("recv %zd: %s\n", n, buf);
	}
	waitpid(c, NULL, 0);
	return 0;
}

static int m_udp(void)
{
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	bind(r, (void *)&a, sizeof a);
	getsockname(r, (void *)&a, &al);
	for (int i = 0; i < 3; i++) {
		char m[32];
		int n = snprintf(m, sizeof m, "dgram %d %llu", i, nowns() % 1000);
		sendto(s, m, (size_t)n, 0, (void *)&a, sizeof a);
	}
	for (int i = 0; i < 3; i++) {
		char buf[64];
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(r, buf, sizeof buf - 1, 0, (void *)&from, &fl);
		buf[n > 0 ? n : 0] = 0;
		printf("from port %d: %s\n", ntohs(from.sin_port), buf);
	}
	return 0;
}

static int m_unix(void)
{
	int sv[2], p[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(p) < 0)
		return 1;
	char pay[32];
	int pn = snprintf(pay, sizeof pay, "through the fd %llu", nowns() % 100000);
	if (write(p[1], pay, (size_t)pn) < 0)
		return 1;
	close(p[1]);
	char one = 'x';
	struct iovec iov = { &one, 1 };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof ctl };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
	sendmsg(sv[0], &mh, 0);
	close(p[0]);
	char got;
	char ctl2[CMSG_SPACE(sizeof(int))];
	struct iovec iov2 = { &got, 1 };
	struct msghdr m2 = { .msg_iov = &iov2, .msg_iovlen = 1, .msg_control = ctl2,
			     .msg_controllen = sizeof ctl2 };
	ssize_t n = recvmsg(sv[1], &m2, 0);
	int fd = -1;
	if (n == 1 && CMSG_FIRSTHDR(&m2))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m2)), sizeof fd);
	char buf[64] = "";
	ssize_t k = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	buf[k > 0 ? k : 0] = 0;
	printf("recvmsg %zd byte '%c', fd %d reads '%s'\n", n, got, fd, buf);
	return 0;
}

static int m_tty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return 1;
	const char *name = ptsname(m);
	int s = open(name, O_RDWR | O_NOCTTY);
	char line[64];
	int l = snprintf(line, sizeof line, "typed %llu\n", nowns() % 1000);
	if (write(m, line, (size_t)l) < 0)
		return 1;
	char buf[64];
	ssize_t n = read(s, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("tty %s isatty %d read %zd: %s", name, isatty(s), n, buf);
	return 0;
}

static int m_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	char buf[256];
	while (fgets(buf, sizeof buf, f))
		printf("file: %s", buf);
	fclose(f);
	return 0;
}

static int m_urandom(void)
{
	unsigned char b[8], g[8];
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, b, sizeof b) != sizeof b || getrandom(g, sizeof g, 0) != sizeof g)
		return 1;
	for (int i = 0; i < 8; i++)
		printf("%02x", b[i]);
	printf(" ");
	for (int i = 0; i < 8; i++)
		printf("%02x", g[i]);
	printf("\n");
	return 0;
}

static int m_time(void)
{
	struct timespec r, m, b;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_BOOTTIME, &b);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	unsigned aux;
	unsigned long long t1 = __rdtsc(), t2 = __rdtscp(&aux);
	printf("realtime %ld.%09ld monotonic %ld.%09ld boottime %ld.%09ld\n", (long)r.tv_sec,
	       r.tv_nsec, (long)m.tv_sec, m.tv_nsec, (long)b.tv_sec, b.tv_nsec);
	printf("gettimeofday %ld.%06ld time %ld rdtsc %llu rdtscp %llu aux %u\n", (long)tv.tv_sec,
	       (long)tv.tv_usec, (long)time(NULL), t1, t2, aux);
	return 0;
}

static int m_ids(void)
{
	struct utsname u;
	uname(&u);
	printf("pid %d ppid %d tid %ld uid %d node %s release %s\n", getpid(), getppid(),
	       (long)syscall(SYS_gettid), getuid(), u.nodename, u.release);
	return 0;
}

static int m_poll(void)
{
	int p[2];
	if (pipe(p) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0)
		writer_child(p[1], 3);
	close(p[1]);
	for (int round = 0; round < 8; round++) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		unsigned long long t0 = nowns();
		int r = poll(&pf, 1, 1);
		fd_set rs;
		FD_ZERO(&rs);
		FD_SET(p[0], &rs);
		struct timeval tv = { 0, 500 };
		int s = select(p[0] + 1, &rs, NULL, NULL, &tv);
		printf("poll %d revents %#x select %d waited %llu us\n", r, pf.revents, s,
		       (nowns() - t0) / 1000);
		if (r > 0 && (pf.revents & POLLIN)) {
			char buf[64];
			ssize_t n = read(p[0], buf, sizeof buf - 1);
			if (n <= 0)
				break;
			buf[n] = 0;
			printf("  read %s\n", buf);
		}
	}
	waitpid(c, NULL, 0);
	return 0;
}

static int m_epoll(void)
{
	int p[2];
	if (pipe(p) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0)
		writer_child(p[1], 3);
	close(p[1]);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 };
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	for (;;) {
		struct epoll_event out[2];
		int n = epoll_wait(ep, out, 2, 2);
		printf("epoll_wait %d", n);
		if (n > 0) {
			printf(" data %#llx events %#x", (unsigned long long)out[0].data.u64, out[0].events);
			char buf[64];
			ssize_t k = read(p[0], buf, sizeof buf - 1);
			if (k <= 0) {
				printf(" eof\n");
				break;
			}
			buf[k] = 0;
			printf(" read %s", buf);
		}
		printf("\n");
	}
	waitpid(c, NULL, 0);
	return 0;
}

static int m_fdsignal(void)
{
	int e = eventfd(0, 0);
	uint64_t v = nowns() % 97 + 1, got = 0;
	if (write(e, &v, 8) != 8 || read(e, &got, 8) != 8)
		return 1;
	printf("eventfd %llu\n", (unsigned long long)got);
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = { { 0, 3000000 }, { 0, 3000000 } };
	timerfd_settime(t, 0, &its, NULL);
	usleep(10000);
	uint64_t exp = 0;
	if (read(t, &exp, 8) != 8)
		return 1;
	printf("timerfd expirations %llu\n", (unsigned long long)exp);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int s = signalfd(-1, &set, 0);
	kill(getpid(), SIGUSR1);
	struct signalfd_siginfo si;
	if (read(s, &si, sizeof si) != sizeof si)
		return 1;
	printf("signalfd signal %u from pid %u\n", si.ssi_signo, si.ssi_pid);
	return 0;
}

static volatile int hits;
static volatile unsigned long at_hit[4];
static volatile unsigned long progress;

static void on_alarm(int s)
{
	(void)s;
	if (hits < 4)
		at_hit[hits] = progress;
	hits++;
}

__attribute__((noinline)) static unsigned long crunch(unsigned long x, unsigned long i)
{
#define S_ x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9ul + i;
#define S10_ S_ S_ S_ S_ S_ S_ S_ S_ S_ S_
#define S100_ S10_ S10_ S10_ S10_ S10_ S10_ S10_ S10_ S10_ S10_
	/* Long and straight: a signal or a preemption lands at a pc met once per call,
	 * so a replay compares few breakpoint hits (about 4 us of work per call). */
	S100_ S100_ S100_ S100_ S100_ S100_ S100_ S100_ S100_ S100_
	S100_ S100_ S100_ S100_ S100_ S100_ S100_ S100_ S100_ S100_
	return x;
}

static int m_alarm(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 3000 }, { 0, 3000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	unsigned long x = 1;
	for (unsigned long i = 0; hits < 4; i++) {
		x = crunch(x, i);
		progress = i;
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("alarms at iterations %lu %lu %lu %lu (x %lu)\n", at_hit[0], at_hit[1], at_hit[2],
	       at_hit[3], x);
	/* ... and one during a blocking read. */
	int p[2];
	if (pipe(p) < 0)
		return 1;
	hits = 0;
	sa.sa_flags = 0;   /* no SA_RESTART: the read fails with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval once = { { 0, 0 }, { 0, 5000 } };
	setitimer(ITIMER_REAL, &once, NULL);
	char c;
	ssize_t n = read(p[0], &c, 1);
	printf("blocked read returned %zd (%s) after %d alarm\n", n, n < 0 ? strerror(errno) : "data",
	       hits);
	return 0;
}

static volatile pid_t chld_pid;
static volatile int chld_code;

static void on_chld(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	chld_pid = si->si_pid;
	chld_code = si->si_status;
}

static int m_sigchld(void)
{
	struct sigaction sa = { .sa_sigaction = on_chld, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigaction(SIGCHLD, &sa, NULL);
	pid_t c = fork();
	if (c == 0) {
		usleep(2000);
		_exit(42);
	}
	unsigned long x = 1, i = 0;
	while (!chld_pid)
		x = crunch(x, i++);
	int st;
	waitpid(c, &st, 0);
	printf("SIGCHLD from %s child, status %d, after %lu rounds (x %lu)\n",
	       chld_pid == c ? "the" : "another", chld_code, i, x);
	return 0;
}

/* SIGCHLD blocked except while waiting in pselect6, ppoll or sigsuspend (the calls
 * that swap masks, as make and shells do): the signal arrives at the call's exit. */
static volatile int chld_seen;

static void on_chld_count(int s)
{
	(void)s;
	chld_seen++;
}

static int m_maskwait(void)
{
	struct sigaction sa = { .sa_handler = on_chld_count };
	sigaction(SIGCHLD, &sa, NULL);
	sigset_t block, during;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &during);
	sigdelset(&during, SIGCHLD);
	int reaped = 0, eintr = 0;
	for (int round = 0; round < 3; round++) {
		pid_t c = fork();
		if (c == 0) {
			usleep(1000);
			_exit(round);
		}
		int r;
		if (round == 0) {
			r = pselect(0, NULL, NULL, NULL, NULL, &during);
		} else if (round == 1) {
			struct timespec ts = { 5, 0 };
			r = ppoll(NULL, 0, &ts, &during);
		} else {
			r = sigsuspend(&during);
		}
		eintr += r < 0 && errno == EINTR;
		int st;
		while (waitpid(-1, &st, WNOHANG) > 0)
			reaped++;
		sigset_t now;
		sigprocmask(SIG_BLOCK, NULL, &now);
		printf("round %d: handler runs %d, SIGCHLD %s after the wait\n", round, chld_seen,
		       sigismember(&now, SIGCHLD) ? "blocked" : "NOT blocked");
	}
	printf("%d reaped, %d EINTR\n", reaped, eintr);
	return 0;
}

static volatile int got_usr1;

static void on_usr1(int s)
{
	(void)s;
	got_usr1 = 1;
}

static int m_kill(void)
{
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", getpid());
	fflush(stdout);
	unsigned long x = 1, i = 0;
	while (!got_usr1)
		x = crunch(x, i++);
	printf("SIGUSR1 after %s\n", i > 0 ? "some work" : "no work");
	printf("x %lu\n", x);
	return 0;
}

/* Blocked reading stdin while stopped and continued from outside: the read is
 * interrupted by the stop and restarted by the kernel. */
static int m_stopped(void)
{
	printf("ready %d\n", getpid());
	fflush(stdout);
	char buf[64];
	ssize_t n = read(0, buf, sizeof buf - 1);
	printf("read %zd: %.*s", n, n > 0 ? (int)n : 0, buf);
	return n > 0 ? 0 : 1;
}

static long counter;

static void *racer(void *arg)
{
	long n = (long)arg, x = 0;
	for (long i = 0; i < n; i++) {
		x = (long)crunch((unsigned long)x, (unsigned long)i);
		/* A short window: updates are lost now and then, not every time. */
		long v = *(volatile long *)&counter;
		S10_ S10_ S10_ S10_ S10_
		*(volatile long *)&counter = v + 1;
	}
	return (void *)x;
}

/* Two threads add 1000 each with a read-modify-write around a slow step: it loses
 * updates (and fails) only when a thread is preempted inside the loop, which
 * depends on the time slices (--chaos makes them random). */
static void *slow_adder(void *arg)
{
	(void)arg;
	unsigned long x = 1;
	for (unsigned long i = 0; i < 1000; i++) {
		long v = *(volatile long *)&counter;
		x = crunch(x, i);
		*(volatile long *)&counter = v + 1;
	}
	return (void *)x;
}

static int m_flaky(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, slow_adder, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("counter %ld of 2000\n", counter);
	return counter == 2000 ? 0 : 1;
}

static int m_threads(void)
{
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, racer, (void *)2000L);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("counter %ld (a race: native runs differ)\n", counter);
	return 0;
}

static int m_mmap(const char *path)
{
	for (int i = 1; i <= 3; i++) {
		void *p = mmap(NULL, (size_t)i * 8192 + (nowns() % 3) * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("anon %p\n", p);
	}
	int fd = open(path, O_RDONLY);
	char *f = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	if (f == MAP_FAILED)
		return 1;
	printf("file map %p: %.20s\n", (void *)f, f);
	return 0;
}

static int m_exec(void)
{
	pid_t c = fork();
	if (c == 0) {
		char arg[32];
		snprintf(arg, sizeof arg, "child-%llu", nowns() % 1000);
		execl("/bin/echo", "echo", "exec'd", arg, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child exited %d\n", WEXITSTATUS(st));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *m = argv[1], *arg = argc > 2 ? argv[2] : "/etc/hostname";
	int r = !strcmp(m, "pipe") ? m_pipe() : !strcmp(m, "tcp") ? m_tcp() :
		!strcmp(m, "udp") ? m_udp() : !strcmp(m, "unix") ? m_unix() :
		!strcmp(m, "tty") ? m_tty() : !strcmp(m, "file") ? m_file(arg) :
		!strcmp(m, "urandom") ? m_urandom() : !strcmp(m, "time") ? m_time() :
		!strcmp(m, "ids") ? m_ids() : !strcmp(m, "poll") ? m_poll() :
		!strcmp(m, "epoll") ? m_epoll() : !strcmp(m, "fdsignal") ? m_fdsignal() :
		!strcmp(m, "alarm") ? m_alarm() : !strcmp(m, "sigchld") ? m_sigchld() :
		!strcmp(m, "kill") ? m_kill() : !strcmp(m, "stopped") ? m_stopped() :
		!strcmp(m, "threads") ? m_threads() : !strcmp(m, "flaky") ? m_flaky() :
		!strcmp(m, "mmap") ? m_mmap(arg) : !strcmp(m, "exec") ? m_exec() :
		!strcmp(m, "maskwait") ? m_maskwait() : 2;
	fflush(stdout);
	return r;
}
