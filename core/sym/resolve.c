/* Location specs (gdb linespecs) to addresses: FUNC, FILE:LINE, LINE, FILE:FUNC,
 * *ADDR and C++ names, with gdb's prologue skipping and line-moving rules. */
#include <ctype.h>
#include <dwarf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sym_int.h"

/* amd64_analyze_prologue: only `[endbr64] push %rbp; mov %rsp,%rbp` is a frame
 * setup; anything else leaves the function "frameless" and gdb stays at entry. */
static uint64_t analyze_prologue(struct sym_mod *m, uint64_t lo)
{
	uint8_t c[12];
	if (sym_read_image(m, lo, c, sizeof c) < 0)
		return lo;
	size_t i = 0;
	if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		i = 4;
	if (c[i] != 0x55)
		return lo;
	const uint8_t *mv = c + i + 1;
	if ((mv[0] == 0x48 && mv[1] == 0x89 && mv[2] == 0xe5) ||
	    (mv[0] == 0x48 && mv[1] == 0x8b && mv[2] == 0xec))
		return lo + i + 4;
	return lo;
}

/* Does the CU have gdb's "locations_valid": GCC and location lists? */
static bool cu_locations_valid(struct sym_mod *m, int ci)
{
	if (ci < 0)
		return false;
	struct sym_cu *cu = &m->cus.v[ci];
	if (!cu->loclist_checked) {
		cu->loclist_checked = true;
		Dwarf_Die cud;
		Dwarf_Attribute a;
		const char *prod = sym_cu_die(m, (uint32_t)ci, &cud)
		                       ? dwarf_formstring(dwarf_attr(&cud, DW_AT_producer, &a)) : NULL;
		cu->locations_valid = prod && !strncmp(prod, "GNU ", 4) && cu->has_loclist;
	}
	return cu->locations_valid;
}

uint64_t sym_skip_prologue(struct symtab *st, struct sym_mod *m, uint64_t lo, uint64_t hi)
{
	int ci = sym_mod_dwarf(m) ? sym_cu_at(m, lo - m->bias) : -1;
	if (cu_locations_valid(m, ci))
		return lo;
	uint64_t pc = analyze_prologue(m, lo);
	struct sym_line l;
	if (pc != lo && symtab_pc_line(st, pc, &l) == 0 && l.lo != pc && lo <= l.hi && l.hi < hi)
		pc = l.hi;
	return pc;
}

void sym_loc_list_free(struct sym_loc_list *l)
{
	vec_free(l);
}

static void __attribute__((format(printf, 2, 3))) set_err(char **errmsg, const char *fmt, ...)
{
	if (!errmsg)
		return;
	free(*errmsg);
	struct sbuf b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	sbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	*errmsg = sbuf_steal(&b);
}

/* Append a location; its line is the line table's at addr unless `line` (with
 * cu/file) says which line was asked for (gdb keeps the requested line). */
static void push_loc_line(struct symtab *st, struct sym_mod *m, uint64_t addr,
                          const char *func, struct sym_cu *cu, uint32_t file, int line,
                          struct sym_loc_list *out)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].addr == addr)
			return;
	struct sym_loc l = { .addr = addr, .func = func, .module = m->name,
	                     .mod_off = addr - m->bias };
	struct sym_line ln;
	if (line && cu) {
		ln.file = cu->fnames[file];
		ln.fullpath = cu->fpaths[file];
		ln.line = line;
	}
	if ((line && cu) || symtab_pc_line(st, addr, &ln) == 0) {
		l.file = ln.file;
		l.fullpath = ln.fullpath;
		const char *sl = strrchr(ln.file, '/');
		l.base = sl ? sl + 1 : ln.file;
		l.line = ln.line;
	}
	if (!l.func) {
		struct sym_addr_info ai;
		if (symtab_describe(st, addr, &ai) == 0)
			l.func = ai.func;
	}
	vec_push(out, l);
}

static void push_loc(struct symtab *st, struct sym_mod *m, uint64_t addr, const char *func,
                     struct sym_loc_list *out)
{
	push_loc_line(st, m, addr, func, NULL, 0, 0, out);
}

/* Compare ignoring blanks: "f(int, char)" == "f(int,char)". */
static bool eq_nospace(const char *a, const char *b, size_t bn)
{
	const char *be = b + bn;
	for (;;) {
		while (*a == ' ')
			a++;
		while (b < be && *b == ' ')
			b++;
		if (!*a || b == be)
			return !*a && b == be;
		if (*a++ != *b++)
			return false;
	}
}

