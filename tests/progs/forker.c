/* Fork a child connected by a pipe: the parent writes lines, the child counts them
 * until EOF and reports through its exit status; then exec /bin/echo. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int count_lines(int fd)
{
	char buf[256];
	int lines = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	return lines;
}

int main(int argc, char **argv)
{
	int p[2];
	if (pipe(p) < 0)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		_exit(count_lines(p[0]));
	}
	close(p[0]);
	for (int i = 0; i < 7; i++)
		if (write(p[1], "line\n", 5) != 5)
			return 3;
	close(p[1]);
	int status;
	waitpid(pid, &status, 0);
	printf("child counted %d lines\n", WEXITSTATUS(status));
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "exec"))
		execl("/bin/echo", "echo", "exec worked", (char *)NULL);
	return WEXITSTATUS(status) == 7 ? 0 : 1;
}
