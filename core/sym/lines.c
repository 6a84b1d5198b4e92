/* Line tables with gdb's semantics (find_pc_line), address descriptions, and the
 * queries step/next need: an address's line entry, its same-line range, statement
 * starts, post-prologue addresses. */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sym_int.h"

void sym_cu_lines(struct sym_mod *m, struct sym_cu *cu)
{
	if (cu->lines_done)
		return;
	cu->lines_done = true;
	Dwarf_Die cudie;
	if (!sym_cu_die(m, (uint32_t)(cu - m->cus.v), &cudie))
		return;
	Dwarf_Files *files;
	size_t nf = 0;
	if (dwarf_getsrcfiles(&cudie, &files, &nf) != 0)
		return;
	cu->nfiles = nf;
	cu->fnames = xcalloc(nf + 1, sizeof *cu->fnames);
	cu->fpaths = xcalloc(nf + 1, sizeof *cu->fpaths);
	for (size_t i = 0; i < nf; i++) {
		const char *n = dwarf_filesrc(files, i, NULL, NULL);
		if (!n)
			n = "??";
		cu->fnames[i] = pool_intern(&m->st->pool, n);
		char *full = sym_path_normalize(cu->comp_dir, n);
		cu->fpaths[i] = pool_intern(&m->st->pool, full);
		free(full);
	}
	Dwarf_Lines *lines;
	size_t n = 0;
	if (dwarf_getsrclines(&cudie, &lines, &n) != 0)
		return;
	cu->rows = xmalloc((n + 1) * sizeof *cu->rows);
	size_t o = 0, seq_start = 0;
	/* gdb's state machine: a row with the line and file of the previous one is
	 * dropped when that line has had a non-zero discriminator (PR 17276). */
	int last_line = 0, prev_line = 0;
	size_t last_file = (size_t)-1;
	bool disc_line = false;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		Dwarf_Addr addr;
		int lineno = 0;
		bool stmt = false, end = false;
		size_t fidx = 0;
		Dwarf_Files *lf;
		dwarf_lineaddr(l, &addr);
		dwarf_lineno(l, &lineno);
		dwarf_linebeginstatement(l, &stmt);
		dwarf_lineendsequence(l, &end);
		if (dwarf_line_file(l, &lf, &fidx) != 0 || fidx >= nf)
			fidx = 0;
		unsigned disc = 0;
		dwarf_linediscriminator(l, &disc);
		if (lineno != prev_line)
			disc_line = disc != 0;
		else
			disc_line |= disc != 0;
		prev_line = lineno;
		if (!end && lineno && lineno == last_line && fidx == last_file && disc_line)
			continue;
		if (!end) {
			last_line = lineno;
			last_file = fidx;
		}
		if (end) {
			last_line = prev_line = 0;
			last_file = (size_t)-1;
			disc_line = false;
			/* gdb drops entries that an end of sequence at the same pc leaves empty */
			while (o > seq_start && cu->rows[o - 1].addr == addr && !cu->rows[o - 1].end_seq)
				o--;
			if (o == seq_start)
				continue;   /* an empty sequence */
			lineno = 0;
		}
		cu->rows[o++] = (struct sym_row){
			.addr = addr, .line = lineno, .file = (uint32_t)fidx, .is_stmt = stmt,
			.end_seq = end,
		};
		if (end)
			seq_start = o;
	}
	cu->nrows = o;
	/* libdw sorts by address already; keep it stable for equal addresses with end
	 * markers first, as gdb does. */
	for (size_t i = 1; i < o; i++)
		for (size_t j = i; j > 0; j--) {
			struct sym_row *a = &cu->rows[j - 1], *b = &cu->rows[j];
			if (a->addr < b->addr || (a->addr == b->addr && (a->end_seq || !b->end_seq)))
				break;
			struct sym_row t = *a;
			*a = *b;
			*b = t;
		}
}

int sym_cu_at(struct sym_mod *m, uint64_t a)
{
	if (!sym_mod_dwarf(m))
		return -1;
	Dwarf_Addr bias;
	Dwarf_Die *cud = dwfl_module_addrdie(m->dm, a + m->bias, &bias);
	if (!cud)
		return -1;
	return sym_cu_index(m, dwarf_dieoffset(cud));
}

