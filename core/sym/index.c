/* Per-module name indexes, built once on first use: every function with code
 * (and every inlined instance), global variables, types and enumerators from
 * DWARF with C++-qualified names; ELF symbols (demangled) for code without DWARF. */
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sym_int.h"

static const char *qual_join(struct sym_mod *m, const char *prefix, const char *name)
{
	if (!prefix || !*prefix)
		return pool_intern(&m->st->pool, name);
	char *s = xasprintf("%s::%s", prefix, name);
	const char *r = pool_intern(&m->st->pool, s);
	free(s);
	return r;
}

struct walk;
static void qual_set(struct walk *w, Dwarf_Off off, const char *q);

static void qual_set_m(struct sym_mod *m, Dwarf_Off off, const char *q)
{
	vec_push(&m->quals, q);
	ptrmap_put(&m->qual_by_off, (uintptr_t)off, (int)m->quals.n - 1);
}

static const char *qual_get(struct sym_mod *m, Dwarf_Off off)
{
	int i = ptrmap_get(&m->qual_by_off, (uintptr_t)off);
	return i < 0 ? NULL : m->quals.v[i];
}

static void ent_add(struct sym_mod *m, const char *name, Dwarf_Die *die, uint32_t cu,
                    enum sym_ent_kind kind)
{
	bool flag = false;
	Dwarf_Attribute a;
	struct sym_ent e = {
		.name = name, .die = dwarf_dieoffset(die), .cu = cu, .kind = (uint8_t)kind,
		.tag = (uint16_t)dwarf_tag(die),
	};
	if (dwarf_attr(die, DW_AT_external, &a) && dwarf_formflag(&a, &flag) == 0)
		e.external = flag;
	flag = false;
	if (dwarf_attr(die, DW_AT_declaration, &a) && dwarf_formflag(&a, &flag) == 0)
		e.decl = flag;
	e.next = ptrmap_get(&m->ent_by_name, (uintptr_t)name);
	/* a type every unit repeats (size_t...) is kept once */
	if (kind == SE_TYPE && e.next >= 0 && m->ents.v[e.next].kind == SE_TYPE &&
	    m->ents.v[e.next].tag == e.tag && !m->ents.v[e.next].decl && !e.decl)
		return;
	vec_push(&m->ents, e);
	ptrmap_put(&m->ent_by_name, (uintptr_t)name, (int)m->ents.n - 1);
}

/* Name of a DIE through DW_AT_specification / DW_AT_abstract_origin, qualified when
 * the referenced DIE was seen by the walk. */
static const char *ref_name(struct sym_mod *m, Dwarf_Die *die, int depth)
{
	const char *q = qual_get(m, dwarf_dieoffset(die));
	if (q)
		return q;
	static const int refs[] = { DW_AT_specification, DW_AT_abstract_origin };
	for (size_t i = 0; i < ARRAY_SIZE(refs) && depth < 8; i++) {
		Dwarf_Attribute a;
		Dwarf_Die r;
		if (dwarf_attr(die, refs[i], &a) && dwarf_formref_die(&a, &r)) {
			q = ref_name(m, &r, depth + 1);
			if (q)
				return q;
		}
	}
	const char *n = dwarf_diename(die);
	return n ? pool_intern(&m->st->pool, n) : NULL;
}

static const char *linkage_of(struct sym_mod *m, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *ln = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		ln = dwarf_formstring(&a);
	if (!ln)
		return NULL;
	char *d = sym_demangle(ln);
	if (!d)
		return NULL;
	const char *r = pool_intern(&m->st->pool, d);
	free(d);
	return r;
}

struct walk {
	struct sym_mod *m;
	uint32_t cu;
	size_t first_func;      /* funcs added by this CU start here */
	bool cxx;               /* a C++ unit: names need their scopes */
};

/* Remember a DIE's qualified name. C units have no scopes: their names are
 * DW_AT_name, which ref_name() reads directly, so nothing is stored (this
 * keeps indexing libc's DWARF cheap). */
static void qual_set(struct walk *w, Dwarf_Off off, const char *q)
{
	if (w->cxx)
		qual_set_m(w->m, off, q);
}

