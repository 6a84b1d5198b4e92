/* A recursive-descent parser for gdb's C expressions. Type names (for casts and
 * sizeof) are recognised from C keywords and, with an environment, from the
 * program's typedefs, tags and C++ class names. Never crashes on any input. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "expr_int.h"
#include "types_int.h"

#define MAX_DEPTH 200

static struct expr_node *node(enum expr_kind k)
{
	struct expr_node *n = xcalloc(1, sizeof *n);
	n->kind = k;
	return n;
}

void expr_node_free(struct expr_node *n)
{
	if (!n)
		return;
	expr_node_free(n->a);
	expr_node_free(n->b);
	expr_node_free(n->c);
	for (size_t i = 0; i < n->nargs; i++)
		expr_node_free(n->args[i]);
	free(n->args);
	free(n->str);
	free(n);
}


static struct expr_node *syntax_error(struct parser *ps)
{
	if (!ps->err)
		ps->err = xasprintf("A syntax error in expression, near `%s'.", ps->p);
	return NULL;
}

static struct expr_node *parse_comma(struct parser *ps);
static struct expr_node *parse_assign(struct parser *ps);
static struct expr_node *parse_unary(struct parser *ps);

static int parse_escape(const char **pp)
{
	const char *p = *pp;
	int c = (unsigned char)*p++;
	switch (c) {
	case 'n': c = '\n'; break;
	case 't': c = '\t'; break;
	case 'r': c = '\r'; break;
	case 'a': c = '\a'; break;
	case 'b': c = '\b'; break;
	case 'f': c = '\f'; break;
	case 'v': c = '\v'; break;
	case 'e': c = 27; break;
	case 'x': {
		unsigned v = 0;
		while (isxdigit((unsigned char)*p)) {   /* gdb reads every hex digit */
			v = v * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : (tolower(*p) - 'a' + 10));
			p++;
		}
		c = (int)(v & 0xff);
		break;
	}
	default:
		if (c >= '0' && c <= '7') {
			int v = c - '0', k = 1;
			while (k < 3 && *p >= '0' && *p <= '7') {
				v = v * 8 + (*p++ - '0');
				k++;
			}
			c = v & 0xff;
		}
		break;
	}
	*pp = p;
	return c;
}

static struct expr_node *parse_number(struct parser *ps)
{
	const char *s = ps->p;
	char *end;
	bool is_float = false;
	const char *q = s;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
		q += 2;
		while (isxdigit((unsigned char)*q))
			q++;
	} else {
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == '.' || *q == 'e' || *q == 'E')
			is_float = true;
	}
	if (is_float) {
		double d = strtod(s, &end);
		struct expr_node *n = node(EK_FLOAT);
		n->fval = d;
		n->type = type_double();
		if (*end == 'f' || *end == 'F') {
			n->type = type_float();
			end++;
		} else if (*end == 'l' || *end == 'L') {
			n->type = type_builtin("long double");
			end++;
		}
		ps->p = end;
		if (is_ident_char(*ps->p)) {
			expr_node_free(n);
			if (!ps->err)
				ps->err = xasprintf("Invalid number \"%.*s\".", (int)strcspn(s, " +-*/()"), s);
			return NULL;
		}
		return n;
	}
	errno = 0;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned long long v = strtoull(s, &end, 0);
	bool overflow = errno == ERANGE || (s[0] == '0' && !hex && end < q);
	bool u = false;
	int l = 0;
	while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L') {
		if (*end == 'u' || *end == 'U')
			u = true;
		else
			l++;
		end++;
	}
	if (overflow || is_ident_char(*end) || *end == '.') {
		if (!ps->err)
			ps->err = xasprintf("Invalid number \"%.*s\".", (int)(strcspn(s, " +-*/()&|^<>=!,;?:[]")), s);
		return NULL;
	}
	ps->p = end;
	struct expr_node *n = node(EK_INT);
	n->ival = (int64_t)v;
	/* gdb's literal typing: int, then unsigned int (hex/octal), long, unsigned long */
	if (!u && !l && v <= 0x7fffffff)
		n->type = type_int();
	else if (!l && (u || hex || s[0] == '0') && v <= 0xffffffffull)
		n->type = type_uint();
	else if (!u && l < 2 && v <= 0x7fffffffffffffffull)
		n->type = type_long();
	else if (l >= 2 && !u && v <= 0x7fffffffffffffffull)
		n->type = type_llong();
	else if (l >= 2)
		n->type = type_ullong();
	else
		n->type = type_ulong();
	return n;
}

