/* Internal to core/sym: values of DWARF variables and registers. */
#ifndef REWIND_SYM_VALUE_INT_H
#define REWIND_SYM_VALUE_INT_H

#include <elfutils/libdw.h>

#include "loc.h"
#include "value.h"

struct sym_mod;

/* The value of a static data member (C++), found through its definition. */
struct value *value_static_member(const struct sym_ctx *c, struct type *t,
                                  const struct type_field *f);
/* The value a location describes, of type t, in the context's frame. */
struct value *value_from_loc(const struct sym_ctx *c, struct type *t, const struct loc *l,
                             Dwarf_Attribute *attr);
/* The value of a variable/parameter DIE of module m in the context's frame, with
 * VLA bounds resolved. func is the enclosing function DIE (frame base), or NULL. */
struct value *value_of_var_die(const struct sym_ctx *c, struct sym_mod *m, Dwarf_Die *var,
                               Dwarf_Die *func, char **err);
/* Floating-point values at full (x87) precision. */
int value_as_ldouble(const struct sym_ctx *c, struct value *v, long double *out, char **err);
struct value *value_from_ldouble(struct type *t, long double d);
/* Is any byte of v optimized out? */
bool value_partly_optimized_out(const struct value *v);
/* A named int type for registers ("int64_t"...), cached. */
struct type *type_named_int(const char *name, unsigned size, bool is_signed);

#endif
