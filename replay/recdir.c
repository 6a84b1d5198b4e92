/* recdir: recording directories, stored copies of mapped files, meta, listing. */
#include "replay/recdir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define META_MAGIC "rewind-meta 1"

/* One stored version of a file (a line of files/index). */
struct stored {
	char *name;                /* "files/BASE-HASH" */
	char *path;                /* the original */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	bool link;
};

struct recdir {
	char *path;
	struct { struct stored *v; size_t n, cap; } files;
};

static int64_t ts_ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

/* ---- escaping for the text files: \\ \n \t and \xNN for other control bytes ---- */

static void esc(struct sbuf *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\')
			sbuf_puts(o, "\\\\");
		else if (c == '\n')
			sbuf_puts(o, "\\n");
		else if (c == '\t')
			sbuf_puts(o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sbuf_printf(o, "\\x%02x", c);
		else
			sbuf_putc(o, (char)c);
	}
}

static char *unesc(const char *s, size_t n)
{
	struct sbuf o = { 0 };
	sbuf_puts(&o, "");
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			sbuf_putc(&o, s[i]);
			continue;
		}
		if (++i >= n)
			goto bad;
		if (s[i] == '\\' || s[i] == 'n' || s[i] == 't') {
			sbuf_putc(&o, s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : '\\');
		} else if (s[i] == 'x' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
			   isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			long v = strtol(hex, NULL, 16);
			if (!v)
				goto bad;   /* a NUL cannot be part of a C string */
			sbuf_putc(&o, (char)v);
			i += 2;
		} else {
			goto bad;
		}
	}
	return sbuf_steal(&o);
bad:
	sbuf_free(&o);
	return NULL;
}

/* ---- directories ---- */

/* A directory rewind keeps recordings in must be a real directory of ours that
 * nobody else can write to. */
static int check_private(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		int e = -errno;
		pr_err(LM_REPLAY, "recording directory %s: %s", path, strerror(errno));
		return e;
	}
	if (S_ISLNK(st.st_mode)) {
		pr_err(LM_REPLAY, "recording directory %s is a symbolic link", path);
		return -EPERM;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err(LM_REPLAY, "recording directory %s is not a directory", path);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		pr_err(LM_REPLAY, "recording directory %s is owned by uid %u, not by uid %u", path,
		       (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 022) {
		pr_err(LM_REPLAY, "recording directory %s is writable by %s (mode %04o)", path,
		       (st.st_mode & 002) ? "others" : "its group", (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* mkdir -p with mode 0700 for the components it creates. */
static int mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	int e = 0;
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0700) == 0)
			chmod(p, 0700);
		else if (errno != EEXIST)
			e = -errno;
		*s = c;
		if (!c || e)
			break;
	}
	if (e)
		pr_err(LM_REPLAY, "cannot create %s: %s", path, strerror(-e));
	free(p);
	return e;
}

int recdir_default_root(char **out)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (x && x[0] == '/') {
		*out = xasprintf("%s/rewind", x);
		return 0;
	}
	if (!home || home[0] != '/') {
		struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || home[0] != '/')
		return -ENOENT;
	*out = xasprintf("%s/.local/share/rewind", home);
	return 0;
}

/* argv[0] reduced to a safe base name: [A-Za-z0-9._+-], at most 64 bytes. */
static char *safe_base(const char *prog)
{
	const char *b = prog && *prog ? strrchr(prog, '/') : NULL;
	b = b ? b + 1 : prog && *prog ? prog : "prog";
	char *s = xstrndup(*b ? b : "prog", 64);
	for (char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '+' || *c == '-'))
			*c = '_';
	if (s[0] == '.')
		s[0] = '_';   /* no hidden names, no "." or ".." */
	return s;
}

static unsigned next_number(const char *root, const char *base)
{
	unsigned max = 0;
	size_t bl = strlen(base);
	DIR *d = opendir(root);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		if (strncmp(de->d_name, base, bl) || de->d_name[bl] != '-')
			continue;
		unsigned long n = strtoul(de->d_name + bl + 1, &end, 10);
		if (!*end && n < 1000000000 && n > max)
			max = (unsigned)n;
	}
	if (d)
		closedir(d);
	return max + 1;
}

