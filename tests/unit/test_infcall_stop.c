/* Inferior function calls that do not simply return, and what they leave behind:
 * a fault, a user breakpoint, Ctrl-C, exit() in the called code; threads and
 * processes the called code creates; a pending signal with its siginfo kept across
 * a call; every register (AVX-512, x87, MXCSR, DF) restored, checked by the
 * debuggee itself (call_regs); the agent invisible to the program. */
#include "infcall_harness.h"

#include <dirent.h>

#define ABI_END "counter=0 twice=42 worker=0 buf=\n"

static void expect_abandoned(const char *text, const char *fn)
{
	char *tail = xasprintf("Evaluation of the expression containing the function\n(%s) will be "
			       "abandoned.", fn);
	cr_assert(strstr(text, "rewind has restored the context to what it was before the call."),
		  "%s", text);
	cr_assert(strstr(text, tail), "%s", text);
	free(tail);
}

static void crash_both_ways(void)
{
	const struct infcall_arg a[] = { A(infcall_ptr, uint64_t, 0) };
	for (unsigned flags = 0; flags <= INFCALL_DIRECT; flags += INFCALL_DIRECT) {
		struct infcall_outcome out;
		struct sbuf err = { 0 };
		cr_assert_eq(call_fail("cf_crash", &infcall_s32, flags, a, 1, &out, &err), -ECANCELED);
		cr_assert_eq(out.end, ICE_SIGNAL);
		cr_assert_eq(out.sig, SIGSEGV);
		cr_assert_null(out.si.si_addr);
		cr_assert(out.pc >= sym("cf_crash") && out.pc < sym("cf_crash") + 64, "pc %#llx",
			  (unsigned long long)out.pc);
		cr_assert(strstr(sbuf_str(&err), "Program received signal SIGSEGV, Segmentation fault.\n"
				 "The program being debugged was signaled while in a function called "
				 "from rewind."), "%s", err.s);
		expect_abandoned(err.s, "cf_crash");
		cr_assert_eq(inf.cur->pending_sig, 0, "the fault is not passed to the program");
		sbuf_free(&err);
	}
}

Test(infcall_stop, signal_in_called_code, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	struct thread_state before;
	grab(inf.cur, &before);
	crash_both_ways();
	/* A signal the called code sends itself stops the call and is not kept. */
	struct infcall_outcome out;
	struct sbuf err = { 0 };
	cr_assert_eq(call_fail("cf_raise_self", &infcall_s32, 0, NULL, 0, &out, &err), -ECANCELED);
	cr_assert_eq(out.sig, SIGUSR2);
	cr_assert_eq(inf.cur->pending_sig, 0);
	same_state(inf.cur, &before);
	free(before.xs);
	sbuf_free(&err);
	finish(ABI_END);
}

Test(infcall_stop, static_program_fault, .fini = teardown)
{
	start("call_static", false, NULL);
	stop_at("cf_stop_here");
	struct thread_state before;
	grab(inf.cur, &before);
	crash_both_ways();
	same_state(inf.cur, &before);
	free(before.xs);
	finish(ABI_END);
}