/* gdb's wild matching: `name` equals `spec`, or ends with "::spec". */
static bool name_matches(const char *name, const char *spec)
{
	if (!name)
		return false;
	size_t nl = strlen(name), sl = strlen(spec);
	if (strchr(spec, '(')) {
		if (nl < sl)
			return eq_nospace(spec, name, nl);
		for (size_t k = 0; k + 2 <= nl; k++)
			if (k == 0 || (name[k - 1] == ':' && name[k - 2] == ':'))
				if (eq_nospace(spec, name + k, nl - k))
					return true;
		return false;
	}
	if (nl < sl || strcmp(name + nl - sl, spec))
		return false;
	return nl == sl || (nl >= sl + 2 && name[nl - sl - 1] == ':' && name[nl - sl - 2] == ':');
}

static bool func_in_file(struct symtab *st, struct sym_mod *m, const struct sym_func *f,
                         const char *file)
{
	if (!file)
		return true;
	struct sym_cu *cu = &m->cus.v[f->cu];
	if (cu->name && (!strcmp(cu->name, file) ||
	                 sym_path_matches(cu->name, file)))
		return true;
	struct sym_line l;
	if (symtab_pc_line(st, f->entry + m->bias, &l) == 0)
		return !strcmp(l.file, file) || sym_path_matches(l.fullpath, file) ||
		       sym_path_matches(l.file, file);
	return false;
}

static void resolve_func(struct symtab *st, const char *spec, const char *file,
                         unsigned flags, struct sym_loc_list *out)
{
	size_t before = out->n;
	bool has_params = strchr(spec, '(') != NULL;
	bool qualified_spec = strstr(spec, "::") != NULL;
	VEC(uint64_t) dwarf_entries = { 0 };
	for (size_t mi = 0; mi < st->mods.n; mi++) {
		struct sym_mod *m = st->mods.v[mi];
		if (!sym_mod_dwarf(m))
			continue;
		sym_index_dwarf(m);
		for (size_t i = 0; i < m->funcs.n; i++) {
			const struct sym_func *f = &m->funcs.v[i];
			if (f->is_extra_range)
				continue;
			bool match;
			if (has_params)
				match = name_matches(f->linkage, spec);
			else if (!qualified_spec && !strchr(f->name, ':'))
				match = !strcmp(f->name, spec) || (f->alias && !strcmp(f->alias, spec));
			else
				match = name_matches(f->name, spec);
			if (!match || !func_in_file(st, m, f, file))
				continue;
			uint64_t entry = f->entry + m->bias, addr = entry;
			vec_push(&dwarf_entries, entry);
			if (!(flags & SYMTAB_NO_SKIP) && !f->inlined)
				addr = sym_skip_prologue(st, m, entry, f->hi + m->bias);
			push_loc(st, m, addr, f->name, out);
		}
	}
	if (file) {
		vec_free(&dwarf_entries);
		return;
	}
	/* ELF symbols of functions without DWARF (libc's puts); PLT entries only when
	 * no real function of that name is loaded (before `run`). */
	for (int plt = 0; plt < 2; plt++)
	for (size_t mi = 0; mi < st->mods.n; mi++) {
		struct sym_mod *m = st->mods.v[mi];
		sym_index_elf(m);
		if (plt && out->n > before)
			break;
		for (size_t i = 0; i < m->syms.n; i++) {
			const struct sym_elfsym *s = &m->syms.v[i];
			if (!s->func || s->plt != plt ||
			    !(has_params ? name_matches(s->full, spec) : name_matches(s->name, spec)))
				continue;
			bool dup = false;
			for (size_t k = 0; k < dwarf_entries.n && !dup; k++)
				dup = dwarf_entries.v[k] == s->addr;
			if (dup)
				continue;
			/* the ELF name of a function DWARF knows under another name
			 * (libc's puts is _IO_puts): its DWARF range decides */
			const struct sym_func *df = m->dw ? sym_func_at(m, s->addr - m->bias) : NULL;
			uint64_t addr = s->addr, hi = s->addr + (s->size ? s->size : 1);
			if (df && df->entry + m->bias == s->addr)
				hi = df->hi + m->bias;
			if (!(flags & SYMTAB_NO_SKIP) && !s->plt)
				addr = sym_skip_prologue(st, m, s->addr, hi);
			push_loc(st, m, addr, df ? df->name : s->full, out);
			vec_push(&dwarf_entries, s->addr);
		}
	}
	vec_free(&dwarf_entries);
}

/* Innermost scope DIE (lexical block, inlined instance, function) at a DWARF
 * address: gdb keeps one location per block. */