static void point_latest(const char *root, const char *name)
{
	char *tmp = xasprintf("%s/.latest-%d", root, (int)getpid());
	char *latest = xasprintf("%s/latest", root);
	unlink(tmp);
	if (symlink(name, tmp) < 0 || rename(tmp, latest) < 0) {
		pr_warn(LM_REPLAY, "cannot point %s at %s: %s", latest, name, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(latest);
}

static bool exists(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	bool r = lstat(p, &st) == 0;
	free(p);
	return r;
}

int recdir_create(const char *root, const char *dir, const char *progname,
		  struct recdir **out)
{
	char *path = NULL, *myroot = NULL;
	int e = 0;
	if (dir) {
		if (mkdir(dir, 0700) == 0)
			chmod(dir, 0700);
		else if (errno != EEXIST) {
			e = -errno;
			pr_err(LM_REPLAY, "cannot create %s: %s", dir, strerror(errno));
			return e;
		}
		if ((e = check_private(dir)))
			return e;
		if (exists(dir, "trace") || exists(dir, "meta")) {
			pr_err(LM_REPLAY, "%s already holds a recording", dir);
			return -EEXIST;
		}
		path = xstrdup(dir);
	} else {
		if (!root && (e = recdir_default_root(&myroot))) {
			pr_err(LM_REPLAY, "no place for recordings: set XDG_DATA_HOME or HOME");
			return e;
		}
		root = root ? root : myroot;
		if ((e = mkdir_p(root)) || (e = check_private(root))) {
			free(myroot);
			return e;
		}
		char *base = safe_base(progname);
		for (unsigned n = next_number(root, base), tries = 0;; n++, tries++) {
			free(path);
			path = xasprintf("%s/%s-%u", root, base, n);
			if (mkdir(path, 0700) == 0) {
				chmod(path, 0700);
				point_latest(root, strrchr(path, '/') + 1);
				break;
			}
			if (errno != EEXIST || tries > 1000) {
				e = -errno;
				pr_err(LM_REPLAY, "cannot create %s: %s", path, strerror(errno));
				break;
			}
		}
		free(base);
		free(myroot);
	}
	char *files = e ? NULL : xasprintf("%s/files", path);
	if (!e && mkdir(files, 0700) < 0 && errno != EEXIST) {
		e = -errno;
		pr_err(LM_REPLAY, "cannot create %s: %s", files, strerror(errno));
	}
	free(files);
	if (e) {
		free(path);
		return e;
	}
	struct recdir *rd = xcalloc(1, sizeof *rd);
	rd->path = path;
	*out = rd;
	return 0;
}

/* ---- the file index ---- */

static void free_stored(struct stored *s) { free(s->name); free(s->path); }

static int parse_index_line(char *line, struct stored *s)
{
	char *f[8];
	int n = 0;
	for (char *p = line; n < 8; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p) {
			n++;
			break;
		}
		*p++ = 0;
	}
	if (n != 8 || strncmp(f[0], "files/", 6) || strchr(f[0] + 6, '/') || !f[0][6])
		return -EBADMSG;
	uint64_t v[5];
	for (int i = 0; i < 5; i++) {
		char *end;
		errno = 0;
		v[i] = strtoull(f[i + 1], &end, 10);
		if (errno || *end || end == f[i + 1])
			return -EBADMSG;
	}
	if (strcmp(f[6], "link") && strcmp(f[6], "copy"))
		return -EBADMSG;
	char *path = unesc(f[7], strlen(f[7]));
	if (!path)
		return -EBADMSG;
	*s = (struct stored){ .name = xstrdup(f[0]), .path = path, .dev = v[0], .ino = v[1],
			      .size = v[2], .mtime_ns = (int64_t)v[3], .ctime_ns = (int64_t)v[4],
			      .link = !strcmp(f[6], "link") };
	return 0;
}

static int load_index(struct recdir *rd)
{
	char *idx = xasprintf("%s/files/index", rd->path), *text;
	size_t len;
	int e = read_file(idx, &text, &len);
	if (e) {
		free(idx);
		return e == -ENOENT ? 0 : e;
	}
	int lineno = 0;
	for (char *line = text, *nl; !e && line < text + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(text + len - line));
		if (!nl) {
			e = -EBADMSG;   /* a line cut short: the index was being written */
			break;
		}
		*nl = 0;
		lineno++;
		struct stored s;
		if ((e = parse_index_line(line, &s)) == 0)
			vec_push(&rd->files, s);
	}
	if (e)
		pr_err(LM_REPLAY, "%s: line %d is damaged", idx, lineno + 1);
	free(text);
	free(idx);
	return e;
}