static struct expr_node *parse_primary(struct parser *ps)
{
	skip_ws(ps);
	const char *s = ps->p;
	if (!*s)
		return syntax_error(ps);
	if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1])))
		return parse_number(ps);
	if (*s == '\'') {
		const char *p = s + 1;
		if (*p == '\'' || !*p) {
			if (!ps->err)
				ps->err = xstrdup(*p ? "Empty character constant." : "Unmatched single quote.");
			return NULL;
		}
		int c = (unsigned char)*p++;
		if (c == '\\')
			c = *p ? parse_escape(&p) : '\\';
		if (*p != '\'') {
			/* gdb allows 'quoted symbol names' */
			const char *q = strchr(s + 1, '\'');
			if (!q) {
				if (!ps->err)
					ps->err = xstrdup("Unmatched single quote.");
				return NULL;
			}
			struct expr_node *n = node(EK_IDENT);
			n->str = xstrndup(s + 1, (size_t)(q - s - 1));
			ps->p = q + 1;
			return n;
		}
		ps->p = p + 1;
		struct expr_node *n = node(EK_INT);
		n->ival = (signed char)c;
		n->type = type_char();
		return n;
	}
	if (*s == '"') {
		struct sbuf b = { 0 };
		const char *p = s + 1;
		while (*p && *p != '"') {
			int c = (unsigned char)*p++;
			if (c == '\\')
				c = *p ? parse_escape(&p) : '\\';
			sbuf_putc(&b, (char)c);
		}
		if (*p != '"') {
			sbuf_free(&b);
			if (!ps->err)
				ps->err = xstrdup("Unterminated string in expression.");
			return NULL;
		}
		ps->p = p + 1;
		struct expr_node *n = node(EK_STRING);
		n->ival = (int64_t)b.len;
		n->str = b.s ? sbuf_steal(&b) : xstrdup("");
		return n;
	}
	if (*s == '$') {
		const char *p = s + 1;
		struct expr_node *n;
		if (*p == '$') {
			p++;
			n = node(EK_HIST);
			char *end;
			long k = isdigit((unsigned char)*p) ? strtol(p, &end, 10) : (end = (char *)p, 1);
			n->ival = -k;
			ps->p = end;
			return n;
		}
		if (isdigit((unsigned char)*p)) {
			char *end;
			n = node(EK_HIST);
			n->ival = strtol(p, &end, 10);
			if (n->ival == 0)
				n->ival = -0;   /* $0 is the last value, as $ */
			ps->p = end;
			return n;
		}
		if (is_ident_char(*p)) {
			const char *e = p;
			while (is_ident_char(*e))
				e++;
			n = node(EK_DOLLAR);
			n->str = xstrndup(p, (size_t)(e - p));
			ps->p = e;
			return n;
		}
		n = node(EK_HIST);
		n->ival = 0;
		ps->p = p;
		return n;
	}
	if (*s == '(') {
		ps->p++;
		struct type *t = expr_parse_type_name(ps);
		if (t) {
			if (!accept(ps, ")")) {
				return syntax_error(ps);
			}
			struct expr_node *n;
			skip_ws(ps);
			if (!*ps->p || *ps->p == ')' || *ps->p == ',') {
				n = node(EK_TYPE);   /* "(int)" alone, as in sizeof (int) */
				n->type = t;
				return n;
			}
			struct expr_node *a = parse_unary(ps);
			if (!a)
				return NULL;
			n = node(EK_CAST);
			n->type = t;
			n->a = a;
			return n;
		}
		if (ps->err)
			return NULL;
		struct expr_node *e = parse_comma(ps);
		if (!e)
			return NULL;
		if (!accept(ps, ")")) {
			expr_node_free(e);
			return syntax_error(ps);
		}
		return e;
	}
	if (is_ident_start(*s) || (s[0] == ':' && s[1] == ':')) {
		if (expr_starts_type_word(s) || ps->env) {
			struct type *t = expr_parse_type_name(ps);
			if (t) {
				struct expr_node *n = node(EK_TYPE);
				n->type = t;
				return n;
			}
			if (ps->err)
				return NULL;
		}
		char *id = read_ident(ps);
		if (!id)
			return syntax_error(ps);
		struct expr_node *n = node(EK_IDENT);
		n->str = id;
		return n;
	}
	if (!ps->err) {
		if (strchr("+-*/%&|^!~<>=?:,.[]()", *s))
			return syntax_error(ps);
		ps->err = xasprintf("Invalid character '%c' in expression.", *s);
	}
	return NULL;
}

