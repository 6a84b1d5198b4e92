/* recording_disk: recordings in a recording directory (recdir.h) — writing one
 * (events to the trace, executables and mapped files stored, the initial stack of
 * every exec kept), and loading one for replay (events into a branch up to the
 * first damaged record, the program as it was launched).
 *
 * Stack images. A replay execs the stored copy of an executable, whose path is not
 * the recorded one, and the kernel lays the new stack out around that path (and new
 * AT_RANDOM bytes). So at every exec the recorder keeps the new stack from rsp to
 * its top, and the replayer writes it back at the same exec: the program starts
 * with the recorded argv, environment and auxiliary vector at the recorded
 * addresses. DIR/stacks/N holds the image of the exec logged as event N (0: the
 * initial one): "RWSTACK1", u64 rsp, u64 length, bytes. */
#include "replay/record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/maps.h"
#include "replay/recdir.h"

#define STACK_MAGIC "RWSTACK1"
#define STACK_MAX (8u << 20)

void rec_set_disk(struct rec_engine *e, struct trace_writer *w, struct recdir *rd)
{
	e->tw = w;
	e->disk = true;
	if (e->tmpdir) {
		if (e->rd)
			recdir_close(e->rd);
		char *cmd = xasprintf("rm -rf -- '%s'", e->tmpdir);
		if (system(cmd) != 0)
			pr_warn(LM_REPLAY, "could not remove %s", e->tmpdir);
		free(cmd);
		free(e->tmpdir);
		e->tmpdir = NULL;
	}
	e->rd = rd;
}

void rec_set_emit(struct rec_engine *e, bool on)
{
	e->emit_fd = on ? 1 : -1;
}

/* ---- stack images ---- */

static char *stack_file(struct rec_engine *e, uint64_t event)
{
	return xasprintf("%s/stacks/%" PRIu64, e->rd_abs ? e->rd_abs : recdir_path(e->rd), event);
}

int rec_stack_save(struct rec_engine *e, struct task *t, uint64_t event)
{
	struct user_regs_struct *r;
	int err = task_get_regs(t, &r);
	if (err < 0)
		return err;
	struct maps maps;
	if ((err = maps_read(t->proc->pid, &maps)) < 0)
		return err;
	const struct map_entry *m = maps_find(&maps, r->rsp);
	uint64_t end = m ? m->end : 0;
	maps_free(&maps);
	if (!m || end - r->rsp > STACK_MAX)
		return -ERANGE;
	size_t len = (size_t)(end - r->rsp);
	uint8_t *img = xmalloc(len + 24);
	memcpy(img, STACK_MAGIC, 8);
	memcpy(img + 8, &r->rsp, 8);
	uint64_t l = len;
	memcpy(img + 16, &l, 8);
	err = proc_read_raw(t->proc, RADDR(r->rsp), img + 24, len);
	char *dir = xasprintf("%s/stacks", recdir_path(e->rd));
	mkdir(dir, 0700);
	free(dir);
	char *path = stack_file(e, event);
	if (err == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, img, len + 24) != (ssize_t)(len + 24))
			err = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (err < 0)
		pr_err(LM_REPLAY, "cannot save the initial stack of pid %d in %s: %s", t->proc->pid,
		       path, strerror(-err));
	free(path);
	free(img);
	return err;
}

int rec_stack_apply(struct rec_engine *e, struct task *t, uint64_t event, struct sbuf *err)
{
	char *path = stack_file(e, event), *img = NULL;
	size_t len = 0;
	int r = read_file(path, &img, &len);
	if (r < 0) {
		sbuf_printf(err, "the recording has no initial stack for event %" PRIu64 " (%s: %s)",
			    event, path, strerror(-r));
		free(path);
		return r;
	}
	uint64_t rsp, n;
	if (len < 24 || memcmp(img, STACK_MAGIC, 8)) {
		sbuf_printf(err, "%s is not a stack image", path);
		r = -EBADMSG;
		goto out;
	}
	memcpy(&rsp, img + 8, 8);
	memcpy(&n, img + 16, 8);
	if (n != len - 24) {
		sbuf_printf(err, "%s is truncated", path);
		r = -EBADMSG;
		goto out;
	}
	struct user_regs_struct *regs;
	if ((r = task_get_regs(t, &regs)) < 0)
		goto out;
	if (regs->rsp < rsp && rsp - regs->rsp <= STACK_MAX) {
		/* The kernel built this stack for the stored copy of the program, whose
		 * longer path pushed it lower: clear what lies below the recorded one, as
		 * it was (untouched) in the recording. */
		size_t gap = (size_t)(rsp - regs->rsp);
		uint8_t *zero = xcalloc(1, gap);
		proc_write_raw(t->proc, RADDR(regs->rsp), zero, gap);
		free(zero);
	}
	r = proc_write_raw(t->proc, RADDR(rsp), img + 24, n);
	if (r < 0) {
		sbuf_printf(err, "the recorded stack (%" PRIu64 " bytes at %#" PRIx64 ") does not fit "
			    "the replayed process: %s", n, rsp, strerror(-r));
		goto out;
	}
	regs->rsp = rsp;
	t->regs_dirty = true;
out:
	free(img);
	free(path);
	return r;
}

/* ---- loading ---- */