int recdir_open(const char *dir, struct recdir **out)
{
	int e = check_private(dir);
	if (e)
		return e;
	if (!exists(dir, "trace") && !exists(dir, "meta")) {
		pr_err(LM_REPLAY, "%s is not a recording (no trace, no meta)", dir);
		return -ENOENT;
	}
	struct recdir *rd = xcalloc(1, sizeof *rd);
	rd->path = xstrdup(dir);
	if ((e = load_index(rd))) {
		recdir_close(rd);
		return e;
	}
	*out = rd;
	return 0;
}

void recdir_close(struct recdir *rd)
{
	if (!rd)
		return;
	for (size_t i = 0; i < rd->files.n; i++)
		free_stored(&rd->files.v[i]);
	vec_free(&rd->files);
	free(rd->path);
	free(rd);
}

const char *recdir_path(const struct recdir *rd) { return rd->path; }

char *recdir_file(const struct recdir *rd, const char *name)
{
	return xasprintf("%s/%s", rd->path, name);
}

static bool same_version(const struct stored *s, const struct stat *st)
{
	/* A hard link is the same inode, whose ctime the link itself (and every other
	 * recording's) changes: its identity is device, inode, size and mtime. */
	return s->dev == st->st_dev && s->ino == st->st_ino && s->size == (uint64_t)st->st_size &&
	       s->mtime_ns == ts_ns(st->st_mtim) && (s->link || s->ctime_ns == ts_ns(st->st_ctim));
}

static int copy_file(const char *src, const struct stat *before, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	char *tmp = xasprintf("%s.tmp-%d", dst, (int)getpid());
	int o = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), e = 0;
	if (o < 0)
		e = -errno;
	bool plain = false;
	while (!e) {
		ssize_t n = plain ? 0 : copy_file_range(in, NULL, o, NULL, 1 << 30, 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
			      errno == EOPNOTSUPP)) {
			plain = true;
		} else if (n < 0) {
			e = -errno;
		} else if (n == 0 && !plain) {
			break;
		}
		if (!plain)
			continue;
		char buf[65536];
		ssize_t r = read(in, buf, sizeof buf);
		if (r <= 0) {
			e = r < 0 ? -errno : 0;
			break;
		}
		for (ssize_t w = 0, k; w < r && !e; w += k)
			if ((k = write(o, buf + w, (size_t)(r - w))) < 0)
				e = -errno;
	}
	struct stat after;
	if (!e && (fstat(in, &after) < 0 || after.st_size != before->st_size ||
		   ts_ns(after.st_mtim) != ts_ns(before->st_mtim) ||
		   ts_ns(after.st_ctim) != ts_ns(before->st_ctim)))
		e = -EAGAIN;
	struct timespec times[2] = { before->st_atim, before->st_mtim };
	if (!e && (futimens(o, times) < 0 || fchmod(o, 0400) < 0))
		e = -errno;
	if (o >= 0 && close(o) < 0 && !e)
		e = -errno;
	close(in);
	if (!e && rename(tmp, dst) < 0)
		e = -errno;
	if (e)
		unlink(tmp);
	free(tmp);
	return e;
}

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

