/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* htab.h - the compiler's intrusive chained hash table, a byte hash, and a doubly linked list.
 * Internal to policy/. */
#ifndef SL_HTAB_H
#define SL_HTAB_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct sl_hnode {
	struct sl_hnode *next;
	uint64_t hash;
};

struct sl_htab {
	struct sl_hnode **b;
	size_t mask; /* buckets - 1 */
	size_t n;
};

int sl_htab_init(struct sl_htab *h);
void sl_htab_fini(struct sl_htab *h);
/* Insert (duplicates allowed; callers look up first). 0 or -ENOMEM. */
int sl_htab_add(struct sl_htab *h, struct sl_hnode *n, uint64_t hash);
void sl_htab_del(struct sl_htab *h, struct sl_hnode *n);
/* The first node of hash's bucket with that hash, then the next one. */
struct sl_hnode *sl_htab_first(const struct sl_htab *h, uint64_t hash);
struct sl_hnode *sl_htab_next(const struct sl_hnode *n, uint64_t hash);

#define sl_htab_for_each(h, i, n)                        \
	for ((i) = 0; (h)->b && (i) <= (h)->mask; (i)++) \
		for ((n) = (h)->b[i]; (n); (n) = (n)->next)

uint64_t sl_hash(const void *data, size_t len, uint64_t seed);

static inline uint64_t sl_hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

struct sl_list {
	struct sl_list *next, *prev;
};

static inline void sl_list_init(struct sl_list *l)
{
	l->next = l->prev = l;
}

static inline void sl_list_add(struct sl_list *head, struct sl_list *n)
{
	n->next = head;
	n->prev = head->prev;
	head->prev->next = n;
	head->prev = n;
}

static inline void sl_list_del(struct sl_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define sl_list_for_each_safe(pos, tmp, head)                            \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif /* SL_HTAB_H */
