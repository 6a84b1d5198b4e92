/* Signals: a handled SIGUSR1 via raise(), a SIGALRM from alarm(), then a SIGSEGV
 * (argument "segv") or a normal exit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_count, alarm_count;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarm_count++;
}

static int crash(int *p)
{
	return *p;
}

int main(int argc, char **argv)
{
	signal(SIGUSR1, on_usr1);
	signal(SIGALRM, on_alarm);
	raise(SIGUSR1);
	alarm(1);
	while (!alarm_count)
		pause();
	printf("usr1=%d alarm=%d\n", (int)usr1_count, (int)alarm_count);
	if (argc > 1 && !strcmp(argv[1], "segv"))
		return crash(NULL);
	return 0;
}
