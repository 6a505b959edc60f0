// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sync.c - policy sync: compiler deltas into the maps (three phases, endpoint words merged into
 * the agent's sl_endpoints entries), the restart diff against the pinned maps, and the table of
 * applied endpoint values. See sync.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "btab.h"
#include "dp_policy.h"
#include "log.h"
#include "reap.h"
#include "sync.h"

#define EPV_BUCKETS 1024

/* What the last applied delta said about a pod of this node. */
struct epv {
	struct epv *next;
	char *key; /* "ns/name" */
	bool present;
	__u32 pol[SL_DIR_MAX];
	__u32 identity;
	__u32 flags;
};

struct sl_sync {
	struct sl_agent *a;
	const struct sl_dp_maps *m;
	struct sl_reap *reap; /* phase 3 */
	pthread_mutex_t mu;   /* the table; taken after a->lock when both are held */
	struct epv *b[EPV_BUCKETS];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------- applied endpoint values */

static struct epv **epv_slot(struct sl_sync *s, const char *ns, const char *name)
{
	uint64_t h =
	    bt_fnv(name, strlen(name), bt_fnv("/", 1, bt_fnv(ns, strlen(ns), BT_FNV_INIT)));
	size_t nl = strlen(ns);
	struct epv **pp;

	for (pp = &s->b[h % EPV_BUCKETS]; *pp; pp = &(*pp)->next) {
		const char *k = (*pp)->key;

		if (!strncmp(k, ns, nl) && k[nl] == '/' && !strcmp(k + nl + 1, name))
			break;
	}
	return pp;
}

/* Called on the sync thread with s->mu held. */
static int epv_set(struct sl_sync *s, const struct sl_ep_update *u)
{
	struct epv **pp = epv_slot(s, u->ns, u->name), *e = *pp;

	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || asprintf(&e->key, "%s/%s", u->ns, u->name) < 0) {
			free(e);
			return -ENOMEM;
		}
		*pp = e;
	}
	e->present = !u->removed;
	memcpy(e->pol, u->pol, sizeof(e->pol));
	e->identity = u->identity;
	e->flags = u->flags & SL_EP_F_POLICY_INVALID;
	return 0;
}

/* Deny all: what a local endpoint gets when no applied delta made its pod ours. */
static void deny_all(struct sl_endpoint *val)
{
	val->pol[SL_DIR_EGRESS] = 0;
	val->pol[SL_DIR_INGRESS] = 0;
	val->identity = SL_IDENTITY_WORLD;
	val->flags |= SL_EP_F_POLICY_INVALID;
}

static int epv_fill(struct sl_sync *s, const char *ns, const char *name, struct sl_endpoint *val)
{
	struct epv *e = ns && name && *name ? *epv_slot(s, ns, name) : NULL;

	if (!e || !e->present) {
		deny_all(val);
		return -ENOENT;
	}
	memcpy(val->pol, e->pol, sizeof(val->pol));
	val->identity = e->identity;
	val->flags = (val->flags & ~SL_EP_F_POLICY_INVALID) | e->flags;
	return 0;
}

int sl_sync_ep_value(struct sl_sync *s, const char *ns, const char *name, struct sl_endpoint *val)
{
	int err;

	pthread_mutex_lock(&s->mu);
	err = epv_fill(s, ns, name, val);
	pthread_mutex_unlock(&s->mu);
	return err;
}

/* ---------------------------------------------------------------- the pinned maps */

struct maps_now {
	struct btab ports, cidr, peer, ident;
};

static void maps_now_free(struct maps_now *c)
{
	bt_free(&c->ports);
	bt_free(&c->cidr);
	bt_free(&c->peer);
	bt_free(&c->ident);
}

