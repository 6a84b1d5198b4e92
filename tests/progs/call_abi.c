/* Debuggee for inferior function calls (tests/unit/test_infcall.c): stops in
 * cf_stop_here(), where rewind calls the functions of call_abi.h and the ones
 * below, then runs to its end and prints what the calls changed. Built twice:
 * call_abi (dynamic, the agent preloaded) and call_static (-static, direct calls). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "call_abi.h"

int cf_counter;
char cf_buf[256];
const char cf_hello[] = "hello";
const char cf_fmt[] = "<%d|%.2f|%s|%c>";
const char cf_printf_fmt[] = "printf says %d %.3f %s\n";
const char cf_kinds[] = "idcsSl";
const char cf_kinds_ld[] = "dLi";
int (*cf_printf_ptr)(const char *, ...) = printf;
int cf_usr1_code, cf_usr1_value;

static pthread_t worker;
static int worker_started, worker_value;

CF void cf_bump(int by) { cf_counter += by; }
CF int cf_crash(int *p) { return *p; }
CF int cf_bp_inside(int x) { return x * 2; }
CF int cf_exit_now(int code) { exit(code); }
CF int cf_raise_self(void) { raise(SIGUSR2); return 1; }
CF int cf_sleepy(void) { return (int)sleep(100); }

static void *work(void *arg)
{
	(void)arg;
	worker_value = 99;
	return NULL;
}

/* Creates a thread and returns at once: the thread stays stopped until the
 * program is resumed, then it runs; main joins it. */
CF int cf_start_worker(void)
{
	int e = pthread_create(&worker, NULL, work, NULL);
	worker_started = e == 0;
	return e;
}

/* Forks a child that exits with 7 and waits for it: the child must be let run. */
CF int cf_run_child(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
}

CF void cf_stop_here(void)
{
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	cf_usr1_code = si->si_code;
	cf_usr1_value = si->si_value.sival_int;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		/* Stop at a queued signal with a value; the handler must get it intact. */
		struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
		sigaction(SIGUSR1, &sa, NULL);
		sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 1234 });
		printf("usr1 code=%d value=%d\n", cf_usr1_code, cf_usr1_value);
	}
	cf_stop_here();
	int twice = cf_bp_inside(21);
	if (worker_started)
		pthread_join(worker, NULL);
	printf("counter=%d twice=%d worker=%d buf=%s\n", cf_counter, twice, worker_value, cf_buf);
	return 0;
}