static void add_func(struct walk *w, Dwarf_Die *die, bool inlined)
{
	struct sym_mod *m = w->m;
	Dwarf_Addr base, start, end, entry = 0;
	ptrdiff_t off = 0;
	bool first = true;
	bool has_entry = dwarf_entrypc(die, &entry) == 0;
	bool ext = false;
	Dwarf_Attribute a;
	if (dwarf_attr_integrate(die, DW_AT_external, &a))
		dwarf_formflag(&a, &ext);
	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		if (end <= start)
			continue;
		struct sym_func f = {
			.lo = start, .hi = end, .entry = has_entry ? entry : start,
			.die = dwarf_dieoffset(die), .cu = w->cu, .next = -1, .inlined = inlined,
			.external = ext, .is_extra_range = !first,
		};
		if (!first || (has_entry && (entry < start || entry >= end)))
			f.entry = start;
		if (first && has_entry)
			f.entry = entry;
		vec_push(&m->funcs, f);
		first = false;
	}
}

static void walk_body(struct walk *w, Dwarf_Die *parent)
{
	Dwarf_Die c;
	if (dwarf_child(parent, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);
		if (tag == DW_TAG_inlined_subroutine) {
			add_func(w, &c, true);
			walk_body(w, &c);
		} else if (tag == DW_TAG_lexical_block) {
			walk_body(w, &c);
		} else if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) {
			Dwarf_Attribute a;
			if (dwarf_attr(&c, DW_AT_location, &a) &&
			    (dwarf_whatform(&a) == DW_FORM_sec_offset ||
			     dwarf_whatform(&a) == DW_FORM_loclistx ||
			     dwarf_whatform(&a) == DW_FORM_data4 || dwarf_whatform(&a) == DW_FORM_data8))
				w->m->cus.v[w->cu].has_loclist = true;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

/* The DIE's own DW_AT_name (dwarf_diename follows specification/abstract_origin). */
static const char *own_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	return dwarf_formstring(dwarf_attr(die, DW_AT_name, &a));
}

static void walk_scope(struct walk *w, Dwarf_Die *parent, const char *prefix)
{
	struct sym_mod *m = w->m;
	Dwarf_Die c;
	if (dwarf_child(parent, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);
		const char *name = own_name(&c);
		const char *q = NULL;
		switch (tag) {
		case DW_TAG_namespace:
			q = qual_join(m, prefix, name ? name : "(anonymous namespace)");
			qual_set(w, dwarf_dieoffset(&c), q);
			walk_scope(w, &c, q);
			break;
		case DW_TAG_structure_type:
		case DW_TAG_class_type:
		case DW_TAG_union_type:
		case DW_TAG_enumeration_type:
			if (name) {
				q = qual_join(m, prefix, name);
				qual_set(w, dwarf_dieoffset(&c), q);
				ent_add(m, q, &c, w->cu, SE_TYPE);
			}
			if (tag == DW_TAG_enumeration_type) {
				bool scoped = false;
				Dwarf_Attribute a;
				if (dwarf_attr(&c, DW_AT_enum_class, &a))
					dwarf_formflag(&a, &scoped);
				Dwarf_Die e;
				if (dwarf_child(&c, &e) == 0)
					do {
						const char *en = own_name(&e);
						if (dwarf_tag(&e) == DW_TAG_enumerator && en) {
							ent_add(m, qual_join(m, scoped && q ? q : prefix, en),
							        &e, w->cu, SE_ENUMERATOR);
							m->ents.v[m->ents.n - 1].parent = dwarf_dieoffset(&c);
						}
					} while (dwarf_siblingof(&e, &e) == 0);
			} else if (name && w->cxx) {
				walk_scope(w, &c, q);   /* members, nested types, methods */
			}
			break;
		case DW_TAG_typedef:
		case DW_TAG_base_type:
		case DW_TAG_unspecified_type:
			if (name) {
				q = qual_join(m, prefix, name);
				qual_set(w, dwarf_dieoffset(&c), q);
				ent_add(m, q, &c, w->cu, SE_TYPE);
			}
			break;
		case DW_TAG_subprogram: {
			if (name) {
				q = qual_join(m, prefix, name);
				qual_set(w, dwarf_dieoffset(&c), q);
			}
			Dwarf_Attribute a;
			bool has_code = dwarf_hasattr(&c, DW_AT_low_pc) || dwarf_hasattr(&c, DW_AT_ranges);
			if (has_code) {
				add_func(w, &c, false);
				walk_body(w, &c);
			} else if (name && dwarf_attr(&c, DW_AT_declaration, &a)) {
				ent_add(m, q, &c, w->cu, SE_FUNC_DECL);
			}
			break;
		}
		case DW_TAG_variable:
		case DW_TAG_member:
			if (tag == DW_TAG_member && !dwarf_hasattr(&c, DW_AT_external))
				break;
			if (name) {
				q = qual_join(m, prefix, name);
				qual_set(w, dwarf_dieoffset(&c), q);
			} else {
				q = ref_name(m, &c, 0);
			}
			if (q)
				ent_add(m, q, &c, w->cu, SE_VAR);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

static int cmp_func_addr(const void *a, const void *b, void *arg)
{
	const struct sym_func *f = arg;
	const struct sym_func *x = &f[*(const int *)a], *y = &f[*(const int *)b];
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi > y->hi ? -1 : x->hi < y->hi;
}

void sym_index_dwarf(struct sym_mod *m)
{
	if (m->dw_indexed)
		return;
	m->dw_indexed = true;
	if (!sym_mod_dwarf(m))
		return;
	Dwarf_Die *cud = NULL;
	Dwarf_Addr bias;
	while ((cud = dwfl_module_nextcu(m->dm, cud, &bias))) {
		int tag = dwarf_tag(cud);
		if (tag != DW_TAG_compile_unit && tag != DW_TAG_partial_unit)
			continue;
		struct sym_cu cu = { .off = dwarf_dieoffset(cud) };
		const char *n = dwarf_diename(cud);
		cu.name = n ? pool_intern(&m->st->pool, n) : NULL;
		Dwarf_Attribute a;
		const char *cd = dwarf_formstring(dwarf_attr(cud, DW_AT_comp_dir, &a));
		cu.comp_dir = cd ? pool_intern(&m->st->pool, cd) : NULL;
		cu.lang = dwarf_srclang(cud);
		vec_push(&m->cus, cu);
		uint32_t ci = (uint32_t)m->cus.n - 1;
		ptrmap_put(&m->cu_by_off, (uintptr_t)cu.off, (int)ci);
		bool is_cxx = cu.lang == DW_LANG_C_plus_plus || cu.lang == DW_LANG_C_plus_plus_11 ||
		              cu.lang == DW_LANG_C_plus_plus_14 || cu.lang == DW_LANG_C_plus_plus_03;
		struct walk w = { .m = m, .cu = ci, .first_func = m->funcs.n, .cxx = is_cxx };
		walk_scope(&w, cud, NULL);
		/* Names of definitions that refer to declarations (C++ members, inlined
		 * instances) once the whole CU is known. */
		for (size_t i = w.first_func; i < m->funcs.n; i++) {
			struct sym_func *f = &m->funcs.v[i];
			Dwarf_Die d;
			if (!dwarf_offdie(m->dw, f->die, &d))
				continue;
			f->name = ref_name(m, &d, 0);
			f->linkage = linkage_of(m, &d);
			/* C: gdb names a function by its (unmangled) linkage name, as
			 * glibc's __GI_raise for raise */
			Dwarf_Attribute la;
			const char *ln = NULL;
			if (!is_cxx && dwarf_attr_integrate(&d, DW_AT_linkage_name, &la))
				ln = dwarf_formstring(&la);
			if (ln && strncmp(ln, "_Z", 2)) {
				f->alias = f->name;
				f->name = pool_intern(&m->st->pool, ln);
			}
		}
	}
	m->func_by_addr = xmalloc((m->funcs.n + 1) * sizeof(int));
	for (size_t i = 0; i < m->funcs.n; i++) {
		struct sym_func *f = &m->funcs.v[i];
		if (!f->name)
			f->name = pool_intern(&m->st->pool, "??");
		if (!f->is_extra_range) {
			f->next = ptrmap_get(&m->func_by_name, (uintptr_t)f->name);
			ptrmap_put(&m->func_by_name, (uintptr_t)f->name, (int)i);
		}
		if (!f->inlined)
			m->func_by_addr[m->nfunc_by_addr++] = (int)i;
	}
	qsort_r(m->func_by_addr, m->nfunc_by_addr, sizeof(int), cmp_func_addr, m->funcs.v);
	pr_debug(LM_SYM, "%s: %zu CUs, %zu functions, %zu names", m->name, m->cus.n,
	         m->funcs.n, m->ents.n);
}

const struct sym_func *sym_func_at(struct sym_mod *m, uint64_t a)
{
	sym_index_dwarf(m);
	size_t lo = 0, hi = m->nfunc_by_addr;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->funcs.v[m->func_by_addr[mid]].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k > 0 && lo - k < 8; k--) {
		const struct sym_func *f = &m->funcs.v[m->func_by_addr[k - 1]];
		if (f->lo <= a && a < f->hi)
			return f;
	}
	return NULL;
}

int sym_cu_index(struct sym_mod *m, Dwarf_Off off)
{
	sym_index_dwarf(m);
	return ptrmap_get(&m->cu_by_off, (uintptr_t)off);
}

bool sym_cu_die(struct sym_mod *m, uint32_t cu, Dwarf_Die *out)
{
	return m->dw && cu < m->cus.n && dwarf_offdie(m->dw, m->cus.v[cu].off, out);
}

const char *sym_die_qualname(struct sym_mod *m, Dwarf_Die *die)
{
	sym_index_dwarf(m);
	return ref_name(m, die, 0);
}

/* Strip the parameter list of a demangled C++ name: "a::f(int) const" -> "a::f". */
static const char *strip_params(struct sym_mod *m, const char *full)
{
	size_t n = strlen(full);
	if (!n || (full[n - 1] != ')' && !strstr(full, ") const")))
		return full;
	int depth = 0;
	for (size_t i = n; i-- > 0;) {
		char ch = full[i];
		if (ch == ')')
			depth++;
		else if (ch == '(' && --depth == 0) {
			/* "operator()" keeps its own parentheses */
			if (i >= 8 && !strncmp(full + i - 8, "operator", 8))
				continue;
			return pool_intern_n(&m->st->pool, full, i);
		}
	}
	return full;
}

static const char *demangled(struct sym_mod *m, const char *raw, const char **nameonly)
{
	int i = ptrmap_get(&m->demangled, (uintptr_t)raw);
	if (i >= 0) {
		if (nameonly)
			*nameonly = m->quals.v[i + 1];
		return m->quals.v[i];
	}
	char *d = sym_demangle(raw);
	const char *full = pool_intern(&m->st->pool, d ? d : raw);
	free(d);
	const char *name = full != raw ? strip_params(m, full) : full;
	vec_push(&m->quals, full);
	vec_push(&m->quals, name);
	ptrmap_put(&m->demangled, (uintptr_t)raw, (int)m->quals.n - 2);
	if (nameonly)
		*nameonly = name;
	return full;
}

/* Which symbol a GOT slot belongs to, from the relocations of .rela.plt/.rela.dyn. */
struct got_sym {
	uint64_t got;
	const char *name;
};
struct got_syms {
	struct got_sym *v;
	size_t n, cap;
};

static void got_syms(Elf *elf, struct got_syms *out)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		Elf_Scn *symscn = elf_getscn(elf, sh.sh_link);
		GElf_Shdr symsh;
		Elf_Data *data = elf_getdata(scn, NULL), *symdata;
		if (!symscn || !gelf_getshdr(symscn, &symsh) || !data ||
		    !(symdata = elf_getdata(symscn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym sym;
			if (!gelf_getrela(data, (int)i, &r))
				break;
			unsigned type = GELF_R_TYPE(r.r_info), si = GELF_R_SYM(r.r_info);
			if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !si ||
			    !gelf_getsym(symdata, (int)si, &sym))
				continue;
			const char *n = elf_strptr(elf, symsh.sh_link, sym.st_name);
			if (n && *n)
				vec_push(out, ((struct got_sym){ r.r_offset, n }));
		}
	}
}

/* Synthesize "name@plt" symbols for PLT entries, as BFD and gdb do: each entry's
 * `jmp *disp(%rip)` names a GOT slot, whose relocation names the function. */
static void index_plt(struct sym_mod *m)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->dm, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	struct got_syms gots = { 0 };
	got_syms(elf, &gots);
	Elf_Scn *scn = NULL;
	while (gots.n && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *sn = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sn || strncmp(sn, ".plt", 4) || sh.sh_type != SHT_PROGBITS)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		size_t step = sh.sh_entsize >= 8 ? sh.sh_entsize : 16;
		const uint8_t *code = d->d_buf;
		for (size_t off = 0; off + step <= d->d_size; off += step) {
			for (size_t k = off; k + 6 <= off + step; k++) {
				if (code[k] != 0xff || code[k + 1] != 0x25)
					continue;
				int32_t disp;
				memcpy(&disp, code + k + 2, 4);
				uint64_t got = sh.sh_addr + k + 6 + (int64_t)disp;
				for (size_t g = 0; g < gots.n; g++) {
					if (gots.v[g].got != got)
						continue;
					char *full = xasprintf("%s@plt", gots.v[g].name);
					struct sym_elfsym s = {
						.name = pool_intern(&m->st->pool, gots.v[g].name),
						.full = pool_intern(&m->st->pool, full),
						.addr = sh.sh_addr + off + bias, .size = step, .func = true,
						.plt = true,
					};
					free(full);
					s.next = ptrmap_get(&m->sym_by_name, (uintptr_t)s.name);
					vec_push(&m->syms, s);
					ptrmap_put(&m->sym_by_name, (uintptr_t)s.name, (int)m->syms.n - 1);
					break;
				}
				break;
			}
		}
	}
	vec_free(&gots);
}