Test(infcall_stop, breakpoint_in_called_code, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	struct thread_state before;
	grab(inf.cur, &before);
	char spec[64];
	uint64_t at = sym("cf_bp_inside");
	snprintf(spec, sizeof spec, "*0x%llx", (unsigned long long)at);
	struct breakpoint *b;
	struct sbuf err = { 0 };
	cr_assert_eq(inf_break(&inf, BPK_BREAK, spec, NULL, false, 0, &b, &err), 0);
	/* Ignored once: the call steps over it and returns. */
	b->ignore_count = 1;
	int r;
	CALL(cf_bp_inside, &infcall_s32, 0, &r, A(infcall_s32, int, 5));
	cr_assert_eq(r, 10);
	cr_assert_eq(b->hits, 1);
	/* Now it stops the call, through the agent and directly. */
	for (unsigned flags = 0; flags <= INFCALL_DIRECT; flags += INFCALL_DIRECT) {
		struct infcall_outcome out;
		const struct infcall_arg a[] = { A(infcall_s32, int, 6) };
		sbuf_reset(&err);
		cr_assert_eq(call_fail("cf_bp_inside", &infcall_s32, flags, a, 1, &out, &err), -ECANCELED);
		cr_assert_eq(out.end, ICE_BREAKPOINT);
		cr_assert_eq(out.bp_id, b->id);
		cr_assert_eq(out.pc, at);
		char *head = xasprintf("Breakpoint %d, 0x%016llx in the called code.\nThe program being "
				       "debugged stopped while in a function called from rewind.", b->id,
				       (unsigned long long)at);
		cr_assert(strstr(sbuf_str(&err), head), "%s", err.s);
		expect_abandoned(err.s, "cf_bp_inside");
		free(head);
	}
	cr_assert_eq(b->hits, 3);
	same_state(inf.cur, &before);
	free(before.xs);
	/* The program's own call still stops there. */
	struct stop st;
	cr_assert_eq(inf_continue(&inf, -1, &st), 0);
	cr_assert_eq(st.reason, SR_BREAKPOINT);
	cr_assert_eq(st.bp_id, b->id);
	cr_assert_eq(st.pc, at);
	sbuf_free(&err);
	finish(ABI_END);
}

Test(infcall_stop, exit_in_called_code, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	struct infcall_outcome out;
	struct sbuf err = { 0 };
	const struct infcall_arg a[] = { A(infcall_s32, int, 3) };
	cr_assert_eq(call_fail("cf_exit_now", &infcall_s32, 0, a, 1, &out, &err), -ESRCH);
	cr_assert_eq(out.end, ICE_EXITED);
	cr_assert(inf.main->dead);
	cr_assert(WIFEXITED(out.status) && WEXITSTATUS(out.status) == 3, "status %#x", out.status);
	cr_assert(strstr(sbuf_str(&err), "The program being debugged exited while in a function "
			 "called from rewind.\nEvaluation of the expression containing the function\n"
			 "(cf_exit_now) will be abandoned."), "%s", err.s);
	sbuf_free(&err);
}

static void *interrupt_later(void *arg)
{
	usleep(300 * 1000);
	inf_interrupt(arg);
	return NULL;
}

Test(infcall_stop, interrupted_call, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	struct thread_state before;
	grab(inf.cur, &before);
	pthread_t th;
	pthread_create(&th, NULL, interrupt_later, &inf);
	struct infcall_outcome out;
	struct sbuf err = { 0 };
	cr_assert_eq(call_fail("cf_sleepy", &infcall_s32, 0, NULL, 0, &out, &err), -ECANCELED);
	pthread_join(th, NULL);
	cr_assert_eq(out.end, ICE_INTERRUPTED);
	cr_assert(strstr(sbuf_str(&err), "was interrupted while in a function called from rewind"),
		  "%s", err.s);
	expect_abandoned(err.s, "cf_sleepy");
	same_state(inf.cur, &before);
	free(before.xs);
	sbuf_free(&err);
	finish(ABI_END);
}

