/* Internal to core/sym: the parsed form of an expression. */
#ifndef REWIND_SYM_EXPR_INT_H
#define REWIND_SYM_EXPR_INT_H

#include <stdint.h>

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

#endif
