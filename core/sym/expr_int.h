/* Internal to core/sym: the parsed form of an expression. */
#ifndef REWIND_SYM_EXPR_INT_H
#define REWIND_SYM_EXPR_INT_H

#include <stdint.h>

#include <ctype.h>
#include <string.h>

#include "core/util.h"
#include "expr.h"

enum expr_kind {
	EK_INT,          /* ival, type */
	EK_FLOAT,        /* fval, type */
	EK_STRING,       /* str (with its length in ival) */
	EK_IDENT,        /* str: a name to look up */
	EK_DOLLAR,       /* $name: register or convenience variable (str) */
	EK_HIST,         /* $N (ival > 0 absolute) or $$N (ival <= 0: back from last) */
	EK_UNARY,        /* op: '-' '+' '!' '~' '*' '&' */
	EK_PREINC,       /* op: '+' or '-' */
	EK_POSTINC,      /* op: '+' or '-' */
	EK_BINARY,       /* op: '+' '-' '*' '/' '%' '<' '>' 'L'(<=) 'G'(>=) 'E'(==) 'N'(!=)
	                    'l'(<<) 'r'(>>) '&' '|' '^' 'A'(&&) 'O'(||) '@' */
	EK_ASSIGN,       /* op: 0 for '=', else the binary operator of OP= */
	EK_COND,         /* a ? b : c */
	EK_COMMA,
	EK_MEMBER,       /* a.str */
	EK_ARROW,        /* a->str */
	EK_INDEX,        /* a[b] */
	EK_CALL,         /* a(args) */
	EK_CAST,         /* (type) a */
	EK_SIZEOF,       /* sizeof a */
	EK_SIZEOF_TYPE,  /* sizeof (type) */
	EK_TYPE,         /* a bare type name (whatis/ptype/sizeof) */
};

struct expr_node {
	enum expr_kind kind;
	int op;
	struct expr_node *a, *b, *c;
	struct expr_node **args;
	size_t nargs;
	char *str;
	int64_t ival;
	double fval;
	struct type *type;
};

/* ---- the parser's state and lexical helpers (expr_parse.c, expr_type.c) */

struct parser {
	const struct expr_env *env;
	const char *text;
	const char *p;          /* current position */
	char *err;
	int depth;
};

static inline void skip_ws(struct parser *ps)
{
	while (*ps->p && isspace((unsigned char)*ps->p))
		ps->p++;
}

static inline bool peek(struct parser *ps, const char *tok)
{
	skip_ws(ps);
	return !strncmp(ps->p, tok, strlen(tok));
}

static inline bool accept(struct parser *ps, const char *tok)
{
	if (!peek(ps, tok))
		return false;
	ps->p += strlen(tok);
	return true;
}

static inline bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static inline bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* An identifier, with C++ scope qualifiers (a::b::c). malloc'd or NULL. */
static inline char *read_ident(struct parser *ps)
{
	skip_ws(ps);
	const char *s = ps->p;
	if (!is_ident_start(*s) && !(s[0] == ':' && s[1] == ':' && is_ident_start(s[2])))
		return NULL;
	const char *e = s;
	for (;;) {
		if (e[0] == ':' && e[1] == ':')
			e += 2;
		if (!is_ident_start(*e))
			break;
		while (is_ident_char(*e))
			e++;
		if (!(e[0] == ':' && e[1] == ':' && is_ident_start(e[2])))
			break;
	}
	ps->p = e;
	return xstrndup(s, (size_t)(e - s));
}

static inline bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);
	return !strncmp(p, w, n) && !is_ident_char(p[n]);
}

/* Does a C type keyword start at p? */
bool expr_starts_type_word(const char *p);
/* A type name at the parser's position (position unchanged and NULL if none;
 * ps->err set for a malformed one). */
struct type *expr_parse_type_name(struct parser *ps);

struct conv_var {
	char *name;
	struct value *v;
};

struct expr_history {
	VEC(struct value *) vals;
	VEC(struct conv_var) conv;
	struct type_clones *types;      /* the types of the values kept here */
};

/* A value detached from the target: contents fetched, no lvalue. */
struct value *expr_snapshot(const struct sym_ctx *c, const struct value *v);
/* A copy of convenience variable `name`, or NULL if unset. */
struct value *expr_conv_get(const struct expr_history *h, const char *name);

#endif
