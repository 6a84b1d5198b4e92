/* Record and replay from the command line and the shell:
 *   rewind record [-o DIR] [--chaos] [--until-fail N] [--] PROG [ARGS...]
 *                                                  a whole run, to disk
 *   rewind replay [--autopilot] [-ex CMD]... [-x FILE] [--batch] [DIR|NAME]
 *   rewind ls                                      the recordings under the default root
 *   rewind dump [-n MAX] [DIR|NAME]                the events of a recording
 * and, in the shell, `set record on|off` and `info record`. */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "core/infsym.h"
#include "replay/recdir.h"
#include "replay/record.h"
#include "replay/sched_tasks.h"
#include "replay/trace.h"
#include "subcmds.h"
#include "symbols.h"

#define REWIND_VERSION "0.1.0"

/* ---- in the shell ---- */

int set_record(struct shell *sh, char *args)
{
	bool on;
	if (!args || !*args || !strcmp(args, "on"))
		on = true;
	else if (!strcmp(args, "off"))
		on = false;
	else
		return sh_error(sh, "\"on\" or \"off\" expected.");
	struct inferior *inf = sh_inf(sh);
	bool was = rec_mode(sh->sess.rec) != REC_OFF;
	rec_set_enabled(sh->sess.rec, inf, on);
	if (!on && was)
		sh_out(sh, "Recording stopped; the program runs unrecorded. Checkpoints taken "
			   "before now still replay up to here.\n");
	else if (on && inf_alive(inf) && rec_mode(sh->sess.rec) == REC_OFF)
		sh_out(sh, "Recording starts with the next run.\n");
	return 0;
}

int cmd_info_record(struct shell *sh, char *args)
{
	(void)args;
	struct sbuf b = { 0 };
	rec_describe(sh->sess.rec, &b);
	sh_out(sh, "%s\n", sbuf_str(&b));
	sbuf_free(&b);
	struct ckpt_list *l = &sh->sess.ckpts;
	for (struct checkpoint *c = l->head; c; c = c->next) {
		if (c->hidden)
			continue;   /* timeline snapshots (info timeline) */
		int64_t ev = rec_checkpoint_event(sh->sess.rec, c->id);
		if (ev >= 0)
			sh_out(sh, "  checkpoint %d: event %" PRId64 "\n", c->id, ev);
	}
	return 0;
}

/* ---- helpers ---- */

/* PROG as execve will find it: a path with '/', or the first match in PATH. */
static char *find_program(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, F_OK) == 0 ? xstrdup(prog) : NULL;
	char *path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	char *found = NULL;
	for (char *save, *d = strtok_r(path, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", *d ? d : ".", prog);
		if (access(cand, X_OK) == 0)
			found = cand;
		else
			free(cand);
	}
	free(path);
	return found;
}

/* Every signal reaches the program without stopping it (record, autopilot). */
static void quiet_signals(struct inferior *inf)
{
	for (int s = 1; s < NSIG; s++)
		inf->sigs[s] = (struct sig_disp){ false, false, true };
}

static void print_notices(struct inferior *inf)
{
	char *n;
	while ((n = inf_take_notice(inf))) {
		fprintf(stderr, "rewind: %s\n", n);
		free(n);
	}
}

static int wait_status(const struct stop *st)
{
	if (st->reason == SR_KILLED)
		return st->sig & 0x7f;
	return (st->code & 0xff) << 8;
}

/* ---- rewind record ---- */

static int record_usage(void)
{
	fprintf(stderr, "usage: rewind record [-o DIR] [--chaos] [--slice MS] [--until-fail N] [--] "
		"PROG [ARGS...]\n"
		"       rewind record [-o DIR] --pid PID\n"
		"  --chaos         random scheduling: random next thread, random time slices\n"
		"  --slice MS      time slice of a thread before another may run (default 10)\n"
		"  --until-fail N  record up to N runs; keep the first that fails (non-zero exit\n"
		"                  or fatal signal) and delete the others\n");
	return 2;
}

/* argv of a running process, from /proc (NULL-terminated, malloc'd strings). */
static char **proc_argv(pid_t pid, size_t *argc)
{
	char path[64], *text = NULL;
	size_t len = 0;
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	VEC(char *) v = { 0 };
	if (read_file(path, &text, &len) == 0)
		for (size_t i = 0; i < len; i += strlen(text + i) + 1)
			vec_push(&v, xstrdup(text + i));
	free(text);
	*argc = v.n;
	vec_push(&v, NULL);
	return v.v;
}