int recdir_store(struct recdir *rd, const char *path, const char **stored)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = -errno;
		pr_err(LM_REPLAY, "cannot store %s: %s", path, strerror(errno));
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err(LM_REPLAY, "cannot store %s: not a regular file", path);
		return -EINVAL;
	}
	for (size_t i = 0; i < rd->files.n; i++)
		if (same_version(&rd->files.v[i], &st)) {
			*stored = rd->files.v[i].name;
			return 0;
		}
	uint64_t id[5] = { st.st_dev, st.st_ino, (uint64_t)st.st_size,
			   (uint64_t)ts_ns(st.st_mtim), (uint64_t)ts_ns(st.st_ctim) };
	char *base = safe_base(path);
	struct stored s = { .name = xasprintf("files/%s-%016llx", base,
					      (unsigned long long)fnv1a(id, sizeof id, 0xcbf29ce484222325ull)),
			    .path = xstrdup(path), .dev = id[0], .ino = id[1], .size = id[2],
			    .mtime_ns = (int64_t)id[3], .ctime_ns = (int64_t)id[4] };
	free(base);
	char *full = recdir_file(rd, s.name);
	int e = 0;
	struct stat had;
	/* Root's read-only files are linked (see recdir.h); EXDEV or EPERM: copy. */
	if (st.st_uid == 0 && !(st.st_mode & 022) && link(path, full) == 0)
		s.link = true;
	else if (lstat(full, &had) < 0)
		e = copy_file(path, &st, full);
	/* else: stored before but its index line was lost; the name says it is this
	 * version, reuse it */
	free(full);
	if (!e) {
		struct sbuf line = { 0 };
		sbuf_printf(&line, "%s\t%llu\t%llu\t%llu\t%lld\t%lld\t%s\t", s.name,
			    (unsigned long long)s.dev, (unsigned long long)s.ino,
			    (unsigned long long)s.size, (long long)s.mtime_ns, (long long)s.ctime_ns,
			    s.link ? "link" : "copy");
		esc(&line, s.path);
		sbuf_putc(&line, '\n');
		char *idx = recdir_file(rd, "files/index");
		int fd = open(idx, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		errno = 0;
		if (fd < 0 || write(fd, line.s, line.len) != (ssize_t)line.len)
			e = errno ? -errno : -EIO;
		if (fd >= 0)
			close(fd);
		free(idx);
		sbuf_free(&line);
	}
	if (e) {
		pr_err(LM_REPLAY, "cannot store %s in %s: %s", path, rd->path, strerror(-e));
		free_stored(&s);
		return e;
	}
	vec_push(&rd->files, s);
	*stored = rd->files.v[rd->files.n - 1].name;
	return 0;
}

int recdir_lookup(const struct recdir *rd, const char *path, const struct stat *st,
		  const char **stored)
{
	for (size_t i = rd->files.n; i-- > 0;) {
		const struct stored *s = &rd->files.v[i];
		if (strcmp(s->path, path) || (st && !same_version(s, st)))
			continue;
		char *full = recdir_file(rd, s->name);
		struct stat now;
		int e = stat(full, &now) < 0 ? -errno : 0;
		if (!e && (now.st_size != (off_t)s->size || ts_ns(now.st_mtim) != s->mtime_ns)) {
			pr_warn(LM_REPLAY, "%s (the stored %s) was modified after recording", full, path);
			e = -ESTALE;
		}
		free(full);
		*stored = s->name;
		return e;
	}
	return -ENOENT;
}

/* ---- meta ---- */

static void meta_line(struct sbuf *o, const char *key, const char *val)
{
	sbuf_printf(o, "%s ", key);
	esc(o, val ? val : "");
	sbuf_putc(o, '\n');
}

