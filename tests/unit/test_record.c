/* The record/replay engine: in-memory branches (recording.h), and the engine inside
 * a session (record.h) on tests/progs/rr_inputs — replay after a restore, the end
 * of the log, state changes forking the history. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/record.h"
#include "replay/recording.h"
#include "replay/session.h"

/* ---- branches ---- */

static struct trace_ev sys_ev(int nr, int64_t ret, const char *data)
{
	static struct trace_piece piece;
	struct trace_ev ev = { .type = TR_SYSCALL, .tid = 7 };
	ev.sys.nr = nr;
	ev.sys.args[0] = 3;
	ev.sys.args[1] = 0x1000;
	ev.sys.ret = ret;
	if (data) {
		piece = (struct trace_piece){ .arg = 1, .addr = 0x1000, .len = (uint32_t)strlen(data),
					      .data = (const uint8_t *)data };
		ev.sys.pieces = &piece;
		ev.sys.npieces = 1;
	}
	return ev;
}

Test(branch, append_copies_deeply)
{
	struct rec_branch *b = rec_branch_new(1);
	char buf[8] = "hello";
	struct trace_ev ev = sys_ev(0, 5, buf);
	cr_assert_eq(rec_branch_append(b, &ev), 0);
	strcpy(buf, "XXXXX");   /* the copy must not follow the caller's memory */
	const struct trace_ev *g = rec_branch_get(b, 0);
	cr_assert_not_null(g);
	cr_assert_eq(g->num, 0);
	cr_assert_eq(g->sys.npieces, 1);
	cr_assert(g->sys.pieces[0].data != (const uint8_t *)buf);
	cr_assert_arr_eq(g->sys.pieces[0].data, "hello", 5);
	cr_assert_null(rec_branch_get(b, 1));
	cr_assert_eq(rec_branch_len(b), 1);
	cr_assert_gt(rec_branch_bytes(b), 5);
	rec_branch_unref(b);
}

Test(branch, malformed_event_refused)
{
	struct rec_branch *b = rec_branch_new(1);
	struct trace_ev ev = sys_ev(0, 5, NULL);
	ev.sys.npieces = 2;   /* pieces missing */
	cr_assert_eq(rec_branch_append(b, &ev), -EINVAL);
	struct trace_ev bad = { .type = (enum trace_type)99 };
	cr_assert_eq(rec_branch_append(b, &bad), -EINVAL);
	cr_assert_eq(rec_branch_len(b), 0);
	rec_branch_unref(b);
}

Test(branch, fork_shares_prefix_and_diverges)
{
	struct rec_branch *a = rec_branch_new(1);
	for (int i = 0; i < 10; i++) {
		struct trace_ev ev = sys_ev(i, i, "x");
		cr_assert_eq(rec_branch_append(a, &ev), 0);
	}
	struct rec_branch *b = rec_branch_fork(a, 4, 2);
	cr_assert_eq(rec_branch_len(b), 4);
	cr_assert_eq(rec_branch_id(b), 2);
	for (uint64_t i = 0; i < 4; i++)
		cr_assert_eq(rec_branch_get(a, i), rec_branch_get(b, i), "event %lu is shared", (unsigned long)i);
	struct trace_ev ev = sys_ev(99, 0, NULL);
	cr_assert_eq(rec_branch_append(b, &ev), 0);
	cr_assert_eq(rec_branch_get(b, 4)->sys.nr, 99);
	cr_assert_eq(rec_branch_get(b, 4)->num, 4);
	cr_assert_eq(rec_branch_get(a, 4)->sys.nr, 4, "the old future is untouched");
	/* Dropping the original keeps the shared events alive in the fork. */
	rec_branch_unref(a);
	cr_assert_eq(rec_branch_get(b, 3)->sys.nr, 3);
	cr_assert_arr_eq(rec_branch_get(b, 3)->sys.pieces[0].data, "x", 1);
	struct rec_branch *c = rec_branch_fork(b, 100, 3);
	cr_assert_eq(rec_branch_len(c), 5, "fork is capped at the length");
	rec_branch_truncate(c, 2);
	cr_assert_eq(rec_branch_len(c), 2);
	cr_assert_eq(rec_branch_len(b), 5);
	rec_branch_unref(b);
	rec_branch_unref(c);
}

