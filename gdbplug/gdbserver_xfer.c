/* gdbserver_xfer: the documents gdb reads with qXfer: the target description, the
 * auxiliary vector, the executable's path, the thread list, a thread's siginfo, and the
 * svr4 shared-library list, built by walking the dynamic loader's r_debug/link_map
 * chain in the program's memory (so gdb loads library symbols and can put its own
 * breakpoints in libraries; rewind's preloaded agent is left out). A document is
 * built when gdb asks for offset 0 and kept for the pieces that follow. */
#include "gdbserver_int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static void xml_escaped(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sbuf_puts(b, "&amp;"); break;
		case '<': sbuf_puts(b, "&lt;"); break;
		case '>': sbuf_puts(b, "&gt;"); break;
		case '"': sbuf_puts(b, "&quot;"); break;
		case '\'': sbuf_puts(b, "&apos;"); break;
		default: sbuf_putc(b, *s); break;
		}
	}
}

/* ---- the svr4 library list ---- */

static int auxv_get(pid_t pid, uint64_t type, uint64_t *val)
{
	char path[64], *buf;
	size_t len;
	snprintf(path, sizeof path, "/proc/%d/auxv", pid);
	int e = read_file(path, &buf, &len);
	if (e < 0)
		return e;
	e = -ENOENT;
	for (size_t i = 0; i + 16 <= len; i += 16) {
		uint64_t t, v;
		memcpy(&t, buf + i, 8);
		memcpy(&v, buf + i + 8, 8);
		if (t == AT_NULL)
			break;
		if (t == type) {
			*val = v;
			e = 0;
			break;
		}
	}
	free(buf);
	return e;
}

/* The address of the executable's dynamic section in memory, or -ENOENT (static). */
static int find_dynamic(struct proc *p, uint64_t *dyn, uint64_t *dyn_size)
{
	uint64_t phdr, phnum, entry;
	if (auxv_get(p->pid, AT_PHDR, &phdr) < 0 || auxv_get(p->pid, AT_PHNUM, &phnum) < 0)
		return -ENOENT;
	bool have_reloc = false, have_dyn = false;
	uint64_t reloc = 0;
	for (uint64_t i = 0; i < phnum && i < 256; i++) {
		Elf64_Phdr ph;
		if (proc_read(p, RADDR(phdr + i * sizeof ph), &ph, sizeof ph) < 0)
			return -EIO;
		if (ph.p_type == PT_PHDR) {
			reloc = phdr - ph.p_vaddr;
			have_reloc = true;
		} else if (ph.p_type == PT_DYNAMIC) {
			*dyn = ph.p_vaddr;
			*dyn_size = ph.p_memsz;
			have_dyn = true;
		}
	}
	if (!have_dyn)
		return -ENOENT;
	if (!have_reloc && auxv_get(p->pid, AT_ENTRY, &entry) == 0) {
		/* No PT_PHDR: compare the entry point with the file's. */
		char path[64];
		Elf64_Ehdr eh;
		snprintf(path, sizeof path, "/proc/%d/exe", p->pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh)
			reloc = entry - eh.e_entry;
		if (fd >= 0)
			close(fd);
	}
	*dyn += reloc;
	return 0;
}

