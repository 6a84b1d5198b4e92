/* Fuzz harness for the expression parser (core/sym/expr_parse.c): any input must
 * parse or fail cleanly, with an error message on failure; a parse that succeeds
 * must also evaluate without a target (errors allowed, crashes not). */
#include <stdlib.h>
#include <string.h>

#include "core/sym/expr.h"
#include "fuzz.h"

int fuzz_one(const uint8_t *data, size_t len)
{
	char *text = malloc(len + 1);
	memcpy(text, data, len);
	text[len] = 0;
	struct expr_node *n = NULL;
	char *err = NULL;
	int e = expr_parse(NULL, text, &n, &err);
	int bad = 0;
	if (e == 0) {
		if (!n || err)
			bad = 1;
		/* no symbols, no target: identifiers fail, constants evaluate */
		struct expr_env env = { 0 };
		struct value *v = NULL;
		char *eerr = NULL;
		if (expr_eval_node(&env, n, &v, &eerr) == 0) {
			if (!v)
				bad = 1;
			value_free(v);
		} else if (!eerr) {
			bad = 1;
		}
		free(eerr);
		expr_node_free(n);
	} else if (!err || n) {
		bad = 1;   /* a failure always says why */
	}
	free(err);
	free(text);
	return bad;
}

void fuzz_seeds(void (*add)(const uint8_t *data, size_t len))
{
	static const char *const seeds[] = {
		"1 + 2 * 3", "-(5 % 3) << 2", "(char)65", "'a' + 1", "\"hello\\n\\x41\\101\"",
		"sizeof(int) * 2", "sizeof (unsigned long long)", "x->y.z[3]", "*p++ = --q",
		"a ? b : c ? d : e", "$", "$$", "$1 + $$2", "$pc", "$foo = 3", "$foo += 2",
		"(struct node *)0", "arr[1]@3", "f(1, 2.5, \"s\")", "1.5e-3f", "0x7fffffffffffffff",
		"077 | 0b1", "!~0 && 1 || 0", "a, b, c", "ns::K::m", "'quoted sym'", "1 == 2 != 3",
		"((((((1))))))", "(unsigned char)-1 >> 1", "&x[0] - &x[1]", "(long double)1/3",
		"1/0", "10 % 0", "2.0/0", "(int *)(char *)0 + 1", "-9223372036854775807 - 1",
	};
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
		add((const uint8_t *)seeds[i], strlen(seeds[i]));
}