static Dwarf_Off block_at(struct sym_mod *m, int ci, uint64_t a)
{
	Dwarf_Die cud, *scopes = NULL;
	if (!sym_cu_die(m, (uint32_t)ci, &cud))
		return 0;
	int n = sym_scopes(&cud, a, &scopes);
	Dwarf_Off r = n > 0 ? dwarf_dieoffset(&scopes[0]) : 0;
	free(scopes);
	return r;
}

struct line_hit {
	struct sym_mod *m;
	int cu;
	uint64_t addr;     /* DWARF address */
	uint32_t file;
};

static bool file_idx_matches(struct sym_cu *cu, size_t i, const char *file)
{
	return !strcmp(cu->fnames[i], file) || sym_path_matches(cu->fpaths[i], file) ||
	       sym_path_matches(cu->fnames[i], file);
}

/* FILE:LINE. Returns 0, -ENOENT with *errmsg set. */
static int resolve_line(struct symtab *st, const char *file, bool file_given, long line,
                        unsigned flags, struct sym_loc_list *out, char **errmsg)
{
	bool any_file = false;
	long best = 0;
	VEC(struct line_hit) hits = { 0 };
	for (int pass = 0; pass < 2; pass++) {
		for (size_t mi = 0; mi < st->mods.n; mi++) {
			struct sym_mod *m = st->mods.v[mi];
			if (!sym_mod_dwarf(m))
				continue;
			sym_index_dwarf(m);
			for (size_t ci = 0; ci < m->cus.n; ci++) {
				struct sym_cu *cu = &m->cus.v[ci];
				sym_cu_lines(m, cu);
				bool want[cu->nfiles + 1];
				bool anyf = false;
				for (size_t i = 0; i < cu->nfiles; i++)
					anyf |= want[i] = file_idx_matches(cu, i, file);
				if (!anyf)
					continue;
				any_file = true;
				for (size_t r = 0; r < cu->nrows; r++) {
					const struct sym_row *row = &cu->rows[r];
					if (!row->is_stmt || !row->line || row->end_seq || !want[row->file])
						continue;
					if (pass == 0 && row->line >= line && (!best || row->line < best))
						best = row->line;
					if (pass == 1 && row->line == best) {
						struct line_hit h = { m, (int)ci, row->addr, row->file };
						vec_push(&hits, h);
					}
				}
			}
		}
		if (!best)
			break;
	}
	if (!any_file) {
		set_err(errmsg, "No source file named %s.", file);
		return -ENOENT;
	}
	if (!best) {
		if (file_given)
			set_err(errmsg, "No line %ld in file \"%s\".", line, file);
		else
			set_err(errmsg, "No line %ld in the current file.", line);
		vec_free(&hits);
		return -ENOENT;
	}
	/* One location per block, the first in address order. */
	Dwarf_Off *blocks = xcalloc(hits.n + 1, sizeof *blocks);
	for (size_t i = 0; i < hits.n; i++)
		blocks[i] = block_at(hits.v[i].m, hits.v[i].cu, hits.v[i].addr);
	for (size_t i = 0; i < hits.n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = blocks[j] && blocks[j] == blocks[i] && hits.v[j].m == hits.v[i].m;
		if (dup)
			continue;
		struct sym_mod *m = hits.v[i].m;
		uint64_t addr = hits.v[i].addr + m->bias;
		const struct sym_func *f = sym_func_at(m, hits.v[i].addr);
		bool moved = false;
		if (f && !(flags & SYMTAB_NO_SKIP)) {
			uint64_t pp = sym_skip_prologue(st, m, f->entry + m->bias, f->hi + m->bias);
			if (addr <= pp && addr >= f->entry + m->bias) {
				moved = addr != pp;
				addr = pp;
			}
		}
		push_loc_line(st, m, addr, f ? f->name : NULL, &m->cus.v[hits.v[i].cu],
		              hits.v[i].file, moved ? 0 : (int)best, out);
	}
	free(blocks);
	vec_free(&hits);
	return 0;
}

