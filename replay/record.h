/* record: the record/replay engine of a session — one inf_policy that records the
 * program's nondeterministic inputs while it runs live and replays them after the
 * user went back to a checkpoint (docs/architecture.md, "Determinism").
 *
 * Recording. Before exec the child installs the seccomp filter built from the
 * syscall table (trapped calls stop with PTRACE_EVENT_SECCOMP) and makes rdtsc fault
 * (PR_SET_TSC). At each trapped call the engine lets the call run to its exit stop
 * and logs number, arguments, result and the memory the kernel wrote (sc_outs);
 * a faulting rdtsc is executed by rewind and its value logged; the vDSO's time
 * functions are patched into real syscalls so they are trapped too.
 *
 * Replaying. From a checkpoint, every trapped call is matched against the next
 * event (same thread, number and arguments, or the replay stops with a divergence
 * report) and, by class: skipped with the recorded result and out-buffers written
 * back (input, output), executed and then given the recorded result (state), or
 * re-created from the stored copy of the file (file mmap). Descriptors a skipped
 * call created are mirrored by placeholders so the descriptor table stays the same.
 * When the log is exhausted the program goes live: recording resumes at the end of
 * the log and the user is told.
 *
 * Changing the program's state while replaying (or recording) — a memory or
 * register write, an inferior call — makes the recorded future invalid: the engine
 * forks a new branch at the current event and the program runs live from there
 * (recording.h). Checkpoints remember their branch and event number; restoring one
 * replays from there.
 *
 * Everything is per session; the engine plugs in through inf->policy and
 * inf->child_setup and never prints (messages go through inf_notice or err). */
#ifndef REWIND_RECORD_H
#define REWIND_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/inferior.h"
#include "replay/checkpoint.h"

struct rec_engine;
struct trace_writer;
struct recdir;

enum rec_mode {
	REC_OFF,          /* not recording: the program runs untouched */
	REC_RECORDING,    /* live, appending to the current branch */
	REC_REPLAYING,    /* re-executing from the log */
};

/* A new engine (recording enabled, nothing running). Returns 0 or -errno. */
int rec_new(struct rec_engine **out);
/* Stop recording (the policy is removed from inf) and free everything. */
void rec_free(struct rec_engine *e, struct inferior *inf);

/* `set record on|off`: whether the next launch records. Turning it off while a
 * program runs stops recording it now (the log so far stays replayable). */
void rec_set_enabled(struct rec_engine *e, struct inferior *inf, bool on);
bool rec_enabled(const struct rec_engine *e);
enum rec_mode rec_mode(const struct rec_engine *e);

/* Before inf_launch: install the engine's child_setup (seccomp filter, rdtsc trap)
 * in inf when recording is enabled; clear it otherwise. Returns 0 or -errno (the
 * filter could not be built: err says why). */
int rec_prepare_launch(struct rec_engine *e, struct inferior *inf, struct sbuf *err);
/* After a successful inf_launch: start a recording of the program, which stands at
 * its first instruction (vDSO patched, policy installed, new branch). No-op when
 * recording is disabled. Returns 0 or -errno with err filled. */
int rec_start(struct rec_engine *e, struct inferior *inf, struct sbuf *err);
/* After inf_attach: install the filter and the rdtsc trap into the running process
 * by injection and start recording from this point. */
int rec_start_attached(struct rec_engine *e, struct inferior *inf, struct sbuf *err);
/* The program is gone (killed, detached or exited): the log stays for checkpoints. */
void rec_program_gone(struct rec_engine *e, struct inferior *inf);

/* ---- recordings on disk (recording_disk.c) ---- */

/* Record to disk: every event goes to w (none is kept in memory), executables and
 * mapped files are stored in rd with the initial stack of every exec. Takes
 * neither; call before rec_start. */
void rec_set_disk(struct rec_engine *e, struct trace_writer *w, struct recdir *rd);

/* What rec_load() found in a recording. */
struct rec_loaded {
	char *dir;                 /* absolute path of the recording */
	char *exe;                 /* the program as recorded, and its stored copy */
	char *stored_exe;
	char **argv, **env;        /* NULL-terminated, as recorded */
	char *cwd;
	pid_t pid;                 /* the recorded process id */
	uint64_t events;           /* readable events */
	bool finished;             /* an END record was read */
	int status;                /* its wait status */
	char damage[300];          /* why reading stopped early ("" if it did not) */
};

/* Load the recording in dir for replay: every readable event goes into a branch the
 * next launch replays from its start (offline: executables and mapped files from the
 * stored copies; at the end of the log the replay stops, SR_HISTORY_END). A damaged
 * or interrupted trace loads up to its first bad record (out->damage says where and
 * why; the replay stops there with SR_ERROR). Returns 0, or -errno with err filled
 * (-EPROTONOSUPPORT: written by a newer rewind; -ENOENT: no recording). */
int rec_load(struct rec_engine *e, const char *dir, struct rec_loaded *out, struct sbuf *err);
void rec_loaded_free(struct rec_loaded *l);
/* Replay: re-emit the program's recorded writes to descriptors 1 and 2 on rewind's
 * own stdout and stderr (`replay --autopilot`). */
void rec_set_emit(struct rec_engine *e, bool on);
/* A checksum of the program's writable memory taken when its initial process made
 * exit_group (recording and replaying alike): 0 and *out, or -ENOENT if it has not. */
int rec_exit_checksum(const struct rec_engine *e, uint64_t *out);
/* The session replays a loaded recording (rec_load), not the program's live run. */
bool rec_offline(const struct rec_engine *e);
/* The last divergence report ("" if none). */
const char *rec_last_divergence(const struct rec_engine *e);

/* Events of the current branch so far, and the current event number (the index of
 * the next event to record or replay). */
uint64_t rec_log_len(const struct rec_engine *e);
uint64_t rec_event_now(const struct rec_engine *e);
/* One-line summary for `info record`. */
void rec_describe(const struct rec_engine *e, struct sbuf *out);

/* ---- hooks for the session ---- */

/* A checkpoint was taken now: remember its branch and event number. Entries of
 * checkpoints no longer in l are dropped. */
void rec_checkpoint_taken(struct rec_engine *e, struct ckpt_list *l, const struct checkpoint *c);
/* Checkpoint c was restored: replay from its event (or record, at the end of its
 * branch). Its tasks are stopped outside any syscall. */
void rec_checkpoint_restored(struct rec_engine *e, struct inferior *inf, const struct checkpoint *c);
/* The event number checkpoint id was taken at, or -1 if it has none. */
int64_t rec_checkpoint_event(const struct rec_engine *e, int id);
/* A stop was reported to the user: note the program's state so that a change made
 * before the next resume is noticed. */
void rec_after_stop(struct rec_engine *e, struct inferior *inf);
/* The program stopped for the user: while recording, the calls its agent logged
 * in-process go into the log now (a reverse command replays up to here). */
void rec_stopped(struct rec_engine *e, struct inferior *inf);
/* The program is about to move: if the user changed its memory or registers since
 * the last stop, fork the history at this event and continue live (notice says so). */
void rec_before_resume(struct rec_engine *e, struct inferior *inf);

/* Taking a snapshot runs a fork inside the program, on its CPU clock: the tasks'
 * clocks leave out what passes between rec_cpu_hold and rec_cpu_release, so that
 * a position's run_ns and a replay's approach to it measure the program alone. */
void rec_cpu_hold(struct rec_engine *e, struct inferior *inf);
void rec_cpu_release(struct rec_engine *e, struct inferior *inf);

#endif