static struct expr_node *parse_postfix(struct parser *ps)
{
	struct expr_node *a = parse_primary(ps);
	while (a) {
		if (accept(ps, "[")) {
			struct expr_node *i = parse_comma(ps);
			if (!i || !accept(ps, "]")) {
				expr_node_free(i);
				expr_node_free(a);
				return i ? syntax_error(ps) : NULL;
			}
			struct expr_node *n = node(EK_INDEX);
			n->a = a;
			n->b = i;
			a = n;
		} else if (accept(ps, "->") || accept(ps, ".")) {
			bool arrow = ps->p[-1] == '>';
			char *id = read_ident(ps);
			if (!id) {
				expr_node_free(a);
				return syntax_error(ps);
			}
			struct expr_node *n = node(arrow ? EK_ARROW : EK_MEMBER);
			n->a = a;
			n->str = id;
			a = n;
		} else if (accept(ps, "++") || accept(ps, "--")) {
			struct expr_node *n = node(EK_POSTINC);
			n->op = ps->p[-1];
			n->a = a;
			a = n;
		} else if (peek(ps, "(") && a->kind != EK_TYPE) {
			ps->p++;
			struct expr_node *n = node(EK_CALL);
			n->a = a;
			a = n;
			if (!accept(ps, ")")) {
				do {
					struct expr_node *arg = parse_assign(ps);
					if (!arg) {
						expr_node_free(a);
						return NULL;
					}
					n->args = xrealloc(n->args, (n->nargs + 1) * sizeof *n->args);
					n->args[n->nargs++] = arg;
				} while (accept(ps, ","));
				if (!accept(ps, ")")) {
					expr_node_free(a);
					return syntax_error(ps);
				}
			}
		} else {
			break;
		}
	}
	return a;
}

static struct expr_node *parse_unary(struct parser *ps)
{
	if (++ps->depth > MAX_DEPTH) {
		if (!ps->err)
			ps->err = xstrdup("Expression too complex.");
		return NULL;
	}
	struct expr_node *r;
	skip_ws(ps);
	if (word_at(ps->p, "sizeof")) {
		ps->p += 6;
		const char *save = ps->p;
		struct type *st = NULL;
		if (accept(ps, "(") && (st = expr_parse_type_name(ps)) && accept(ps, ")")) {
			r = node(EK_SIZEOF_TYPE);
			r->type = st;
			ps->depth--;
			return r;
		}
		if (ps->err) {
			ps->depth--;
			return NULL;
		}
		ps->p = save;
		struct expr_node *a = parse_unary(ps);
		if (!a) {
			r = NULL;
		} else if (a->kind == EK_TYPE) {
			r = node(EK_SIZEOF_TYPE);
			r->type = a->type;
			expr_node_free(a);
		} else {
			r = node(EK_SIZEOF);
			r->a = a;
		}
	} else if (accept(ps, "++") || accept(ps, "--")) {
		int op = ps->p[-1];
		struct expr_node *a = parse_unary(ps);
		r = a ? node(EK_PREINC) : NULL;
		if (r) {
			r->op = op;
			r->a = a;
		}
	} else if (*ps->p && strchr("-+!~*&", *ps->p) && !(ps->p[0] == '&' && ps->p[1] == '&')) {
		int op = *ps->p++;
		struct expr_node *a = parse_unary(ps);
		r = a ? node(EK_UNARY) : NULL;
		if (r) {
			r->op = op;
			r->a = a;
		}
	} else {
		r = parse_postfix(ps);
	}
	ps->depth--;
	return r;
}

/* Binary operators by precedence level, lowest first (gdb's c-exp.y). */
static const struct binop {
	const char *tok;
	int op;
	int level;
} binops[] = {
	{ "||", 'O', 1 }, { "&&", 'A', 2 }, { "|", '|', 3 }, { "^", '^', 4 }, { "&", '&', 5 },
	{ "==", 'E', 6 }, { "!=", 'N', 6 }, { "<=", 'L', 7 }, { ">=", 'G', 7 }, { "<<", 'l', 8 },
	{ ">>", 'r', 8 }, { "<", '<', 7 }, { ">", '>', 7 }, { "@", '@', 9 }, { "+", '+', 10 },
	{ "-", '-', 10 }, { "*", '*', 11 }, { "/", '/', 11 }, { "%", '%', 11 },
};

static const struct binop *match_binop(struct parser *ps, int level)
{
	skip_ws(ps);
	for (size_t i = 0; i < ARRAY_SIZE(binops); i++) {
		const struct binop *b = &binops[i];
		size_t n = strlen(b->tok);
		if (b->level != level || strncmp(ps->p, b->tok, n))
			continue;
		/* not the start of an assignment operator (+=, <<=) or of a longer token */
		if (ps->p[n] == '=' && b->op != 'E' && b->op != 'N' && b->op != 'L' && b->op != 'G')
			return NULL;
		if ((b->op == '|' && ps->p[1] == '|') || (b->op == '&' && ps->p[1] == '&') ||
		    (b->op == '<' && (ps->p[1] == '<' || ps->p[1] == '=')) ||
		    (b->op == '>' && (ps->p[1] == '>' || ps->p[1] == '=')) ||
		    (b->op == '-' && ps->p[1] == '>'))
			continue;
		return b;
	}
	return NULL;
}