/* One recording of prog (argv[0..argc), or of process pid) into out (NULL: a new
 * directory under the default root). *dirp: the recording's directory (malloc'd);
 * *statusp: the program's wait status. Returns 0, or 2 (the recording failed; the
 * reason printed). */
static int record_once(const char *out, pid_t pid, char *prog, char **argv, int argc,
		       const struct sched_opts *so, char **dirp, int *statusp)
{
	*dirp = NULL;
	*statusp = 0;
	struct recdir *rd;
	int e = recdir_create(NULL, out, argv[0], &rd);
	if (e < 0) {
		fprintf(stderr, "rewind record: cannot create the recording%s%s: %s\n",
			out ? " " : "", out ? out : "", e == -EEXIST ? "it holds a recording already" :
			e == -EPERM ? "not a private directory of yours" : strerror(-e));
		return 2;
	}
	char *tpath = recdir_file(rd, "trace");
	struct trace_info ti = { .rewind_version = REWIND_VERSION };
	struct trace_writer *tw;
	e = trace_writer_create(tpath, &ti, &tw);
	free(tpath);
	if (e < 0) {
		fprintf(stderr, "rewind record: cannot create the trace in %s: %s\n", recdir_path(rd),
			strerror(-e));
		*dirp = xstrdup(recdir_path(rd));
		recdir_close(rd);
		return 2;
	}
	extern char **environ;
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		strcpy(cwd, "/");
	size_t envc = 0;
	while (environ[envc])
		envc++;
	struct recdir_meta m = { .rewind_version = REWIND_VERSION, .program = prog, .cwd = cwd,
				 .start = (int64_t)time(NULL), .argv = argv, .argc = (size_t)argc,
				 .env = environ, .envc = envc };
	recdir_write_meta(rd, &m);

	struct session *s = xcalloc(1, sizeof *s);
	session_init(s);
	s->ckpts.auto_on = false;
	quiet_signals(&s->inf);
	char *saved0 = argv[0];
	argv[0] = prog;
	inf_set_program(&s->inf, argv);
	argv[0] = saved0;
	rec_set_disk(s->rec, tw, rd);
	sched_set_opts(s->rec, so);
	struct sbuf err = { 0 };
	int status = 0;
	bool ok;
	if (pid > 0) {
		/* From now on the process cannot run without rewind: traced syscalls fail
		 * with ENOSYS when no tracer is there. The recording runs to its end. */
		ok = session_attach(s, pid, &err) == 0 && rec_start_attached(s->rec, &s->inf, &err) == 0;
		if (ok)
			fprintf(stderr, "rewind: recording process %d from now on until it exits\n", pid);
	} else {
		ok = session_launch(s, &err) == 0;
	}
	if (!ok)
		fprintf(stderr, "rewind record: %s\n", sbuf_str(&err));
	struct stop st = { .reason = SR_NONE };
	while (ok) {
		struct sess_args a = { .sig = -1 };
		session_exec(s, SC_CONTINUE, &a, &st);
		print_notices(&s->inf);
		if (st.reason == SR_EXITED || st.reason == SR_KILLED) {
			status = wait_status(&st);
			break;
		}
		if (st.reason == SR_ERROR) {
			fprintf(stderr, "rewind record: %s\n", st.err);
			ok = false;
		}
	}
	sbuf_free(&err);
	uint64_t events = rec_log_len(s->rec), sum;
	if (rec_exit_checksum(s->rec, &sum) == 0) {
		/* For replays to compare (rewind replay --autopilot). */
		char *sp = recdir_file(rd, "exitsum");
		FILE *f = fopen(sp, "we");
		if (f) {
			fprintf(f, "%016" PRIx64 "\n", sum);
			fclose(f);
		}
		free(sp);
		fprintf(stderr, "rewind: memory at exit: %016" PRIx64 "\n", sum);
	}
	if (!ok && inf_alive(&s->inf) && pid <= 0)
		session_kill(s);   /* an attached process is detached by session_fini */
	session_fini(s);
	free(s);
	e = trace_writer_close(tw);
	if (e < 0)
		fprintf(stderr, "rewind record: the trace may be incomplete: %s\n", strerror(-e));
	m.finished = ok;
	m.status = status;
	recdir_write_meta(rd, &m);
	fprintf(stderr, "rewind: recorded %s (%" PRIu64 " events) in %s\n", argv[0], events,
		recdir_path(rd));
	*dirp = xstrdup(recdir_path(rd));
	recdir_close(rd);
	*statusp = status;
	return ok ? 0 : 2;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Delete the recording in dir; a `latest` link beside it that now points nowhere
 * goes too. */
static void remove_recording(const char *dir)
{
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "rewind record: could not delete %s: %s\n", dir, strerror(errno));
	char *slash = strrchr(dir, '/');
	char *latest = slash ? xasprintf("%.*s/latest", (int)(slash - dir), dir) : xstrdup("latest");
	struct stat st;
	if (lstat(latest, &st) == 0 && S_ISLNK(st.st_mode) && stat(latest, &st) < 0)
		unlink(latest);
	free(latest);
}

