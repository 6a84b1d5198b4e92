/* A vfork child shares its parent's memory until it execs: no checkpoint then. Trap 1
 * is in the vfork child before its exec, trap 2 in the parent after the child ended. */
#include <sys/wait.h>
#include <unistd.h>

#include "snap_prog.h"

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("start\n");
	pid_t c = vfork();
	if (c == 0) {
		SNAP_POINT();           /* trap 1: refused */
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(c, &st, 0);
	SNAP_POINT();                   /* trap 2: checkpoint, then restore */
	printf("child exited with %d\n", WEXITSTATUS(st));
	return WEXITSTATUS(st);
}