Test(infcall_stop, threads_and_children, .fini = teardown)
{
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	struct thread_state before;
	grab(inf.cur, &before);
	int r;
	/* fork + waitpid inside the call: the child must run while the caller waits. */
	CALL(cf_run_child, &infcall_s32, 0, &r);
	cr_assert_eq(r, 7);
	CALL(cf_run_child, &infcall_s32, INFCALL_DIRECT, &r);
	cr_assert_eq(r, 7);
	/* A thread created by the call stays stopped, then runs with the program. */
	CALL(cf_start_worker, &infcall_s32, 0, &r);
	cr_assert_eq(r, 0);
	cr_assert_eq(proc_live_tasks(inf.main), 2);
	cr_assert(!target_any_running(&inf.tg), "all-stop after the call");
	struct task *worker = NULL;
	for (struct task *k = inf.main->tasks; k; k = k->next)
		if (k != inf.cur && k->state == TS_STOPPED)
			worker = k;
	cr_assert_not_null(worker);
	/* Calls in either thread; the other one never runs meanwhile. */
	CALL(cf_add_ints, &infcall_s32, 0, &r, A(infcall_s32, int, 1), A(infcall_s32, int, 2));
	cr_assert_eq(r, 3);
	struct infcall_fn fn = { .addr = sym("cf_add_ints"), .ret = &infcall_s32 };
	const struct infcall_arg a2[] = { A(infcall_s32, int, 20), A(infcall_s32, int, 22) };
	for (unsigned flags = 0; flags <= INFCALL_DIRECT; flags += INFCALL_DIRECT) {
		fn.flags = flags;
		struct sbuf err = { 0 };
		r = 0;
		cr_assert_eq(infcall_run(&inf, worker, &fn, a2, 2, (uint8_t *)&r, sizeof r, NULL, &err), 0,
			     "%s", sbuf_str(&err));
		cr_assert_eq(r, 42);
		sbuf_free(&err);
	}
	int wv = -1;
	cr_assert_eq(proc_read(inf.main, RADDR(sym("worker_value")), &wv, sizeof wv), 0);
	cr_assert_eq(wv, 0, "the new thread ran during a call");
	bool noticed = false;
	for (char *n; (n = inf_take_notice(&inf)); free(n))
		noticed |= strstr(n, "[New LWP") != NULL;
	cr_assert(noticed);
	same_state(inf.cur, &before);
	free(before.xs);
	finish("counter=0 twice=42 worker=99 buf=\n");
}

/* Stopped at a queued SIGUSR1 that carries a value: a call in between must hand the
 * signal back with its siginfo, so the handler still sees SI_QUEUE and the value. */
Test(infcall_stop, pending_signal_kept, .fini = teardown)
{
	start("call_abi", true, "usr1");
	struct stop st;
	cr_assert_eq(inf_continue(&inf, -1, &st), 0);
	cr_assert_eq(st.reason, SR_SIGNAL);
	cr_assert_eq(st.sig, SIGUSR1);
	struct thread_state before;
	grab(inf.cur, &before);
	int r;
	CALL(cf_add_ints, &infcall_s32, 0, &r, A(infcall_s32, int, 1), A(infcall_s32, int, 2));
	cr_assert_eq(r, 3);
	CALL(cf_add_ints, &infcall_s32, INFCALL_DIRECT, &r, A(infcall_s32, int, 1), A(infcall_s32, int, 2));
	cr_assert_eq(inf.cur->pending_sig, SIGUSR1);
	siginfo_t si;
	cr_assert_eq(task_get_siginfo(inf.cur, &si), 0);
	cr_assert_eq(si.si_code, SI_QUEUE);
	same_state(inf.cur, &before);
	free(before.xs);
	finish("usr1 code=-1 value=1234\n" ABI_END);
}

