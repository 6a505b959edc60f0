/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * btab.h - an open-addressing hash table of fixed-size byte keys and values: the agent's
 * copies of BPF map contents (the restart diff) and its sets of map keys (the deletes that
 * wait for a grace period). Not thread-safe.
 */
#ifndef SL_AGENT_BTAB_H
#define SL_AGENT_BTAB_H

#include <stddef.h>
#include <stdint.h>

struct btab {
	size_t klen, vlen, esz, cap, n;
	unsigned char *v; /* slots: used byte, key, value */
};

/* FNV-1a 64 of n bytes, continuing from h (BT_FNV_INIT to start). */
#define BT_FNV_INIT 0xcbf29ce484222325ull
uint64_t bt_fnv(const void *p, size_t n, uint64_t h);

/* 0 or -ENOMEM. vlen may be 0 (a set). */
int bt_init(struct btab *t, size_t klen, size_t vlen);
void bt_free(struct btab *t);
/* Empty t, keeping its sizes; back to the initial capacity when memory allows. Returns 0. */
int bt_clear(struct btab *t);
/* The value of k (its address in the table, writable), or NULL. */
void *bt_get(const struct btab *t, const void *k);
/* Insert or overwrite k (v may be NULL when vlen is 0). 0 or -ENOMEM. */
int bt_put(struct btab *t, const void *k, const void *v);
/* Every entry of a BPF map into t (klen, vlen <= 64). 0 or -errno (logged with name). */
int bt_read_map(struct btab *t, int fd, const char *name);

/* for each used slot e: key at e + 1, value at e + 1 + klen */
#define bt_for_each(t, e)                                                                \
	for (unsigned char *e = (t)->v; e < (t)->v + (t)->cap * (t)->esz; e += (t)->esz) \
		if (e[0])

#endif
