/* The command loop: readline with history and completion when reading a terminal,
 * plain lines otherwise; command lookup with gdb's abbreviation rules. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "shell.h"
#include "symbols.h"

char *sh_next_word(char **args)
{
	char *p = *args;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		*args = p;
		return NULL;
	}
	char *w = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = 0;
	while (isspace((unsigned char)*p))
		p++;
	*args = p;
	return w;
}

static bool alias_match(const char *aliases, const char *word)
{
	if (!aliases)
		return false;
	size_t n = strlen(word);
	for (const char *a = aliases; *a;) {
		const char *e = strchr(a, ' ');
		size_t len = e ? (size_t)(e - a) : strlen(a);
		if (len == n && !strncmp(a, word, n))
			return true;
		if (!e)
			break;
		a = e + 1;
	}
	return false;
}

const struct sh_cmd *sh_lookup(const struct sh_cmd *tab, const char *word, bool *ambiguous)
{
	const struct sh_cmd *found = NULL;
	size_t n = strlen(word);
	*ambiguous = false;
	for (const struct sh_cmd *c = tab; c->name; c++)
		if (!strcmp(c->name, word) || alias_match(c->aliases, word))
			return c;
	for (const struct sh_cmd *c = tab; c->name; c++) {
		if (strncmp(c->name, word, n))
			continue;
		if (found) {
			*ambiguous = true;
			return NULL;
		}
		found = c;
	}
	return found;
}

static int run_in_table(struct shell *sh, const struct sh_cmd *tab, const char *prefix, char *rest)
{
	char *save = rest;
	char *word = sh_next_word(&rest);
	if (!word) {
		if (prefix)
			return sh_error(sh, "\"%s\" must be followed by the name of a subcommand.", prefix);
		return 0;
	}
	/* gdb allows "x/4x" and "p/x" with no space before the slash. */
	char *slash = strchr(word, '/');
	char fmtbuf[64] = "";
	if (slash && slash != word) {
		snprintf(fmtbuf, sizeof fmtbuf, "%s", slash);
		*slash = 0;
	}
	bool amb;
	const struct sh_cmd *c = sh_lookup(tab, word, &amb);
	if (!c) {
		if (amb)
			return sh_error(sh, "Ambiguous %scommand \"%s\".", prefix ? "" : "", word);
		if (prefix)
			return sh_error(sh, "Undefined %s command: \"%s\".  Try \"help %s\".", prefix, word,
					prefix);
		return sh_error(sh, "Undefined command: \"%s\".  Try \"help\".", word);
	}
	if (c->sub && !c->fn)
		return run_in_table(sh, c->sub, c->name, rest);
	if (c->sub && *rest) {
		/* A prefix command that also takes arguments (set var / set x = 1). */
		char *copy = xstrdup(rest);
		char *r2 = copy;
		char *w2 = sh_next_word(&r2);
		bool amb2;
		const struct sh_cmd *s2 = w2 ? sh_lookup(c->sub, w2, &amb2) : NULL;
		free(copy);
		if (s2)
			return run_in_table(sh, c->sub, c->name, rest);
	}
	(void)save;
	if (fmtbuf[0]) {
		/* Re-attach the /FMT to the arguments. */
		char *args = xasprintf("%s %s", fmtbuf, rest);
		int r = c->fn(sh, args);
		free(args);
		return r;
	}
	return c->fn(sh, rest);
}

static const struct sh_cmd *top_command(const char *line)
{
	char buf[64];
	size_t i = 0;
	while (*line && isspace((unsigned char)*line))
		line++;
	while (line[i] && !isspace((unsigned char)line[i]) && line[i] != '/' && i < sizeof buf - 1) {
		buf[i] = line[i];
		i++;
	}
	buf[i] = 0;
	bool amb;
	return i ? sh_lookup(sh_commands, buf, &amb) : NULL;
}

