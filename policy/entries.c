// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * entries.c - the wanted map entries, keyed by (map, ABI key). Each entry remembers whether and
 * with which value it was last handed out ("emitted"); a take compares the entries touched
 * since then and sorts each net change into its phase: adds of sl_ports/sl_cidr/sl_peer in
 * phase 1, sl_ident sets and deletes in phase 2, deletes of sl_peer/sl_cidr/sl_ports in phase 3.
 */
#include <string.h>

#include "entries.h"

static const uint8_t key_len[ENT_MAX] = {
    [ENT_IDENT] = sizeof(struct sl_addr),
    [ENT_PEER] = sizeof(struct sl_peer_key),
    [ENT_CIDR] = sizeof(struct sl_cidr_key),
    [ENT_PORTS] = sizeof(struct sl_ports_key),
};

int ents_init(struct ents *e)
{
	memset(e, 0, sizeof(*e));
	return sl_htab_init(&e->h);
}

void ents_fini(struct ents *e)
{
	struct sl_hnode *n, *next;
	size_t i;

	for (i = 0; e->h.b && i <= e->h.mask; i++)
		for (n = e->h.b[i]; n; n = next) {
			next = n->next;
			free(container_of(n, struct ent, hn));
		}
	sl_htab_fini(&e->h);
}

static uint64_t ent_hash(enum ent_map map, const void *key)
{
	return sl_hash(key, key_len[map], map + 1);
}

static struct ent *find(const struct ents *e, enum ent_map map, const void *key, uint64_t h)
{
	struct sl_hnode *n;

	for (n = sl_htab_first(&e->h, h); n; n = sl_htab_next(n, h)) {
		struct ent *x = container_of(n, struct ent, hn);

		if (x->map == map && !memcmp(x->key, key, key_len[map]))
			return x;
	}
	return NULL;
}

static void touch(struct ents *e, struct ent *x)
{
	if (x->touched)
		return;
	x->touched = 1;
	x->tnext = e->touched;
	e->touched = x;
}

int ents_set(struct ents *e, enum ent_map map, const void *key, const void *val)
{
	uint64_t h = ent_hash(map, key);
	struct ent *x = find(e, map, key, h);

	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x || sl_htab_add(&e->h, &x->hn, h)) {
			free(x);
			return -ENOMEM;
		}
		x->map = map;
		memcpy(x->key, key, key_len[map]);
	}
	if (!x->cur)
		e->count[map]++;
	x->cur = 1;
	memcpy(x->val, val, 8);
	touch(e, x);
	return 0;
}

void ents_del(struct ents *e, enum ent_map map, const void *key)
{
	struct ent *x = find(e, map, key, ent_hash(map, key));

	if (!x || !x->cur)
		return;
	x->cur = 0;
	e->count[map]--;
	e->dels++;
	touch(e, x);
}

const void *ents_get(const struct ents *e, enum ent_map map, const void *key)
{
	struct ent *x = find(e, map, key, ent_hash(map, key));

	return x && x->cur ? x->val : NULL;
}

static int emit_add(struct sl_delta *d, const struct ent *x)
{
	switch (x->map) {
	case ENT_IDENT: {
		struct sl_ident_ent v;

		memcpy(&v.k, x->key, sizeof(v.k));
		memcpy(&v.v, x->val, sizeof(v.v));
		return VEC_PUSH(d->ident_set, v);
	}
	case ENT_PEER: {
		struct sl_peer_ent v;

		memcpy(&v.k, x->key, sizeof(v.k));
		memcpy(&v.v, x->val, sizeof(v.v));
		return VEC_PUSH(d->peer_add, v);
	}
	case ENT_CIDR: {
		struct sl_cidr_ent v;

		memcpy(&v.k, x->key, sizeof(v.k));
		memcpy(&v.v, x->val, sizeof(v.v));
		return VEC_PUSH(d->cidr_add, v);
	}
	default: {
		struct sl_ports_ent v;

		memcpy(&v.k, x->key, sizeof(v.k));
		memcpy(&v.v, x->val, sizeof(v.v));
		return VEC_PUSH(d->ports_add, v);
	}
	}
}

static int emit_del(struct sl_delta *d, const struct ent *x)
{
	switch (x->map) {
	case ENT_IDENT: {
		struct sl_addr k;

		memcpy(&k, x->key, sizeof(k));
		return VEC_PUSH(d->ident_del, k);
	}
	case ENT_PEER: {
		struct sl_peer_key k;

		memcpy(&k, x->key, sizeof(k));
		return VEC_PUSH(d->peer_del, k);
	}
	case ENT_CIDR: {
		struct sl_cidr_key k;

		memcpy(&k, x->key, sizeof(k));
		return VEC_PUSH(d->cidr_del, k);
	}
	default: {
		struct sl_ports_key k;

		memcpy(&k, x->key, sizeof(k));
		return VEC_PUSH(d->ports_del, k);
	}
	}
}

int ents_take(struct ents *e, struct sl_delta *d)
{
	struct ent *x, *next;
	int err = 0;

	for (x = e->touched; x; x = next) {
		next = x->tnext;
		if (!err) {
			if (x->cur && (!x->emitted || memcmp(x->val, x->old, 8))) {
				if (x->emitted && x->map != ENT_IDENT)
					e->inplace++;
				err = emit_add(d, x);
			} else if (!x->cur && x->emitted) {
				err = emit_del(d, x);
			}
		}
		x->touched = 0;
		x->tnext = NULL;
		x->emitted = x->cur;
		memcpy(x->old, x->val, 8);
		if (!x->cur) {
			sl_htab_del(&e->h, &x->hn);
			free(x);
		}
	}
	e->touched = NULL;
	return err;
}

int ents_snapshot(const struct ents *e, struct sl_delta *d)
{
	struct sl_hnode *n;
	size_t i;
	int err;

	sl_htab_for_each(&e->h, i, n)
	{
		struct ent *x = container_of(n, struct ent, hn);

		if (x->cur && (err = emit_add(d, x)))
			return err;
	}
	return 0;
}