static bool failed(int status)
{
	return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

int subcmd_record(int argc, char **argv)
{
	const char *out = NULL;
	pid_t pid = 0;
	struct sched_opts so = { 0 };
	int until_fail = 0;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
			out = argv[++i];
		else if ((!strcmp(argv[i], "--pid") || !strcmp(argv[i], "-p")) && i + 1 < argc)
			pid = (pid_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--chaos"))
			so.chaos = true;
		else if (!strcmp(argv[i], "--slice") && i + 1 < argc)
			so.slice_ms = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--until-fail") && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*end || n < 1 || n > 1000000)
				return fprintf(stderr, "rewind record: --until-fail wants a number of "
					       "runs (1 or more), not \"%s\"\n", argv[i]), 2;
			until_fail = (int)n;
		} else if (argv[i][0] == '-')
			return fprintf(stderr, "rewind record: unknown option \"%s\"\n", argv[i]),
			       record_usage();
		else
			break;
	}
	if (until_fail && pid > 0)
		return fprintf(stderr, "rewind record: --until-fail runs the program again: not "
			       "with --pid\n"), 2;
	char **pidargv = NULL;
	size_t pidargc = 0;
	if (pid > 0) {
		if (i < argc)
			return record_usage();
		pidargv = proc_argv(pid, &pidargc);
		if (!pidargc) {
			fprintf(stderr, "rewind record: no process %d\n", pid);
			free(pidargv);
			return 2;
		}
		argv = pidargv;
		argc = (int)pidargc;
		i = 0;
	} else if (i >= argc) {
		return record_usage();
	}
	char *prog = pid > 0 ? NULL : find_program(argv[i]);
	if (pid > 0) {
		char path[64], exe[4096];
		snprintf(path, sizeof path, "/proc/%d/exe", pid);
		ssize_t n = readlink(path, exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = 0;
		prog = n > 0 ? xstrdup(exe) : NULL;
	}
	if (!prog) {
		fprintf(stderr, "rewind record: %s: No such file or directory\n", argv[i]);
		return 127;
	}
	signal(SIGINT, SIG_IGN);   /* ^C is the program's; the recording ends with it */
	int runs = until_fail ? until_fail : 1, r = 0, status = 0, run;
	char *dir = NULL;
	for (run = 1; run <= runs; run++) {
		free(dir);
		if (until_fail)
			fprintf(stderr, "rewind: run %d of at most %d\n", run, until_fail);
		r = record_once(out, pid, prog, argv + i, argc - i, &so, &dir, &status);
		if (!until_fail || r != 0 || failed(status))
			break;
		/* It passed: not the run we are looking for. */
		if (dir)
			remove_recording(dir);
	}
	if (until_fail && r == 0 && run > runs) {
		fprintf(stderr, "rewind: no failure in %d runs; no recording kept\n", runs);
		free(dir);
		dir = NULL;
	} else if (until_fail && r == 0) {
		fprintf(stderr, "rewind: run %d failed (%s %d); the passing runs were deleted\n", run,
			WIFSIGNALED(status) ? "signal" : "exit status",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	if (dir)
		fprintf(stderr, "rewind: replay it with: rewind replay %s\n", dir);
	free(dir);
	free(prog);
	for (size_t k = 0; pidargv && k < pidargc; k++)
		free(pidargv[k]);
	free(pidargv);
	if (r != 0)
		return r;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* ---- rewind replay ---- */

static int replay_usage(void)
{
	fprintf(stderr, "usage: rewind replay [--autopilot] [-ex CMD]... [-x FILE] [--batch] "
		"[DIR|NAME]\n");
	return 2;
}

/* Load the recording into s and make its program the one `run` starts. Returns 0
 * or an exit status (the error printed). Also for `rewind gdbserver --replay`. */
int replay_load(struct session *s, const char *name, struct rec_loaded *L, char **dirp)
{
	char *dir;
	if (recdir_resolve(NULL, name, &dir) < 0) {
		fprintf(stderr, "rewind replay: no recording %s\n", name ? name : "(latest)");
		return 2;
	}
	struct sbuf err = { 0 };
	int e = rec_load(s->rec, dir, L, &err);
	if (e < 0) {
		fprintf(stderr, "rewind replay: %s\n", sbuf_str(&err));
		sbuf_free(&err);
		free(dir);
		return 2;
	}
	if (L->damage[0])
		fprintf(stderr, "rewind: %s: %s; replay stops there\n", dir, L->damage);
	size_t n = 0;
	while (L->argv[n])
		n++;
	char **pargv = xcalloc(n + 2, sizeof *pargv);
	pargv[0] = L->stored_exe;
	for (size_t k = 1; k < n; k++)
		pargv[k] = L->argv[k];
	inf_set_program(&s->inf, pargv);
	free(pargv);
	s->inf.envp = L->env;
	struct stat sb;
	free(s->inf.cwd);
	s->inf.cwd = xstrdup(L->cwd && stat(L->cwd, &sb) == 0 ? L->cwd : "/");
	*dirp = dir;
	return 0;
}

/* Start the replay: the program stops at its first instruction. */
static int replay_launch(struct session *s)
{
	struct sbuf err = { 0 };
	int e = session_launch(s, &err);
	if (e < 0)
		fprintf(stderr, "rewind replay: %s\n", sbuf_str(&err));
	sbuf_free(&err);
	return e < 0 ? 2 : 0;
}

static int autopilot(const char *name)
{
	struct session *s = xcalloc(1, sizeof *s);
	session_init(s);
	s->ckpts.auto_on = false;
	quiet_signals(&s->inf);
	infsym_install(&s->inf);   /* function bounds for in-process position checks */
	rec_set_emit(s->rec, true);
	struct rec_loaded L;
	char *dir = NULL;
	int rc = replay_load(s, name, &L, &dir);
	if (!rc && (rc = replay_launch(s)))
		rec_loaded_free(&L);
	if (rc) {
		free(dir);
		session_fini(s);
		free(s);
		return rc;
	}
	struct stop st;
	for (;;) {
		struct sess_args a = { .sig = -1 };
		session_exec(s, SC_CONTINUE, &a, &st);
		fflush(stdout);
		print_notices(&s->inf);
		if (st.reason == SR_EXITED || st.reason == SR_KILLED || st.reason == SR_ERROR ||
		    st.reason == SR_HISTORY_END)
			break;
	}
	uint64_t at = rec_event_now(s->rec);
	if (st.reason == SR_EXITED || st.reason == SR_KILLED) {
		int status = wait_status(&st);
		bool same = !L.finished || status == L.status;
		fprintf(stderr, "rewind: replayed %s to its end (%" PRIu64 " events)%s\n", dir, at,
			same ? "" : "; the exit status differs from the recording's");
		rc = same ? (WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status)) : 125;
		/* The program's memory at exit, against the recording's. */
		uint64_t sum, want;
		char *sp = xasprintf("%s/exitsum", dir), *text = NULL;
		if (rec_exit_checksum(s->rec, &sum) == 0) {
			bool have = read_file(sp, &text, NULL) == 0 && sscanf(text, "%" SCNx64, &want) == 1;
			fprintf(stderr, "rewind: memory at exit: %016" PRIx64 "%s\n", sum,
				!have ? "" : sum == want ? " (as recorded)" : " (DIFFERS from the recording)");
			if (have && sum != want)
				rc = 125;
		}
		free(text);
		free(sp);
	} else if (st.reason == SR_HISTORY_END) {
		fprintf(stderr, "rewind: replay reached the end of the recording (event %" PRIu64
			"); the recording ended before the program did\n", at);
		rc = 0;
	} else {
		fprintf(stderr, "rewind: %s\n", st.err);
		rc = 125;
	}
	if (inf_alive(&s->inf))
		session_kill(s);
	session_fini(s);
	free(s);
	rec_loaded_free(&L);
	free(dir);
	return rc;
}

/* The shell on a recording: the program stands at its first instruction; its
 * recorded output is shown as the replay passes it. */
static int replay_shell(const char *name, char **cmds, size_t ncmds, bool batch)
{
	struct shell *sh = xcalloc(1, sizeof *sh);
	session_init(&sh->sess);
	sh->batch = batch;
	sym_install(sh);
	sh_inf(sh)->notice_fn = sh_notice;
	sh_inf(sh)->notice_ctx = sh;
	rec_set_emit(sh->sess.rec, true);   /* the recorded output shows, as rr does */
	struct rec_loaded L;
	char *dir = NULL;
	int rc = replay_load(&sh->sess, name, &L, &dir);
	if (!rc) {
		sym_program_changed(sh);
		if ((rc = replay_launch(&sh->sess)))
			rec_loaded_free(&L);
	}
	if (rc) {
		free(dir);
		session_fini(&sh->sess);
		free(sh);
		return rc;
	}
	sh_out(sh, "Replaying %s (%" PRIu64 " events): %s", dir, L.events, L.exe);
	for (size_t k = 1; L.argv[k]; k++)
		sh_out(sh, " %s", L.argv[k]);
	sh_out(sh, "\n");
	sh_print_location(sh, sh_inf(sh)->cur, SP_SRC_AND_LOC, true);
	for (size_t k = 0; k < ncmds && !sh->quit; k++) {
		if (cmds[k][0] == '\x01')
			sh_source(sh, cmds[k] + 1);
		else
			sh_execute(sh, cmds[k]);
	}
	if (!batch && !sh->quit)
		sh_repl(sh);
	rc = sh->exit_code;
	if (batch && sh->failed && !rc)
		rc = 1;
	if (inf_alive(sh_inf(sh)))
		session_kill(&sh->sess);
	session_fini(&sh->sess);
	fflush(stdout);
	free(sh->last_line);
	free(sh->list_file);
	free(sh);
	rec_loaded_free(&L);
	free(dir);
	return rc;
}

int subcmd_replay(int argc, char **argv)
{
	bool auto_ = false, batch = false;
	const char *name = NULL;
	VEC(char *) cmds = { 0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--autopilot") || !strcmp(a, "-a"))
			auto_ = true;
		else if ((!strcmp(a, "-ex") || !strcmp(a, "--ex")) && i + 1 < argc)
			vec_push(&cmds, argv[++i]);
		else if ((!strcmp(a, "-x") || !strcmp(a, "--command")) && i + 1 < argc)
			vec_push(&cmds, xasprintf("\x01%s", argv[++i]));
		else if (!strcmp(a, "--batch") || !strcmp(a, "-batch"))
			batch = true;
		else if (a[0] == '-' && a[1])
			return fprintf(stderr, "rewind replay: unknown option \"%s\"\n", a), replay_usage();
		else if (!name)
			name = a;
		else
			return replay_usage();
	}
	int rc = auto_ ? autopilot(name) : replay_shell(name, cmds.v, cmds.n, batch);
	for (size_t k = 0; k < cmds.n; k++)
		if (cmds.v[k][0] == '\x01')
			free(cmds.v[k]);
	vec_free(&cmds);
	return rc;
}

/* ---- rewind ls, rewind dump ---- */

int subcmd_ls(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: rewind ls\n");
		return 2;
	}
	struct recdir_entry *v;
	size_t n;
	int e = recdir_list(NULL, &v, &n);
	if (e < 0) {
		fprintf(stderr, "rewind ls: %s\n", strerror(-e));
		return 1;
	}
	if (!n) {
		char *root = NULL;
		recdir_default_root(&root);
		printf("No recordings%s%s.\n", root ? " in " : "", root ? root : "");
		free(root);
		return 0;
	}
	struct sbuf b = { 0 };
	recdir_format_list(&b, v, n);
	fputs(sbuf_str(&b), stdout);
	sbuf_free(&b);
	recdir_list_free(v, n);
	return 0;
}

int subcmd_dump(int argc, char **argv)
{
	const char *name = NULL;
	uint64_t max = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			max = strtoull(argv[++i], NULL, 10);
		else if (argv[i][0] == '-' && argv[i][1])
			return fprintf(stderr, "usage: rewind dump [-n MAX] [DIR|NAME]\n"), 2;
		else
			name = argv[i];
	}
	char *dir;
	if (recdir_resolve(NULL, name, &dir) < 0) {
		fprintf(stderr, "rewind dump: no recording %s\n", name ? name : "(latest)");
		return 2;
	}
	char *path = xasprintf("%s/trace", dir);
	struct trace_reader *r;
	struct trace_error te = { 0 };
	int e = trace_reader_open(path, &r, &te);
	if (e < 0) {
		fprintf(stderr, "rewind dump: %s: %s\n", path, te.msg[0] ? te.msg : strerror(-e));
		free(path);
		free(dir);
		return 2;
	}
	struct sbuf b = { 0 };
	trace_dump_info(&b, trace_reader_info(r));
	fputs(sbuf_str(&b), stdout);
	sbuf_reset(&b);
	e = trace_dump(r, &b, max);
	fputs(sbuf_str(&b), stdout);
	sbuf_free(&b);
	trace_reader_close(r);
	free(path);
	free(dir);
	return e == 0 || e == 1 ? 0 : 1;
}
