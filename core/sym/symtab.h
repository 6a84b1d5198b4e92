/* symtab: the symbols of one address space (one exec image and its libraries),
 * read through libdwfl: location specs to addresses, addresses to functions and
 * lines, line-table ranges for stepping, source text, completion, and the dynamic
 * loader's breakpoint.
 *
 * A symtab holds no target: functions that need memory take a sym_access.
 * Strings it returns (names, paths) are interned: valid until symtab_free().
 * Lookups build their indexes lazily, once per module, and cache them. */
#ifndef REWIND_SYM_SYMTAB_H
#define REWIND_SYM_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct symtab;

/* Maps a path the target has mapped (or "[vdso]") to a local file to read:
 * *local is a malloc'd path. Return 0, or -ENOENT to leave the module out. */
typedef int (*symtab_path_fn)(void *arg, const char *mapped, char **local);

/* From an executable file alone, before it runs: a PIE sits at bias 0 (as in gdb
 * before `run`). *errmsg (malloc'd, may be NULL) says why it failed. */
int symtab_open_file(const char *path, struct symtab **out, char **errmsg);
/* From a live (stopped or running) process: its modules from /proc/PID/maps, the
 * vDSO read from its memory. */
int symtab_open_pid(pid_t pid, struct symtab **out);
/* From a maps text (the format of /proc/PID/maps) and a path mapping, e.g. for a
 * recording that carries copies of the mapped files. */
int symtab_open_maps(const char *maps_text, symtab_path_fn fn, void *arg,
                     struct symtab **out);
/* Re-read the module list (after a dlopen/dlclose, at the loader's breakpoint):
 * from /proc/PID/maps for a pid symtab, from maps_text otherwise. Unchanged modules
 * keep their caches. *changed (may be NULL) says whether any module came or went. */
int symtab_refresh(struct symtab *st, const char *maps_text, bool *changed);
void symtab_free(struct symtab *st);
/* A counter bumped whenever the module list changes. */
unsigned symtab_generation(const struct symtab *st);

struct sym_module_info {
	const char *name;      /* mapped path (what the target sees) */
	const char *base;      /* its basename */
	const char *file;      /* local file read */
	uint64_t lo, hi;       /* address range */
	uint64_t bias;         /* runtime address = file address + bias */
	bool has_dwarf;
	bool is_main;          /* the executable */
};
size_t symtab_module_count(const struct symtab *st);
/* i-th module in address order. Returns 0 or -ENOENT. */
int symtab_module(struct symtab *st, size_t i, struct sym_module_info *out);

/* One resolved location. */
struct sym_loc {
	uint64_t addr;
	const char *func;      /* demangled, qualified; NULL if unknown */
	const char *file;      /* source file name as recorded ("../src/a.c"); NULL */
	const char *fullpath;  /* normalised absolute path of the source; NULL */
	const char *base;      /* basename of file; NULL */
	int line;              /* 0 if unknown */
	const char *module;    /* mapped path of the module */
	uint64_t mod_off;      /* addr - module bias: relocates a location found
	                          before `run` (PIE at 0) to the running image */
};
struct sym_loc_list {
	struct sym_loc *v;
	size_t n, cap;
};
void sym_loc_list_free(struct sym_loc_list *l);

enum {
	SYMTAB_NO_SKIP = 1,    /* functions resolve to their entry, not past the prologue
	                          (for `list FUNC`) */
};

/* Resolve a gdb location spec: FUNC, FILE:LINE, LINE (in def_file, may be NULL:
 * the file of main), FILE:FUNC, *ADDR, C++ names (ns::Klass::method; a suffix such
 * as Klass::method or method matches too; overloads give several locations).
 * Locations are appended to out in address order. Returns 0, or -ENOENT with
 * *errmsg worded as gdb's ("Function \"foo\" not defined.", "No source file named
 * x.c.", "No line 99 in file \"a.c\"."); *errmsg is malloc'd, errmsg may be NULL. */
int symtab_resolve(struct symtab *st, const char *spec, const char *def_file,
                   int def_line, unsigned flags, struct sym_loc_list *out,
                   char **errmsg);

