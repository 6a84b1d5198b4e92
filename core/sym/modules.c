/* symtab lifecycle: the libdwfl session of one address space and its modules,
 * reported from an executable, from /proc/PID/maps, or from a maps text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/maps.h"
#include "sym_int.h"

static char *debuginfo_path;

static const Dwfl_Callbacks offline_cb = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static struct symtab *st_new(void)
{
	struct symtab *st = xcalloc(1, sizeof *st);
	st->dwfl = dwfl_begin(&offline_cb);
	if (!st->dwfl) {
		free(st);
		return NULL;
	}
	return st;
}

static void mod_free(struct sym_mod *m)
{
	if (!m)
		return;
	if (m->types_free)
		m->types_free(m);
	for (size_t i = 0; i < m->cus.n; i++) {
		free(m->cus.v[i].rows);
		free(m->cus.v[i].fnames);
		free(m->cus.v[i].fpaths);
	}
	vec_free(&m->cus);
	ptrmap_free(&m->cu_by_off);
	vec_free(&m->funcs);
	ptrmap_free(&m->func_by_name);
	free(m->func_by_addr);
	vec_free(&m->ents);
	ptrmap_free(&m->ent_by_name);
	vec_free(&m->syms);
	ptrmap_free(&m->sym_by_name);
	vec_free(&m->srcfiles);
	ptrmap_free(&m->qual_by_off);
	vec_free(&m->quals);
	ptrmap_free(&m->demangled);
	free(m);
}

static int removed_cb(Dwfl_Module *dm, void *userdata, const char *name, Dwarf_Addr start,
                      void *arg)
{
	/* libdwfl passes MODCB_ARGS: the address of the module's userdata, not the
	 * userdata itself (fixed for reverse execution: restoring a checkpoint taken
	 * before a library was loaded removes its module). */
	mod_free(*(void **)userdata);
	return DWARF_CB_OK;
}

