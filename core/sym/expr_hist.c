/* Value history ($, $N, $$N) and convenience variables ($foo), owned by the
 * caller of the evaluator (one per debugging session). */
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"
#include "types_int.h"


struct expr_history *expr_history_new(void)
{
	return xcalloc(1, sizeof(struct expr_history));
}

void expr_history_free(struct expr_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->vals.n; i++)
		value_free(h->vals.v[i]);
	vec_free(&h->vals);
	for (size_t i = 0; i < h->conv.n; i++) {
		free(h->conv.v[i].name);
		value_free(h->conv.v[i].v);
	}
	vec_free(&h->conv);
	type_clones_free(h->types);
	free(h);
}

/* A value detached from the target: contents fetched, no lvalue. */
struct value *expr_snapshot(const struct sym_ctx *c, const struct value *v)
{
	struct value *n = value_copy(v);
	value_fetch(c, n);
	n->lval = LV_NONE;
	n->lazy = false;
	return n;
}

int expr_history_add(struct expr_history *h, const struct sym_ctx *c, const struct value *v)
{
	struct value *n = expr_snapshot(c, v);
	/* gdb keeps the address of memory values so that `x &$1`-like uses work */
	if (v->lval == LV_MEM) {
		n->lval = LV_MEM;
		n->addr = v->addr;
	}
	/* the value outlives the symtab (gdb keeps $N across runs): its type too */
	n->type = type_clone(&h->types, n->type);
	vec_push(&h->vals, n);
	return (int)h->vals.n;
}

size_t expr_history_count(const struct expr_history *h)
{
	return h->vals.n;
}

struct value *expr_history_get(const struct expr_history *h, size_t n)
{
	if (n == 0 || n > h->vals.n)
		return NULL;
	return value_copy(h->vals.v[n - 1]);
}

void expr_conv_set(struct expr_history *h, const char *name, const struct value *v)
{
	for (size_t i = 0; i < h->conv.n; i++)
		if (!strcmp(h->conv.v[i].name, name)) {
			value_free(h->conv.v[i].v);
			h->conv.v[i].v = value_copy(v);
			h->conv.v[i].v->type = type_clone(&h->types, v->type);
			return;
		}
	struct conv_var cv = { xstrdup(name), value_copy(v) };
	cv.v->type = type_clone(&h->types, v->type);
	vec_push(&h->conv, cv);
}

struct value *expr_conv_get(const struct expr_history *h, const char *name)
{
	for (size_t i = 0; h && i < h->conv.n; i++)
		if (!strcmp(h->conv.v[i].name, name))
			return value_copy(h->conv.v[i].v);
	return NULL;
}