void sym_index_elf(struct sym_mod *m)
{
	if (m->elf_indexed)
		return;
	m->elf_indexed = true;
	int n = dwfl_module_getsymtab(m->dm);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf;
		Dwarf_Addr bias;
		const char *nm = dwfl_module_getsym_info(m->dm, i, &sym, &addr, &shndx, &elf, &bias);
		if (!nm || !*nm || sym.st_shndx == SHN_UNDEF)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT &&
		    type != STT_TLS)
			continue;
		const char *name;
		const char *full = demangled(m, nm, &name);
		struct sym_elfsym s = {
			.name = name, .full = full, .addr = addr, .size = sym.st_size,
			.func = type == STT_FUNC || type == STT_GNU_IFUNC,
		};
		s.next = ptrmap_get(&m->sym_by_name, (uintptr_t)name);
		vec_push(&m->syms, s);
		ptrmap_put(&m->sym_by_name, (uintptr_t)name, (int)m->syms.n - 1);
	}
	index_plt(m);
}

bool sym_elf_at(struct sym_mod *m, uint64_t a, const char **name, uint64_t *start,
                uint64_t *size)
{
	GElf_Off off;
	GElf_Sym sym;
	const char *nm = dwfl_module_addrinfo(m->dm, a, &off, &sym, NULL, NULL, NULL);
	if (!nm || !*nm) {
		sym_index_elf(m);
		for (size_t i = 0; i < m->syms.n; i++) {
			const struct sym_elfsym *s = &m->syms.v[i];
			if (s->plt && s->addr <= a && a < s->addr + s->size) {
				*name = s->full;
				*start = s->addr;
				if (size)
					*size = s->size;
				return true;
			}
		}
		return false;
	}
	if (sym.st_size && off >= sym.st_size)
		return false;
	*name = demangled(m, nm, NULL);
	*start = a - off;
	if (size)
		*size = sym.st_size;
	return true;
}