static int maps_now_read(const struct sl_dp_maps *m, struct maps_now *c)
{
	int err;

	err = bt_init(&c->ports, sizeof(struct sl_ports_key), sizeof(struct sl_ports_val));
	err = err ?: bt_init(&c->cidr, sizeof(struct sl_cidr_key), sizeof(struct sl_portset_ref));
	err = err ?: bt_init(&c->peer, sizeof(struct sl_peer_key), sizeof(struct sl_portset_ref));
	err = err ?: bt_init(&c->ident, sizeof(struct sl_addr), sizeof(struct sl_ident_val));
	err = err ?: bt_read_map(&c->ports, m->ports, "sl_ports");
	err = err ?: bt_read_map(&c->cidr, m->cidr, "sl_cidr");
	err = err ?: bt_read_map(&c->peer, m->peer, "sl_peer");
	err = err ?: bt_read_map(&c->ident, m->ident, "sl_ident");
	return err;
}

/* ---------------------------------------------------------------- floor */

static void up(__u32 *f, __u32 id)
{
	if (id != UINT32_MAX && id + 1 > *f)
		*f = id + 1;
}

int sl_sync_floor(const struct sl_dp_maps *m, struct sl_sync_floor *f)
{
	struct maps_now c = {0};
	struct btab eps = {0};
	int err;

	*f = (struct sl_sync_floor){SL_IDENTITY_FIRST, 1, 1};
	err = maps_now_read(m, &c);
	err = err ?: bt_init(&eps, sizeof(struct sl_addr), sizeof(struct sl_endpoint));
	err = err ?: bt_read_map(&eps, m->endpoints, "sl_endpoints");
	if (err)
		goto out;
	bt_for_each(&c.peer, e)
	{
		struct sl_peer_key k;
		struct sl_portset_ref v;

		memcpy(&k, e + 1, sizeof(k));
		memcpy(&v, e + 1 + sizeof(k), sizeof(v));
		up(&f->set, k.pol);
		up(&f->ident, k.identity);
		up(&f->portset, v.portset);
	}
	bt_for_each(&c.cidr, e)
	{
		struct sl_cidr_key k;
		struct sl_portset_ref v;

		memcpy(&k, e + 1, sizeof(k));
		memcpy(&v, e + 1 + sizeof(k), sizeof(v));
		up(&f->set, k.pol);
		up(&f->portset, v.portset);
	}
	bt_for_each(&c.ports, e)
	{
		struct sl_ports_key k;

		memcpy(&k, e + 1, sizeof(k));
		up(&f->portset, ntohl(k.portset));
	}
	bt_for_each(&c.ident, e)
	{
		struct sl_ident_val v;

		memcpy(&v, e + 1 + sizeof(struct sl_addr), sizeof(v));
		up(&f->ident, v.id);
	}
	bt_for_each(&eps, e)
	{
		struct sl_endpoint v;

		memcpy(&v, e + 1 + sizeof(struct sl_addr), sizeof(v));
		up(&f->set, v.pol[SL_DIR_EGRESS]);
		up(&f->set, v.pol[SL_DIR_INGRESS]);
		up(&f->ident, v.identity);
	}
out:
	maps_now_free(&c);
	bt_free(&eps);
	return err;
}

/* ---------------------------------------------------------------- applying */

