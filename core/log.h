/* log: leveled, per-module diagnostics on stderr.
 * REWIND_LOG="core:debug,replay:info" (or "all:debug") selects levels; the default
 * level is warn. Only this module writes diagnostics; callers never printf. */
#ifndef REWIND_LOG_H
#define REWIND_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };
enum log_module { LM_CORE, LM_SYM, LM_SNAP, LM_REPLAY, LM_GDB, LM_SHELL, LM_NEST, LM__COUNT };

extern int log_levels[LM__COUNT];

/* Parse REWIND_LOG once; safe to call repeatedly. */
void log_init(void);
void log_msg(enum log_module m, enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_on(m, l) (log_levels[(m)] >= (l))
#define LOG(m, l, ...) do { if (log_on(m, l)) log_msg(m, l, __VA_ARGS__); } while (0)
#define pr_err(m, ...)   LOG(m, LOG_ERROR, __VA_ARGS__)
#define pr_warn(m, ...)  LOG(m, LOG_WARN, __VA_ARGS__)
#define pr_info(m, ...)  LOG(m, LOG_INFO, __VA_ARGS__)
#define pr_debug(m, ...) LOG(m, LOG_DEBUG, __VA_ARGS__)
#define pr_trace(m, ...) LOG(m, LOG_TRACE, __VA_ARGS__)

#endif
