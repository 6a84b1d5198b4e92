/* Runs until interrupted: for Ctrl-C and interrupt tests. */
#include <unistd.h>

volatile long spins;

int main(void)
{
	for (;;) {
		spins++;
		if ((spins & 0xfffff) == 0)
			usleep(100);
	}
}
