/* File offsets and contents. In directory argv[1]: in.txt (100 fixed-size lines) is
 * read up to line 10, out.txt holds "before\n" and its offset is 7, log.txt (O_APPEND)
 * holds "A\n", a directory stream has read two entries. After trap 1 the program reads
 * on and checks what it sees; the live run then writes and truncates; trap 2 is where
 * the test restores (with snap_opts.files, contents come back too). */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "snap_prog.h"

static char path[512];

static const char *at(const char *dir, const char *name)
{
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2)
		return 2;
	const char *dir = argv[1];
	int fd = open(at(dir, "in.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (int i = 0; i < 100; i++)
		dprintf(fd, "line %03d\n", i);
	close(fd);
	int in = open(at(dir, "in.txt"), O_RDONLY);
	char buf[64];
	for (int i = 0; i < 10; i++)
		if (read(in, buf, 9) != 9)
			return 2;
	int out = open(at(dir, "out.txt"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (write(out, "before\n", 7) != 7)
		return 2;
	int log = open(at(dir, "log.txt"), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (write(log, "A\n", 2) != 2)
		return 2;
	DIR *d = opendir(dir);
	readdir(d);
	readdir(d);
	long dpos = telldir(d);
	printf("start\n");

	SNAP_POINT();                   /* trap 1: checkpoint */
	memset(buf, 0, sizeof buf);
	ssize_t n = read(in, buf, 9);
	CHECK(n == 9 && !memcmp(buf, "line 010\n", 9), "read %.*s", (int)n, buf);
	printf("read offset %s\n", n == 9 && !memcmp(buf, "line 010\n", 9) ? "ok" : "WRONG");
	off_t o = lseek(out, 0, SEEK_CUR);
	CHECK(o == 7, "out.txt offset %ld", (long)o);
	memset(buf, 0, sizeof buf);
	n = pread(out, buf, sizeof buf, 0);
	CHECK(n == 7 && !memcmp(buf, "before\n", 7), "out.txt holds %.*s", (int)n, buf);
	printf("out.txt %s\n", o == 7 && n == 7 ? "ok" : "WRONG");
	int lf = open(at(dir, "log.txt"), O_RDONLY);
	memset(buf, 0, sizeof buf);
	n = read(lf, buf, sizeof buf);
	close(lf);
	CHECK(n == 2 && !memcmp(buf, "A\n", 2), "log.txt holds %.*s", (int)n, buf);
	printf("log.txt %s\n", n == 2 ? "ok" : "WRONG");
	CHECK(telldir(d) == dpos, "directory position");

	if (write(out, "after\n", 6) != 6 || write(log, "B\n", 2) != 2)
		return 2;
	if (ftruncate(out, 3) < 0)
		return 2;
	while (readdir(d))
		;
	SNAP_POINT();                   /* trap 2: restore */
	printf("done\n");
	return snap_failed;
}
