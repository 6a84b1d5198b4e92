/* The recording directory: permissions, names and latest, stored file versions,
 * meta, listing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "replay/recdir.h"

static char tmpdir[64];

static void mktmp(void)
{
	strcpy(tmpdir, "/tmp/rewind-recdir-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rmtmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	char *buf;
	cr_assert_eq(read_file(path, &buf, len), 0, "read %s", path);
	return (uint8_t *)buf;
}

TestSuite(recdir, .init = mktmp, .fini = rmtmp);

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s", path);
	return st.st_mode & 07777;
}

Test(recdir, explicit_dir_and_permissions)
{
	log_levels[LM_REPLAY] = -1;   /* refusals are logged */
	char *dir = tpath("rec");
	struct recdir *rd;
	cr_assert_eq(recdir_create(NULL, dir, "prog", &rd), 0);
	cr_expect_str_eq(recdir_path(rd), dir);
	cr_expect_eq(mode_of(dir), 0700);
	char *files = recdir_file(rd, "files");
	cr_expect_eq(mode_of(files), 0700);
	struct recdir_meta m = { .program = "/bin/prog", .start = 1 };
	cr_assert_eq(recdir_write_meta(rd, &m), 0);
	recdir_close(rd);
	cr_expect_eq(recdir_create(NULL, dir, "prog", &rd), -EEXIST, "holds a recording");
	cr_assert_eq(recdir_open(dir, &rd), 0);
	recdir_close(rd);

	chmod(dir, 0777);
	cr_expect_eq(recdir_open(dir, &rd), -EPERM, "writable by others");
	chmod(dir, 0720);
	cr_expect_eq(recdir_open(dir, &rd), -EPERM, "writable by the group");
	chmod(dir, 0700);
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	cr_expect_eq(recdir_open(dir, &rd), -EPERM, "owned by someone else");
	char *other = tpath("other");
	cr_assert_eq(mkdir(other, 0700), 0);
	cr_assert_eq(chown(other, 65534, 65534), 0);
	cr_expect_eq(recdir_create(NULL, other, "prog", &rd), -EPERM);
	char *link = tpath("link"), *mine = tpath("mine");
	cr_assert_eq(mkdir(mine, 0700), 0);
	cr_assert_eq(symlink(mine, link), 0);
	cr_expect_eq(recdir_create(NULL, link, "prog", &rd), -EPERM, "a symbolic link");
	cr_expect_eq(recdir_open(mine, &rd), -ENOENT, "not a recording");
	free(dir);
	free(files);
	free(other);
	free(link);
	free(mine);
}

Test(recdir, default_root_names_and_latest)
{
	char *xdg = tpath("xdg"), *root = tpath("xdg/rewind");
	setenv("XDG_DATA_HOME", xdg, 1);
	char *r;
	cr_assert_eq(recdir_default_root(&r), 0);
	cr_expect_str_eq(r, root);
	free(r);
	setenv("XDG_DATA_HOME", "relative/dir", 1);   /* ignored: not absolute */
	setenv("HOME", "/home/someone", 1);
	cr_assert_eq(recdir_default_root(&r), 0);
	cr_expect_str_eq(r, "/home/someone/.local/share/rewind");
	free(r);
	setenv("XDG_DATA_HOME", xdg, 1);

	struct recdir *a, *b, *c;
	cr_assert_eq(recdir_create(NULL, NULL, "/usr/bin/ls", &a), 0);
	cr_assert_eq(recdir_create(NULL, NULL, "ls", &b), 0);
	cr_assert_eq(recdir_create(NULL, NULL, "../we ird/../.x y", &c), 0);
	char *pa = xasprintf("%s/ls-1", root), *pb = xasprintf("%s/ls-2", root);
	char *pc = xasprintf("%s/_x_y-1", root);
	cr_expect_str_eq(recdir_path(a), pa);
	cr_expect_str_eq(recdir_path(b), pb);
	cr_expect_str_eq(recdir_path(c), pc);
	cr_expect_eq(mode_of(root), 0700, "root created private");
	cr_expect_eq(mode_of(xdg), 0700);
	char *latest = xasprintf("%s/latest", root), target[64] = "";
	cr_assert_gt(readlink(latest, target, sizeof target - 1), 0);
	cr_expect_str_eq(target, "_x_y-1");
	char *res;
	cr_assert_eq(recdir_resolve(NULL, NULL, &res), 0);
	cr_expect_str_eq(res, pc);
	free(res);
	cr_assert_eq(recdir_resolve(NULL, "ls-1", &res), 0);
	cr_expect_str_eq(res, pa);
	free(res);
	cr_assert_eq(recdir_resolve(NULL, pb, &res), 0, "a path");
	cr_expect_str_eq(res, pb);
	free(res);
	cr_expect_eq(recdir_resolve(NULL, "ls-9", &res), -ENOENT);
	recdir_close(a);
	recdir_close(b);
	recdir_close(c);

	/* A root others can write to is refused. */
	log_levels[LM_REPLAY] = -1;
	chmod(root, 0777);
	cr_expect_eq(recdir_create(NULL, NULL, "ls", &a), -EPERM);
	free(xdg);
	free(root);
	free(pa);
	free(pb);
	free(pc);
	free(latest);
}

