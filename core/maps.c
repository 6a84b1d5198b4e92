#include "maps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

int maps_parse(const char *text, struct maps *out)
{
	VEC(struct map_entry) v = { 0 };
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096 + 256];
		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, p, len);
		line[len] = 0;
		p += len + (nl ? 1 : 0);
		if (!line[0])
			continue;
		struct map_entry e = { 0 };
		char perms[8] = "";
		int pathoff = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &e.start, &e.end, perms, &e.offset, &e.dev_major, &e.dev_minor,
			   &e.inode, &pathoff) < 7) {
			for (size_t i = 0; i < v.n; i++)
				free(v.v[i].path);
			vec_free(&v);
			return -EINVAL;
		}
		e.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
			 (perms[2] == 'x' ? PROT_EXEC : 0);
		e.shared = perms[3] == 's';
		e.path = xstrdup(pathoff ? str_trim(line + pathoff) : "");
		vec_push(&v, e);
	}
	out->v = v.v;
	out->n = v.n;
	return 0;
}

int maps_read(pid_t pid, struct maps *out)
{
	char path[64], *text;
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	int e = read_file(path, &text, NULL);
	if (e < 0)
		return e;
	e = maps_parse(text, out);
	free(text);
	return e;
}

void maps_free(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

const struct map_entry *maps_find(const struct maps *m, uint64_t addr)
{
	for (size_t i = 0; i < m->n; i++)
		if (addr >= m->v[i].start && addr < m->v[i].end)
			return &m->v[i];
	return NULL;
}

const struct map_entry *maps_find_name(const struct maps *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].path, path))
			return &m->v[i];
	return NULL;
}