static int collect_cb(Dwfl_Module *dm, void **userdata, const char *name, Dwarf_Addr start,
                      void *arg)
{
	struct symtab *st = arg;
	struct sym_mod *m = *userdata;
	if (!m) {
		m = xcalloc(1, sizeof *m);
		m->st = st;
		m->dm = dm;
		m->name = pool_intern(&st->pool, name);
		const char *sl = strrchr(m->name, '/');
		m->base = sl ? sl + 1 : m->name;
		Dwarf_Addr lo, hi;
		const char *mainfile = NULL;
		dwfl_module_info(dm, NULL, &lo, &hi, NULL, NULL, &mainfile, NULL);
		m->lo = lo;
		m->hi = hi;
		GElf_Addr bias = 0;
		if (dwfl_module_getelf(dm, &bias))
			m->bias = bias;
		dwfl_module_info(dm, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
		m->file = pool_intern(&st->pool, mainfile ? mainfile : name);
		m->is_vdso = !strcmp(name, "[vdso]");
		*userdata = m;
	}
	vec_push(&st->mods, m);
	return DWARF_CB_OK;
}

/* Rebuild st->mods (address order) after a report. */
static void collect_mods(struct symtab *st)
{
	st->mods.n = 0;
	dwfl_getmodules(st->dwfl, collect_cb, st, 0);
	for (size_t i = 1; i < st->mods.n; i++)
		for (size_t j = i; j > 0 && st->mods.v[j - 1]->lo > st->mods.v[j]->lo; j--) {
			struct sym_mod *t = st->mods.v[j];
			st->mods.v[j] = st->mods.v[j - 1];
			st->mods.v[j - 1] = t;
		}
	st->gen++;
}

int symtab_open_file(const char *path, struct symtab **out, char **errmsg)
{
	if (errmsg)
		*errmsg = NULL;
	if (access(path, R_OK) < 0) {
		int e = -errno;
		if (errmsg)
			*errmsg = xasprintf("%s: %s.", path, strerror(errno));
		return e;
	}
	struct symtab *st = st_new();
	if (!st)
		return -ENOMEM;
	char *abs = realpath(path, NULL);
	dwfl_report_begin(st->dwfl);
	Dwfl_Module *dm = dwfl_report_elf(st->dwfl, abs ? abs : path, path, -1, 0, false);
	free(abs);
	dwfl_report_end(st->dwfl, NULL, NULL);
	if (!dm) {
		if (errmsg)
			*errmsg = xasprintf("\"%s\": not in executable format: %s", path,
			                    dwfl_errmsg(-1));
		pr_debug(LM_SYM, "report %s: %s", path, dwfl_errmsg(-1));
		symtab_free(st);
		return -ENOEXEC;
	}
	collect_mods(st);
	if (st->mods.n)
		st->mods.v[0]->is_main = true;
	*out = st;
	return 0;
}

/* One module to report: the mapping of a file at offset 0. */
struct mod_want {
	const char *path;
	uint64_t start;
	bool is_main;
};

static bool skip_mapping(const struct map_entry *e)
{
	const char *p = e->path;
	if (!p[0])
		return true;
	if (p[0] == '[')
		return strcmp(p, "[vdso]") != 0;
	return !strncmp(p, "/dev/", 5) || !strncmp(p, "/memfd:", 7) ||
	       !strncmp(p, "/SYSV", 5);
}

static void wanted_modules(const struct maps *mp, const char *exe, struct mod_want **out,
                           size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	bool main_set = false;
	for (size_t i = 0; i < mp->n; i++) {
		const struct map_entry *e = &mp->v[i];
		if (skip_mapping(e) || e->offset != 0)
			continue;
		bool seen = false;
		for (size_t j = 0; j < *n; j++)
			if (!strcmp((*out)[j].path, e->path))
				seen = true;
		if (seen)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		bool is_main = exe ? !strcmp(e->path, exe) : (!main_set && e->path[0] == '/');
		main_set |= is_main;
		(*out)[(*n)++] = (struct mod_want){ e->path, e->start, is_main };
	}
}

/* The vDSO of a live process, copied into a memfd for libdwfl. */
static int vdso_fd(pid_t pid, const struct maps *mp)
{
	const struct map_entry *e = maps_find_name(mp, "[vdso]");
	if (!e)
		return -ENOENT;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", pid);
	int mfd = open(path, O_RDONLY | O_CLOEXEC);
	if (mfd < 0)
		return -errno;
	size_t len = e->end - e->start;
	char *buf = xmalloc(len);
	ssize_t r = pread(mfd, buf, len, (off_t)e->start);
	close(mfd);
	int fd = -ENOENT;
	if (r == (ssize_t)len) {
		fd = memfd_create("vdso", MFD_CLOEXEC);
		if (fd >= 0 && write(fd, buf, len) != (ssize_t)len) {
			close(fd);
			fd = -EIO;
		}
	}
	free(buf);
	return fd;
}

static int pid_path(void *arg, const char *mapped, char **local)
{
	struct symtab *st = arg;
	size_t l = strlen(mapped);
	static const char del[] = " (deleted)";
	if (l > sizeof del - 1 && !strcmp(mapped + l - (sizeof del - 1), del)) {
		*local = xasprintf("/proc/%d/root%.*s", st->pid, (int)(l - (sizeof del - 1)),
		                   mapped);
		if (access(*local, R_OK) == 0)
			return 0;
		free(*local);
		return -ENOENT;
	}
	*local = xstrdup(mapped);
	return 0;
}

static bool refused(struct symtab *st, const char *name, uint64_t start)
{
	char *key = xasprintf("%s@%lx", name, (unsigned long)start);
	bool r = false;
	for (size_t i = 0; i < st->refused.n && !r; i++)
		r = !strcmp(st->refused.v[i], key);
	free(key);
	return r;
}

static void refuse(struct symtab *st, const char *name, uint64_t start)
{
	if (!refused(st, name, start))
		vec_push(&st->refused, xasprintf("%s@%lx", name, (unsigned long)start));
}

static bool mod_present(struct symtab *st, const char *name, uint64_t start)
{
	for (size_t i = 0; i < st->mods.n; i++)
		if (!strcmp(st->mods.v[i]->name, name) && st->mods.v[i]->lo <= start &&
		    start < st->mods.v[i]->hi)
			return true;
	return false;
}

/* Report the modules of a maps listing. Modules already present keep their
 * Dwfl_Module (and every cache hanging from it). */
static int report_maps(struct symtab *st, const struct maps *mp, const char *exe,
                       bool *changed)
{
	struct mod_want *w;
	size_t nw;
	wanted_modules(mp, exe, &w, &nw);
	size_t nwant = 0;
	bool same = true;
	for (size_t i = 0; i < nw && same; i++) {
		if (refused(st, w[i].path, w[i].start))
			continue;
		nwant++;
		same = mod_present(st, w[i].path, w[i].start);
	}
	same = same && nwant == st->mods.n;
	if (changed)
		*changed = !same;
	if (same) {
		free(w);
		return 0;
	}
	struct sym_mod **old = xmalloc((st->mods.n + 1) * sizeof *old);
	size_t nold = st->mods.n;
	if (nold)
		memcpy_n(old, st->mods.v, nold * sizeof *old);
	dwfl_report_begin(st->dwfl);
	for (size_t i = 0; i < nw; i++) {
		struct sym_mod *keep = NULL;
		for (size_t j = 0; j < nold; j++)
			if (!strcmp(old[j]->name, w[i].path) && old[j]->lo <= w[i].start &&
			    w[i].start < old[j]->hi)
				keep = old[j];
		if (keep) {
			dwfl_report_module(st->dwfl, keep->name, keep->lo, keep->hi);
			continue;
		}
		int fd = -1;
		char *local = NULL;
		if (!strcmp(w[i].path, "[vdso]") && st->pid && !st->path_fn) {
			fd = vdso_fd(st->pid, mp);
			if (fd < 0) {
				refuse(st, w[i].path, w[i].start);
				continue;
			}
			local = xstrdup("[vdso]");
		} else {
			symtab_path_fn fn = st->path_fn ? st->path_fn : pid_path;
			void *arg = st->path_fn ? st->path_arg : st;
			if (fn(arg, w[i].path, &local) < 0) {
				refuse(st, w[i].path, w[i].start);
				continue;
			}
		}
		Dwfl_Module *dm = dwfl_report_elf(st->dwfl, w[i].path, local, fd, w[i].start, false);
		if (!dm) {
			pr_debug(LM_SYM, "report %s (%s): %s", w[i].path, local, dwfl_errmsg(-1));
			refuse(st, w[i].path, w[i].start);
			if (fd >= 0)
				close(fd);
		}
		free(local);
	}
	dwfl_report_end(st->dwfl, removed_cb, st);
	free(old);
	collect_mods(st);
	for (size_t i = 0; i < st->mods.n; i++)
		for (size_t j = 0; j < nw; j++)
			if (w[j].is_main && !strcmp(w[j].path, st->mods.v[i]->name))
				st->mods.v[i]->is_main = true;
	free(w);
	return 0;
}

static char *pid_exe(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return xstrdup(buf);
}

int symtab_open_pid(pid_t pid, struct symtab **out)
{
	struct maps mp;
	int e = maps_read(pid, &mp);
	if (e < 0)
		return e;
	struct symtab *st = st_new();
	if (!st) {
		maps_free(&mp);
		return -ENOMEM;
	}
	st->pid = pid;
	char *exe = pid_exe(pid);
	report_maps(st, &mp, exe, NULL);
	free(exe);
	maps_free(&mp);
	*out = st;
	return 0;
}

int symtab_open_maps(const char *maps_text, symtab_path_fn fn, void *arg, struct symtab **out)
{
	struct maps mp;
	int e = maps_parse(maps_text, &mp);
	if (e < 0)
		return e;
	struct symtab *st = st_new();
	if (!st) {
		maps_free(&mp);
		return -ENOMEM;
	}
	st->path_fn = fn;
	st->path_arg = arg;
	report_maps(st, &mp, NULL, NULL);
	maps_free(&mp);
	*out = st;
	return 0;
}

int symtab_refresh(struct symtab *st, const char *maps_text, bool *changed)
{
	struct maps mp;
	int e;
	char *exe = NULL;
	if (maps_text)
		e = maps_parse(maps_text, &mp);
	else if (st->pid)
		e = maps_read(st->pid, &mp);
	else
		e = -EINVAL;
	if (e < 0)
		return e;
	const char *main_name = NULL;
	for (size_t i = 0; i < st->mods.n; i++)
		if (st->mods.v[i]->is_main)
			main_name = st->mods.v[i]->name;
	if (main_name)
		exe = xstrdup(main_name);
	else if (st->pid)
		exe = pid_exe(st->pid);
	e = report_maps(st, &mp, exe, changed);
	free(exe);
	maps_free(&mp);
	return e;
}

void symtab_free(struct symtab *st)
{
	if (!st)
		return;
	if (st->unwind_free)
		st->unwind_free(st);
	for (size_t i = 0; i < st->mods.n; i++)
		mod_free(st->mods.v[i]);
	vec_free(&st->mods);
	if (st->dwfl)
		dwfl_end(st->dwfl);
	for (size_t i = 0; i < st->sources.n; i++) {
		struct sym_source *s = st->sources.v[i];
		free(s->lines);
		free(s->text);
		free(s);
	}
	vec_free(&st->sources);
	for (size_t i = 0; i < st->refused.n; i++)
		free(st->refused.v[i]);
	vec_free(&st->refused);
	pool_free(&st->pool);
	free(st);
}

unsigned symtab_generation(const struct symtab *st)
{
	return st->gen;
}

size_t symtab_module_count(const struct symtab *st)
{
	return st->mods.n;
}

int symtab_module(struct symtab *st, size_t i, struct sym_module_info *out)
{
	if (i >= st->mods.n)
		return -ENOENT;
	struct sym_mod *m = st->mods.v[i];
	*out = (struct sym_module_info){
		.name = m->name, .base = m->base, .file = m->file, .lo = m->lo, .hi = m->hi,
		.bias = m->bias, .has_dwarf = sym_mod_dwarf(m) != NULL, .is_main = m->is_main,
	};
	return 0;
}

struct sym_mod *sym_mod_at(struct symtab *st, uint64_t addr)
{
	size_t lo = 0, hi = st->mods.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (st->mods.v[mid]->lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	struct sym_mod *m = st->mods.v[lo - 1];
	return addr < m->hi ? m : NULL;
}

Dwarf *sym_mod_dwarf(struct sym_mod *m)
{
	if (!m->dw_tried) {
		m->dw_tried = true;
		Dwarf_Addr bias = 0;
		m->dw = dwfl_module_getdwarf(m->dm, &bias);
		if (m->dw)
			m->bias = bias;
		else
			pr_debug(LM_SYM, "%s: no DWARF (%s)", m->name, dwfl_errmsg(-1));
	}
	return m->dw;
}
