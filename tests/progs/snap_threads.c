/* Threads across checkpoint/restore. At trap 1 six threads are parked: T1 in
 * pthread_cond_wait (futex, -ERESTARTSYS), T2 in read() on a pipe, T3 in nanosleep
 * (-ERESTART_RESTARTBLOCK), T4 spinning with values in its vector registers, T5 in
 * pthread_cond_timedwait (futex with a timeout, -ERESTART_RESTARTBLOCK), T6 in sem_wait
 * inside a signal handler running on its alternate stack. Each thread
 * set its own signal mask, sigaltstack and name first. After trap 1 main wakes them
 * all and joins them (which needs clear_child_tid); each thread checks that its tid,
 * glibc's cached tid, mask, sigaltstack, name, robust list and rseq registration are
 * what they were, and reports. Trap 2 is after the joins. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "snap_prog.h"

#define NT 6

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, cv5 = PTHREAD_COND_INITIALIZER;
static int go1, go5;
static int pfd[2];
static atomic_int ready;
static volatile int stop4;
static sem_t sem6;
static atomic_int in6, armed6;
static void *volatile sp6;
static uint8_t vin[8 * 32] __attribute__((aligned(32))), vout[8 * 32] __attribute__((aligned(32)));

struct tinfo {
	int n;
	pid_t tid;
	char result[160];
};

/* What a thread set up; compared with what it has after waking. */
struct tstate {
	pid_t tid;
	sigset_t mask;
	stack_t ss;
	char name[16];
	void *robust;
	size_t robust_len;
};

static void setup(struct tinfo *ti, struct tstate *st)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + ti->n);
	sigaddset(&m, SIGUSR2);
	if (ti->n % 2)
		sigaddset(&m, SIGWINCH);
	pthread_sigmask(SIG_SETMASK, &m, NULL);
	stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0 };
	sigaltstack(&ss, NULL);
	char name[16];
	snprintf(name, sizeof name, "snap-t%d", ti->n);
	pthread_setname_np(pthread_self(), name);
	st->tid = gettid();
	ti->tid = st->tid;
	sigemptyset(&st->mask);
	pthread_sigmask(SIG_SETMASK, NULL, &st->mask);
	sigaltstack(NULL, &st->ss);
	pthread_getname_np(pthread_self(), st->name, sizeof st->name);
	syscall(SYS_get_robust_list, 0, &st->robust, &st->robust_len);
}

/* glibc's own copy of the tid (struct pthread.tid), used by raise/pthread_kill. */
static pid_t cached_tid(void)
{
	return *(pid_t *)((char *)pthread_self() + 0x2d0);
}

static void verify(struct tinfo *ti, const struct tstate *st, const char *how)
{
	sigset_t mask;
	stack_t ss;
	char name[16];
	void *robust;
	size_t rlen;
	sigemptyset(&mask);
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	sigaltstack(NULL, &ss);
	pthread_getname_np(pthread_self(), name, sizeof name);
	syscall(SYS_get_robust_list, 0, &robust, &rlen);
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	/* Registering again the area glibc registered (32 bytes) fails with EBUSY if it
	 * still is registered. */
	long rr = __rseq_size ? syscall(SYS_rseq, rs, 32, 0, RSEQ_SIG) : -1;
	int rerr = errno;
	const char *bad = gettid() != st->tid ? "tid" :
			  cached_tid() != st->tid ? "cached tid" :
			  memcmp(&mask, &st->mask, 8) ? "signal mask" :
			  ss.ss_sp != st->ss.ss_sp || ss.ss_size != st->ss.ss_size ? "sigaltstack" :
			  strcmp(name, st->name) ? "name" :
			  robust != st->robust ? "robust list" :
			  __rseq_size && !(rr == -1 && rerr == EBUSY) ? "rseq" : NULL;
	snprintf(ti->result, sizeof ti->result, "t%d %s: %s", ti->n, how, bad ? bad : "ok");
	if (bad)
		snap_failed = 1;
}

static void *t1(void *arg)      /* futex wait without timeout */
{
	struct tinfo *ti = arg;
	struct tstate st;
	setup(ti, &st);
	pthread_mutex_lock(&mu);
	ready++;
	while (!go1)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	verify(ti, &st, "cond_wait");
	return NULL;
}

static void *t2(void *arg)      /* read on a pipe */
{
	struct tinfo *ti = arg;
	struct tstate st;
	setup(ti, &st);
	char buf[16] = "";
	ready++;
	ssize_t n = read(pfd[0], buf, sizeof buf - 1);
	verify(ti, &st, n == 5 && !memcmp(buf, "wake!", 5) ? "read" : "read BAD");
	return NULL;
}