static struct expr_node *parse_binary(struct parser *ps, int level)
{
	if (level > 11)
		return parse_unary(ps);
	struct expr_node *a = parse_binary(ps, level + 1);
	const struct binop *b;
	while (a && (b = match_binop(ps, level))) {
		ps->p += strlen(b->tok);
		struct expr_node *rhs = parse_binary(ps, level + 1);
		if (!rhs) {
			expr_node_free(a);
			return NULL;
		}
		struct expr_node *n = node(EK_BINARY);
		n->op = b->op;
		n->a = a;
		n->b = rhs;
		a = n;
	}
	return a;
}

static struct expr_node *parse_cond(struct parser *ps)
{
	struct expr_node *a = parse_binary(ps, 1);
	if (!a || !accept(ps, "?"))
		return a;
	struct expr_node *b = parse_comma(ps);
	if (!b || !accept(ps, ":")) {
		expr_node_free(a);
		expr_node_free(b);
		return b ? syntax_error(ps) : NULL;
	}
	struct expr_node *c = parse_cond(ps);
	if (!c) {
		expr_node_free(a);
		expr_node_free(b);
		return NULL;
	}
	struct expr_node *n = node(EK_COND);
	n->a = a;
	n->b = b;
	n->c = c;
	return n;
}

static struct expr_node *parse_assign(struct parser *ps)
{
	if (++ps->depth > MAX_DEPTH) {
		if (!ps->err)
			ps->err = xstrdup("Expression too complex.");
		return NULL;
	}
	struct expr_node *a = parse_cond(ps);
	static const struct { const char *tok; int op; } aops[] = {
		{ "<<=", 'l' }, { ">>=", 'r' }, { "+=", '+' }, { "-=", '-' }, { "*=", '*' },
		{ "/=", '/' }, { "%=", '%' }, { "&=", '&' }, { "|=", '|' }, { "^=", '^' },
	};
	if (a) {
		skip_ws(ps);
		int op = -1;
		size_t len = 0;
		for (size_t i = 0; i < ARRAY_SIZE(aops) && op < 0; i++)
			if (!strncmp(ps->p, aops[i].tok, strlen(aops[i].tok))) {
				op = aops[i].op;
				len = strlen(aops[i].tok);
			}
		if (op < 0 && ps->p[0] == '=' && ps->p[1] != '=') {
			op = 0;
			len = 1;
		}
		if (op >= 0) {
			ps->p += len;
			struct expr_node *rhs = parse_assign(ps);
			if (!rhs) {
				expr_node_free(a);
				a = NULL;
			} else {
				struct expr_node *n = node(EK_ASSIGN);
				n->op = op;
				n->a = a;
				n->b = rhs;
				a = n;
			}
		}
	}
	ps->depth--;
	return a;
}

static struct expr_node *parse_comma(struct parser *ps)
{
	struct expr_node *a = parse_assign(ps);
	while (a && accept(ps, ",")) {
		struct expr_node *b = parse_assign(ps);
		if (!b) {
			expr_node_free(a);
			return NULL;
		}
		struct expr_node *n = node(EK_COMMA);
		n->a = a;
		n->b = b;
		a = n;
	}
	return a;
}

int expr_parse(const struct expr_env *env, const char *text, struct expr_node **out,
               char **err)
{
	struct parser ps = { .env = env, .text = text, .p = text };
	*out = NULL;
	skip_ws(&ps);
	if (!*ps.p) {
		if (err)
			*err = xstrdup("A syntax error in expression, near `'.");
		return -EINVAL;
	}
	struct expr_node *n = parse_comma(&ps);
	skip_ws(&ps);
	if (n && *ps.p) {
		expr_node_free(n);
		n = syntax_error(&ps);
	}
	if (!n) {
		if (err)
			*err = ps.err ? ps.err : xasprintf("A syntax error in expression, near `%s'.", ps.p);
		else
			free(ps.err);
		return -EINVAL;
	}
	free(ps.err);
	*out = n;
	return 0;
}

int expr_parse_type(const struct expr_env *env, const char *text, struct type **out,
                    char **err)
{
	struct parser ps = { .env = env, .text = text, .p = text };
	struct type *t = expr_parse_type_name(&ps);
	skip_ws(&ps);
	if (!t || *ps.p) {
		if (ps.err && err && strncmp(ps.err, "A syntax", 8)) {
			*err = ps.err;
			return -EINVAL;
		}
		free(ps.err);
		return -ENOENT;
	}
	free(ps.err);
	*out = t;
	return 0;
}