struct sl_sync *sl_sync_new(struct sl_agent *a, const struct sl_dp_maps *m)
{
	struct sl_sync *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->a = a;
	s->m = m;
	s->reap = sl_reap_new(m);
	if (!s->reap) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void sl_sync_free(struct sl_sync *s)
{
	if (!s)
		return;
	sl_reap_free(s->reap);
	for (size_t i = 0; i < EPV_BUCKETS; i++) {
		while (s->b[i]) {
			struct epv *e = s->b[i];

			s->b[i] = e->next;
			free(e->key);
			free(e);
		}
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void ep_addr(uint32_t ip, struct sl_addr *k)
{
	memset(k, 0, sizeof(*k));
	k->w[2] = htonl(0xffff);
	k->w[3] = ip;
}

static bool same_words(const struct sl_endpoint *a, const struct sl_endpoint *b)
{
	return !memcmp(a->pol, b->pol, sizeof(a->pol)) && a->identity == b->identity &&
	       (a->flags & SL_EP_F_POLICY_INVALID) == (b->flags & SL_EP_F_POLICY_INVALID);
}

typedef SL_VEC(struct sl_dp_ep_flip) flip_vec;

static int flip_push(flip_vec *f, const struct sl_ep *ep, const struct sl_endpoint *v)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct sl_dp_ep_flip *n = realloc(f->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->v = n;
		f->cap = cap;
	}
	ep_addr(ep->ip, &f->v[f->n].addr);
	memcpy(f->v[f->n].pol, v->pol, sizeof(v->pol));
	f->v[f->n].identity = v->identity;
	f->v[f->n].flags = v->flags;
	f->n++;
	return 0;
}

/*
 * Phase 2 under a->lock: record u's endpoint values, then flip the sl_endpoints entries of the
 * agent's endpoints they concern (all of them when all_eps, compared with the map first).
 */
static int flip(struct sl_sync *s, const struct sl_delta *u, bool all_eps,
		struct sl_dp_apply_stats *ds)
{
	struct sl_agent *a = s->a;
	struct sl_dp_policy_update p = {0};
	flip_vec f = {0};
	int err = 0;

	pthread_mutex_lock(&a->lock);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; !err && i < u->eps.n; i++)
		err = epv_set(s, &u->eps.v[i]);
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; !err && i < a->eps.n; i++) {
		const struct sl_ep *ep = a->eps.v[i];
		struct sl_endpoint want = {0}, cur;
		struct sl_addr k;
		bool concerned = all_eps;

		for (size_t j = 0; !concerned && j < u->eps.n; j++)
			concerned = !strcmp(u->eps.v[j].ns, ep->k8s_namespace ?: "") &&
				    !strcmp(u->eps.v[j].name, ep->pod ?: "");
		if (!concerned)
			continue;
		epv_fill(s, ep->k8s_namespace, ep->pod, &want);
		ep_addr(ep->ip, &k);
		if (all_eps && !bpf_map_lookup_elem(s->m->endpoints, &k, &cur) &&
		    same_words(&cur, &want))
			continue;
		err = flip_push(&f, ep, &want);
	}
	if (!err) {
		p.ident_set = SL_DP_PAIRS(u->ident_set.v, u->ident_set.n, k, v);
		p.ident_del = SL_DP_KEYS(u->ident_del.v, u->ident_del.n);
		p.eps = f.v;
		p.n_eps = f.n;
		err = sl_dp_policy_apply(s->m, &p, ds);
	} else {
		pr_err("policy sync: flip: %s", strerror(-err));
	}
	pthread_mutex_unlock(&a->lock);
	free(f.v);
	return err;
}

static int run_phases(struct sl_sync *s, const struct sl_delta *u, bool all_eps,
		      struct sl_sync_stats *st)
{
	struct sl_dp_policy_update p1 = {0}, p3 = {0};
	struct sl_dp_apply_stats ds = {0};
	double t0 = now_ms();
	int err;

	p1.ports_add = SL_DP_PAIRS(u->ports_add.v, u->ports_add.n, k, v);
	p1.cidr_add = SL_DP_PAIRS(u->cidr_add.v, u->cidr_add.n, k, v);
	p1.peer_add = SL_DP_PAIRS(u->peer_add.v, u->peer_add.n, k, v);
	sl_reap_cancel(s->reap, &p1);
	err = sl_dp_policy_apply(s->m, &p1, &ds);
	if (err)
		return err;
	st->added += ds.added;
	err = flip(s, u, all_eps, &ds);
	if (err)
		return err;
	st->flipped += ds.flipped;
	st->deleted += ds.deleted;
	st->flip_ms = now_ms() - t0;
	p3.peer_del = SL_DP_KEYS(u->peer_del.v, u->peer_del.n);
	p3.cidr_del = SL_DP_KEYS(u->cidr_del.v, u->cidr_del.n);
	p3.ports_del = SL_DP_KEYS(u->ports_del.v, u->ports_del.n);
	st->reaped = p3.peer_del.n + p3.cidr_del.n + p3.ports_del.n;
	if (!st->reaped || !sl_reap_queue(s->reap, &p3))
		return 0;
	/* out of memory for the queue: delete them here, after a grace period */
	st->reaped = 0;
	err = sl_dp_policy_apply(s->m, &p3, &ds);
	st->deleted += ds.deleted;
	return err;
}

