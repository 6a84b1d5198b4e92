/* recdir: the on-disk layout of a recording.
 *
 *   DIR/            mode 0700; refused if owned by another user or writable by
 *                   group or others (it holds copies of everything the program read)
 *   DIR/trace       the event log (trace.h)
 *   DIR/meta        text, one "key value" per line (values escaped): rewind version,
 *                   program, cwd, start time, argv, env, and the exit status once the
 *                   recording has finished
 *   DIR/files/      the executable and every mapped file, one name per version:
 *                   BASENAME-HASH where HASH covers (device, inode, size, mtime,
 *                   ctime), so the same path rewritten during the run gets a second
 *                   copy and the two coexist
 *   DIR/files/index original path -> stored copy, one tab-separated line each
 *
 * Stored copies are read-only (0400) with the original's modification time. A file
 * owned by root and not writable by group or others (/usr/lib/...) is hard-linked
 * when on the same filesystem: only root can change it, and package managers
 * replace files by rename, which leaves the link on the old version. Any other
 * file is copied: a link would follow in-place modifications. recdir_lookup()
 * notices a stored file whose size or time no longer match (-ESTALE).
 *
 * Default root: $XDG_DATA_HOME/rewind (absolute paths only), else
 * ~/.local/share/rewind; recordings are ROOT/PROGNAME-N with ROOT/latest a
 * symlink to the newest. */
#ifndef REWIND_RECDIR_H
#define REWIND_RECDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/util.h"

struct recdir;

struct recdir_meta {
	char *rewind_version;
	char *program;             /* the executable's path */
	char *cwd;
	int64_t start;             /* seconds since the epoch */
	char **argv;
	size_t argc;
	char **env;
	size_t envc;
	bool finished;             /* the recording ended and status is known */
	int status;                /* wait status of the initial process */
};

/* The default root ($XDG_DATA_HOME/rewind or $HOME/.local/share/rewind), not
 * created. Returns 0 or -ENOENT (neither variable usable). *out is malloc'd. */
int recdir_default_root(char **out);

/* Create a recording directory. With dir non-NULL, exactly that directory (it may
 * exist if it is ours, private and holds no recording; its parent must exist).
 * Otherwise ROOT/PROGNAME-N under root (NULL: the default root, created 0700 with
 * its missing parents), and ROOT/latest points to it. progname: argv[0] or the
 * program path (its base name, made safe, is used). Returns 0, -EPERM (a directory
 * owned by someone else or writable by others), -EEXIST (dir holds a recording),
 * or -errno. */
int recdir_create(const char *root, const char *dir, const char *progname,
		  struct recdir **out);
/* Open an existing recording (checks ownership and mode, loads the file index).
 * Returns 0, -EPERM, -ENOENT (no such recording), -EBADMSG (damaged index). */
int recdir_open(const char *dir, struct recdir **out);
void recdir_close(struct recdir *rd);

const char *recdir_path(const struct recdir *rd);
/* DIR/name, malloc'd (e.g. recdir_file(rd, "trace")). */
char *recdir_file(const struct recdir *rd, const char *name);

/* Store the file at path (a regular file) unless this version is stored already;
 * *stored (owned by rd) gets its name relative to DIR ("files/libc.so.6-1a2b...").
 * Returns 0, -EINVAL (not a regular file), -EAGAIN (it changed while being
 * copied), or -errno. */
int recdir_store(struct recdir *rd, const char *path, const char **stored);
/* The stored copy of path: the version with identity st when st is non-NULL, else
 * the last one stored. *stored (owned by rd) as above. Returns 0, -ENOENT, or
 * -ESTALE when the stored file was modified since (size or time differ). */
int recdir_lookup(const struct recdir *rd, const char *path, const struct stat *st,
		  const char **stored);

/* Write DIR/meta atomically (again at the end, with finished and status).
 * Returns 0 or -errno. */
int recdir_write_meta(const struct recdir *rd, const struct recdir_meta *m);
/* Read DIR/meta of the recording in dir. Returns 0, -ENOENT, -EBADMSG. */
int recdir_read_meta(const char *dir, struct recdir_meta *m);
void recdir_meta_free(struct recdir_meta *m);

/* A path for a recording named by the user: an existing path as is, else
 * ROOT/name (root NULL: the default root), "latest" or NULL meaning ROOT/latest
 * resolved. Returns 0 or -ENOENT. *out is malloc'd. */
int recdir_resolve(const char *root, const char *name, char **out);

/* One recording under a root, for `rewind ls`. */
struct recdir_entry {
	char *name;
	char *program;
	int64_t start;
	uint64_t size;             /* bytes on disk, hard links to originals excluded */
	bool finished;
	int status;
	bool latest;               /* ROOT/latest points here */
};

/* Every recording under root (NULL: the default root), oldest first. Entries
 * without a readable meta file are skipped. Returns 0 (none when the root does
 * not exist) or -errno. */
int recdir_list(const char *root, struct recdir_entry **out, size_t *n);
void recdir_list_free(struct recdir_entry *v, size_t n);
/* A table with a header line: NAME PROGRAM DATE SIZE STATUS (local time). */
void recdir_format_list(struct sbuf *out, const struct recdir_entry *v, size_t n);

#endif