Test(infcall_stop, registers_restored, .fini = teardown)
{
	start("call_regs", true, NULL);
	struct task *t = stop_at("regs_stop");
	struct thread_state before;
	grab(t, &before);
	int r;
	/* Vector, mask and MXCSR state trashed by the callee, both ways. */
	CALL(clobber, &infcall_s32, 0, &r, A(infcall_s32, int, 5));
	cr_assert_eq(r, 15);
	CALL(clobber, &infcall_s32, INFCALL_DIRECT, &r, A(infcall_s32, int, 6));
	cr_assert_eq(r, 18);
	/* Callee-saved registers trashed, then a fault: nothing restores them but rewind. */
	for (unsigned flags = 0; flags <= INFCALL_DIRECT; flags += INFCALL_DIRECT) {
		struct infcall_outcome out;
		struct sbuf err = { 0 };
		const struct infcall_arg a[] = { A(infcall_ptr, uint64_t, 0) };
		cr_assert_eq(call_fail("crash_dirty", &infcall_s32, flags, a, 1, &out, &err), -ECANCELED);
		cr_assert_eq(out.sig, SIGSEGV);
		sbuf_free(&err);
	}
	/* The x87 stack is full at the stop: the callee must get an empty one. */
	long double ld, a = 1.5L, b = 2.25L, c = -3;
	CALL(ld_sum3, &infcall_ldouble, 0, &ld, V(infcall_ldouble, a), V(infcall_ldouble, b),
	     V(infcall_ldouble, c));
	cr_assert(ld == a + b * 2 + c * 3, "ld_sum3 = %Lg", ld);
	/* DF is set at the stop: memset's rep stosb must run forwards. */
	uint64_t buf = sym("bigbuf"), p;
	CALL(fill, &infcall_ptr, 0, &p, A(infcall_ptr, uint64_t, buf), A(infcall_s32, int, 7),
	     A(infcall_u64, size_t, 100000));
	cr_assert_eq(p, buf);
	CALL(fill, &infcall_ptr, INFCALL_DIRECT, &p, A(infcall_ptr, uint64_t, buf), A(infcall_s32, int, 7),
	     A(infcall_u64, size_t, 100000));
	uint8_t ends[2];
	cr_assert_eq(proc_read(t->proc, RADDR(buf), &ends[0], 1), 0);
	cr_assert_eq(proc_read(t->proc, RADDR(buf + 99999), &ends[1], 1), 0);
	cr_assert(ends[0] == 7 && ends[1] == 7);
	double d;
	CALL(sum_d, &infcall_double, INFCALL_DIRECT, &d, A(infcall_double, double, 1),
	     A(infcall_double, double, 2), A(infcall_double, double, 3.5));
	cr_assert_eq(d, 15.5);
	same_state(t, &before);
	free(before.xs);
	finish("regs ok\nbigbuf 7 7\n");
}

/* What the program can see of itself at the stop. */
struct visible {
	char sig[256];
	int threads, fds;
	uint64_t agent_bytes;
};

static void look(struct visible *v)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/status", inf.main->pid);
	cr_assert_eq(read_file(path, &text, NULL), 0);
	v->sig[0] = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		/* SigQ counts the user's queued signals system-wide: not the program's. */
		if ((!strncmp(l, "Sig", 3) && strncmp(l, "SigQ", 4)) || !strncmp(l, "ShdPnd", 6)) {
			strncat(v->sig, l, sizeof v->sig - strlen(v->sig) - 2);
			strcat(v->sig, "\n");
		}
		if (!strncmp(l, "Threads:", 8))
			v->threads = atoi(l + 8);
	}
	free(text);
	snprintf(path, sizeof path, "/proc/%d/fd", inf.main->pid);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	v->fds = 0;
	for (struct dirent *de; (de = readdir(d));)
		v->fds += de->d_name[0] != '.';
	closedir(d);
	struct maps m;
	cr_assert_eq(maps_read(inf.main->pid, &m), 0);
	v->agent_bytes = 0;
	for (size_t i = 0; i < m.n; i++)
		if (strstr(m.v[i].path, "librewind-agent.so") || strstr(m.v[i].path, "libffi"))
			v->agent_bytes += m.v[i].end - m.v[i].start;
	maps_free(&m);
}

Test(infcall_stop, agent_is_invisible, .fini = teardown)
{
	struct visible plain, with;
	start("call_abi", false, NULL);
	stop_at("cf_stop_here");
	look(&plain);
	finish(ABI_END);
	teardown();
	start("call_abi", true, NULL);
	stop_at("cf_stop_here");
	look(&with);
	cr_assert_eq(infcall_agent_ready(inf.main), 1);
	/* Same signal dispositions, masks and pending sets; no thread; no descriptor. */
	cr_assert_str_eq(with.sig, plain.sig);
	cr_assert_eq(with.threads, plain.threads);
	cr_assert_eq(with.fds, plain.fds);
	cr_assert_eq(plain.agent_bytes, 0);
	cr_assert_gt(with.agent_bytes, 0);
	cr_assert_leq(with.agent_bytes, 64 * 1024, "agent maps %llu bytes",
		      (unsigned long long)with.agent_bytes);
	finish(ABI_END);
}
