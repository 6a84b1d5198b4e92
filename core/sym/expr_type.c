/* Type names inside expressions (casts, sizeof, ptype): C keywords in any order
 * ("long unsigned int"), struct/union/enum tags, typedefs and C++ class names
 * from the symbol table, and abstract declarators (*, [N], (*)(...)). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"
#include "types_int.h"

static const char *const base_words[] = {
	"unsigned", "signed", "short", "long", "int", "char", "float", "double", "void",
	"_Bool", "bool", "const", "volatile", "struct", "union", "enum", "class",
};

bool expr_starts_type_word(const char *p)
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
struct type *expr_parse_type_name(struct parser *ps)
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

