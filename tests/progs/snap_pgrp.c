/* A program that leads its own process group or session, as shells make their jobs and
 * daemons make themselves. Argument: "setpgid" (setpgid(0, 0), then a child in the
 * group, joined by a pipe), "setsid" (setsid()), or "job" (stays where it was put: a
 * job of a shell with job control, which it stops with SIGUSR2 for the test to
 * checkpoint it there, and has no traps). Trap 1 is where the test checkpoints; after it the
 * program checks that its pid, process group and session are what they were and that
 * kill(0, SIGUSR1) reaches the whole group (itself and the child), then trap 2. Prints
 * "ids ok", "group signal ok" and exits 0 when all hold. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "snap_prog.h"

static atomic_int usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

/* The child answers each byte from the parent with whether SIGUSR1 reached it. */
static int child(int in, int out)
{
	char c;
	while (read(in, &c, 1) == 1) {
		for (int i = 0; i < 1000 && !usr1; i++)
			usleep(1000);
		char a = usr1 ? 'y' : 'n';
		usr1 = 0;
		if (write(out, &a, 1) != 1)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "setpgid";
	signal(SIGUSR1, on_usr1);
	if (!strcmp(mode, "setsid") && setsid() < 0)
		printf("setsid: %s\n", strerror(errno));
	if (!strcmp(mode, "setpgid") && setpgid(0, 0) < 0)
		printf("setpgid: %s\n", strerror(errno));
	pid_t pid0 = getpid(), pg0 = getpgrp(), sid0 = getsid(0);
	int down[2], up[2];
	pid_t kid = -1;
	if (!strcmp(mode, "setpgid")) {
		if (pipe(down) < 0 || pipe(up) < 0)
			return 2;
		kid = fork();
		if (kid == 0) {
			close(down[1]);
			close(up[0]);
			_exit(child(down[0], up[1]));
		}
		close(down[0]);
		close(up[1]);
	}
	printf("start %s leads group %s session %s\n", mode, pg0 == pid0 ? "yes" : "no",
	       sid0 == pid0 ? "yes" : "no");
	if (!strcmp(mode, "job")) {
		/* The debugger follows the shell, not its jobs: stop the shell instead (the
		 * test stops on SIGUSR2) and be in nanosleep when it is checkpointed. */
		kill(getppid(), SIGUSR2);
		usleep(300 * 1000);
	} else {
		SNAP_POINT();           /* trap 1: checkpoint */
	}
	pid_t pid = getpid(), pg = getpgrp(), sid = getsid(0);
	CHECK(pid == pid0 && pg == pg0 && sid == sid0, "pid %d pgid %d sid %d, were %d %d %d",
	      pid, pg, sid, pid0, pg0, sid0);
	printf("ids %s\n", pid == pid0 && pg == pg0 && sid == sid0 ? "ok" : "CHANGED");
	kill(0, SIGUSR1);
	for (int i = 0; i < 1000 && !usr1; i++)
		usleep(1000);
	int ok = usr1 == 1;
	if (kid > 0) {
		char c = 'x', a = 0;
		ok &= write(down[1], &c, 1) == 1 && read(up[0], &a, 1) == 1 && a == 'y';
		close(down[1]);
	}
	CHECK(ok, "kill(0, SIGUSR1) did not reach the whole group");
	printf("group signal %s\n", ok ? "ok" : "LOST");
	if (strcmp(mode, "job"))
		SNAP_POINT();           /* trap 2 */
	printf("done\n");
	return snap_failed;
}
