/* Internal to core/sym: the symbol table's modules, per-module indexes, per-CU
 * line tables, and the small containers they are built from. Not a public header:
 * only files under core/sym include it. */
#ifndef REWIND_SYM_INT_H
#define REWIND_SYM_INT_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/util.h"
#include "symtab.h"

/* ---- strings interned for the life of a symtab (pointer equality = string equality) */
struct strpool {
	char **slots;
	size_t cap, n;
	VEC(char *) blocks;
	char *cur;
	size_t left;
};

const char *pool_intern(struct strpool *p, const char *s);
const char *pool_intern_n(struct strpool *p, const char *s, size_t n);
/* The interned copy of s if one exists, else NULL (never inserts). */
const char *pool_find(const struct strpool *p, const char *s);
void pool_free(struct strpool *p);

/* ---- open-addressing map from a pointer (an interned name, a DIE offset) to an int */
struct ptrmap {
	uintptr_t *keys;
	int *vals;
	size_t cap, n;
};

/* Set key -> val (replacing). */
void ptrmap_put(struct ptrmap *m, uintptr_t key, int val);
/* Returns the value or -1. */
int ptrmap_get(const struct ptrmap *m, uintptr_t key);
void ptrmap_free(struct ptrmap *m);

/* ---- demangling (demangle.cc): malloc'd string or NULL if not a mangled name */
char *sym_demangle(const char *mangled);

/* ---- per-CU data */
struct sym_row {
	uint64_t addr;          /* DWARF address (add mod->bias for a runtime address) */
	int line;               /* 0: no line (also end of sequence) */
	uint32_t file;          /* index into cu->files */
	bool is_stmt;
	bool end_seq;
};

struct sym_cu {
	Dwarf_Off off;          /* offset of the CU DIE in .debug_info */
	const char *name;       /* DW_AT_name as recorded */
	const char *comp_dir;
	int lang;               /* DW_LANG_* */
	bool has_loclist;       /* some variable has a location list (optimised code) */
	bool loclist_checked, locations_valid;
	bool lines_done;
	struct sym_row *rows;   /* address order, gdb's linetable semantics */
	size_t nrows;
	const char **fnames;    /* file names as recorded (gdb's symtab filename) */
	const char **fpaths;    /* normalised absolute paths */
	size_t nfiles;
};

/* A function with code (or an inlined instance of one). */
struct sym_func {
	const char *name;       /* qualified: ns::Klass::method */
	const char *linkage;    /* demangled linkage name with parameters, or NULL */
	const char *alias;      /* DW_AT_name when name is a C linkage name, or NULL */
	uint64_t lo, hi;        /* DWARF addresses of this range, hi exclusive */
	uint64_t entry;         /* entry pc */
	Dwarf_Off die;          /* the DIE that owns the code (concrete or inlined) */
	uint32_t cu;
	int next;               /* next with the same name, -1 */
	bool inlined;
	bool external;
	bool is_extra_range;    /* a second range of a function split in parts */
};

/* A named DIE that is not a function with code: a variable, a type, an enumerator. */
enum sym_ent_kind { SE_VAR, SE_TYPE, SE_ENUMERATOR, SE_FUNC_DECL };

struct sym_ent {
	const char *name;       /* qualified */
	Dwarf_Off die;
	Dwarf_Off parent;       /* enumerators: their enumeration type */
	uint32_t cu;
	int next;               /* next with the same name, -1 */
	uint8_t kind;           /* enum sym_ent_kind */
	uint16_t tag;           /* DW_TAG_* of the DIE */
	bool external;
	bool decl;              /* a declaration only (DW_AT_declaration) */
};

/* An ELF symbol, demangled, for name lookup in modules without DWARF. */
struct sym_elfsym {
	const char *name;       /* demangled without parameters for C++ */
	const char *full;       /* demangled with parameters (== name for C) */
	uint64_t addr;          /* runtime address */
	uint64_t size;
	int next;
	bool func;
	bool plt;               /* a synthesized PLT entry ("puts@plt") */
};