/* What is at an address. */
struct sym_addr_info {
	uint64_t addr;
	const char *func;      /* DWARF function (demangled, qualified) or ELF symbol;
	                          NULL if none */
	const char *elf_name;  /* ELF symbol (demangled with parameters), or NULL */
	uint64_t func_lo, func_hi;  /* [lo, hi) of the function (hi 0 if unknown) */
	uint64_t offset;       /* addr - func_lo */
	const char *file, *fullpath, *base;   /* NULL without line info */
	int line;
	const char *module, *module_base;     /* NULL outside every module */
	bool has_dwarf;        /* the address is in a function with DWARF */
};
/* Describe addr. Returns 0 (fields not known are NULL/0), -ENOENT if addr is in no
 * module. */
int symtab_describe(struct symtab *st, uint64_t addr, struct sym_addr_info *out);
/* The function containing addr, [lo, hi): as symtab_describe's func_lo/func_hi
 * (DWARF, else the ELF symbol), without the line and name lookups. -ENOENT if
 * none or its size is unknown. */
int symtab_func_range(struct symtab *st, uint64_t addr, uint64_t *lo, uint64_t *hi);
/* Every part [lo, hi) of the function containing addr by its DWARF (a function split
 * into a hot and a .cold part has two), up to max. Returns the number, -ENOENT
 * (no DWARF function there), -E2BIG (more parts). */
int symtab_func_parts(struct symtab *st, uint64_t addr, uint64_t (*parts)[2], size_t max);
/* The symbol gdb prints in "<sym+off>": the ELF symbol containing addr (data or
 * code), demangled with parameters. Returns 0 or -ENOENT. */
int symtab_addr_symbol(struct symtab *st, uint64_t addr, const char **name,
                       uint64_t *off);

/* A line-table line. */
struct sym_line {
	uint64_t lo, hi;       /* [lo, hi) */
	const char *file, *fullpath;
	int line;
	bool is_stmt;          /* the entry at lo is a statement */
};
/* gdb's find_pc_line: the line-table entry holding addr and where the next entry
 * begins. Returns 0, or -ENOENT when addr has no line information (line 0 too). */
int symtab_pc_line(struct symtab *st, uint64_t addr, struct sym_line *out);
/* The step range of addr: contiguous entries with the same line and file, within
 * the function holding addr. Returns 0 or -ENOENT. */
int symtab_line_range(struct symtab *st, uint64_t addr, struct sym_line *out);
/* Does a line-table entry marked is_stmt (line != 0) begin exactly at addr? */
bool symtab_is_stmt_start(struct symtab *st, uint64_t addr);
/* Is addr in a function (or CU) with line information? */
bool symtab_has_line_info(struct symtab *st, uint64_t addr);
/* gdb's post-prologue address for the function containing addr (where `break FUNC`
 * and step-into stop). Returns 0 or -ENOENT. */
int symtab_post_prologue(struct symtab *st, uint64_t addr, uint64_t *out);

/* A source file's text, split into lines (without the newlines). */
struct sym_source {
	const char *path;      /* the file read */
	size_t nlines;
	char **lines;          /* lines[0] is line 1 */
	char *text;
};
/* Find and read (once, cached) the source file named `name` (a name as recorded,
 * a basename, a path suffix or a full path). Returns 0, -ENOENT ("No source file
 * named" case: not in the debug info) or -errno of reading it. */
int symtab_source(struct symtab *st, const char *name, const struct sym_source **out);

/* Names matching a prefix, for completion. Sorted, unique, interned. */
struct sym_name_list {
	const char **v;
	size_t n, cap;
};
enum {
	SYMTAB_C_FUNCS = 1,    /* functions (DWARF and ELF) */
	SYMTAB_C_VARS = 2,     /* global and static variables */
	SYMTAB_C_TYPES = 4,    /* type names */
	SYMTAB_C_FILES = 8,    /* source file basenames and names as recorded */
};
int symtab_complete(struct symtab *st, const char *prefix, unsigned what,
                    struct sym_name_list *out);
void sym_name_list_free(struct sym_name_list *l);

/* Address of the dynamic loader's rendezvous function (_dl_debug_state in ld.so),
 * where a breakpoint stops at every library load/unload. -ENOENT if no loader is
 * mapped (static program, or a symtab made before `run`). */
int symtab_dl_breakpoint(struct symtab *st, uint64_t *addr);

#endif
