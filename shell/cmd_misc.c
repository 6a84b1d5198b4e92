/* help, quit, echo, source, file, threads, signals, inferiors. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "symbols.h"

static void help_table(struct shell *sh, const struct sh_cmd *tab, const char *prefix)
{
	for (const struct sh_cmd *c = tab; c->name; c++) {
		const char *nl = strchr(c->help, '\n');
		int n = nl ? (int)(nl - c->help) : (int)strlen(c->help);
		sh_out(sh, "%s%s%s -- %.*s\n", prefix ? prefix : "", prefix ? " " : "", c->name, n, c->help);
	}
}

int cmd_help(struct shell *sh, char *args)
{
	if (!args || !*args) {
		sh_out(sh, "rewind: a time-travel debugger. Commands (gdb's names where gdb has them):\n\n");
		help_table(sh, sh_commands, NULL);
		sh_out(sh, "\nType \"help\" followed by a command name for its full documentation.\n"
			   "Abbreviations are allowed if unambiguous.\n");
		return 0;
	}
	const struct sh_cmd *tab = sh_commands, *c = NULL;
	char *w;
	char path[128] = "";
	while ((w = sh_next_word(&args))) {
		bool amb;
		c = sh_lookup(tab, w, &amb);
		if (!c)
			return sh_error(sh, "Undefined command: \"%s\".  Try \"help\".", w);
		snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s", path[0] ? " " : "", c->name);
		if (!c->sub)
			break;
		tab = c->sub;
	}
	sh_out(sh, "%s\n", c->help);
	if (c->aliases)
		sh_out(sh, "Aliases: %s\n", c->aliases);
	if (c->sub) {
		sh_out(sh, "\nList of %s subcommands:\n\n", path);
		help_table(sh, c->sub, path);
	}
	return 0;
}

int cmd_quit(struct shell *sh, char *args)
{
	if (args && *args)
		sh->exit_code = atoi(args);
	sh->quit = true;
	return 0;
}

int cmd_echo(struct shell *sh, char *args)
{
	for (char *p = args; p && *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			sh_out(sh, "%c", *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
		} else {
			sh_out(sh, "%c", *p);
		}
	}
	return 0;
}

int cmd_source(struct shell *sh, char *args)
{
	if (!args || !*args)
		return sh_error(sh, "source command requires file name of file to source.");
	return sh_source(sh, args);
}

int cmd_file(struct shell *sh, char *args)
{
	if (!args || !*args)
		return sh_error(sh, "Argument required (executable file name).");
	if (access(args, X_OK) < 0)
		return sh_error(sh, "%s: No such file or directory.", args);
	char *argv[] = { args, NULL };
	inf_set_program(sh_inf(sh), argv);
	sym_program_changed(sh);
	sh_out(sh, "Reading symbols from %s...\n", args);
	return 0;
}

static void thread_name(pid_t pid, pid_t tid, char *buf, size_t n)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, tid);
	buf[0] = 0;
	if (read_file(path, &text, NULL) == 0) {
		snprintf(buf, n, "%s", str_trim(text));
		free(text);
	}
}

int cmd_info_threads(struct shell *sh, char *args)
{
	(void)args;
	struct inferior *inf = sh_inf(sh);
	if (!inf_alive(inf)) {
		sh_out(sh, "No threads.\n");
		return 0;
	}
	sh_out(sh, "  Id   Target Id                               Frame \n");
	for (struct task *t = inf->main->tasks; t; t = t->next) {
		if (t->state == TS_DEAD)
			continue;
		struct user_regs_struct *r;
		char target[96], name[32];
		thread_name(inf->main->pid, t->tid, name, sizeof name);
		if (t->state == TS_STOPPED && task_get_regs(t, &r) == 0)
			snprintf(target, sizeof target, "Thread 0x%llx (LWP %d) \"%s\"",
				 (unsigned long long)r->fs_base, t->tid, name);
		else
			snprintf(target, sizeof target, "LWP %d \"%s\"", t->tid, name);
		struct sbuf fr = { 0 };
		if (t->state == TS_STOPPED)
			sym_frame_line(sh, t, 0, true, &fr);
		else
			sbuf_puts(&fr, "(running)");
		sh_out(sh, "%c %-4u %-39s %s\n", t == inf->cur ? '*' : ' ', t->num, target, sbuf_str(&fr));
		sbuf_free(&fr);
	}
	return 0;
}

int cmd_thread(struct shell *sh, char *args)
{
	struct inferior *inf = sh_inf(sh);
	if (!inf_alive(inf))
		return sh_error(sh, "No thread selected.");
	if (!args || !*args) {
		struct user_regs_struct *r;
		if (task_get_regs(inf->cur, &r) == 0)
			sh_out(sh, "[Current thread is %u (Thread 0x%llx (LWP %d))]\n", inf->cur->num,
			       (unsigned long long)r->fs_base, inf->cur->tid);
		return 0;
	}
	char *end;
	unsigned long n = strtoul(args, &end, 10);
	if (*str_trim(end) || inf_select(inf, (unsigned)n) < 0)
		return sh_error(sh, "Invalid thread ID: %s", args);
	sh->frame = 0;
	sh->prev_thread = inf->cur->num;
	struct user_regs_struct *r;
	if (task_get_regs(inf->cur, &r) == 0)
		sh_out(sh, "[Switching to thread %u (Thread 0x%llx (LWP %d))]\n", inf->cur->num,
		       (unsigned long long)r->fs_base, inf->cur->tid);
	struct sbuf fr = { 0 };
	sym_frame_line(sh, inf->cur, 0, true, &fr);
	sh_out(sh, "#0  %s\n", sbuf_str(&fr));
	sbuf_free(&fr);
	struct sbuf src = { 0 };
	sym_source_line(sh, inf->cur, task_pc(inf->cur), &src);
	if (src.len)
		sh_out(sh, "%s\n", sbuf_str(&src));
	sbuf_free(&src);
	return 0;
}

static void print_sig_row(struct shell *sh, int s)
{
	struct sig_disp d = sh_inf(sh)->sigs[s];
	sh_out(sh, "%-14s%-8s%-8s%-16s%s\n", sig_name(s), d.stop ? "Yes" : "No", d.print ? "Yes" : "No",
	       d.pass ? "Yes" : "No", sig_desc(s));
}

static void sig_header(struct shell *sh)
{
	sh_out(sh, "Signal        Stop\tPrint\tPass to program\tDescription\n");
}

int cmd_handle(struct shell *sh, char *args)
{
	char *w = sh_next_word(&args);
	if (!w)
		return sh_error(sh, "Argument required (signal number and actions).");
	int sig = strcasecmp(w, "all") ? sig_from_name(w) : 0;
	if (sig < 0)
		return sh_error(sh, "Unrecognized or ambiguous flag word: \"%s\".", w);
	struct inferior *inf = sh_inf(sh);
	char *a;
	int lo = sig ? sig : 1, hi = sig ? sig : NSIG - 1;
	while ((a = sh_next_word(&args))) {
		for (int s = lo; s <= hi; s++) {
			struct sig_disp *d = &inf->sigs[s];
			if (!sig && (s == SIGTRAP || s == SIGINT))
				continue;
			if (!strcmp(a, "stop")) d->stop = d->print = true;
			else if (!strcmp(a, "nostop")) d->stop = false;
			else if (!strcmp(a, "print")) d->print = true;
			else if (!strcmp(a, "noprint")) d->print = d->stop = false;
			else if (!strcmp(a, "pass") || !strcmp(a, "noignore")) d->pass = true;
			else if (!strcmp(a, "nopass") || !strcmp(a, "ignore")) d->pass = false;
			else
				return sh_error(sh, "Unrecognized or ambiguous flag word: \"%s\".", a);
		}
	}
	sig_header(sh);
	if (sig)
		print_sig_row(sh, sig);
	return 0;
}

int cmd_info_signals(struct shell *sh, char *args)
{
	sig_header(sh);
	if (args && *args) {
		int s = sig_from_name(args);
		if (s < 0)
			return sh_error(sh, "Only signals 1-15 are valid as numeric signals.");
		print_sig_row(sh, s);
		return 0;
	}
	sh_out(sh, "\n");
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP)
			print_sig_row(sh, s);
	sh_out(sh, "\nUse the \"handle\" command to change these tables.\n");
	return 0;
}

int cmd_info_inferiors(struct shell *sh, char *args)
{
	(void)args;
	struct inferior *inf = sh_inf(sh);
	sh_out(sh, "  Num  Description       Connection           Executable        \n");
	sh_out(sh, "* 1    ");
	if (inf_alive(inf))
		sh_out(sh, "process %-9d native               ", inf->main->pid);
	else
		sh_out(sh, "<null>                                    ");
	sh_out(sh, "%s \n", inf->argv ? inf->argv[0] : "");
	for (struct proc *p = inf->tg.procs; p; p = p->next)
		if (!p->dead && !p->snapshot && p != inf->main)
			sh_out(sh, "  -    process %-9d (child, not followed)\n", p->pid);
	return 0;
}
