/* Internal to core/sym: building types from DIEs and the extra builtins the
 * evaluator needs. */
#ifndef REWIND_SYM_TYPES_INT_H
#define REWIND_SYM_TYPES_INT_H

#include <elfutils/libdw.h>

#include "types.h"

struct sym_mod;

/* The type of a DWARF type DIE of module m (cached). */
struct type *type_from_die(struct sym_mod *m, Dwarf_Die *d);

struct type *type_uint(void);
struct type *type_ullong(void);
struct type *type_llong(void);
struct type *type_float(void);
struct type *type_real_bool(void);
/* A deep copy of t (and every type it reaches) that owes nothing to the symtab:
 * it stays valid after symtab_free. The copies live in *set until
 * type_clones_free(set). */
struct type_clones;
struct type *type_clone(struct type_clones **set, struct type *t);
void type_clones_free(struct type_clones *set);
/* An unprototyped function type returning t (cached on t). */
struct type *type_function_of(struct type *t);

#endif