Test(branch, dup_every_type)
{
	const char *argv[] = { "prog", "arg" }, *env[] = { "A=1" };
	uint64_t aux[4] = { 6, 4096, 0, 0 };
	struct trace_ev evs[5] = {
		{ .type = TR_MMAP, .tid = 1, .mmap = { .addr = 1, .len = 4096, .file = "files/x-1" } },
		{ .type = TR_TASK, .tid = 1, .task = { .kind = TRT_EXEC, .path = "/bin/true" } },
		{ .type = TR_CHECKPOINT, .ckpt = { .id = 3, .event = 9, .name = "n" } },
		{ .type = TR_META, .meta = { .pid = 5, .argv = argv, .argc = 2, .env = env, .envc = 1,
					     .cwd = "/", .exe = "/bin/prog", .maps = "m", .auxv = aux,
					     .nauxv = 2 } },
		{ .type = TR_RDTSC, .tid = 2, .tsc = { .value = 42, .pc = 0x400000 } },
	};
	for (size_t i = 0; i < 5; i++) {
		struct trace_ev *d = rec_ev_dup(&evs[i]);
		cr_assert_not_null(d);
		cr_assert_eq(d->type, evs[i].type);
		switch (d->type) {
		case TR_MMAP: cr_assert_str_eq(d->mmap.file, "files/x-1"); cr_assert(d->mmap.file != evs[i].mmap.file); break;
		case TR_TASK: cr_assert_str_eq(d->task.path, "/bin/true"); break;
		case TR_CHECKPOINT: cr_assert_str_eq(d->ckpt.name, "n"); break;
		case TR_META:
			cr_assert_str_eq(d->meta.argv[1], "arg");
			cr_assert_str_eq(d->meta.env[0], "A=1");
			cr_assert_str_eq(d->meta.exe, "/bin/prog");
			cr_assert_eq(d->meta.auxv[1], 4096);
			cr_assert(d->meta.argv != argv);
			break;
		case TR_RDTSC: cr_assert_eq(d->tsc.value, 42); break;
		default: break;
		}
		free(d);
	}
}

/* ---- the engine in a session ---- */

static struct sbuf notices;

static void on_notice(void *ctx, const char *msg)
{
	(void)ctx;
	sbuf_printf(&notices, "%s\n", msg);
}

/* Address of a symbol of the PIE rr_inputs at its fixed base (ASLR off). */
static uint64_t sym_addr(const char *name)
{
	char *cmd = xasprintf("nm %s/rr_inputs", PROGS_DIR);
	FILE *f = popen(cmd, "r");
	free(cmd);
	cr_assert_not_null(f);
	char line[256];
	uint64_t a = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long v;
		char t, n[128];
		if (sscanf(line, "%llx %c %127s", &v, &t, n) == 3 && !strcmp(n, name))
			a = 0x555555554000ull + v;
	}
	pclose(f);
	cr_assert_neq(a, 0, "symbol %s", name);
	return a;
}

static struct session S;
static int saved_stdin = -1;

/* Launch rr_inputs with "one\ntwo\nthree\n" on its stdin and a breakpoint at mark. */
static void start(void)
{
	memset(&notices, 0, sizeof notices);
	cr_assert_eq(session_init(&S), 0);
	S.inf.notice_fn = on_notice;
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "one\ntwo\nthree\n", 14), 14);
	close(p[1]);
	saved_stdin = dup(0);
	dup2(p[0], 0);
	close(p[0]);
	char *argv[] = { PROGS_DIR "/rr_inputs", NULL };
	inf_set_program(&S.inf, argv);
	struct sbuf err = { 0 };
	cr_assert_eq(session_launch(&S, &err), 0, "%s", sbuf_str(&err));
	sbuf_free(&err);
	dup2(saved_stdin, 0);
	close(saved_stdin);
	char spec[64];
	snprintf(spec, sizeof spec, "*%#llx", (unsigned long long)sym_addr("mark"));
	struct breakpoint *b;
	cr_assert_eq(inf_break(&S.inf, BPK_BREAK, spec, NULL, false, 0, &b, NULL), 0);
}