Test(recdir, store_versions_links_and_copies)
{
	char *dir = tpath("rec");
	struct recdir *rd;
	cr_assert_eq(recdir_create(NULL, dir, "prog", &rd), 0);
	/* Root-owned and not writable by others: hard-linked. */
	char *lib = tpath("libx.so"), *data = tpath("data.txt");
	write_text(lib, "library v1", 0644);
	write_text(data, "data v1", 0664);   /* group-writable: copied */
	const char *s1, *s2, *s3, *s4;
	cr_assert_eq(recdir_store(rd, lib, &s1), 0);
	cr_assert_eq(recdir_store(rd, data, &s2), 0);
	cr_expect(!strncmp(s1, "files/libx.so-", 14), "%s", s1);
	cr_expect(!strncmp(s2, "files/data.txt-", 15), "%s", s2);
	char *f1 = recdir_file(rd, s1), *f2 = recdir_file(rd, s2);
	struct stat st1, st2, orig2;
	cr_assert_eq(stat(f1, &st1), 0);
	cr_assert_eq(stat(f2, &st2), 0);
	cr_assert_eq(stat(data, &orig2), 0);
	cr_expect_eq(st1.st_nlink, 2, "linked");
	cr_expect_eq(st2.st_nlink, 1, "copied");
	cr_expect_eq(st2.st_mode & 07777, 0400, "copies are read-only");
	cr_expect_eq(st2.st_mtim.tv_sec, orig2.st_mtim.tv_sec);
	cr_expect_eq(st2.st_mtim.tv_nsec, orig2.st_mtim.tv_nsec);
	size_t len;
	uint8_t *got = slurp(f2, &len);
	cr_expect(len == 7 && !memcmp(got, "data v1", 7));
	free(got);
	cr_assert_eq(recdir_store(rd, data, &s3), 0);
	cr_expect_eq(s3, s2, "the same version is stored once");

	/* A new version of the same path coexists with the old one. */
	usleep(10000);
	write_text(data, "data version 2", 0664);
	struct stat orig3;
	cr_assert_eq(stat(data, &orig3), 0);
	cr_assert_eq(recdir_store(rd, data, &s4), 0);
	cr_expect_str_neq(s4, s2);
	const char *found;
	cr_assert_eq(recdir_lookup(rd, data, NULL, &found), 0);
	cr_expect_str_eq(found, s4, "newest by default");
	cr_assert_eq(recdir_lookup(rd, data, &orig2, &found), 0);
	cr_expect_str_eq(found, s2, "by identity");
	cr_expect_eq(recdir_lookup(rd, "/no/such", NULL, &found), -ENOENT);
	/* A system file (possibly on another filesystem) is stored too. */
	cr_expect_eq(recdir_store(rd, "/usr/bin/true", &s3), 0);
	log_levels[LM_REPLAY] = -1;
	cr_expect_eq(recdir_store(rd, "/proc/self", &s3), -EINVAL, "not a regular file");
	struct recdir_meta m = { .program = "/bin/prog" };
	cr_assert_eq(recdir_write_meta(rd, &m), 0);
	recdir_close(rd);

	/* Reopened, the index knows every version; a linked file changed in place since
	 * is reported stale. */
	cr_assert_eq(recdir_open(dir, &rd), 0);
	cr_assert_eq(recdir_lookup(rd, data, &orig2, &found), 0);
	cr_expect(!strncmp(found, "files/data.txt-", 15));
	cr_assert_eq(recdir_lookup(rd, "/usr/bin/true", NULL, &found), 0);
	usleep(10000);
	int fd = open(lib, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "!", 1), 1);
	close(fd);
	cr_expect_eq(recdir_lookup(rd, lib, NULL, &found), -ESTALE);
	recdir_close(rd);

	/* A half-written index line is damage. */
	char *idx = xasprintf("%s/files/index", dir);
	fd = open(idx, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "files/x-1\t1\t2", 13), 13);
	close(fd);
	cr_expect_eq(recdir_open(dir, &rd), -EBADMSG);
	free(idx);
	free(f1);
	free(f2);
	free(lib);
	free(data);
	free(dir);
}

