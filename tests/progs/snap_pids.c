/* The pid and tids a program sees. Before trap 1 it records getpid(), gettid(), its
 * thread's tid and glibc's cached copies (struct pthread.tid); after it, it checks them
 * and sends itself signals in the three ways that use them: kill(getpid()), raise()
 * and pthread_kill() (the latter uses the cached tid). Trap 2 is after the thread
 * has been joined. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "snap_prog.h"

static pid_t pid0, tid0, ttid0;
static atomic_int usr1_main, usr2_main, usr1_thread;
static pthread_t main_th;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;

static pid_t cached_tid(pthread_t t)
{
	return *(pid_t *)((char *)t + 0x2d0);
}

static void on_usr1(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), main_th))
		usr1_main++;
	else
		usr1_thread++;
}

static void on_usr2(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), main_th))
		usr2_main++;
}

static void *thread(void *arg)
{
	(void)arg;
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);         /* kill(getpid(), SIGUSR2) is main's */
	pthread_sigmask(SIG_BLOCK, &m, NULL);
	pthread_mutex_lock(&mu);
	ttid0 = gettid();
	phase = 1;
	pthread_cond_broadcast(&cv);
	while (phase < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	int ok = gettid() == ttid0 && cached_tid(pthread_self()) == ttid0;
	printf("thread ids %s\n", ok ? "ok" : "CHANGED");
	while (!usr1_thread)
		usleep(1000);
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	main_th = pthread_self();
	pid0 = getpid();
	tid0 = gettid();
	pthread_t th;
	pthread_create(&th, NULL, thread, NULL);
	pthread_mutex_lock(&mu);
	while (phase < 1)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	printf("start\n");
	SNAP_POINT();                   /* trap 1: checkpoint */
	CHECK(getpid() == pid0, "getpid %d, was %d", getpid(), pid0);
	CHECK(gettid() == tid0, "gettid %d, was %d", gettid(), tid0);
	CHECK(cached_tid(pthread_self()) == tid0, "cached tid %d", cached_tid(pthread_self()));
	CHECK(cached_tid(th) == ttid0, "thread's cached tid %d, was %d", cached_tid(th), ttid0);
	printf("ids %s\n", getpid() == pid0 && gettid() == tid0 ? "ok" : "CHANGED");
	pthread_mutex_lock(&mu);
	phase = 2;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	kill(getpid(), SIGUSR2);
	raise(SIGUSR1);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	printf("kill %s\n", usr2_main == 1 ? "ok" : "LOST");
	printf("raise %s\n", usr1_main == 1 ? "ok" : "LOST");
	printf("pthread_kill %s\n", usr1_thread == 1 ? "ok" : "LOST");
	CHECK(usr2_main == 1 && usr1_main == 1 && usr1_thread == 1, "signals went astray");
	SNAP_POINT();                   /* trap 2: restore */
	printf("done\n");
	return snap_failed;
}
