// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* htab.c - intrusive chained hash table that doubles when its load reaches 1, and a byte hash. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

int sl_htab_init(struct sl_htab *h)
{
	h->mask = 15;
	h->n = 0;
	h->b = calloc(h->mask + 1, sizeof(*h->b));
	return h->b ? 0 : -ENOMEM;
}

void sl_htab_fini(struct sl_htab *h)
{
	free(h->b);
	h->b = NULL;
	h->n = 0;
}

static int grow(struct sl_htab *h)
{
	size_t nmask = h->mask * 2 + 1;
	struct sl_hnode **nb = calloc(nmask + 1, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	for (size_t i = 0; i <= h->mask; i++) {
		struct sl_hnode *n = h->b[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = nb[n->hash & nmask];
			nb[n->hash & nmask] = n;
		}
	}
	free(h->b);
	h->b = nb;
	h->mask = nmask;
	return 0;
}

int sl_htab_add(struct sl_htab *h, struct sl_hnode *n, uint64_t hash)
{
	if (h->n > h->mask && grow(h))
		return -ENOMEM;
	n->hash = hash;
	n->next = h->b[hash & h->mask];
	h->b[hash & h->mask] = n;
	h->n++;
	return 0;
}

void sl_htab_del(struct sl_htab *h, struct sl_hnode *n)
{
	struct sl_hnode **pp = &h->b[n->hash & h->mask];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			h->n--;
			return;
		}
	}
}

struct sl_hnode *sl_htab_first(const struct sl_htab *h, uint64_t hash)
{
	struct sl_hnode *n = h->b[hash & h->mask];

	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct sl_hnode *sl_htab_next(const struct sl_hnode *n, uint64_t hash)
{
	n = n->next;
	while (n && n->hash != hash)
		n = n->next;
	return (struct sl_hnode *)n;
}

uint64_t sl_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = sl_hash_u64(h ^ w) + 0x9e3779b97f4a7c15ULL;
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;

		memcpy(&w, p, len);
		h = sl_hash_u64(h ^ w ^ ((uint64_t)len << 56));
	}
	return sl_hash_u64(h);
}