static void *t3(void *arg)      /* nanosleep */
{
	struct tinfo *ti = arg;
	struct tstate st;
	setup(ti, &st);
	struct timespec d = { 0, 400 * 1000 * 1000 };
	ready++;
	int r = nanosleep(&d, NULL);
	verify(ti, &st, r == 0 ? "nanosleep" : "nanosleep BAD");
	return NULL;
}

static void *t4(void *arg)      /* spinning with vector registers live */
{
	struct tinfo *ti = arg;
	struct tstate st;
	setup(ti, &st);
	ready++;
	__asm__ volatile(
		"vmovdqu 0(%[i]), %%ymm8\n vmovdqu 32(%[i]), %%ymm9\n vmovdqu 64(%[i]), %%ymm10\n"
		"vmovdqu 96(%[i]), %%ymm11\n vmovdqu 128(%[i]), %%ymm12\n"
		"vmovdqu 160(%[i]), %%ymm13\n vmovdqu 192(%[i]), %%ymm14\n"
		"vmovdqu 224(%[i]), %%ymm15\n"
		"1: pause\n cmpl $0, (%[f])\n je 1b\n"
		"vmovdqu %%ymm8, 0(%[o])\n vmovdqu %%ymm9, 32(%[o])\n vmovdqu %%ymm10, 64(%[o])\n"
		"vmovdqu %%ymm11, 96(%[o])\n vmovdqu %%ymm12, 128(%[o])\n"
		"vmovdqu %%ymm13, 160(%[o])\n vmovdqu %%ymm14, 192(%[o])\n"
		"vmovdqu %%ymm15, 224(%[o])\n vzeroupper\n"
		: : [i] "r"(vin), [o] "r"(vout), [f] "r"(&stop4)
		: "memory", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	verify(ti, &st, memcmp(vin, vout, sizeof vin) ? "spin BAD vectors" : "spin");
	return NULL;
}

static void *t5(void *arg)      /* futex wait with an absolute timeout */
{
	struct tinfo *ti = arg;
	struct tstate st;
	setup(ti, &st);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60;
	int r = 0;
	pthread_mutex_lock(&mu);
	ready++;
	while (!go5 && r == 0)
		r = pthread_cond_timedwait(&cv5, &mu, &dl);
	pthread_mutex_unlock(&mu);
	verify(ti, &st, r == 0 ? "cond_timedwait" : "cond_timedwait BAD");
	return NULL;
}

/* Runs on T6's alternate stack and waits there until main lets it go. */
static void h6(int sig)
{
	(void)sig;
	int here;
	sp6 = &here;
	in6 = 1;
	ready++;
	while (sem_wait(&sem6) < 0)
		;
}

static void *t6(void *arg)      /* inside a handler, on the alternate stack */
{
	struct tinfo *ti = arg;
	struct tstate st;
	setup(ti, &st);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h6;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &m, NULL);
	sigemptyset(&st.mask);
	pthread_sigmask(SIG_SETMASK, NULL, &st.mask);
	armed6 = 1;
	while (!in6)            /* the handler runs (and waits) inside this sleep */
		usleep(1000);
	char *lo = st.ss.ss_sp, *hi = lo + st.ss.ss_size;
	int on = (char *)sp6 >= lo && (char *)sp6 < hi;
	verify(ti, &st, on ? "handler on altstack" : "handler NOT on altstack");
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	void *(*fn[NT])(void *) = { t1, t2, t3, t4, t5, t6 };
	struct tinfo ti[NT];
	pthread_t th[NT];
	for (size_t i = 0; i < sizeof vin; i++)
		vin[i] = (uint8_t)(i * 13 + 5);
	if (pipe(pfd) < 0 || sem_init(&sem6, 0, 0) < 0)
		return 2;
	printf("start\n");
	for (int i = 0; i < NT; i++) {
		memset(&ti[i], 0, sizeof ti[i]);
		ti[i].n = i + 1;
		pthread_create(&th[i], NULL, fn[i], &ti[i]);
	}
	while (!armed6)
		usleep(1000);
	pthread_kill(th[5], SIGUSR2);
	while (ready < NT)
		usleep(1000);
	usleep(50 * 1000);              /* let them block */
	SNAP_POINT();                   /* trap 1: checkpoint */
	pthread_mutex_lock(&mu);
	go1 = go5 = 1;
	pthread_cond_broadcast(&cv);
	pthread_cond_broadcast(&cv5);
	pthread_mutex_unlock(&mu);
	if (write(pfd[1], "wake!", 5) != 5)
		return 2;
	stop4 = 1;
	sem_post(&sem6);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NT; i++)
		printf("%s\n", ti[i].result);
	SNAP_POINT();                   /* trap 2: restore */
	printf("joined all\n");
	return snap_failed;
}
