/* A process tree joined by pipes. The parent forks a child, writes N lines to it
 * through one pipe and closes it; the child counts lines until EOF, prints the count,
 * sends it back through a second pipe and exits. Trap 1 is half-way through the
 * writing, with lines still unread in the pipe; trap 2 is after the parent has the
 * answer. The parent prints whether it could wait for its child: after a restore the
 * child's parent is rewind, not this process (see docs/architecture.md). */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snap_prog.h"

#define N 200

static int child(int in, int out)
{
	char buf[64];
	int lines = 0;
	ssize_t n;
	usleep(20 * 1000);              /* let the parent get ahead: bytes wait in the pipe */
	while ((n = read(in, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		usleep(1000);
	}
	printf("child counted %d lines\n", lines);
	dprintf(out, "%d\n", lines);
	return lines == N ? 0 : 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int down[2], up[2];
	if (pipe(down) < 0 || pipe(up) < 0)
		return 2;
	printf("start\n");
	pid_t q = fork();
	if (q < 0)
		return 2;
	if (q == 0) {
		close(down[1]);
		close(up[0]);
		_exit(child(down[0], up[1]));
	}
	close(down[0]);
	close(up[1]);
	for (int i = 0; i < N; i++) {
		if (i == N / 2)
			SNAP_POINT();           /* trap 1: checkpoint */
		dprintf(down[1], "line %d\n", i);
	}
	close(down[1]);
	char buf[32] = "";
	ssize_t got = 0, n;
	while ((n = read(up[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	int reported = atoi(buf);
	printf("parent: child reported %d\n", reported);
	int st = 0;
	pid_t w = waitpid(q, &st, 0);
	if (w == q)
		printf("parent: child exited with %d\n", WEXITSTATUS(st));
	else
		printf("parent: child not waitable (%s)\n", strerror(errno));
	SNAP_POINT();                   /* trap 2: restore */
	printf("parent done\n");
	return reported == N ? 0 : 1;
}