long sym_row_at(struct sym_cu *cu, uint64_t a)
{
	size_t lo = 0, hi = cu->nrows;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cu->rows[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	size_t k = lo - 1;
	if (cu->rows[k].end_seq || cu->rows[k].line == 0)
		return -1;
	if (!cu->rows[k].is_stmt) {
		size_t t = k;
		while (t > 0 && cu->rows[t - 1].addr == cu->rows[t].addr && cu->rows[t - 1].line &&
		       !cu->rows[t].is_stmt)
			t--;
		if (cu->rows[t].is_stmt)
			k = t;
	}
	return (long)k;
}

uint64_t sym_row_end(struct sym_cu *cu, long i)
{
	size_t j = (size_t)i + 1;
	while (j < cu->nrows && cu->rows[j].addr == cu->rows[i].addr)
		j++;
	return j < cu->nrows ? cu->rows[j].addr : cu->rows[i].addr + 1;
}

/* The CU and row of a runtime address. */
static bool lookup_row(struct symtab *st, uint64_t addr, struct sym_mod **mp,
                       struct sym_cu **cup, long *rowp)
{
	struct sym_mod *m = sym_mod_at(st, addr);
	if (!m || !sym_mod_dwarf(m))
		return false;
	int ci = sym_cu_at(m, addr - m->bias);
	if (ci < 0)
		return false;
	struct sym_cu *cu = &m->cus.v[ci];
	sym_cu_lines(m, cu);
	long r = sym_row_at(cu, addr - m->bias);
	if (r < 0)
		return false;
	*mp = m;
	*cup = cu;
	*rowp = r;
	return true;
}

static void fill_line(struct sym_mod *m, struct sym_cu *cu, long r, struct sym_line *out)
{
	const struct sym_row *row = &cu->rows[r];
	*out = (struct sym_line){
		.lo = row->addr + m->bias, .hi = sym_row_end(cu, r) + m->bias,
		.file = cu->fnames[row->file], .fullpath = cu->fpaths[row->file],
		.line = row->line, .is_stmt = row->is_stmt,
	};
}

int symtab_pc_line(struct symtab *st, uint64_t addr, struct sym_line *out)
{
	struct sym_mod *m;
	struct sym_cu *cu;
	long r;
	if (!lookup_row(st, addr, &m, &cu, &r))
		return -ENOENT;
	fill_line(m, cu, r, out);
	return 0;
}

/* The function's primary range for a DWARF address (any of its parts). */
static const struct sym_func *func_primary(struct sym_mod *m, const struct sym_func *f)
{
	if (!f || !f->is_extra_range)
		return f;
	for (size_t i = 0; i < m->funcs.n; i++)
		if (m->funcs.v[i].die == f->die && !m->funcs.v[i].is_extra_range)
			return &m->funcs.v[i];
	return f;
}

int symtab_line_range(struct symtab *st, uint64_t addr, struct sym_line *out)
{
	struct sym_mod *m;
	struct sym_cu *cu;
	long r;
	if (!lookup_row(st, addr, &m, &cu, &r))
		return -ENOENT;
	fill_line(m, cu, r, out);
	const struct sym_func *f = sym_func_at(m, addr - m->bias);
	uint64_t flo = f ? f->lo + m->bias : 0, fhi = f ? f->hi + m->bias : UINT64_MAX;
	const struct sym_row *row = &cu->rows[r];
	/* forward: the entries starting where this one ends */
	for (;;) {
		uint64_t next = out->hi - m->bias;
		long k = sym_row_at(cu, next);
		if (k < 0 || cu->rows[k].addr != next || out->hi >= fhi)
			break;
		if (cu->rows[k].line != row->line || cu->rows[k].file != row->file)
			break;
		out->hi = sym_row_end(cu, k) + m->bias;
	}
	/* backward: entries ending where this one starts */
	for (long k = r - 1; k >= 0;) {
		const struct sym_row *p = &cu->rows[k];
		if (p->end_seq || p->line != row->line || p->file != row->file)
			break;
		if (sym_row_end(cu, k) + m->bias != out->lo || p->addr + m->bias < flo)
			break;
		out->lo = p->addr + m->bias;
		out->is_stmt = p->is_stmt;
		while (k > 0 && cu->rows[k - 1].addr == p->addr)
			k--;
		k--;
	}
	if (out->hi > fhi)
		out->hi = fhi;
	return 0;
}

bool symtab_is_stmt_start(struct symtab *st, uint64_t addr)
{
	struct sym_mod *m;
	struct sym_cu *cu;
	long r;
	if (!lookup_row(st, addr, &m, &cu, &r))
		return false;
	uint64_t a = addr - m->bias;
	for (long k = r; k >= 0 && cu->rows[k].addr == a; k--)
		if (cu->rows[k].is_stmt && cu->rows[k].line)
			return true;
	for (size_t k = (size_t)r + 1; k < cu->nrows && cu->rows[k].addr == a; k++)
		if (cu->rows[k].is_stmt && cu->rows[k].line)
			return true;
	return false;
}

bool symtab_has_line_info(struct symtab *st, uint64_t addr)
{
	struct sym_mod *m;
	struct sym_cu *cu;
	long r;
	return lookup_row(st, addr, &m, &cu, &r);
}

int symtab_describe(struct symtab *st, uint64_t addr, struct sym_addr_info *out)
{
	memset(out, 0, sizeof *out);
	out->addr = addr;
	struct sym_mod *m = sym_mod_at(st, addr);
	if (!m)
		return -ENOENT;
	out->module = m->name;
	out->module_base = m->base;
	const char *en;
	uint64_t es, esz;
	bool have_elf = sym_elf_at(m, addr, &en, &es, &esz);
	if (have_elf)
		out->elf_name = en;
	if (sym_mod_dwarf(m)) {
		const struct sym_func *f = func_primary(m, sym_func_at(m, addr - m->bias));
		if (f) {
			out->func = f->name;
			out->func_lo = f->entry + m->bias;
			out->func_hi = f->hi + m->bias;
			out->has_dwarf = true;
		}
		struct sym_cu *cu;
		long r;
		if (lookup_row(st, addr, &m, &cu, &r)) {
			const struct sym_row *row = &cu->rows[r];
			out->file = cu->fnames[row->file];
			out->fullpath = cu->fpaths[row->file];
			const char *sl = strrchr(out->file, '/');
			out->base = sl ? sl + 1 : out->file;
			out->line = row->line;
		}
	}
	if (!out->func && have_elf) {
		out->func = en;
		out->func_lo = es;
		out->func_hi = esz ? es + esz : 0;
	}
	out->offset = out->func ? addr - out->func_lo : 0;
	return 0;
}

int symtab_func_range(struct symtab *st, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	if (st->fr_valid && st->fr_gen == st->gen && addr >= st->fr_lo && addr < st->fr_hi) {
		*lo = st->fr_lo;
		*hi = st->fr_hi;
		return 0;
	}
	struct sym_mod *m = sym_mod_at(st, addr);
	if (!m)
		return -ENOENT;
	const struct sym_func *f = sym_mod_dwarf(m) ? func_primary(m, sym_func_at(m, addr - m->bias))
						    : NULL;
	const char *en;
	uint64_t es, esz;
	if (f) {
		*lo = f->entry + m->bias;
		*hi = f->hi + m->bias;
	} else if (sym_elf_at(m, addr, &en, &es, &esz) && esz) {
		*lo = es;
		*hi = es + esz;
	} else {
		return -ENOENT;
	}
	if (!*hi)
		return -ENOENT;
	/* Cached only when addr is inside (an entry past a cold part's start is not). */
	st->fr_valid = addr >= *lo && addr < *hi;
	st->fr_gen = st->gen;
	st->fr_lo = *lo;
	st->fr_hi = *hi;
	return 0;
}

int symtab_func_parts(struct symtab *st, uint64_t addr, uint64_t (*parts)[2], size_t max)
{
	struct sym_mod *m = sym_mod_at(st, addr);
	const struct sym_func *f = m && sym_mod_dwarf(m) ? sym_func_at(m, addr - m->bias) : NULL;
	if (!f)
		return -ENOENT;
	size_t n = 0;
	for (size_t i = 0; i < m->funcs.n; i++) {
		const struct sym_func *g = &m->funcs.v[i];
		if (g->die != f->die || g->inlined)
			continue;
		if (n == max)
			return -E2BIG;
		parts[n][0] = g->lo + m->bias;
		parts[n][1] = g->hi + m->bias;
		n++;
	}
	return n ? (int)n : -ENOENT;
}

int symtab_addr_symbol(struct symtab *st, uint64_t addr, const char **name, uint64_t *off)
{
	struct sym_mod *m = sym_mod_at(st, addr);
	if (!m)
		return -ENOENT;
	const char *en;
	uint64_t es;
	if (sym_elf_at(m, addr, &en, &es, NULL)) {
		*name = en;
		*off = addr - es;
		return 0;
	}
	if (sym_mod_dwarf(m)) {
		const struct sym_func *f = func_primary(m, sym_func_at(m, addr - m->bias));
		if (f) {
			*name = f->name;
			*off = addr - (f->entry + m->bias);
			return 0;
		}
	}
	return -ENOENT;
}

int symtab_post_prologue(struct symtab *st, uint64_t addr, uint64_t *out)
{
	struct sym_mod *m = sym_mod_at(st, addr);
	if (!m)
		return -ENOENT;
	if (sym_mod_dwarf(m)) {
		const struct sym_func *f = func_primary(m, sym_func_at(m, addr - m->bias));
		if (f) {
			*out = sym_skip_prologue(st, m, f->entry + m->bias, f->hi + m->bias);
			return 0;
		}
	}
	const char *en;
	uint64_t es, esz;
	if (!sym_elf_at(m, addr, &en, &es, &esz))
		return -ENOENT;
	*out = sym_skip_prologue(st, m, es, esz ? es + esz : es + 1);
	return 0;
}
