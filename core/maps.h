/* maps: a parsed /proc/PID/maps. */
#ifndef REWIND_MAPS_H
#define REWIND_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct map_entry {
	uint64_t start, end, offset;
	unsigned prot;       /* PROT_READ|PROT_WRITE|PROT_EXEC */
	bool shared;         /* 's' (MAP_SHARED) vs 'p' */
	unsigned dev_major, dev_minor;
	uint64_t inode;
	char *path;          /* "" for anonymous; "[heap]", "[vdso]"... */
};

struct maps {
	struct map_entry *v;
	size_t n;
};

/* Parse /proc/PID/maps. Returns 0 or -errno. */
int maps_read(pid_t pid, struct maps *out);
/* Parse maps text (for recorded traces). Lines that do not parse are an error. */
int maps_parse(const char *text, struct maps *out);
void maps_free(struct maps *m);
const struct map_entry *maps_find(const struct maps *m, uint64_t addr);
const struct map_entry *maps_find_name(const struct maps *m, const char *path);

#endif
