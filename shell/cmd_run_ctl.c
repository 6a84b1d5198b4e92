/* `rewind run` and `rewind ctl`: run a command tree under rewind (tracers inside it
 * emulated, the tree checkpointed as a whole), and drive such a session from another
 * terminal or a script. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replay/supervise.h"

static void run_usage(FILE *f)
{
	fprintf(f, "usage: rewind run [--control SOCKET] [--quiet] [--] COMMAND [ARGS...]\n"
		   "  Run COMMAND (gdb, strace, a shell...) under rewind: the terminal is passed\n"
		   "  through, tracers inside are emulated, and `rewind ctl` checkpoints and\n"
		   "  restores the whole process tree. The control socket's path is printed on\n"
		   "  stderr and given to COMMAND as $" SV_ENV ".\n");
}

static void ctl_usage(FILE *f)
{
	fprintf(f, "usage: rewind ctl [--control SOCKET] [--timeout SECONDS] REQUEST\n"
		   "  checkpoint [NAME]     checkpoint every process of the session\n"
		   "  checkpoint! [NAME]    ...even with resources that cannot be restored\n"
		   "  restore N|NAME        go back to a checkpoint\n"
		   "  list                  the checkpoints\n"
		   "  delete N|NAME         drop a checkpoint\n"
		   "  status                processes and emulated ptrace links\n"
		   "Without --control: $" SV_ENV ", else the only running session.\n");
}

static void ready(void *ctx, pid_t pid, const char *control)
{
	if (*(int *)ctx)
		return;
	fprintf(stderr, "rewind: running %d; control socket %s\n", (int)pid, control);
	fflush(stderr);
}

int run_main(int argc, char **argv)
{
	const char *control = NULL;
	int quiet = 0, i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--control") && i + 1 < argc)
			control = argv[++i];
		else if (!strncmp(argv[i], "--control=", 10))
			control = argv[i] + 10;
		else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))
			quiet = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			run_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "rewind run: unknown option \"%s\"\n", argv[i]);
			run_usage(stderr);
			return 2;
		} else
			break;
	}
	if (i >= argc) {
		run_usage(stderr);
		return 2;
	}
	struct sv_opts o = { .argv = argv + i, .control = control, .ready = ready, .ctx = &quiet };
	struct sbuf err = { 0 };
	int status = 0;
	if (sv_run(&o, &status, &err) < 0) {
		fprintf(stderr, "rewind run: %s\n", sbuf_str(&err));
		sbuf_free(&err);
		return 127;
	}
	sbuf_free(&err);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* The session to talk to: --control, $REWIND_CONTROL, or the only one running. */
static char *pick_session(const char *control)
{
	if (control)
		return strdup(control);
	const char *env = getenv(SV_ENV);
	if (env && *env)
		return strdup(env);
	struct sbuf paths = { 0 };
	int n = sv_sessions(&paths);
	if (n == 1) {
		char *p = sbuf_steal(&paths);
		p[strcspn(p, "\n")] = 0;
		return p;
	}
	if (n == 0)
		fprintf(stderr, "rewind ctl: no rewind session is running (start one with "
			"`rewind run -- COMMAND`)\n");
	else
		fprintf(stderr, "rewind ctl: %d sessions are running; choose one with --control:\n%s",
			n, sbuf_str(&paths));
	sbuf_free(&paths);
	return NULL;
}

int ctl_main(int argc, char **argv)
{
	const char *control = NULL;
	int timeout = -1, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--control") && i + 1 < argc)
			control = argv[++i];
		else if (!strncmp(argv[i], "--control=", 10))
			control = argv[i] + 10;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atoi(argv[++i]) * 1000;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			ctl_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "rewind ctl: unknown option \"%s\"\n", argv[i]);
			ctl_usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		ctl_usage(stderr);
		return 2;
	}
	struct sbuf req = { 0 };
	for (int k = i; k < argc; k++)
		sbuf_printf(&req, "%s%s", k > i ? " " : "", argv[k]);
	char *path = pick_session(control);
	if (!path) {
		sbuf_free(&req);
		return 1;
	}
	struct sbuf reply = { 0 };
	int r = sv_request(path, sbuf_str(&req), &reply, timeout);
	int code;
	if (r < 0) {
		fprintf(stderr, "rewind ctl: %s: %s\n", path, r == -ECONNREFUSED || r == -ENOENT ?
			"no session listens there" : strerror(-r));
		code = 1;
	} else if (r == 0) {
		fprintf(stderr, "rewind ctl: %s\n", sbuf_str(&reply));
		code = 1;
	} else {
		printf("%s\n", sbuf_str(&reply));
		code = r == 2 ? 3 : 0;   /* 3: this process is a restored one */
	}
	free(path);
	sbuf_free(&req);
	sbuf_free(&reply);
	return code;
}
