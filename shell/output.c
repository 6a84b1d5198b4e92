#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "shell.h"

void sh_out(struct shell *sh, const char *fmt, ...)
{
	(void)sh;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

int sh_error(struct shell *sh, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	sh->failed++;
	return -1;
}

void sh_flush_notices(struct shell *sh)
{
	char *n;
	while ((n = inf_take_notice(&sh->sess.inf))) {
		sh_out(sh, "%s\n", n);
		free(n);
	}
}

struct inferior *sh_inf(struct shell *sh)
{
	return &sh->sess.inf;
}

bool sh_need_process(struct shell *sh)
{
	if (inf_alive(sh_inf(sh)) && sh_inf(sh)->cur)
		return true;
	sh_error(sh, "The program is not being run.");
	return false;
}

void sh_notice(void *ctx, const char *msg)
{
	sh_out(ctx, "%s\n", msg);
	fflush(stdout);
}