struct sym_mod {
	struct symtab *st;
	Dwfl_Module *dm;
	const char *name;       /* mapped path as the target sees it */
	const char *base;       /* its basename */
	const char *file;       /* local file rewind reads */
	uint64_t lo, hi;        /* runtime address range */
	uint64_t bias;          /* DWARF/ELF bias: runtime = file address + bias */
	bool is_main;           /* the executable */
	bool is_vdso;
	bool dw_tried, elf_indexed, dw_indexed;
	Dwarf *dw;              /* NULL when the module has no DWARF */
	VEC(struct sym_cu) cus;
	struct ptrmap cu_by_off;
	VEC(struct sym_func) funcs;
	struct ptrmap func_by_name;
	int *func_by_addr;      /* indices of funcs sorted by lo (non-inlined only) */
	size_t nfunc_by_addr;
	VEC(struct sym_ent) ents;
	struct ptrmap ent_by_name;
	VEC(struct sym_elfsym) syms;
	struct ptrmap sym_by_name;
	VEC(const char *) srcfiles;     /* distinct full paths of sources with lines */
	struct ptrmap qual_by_off;      /* DIE offset -> index in quals */
	VEC(const char *) quals;        /* qualified names of DIEs seen by the index */
	struct ptrmap demangled;        /* raw ELF name pointer -> index in quals */
	void *types;            /* type cache (types.c) */
	void (*types_free)(struct sym_mod *m);
};

struct sym_source;

struct symtab {
	Dwfl *dwfl;
	struct strpool pool;
	VEC(struct sym_mod *) mods;     /* address order */
	pid_t pid;                      /* for refresh from /proc, 0 if none */
	symtab_path_fn path_fn;
	void *path_arg;
	VEC(struct sym_source *) sources;
	VEC(char *) refused;            /* "path@start" the path callback left out */
	unsigned gen;                   /* bumped when modules change */
	/* symtab_func_range's last answer (stepping asks for the same function
	 * at every instruction), valid while gen is fr_gen */
	bool fr_valid;
	unsigned fr_gen;
	uint64_t fr_lo, fr_hi;
	void *unwind;                   /* unwind.c: state attached to this Dwfl */
	void (*unwind_free)(struct symtab *st);
};

/* modules.c */
struct sym_mod *sym_mod_at(struct symtab *st, uint64_t addr);
/* Load DWARF (once). Returns m->dw (NULL without debug info). */
Dwarf *sym_mod_dwarf(struct sym_mod *m);

/* index.c: build the DWARF and ELF indexes of a module (once each). */
void sym_index_dwarf(struct sym_mod *m);
void sym_index_elf(struct sym_mod *m);
/* Function (non-inlined) whose range holds the DWARF address a, or NULL. */
const struct sym_func *sym_func_at(struct sym_mod *m, uint64_t a);
/* CU index for a CU DIE offset, -1 if unknown. */
int sym_cu_index(struct sym_mod *m, Dwarf_Off off);
/* CU DIE of a CU. */
bool sym_cu_die(struct sym_mod *m, uint32_t cu, Dwarf_Die *out);
/* The qualified name of a DIE (namespaces/classes through its parents), interned. */
const char *sym_die_qualname(struct sym_mod *m, Dwarf_Die *die);
/* ELF symbol containing runtime address a: name (demangled, with parameters for
 * C++) and start; false if none. */
bool sym_elf_at(struct sym_mod *m, uint64_t a, const char **name, uint64_t *start,
                uint64_t *size);

/* The scopes whose code holds DWARF address pc, by physical nesting: innermost
 * first (lexical blocks, inlined calls, the concrete function), the CU last.
 * Unlike dwarf_getscopes, an inlined call is followed by the function it was
 * inlined into. *out is malloc'd. */
int sym_scopes(Dwarf_Die *cudie, Dwarf_Addr pc, Dwarf_Die **out);

/* lines.c */
void sym_cu_lines(struct sym_mod *m, struct sym_cu *cu);
/* CU of a module containing DWARF address a (via aranges), -1 if none. */
int sym_cu_at(struct sym_mod *m, uint64_t a);
/* The row gdb's find_pc_line would pick for DWARF address a in cu, or -1. */
long sym_row_at(struct sym_cu *cu, uint64_t a);
/* Address of the first row after row i with a greater address (the line's end). */
uint64_t sym_row_end(struct sym_cu *cu, long i);

/* Read len bytes of the module's file image at runtime address a (code, rodata).
 * Returns 0 or -EIO when the range is not in the file. */
int sym_read_image(struct sym_mod *m, uint64_t a, void *buf, size_t len);

/* resolve.c */
/* gdb's post-prologue address for a function starting at runtime address lo. */
uint64_t sym_skip_prologue(struct symtab *st, struct sym_mod *m, uint64_t lo, uint64_t hi);

/* Normalise a path lexically (resolve . and ..) into a malloc'd string. */
char *sym_path_normalize(const char *dir, const char *name);
/* Does `spec` name `path` (same path, or a suffix at a '/' boundary)? */
bool sym_path_matches(const char *path, const char *spec);

#endif
