/* Small containers of core/sym: an interning string pool, a pointer-keyed map,
 * and path helpers shared by the symbol table. */
#include <stdlib.h>
#include <string.h>

#include "sym_int.h"

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

static char *pool_store(struct strpool *p, const char *s, size_t n)
{
	if (n + 1 > p->left) {
		size_t sz = n + 1 > 16384 ? n + 1 : 16384;
		p->cur = xmalloc(sz);
		p->left = sz;
		vec_push(&p->blocks, p->cur);
	}
	char *r = p->cur;
	memcpy(r, s, n);
	r[n] = 0;
	p->cur += n + 1;
	p->left -= n + 1;
	return r;
}

static void pool_grow(struct strpool *p)
{
	size_t ncap = p->cap ? p->cap * 2 : 1024;
	char **ns = xcalloc(ncap, sizeof *ns);
	for (size_t i = 0; i < p->cap; i++) {
		char *s = p->slots[i];
		if (!s)
			continue;
		size_t j = hash_str(s, strlen(s)) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = s;
	}
	free(p->slots);
	p->slots = ns;
	p->cap = ncap;
}

static char **pool_slot(const struct strpool *p, const char *s, size_t n)
{
	if (!p->cap)
		return NULL;
	size_t j = hash_str(s, n) & (p->cap - 1);
	while (p->slots[j]) {
		if (!strncmp(p->slots[j], s, n) && p->slots[j][n] == 0)
			return &p->slots[j];
		j = (j + 1) & (p->cap - 1);
	}
	return &p->slots[j];
}

const char *pool_intern_n(struct strpool *p, const char *s, size_t n)
{
	if (!s)
		return NULL;
	if ((p->n + 1) * 2 > p->cap)
		pool_grow(p);
	char **slot = pool_slot(p, s, n);
	if (!*slot) {
		*slot = pool_store(p, s, n);
		p->n++;
	}
	return *slot;
}

const char *pool_intern(struct strpool *p, const char *s)
{
	return s ? pool_intern_n(p, s, strlen(s)) : NULL;
}

const char *pool_find(const struct strpool *p, const char *s)
{
	char **slot = pool_slot(p, s, strlen(s));
	return slot ? *slot : NULL;
}

void pool_free(struct strpool *p)
{
	for (size_t i = 0; i < p->blocks.n; i++)
		free(p->blocks.v[i]);
	vec_free(&p->blocks);
	free(p->slots);
	memset(p, 0, sizeof *p);
}

static size_t ptr_hash(uintptr_t k)
{
	uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ (h >> 29));
}

void ptrmap_put(struct ptrmap *m, uintptr_t key, int val)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		uintptr_t *nk = xcalloc(ncap, sizeof *nk);
		int *nv = xmalloc(ncap * sizeof *nv);
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			size_t j = ptr_hash(m->keys[i]) & (ncap - 1);
			while (nk[j])
				j = (j + 1) & (ncap - 1);
			nk[j] = m->keys[i];
			nv[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = nk;
		m->vals = nv;
		m->cap = ncap;
	}
	key = key ? key : (uintptr_t)-1;
	size_t j = ptr_hash(key) & (m->cap - 1);
	while (m->keys[j] && m->keys[j] != key)
		j = (j + 1) & (m->cap - 1);
	if (!m->keys[j])
		m->n++;
	m->keys[j] = key;
	m->vals[j] = val;
}

int ptrmap_get(const struct ptrmap *m, uintptr_t key)
{
	if (!m->cap)
		return -1;
	key = key ? key : (uintptr_t)-1;
	size_t j = ptr_hash(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (m->keys[j] == key)
			return m->vals[j];
		j = (j + 1) & (m->cap - 1);
	}
	return -1;
}

void ptrmap_free(struct ptrmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

char *sym_path_normalize(const char *dir, const char *name)
{
	struct sbuf in = { 0 };
	if (name[0] != '/' && dir && *dir)
		sbuf_printf(&in, "%s/%s", dir, name);
	else
		sbuf_puts(&in, name);
	char *src = in.s;
	size_t len = strlen(src);
	char *out = xmalloc(len + 2);
	size_t o = 0;
	bool abs = src[0] == '/';
	char *save = NULL;
	for (char *c = strtok_r(src, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			/* drop the last component unless there is none (or it is "..") */
			size_t k = o;
			while (k > 0 && out[k - 1] != '/')
				k--;
			bool last_dotdot = o - k == 2 && !strncmp(out + k, "..", 2);
			if (o > 0 && !last_dotdot) {
				o = k ? k - 1 : 0;
				continue;
			}
			if (abs && o == 0)
				continue;
		}
		if (o || abs)
			out[o++] = '/';
		size_t cl = strlen(c);
		memcpy(out + o, c, cl);
		o += cl;
	}
	if (o == 0)
		out[o++] = abs ? '/' : '.';
	out[o] = 0;
	sbuf_free(&in);
	return out;
}

bool sym_path_matches(const char *path, const char *spec)
{
	if (!path || !spec)
		return false;
	size_t pl = strlen(path), sl = strlen(spec);
	if (sl > pl)
		return false;
	if (strcmp(path + pl - sl, spec))
		return false;
	return sl == pl || spec[0] == '/' || path[pl - sl - 1] == '/';
}
