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

struct parser {
	const struct expr_env *env;
	const char *text;
	const char *p;          /* current position */
	char *err;
	int depth;
};

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

static void skip_ws(struct parser *ps)
{
	while (*ps->p && isspace((unsigned char)*ps->p))
		ps->p++;
}

static struct expr_node *syntax_error(struct parser *ps)
{
	if (!ps->err)
		ps->err = xasprintf("A syntax error in expression, near `%s'.", ps->p);
	return NULL;
}

static bool peek(struct parser *ps, const char *tok)
{
	skip_ws(ps);
	return !strncmp(ps->p, tok, strlen(tok));
}

static bool accept(struct parser *ps, const char *tok)
{
	if (!peek(ps, tok))
		return false;
	ps->p += strlen(tok);
	return true;
}

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* An identifier, with C++ scope qualifiers (a::b::c). malloc'd or NULL. */
static char *read_ident(struct parser *ps)
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

static bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);
	return !strncmp(p, w, n) && !is_ident_char(p[n]);
}

static const char *const base_words[] = {
	"unsigned", "signed", "short", "long", "int", "char", "float", "double", "void",
	"_Bool", "bool", "const", "volatile", "struct", "union", "enum", "class",
};

static bool starts_type_word(const char *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(base_words); i++)
		if (word_at(p, base_words[i]))
			return true;
	return false;
}

static struct symtab *ps_st(struct parser *ps)
{
	return ps->env ? ps->env->ctx.st : NULL;
}

/* Parse a type name if one starts here; NULL (position unchanged) if not. */
static struct type *parse_type(struct parser *ps)
{
	const char *save = ps->p;
	skip_ws(ps);
	bool is_const = false, is_volatile = false;
	struct sbuf words = { 0 };
	struct type *t = NULL;
	for (;;) {
		skip_ws(ps);
		if (word_at(ps->p, "const")) {
			is_const = true;
			ps->p += 5;
			continue;
		}
		if (word_at(ps->p, "volatile")) {
			is_volatile = true;
			ps->p += 8;
			continue;
		}
		bool tag = word_at(ps->p, "struct") || word_at(ps->p, "union") ||
		           word_at(ps->p, "enum") || word_at(ps->p, "class");
		if (tag && !words.len && !t) {
			const char *kw = ps->p;
			while (is_ident_char(*ps->p))
				ps->p++;
			size_t kl = (size_t)(ps->p - kw);
			char *id = read_ident(ps);
			if (!id) {
				ps->p = save;
				sbuf_free(&words);
				return NULL;
			}
			char *full = xasprintf("%.*s %s", (int)kl, kw, id);
			t = type_lookup(ps_st(ps), full);
			if (!t && !ps->err)
				ps->err = xasprintf("No %.*s type named %s.", (int)kl, kw, id);
			free(full);
			free(id);
			if (!t) {
				sbuf_free(&words);
				return NULL;
			}
			continue;
		}
		bool base = false;
		for (size_t i = 0; i < 11; i++)   /* unsigned .. bool */
			if (word_at(ps->p, base_words[i])) {
				if (words.len)
					sbuf_putc(&words, ' ');
				sbuf_puts(&words, base_words[i]);
				ps->p += strlen(base_words[i]);
				base = true;
				break;
			}
		if (base)
			continue;
		if (!words.len && !t && (is_ident_start(*ps->p) || *ps->p == ':')) {
			const char *before = ps->p;
			char *id = read_ident(ps);
			struct type *tt = id && ps->env ? type_lookup(ps_st(ps), id) : NULL;
			free(id);
			if (!tt) {
				ps->p = before;
				break;
			}
			t = tt;
			continue;
		}
		break;
	}
	if (words.len) {
		/* canonical spellings: "long unsigned int" -> "unsigned long" ... */
		const char *w = words.s;
		bool u = strstr(w, "unsigned") != NULL, sg = strstr(w, "signed") && !u;
		int longs = 0;
		for (const char *q = w; (q = strstr(q, "long")); q += 4)
			longs++;
		const char *name;
		if (strstr(w, "char"))
			name = u ? "unsigned char" : sg ? "signed char" : "char";
		else if (strstr(w, "short"))
			name = u ? "unsigned short" : "short";
		else if (strstr(w, "double"))
			name = longs ? "long double" : "double";
		else if (strstr(w, "float"))
			name = "float";
		else if (strstr(w, "void"))
			name = "void";
		else if (strstr(w, "_Bool") || strstr(w, "bool"))
			name = "_Bool";
		else if (longs >= 2)
			name = u ? "unsigned long long" : "long long";
		else if (longs == 1)
			name = u ? "unsigned long" : "long";
		else
			name = u ? "unsigned int" : "int";
		t = type_builtin(name);
	}
	sbuf_free(&words);
	if (!t) {
		ps->p = save;
		return NULL;
	}
	if (is_const)
		t = type_const_of(t);
	(void)is_volatile;
	/* abstract declarator: pointers, arrays, pointer to function */
	for (;;) {
		if (accept(ps, "*")) {
			t = type_pointer_to(t);
			skip_ws(ps);
			while (word_at(ps->p, "const") || word_at(ps->p, "volatile"))
				ps->p += word_at(ps->p, "const") ? 5 : 8;
			continue;
		}
		break;
	}
	const char *before = ps->p;
	if (accept(ps, "(") && accept(ps, "*") && accept(ps, ")")) {
		if (accept(ps, "(")) {
			/* pointer to function: parameter list is not modelled beyond arity */
			int depth = 1;
			while (*ps->p && depth) {
				if (*ps->p == '(')
					depth++;
				else if (*ps->p == ')')
					depth--;
				ps->p++;
			}
			/* a pointer to a function returning t (parameters not modelled) */
			return type_pointer_to(type_function_of(t));
		}
		while (accept(ps, "[")) {
			char *end;
			long n = strtol(ps->p, &end, 0);
			ps->p = end;
			if (!accept(ps, "]"))
				return NULL;
			t = type_array_of(t, n);
		}
		return type_pointer_to(t);
	}
	ps->p = before;
	while (peek(ps, "[")) {
		const char *b2 = ps->p;
		ps->p++;
		char *end;
		long n = strtol(ps->p, &end, 0);
		if (end == ps->p) {
			ps->p = b2;
			break;
		}
		ps->p = end;
		if (!accept(ps, "]")) {
			ps->p = b2;
			break;
		}
		t = type_array_of(t, n);
	}
	return t;
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
		struct type *t = parse_type(ps);
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
		if (starts_type_word(s) || ps->env) {
			struct type *t = parse_type(ps);
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
		if (accept(ps, "(") && (st = parse_type(ps)) && accept(ps, ")")) {
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
	struct type *t = parse_type(&ps);
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
