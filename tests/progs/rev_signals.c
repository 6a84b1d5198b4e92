/* Reverse execution across signal handlers: SIGUSR1 raised at chosen iterations, and
 * SIGALRM from an interval timer while the loop runs (tests/e2e/reverse_signals.sh). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile int usr1_seen, alarms;
static volatile long work;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static long step(long x)
{
	return x * 3 + 1;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 0; i < 6; i++) {
		work = step(work) % 1000003;
		if (i == 2 || i == 4)
			raise(SIGUSR1);
	}
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	while (alarms < 3)
		work = step(work) % 1000003;
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("usr1=%d alarms=%d\n", usr1_seen, alarms);
	return 0;
}
