/* rewind's command line: subcommands and their options. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "shell.h"
#include "subcmds.h"
#include "symbols.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rewind COMMAND [OPTIONS]\n"
		"\n"
		"  rewind shell [-ex CMD]... [-x FILE] [--batch] [--] PROG [ARGS...]\n"
		"  rewind shell [-ex CMD]... [--batch] --pid PID\n"
		"        the interactive debugger (gdb's commands, plus checkpoints and reverse\n"
		"        execution)\n");
	for (const struct subcmd *s = subcmds; s->name; s++)
		fprintf(f, "  %s\n        %s\n", s->usage, s->what);
	fprintf(f, "\n"
		"  rewind help | --help       this text; rewind COMMAND --help: that command's usage\n"
		"  rewind --version\n"
		"\n"
		"Environment: REWIND_LOG=core:debug,replay:info (module:level, or all:LEVEL)\n");
}

static int shell_main(int argc, char **argv)
{
	VEC(char *) cmds = { 0 };   /* "-ex" text or "\x01FILE" for -x */
	bool batch = false;
	pid_t pid = 0;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if ((!strcmp(a, "-ex") || !strcmp(a, "--ex") || !strcmp(a, "-eval-command")) && i + 1 < argc) {
			vec_push(&cmds, argv[++i]);
		} else if ((!strcmp(a, "-x") || !strcmp(a, "--command")) && i + 1 < argc) {
			vec_push(&cmds, xasprintf("\x01%s", argv[++i]));
		} else if (!strcmp(a, "--batch") || !strcmp(a, "-batch")) {
			batch = true;
		} else if ((!strcmp(a, "--pid") || !strcmp(a, "-p")) && i + 1 < argc) {
			pid = (pid_t)atoi(argv[++i]);
			if (pid <= 0) {
				fprintf(stderr, "rewind: invalid process id \"%s\"\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "--args")) {
			i++;
			break;
		} else if (!strcmp(a, "-q") || !strcmp(a, "-nx") || !strcmp(a, "--quiet") ||
			   !strcmp(a, "-nh")) {
			/* gdb compatibility */
		} else if (a[0] == '-') {
			fprintf(stderr, "rewind shell: unknown option \"%s\"\n", a);
			usage(stderr);
			return 2;
		} else {
			break;
		}
	}
	struct shell *sh = xcalloc(1, sizeof *sh);
	if (session_init(&sh->sess) < 0) {
		fprintf(stderr, "rewind: cannot initialise: %s\n", strerror(errno));
		return 1;
	}
	sh->batch = batch;
	sym_install(sh);
	sh_inf(sh)->notice_fn = sh_notice;
	sh_inf(sh)->notice_ctx = sh;
	if (i < argc) {
		if (access(argv[i], F_OK) < 0 && !strchr(argv[i], '/')) {
			/* Search PATH like a shell would, so `rewind shell ls` works. */
			char *path = getenv("PATH") ? xstrdup(getenv("PATH")) : xstrdup("/usr/bin:/bin");
			for (char *save, *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
				char *cand = xasprintf("%s/%s", d, argv[i]);
				if (access(cand, X_OK) == 0) {
					argv[i] = cand;
					break;
				}
				free(cand);
			}
			free(path);
		}
		if (access(argv[i], F_OK) < 0) {
			fprintf(stderr, "%s: No such file or directory.\n", argv[i]);
			sh->failed++;
		} else {
			inf_set_program(sh_inf(sh), argv + i);
			sym_program_changed(sh);
		}
	}
	if (pid) {
		char buf[32];
		snprintf(buf, sizeof buf, "attach %d", pid);
		sh_execute(sh, buf);
	}
	for (size_t k = 0; k < cmds.n && !sh->quit; k++) {
		if (cmds.v[k][0] == '\x01')
			sh_source(sh, cmds.v[k] + 1);
		else
			sh_execute(sh, cmds.v[k]);
	}
	if (!batch && !sh->quit)
		sh_repl(sh);
	int code = sh->exit_code;
	if (batch && sh->failed && !code)
		code = 1;
	struct inferior *inf = sh_inf(sh);
	if (inf_alive(inf)) {
		if (inf->main->attached)
			session_detach(&sh->sess);
		else
			session_kill(&sh->sess);
	}
	session_fini(&sh->sess);
	fflush(stdout);
	for (size_t k = 0; k < cmds.n; k++)
		if (cmds.v[k][0] == '\x01')
			free(cmds.v[k]);
	vec_free(&cmds);
	free(sh->last_line);
	free(sh->list_file);
	free(sh);
	return code;
}

int main(int argc, char **argv)
{
	log_init();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("rewind 0.1.0\n");
		return 0;
	}
	if (!strcmp(cmd, "shell"))
		return shell_main(argc - 1, argv + 1);
	for (const struct subcmd *s = subcmds; s->name; s++) {
		if (strcmp(cmd, s->name))
			continue;
		if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
			printf("usage: %s\n  %s\n", s->usage, s->what);
			return 0;
		}
		return s->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "rewind: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
