/* Memory that fork shares instead of copying: a MAP_SHARED anonymous mapping with holes
 * (pages 1 and 3 never touched), a MAP_SHARED mapping of a file in argv[1], a memfd
 * (mapped, and open), and a SysV segment. Each is filled before trap 1; after it the
 * program checks the contents and the live run overwrites everything, holes included;
 * trap 2 is where the test restores. */
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "snap_prog.h"

#define PG 4096

static int all(const unsigned char *p, size_t n, unsigned char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2)
		return 2;
	unsigned char *anon = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(anon, 'A', PG);
	memset(anon + 2 * PG, 'a', PG);
	char path[512];
	snprintf(path, sizeof path, "%s/shm.dat", argv[1]);
	int ffd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (ffd < 0 || ftruncate(ffd, 4 * PG) < 0)
		return 2;
	unsigned char *file = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	close(ffd);
	memset(file, 'F', 4 * PG);
	int mfd = memfd_create("snap-memfd", 0);
	if (mfd < 0 || ftruncate(mfd, 2 * PG) < 0)
		return 2;
	unsigned char *mem = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	memset(mem, 'M', 2 * PG);
	int id = shmget(IPC_PRIVATE, 2 * PG, IPC_CREAT | 0600);
	unsigned char *sysv = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	memset(sysv, 'S', 2 * PG);
	if (anon == MAP_FAILED || file == MAP_FAILED || mem == MAP_FAILED || sysv == (void *)-1)
		return 2;
	printf("start\n");

	SNAP_POINT();                   /* trap 1: checkpoint */
	int ok = all(anon, PG, 'A') && all(anon + PG, PG, 0) && all(anon + 2 * PG, PG, 'a') &&
		 all(anon + 3 * PG, PG, 0);
	CHECK(ok, "anonymous shared mapping");
	printf("anon %s\n", ok ? "ok" : "WRONG");
	ok = all(file, 4 * PG, 'F');
	CHECK(ok, "file mapping");
	printf("file %s\n", ok ? "ok" : "WRONG");
	char c = 0;
	ok = all(mem, 2 * PG, 'M') && pread(mfd, &c, 1, PG) == 1 && c == 'M';
	CHECK(ok, "memfd");
	printf("memfd %s\n", ok ? "ok" : "WRONG");
	ok = all(sysv, 2 * PG, 'S');
	CHECK(ok, "SysV segment");
	printf("sysv %s\n", ok ? "ok" : "WRONG");

	memset(anon, 'x', 4 * PG);
	memset(file, 'x', 4 * PG);
	memset(mem, 'x', 2 * PG);
	memset(sysv, 'x', 2 * PG);
	SNAP_POINT();                   /* trap 2: restore */
	printf("done\n");
	return snap_failed;
}
