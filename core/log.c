#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int log_levels[LM__COUNT] = { LOG_WARN, LOG_WARN, LOG_WARN, LOG_WARN, LOG_WARN, LOG_WARN, LOG_WARN };

static const char *const mod_names[LM__COUNT] = {
	"core", "sym", "snap", "replay", "gdb", "shell", "nest",
};
static const char *const lvl_names[] = { "error", "warn", "info", "debug", "trace" };

static int parse_level(const char *s, size_t n)
{
	for (int i = 0; i < 5; i++)
		if (strlen(lvl_names[i]) == n && !strncasecmp(s, lvl_names[i], n))
			return i;
	return -1;
}

/* Where messages go: stderr, or REWIND_LOG_FILE (appended, private to the user) for
 * sessions whose stderr belongs to the program (rewind run, gdbserver --stdio). */
static int log_fd = STDERR_FILENO;

void log_init(void)
{
	static int done;
	const char *env = getenv("REWIND_LOG");
	if (done || !env)
		return;
	done = 1;
	const char *file = getenv("REWIND_LOG_FILE");
	if (file && *file) {
		int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0)
			log_fd = fd;
	}
	for (const char *p = env; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (colon) {
			int lvl = parse_level(colon + 1, len - (size_t)(colon + 1 - p));
			size_t mlen = (size_t)(colon - p);
			for (int m = 0; m < LM__COUNT && lvl >= 0; m++)
				if ((mlen == 3 && !strncmp(p, "all", 3)) ||
				    (strlen(mod_names[m]) == mlen && !strncmp(p, mod_names[m], mlen)))
					log_levels[m] = lvl;
		} else {
			int lvl = parse_level(p, len);
			for (int m = 0; m < LM__COUNT && lvl >= 0; m++)
				log_levels[m] = lvl;
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

void log_msg(enum log_module m, enum log_level l, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int n = snprintf(buf, sizeof buf, "[%5ld.%06ld %s:%s] ", (long)ts.tv_sec % 100000,
			 ts.tv_nsec / 1000, mod_names[m], lvl_names[l]);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof buf)
		n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf - 1)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	ssize_t r = write(log_fd, buf, (size_t)n);
	(void)r;
}
