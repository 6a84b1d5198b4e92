/* For strace -f: each round forks a child that execs echo; the parent waits for it.
 * It reads one byte from stdin before round PAUSE and one at the end, so a test can
 * checkpoint it at a known point and keep it alive until it restores. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 6, pause_at = argc > 2 ? atoi(argv[2]) : 3;
	char c;
	for (int r = 1; r <= rounds; r++) {
		if (r == pause_at && read(0, &c, 1) != 1)
			return 2;
		pid_t p = fork();
		if (p == 0) {
			char buf[32];
			snprintf(buf, sizeof buf, "round %d", r);
			execl("/bin/echo", "echo", buf, (char *)NULL);
			_exit(127);
		}
		int st;
		if (waitpid(p, &st, 0) != p)
			return 4;
		printf("parent: child %d exited %d\n", r, WEXITSTATUS(st));
		fflush(stdout);
	}
	return read(0, &c, 1) == 1 ? 0 : 3;
}
