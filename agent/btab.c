// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* btab.c - fixed-size byte-keyed hash tables: see btab.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "btab.h"
#include "log.h"

#define BT_MIN_CAP 64

uint64_t bt_fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

void bt_free(struct btab *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

int bt_init(struct btab *t, size_t klen, size_t vlen)
{
	t->klen = klen;
	t->vlen = vlen;
	t->esz = 1 + klen + vlen;
	t->n = 0;
	t->cap = BT_MIN_CAP;
	t->v = calloc(t->cap, t->esz);
	return t->v ? 0 : -ENOMEM;
}

int bt_clear(struct btab *t)
{
	unsigned char *v = t->cap == BT_MIN_CAP ? NULL : calloc(BT_MIN_CAP, t->esz);

	/* the small size again when there is memory for it; else the same, emptied */
	if (v) {
		free(t->v);
		t->v = v;
		t->cap = BT_MIN_CAP;
	} else {
		memset(t->v, 0, t->cap * t->esz);
	}
	t->n = 0;
	return 0;
}

static unsigned char *bt_slot(const struct btab *t, const void *k)
{
	size_t i = bt_fnv(k, t->klen, BT_FNV_INIT) & (t->cap - 1);

	for (;; i = (i + 1) & (t->cap - 1)) {
		unsigned char *e = t->v + i * t->esz;

		if (!e[0] || !memcmp(e + 1, k, t->klen))
			return e;
	}
}

void *bt_get(const struct btab *t, const void *k)
{
	unsigned char *e = bt_slot(t, k);

	return e[0] ? e + 1 + t->klen : NULL;
}

int bt_put(struct btab *t, const void *k, const void *v)
{
	unsigned char *e;

	if ((t->n + 1) * 2 > t->cap) {
		struct btab g = *t;

		g.cap = t->cap * 2;
		g.n = 0;
		g.v = calloc(g.cap, g.esz);
		if (!g.v)
			return -ENOMEM;
		for (size_t i = 0; i < t->cap; i++) {
			unsigned char *o = t->v + i * t->esz;

			if (o[0]) {
				memcpy(bt_slot(&g, o + 1), o, g.esz);
				g.n++;
			}
		}
		free(t->v);
		*t = g;
	}
	e = bt_slot(t, k);
	if (!e[0])
		t->n++;
	e[0] = 1;
	memcpy(e + 1, k, t->klen);
	if (t->vlen)
		memcpy(e + 1 + t->klen, v, t->vlen);
	return 0;
}

int bt_read_map(struct btab *t, int fd, const char *name)
{
	unsigned char k[64], next[64], v[64];
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, t->klen);
		prev = k;
		if (bpf_map_lookup_elem(fd, k, v)) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			goto fail;
		}
		err = bt_put(t, k, v);
		if (err)
			goto fail;
	}
	if (errno != ENOENT) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	pr_err("%s: read pinned map: %s", name, strerror(-err));
	return err;
}
