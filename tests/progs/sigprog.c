/* A signal handler entered from nested calls: backtraces cross the signal frame. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int handled;

void on_usr1(int sig)
{
	handled = sig;
}

int deep(int level)
{
	if (level == 0) {
		kill(getpid(), SIGUSR1);
		return handled;
	}
	return deep(level - 1) + 1;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	int r = deep(2);
	printf("r=%d\n", r);
	return 0;
}
