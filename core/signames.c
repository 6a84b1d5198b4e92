/* Signal names and descriptions, worded as gdb words them. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "inferior.h"

static const struct { int sig; const char *name, *desc; } sigtab[] = {
	{ SIGHUP, "SIGHUP", "Hangup" },
	{ SIGINT, "SIGINT", "Interrupt" },
	{ SIGQUIT, "SIGQUIT", "Quit" },
	{ SIGILL, "SIGILL", "Illegal instruction" },
	{ SIGTRAP, "SIGTRAP", "Trace/breakpoint trap" },
	{ SIGABRT, "SIGABRT", "Aborted" },
	{ SIGBUS, "SIGBUS", "Bus error" },
	{ SIGFPE, "SIGFPE", "Arithmetic exception" },
	{ SIGKILL, "SIGKILL", "Killed" },
	{ SIGUSR1, "SIGUSR1", "User defined signal 1" },
	{ SIGSEGV, "SIGSEGV", "Segmentation fault" },
	{ SIGUSR2, "SIGUSR2", "User defined signal 2" },
	{ SIGPIPE, "SIGPIPE", "Broken pipe" },
	{ SIGALRM, "SIGALRM", "Alarm clock" },
	{ SIGTERM, "SIGTERM", "Terminated" },
	{ SIGSTKFLT, "SIGSTKFLT", "Stack fault" },
	{ SIGCHLD, "SIGCHLD", "Child status changed" },
	{ SIGCONT, "SIGCONT", "Continued" },
	{ SIGSTOP, "SIGSTOP", "Stopped (signal)" },
	{ SIGTSTP, "SIGTSTP", "Stopped (user)" },
	{ SIGTTIN, "SIGTTIN", "Stopped (tty input)" },
	{ SIGTTOU, "SIGTTOU", "Stopped (tty output)" },
	{ SIGURG, "SIGURG", "Urgent I/O condition" },
	{ SIGXCPU, "SIGXCPU", "CPU time limit exceeded" },
	{ SIGXFSZ, "SIGXFSZ", "File size limit exceeded" },
	{ SIGVTALRM, "SIGVTALRM", "Virtual timer expired" },
	{ SIGPROF, "SIGPROF", "Profiling timer expired" },
	{ SIGWINCH, "SIGWINCH", "Window size changed" },
	{ SIGIO, "SIGIO", "I/O possible" },
	{ SIGPWR, "SIGPWR", "Power fail/restart" },
	{ SIGSYS, "SIGSYS", "Bad system call" },
};

const char *sig_name(int sig)
{
	static char buf[16];
	for (size_t i = 0; i < sizeof sigtab / sizeof sigtab[0]; i++)
		if (sigtab[i].sig == sig)
			return sigtab[i].name;
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		snprintf(buf, sizeof buf, "SIG%d", sig);
		return buf;
	}
	snprintf(buf, sizeof buf, "SIG%d", sig);
	return buf;
}

const char *sig_desc(int sig)
{
	static char buf[48];
	for (size_t i = 0; i < sizeof sigtab / sizeof sigtab[0]; i++)
		if (sigtab[i].sig == sig)
			return sigtab[i].desc;
	snprintf(buf, sizeof buf, "Real-time event %d", sig);
	return buf;
}

int sig_from_name(const char *name)
{
	char *end;
	long n = strtol(name, &end, 10);
	if (*name && !*end)
		return n > 0 && n < NSIG ? (int)n : -1;
	const char *s = strncasecmp(name, "SIG", 3) ? name : name + 3;
	for (size_t i = 0; i < sizeof sigtab / sizeof sigtab[0]; i++)
		if (!strcasecmp(sigtab[i].name + 3, s))
			return sigtab[i].sig;
	if (!strncasecmp(s, "RTMIN", 5))
		return SIGRTMIN + atoi(s + 5);
	n = strtol(s, &end, 10);
	if (*s && !*end && n > 0 && n < NSIG)
		return (int)n;
	return -1;
}