/* The value of symbol name in the ELF file at path (0 if absent). */
static uint64_t elf_symbol(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uint64_t val = 0;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	for (Elf_Scn *scn = NULL; e && !val && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && i < n; i++) {
			GElf_Sym sym;
			const char *sn;
			if (gelf_getsym(d, (int)i, &sym) && (sn = elf_strptr(e, sh.sh_link, sym.st_name)) &&
			    !strcmp(sn, name) && sym.st_value) {
				val = sym.st_value;
				break;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return val;
}

/* The loader's own _r_debug: for programs without DT_DEBUG, or before the loader
 * filled it in. */
static uint64_t loader_r_debug(struct proc *p)
{
	uint64_t base;
	if (auxv_get(p->pid, AT_BASE, &base) < 0 || !base)
		return 0;
	char path[64], *maps;
	size_t len;
	snprintf(path, sizeof path, "/proc/%d/maps", p->pid);
	if (read_file(path, &maps, &len) < 0)
		return 0;
	uint64_t r = 0;
	for (char *line = maps, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		unsigned long lo;
		char *file = strchr(line, '/');
		if (sscanf(line, "%lx-", &lo) == 1 && lo == base && file) {
			uint64_t v = elf_symbol(file, "_r_debug");
			r = v ? base + v : 0;
			break;
		}
	}
	free(maps);
	return r;
}

/* Where r_debug is: 0 if not known yet, -ENOENT for a program with no loader. */
static int find_r_debug(struct proc *p, uint64_t *out)
{
	uint64_t dyn, size;
	*out = 0;
	int e = find_dynamic(p, &dyn, &size);
	if (e < 0)
		return e;
	for (uint64_t off = 0; off + 16 <= size && off < 65536; off += 16) {
		uint64_t d[2];
		if (proc_read(p, RADDR(dyn + off), d, sizeof d) < 0 || d[0] == DT_NULL)
			break;
		if (d[0] == DT_DEBUG) {
			*out = d[1];
			break;
		}
	}
	if (!*out)
		*out = loader_r_debug(p);
	return 0;
}

/* rewind's own in-process agent (core/infcall, preloaded) is not the program's:
 * gdb does not see it, as the program would not without rewind. */
static bool is_agent(const char *name)
{
	const char *base = strrchr(name, '/');
	return !strcmp(base ? base + 1 : name, "librewind-agent.so");
}

int gs__svr4_libraries(struct proc *p, const char *annex, struct sbuf *doc)
{
	uint64_t lm = 0, prev = 0;
	/* gdb's incremental form: "start=ADDR;prev=ADDR;" */
	for (const char *a = annex; a && *a;) {
		const char *eq = strchr(a, '='), *semi = strchr(a, ';');
		if (!eq || (semi && semi < eq))
			return -EINVAL;
		uint64_t v = strtoull(eq + 1, NULL, 16);
		if (!strncmp(a, "start=", 6))
			lm = v;
		else if (!strncmp(a, "prev=", 5))
			prev = v;
		a = semi ? semi + 1 : NULL;
	}
	if (!lm) {
		uint64_t r_debug;
		int e = find_r_debug(p, &r_debug);
		if (e < 0)
			return e;
		if (r_debug && proc_read(p, RADDR(r_debug + 8), &lm, 8) < 0)   /* r_map */
			lm = 0;
	}
	sbuf_puts(doc, "<library-list-svr4 version=\"1.0\"");
	bool open_tag = false;
	for (unsigned guard = 0; lm && guard < 100000; guard++) {
		uint64_t f[5];   /* l_addr, l_name, l_ld, l_next, l_prev */
		if (proc_read(p, RADDR(lm), f, sizeof f) < 0)
			break;
		if (f[4] != prev) {
			pr_warn(LM_GDB, "process %d: corrupted shared library list at 0x%" PRIx64,
				p->pid, lm);
			break;
		}
		if (!prev) {
			/* The first entry is the program itself. */
			sbuf_printf(doc, " main-lm=\"0x%" PRIx64 "\"", lm);
		} else {
			char name[PATH_MAX];
			if (f[1] && proc_read_str(p, RADDR(f[1]), name, sizeof name) == 0 && name[0] &&
			    !is_agent(name)) {
				if (!open_tag)
					sbuf_putc(doc, '>');
				open_tag = true;
				sbuf_puts(doc, "<library name=\"");
				xml_escaped(doc, name);
				sbuf_printf(doc, "\" lm=\"0x%" PRIx64 "\" l_addr=\"0x%" PRIx64
					    "\" l_ld=\"0x%" PRIx64 "\" lmid=\"0x0\"/>", lm, f[0], f[2]);
			}
		}
		prev = lm;
		lm = f[3];
	}
	sbuf_puts(doc, open_tag ? "</library-list-svr4>" : "/>");
	return 0;
}

/* ---- the other documents ---- */

static int threads_doc(struct gdbserver *g, struct sbuf *doc)
{
	struct task **v;
	size_t n = gs__threads(g, &v);
	sbuf_puts(doc, "<?xml version=\"1.0\"?>\n<threads>\n");
	for (size_t i = 0; i < n; i++) {
		struct task *t = v[i];
		sbuf_puts(doc, "<thread id=\"");
		rsp_put_ptid(doc, gs__ptid(g, t), g->mp);
		sbuf_putc(doc, '"');
		char path[96], *comm;
		size_t len;
		snprintf(path, sizeof path, "/proc/%d/task/%d/comm", t->proc->pid, t->tid);
		if (read_file(path, &comm, &len) == 0) {
			comm[strcspn(comm, "\n")] = 0;
			sbuf_puts(doc, " name=\"");
			xml_escaped(doc, comm);
			sbuf_putc(doc, '"');
			free(comm);
		}
		sbuf_puts(doc, "/>\n");
	}
	sbuf_puts(doc, "</threads>\n");
	free(v);
	return 0;
}

static int exec_file_doc(struct gdbserver *g, const char *annex, struct sbuf *doc)
{
	struct inferior *inf = gs__inf(g);
	long pid = annex && *annex ? strtol(annex, NULL, 16) : inf_alive(inf) ? inf->main->pid : 0;
	char path[64], exe[PATH_MAX];
	if (pid > 0) {
		snprintf(path, sizeof path, "/proc/%ld/exe", pid);
		ssize_t n = readlink(path, exe, sizeof exe - 1);
		if (n > 0) {
			exe[n] = 0;
			sbuf_puts(doc, exe);
			return 0;
		}
	}
	if (inf->argv && inf->argv[0] && realpath(inf->argv[0], exe)) {
		sbuf_puts(doc, exe);
		return 0;
	}
	return -ENOENT;
}

static int build(struct gdbserver *g, const struct rsp_packet *p, struct sbuf *doc)
{
	struct inferior *inf = gs__inf(g);
	const char *annex = p->u.xfer.annex ? p->u.xfer.annex : "";
	switch (p->u.xfer.object) {
	case RSP_XFER_EXEC_FILE:
		return exec_file_doc(g, annex, doc);
	case RSP_XFER_THREADS:
		return threads_doc(g, doc);
	default:
		break;
	}
	if (!inf_alive(inf))
		return -ESRCH;
	switch (p->u.xfer.object) {
	case RSP_XFER_AUXV: {
		char path[64], *buf;
		size_t len;
		snprintf(path, sizeof path, "/proc/%d/auxv", inf->main->pid);
		int e = read_file(path, &buf, &len);
		if (e < 0)
			return e;
		sbuf_append(doc, buf, len);
		free(buf);
		return 0;
	}
	case RSP_XFER_LIBRARIES_SVR4:
		return gs__svr4_libraries(inf->main, annex, doc);
	case RSP_XFER_SIGINFO: {
		struct task *t = gs__hg_task(g);
		siginfo_t si;
		if (!t)
			return -ESRCH;
		if (t->tid == g->last_sig_tid) {
			si = g->last_si;
		} else {
			int e = task_get_siginfo(t, &si);
			if (e < 0)
				return e;
		}
		sbuf_append(doc, (const char *)&si, sizeof si);
		return 0;
	}
	default:
		return -ENOTSUP;
	}
}

void gs__xfer(struct gdbserver *g, const struct rsp_packet *p)
{
	const char *annex = p->u.xfer.annex ? p->u.xfer.annex : "";
	enum rsp_xfer_object o = p->u.xfer.object;
	if (o == RSP_XFER_OTHER)
		return;   /* "": not supported */
	if (o == RSP_XFER_FEATURES) {
		const char *doc;
		size_t len;
		if (tdesc_lookup_xml(g->td, annex, &doc, &len) < 0)
			return gs__error(g, ENOENT, "no such description");
		rsp_reply_xfer(&g->out, doc, len, p->u.xfer.offset, p->u.xfer.length);
		return;
	}
	if (p->u.xfer.offset == 0 || g->xdoc_object != (int)o || !g->xdoc_annex ||
	    strcmp(g->xdoc_annex, annex)) {
		sbuf_reset(&g->xdoc);
		sbuf_append(&g->xdoc, "", 0);
		free(g->xdoc_annex);
		g->xdoc_annex = NULL;
		int e = build(g, p, &g->xdoc);
		if (e < 0)
			return gs__error(g, e, "cannot read this object");
		g->xdoc_object = (int)o;
		g->xdoc_annex = xstrdup(annex);
	}
	rsp_reply_xfer(&g->out, g->xdoc.s, g->xdoc.len, p->u.xfer.offset, p->u.xfer.length);
}