int recdir_write_meta(const struct recdir *rd, const struct recdir_meta *m)
{
	struct sbuf o = { 0 };
	sbuf_puts(&o, META_MAGIC "\n");
	meta_line(&o, "version", m->rewind_version);
	meta_line(&o, "program", m->program);
	meta_line(&o, "cwd", m->cwd);
	sbuf_printf(&o, "start %lld\n", (long long)m->start);
	for (size_t i = 0; i < m->argc; i++)
		meta_line(&o, "argv", m->argv[i]);
	for (size_t i = 0; i < m->envc; i++)
		meta_line(&o, "env", m->env[i]);
	if (m->finished)
		sbuf_printf(&o, "status %d\n", m->status);
	char *tmp = recdir_file(rd, ".meta.tmp"), *dst = recdir_file(rd, "meta");
	errno = 0;
	int e = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, o.s, o.len) != (ssize_t)o.len || fsync(fd) < 0)
		e = errno ? -errno : -EIO;
	if (fd >= 0 && close(fd) < 0 && !e)
		e = -errno;
	if (!e && rename(tmp, dst) < 0)
		e = -errno;
	if (e) {
		unlink(tmp);
		pr_err(LM_REPLAY, "cannot write %s: %s", dst, strerror(-e));
	}
	free(tmp);
	free(dst);
	sbuf_free(&o);
	return e;
}

void recdir_meta_free(struct recdir_meta *m)
{
	for (size_t i = 0; i < m->argc; i++)
		free(m->argv[i]);
	for (size_t i = 0; i < m->envc; i++)
		free(m->env[i]);
	free(m->argv);
	free(m->env);
	free(m->rewind_version);
	free(m->program);
	free(m->cwd);
	memset(m, 0, sizeof *m);
}

static void push_str(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);   /* meta files are small */
	(*v)[(*n)++] = s;
}

int recdir_read_meta(const char *dir, struct recdir_meta *m)
{
	char *path = xasprintf("%s/meta", dir), *text;
	size_t len;
	int e = read_file(path, &text, &len);
	memset(m, 0, sizeof *m);
	if (e) {
		free(path);
		return e;
	}
	size_t ml = strlen(META_MAGIC);
	if (len <= ml || memcmp(text, META_MAGIC "\n", ml + 1))
		e = -EBADMSG;
	for (char *line = text + ml + 1, *nl; !e && line < text + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(text + len - line));
		char *sp = nl ? memchr(line, ' ', (size_t)(nl - line)) : NULL;
		char *val = sp ? unesc(sp + 1, (size_t)(nl - sp - 1)) : NULL;
		if (!val) {
			e = -EBADMSG;
			break;
		}
		size_t kl = (size_t)(sp - line);
#define KEY(k) (kl == strlen(k) && !memcmp(line, k, kl))
		char *end;
		if (KEY("version") || KEY("program") || KEY("cwd")) {
			char **slot = KEY("version") ? &m->rewind_version :
				      KEY("program") ? &m->program : &m->cwd;
			free(*slot);
			*slot = val;
			continue;
		} else if (KEY("argv")) {
			push_str(&m->argv, &m->argc, val);
			continue;
		} else if (KEY("env")) {
			push_str(&m->env, &m->envc, val);
			continue;
		} else if (KEY("start")) {
			m->start = strtoll(val, &end, 10);
			e = *end || !*val ? -EBADMSG : 0;
		} else if (KEY("status")) {
			m->status = (int)strtol(val, &end, 10);
			m->finished = true;
			e = *end || !*val ? -EBADMSG : 0;
		}   /* other keys: written by a newer rewind; ignored */
#undef KEY
		free(val);
	}
	if (e) {
		pr_warn(LM_REPLAY, "%s is damaged", path);
		recdir_meta_free(m);
	}
	free(text);
	free(path);
	return e;
}

/* ---- naming and listing ---- */

int recdir_resolve(const char *root, const char *name, char **out)
{
	struct stat st;
	char *myroot = NULL;
	if (name && strcmp(name, "latest") && stat(name, &st) == 0) {
		*out = xstrdup(name);
		return 0;
	}
	if (!root && recdir_default_root(&myroot))
		return -ENOENT;
	char *p = xasprintf("%s/%s", root ? root : myroot, name ? name : "latest");
	free(myroot);
	char *real = realpath(p, NULL);
	free(p);
	if (!real)
		return -ENOENT;
	*out = real;
	return 0;
}

