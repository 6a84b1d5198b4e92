/* set / show: program arguments, environment, and rewind's settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "symbols.h"

struct setting {
	const char *name;
	bool *flag;          /* on/off settings */
	const char *doc;
};

static bool confirm_off, pagination_off = true, pending_on;

static bool parse_bool(const char *v, bool *out)
{
	if (!v || !*v || !strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "enable")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "disable")) {
		*out = false;
		return true;
	}
	return false;
}

bool sym_pending_allowed(struct shell *sh)
{
	(void)sh;
	return pending_on;
}

/* Replace the program's arguments: shell-like word splitting, no globbing. */
int sh_set_args(struct shell *sh, char *args)
{
	struct inferior *inf = sh_inf(sh);
	VEC(char *) v = { 0 };
	vec_push(&v, xstrdup(inf->argv && inf->argv[0] ? inf->argv[0] : ""));
	char *w;
	while ((w = sh_next_word(&args)))
		vec_push(&v, xstrdup(w));
	vec_push(&v, NULL);
	inf_set_program(inf, v.v);
	for (size_t i = 0; i < v.n; i++)
		free(v.v[i]);
	vec_free(&v);
	return 0;
}

static int set_env(struct shell *sh, char *args)
{
	char *eq = strchr(args, '=');
	char *name = args, *val = (char *)"";
	if (eq) {
		*eq = 0;
		val = str_trim(eq + 1);
	} else {
		char *sp = strchr(args, ' ');
		if (sp) {
			*sp = 0;
			val = str_trim(sp + 1);
		}
	}
	name = str_trim(name);
	if (!*name)
		return sh_error(sh, "Argument required (environment variable and value).");
	/* The environment for future runs: rewind's own, which the child inherits. */
	setenv(name, val, 1);
	return 0;
}

static int unset_env(struct shell *sh, char *args)
{
	(void)sh;
	if (args && *args)
		unsetenv(str_trim(args));
	return 0;
}

static int set_cwd(struct shell *sh, char *args)
{
	struct inferior *inf = sh_inf(sh);
	free(inf->cwd);
	inf->cwd = args && *args ? xstrdup(args) : NULL;
	return 0;
}

static int set_bool(struct shell *sh, char *args, bool *flag, const char *name)
{
	bool v;
	if (!parse_bool(args, &v))
		return sh_error(sh, "\"on\" or \"off\" expected for %s.", name);
	*flag = v;
	return 0;
}

static int set_confirm(struct shell *sh, char *a) { bool on; int r = set_bool(sh, a, &on, "confirm"); confirm_off = !on; return r; }
static int set_pagination(struct shell *sh, char *a) { bool on; int r = set_bool(sh, a, &on, "pagination"); pagination_off = !on; return r; }
static int set_ignored(struct shell *sh, char *a) { (void)sh; (void)a; return 0; }

static int set_breakpoint(struct shell *sh, char *args)
{
	char *w = sh_next_word(&args);
	if (!w || strcmp(w, "pending"))
		return sh_error(sh, "Undefined set breakpoint command: \"%s\".", w ? w : "");
	if (!strcmp(args, "auto"))
		args = (char *)"off";
	return set_bool(sh, args, &pending_on, "breakpoint pending");
}

static int set_disable_randomization(struct shell *sh, char *args)
{
	bool on;
	if (set_bool(sh, args, &on, "disable-randomization") < 0)
		return -1;
	sh_inf(sh)->keep_aslr = !on;
	return 0;
}

static int set_follow_fork(struct shell *sh, char *args)
{
	if (!strcmp(args, "parent"))
		sh_inf(sh)->follow_child = false;
	else if (!strcmp(args, "child"))
		return sh_error(sh, "follow-fork-mode child is not supported: rewind follows the parent and keeps children under supervision.");
	else
		return sh_error(sh, "Requires an argument. Valid arguments are child, parent.");
	return 0;
}

static int set_agent(struct shell *sh, char *args)
{
	bool on;
	if (set_bool(sh, args, &on, "agent") < 0)
		return -1;
	sh_inf(sh)->no_agent = !on;
	return 0;
}

static int set_listsize(struct shell *sh, char *args) { (void)sh; (void)args; return 0; }