#define PUSH(vec, val)                                                      \
	({                                                                  \
		int e_ = 0;                                                 \
		if ((vec).n == (vec).cap) {                                 \
			size_t c_ = (vec).cap ? (vec).cap * 2 : 16;         \
			void *n_ = realloc((vec).v, c_ * sizeof(*(vec).v)); \
			if (n_) {                                           \
				(vec).v = n_;                               \
				(vec).cap = c_;                             \
			} else {                                            \
				e_ = -ENOMEM;                               \
			}                                                   \
		}                                                           \
		if (!e_)                                                    \
			(vec).v[(vec).n++] = (val);                         \
		e_;                                                         \
	})

/* Old identity -> new identity of the same address. */
struct idpair {
	__u32 old, new;
};

static int idpair_cmp(const void *x, const void *y)
{
	const struct idpair *a = x, *b = y;

	if (a->old != b->old)
		return a->old < b->old ? -1 : 1;
	return a->new < b->new ? -1 : a->new > b->new;
}

/* Entries of want (key, value pairs in an SL_VEC of {k; v}) that the map lacks or holds with
 * another value go to add; every wanted key goes to keys. */
#define DIFF_ADD(want, cur, keys, add)                                                           \
	({                                                                                       \
		int r_ = 0;                                                                      \
		for (size_t i_ = 0; !r_ && i_ < (want).n; i_++) {                                \
			const void *v_ = bt_get(&(cur), &(want).v[i_].k);                        \
			r_ = bt_put(&(keys), &(want).v[i_].k, NULL);                             \
			if (!r_ && (!v_ || memcmp(v_, &(want).v[i_].v, sizeof((want).v[i_].v)))) \
				r_ = PUSH(add, (want).v[i_]);                                    \
		}                                                                                \
		r_;                                                                              \
	})

/* Keys of the map not wanted go to del. */
#define DIFF_DEL(cur, keys, del, type)                                       \
	({                                                                   \
		int r_ = 0;                                                  \
		bt_for_each(&(cur), e_) if (!r_ && !bt_get(&(keys), e_ + 1)) \
		{                                                            \
			type k_;                                             \
			memcpy(&k_, e_ + 1, sizeof(k_));                     \
			r_ = PUSH(del, k_);                                  \
		}                                                            \
		r_;                                                          \
	})