static uint64_t usage(const char *dir, bool skip_links)
{
	uint64_t sum = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && !strcmp(de->d_name, "files")) {
			char *sub = xasprintf("%s/files", dir);
			sum += usage(sub, true);
			free(sub);
		} else if (S_ISREG(st.st_mode) && !(skip_links && st.st_nlink > 1)) {
			sum += (uint64_t)st.st_blocks * 512;
		}
	}
	if (d)
		closedir(d);
	return sum;
}

static int by_start(const void *a, const void *b)
{
	const struct recdir_entry *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->name, y->name);
}

int recdir_list(const char *root, struct recdir_entry **out, size_t *n)
{
	char *myroot = NULL;
	*out = NULL;
	*n = 0;
	if (!root && recdir_default_root(&myroot))
		return 0;
	root = root ? root : myroot;
	DIR *d = opendir(root);
	if (!d) {
		int e = errno == ENOENT ? 0 : -errno;
		free(myroot);
		return e;
	}
	char latest[256] = "";
	char *lp = xasprintf("%s/latest", root);
	ssize_t ll = readlink(lp, latest, sizeof latest - 1);
	latest[ll > 0 ? ll : 0] = 0;
	free(lp);
	struct { struct recdir_entry *v; size_t n, cap; } v = { 0 };
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "latest") ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		char *path = xasprintf("%s/%s", root, de->d_name);
		struct recdir_meta m;
		if (recdir_read_meta(path, &m) == 0) {
			struct recdir_entry en = { .name = xstrdup(de->d_name),
						   .program = xstrdup(m.program ? m.program : "?"),
						   .start = m.start, .size = usage(path, false),
						   .finished = m.finished, .status = m.status,
						   .latest = !strcmp(latest, de->d_name) };
			vec_push(&v, en);
			recdir_meta_free(&m);
		}
		free(path);
	}
	closedir(d);
	free(myroot);
	if (v.n)
		qsort(v.v, v.n, sizeof *v.v, by_start);
	*out = v.v;
	*n = v.n;
	return 0;
}

void recdir_list_free(struct recdir_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].program);
	}
	free(v);
}

static void human(struct sbuf *o, uint64_t b)
{
	double x = (double)b;
	int u = 0;
	for (; x >= 1024 && u < 4; u++)
		x /= 1024;
	if (u)
		sbuf_printf(o, "%.1f%c", x, "BKMGT"[u]);
	else
		sbuf_printf(o, "%lluB", (unsigned long long)b);
}

void recdir_format_list(struct sbuf *o, const struct recdir_entry *v, size_t n)
{
	int wn = 4, wp = 7;
	for (size_t i = 0; i < n; i++) {
		wn = MAX(wn, (int)strlen(v[i].name));
		wp = MAX(wp, (int)strlen(v[i].program));
	}
	sbuf_printf(o, "  %-*s  %-*s  %-19s  %7s  %s\n", wn, "NAME", wp, "PROGRAM", "DATE", "SIZE",
		    "STATUS");
	for (size_t i = 0; i < n; i++) {
		char when[32] = "?";
		time_t t = (time_t)v[i].start;
		struct tm tm;
		if (localtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		struct sbuf size = { 0 };
		human(&size, v[i].size);
		sbuf_printf(o, "%c %-*s  %-*s  %-19s  %7s  ", v[i].latest ? '*' : ' ', wn, v[i].name,
			    wp, v[i].program, when, sbuf_str(&size));
		sbuf_free(&size);
		int s = v[i].status;
		const char *sig = WIFSIGNALED(s) ? sigabbrev_np(WTERMSIG(s)) : NULL;
		if (!v[i].finished)
			sbuf_puts(o, "incomplete\n");
		else if (WIFEXITED(s))
			sbuf_printf(o, "exited %d\n", WEXITSTATUS(s));
		else
			sbuf_printf(o, "killed by SIG%s\n", sig ? sig : "?");
	}
}
