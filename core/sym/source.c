/* Source text (found through the line tables' file names and DW_AT_comp_dir),
 * completion of symbol and file names, and the dynamic loader's breakpoint. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sym_int.h"

/* Full path of the source file `name` names, or NULL. */
static const char *find_source(struct symtab *st, const char *name)
{
	for (size_t mi = 0; mi < st->mods.n; mi++) {
		struct sym_mod *m = st->mods.v[mi];
		if (!sym_mod_dwarf(m))
			continue;
		sym_index_dwarf(m);
		for (size_t ci = 0; ci < m->cus.n; ci++) {
			struct sym_cu *cu = &m->cus.v[ci];
			sym_cu_lines(m, cu);
			for (size_t i = 0; i < cu->nfiles; i++)
				if (!strcmp(cu->fnames[i], name) || !strcmp(cu->fpaths[i], name) ||
				    sym_path_matches(cu->fpaths[i], name) ||
				    sym_path_matches(cu->fnames[i], name))
					return cu->fpaths[i];
		}
	}
	return NULL;
}

int symtab_source(struct symtab *st, const char *name, const struct sym_source **out)
{
	const char *path = find_source(st, name);
	if (!path)
		return -ENOENT;
	for (size_t i = 0; i < st->sources.n; i++)
		if (st->sources.v[i]->path == path) {
			*out = st->sources.v[i];
			return 0;
		}
	char *text;
	size_t len;
	int e = read_file(path, &text, &len);
	if (e < 0) {
		pr_debug(LM_SYM, "read %s: %s", path, strerror(-e));
		return e;
	}
	struct sym_source *s = xcalloc(1, sizeof *s);
	s->path = path;
	s->text = text;
	size_t cap = 64;
	s->lines = xmalloc(cap * sizeof *s->lines);
	char *p = text;
	while (p < text + len) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));
		if (s->nlines == cap) {
			cap *= 2;
			s->lines = xrealloc(s->lines, cap * sizeof *s->lines);
		}
		s->lines[s->nlines++] = p;
		if (!nl)
			break;
		*nl = 0;
		p = nl + 1;
	}
	vec_push(&st->sources, s);
	*out = s;
	return 0;
}

static void add_name(struct symtab *st, struct sym_name_list *out, const char *n)
{
	(void)st;
	vec_push(out, n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int symtab_complete(struct symtab *st, const char *prefix, unsigned what,
                    struct sym_name_list *out)
{
	size_t pl = strlen(prefix), before = out->n;
	for (size_t mi = 0; mi < st->mods.n; mi++) {
		struct sym_mod *m = st->mods.v[mi];
		if (sym_mod_dwarf(m)) {
			sym_index_dwarf(m);
			if (what & SYMTAB_C_FUNCS)
				for (size_t i = 0; i < m->funcs.n; i++)
					if (!strncmp(m->funcs.v[i].name, prefix, pl))
						add_name(st, out, m->funcs.v[i].name);
			for (size_t i = 0; i < m->ents.n; i++) {
				const struct sym_ent *e = &m->ents.v[i];
				bool want = ((what & SYMTAB_C_VARS) && e->kind == SE_VAR) ||
				            ((what & SYMTAB_C_TYPES) && e->kind == SE_TYPE);
				if (want && !strncmp(e->name, prefix, pl))
					add_name(st, out, e->name);
			}
			if (what & SYMTAB_C_FILES)
				for (size_t ci = 0; ci < m->cus.n; ci++) {
					struct sym_cu *cu = &m->cus.v[ci];
					sym_cu_lines(m, cu);
					for (size_t i = 0; i < cu->nfiles; i++) {
						const char *f = cu->fnames[i];
						const char *sl = strrchr(f, '/');
						const char *b = sl ? pool_intern(&st->pool, sl + 1) : f;
						if (!strncmp(b, prefix, pl))
							add_name(st, out, b);
						if (b != f && !strncmp(f, prefix, pl))
							add_name(st, out, f);
					}
				}
		}
		if (what & (SYMTAB_C_FUNCS | SYMTAB_C_VARS)) {
			sym_index_elf(m);
			for (size_t i = 0; i < m->syms.n; i++) {
				const struct sym_elfsym *s = &m->syms.v[i];
				if (((s->func && (what & SYMTAB_C_FUNCS)) ||
				     (!s->func && (what & SYMTAB_C_VARS))) &&
				    !strncmp(s->name, prefix, pl))
					add_name(st, out, s->name);
			}
		}
	}
	qsort(out->v + before, out->n - before, sizeof *out->v, cmp_str);
	size_t o = before;
	for (size_t i = before; i < out->n; i++)
		if (o == before || out->v[o - 1] != out->v[i])
			out->v[o++] = out->v[i];
	out->n = o;
	return 0;
}

void sym_name_list_free(struct sym_name_list *l)
{
	vec_free(l);
}

int symtab_dl_breakpoint(struct symtab *st, uint64_t *addr)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t mi = 0; mi < st->mods.n; mi++) {
			struct sym_mod *m = st->mods.v[mi];
			bool ld = !strncmp(m->base, "ld-", 3) || !strncmp(m->base, "ld.so", 5);
			if (pass == 0 ? !ld : ld)
				continue;
			if (pass == 1 && m->is_main)
				continue;
			sym_index_elf(m);
			const char *key = pool_find(&st->pool, "_dl_debug_state");
			for (int i = key ? ptrmap_get(&m->sym_by_name, (uintptr_t)key) : -1; i >= 0;
			     i = m->syms.v[i].next)
				if (m->syms.v[i].func) {
					*addr = m->syms.v[i].addr;
					return 0;
				}
		}
	return -ENOENT;
}