/* The file gdb lists by default: the one holding main. */
static const char *default_file(struct symtab *st)
{
	struct sym_loc_list l = { 0 };
	resolve_func(st, "main", NULL, SYMTAB_NO_SKIP, &l);
	const char *f = l.n ? l.v[0].file : NULL;
	vec_free(&l);
	return f;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The ':' separating FILE from LINE/FUNC: one not part of "::". */
static const char *file_sep(const char *spec)
{
	for (const char *p = spec; *p; p++) {
		if (*p != ':')
			continue;
		if (p[1] == ':') {
			p++;
			continue;
		}
		return p;
	}
	return NULL;
}

static int cmp_loc(const void *a, const void *b)
{
	const struct sym_loc *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int symtab_resolve(struct symtab *st, const char *spec_in, const char *def_file,
                   int def_line, unsigned flags, struct sym_loc_list *out, char **errmsg)
{
	if (errmsg)
		*errmsg = NULL;
	char *spec = str_trim(xstrdup(spec_in ? spec_in : "")), *spec_mem = spec;
	size_t before = out->n;
	int e = 0;
	if (!*spec) {
		set_err(errmsg, "Empty location.");
		e = -EINVAL;
		goto done;
	}
	if (!st->mods.n) {
		set_err(errmsg, "No symbol table is loaded.  Use the \"file\" command.");
		e = -ENOENT;
		goto done;
	}
	if (spec[0] == '*') {
		char *end;
		const char *num = spec + 1;
		while (*num == ' ')
			num++;
		errno = 0;
		uint64_t a = strtoull(num, &end, 0);
		if (end == num && (isalpha((unsigned char)*num) || *num == '_')) {
			/* *FUNC, *FUNC+N, *FUNC-N: the function's entry, plus an offset. */
			const char *nend = num;
			while (isalnum((unsigned char)*nend) || *nend == '_' || *nend == '.' ||
			       *nend == ':')
				nend++;
			char *name = xstrndup(num, (size_t)(nend - num));
			struct sym_loc_list f = { 0 };
			resolve_func(st, name, NULL, SYMTAB_NO_SKIP, &f);
			if (!f.n) {
				set_err(errmsg, "No symbol \"%s\" in current context.", name);
				free(name);
				e = -ENOENT;
				goto done;
			}
			free(name);
			errno = 0;   /* strtoull's verdict on the name is moot */
			a = f.v[0].addr;
			sym_loc_list_free(&f);
			while (*nend == ' ')
				nend++;
			end = (char *)nend;
			if (*nend == '+' || *nend == '-') {
				const char *o = nend + 1;
				while (*o == ' ')
					o++;
				uint64_t off = strtoull(o, &end, 0);
				if (end == o)
					end = (char *)nend;   /* a syntax error below */
				else
					a = *nend == '+' ? a + off : a - off;
			}
		}
		if (errno || end == num || *str_trim(end)) {
			set_err(errmsg, "A syntax error in expression, near `%s'.", end);
			e = -EINVAL;
			goto done;
		}
		struct sym_mod *m = sym_mod_at(st, a);
		struct sym_loc l = { .addr = a, .module = m ? m->name : NULL,
		                     .mod_off = m ? a - m->bias : a };
		struct sym_addr_info ai;
		if (symtab_describe(st, a, &ai) == 0) {
			l.func = ai.func;
			l.file = ai.file;
			l.fullpath = ai.fullpath;
			l.base = ai.base;
			l.line = ai.line;
		}
		vec_push(out, l);
		goto done;
	}
	const char *sep = file_sep(spec);
	if (sep) {
		char *file = xstrndup(spec, (size_t)(sep - spec));
		const char *rest = sep + 1;
		while (*rest == ' ')
			rest++;
		if (all_digits(rest)) {
			e = resolve_line(st, str_trim(file), true, atol(rest), flags, out, errmsg);
		} else {
			resolve_func(st, rest, str_trim(file), flags, out);
			if (out->n == before) {
				/* gdb checks the file first */
				struct sym_loc_list tmp = { 0 };
				int fe = resolve_line(st, file, true, 1, SYMTAB_NO_SKIP, &tmp, NULL);
				vec_free(&tmp);
				if (fe < 0 && errmsg && !*errmsg)
					set_err(errmsg, "No source file named %s.", file);
				else
					set_err(errmsg, "Function \"%s\" not defined in \"%s\".", rest, file);
				e = -ENOENT;
			}
		}
		free(file);
		goto done;
	}
	if (all_digits(spec) || ((spec[0] == '+' || spec[0] == '-') && all_digits(spec + 1))) {
		long line = atol(spec + (spec[0] == '+'));
		if (spec[0] == '+' || spec[0] == '-')
			line += def_line;
		const char *file = def_file ? def_file : default_file(st);
		if (!file) {
			set_err(errmsg, "No symbol table is loaded.  Use the \"file\" command.");
			e = -ENOENT;
			goto done;
		}
		e = resolve_line(st, file, false, line, flags, out, errmsg);
		goto done;
	}
	resolve_func(st, spec, NULL, flags, out);
	if (out->n == before) {
		set_err(errmsg, "Function \"%s\" not defined.", spec);
		e = -ENOENT;
	}
done:
	if (out->n > before)
		qsort(out->v + before, out->n - before, sizeof *out->v, cmp_loc);
	free(spec_mem);
	return e;
}
