// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_cache.c - an informer's store: objects keyed by "namespace/name", and the difference
 * between the store and a fresh list. A chained hash table that doubles when full. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_cache.h"
#include "k8s_stream.h"

struct entry {
	struct entry *next;
	uint32_t hash;
	char *key;
	cJSON *obj;
};

struct sl_k8s_cache {
	struct entry **b;
	size_t nb, count;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

char *sl_k8s_key(const char *ns, const char *name)
{
	char *k;

	if (!name || !*name)
		return NULL;
	if (!ns || !*ns)
		return strdup(name);
	if (asprintf(&k, "%s/%s", ns, name) < 0)
		return NULL;
	return k;
}

char *sl_k8s_obj_key(const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(md, "namespace");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");

	if (!cJSON_IsString(name))
		return NULL;
	return sl_k8s_key(cJSON_IsString(ns) ? ns->valuestring : NULL, name->valuestring);
}

struct sl_k8s_cache *sl_k8s_cache_new(void)
{
	struct sl_k8s_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nb = 64;
	c->b = calloc(c->nb, sizeof(*c->b));
	if (!c->b) {
		free(c);
		return NULL;
	}
	return c;
}

static void clear(struct sl_k8s_cache *c)
{
	for (size_t i = 0; i < c->nb; i++) {
		for (struct entry *e = c->b[i], *n; e; e = n) {
			n = e->next;
			cJSON_Delete(e->obj);
			free(e->key);
			free(e);
		}
		c->b[i] = NULL;
	}
	c->count = 0;
}

void sl_k8s_cache_free(struct sl_k8s_cache *c)
{
	if (!c)
		return;
	clear(c);
	free(c->b);
	free(c);
}

size_t sl_k8s_cache_count(const struct sl_k8s_cache *c)
{
	return c->count;
}

static struct entry **find(const struct sl_k8s_cache *c, const char *key, uint32_t h)
{
	struct entry **pp = &c->b[h & (c->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && !strcmp((*pp)->key, key))
			return pp;
	return pp;
}

const cJSON *sl_k8s_cache_get(const struct sl_k8s_cache *c, const char *key)
{
	struct entry **pp = find(c, key, fnv1a(key));

	return *pp ? (*pp)->obj : NULL;
}

static void grow(struct sl_k8s_cache *c)
{
	size_t nb = c->nb * 2;
	struct entry **b = calloc(nb, sizeof(*b));

	if (!b) /* keep the longer chains: still correct */
		return;
	for (size_t i = 0; i < c->nb; i++) {
		for (struct entry *e = c->b[i], *n; e; e = n) {
			n = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(c->b);
	c->b = b;
	c->nb = nb;
}

int sl_k8s_cache_put(struct sl_k8s_cache *c, cJSON *obj, cJSON **old)
{
	char *key = sl_k8s_obj_key(obj);
	struct entry **pp, *e;
	uint32_t h;

	if (old)
		*old = NULL;
	if (!key) {
		cJSON_Delete(obj);
		return -EINVAL;
	}
	h = fnv1a(key);
	pp = find(c, key, h);
	if (*pp) {
		if (old)
			*old = (*pp)->obj;
		else
			cJSON_Delete((*pp)->obj);
		(*pp)->obj = obj;
		free(key);
		return 0;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		free(key);
		cJSON_Delete(obj);
		return -ENOMEM;
	}
	*e = (struct entry){.hash = h, .key = key, .obj = obj};
	*pp = e;
	if (++c->count > c->nb)
		grow(c);
	return 0;
}

cJSON *sl_k8s_cache_take(struct sl_k8s_cache *c, const char *key)
{
	struct entry **pp = find(c, key, fnv1a(key)), *e = *pp;
	cJSON *obj;

	if (!e)
		return NULL;
	*pp = e->next;
	obj = e->obj;
	free(e->key);
	free(e);
	c->count--;
	return obj;
}

void sl_k8s_cache_foreach(const struct sl_k8s_cache *c, void (*fn)(const cJSON *obj, void *arg),
			  void *arg)
{
	for (size_t i = 0; i < c->nb; i++)
		for (struct entry *e = c->b[i]; e; e = e->next)
			fn(e->obj, arg);
}

static bool same_rv(const cJSON *a, const cJSON *b)
{
	const char *ra = sl_k8s_obj_rv(a), *rb = sl_k8s_obj_rv(b);

	return ra && rb && !strcmp(ra, rb);
}

int sl_k8s_cache_replace(struct sl_k8s_cache *c, cJSON *items, const struct sl_k8s_diff_ops *ops,
			 void *ud)
{
	struct sl_k8s_cache *next = sl_k8s_cache_new();
	struct sl_k8s_cache tmp;
	cJSON *it;
	int err = 0;

	if (!next) {
		cJSON_Delete(items);
		return -ENOMEM;
	}
	while (items && (it = cJSON_DetachItemFromArray(items, 0))) {
		err = sl_k8s_cache_put(next, it, NULL); /* a duplicate key: the last one wins */
		if (err == -ENOMEM)
			goto out;
		err = 0;
	}
	/* deletions first */
	for (size_t i = 0; i < c->nb; i++) {
		for (struct entry **pp = &c->b[i], *e; (e = *pp);) {
			if (*find(next, e->key, e->hash)) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			c->count--;
			if (ops && ops->del)
				ops->del(e->obj, ud);
			cJSON_Delete(e->obj);
			free(e->key);
			free(e);
		}
	}
	for (size_t i = 0; i < next->nb; i++) {
		for (struct entry *e = next->b[i]; e; e = e->next) {
			cJSON *old = sl_k8s_cache_take(c, e->key);

			if (!old) {
				if (ops && ops->add)
					ops->add(e->obj, ud);
			} else if (!same_rv(old, e->obj)) {
				if (ops && ops->update)
					ops->update(old, e->obj, ud);
			}
			cJSON_Delete(old);
		}
	}
	/* c is empty now: swap the tables */
	tmp = *c;
	*c = *next;
	*next = tmp;
out:
	cJSON_Delete(items);
	sl_k8s_cache_free(next);
	return err;
}