Test(recdir, meta_round_trip)
{
	char *dir = tpath("rec");
	struct recdir *rd;
	cr_assert_eq(recdir_create(NULL, dir, "prog", &rd), 0);
	char *argv[] = { "prog", "two\nlines", "tab\there", "back\\slash", "\x01\x7f", "ünï" };
	char *env[] = { "A=1", "EMPTY=" };
	struct recdir_meta m = { .rewind_version = "0.1.0", .program = "/bin/prog", .cwd = "/tmp/a b",
				 .start = 1700000000, .argv = argv, .argc = 6, .env = env, .envc = 2 };
	cr_assert_eq(recdir_write_meta(rd, &m), 0);
	struct recdir_meta r;
	cr_assert_eq(recdir_read_meta(dir, &r), 0);
	cr_expect_str_eq(r.rewind_version, "0.1.0");
	cr_expect_str_eq(r.program, "/bin/prog");
	cr_expect_str_eq(r.cwd, "/tmp/a b");
	cr_expect_eq(r.start, 1700000000);
	cr_assert_eq(r.argc, 6);
	for (int i = 0; i < 6; i++)
		cr_expect_str_eq(r.argv[i], argv[i]);
	cr_assert_eq(r.envc, 2);
	cr_expect_str_eq(r.env[1], "EMPTY=");
	cr_expect(!r.finished);
	recdir_meta_free(&r);
	m.finished = true;
	m.status = 0x8b;   /* killed by SIGSEGV, core dumped */
	cr_assert_eq(recdir_write_meta(rd, &m), 0);
	cr_assert_eq(recdir_read_meta(dir, &r), 0);
	cr_expect(r.finished && r.status == 0x8b);
	recdir_meta_free(&r);
	char *meta = recdir_file(rd, "meta");
	log_levels[LM_REPLAY] = -1;
	write_text(meta, "rewind-meta 1\nstart 12x\n", 0600);
	cr_expect_eq(recdir_read_meta(dir, &r), -EBADMSG);
	write_text(meta, "rewind-meta 1\nargv bad\\q\n", 0600);
	cr_expect_eq(recdir_read_meta(dir, &r), -EBADMSG);
	write_text(meta, "something else\n", 0600);
	cr_expect_eq(recdir_read_meta(dir, &r), -EBADMSG);
	write_text(meta, "rewind-meta 1\nfuture-key value\nprogram /x\n", 0600);
	cr_expect_eq(recdir_read_meta(dir, &r), 0, "unknown keys are ignored");
	cr_expect_str_eq(r.program, "/x");
	recdir_meta_free(&r);
	recdir_close(rd);
	free(meta);
	free(dir);
}

Test(recdir, list_and_format)
{
	setenv("TZ", "UTC", 1);
	tzset();
	char *root = tpath("root");
	struct recdir *a, *b;
	cr_assert_eq(recdir_create(root, NULL, "/bin/sleep", &a), 0);
	cr_assert_eq(recdir_create(root, NULL, "/bin/false", &b), 0);
	struct recdir_meta m = { .program = "/bin/sleep", .start = 1700000000, .finished = true,
				 .status = 3 << 8 };
	cr_assert_eq(recdir_write_meta(a, &m), 0);
	m = (struct recdir_meta){ .program = "/bin/false", .start = 1700000100 };
	cr_assert_eq(recdir_write_meta(b, &m), 0);
	char *tr = recdir_file(a, "trace");
	write_text(tr, "0123456789", 0600);
	char *junk = xasprintf("%s/not-a-recording", root);
	cr_assert_eq(mkdir(junk, 0700), 0);
	struct recdir_entry *v;
	size_t n;
	cr_assert_eq(recdir_list(root, &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(v[0].name, "sleep-1");
	cr_expect_str_eq(v[0].program, "/bin/sleep");
	cr_expect(v[0].finished && WEXITSTATUS(v[0].status) == 3 && !v[0].latest);
	cr_expect_gt(v[0].size, 0);
	cr_expect_str_eq(v[1].name, "false-1");
	cr_expect(!v[1].finished && v[1].latest);
	struct sbuf o = { 0 };
	recdir_format_list(&o, v, n);
	const char *want =
		"  NAME     PROGRAM     DATE                    SIZE  STATUS\n"
		"  sleep-1  /bin/sleep  2023-11-14 22:13:20  ";
	cr_expect(!strncmp(sbuf_str(&o), want, strlen(want)), "%s", sbuf_str(&o));
	cr_expect(strstr(sbuf_str(&o), "K  exited 3\n* false-1  /bin/false  2023-11-14 22:15:00"),
		  "%s", sbuf_str(&o));
	cr_expect(strstr(sbuf_str(&o), "  incomplete\n"), "%s", sbuf_str(&o));
	sbuf_free(&o);
	recdir_list_free(v, n);
	char *none = tpath("none");
	cr_expect_eq(recdir_list(none, &v, &n), 0);
	cr_expect_eq(n, 0);
	recdir_close(a);
	recdir_close(b);
	free(none);
	free(junk);
	free(tr);
	free(root);
}
