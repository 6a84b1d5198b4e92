/* expr: C expressions as gdb's `print` reads them: scoped identifiers, registers,
 * value history ($, $N, $$, $$N), convenience variables, literals, member access,
 * indexing, unary and binary operators, casts, sizeof, ?:, assignment, comma,
 * pointer arithmetic, artificial arrays (@). Errors are worded as gdb's. */
#ifndef REWIND_SYM_EXPR_H
#define REWIND_SYM_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "value.h"

/* Value history and convenience variables; owned by the caller (one per session).
 * The values keep copies of their types, so they stay usable after the symtab
 * they came from is freed (a new run, an exec), as gdb's $N do. */
struct expr_history;
struct expr_history *expr_history_new(void);
void expr_history_free(struct expr_history *h);
/* Record a copy of v (fetched now) as the next $N. Returns N (1-based). */
int expr_history_add(struct expr_history *h, const struct sym_ctx *c, const struct value *v);
size_t expr_history_count(const struct expr_history *h);
/* $N as a copy (NULL if out of range). */
struct value *expr_history_get(const struct expr_history *h, size_t n);
/* Set a convenience variable ($name without the '$') to a copy of v. */
void expr_conv_set(struct expr_history *h, const char *name, const struct value *v);

/* How an expression is evaluated. */
struct expr_env {
	struct sym_ctx ctx;
	struct expr_history *hist;      /* NULL: no history, no convenience variables */
	bool no_side_effects;           /* ptype/whatis: compute types, write nothing */
	/* Inferior function calls `f(1, x)`; NULL: calls are refused. */
	int (*call)(void *arg, struct value *fn, struct value **args, size_t nargs,
	            struct value **out, char **err);
	void *call_arg;
};

struct expr_node;

/* Parse text. env may be NULL (only builtin type names are known then).
 * Returns 0 or -EINVAL with *err ("A syntax error in expression, near `x'."). */
int expr_parse(const struct expr_env *env, const char *text, struct expr_node **out,
               char **err);
void expr_node_free(struct expr_node *n);
/* Evaluate a parsed expression. Returns 0 with *out (caller frees), or -errno
 * with *err (malloc'd). */
int expr_eval_node(const struct expr_env *env, const struct expr_node *n, struct value **out,
                   char **err);
/* Parse and evaluate. */
int expr_eval(const struct expr_env *env, const char *text, struct value **out, char **err);
/* Is text a type name ("struct node", "int *", "point_t")? 0 with *out, -ENOENT
 * if it is not a type, -EINVAL (with *err) if it is a malformed one. */
int expr_parse_type(const struct expr_env *env, const char *text, struct type **out,
                    char **err);
/* Evaluate a condition (breakpoint `if`): 1 true, 0 false, -errno with *err. */
int expr_eval_cond(const struct expr_env *env, const char *text, char **err);

#endif