static void finish(void)
{
	session_fini(&S);
	sbuf_free(&notices);
}

static void cont(enum stop_reason want)
{
	struct stop st;
	struct sess_args a = { .sig = -1 };
	cr_assert_eq(session_exec(&S, SC_CONTINUE, &a, &st), 0);
	cr_assert_eq(st.reason, want, "stop reason %d (%s), notices: %s", st.reason, st.err,
		     sbuf_str(&notices));
}

static void restore(const char *id)
{
	struct stop st;
	struct sbuf msg = { 0 };
	cr_assert_eq(session_restore(&S, id, &st, &msg), 0, "%s", sbuf_str(&msg));
	sbuf_free(&msg);
}

static uint64_t counter(void)
{
	uint32_t v = 0;
	cr_assert_eq(proc_read(S.inf.main, RADDR(sym_addr("counter")), &v, 4), 0);
	return v;
}

Test(engine, replays_then_goes_live, .init = start, .fini = finish, .timeout = 60)
{
	cont(SR_BREAKPOINT);                       /* mark(0): checkpoint 1 */
	cr_assert_eq(rec_mode(S.rec), REC_RECORDING);
	int64_t e1 = rec_checkpoint_event(S.rec, 1);
	cr_assert_gt(e1, 0);
	cont(SR_BREAKPOINT);                       /* mark(1): checkpoint 2 */
	int64_t e2 = rec_checkpoint_event(S.rec, 2);
	cr_assert_gt(e2, e1);
	restore("1");
	cr_assert_eq(rec_mode(S.rec), REC_REPLAYING);
	cr_assert_eq(rec_event_now(S.rec), (uint64_t)e1);
	cont(SR_BREAKPOINT);                       /* mark(1), replayed */
	cr_assert_eq(rec_mode(S.rec), REC_REPLAYING);
	cr_assert_eq(rec_event_now(S.rec), (uint64_t)e2, "the replay stands where recording stood");
	cr_assert_eq(counter(), 1);
	cr_assert_null(strstr(sbuf_str(&notices), "end of the recording"));
	cont(SR_BREAKPOINT);                       /* mark(2), live again */
	cr_assert_eq(rec_mode(S.rec), REC_RECORDING);
	cr_assert_not_null(strstr(sbuf_str(&notices), "[replay reached the end of the recording; "
				  "the program now runs live]"));
	cr_assert_eq(counter(), 1 + 2);
	cont(SR_EXITED);
}

Test(engine, state_change_in_replay_forks_history, .init = start, .fini = finish, .timeout = 60)
{
	cont(SR_BREAKPOINT);                       /* checkpoint 1 */
	cont(SR_BREAKPOINT);                       /* checkpoint 2 */
	int64_t e2 = rec_checkpoint_event(S.rec, 2);
	uint64_t len = rec_log_len(S.rec);
	restore("1");
	cr_assert_eq(rec_mode(S.rec), REC_REPLAYING);
	uint32_t v = 100;   /* what `set var counter = 100` does */
	cr_assert_eq(proc_write(S.inf.main, RADDR(sym_addr("counter")), &v, 4), 0);
	cont(SR_BREAKPOINT);
	cr_assert_eq(rec_mode(S.rec), REC_RECORDING, "the program runs live after the change");
	cr_assert_not_null(strstr(sbuf_str(&notices), "the program's state was changed at event"),
			   "%s", sbuf_str(&notices));
	cr_assert_eq(counter(), 101);
	/* Checkpoint 2 lives in the old future: restoring it goes back to that branch. */
	restore("2");
	cr_assert_eq(rec_event_now(S.rec), (uint64_t)e2);
	cr_assert_eq(rec_log_len(S.rec), len);
	cr_assert_eq(counter(), 1);
	/* Checkpoint 1 replays the unchanged history again. */
	restore("1");
	cr_assert_eq(rec_mode(S.rec), REC_REPLAYING);
	cont(SR_BREAKPOINT);
	cr_assert_eq(counter(), 1);
}

