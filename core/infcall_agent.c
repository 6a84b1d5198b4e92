/* The agent from rewind's side: where librewind-agent.so is, the environment that
 * preloads it, and finding its entry points inside a debuggee (its `rwagent_info`
 * symbol through the ELF dynamic symbol table, then the structure in memory). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "agent/agent_config.h"
#include "infcall_int.h"
#include "log.h"
#include "maps.h"

static int existing(const char *path, char **out)
{
	char buf[PATH_MAX];
	if (access(path, R_OK) < 0 || !realpath(path, buf))
		return -ENOENT;
	*out = xstrdup(buf);
	return 0;
}

int infcall_agent_path(char **out)
{
	const char *env = getenv("REWIND_AGENT");
	if (env && *env) {
		int e = existing(env, out);
		if (e < 0)
			pr_warn(LM_CORE, "REWIND_AGENT=%s: no such readable file", env);
		return e;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		/* Next to the binary (installed side by side), or the build tree's layout. */
		static const char *const rel[] = { RWAGENT_SONAME, "core/agent/" RWAGENT_SONAME };
		for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
			char *cand = xasprintf("%s/%s", exe, rel[i]);
			int e = existing(cand, out);
			free(cand);
			if (e == 0)
				return 0;
		}
	}
	return existing(RWAGENT_INSTALL_PATH, out);
}

/* Whether the colon/space separated list already names path. */
static bool list_has(const char *list, const char *path)
{
	size_t n = strlen(path);
	for (const char *s = list; *s;) {
		size_t len = strcspn(s, ": ");
		if (len == n && !strncmp(s, path, n))
			return true;
		s += len;
		s += strspn(s, ": ");
	}
	return false;
}

int infcall_agent_env(char *const *base, char ***out)
{
	extern char **environ;
	char *agent;
	int e = infcall_agent_path(&agent);
	if (e < 0)
		return e;
	if (strpbrk(agent, ": ")) {
		pr_warn(LM_CORE, "agent path %s contains ':' or ' ', which LD_PRELOAD cannot hold",
			agent);
		free(agent);
		return -EINVAL;
	}
	char *const *env = base ? base : environ;
	size_t n = 0;
	while (env[n])
		n++;
	char **v = xcalloc(n + 2, sizeof *v);
	size_t j = 0;
	bool placed = false;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(env[i], "LD_PRELOAD=", 11)) {
			v[j++] = xstrdup(env[i]);
			continue;
		}
		if (placed)
			continue;   /* duplicates: the loader reads the first one */
		const char *old = env[i] + 11;
		if (list_has(old, agent))
			v[j++] = xstrdup(env[i]);
		else if (*old)
			v[j++] = xasprintf("LD_PRELOAD=%s:%s", agent, old);
		else
			v[j++] = xasprintf("LD_PRELOAD=%s", agent);
		placed = true;
	}
	if (!placed)
		v[j++] = xasprintf("LD_PRELOAD=%s", agent);
	v[j] = NULL;
	free(agent);
	*out = v;
	return 0;
}

void infcall_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* One value from the process's auxiliary vector; 0 if absent. */
static uint64_t auxv_get(pid_t pid, uint64_t type)
{
	char path[64], *buf;
	size_t len;
	snprintf(path, sizeof path, "/proc/%d/auxv", pid);
	if (read_file(path, &buf, &len) < 0)
		return 0;
	uint64_t v = 0;
	for (size_t i = 0; i + 16 <= len; i += 16) {
		uint64_t kv[2];
		memcpy(kv, buf + i, 16);
		if (kv[0] == AT_NULL)
			break;
		if (kv[0] == type) {
			v = kv[1];
			break;
		}
	}
	free(buf);
	return v;
}

bool ica_is_static(struct proc *p)
{
	return auxv_get(p->pid, AT_BASE) == 0;
}

uint64_t ica_entry_point(struct proc *p)
{
	return auxv_get(p->pid, AT_ENTRY);
}

/* Offset of `rwagent_info` from the load base of the agent file open at fd. */
static int info_offset(int fd, uint64_t *off)
{
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	int e = -ENOENT;
	uint64_t first_load = 0;
	size_t nph = 0;
	bool have_load = false;
	if (elf_getphdrnum(elf, &nph) == 0)
		for (size_t i = 0; i < nph && !have_load; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				first_load = ph.p_vaddr & ~(uint64_t)0xfff;
				have_load = true;
			}
		}
	Elf_Scn *scn = NULL;
	while (have_load && e == -ENOENT && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && !strcmp(name, RWAGENT_INFO_SYM)) {
				*off = sym.st_value - first_load;
				e = 0;
				break;
			}
		}
	}
	elf_end(elf);
	return e;
}

int ica_find(struct proc *p, struct rwagent_info *info)
{
	struct maps m;
	int e = maps_read(p->pid, &m);
	if (e < 0)
		return e;
	const struct map_entry *me = NULL;
	for (size_t i = 0; i < m.n && !me; i++) {
		const char *base = strrchr(m.v[i].path, '/');
		if (base && !strcmp(base + 1, RWAGENT_SONAME) && m.v[i].offset == 0)
			me = &m.v[i];
	}
	if (!me) {
		maps_free(&m);
		return 0;
	}
	/* The file actually mapped, even if the agent was rebuilt since. */
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/map_files/%lx-%lx", p->pid,
		 (unsigned long)me->start, (unsigned long)me->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(me->path, O_RDONLY | O_CLOEXEC);
	uint64_t off = 0, base = me->start;
	if (fd < 0)
		e = -errno;
	else {
		e = info_offset(fd, &off);
		close(fd);
	}
	if (e < 0)
		pr_warn(LM_CORE, "pid %d: %s is mapped but its %s cannot be found: %s", p->pid,
			me->path, RWAGENT_INFO_SYM, strerror(-e));
	maps_free(&m);
	if (e < 0)
		return e;
	struct rwagent_info in;
	if ((e = proc_read(p, RADDR(base + off), &in, sizeof in)) < 0)
		return e;
	if (in.magic != RWAGENT_INFO_MAGIC)
		return -EAGAIN;   /* mapped, constructor not run yet */
	if (in.version != RWAGENT_VERSION || in.size < sizeof in) {
		pr_warn(LM_CORE, "pid %d: agent version %u, rewind speaks %u", p->pid, in.version,
			RWAGENT_VERSION);
		return -EPROTO;
	}
	*info = in;
	return 1;
}

int infcall_agent_ready(struct proc *p)
{
	struct rwagent_info info;
	int e = ica_find(p, &info);
	return e == -EAGAIN || e == -EPROTO ? 0 : e;
}
