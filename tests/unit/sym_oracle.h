/* Real gdb as the oracle of the symbol-layer tests: run gdb in batch mode on a
 * fixture, collect what it prints, and split it into records. Included by the
 * test_{symtab,unwind,expr,format,sym_live}.c suites. */
#ifndef REWIND_TEST_SYM_ORACLE_H
#define REWIND_TEST_SYM_ORACLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

#ifndef PROGS_DIR
#define PROGS_DIR "tests/progs"
#endif

static inline char *oracle_prog(const char *name)
{
	return xasprintf("%s/%s", PROGS_DIR, name);
}

static inline void oracle_quote(struct sbuf *b, const char *s)
{
	sbuf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sbuf_puts(b, "'\\''");
		else
			sbuf_putc(b, *s);
	}
	sbuf_putc(b, '\'');
}

/* Run `gdb -nx -batch` on prog with the commands (NULL-terminated); returns what
 * gdb printed on stdout and stderr (malloc'd). */
static inline char *oracle_gdb(const char *prog, const char *const *cmds)
{
	struct sbuf cmd = { 0 };
	sbuf_puts(&cmd, "cd / && gdb -nx -batch -ex 'set width 0' -ex 'set height 0' "
	                "-ex 'set confirm off' -ex 'set debuginfod enabled off' ");
	for (size_t i = 0; cmds[i]; i++) {
		sbuf_puts(&cmd, "-ex ");
		oracle_quote(&cmd, cmds[i]);
		sbuf_putc(&cmd, ' ');
	}
	oracle_quote(&cmd, prog);
	sbuf_puts(&cmd, " 2>&1 </dev/null");
	FILE *f = popen(cmd.s, "r");
	struct sbuf out = { 0 };
	if (f) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			sbuf_append(&out, buf, n);
		pclose(f);
	}
	sbuf_free(&cmd);
	return sbuf_steal(&out) ?: xstrdup("");
}

/* Run a gdb Python script (text) on prog; returns the output. */
static inline char *oracle_gdb_py(const char *prog, const char *script)
{
	char path[] = "/tmp/rewind-oracle-XXXXXX.py";
	int fd = mkstemps(path, 3);
	if (fd < 0)
		return xstrdup("");
	size_t len = strlen(script);
	if (write(fd, script, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return xstrdup("");
	}
	close(fd);
	char *src = xasprintf("source %s", path);
	const char *cmds[] = { src, NULL };
	char *out = oracle_gdb(prog, cmds);
	unlink(path);
	free(src);
	return out;
}

/* The line starting with prefix (after `from`), copied without its newline and
 * without the prefix; NULL if none. *from advances past it. */
static inline char *oracle_line(const char **from, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (const char *p = *from; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= pl && !strncmp(p, prefix, pl)) {
			*from = nl ? nl + 1 : p + len;
			return xstrndup(p + pl, len - pl);
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The value gdb printed for `print`: the text after "$N = " on the line after
 * the marker line "@@<tag>" (print commands are separated by `echo @@tag\n`).
 * For errors, the error line itself. */
static inline char *oracle_after(const char *out, const char *tag)
{
	char *mark = xasprintf("@@%s\n", tag);
	const char *p = strstr(out, mark);
	free(mark);
	if (!p)
		return NULL;
	p = strchr(p, '\n') + 1;
	const char *end = strstr(p, "\n@@");
	size_t len = end ? (size_t)(end - p) : strlen(p);
	while (len && p[len - 1] == '\n')
		len--;
	if (p[0] == '$') {
		const char *eq = strstr(p, " = ");
		if (eq && eq < p + len) {
			len -= (size_t)(eq + 3 - p);
			p = eq + 3;
		}
	}
	return xstrndup(p, len);
}

#endif