static int apply_against_maps(struct sl_sync *s, const struct sl_delta *d, struct sl_sync_stats *st)
{
	struct maps_now c = {0};
	struct btab kports = {0}, kcidr = {0}, kpeer = {0}, kident = {0};
	SL_VEC(struct idpair) pairs = {0};
	struct sl_delta u = {0};
	int err;

	err = maps_now_read(s->m, &c);
	err = err ?: bt_init(&kports, sizeof(struct sl_ports_key), 0);
	err = err ?: bt_init(&kcidr, sizeof(struct sl_cidr_key), 0);
	err = err ?: bt_init(&kpeer, sizeof(struct sl_peer_key), 0);
	err = err ?: bt_init(&kident, sizeof(struct sl_addr), 0);
	err = err ?: DIFF_ADD(d->ports_add, c.ports, kports, u.ports_add);
	err = err ?: DIFF_ADD(d->cidr_add, c.cidr, kcidr, u.cidr_add);
	err = err ?: DIFF_ADD(d->peer_add, c.peer, kpeer, u.peer_add);
	err = err ?: DIFF_ADD(d->ident_set, c.ident, kident, u.ident_set);
	if (err)
		goto out;

	/* Addresses whose identity id changes: while old sets are still flipped to, their
	 * sl_peer entries must also answer for the new ids (copied now, deleted in phase 3). */
	for (size_t i = 0; !err && i < d->ident_set.n; i++) {
		const struct sl_ident_val *old = bt_get(&c.ident, &d->ident_set.v[i].k);
		__u32 nid = d->ident_set.v[i].v.id;

		if (old && old->id >= SL_IDENTITY_FIRST && nid >= SL_IDENTITY_FIRST &&
		    old->id != nid)
			err = PUSH(pairs, ((struct idpair){old->id, nid}));
	}
	if (pairs.n)
		qsort(pairs.v, pairs.n, sizeof(*pairs.v), idpair_cmp);
	bt_for_each(&c.peer, e)
	{
		struct sl_peer_ent b;
		size_t lo = 0, hi = pairs.n;

		if (err)
			break;
		memcpy(&b.k, e + 1, sizeof(b.k));
		memcpy(&b.v, e + 1 + sizeof(b.k), sizeof(b.v));
		while (lo < hi) { /* first pair with old >= identity */
			size_t mid = (lo + hi) / 2;

			if (pairs.v[mid].old < b.k.identity)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; !err && lo < pairs.n && pairs.v[lo].old == b.k.identity; lo++) {
			if (lo && pairs.v[lo - 1].old == pairs.v[lo].old &&
			    pairs.v[lo - 1].new == pairs.v[lo].new)
				continue;
			b.k.identity = pairs.v[lo].new;
			if (bt_get(&kpeer, &b.k) || bt_get(&c.peer, &b.k))
				continue;
			err = PUSH(u.peer_add, b);
			err = err ?: PUSH(u.peer_del, b.k);
			st->bridged++;
		}
	}

	err = err ?: DIFF_DEL(c.ident, kident, u.ident_del, struct sl_addr);
	err = err ?: DIFF_DEL(c.peer, kpeer, u.peer_del, struct sl_peer_key);
	err = err ?: DIFF_DEL(c.cidr, kcidr, u.cidr_del, struct sl_cidr_key);
	err = err ?: DIFF_DEL(c.ports, kports, u.ports_del, struct sl_ports_key);
	if (err)
		goto out;
	/* The endpoint values are d's own (u.eps stays empty: flip() reads d's). */
	u.eps = d->eps;
	pr_info("policy sync: restart diff: want %zu entries; maps hold %zu; adding %zu, "
		"identities set %zu / deleted %zu, deleting %zu, bridging %zu",
		d->ports_add.n + d->cidr_add.n + d->peer_add.n + d->ident_set.n,
		c.ports.n + c.cidr.n + c.peer.n + c.ident.n,
		u.ports_add.n + u.cidr_add.n + u.peer_add.n - st->bridged, u.ident_set.n,
		u.ident_del.n, u.peer_del.n + u.cidr_del.n + u.ports_del.n - st->bridged,
		st->bridged);
	err = run_phases(s, &u, true, st);
	memset(&u.eps, 0, sizeof(u.eps));
out:
	if (err == -ENOMEM)
		pr_err("policy sync: restart diff: %s", strerror(ENOMEM));
	free(pairs.v);
	sl_delta_free(&u);
	bt_free(&kports);
	bt_free(&kcidr);
	bt_free(&kpeer);
	bt_free(&kident);
	maps_now_free(&c);
	return err;
}

int sl_sync_drain(struct sl_sync *s, int timeout_ms)
{
	return sl_reap_drain(s->reap, timeout_ms);
}

int sl_sync_apply(struct sl_sync *s, const struct sl_delta *d, bool against_maps,
		  struct sl_sync_stats *st)
{
	double t0 = now_ms();
	int err;

	memset(st, 0, sizeof(*st));
	err = against_maps ? apply_against_maps(s, d, st) : run_phases(s, d, false, st);
	st->ms = now_ms() - t0;
	return err;
}