const struct sh_cmd sh_set_cmds[] = {
	{ "args", NULL, sh_set_args, "Set argument list to give program being debugged when it is started." },
	{ "environment", "env", set_env, "Set environment variable value to give the program.\nset environment VAR VALUE, or VAR=VALUE." },
	{ "cwd", NULL, set_cwd, "Set the current working directory to be used when the inferior is started." },
	{ "variable", "var", cmd_set_var, "Evaluate expression EXP and assign result to variable VAR." },
	{ "breakpoint", NULL, set_breakpoint, "set breakpoint pending on|off: whether unknown locations make pending breakpoints." },
	{ "confirm", NULL, set_confirm, "Set whether to confirm potentially dangerous operations (rewind never asks in batch mode)." },
	{ "pagination", NULL, set_pagination, "Set state of GDB output pagination (rewind does not paginate)." },
	{ "height", NULL, set_ignored, "Accepted for gdb compatibility; rewind does not paginate." },
	{ "width", NULL, set_ignored, "Accepted for gdb compatibility." },
	{ "listsize", NULL, set_listsize, "Accepted for gdb compatibility; list shows 10 lines." },
	{ "print", NULL, set_ignored, "Accepted for gdb compatibility." },
	{ "disable-randomization", NULL, set_disable_randomization, "Set disabling of debuggee's virtual address space randomization (on by default)." },
	{ "follow-fork-mode", NULL, set_follow_fork, "Set debugger response to a program call of fork or vfork (parent)." },
	{ "unset", NULL, unset_env, "unset environment VAR." },
	{ "agent", NULL, set_agent, "set agent on|off: preload rewind's agent library into the program (on by default).\nIt makes inferior calls with structs, floats and varargs follow the ABI exactly." },
	{ "auto-checkpoint", NULL, set_auto_checkpoint, "set auto-checkpoint on|off: a checkpoint at every stop (on by default)." },
	{ "checkpoint-memory", NULL, set_checkpoint_memory, "set checkpoint-memory SIZE|unlimited: memory budget for checkpoints (1G by default).\nOver it, old automatic checkpoints are compacted (set checkpoint-compact), then\nthinned, oldest and densest first; named ones are kept. Checked every 8 automatic\ncheckpoints (without walking page tables while an estimate says it holds)." },
	{ "record", NULL, set_record, "set record on|off: record the program's inputs so that restoring a checkpoint\nreplays them (on by default; off takes effect now and for the next run)." },
	{ "checkpoint-compact", NULL, set_checkpoint_compact, "set checkpoint-compact off|auto|always: keep automatic checkpoints as the pages in which\nthey differ from the next one instead of as processes (whose page tables cost\n2 MiB per GiB mapped). auto (default): when over the checkpoint-memory budget,\nwhere it frees memory, before any is dropped; always: each one as soon as the next\nis taken. Needs CAP_SYS_ADMIN (page frame numbers); restoring a compacted\ncheckpoint writes its pages back." },
	{ "checkpoint-files", NULL, set_checkpoint_files, "set checkpoint-files on|off: also save the contents of files open for writing." },
	{ NULL, NULL, NULL, NULL },
};

int cmd_set(struct shell *sh, char *args)
{
	/* "set x = 3": gdb evaluates an assignment when no subcommand matches. */
	return cmd_set_var(sh, args);
}

static int show_args(struct shell *sh, char *args)
{
	(void)args;
	struct inferior *inf = sh_inf(sh);
	sh_out(sh, "Argument list to give program being debugged when it is started is \"");
	for (int i = 1; inf->argv && inf->argv[i]; i++)
		sh_out(sh, "%s%s", i > 1 ? " " : "", inf->argv[i]);
	sh_out(sh, "\".\n");
	return 0;
}

static int show_version(struct shell *sh, char *args)
{
	(void)args;
	sh_out(sh, "rewind 0.1.0 -- a time-travel debugger for Linux x86-64\n");
	return 0;
}

static int show_env(struct shell *sh, char *args)
{
	if (args && *args) {
		const char *v = getenv(args);
		if (v)
			sh_out(sh, "%s = %s\n", args, v);
		else
			sh_out(sh, "Environment variable \"%s\" not defined.\n", args);
		return 0;
	}
	extern char **environ;
	for (char **e = environ; *e; e++)
		sh_out(sh, "%s\n", *e);
	return 0;
}

const struct sh_cmd sh_show_cmds[] = {
	{ "args", NULL, show_args, "Show argument list to give program being debugged when it is started." },
	{ "version", NULL, show_version, "Show what version of rewind this is." },
	{ "environment", "env", show_env, "The environment to give the program." },
	{ NULL, NULL, NULL, NULL },
};

int cmd_show(struct shell *sh, char *args)
{
	(void)args;
	return sh_error(sh, "\"show\" must be followed by the name of a show command.");
}
