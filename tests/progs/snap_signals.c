/* Signals, timers and what fork carries by itself. Before trap 1 the program queues
 * blocked signals (SIGUSR1 on its thread by raise, SIGUSR2 on the process by kill,
 * SIGRTMIN twice with values 41 and 42 by sigqueue), arms alarm-style ITIMER_REAL at
 * 1.5 s and POSIX timers 0 and 2 (timer 1 deleted, so ids have a gap) at 1.2 s and
 * 1.4 s, and sets cwd (argv[1]), umask and RLIMIT_NOFILE. After trap 1 it checks all
 * of it, unblocks the signals (each must arrive once, with its si_code and value),
 * waits for the three timers, then changes cwd, umask, the limit, the handlers of
 * SIGUSR1/2 and the blocked mask. Trap 2 is where the test restores. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "snap_prog.h"

static volatile sig_atomic_t got_usr1, got_usr2, got_alrm, got_t0, got_t2, rt_n;
static volatile int rt_vals[4], usr1_code, usr2_code;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGUSR1) {
		got_usr1++;
		usr1_code = si->si_code;
	} else if (sig == SIGUSR2) {
		got_usr2++;
		usr2_code = si->si_code;
	} else if (sig == SIGALRM) {
		got_alrm++;
	} else if (sig == SIGRTMIN) {
		if (rt_n < 4)
			rt_vals[rt_n] = si->si_value.sival_int;
		rt_n++;
	} else if (sig == SIGRTMIN + 1 && si->si_value.sival_int == 100) {
		got_t0++;
	} else if (sig == SIGRTMIN + 2 && si->si_value.sival_int == 102) {
		got_t2++;
	}
}

static double left(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	int sigs[] = { SIGUSR1, SIGUSR2, SIGALRM, SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2 };
	sigset_t block;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);
	kill(getpid(), SIGUSR2);
	sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = 41 });
	sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = 42 });
	struct itimerval it = { { 0, 0 }, { 1, 500000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	timer_t t[3];
	int tsig[3] = { SIGRTMIN + 1, SIGRTMIN + 3, SIGRTMIN + 2 };
	for (int i = 0; i < 3; i++) {
		struct sigevent sev;
		memset(&sev, 0, sizeof sev);
		sev.sigev_notify = SIGEV_SIGNAL;
		sev.sigev_signo = tsig[i];
		sev.sigev_value.sival_int = 100 + i;
		if (timer_create(CLOCK_MONOTONIC, &sev, &t[i]) < 0)
			return 2;
	}
	timer_delete(t[1]);
	struct itimerspec its = { { 0, 0 }, { 1, 200000000 } };
	timer_settime(t[0], 0, &its, NULL);
	its.it_value.tv_nsec = 400000000;
	timer_settime(t[2], 0, &its, NULL);
	if (chdir(argv[1]) < 0)
		return 2;
	umask(027);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 333;
	setrlimit(RLIMIT_NOFILE, &rl);
	printf("start\n");

	SNAP_POINT();                   /* trap 1: checkpoint */
	sigset_t pend;
	sigpending(&pend);
	int ok = sigismember(&pend, SIGUSR1) && sigismember(&pend, SIGUSR2) &&
		 sigismember(&pend, SIGRTMIN) && !sigismember(&pend, SIGALRM);
	CHECK(ok, "pending signals");
	printf("pending %s\n", ok ? "ok" : "WRONG");
	getitimer(ITIMER_REAL, &it);
	double l = (double)it.it_value.tv_sec + (double)it.it_value.tv_usec / 1e6;
	CHECK(l > 0.3 && l <= 1.5, "itimer left %.3f", l);
	printf("itimer %s\n", l > 0.3 && l <= 1.5 ? "ok" : "WRONG");
	struct itimerspec g0, g2;
	int r0 = timer_gettime(t[0], &g0), r2 = timer_gettime(t[2], &g2);
	ok = r0 == 0 && r2 == 0 && left(&g0.it_value) > 0.2 && left(&g0.it_value) <= 1.2 &&
	     left(&g2.it_value) > 0.2 && left(&g2.it_value) <= 1.4 &&
	     timer_gettime(t[1], &g0) < 0;
	CHECK(ok, "POSIX timers");
	printf("timers %s\n", ok ? "ok" : "WRONG");
	char cwd[512];
	ok = getcwd(cwd, sizeof cwd) && !strcmp(cwd, argv[1]);
	CHECK(ok, "cwd %s", cwd);
	printf("cwd %s\n", ok ? "ok" : "WRONG");
	mode_t m = umask(0);
	umask(m);
	CHECK(m == 027, "umask %o", m);
	printf("umask %s\n", m == 027 ? "ok" : "WRONG");
	getrlimit(RLIMIT_NOFILE, &rl);
	CHECK(rl.rlim_cur == 333, "RLIMIT_NOFILE %lu", (unsigned long)rl.rlim_cur);
	printf("rlimit %s\n", rl.rlim_cur == 333 ? "ok" : "WRONG");

	sigprocmask(SIG_UNBLOCK, &block, NULL);
	ok = got_usr1 == 1 && usr1_code == SI_TKILL && got_usr2 == 1 && usr2_code == SI_USER &&
	     rt_n == 2 && rt_vals[0] == 41 && rt_vals[1] == 42;
	CHECK(ok, "delivered: usr1 %d/%d usr2 %d/%d rt %d (%d %d)", got_usr1, usr1_code,
	      got_usr2, usr2_code, rt_n, rt_vals[0], rt_vals[1]);
	printf("delivered %s\n", ok ? "ok" : "WRONG");
	sigset_t none;
	sigemptyset(&none);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(got_alrm && got_t0 && got_t2)) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 5)
			break;
		usleep(10000);
	}
	ok = got_alrm == 1 && got_t0 == 1 && got_t2 == 1;
	CHECK(ok, "timers fired: alarm %d t0 %d t2 %d", got_alrm, got_t0, got_t2);
	printf("fired %s\n", ok ? "ok" : "WRONG");

	if (chdir("/") < 0)
		return 2;
	umask(0);
	rl.rlim_cur = 222;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGUSR1, SIG_IGN);       /* the restored run needs the handlers of trap 1 */
	signal(SIGUSR2, SIG_IGN);
	sigprocmask(SIG_BLOCK, &block, NULL);
	SNAP_POINT();                   /* trap 2: restore */
	printf("done\n");
	return snap_failed;
}