static char **strv_dup(const char *const *v, size_t n)
{
	char **d = xcalloc(n + 1, sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void rec_loaded_free(struct rec_loaded *l)
{
	free(l->dir);
	free(l->exe);
	free(l->stored_exe);
	strv_free(l->argv);
	strv_free(l->env);
	free(l->cwd);
	memset(l, 0, sizeof *l);
}

int rec_load(struct rec_engine *e, const char *dir, struct rec_loaded *out, struct sbuf *err)
{
	memset(out, 0, sizeof *out);
	struct recdir *rd;
	int r = recdir_open(dir, &rd);
	if (r < 0) {
		sbuf_printf(err, "%s: %s", dir, r == -ENOENT ? "no recording there" :
			    r == -EPERM ? "not a private directory of yours (refused)" : strerror(-r));
		return r;
	}
	char *tpath = recdir_file(rd, "trace");
	struct trace_reader *tr;
	struct trace_error te = { 0 };
	r = trace_reader_open(tpath, &tr, &te);
	free(tpath);
	if (r < 0) {
		if (r == -EPROTONOSUPPORT)
			sbuf_printf(err, "%s was recorded by a newer rewind (%s); this one reads trace "
				    "format %d.x: upgrade rewind to replay it", dir, te.msg,
				    TRACE_VERSION_MAJOR);
		else if (te.msg[0])
			sbuf_printf(err, "%s: the trace cannot be read: %s", dir, te.msg);
		else
			sbuf_printf(err, "%s: the trace cannot be read: %s", dir, strerror(-r));
		recdir_close(rd);
		return r;
	}
	struct rec_branch *b = rec_branch_new(e->next_branch++);
	struct trace_ev ev;
	bool have_meta = false;
	while ((r = trace_next(tr, &ev)) == 1) {
		if (rec_branch_append(b, &ev) < 0) {
			r = -EBADMSG;
			snprintf(out->damage, sizeof out->damage, "event %" PRIu64 " cannot be used",
				 ev.num);
			break;
		}
		if (ev.type == TR_META && !have_meta) {
			have_meta = true;
			out->pid = ev.meta.pid;
			out->exe = xstrdup(ev.meta.exe);
			out->cwd = xstrdup(ev.meta.cwd);
			out->argv = strv_dup(ev.meta.argv, ev.meta.argc);
			out->env = strv_dup(ev.meta.env, ev.meta.envc);
			e->have_rec_cpu = ev.meta.have_cpu;
			e->rec_cpu = ev.meta.cpu;
		}
		if (ev.type == TR_END) {
			out->finished = true;
			out->status = (int)ev.end.status;
		}
	}
	if (r == -EBADMSG)
		snprintf(out->damage, sizeof out->damage, "%s", trace_reader_error(tr)->msg);
	else if (r == -ENODATA)
		snprintf(out->damage, sizeof out->damage, "the recording was cut short: no end "
			 "record after event %" PRIu64, rec_branch_len(b) ? rec_branch_len(b) - 1 : 0);
	trace_reader_close(tr);
	if (!have_meta) {
		sbuf_printf(err, "%s: the trace has no description of the program%s%s", dir,
			    out->damage[0] ? ": " : "", out->damage);
		rec_branch_unref(b);
		recdir_close(rd);
		rec_loaded_free(out);
		return -EBADMSG;
	}
	const char *stored;
	r = recdir_lookup(rd, out->exe, NULL, &stored);
	if (r < 0) {
		sbuf_printf(err, "%s: no stored copy of %s (%s)", dir, out->exe,
			    r == -ESTALE ? "it was modified since" : strerror(-r));
		rec_branch_unref(b);
		recdir_close(rd);
		rec_loaded_free(out);
		return r;
	}
	char abs[PATH_MAX];
	if (!realpath(recdir_path(rd), abs))
		snprintf(abs, sizeof abs, "%s", recdir_path(rd));
	out->dir = xstrdup(abs);
	out->stored_exe = xasprintf("%s/%s", abs, stored);
	out->events = rec_branch_len(b);
	/* The engine replays this branch from its start, offline. */
	if (e->rd && e->tmpdir) {
		recdir_close(e->rd);
		char *cmd = xasprintf("rm -rf -- '%s'", e->tmpdir);
		if (system(cmd) != 0)
			pr_warn(LM_REPLAY, "could not remove %s", e->tmpdir);
		free(cmd);
		free(e->tmpdir);
		e->tmpdir = NULL;
	} else if (e->rd && e->offline) {
		recdir_close(e->rd);
	}
	e->rd = rd;
	free(e->rd_abs);
	e->rd_abs = xstrdup(abs);
	rec_branch_unref(e->loaded);
	e->loaded = b;
	e->offline = true;
	e->live_at_end = false;
	e->rec_pid = out->pid;
	snprintf(e->damage, sizeof e->damage, "%s", out->damage);
	return 0;
}

const char *rec_stored_path(struct rec_engine *e, const char *orig)
{
	const char *stored;
	if (!e->rd || recdir_lookup(e->rd, orig, NULL, &stored) < 0)
		return NULL;
	free(e->scratch_path);
	e->scratch_path = xasprintf("%s/%s", e->rd_abs ? e->rd_abs : recdir_path(e->rd), stored);
	return e->scratch_path;
}