Test(engine, state_change_while_recording_keeps_old_checkpoints_honest, .init = start,
     .fini = finish, .timeout = 60)
{
	cont(SR_BREAKPOINT);                       /* checkpoint 1, recording */
	uint32_t v = 50;
	cr_assert_eq(proc_write(S.inf.main, RADDR(sym_addr("counter")), &v, 4), 0);
	cont(SR_BREAKPOINT);                       /* checkpoint 2: counter 51 */
	cr_assert_eq(counter(), 51);
	/* Checkpoint 1's history ends where the change was made: restoring it runs
	 * live from there, without the change. */
	restore("1");
	cr_assert_eq(rec_mode(S.rec), REC_RECORDING);
	cont(SR_BREAKPOINT);
	cr_assert_eq(counter(), 1, "the user's write is not part of checkpoint 1's history");
}

Test(engine, record_off_runs_unrecorded, .init = start, .fini = finish, .timeout = 60)
{
	cont(SR_BREAKPOINT);
	rec_set_enabled(S.rec, &S.inf, false);
	cr_assert_eq(rec_mode(S.rec), REC_OFF);
	uint64_t len = rec_log_len(S.rec);
	cont(SR_BREAKPOINT);   /* rdtsc still faults in the program: emulated, not logged */
	cr_assert_eq(rec_log_len(S.rec), len, "nothing logged while off");
	/* Checkpoint 1 stands at the end of what was recorded: nothing to replay, and
	 * recording stays off. */
	restore("1");
	cr_assert_eq(rec_mode(S.rec), REC_OFF);
	cont(SR_BREAKPOINT);   /* rdtsc still faults in the program: emulated, not logged */
	cr_assert_eq(counter(), 1);
}

/* ---- trace format: run_ns (minor version 1) ---- */

Test(trace_minor1, run_ns_round_trip)
{
	char path[] = "/tmp/rewind-test-runns-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	unlink(path);
	struct trace_writer *w;
	cr_assert_eq(trace_writer_create(path, NULL, &w), 0);
	struct trace_ev a = { .type = TR_SCHED, .tid = 5 };
	a.sched.to = 6;
	a.sched.reason = TRSCHED_PREEMPT;
	a.sched.pos = (struct trace_pos){ .pc = 0x401000, .k = 3, .reghash = 77, .run_ns = 12345678 };
	struct trace_ev b = { .type = TR_SIGNAL, .tid = 6, .sig = { .signo = 14 } };
	b.sig.pos = (struct trace_pos){ .pc = 0x401004, .k = 9, .reghash = 78 };   /* run_ns 0 */
	cr_assert_eq(trace_write(w, &a, NULL), 0);
	cr_assert_eq(trace_write(w, &b, NULL), 0);
	struct trace_ev end = { .type = TR_END };
	cr_assert_eq(trace_write(w, &end, NULL), 0);
	cr_assert_eq(trace_writer_close(w), 0);
	struct trace_reader *r;
	cr_assert_eq(trace_reader_open(path, &r, NULL), 0);
	cr_assert_geq(trace_reader_info(r)->minor, 1);
	struct trace_ev ev;
	cr_assert_eq(trace_next(r, &ev), 1);
	cr_assert_eq(ev.sched.pos.run_ns, 12345678);
	cr_assert_eq(ev.sched.pos.reghash, 77);
	cr_assert_eq(trace_next(r, &ev), 1);
	cr_assert_eq(ev.sig.pos.run_ns, 0);
	cr_assert_eq(ev.sig.pos.k, 9);
	cr_assert_eq(trace_next(r, &ev), 1);
	cr_assert_eq(ev.type, TR_END);
	trace_reader_close(r);
	unlink(path);
}