int sh_execute(struct shell *sh, const char *line)
{
	char *copy = xstrdup(line);
	char *l = str_trim(copy);
	int r = 0;
	if (!*l) {
		if (!sh->batch && sh->last_line) {
			const struct sh_cmd *c = top_command(sh->last_line);
			if (c && c->repeat) {
				free(copy);
				char *again = xstrdup(sh->last_line);
				r = sh_execute(sh, again);
				free(again);
				return r;
			}
		}
		free(copy);
		return 0;
	}
	if (l[0] == '#') {
		free(copy);
		return 0;
	}
	free(sh->last_line);
	sh->last_line = xstrdup(l);
	int before = sh->failed;
	r = run_in_table(sh, sh_commands, NULL, l);
	sh_flush_notices(sh);
	fflush(stdout);
	free(copy);
	if (r < 0 && sh->failed == before)
		sh->failed++;
	return r;
}

int sh_source(struct shell *sh, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return sh_error(sh, "%s: %s.", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	int err = 0;
	while (!sh->quit && getline(&line, &cap, f) > 0) {
		if (sh_execute(sh, line) < 0)
			err = -1;
	}
	free(line);
	fclose(f);
	return err;
}

/* ---- readline completion ---- */

static struct shell *comp_sh;

static char *command_gen(const char *text, int state)
{
	static const struct sh_cmd *c;
	static size_t len;
	if (!state) {
		c = sh_commands;
		len = strlen(text);
	}
	for (; c && c->name; c++)
		if (!strncmp(c->name, text, len))
			return strdup((c++)->name);
	return NULL;
}

/* Subcommands of the prefix command being completed (info, set, show). */
static const struct sh_cmd *comp_sub;

static char *sub_gen(const char *text, int state)
{
	static const struct sh_cmd *c;
	static size_t len;
	if (!state) {
		c = comp_sub;
		len = strlen(text);
	}
	for (; c && c->name; c++)
		if (!strncmp(c->name, text, len))
			return strdup((c++)->name);
	return NULL;
}

static char *symbol_gen(const char *text, int state)
{
	return sym_complete(comp_sh, text, state);
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	if (start == 0)
		return rl_completion_matches(text, command_gen);
	char first[32] = "";
	sscanf(rl_line_buffer, "%31s", first);
	/* The word right after a prefix command: its subcommands. */
	bool amb;
	const struct sh_cmd *pc = first[0] ? sh_lookup(sh_commands, first, &amb) : NULL;
	if (pc && pc->sub) {
		int words = 0;
		for (int i = 0; i < start; i++)
			if (rl_line_buffer[i] != ' ' && (i == 0 || rl_line_buffer[i - 1] == ' '))
				words++;
		if (words == 1) {
			comp_sub = pc->sub;
			return rl_completion_matches(text, sub_gen);
		}
	}
	static const char *const symcmds[] = { "break", "tbreak", "hbreak", "print", "output", "list",
					       "until", "advance", "watch", "rwatch", "awatch", "ptype",
					       "whatis", "display", "x", "call", "disassemble", "clear",
					       "last", "bisect", NULL };
	for (int i = 0; pc && symcmds[i]; i++)
		if (!strcmp(pc->name, symcmds[i]))
			return rl_completion_matches(text, symbol_gen);
	return NULL;
}

static volatile sig_atomic_t got_sigint;
static void on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
}

static char *history_path(void)
{
	const char *home = getenv("HOME");
	return home ? xasprintf("%s/.rewind_history", home) : NULL;
}

int sh_repl(struct shell *sh)
{
	sh->interactive = isatty(STDIN_FILENO);
	struct sigaction sa = { .sa_handler = on_sigint };
	sigaction(SIGINT, &sa, NULL);
	char *hist = NULL;
	if (sh->interactive) {
		comp_sh = sh;
		rl_readline_name = "rewind";
		rl_attempted_completion_function = complete;
		hist = history_path();
		using_history();
		if (hist)
			read_history(hist);
	}
	while (!sh->quit) {
		char *line;
		if (sh->interactive) {
			line = readline("(rewind) ");
			if (!line) {
				sh_out(sh, "quit\n");
				break;
			}
			if (*line) {
				HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1) : NULL;
				if (!last || strcmp(last->line, line))
					add_history(line);
			}
		} else {
			size_t cap = 0;
			line = NULL;
			if (getline(&line, &cap, stdin) < 0) {
				free(line);
				break;
			}
		}
		got_sigint = 0;
		sh_execute(sh, line);
		free(line);
	}
	if (hist) {
		stifle_history(1000);
		write_history(hist);
		free(hist);
	}
	return 0;
}