int sym_read_image(struct sym_mod *m, uint64_t a, void *buf, size_t len)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->dm, &bias);
	if (!elf)
		return -EIO;
	size_t phnum, fsize;
	char *raw = elf_rawfile(elf, &fsize);
	if (!raw || elf_getphdrnum(elf, &phnum) != 0)
		return -EIO;
	uint64_t fa = a - bias;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (fa >= ph.p_vaddr && fa + len <= ph.p_vaddr + ph.p_memsz) {
			/* bytes past p_filesz are .bss: zero */
			uint64_t rel = fa - ph.p_vaddr;
			size_t in_file = rel >= ph.p_filesz ? 0 : MIN(len, ph.p_filesz - rel);
			if (in_file && ph.p_offset + rel + in_file > fsize)
				return -EIO;
			memcpy(buf, raw + ph.p_offset + rel, in_file);
			memset((char *)buf + in_file, 0, len - in_file);
			return 0;
		}
	}
	return -EIO;
}

/* Descend from parent to the DIEs whose code holds pc, appending to v. */
static bool scope_walk(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die **v, int *n, int *cap)
{
	Dwarf_Die c;
	if (dwarf_child(parent, &c) != 0)
		return false;
	do {
		int tag = dwarf_tag(&c);
		bool code = tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block ||
		            tag == DW_TAG_inlined_subroutine || tag == DW_TAG_try_block ||
		            tag == DW_TAG_catch_block;
		bool container = tag == DW_TAG_namespace || tag == DW_TAG_structure_type ||
		                 tag == DW_TAG_class_type || tag == DW_TAG_union_type;
		if (code && dwarf_haspc(&c, pc) == 1) {
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 8;
				*v = xrealloc(*v, (size_t)*cap * sizeof **v);
			}
			(*v)[(*n)++] = c;
			scope_walk(&c, pc, v, n, cap);
			return true;
		}
		if (container && dwarf_haschildren(&c) && scope_walk(&c, pc, v, n, cap))
			return true;
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

int sym_scopes(Dwarf_Die *cudie, Dwarf_Addr pc, Dwarf_Die **out)
{
	Dwarf_Die *v = NULL;
	int n = 0, cap = 0;
	scope_walk(cudie, pc, &v, &n, &cap);
	/* innermost first, the CU last */
	Dwarf_Die *r = xmalloc((size_t)(n + 1) * sizeof *r);
	for (int i = 0; i < n; i++)
		r[i] = v[n - 1 - i];
	r[n] = *cudie;
	free(v);
	*out = r;
	return n + 1;
}
