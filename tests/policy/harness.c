// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * harness.c - the datapath's lookup over a delta-applied store, and a reference evaluator of
 * NetworkPolicy v1 written from the API reference (kubernetes-api.md 1.12), independent of
 * policy/ (its own selector matching, CIDR containment and port resolution).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define GROW(arr, n, cap)                                               \
	do {                                                            \
		if ((n) == (cap)) {                                     \
			(cap) = (cap) ? (cap)*2 : 64;                   \
			(arr) = realloc((arr), (cap) * sizeof(*(arr))); \
			if (!(arr))                                     \
				abort();                                \
		}                                                       \
	} while (0)

void store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
}

void store_fini(struct store *s)
{
	for (size_t i = 0; i < s->n_eps; i++) {
		free(s->eps[i].ns);
		free(s->eps[i].name);
	}
	free(s->ident);
	free(s->peer);
	free(s->cidr);
	free(s->ports);
	free(s->eps);
	memset(s, 0, sizeof(*s));
}

static void violation(struct store *s, const char *what)
{
	s->violations++;
	snprintf(s->last_violation, sizeof(s->last_violation), "%s", what);
}

/* Generic keyed array ops: entries are {key, value} with the key first. */
static long find(const void *arr, size_t n, size_t esz, const void *key, size_t ksz)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp((const char *)arr + i * esz, key, ksz))
			return (long)i;
	return -1;
}

#define ADD(s, arr, n, cap, e, what)                                                        \
	do {                                                                                \
		long i_ = find((s)->arr, (s)->n, sizeof(*(s)->arr), &(e).k, sizeof((e).k)); \
		if (i_ >= 0) {                                                              \
			violation((s), what " of an existing key");                         \
			(s)->arr[i_] = (e);                                                 \
		} else {                                                                    \
			GROW((s)->arr, (s)->n, (s)->cap);                                   \
			(s)->arr[(s)->n++] = (e);                                           \
		}                                                                           \
	} while (0)

#define DEL(s, arr, n, key, what)                                                         \
	do {                                                                              \
		long i_ = find((s)->arr, (s)->n, sizeof(*(s)->arr), &(key), sizeof(key)); \
		if (i_ < 0)                                                               \
			violation((s), what " of a missing key");                         \
		else                                                                      \
			(s)->arr[i_] = (s)->arr[--(s)->n];                                \
	} while (0)

static bool portset_exists(const struct store *s, __u32 ps)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (ntohl(s->ports[i].k.portset) == ps)
			return true;
	return !ps;
}

void store_apply(struct store *s, const struct sl_delta *d, int phase)
{
	if (!phase || phase == 1) {
		for (size_t i = 0; i < d->ports_add.n; i++)
			ADD(s, ports, n_ports, cap_ports, d->ports_add.v[i], "ports add");
		for (size_t i = 0; i < d->cidr_add.n; i++) {
			if (!portset_exists(s, d->cidr_add.v[i].v.portset))
				violation(s, "cidr add before its portset");
			ADD(s, cidr, n_cidr, cap_cidr, d->cidr_add.v[i], "cidr add");
		}
		for (size_t i = 0; i < d->peer_add.n; i++) {
			if (!portset_exists(s, d->peer_add.v[i].v.portset))
				violation(s, "peer add before its portset");
			ADD(s, peer, n_peer, cap_peer, d->peer_add.v[i], "peer add");
		}
	}
	if (!phase || phase == 2) {
		for (size_t i = 0; i < d->ident_set.n; i++) {
			long k = find(s->ident, s->n_ident, sizeof(*s->ident), &d->ident_set.v[i].k,
				      sizeof(struct sl_addr));

			if (k >= 0) {
				s->ident[k] = d->ident_set.v[i];
			} else {
				GROW(s->ident, s->n_ident, s->cap_ident);
				s->ident[s->n_ident++] = d->ident_set.v[i];
			}
		}
		for (size_t i = 0; i < d->ident_del.n; i++)
			DEL(s, ident, n_ident, d->ident_del.v[i], "ident del");
		for (size_t i = 0; i < d->eps.n; i++) {
			const struct sl_ep_update *u = &d->eps.v[i];
			size_t k;

			for (k = 0; k < s->n_eps; k++)
				if (!strcmp(s->eps[k].ns, u->ns) &&
				    !strcmp(s->eps[k].name, u->name))
					break;
			if (u->removed) {
				if (k == s->n_eps) {
					violation(s, "endpoint removal of a missing endpoint");
					continue;
				}
				free(s->eps[k].ns);
				free(s->eps[k].name);
				s->eps[k] = s->eps[--s->n_eps];
				continue;
			}
			if (k == s->n_eps) {
				GROW(s->eps, s->n_eps, s->cap_eps);
				s->eps[k].ns = strdup(u->ns);
				s->eps[k].name = strdup(u->name);
				s->n_eps++;
			}
			memcpy(s->eps[k].pol, u->pol, sizeof(u->pol));
			s->eps[k].identity = u->identity;
			s->eps[k].flags = u->flags;
		}
	}
	if (!phase || phase == 3) {
		for (size_t i = 0; i < d->peer_del.n; i++)
			DEL(s, peer, n_peer, d->peer_del.v[i], "peer del");
		for (size_t i = 0; i < d->cidr_del.n; i++)
			DEL(s, cidr, n_cidr, d->cidr_del.v[i], "cidr del");
		for (size_t i = 0; i < d->ports_del.n; i++)
			DEL(s, ports, n_ports, d->ports_del.v[i], "ports del");
	}
}

static const struct store_ep *get_ep(const struct store *s, const char *ns, const char *name)
{
	for (size_t k = 0; k < s->n_eps; k++)
		if (!strcmp(s->eps[k].ns, ns) && !strcmp(s->eps[k].name, name))
			return &s->eps[k];
	return NULL;
}

bool store_has_ep(const struct store *s, const char *ns, const char *name)
{
	return get_ep(s, ns, name);
}

/* Does the first `bits` bits of a equal those of b? */
static bool bits_eq(const void *a, const void *b, unsigned bits)
{
	const unsigned char *x = a, *y = b;
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(x, y, full))
		return false;
	return !rest || !((x[full] ^ y[full]) & (0xff00 >> rest));
}

/* LPM_TRIE semantics: the entry with the longest prefixlen whose prefix matches the key. The
 * key bytes after prefixlen are compared bitwise, exactly like the kernel's trie. */
static bool ports_lookup(const struct store *s, __u32 portset, int proto, int port)
{
	struct sl_ports_key k = {.prefixlen = SL_PORTS_PREFIX_FULL,
				 .portset = htonl(portset),
				 .proto = (__u8)proto,
				 .port = htons((__u16)port)};
	long best = -1;
	__u32 blen = 0;

	if (!portset)
		return false;
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct sl_ports_key *e = &s->ports[i].k;

		if (e->prefixlen > SL_PORTS_PREFIX_FULL)
			continue;
		if (bits_eq(&e->portset, &k.portset, e->prefixlen) &&
		    (best < 0 || e->prefixlen > blen)) {
			best = (long)i;
			blen = e->prefixlen;
		}
	}
	return best >= 0;
}

static __u32 cidr_lookup(const struct store *s, __u32 pol, int dir, const struct sl_addr *a)
{
	struct sl_cidr_key k = {
	    .prefixlen = SL_CIDR_PREFIX_BASE + 128, .pol = pol, .dir = (__u8)dir, .addr = *a};
	long best = -1;
	__u32 blen = 0;

	for (size_t i = 0; i < s->n_cidr; i++) {
		const struct sl_cidr_key *e = &s->cidr[i].k;

		if (bits_eq(&e->pol, &k.pol, e->prefixlen) && (best < 0 || e->prefixlen > blen)) {
			best = (long)i;
			blen = e->prefixlen;
		}
	}
	return best < 0 ? 0 : s->cidr[best].v.portset;
}

bool store_allows(const struct store *s, const char *ns, const char *name, int dir,
		  const struct sl_addr *a, int proto, int port)
{
	const struct store_ep *ep = get_ep(s, ns, name);
	struct sl_peer_key pk = {0};
	__u32 pol, id = SL_IDENTITY_WORLD, s1 = 0, s2;
	long i;

	if (!ep)
		return false; /* no endpoint: SL_DROP_NO_ENDPOINT */
	if (ep->flags & SL_EP_F_POLICY_INVALID)
		return false;
	pol = ep->pol[dir];
	if (!pol)
		return true;
	i = find(s->ident, s->n_ident, sizeof(*s->ident), a, sizeof(*a));
	if (i >= 0)
		id = s->ident[i].v.id;
	if (id == SL_IDENTITY_HOST)
		return true;
	pk.pol = pol;
	pk.identity = id;
	pk.dir = (__u8)dir;
	i = find(s->peer, s->n_peer, sizeof(*s->peer), &pk, sizeof(pk));
	if (i >= 0)
		s1 = s->peer[i].v.portset;
	s2 = cidr_lookup(s, pol, dir, a);
	return ports_lookup(s, s1, proto, port) || ports_lookup(s, s2, proto, port);
}

static int cmp_bytes(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

#define SAME_SET(x, y, arr, n, label)                                                        \
	do {                                                                                 \
		if ((x)->n != (y)->n) {                                                      \
			snprintf(why, len, "%s: %zu vs %zu entries", label, (x)->n, (y)->n); \
			return false;                                                        \
		}                                                                            \
		for (size_t i_ = 0; i_ < (x)->n; i_++) {                                     \
			long j_ = find((y)->arr, (y)->n, sizeof(*(y)->arr), &(x)->arr[i_],   \
				       sizeof(*(x)->arr));                                   \
			if (j_ < 0) {                                                        \
				snprintf(why, len, "%s: entry %zu missing", label, i_);      \
				return false;                                                \
			}                                                                    \
		}                                                                            \
	} while (0)

bool store_equal(const struct store *a, const struct store *b, char *why, size_t len)
{
	(void)cmp_bytes;
	SAME_SET(a, b, ident, n_ident, "sl_ident");
	SAME_SET(a, b, peer, n_peer, "sl_peer");
	SAME_SET(a, b, cidr, n_cidr, "sl_cidr");
	SAME_SET(a, b, ports, n_ports, "sl_ports");
	if (a->n_eps != b->n_eps) {
		snprintf(why, len, "endpoints: %zu vs %zu", a->n_eps, b->n_eps);
		return false;
	}
	for (size_t i = 0; i < a->n_eps; i++) {
		const struct store_ep *e = get_ep(b, a->eps[i].ns, a->eps[i].name);

		if (!e || memcmp(e->pol, a->eps[i].pol, sizeof(e->pol)) ||
		    e->identity != a->eps[i].identity || e->flags != a->eps[i].flags) {
			snprintf(why, len, "endpoint %s/%s differs", a->eps[i].ns, a->eps[i].name);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ reference evaluator */

static const char *label(const struct sl_labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].value;
	return NULL;
}

/* LabelSelector: "matchLabels is a map of {key,value} pairs ... equivalent to an element of
 * matchExpressions whose key field is key, the operator is In, and the values array contains
 * only value. The requirements are ANDed." NotIn matches objects without the key. */
static bool selects(const struct sl_selector *s, const struct sl_labels *l)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct sl_sel_req *r = &s->reqs[i];
		const char *v = label(l, r->key);
		bool in = false;

		for (size_t k = 0; v && k < r->n_values; k++)
			in |= !strcmp(r->values[k], v);
		switch (r->op) {
		case SL_SEL_IN:
			if (!in)
				return false;
			break;
		case SL_SEL_NOT_IN:
			if (in)
				return false;
			break;
		case SL_SEL_EXISTS:
			if (!v)
				return false;
			break;
		case SL_SEL_DOES_NOT_EXIST:
			if (v)
				return false;
			break;
		}
	}
	return true;
}

static bool is_v4(const struct sl_addr *a)
{
	static const unsigned char pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a->w, pfx, 12);
}

/* IPBlock: "a particular CIDR ... that is allowed"; except: "CIDRs that should not be included
 * within an IPBlock". An IPv4 CIDR matches IPv4 addresses, an IPv6 CIDR IPv6 ones. */
static bool in_prefix(const struct sl_prefix *p, const struct sl_addr *a)
{
	if (p->v6 == is_v4(a))
		return false;
	return bits_eq(a->w, p->addr.w, p->len);
}

bool ref_pod_live(const struct sl_pod *p)
{
	return p && !p->host_network && p->phase != SL_PHASE_SUCCEEDED &&
	       p->phase != SL_PHASE_FAILED;
}

static struct sl_labels ns_labels(const struct ref_model *m, const char *ns)
{
	static struct sl_label implied[1];
	static struct sl_labels l;

	for (size_t i = 0; i < m->n_nss; i++)
		if (!strcmp(m->nss[i]->name, ns))
			return m->nss[i]->labels;
	implied[0].key = "kubernetes.io/metadata.name";
	implied[0].value = (char *)ns;
	l.v = implied;
	l.n = 1;
	return l;
}

static bool peer_matches(const struct ref_model *m, const struct sl_netpol *np,
			 const struct sl_peer *pe, const struct sl_pod *peer,
			 const struct sl_addr *a)
{
	if (pe->kind == SL_PEER_IPBLOCK) {
		if (!in_prefix(&pe->cidr, a))
			return false;
		for (size_t i = 0; i < pe->n_except; i++)
			if (in_prefix(&pe->except[i], a))
				return false;
		return true;
	}
	/* podSelector/namespaceSelector select pods: "this selects particular Pods" */
	if (!ref_pod_live(peer))
		return false;
	if (pe->has_ns_sel) {
		struct sl_labels l = ns_labels(m, peer->ns);

		if (!selects(&pe->ns_sel, &l))
			return false;
	} else if (strcmp(peer->ns, np->ns)) {
		return false; /* podSelector alone: pods in the policy's own namespace */
	}
	return !pe->has_pod_sel || selects(&pe->pod_sel, &peer->labels);
}

/* NetworkPolicyPort: protocol, port (number or named port on the pod receiving the traffic),
 * endPort (range). Ports absent/empty: all ports (and protocols). */
static bool port_matches(const struct sl_rule *r, const struct sl_pod *target, int proto, int port)
{
	if (!r->n_ports)
		return true;
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct sl_port_spec *ps = &r->ports[i];

		if (ps->proto != proto)
			continue;
		if (!ps->has_port)
			return true;
		if (!ps->name) {
			if (port >= ps->port && port <= ps->end_port)
				return true;
			continue;
		}
		for (size_t k = 0; target && k < target->n_cports; k++)
			if (target->cports[k].name && !strcmp(target->cports[k].name, ps->name) &&
			    target->cports[k].proto == proto && target->cports[k].port == port)
				return true;
	}
	return false;
}

bool ref_allows(const struct ref_model *m, const struct sl_pod *x, int dir,
		const struct sl_pod *peer, const struct sl_addr *a, int proto, int port)
{
	bool isolated = false;

	for (size_t i = 0; i < m->n_pols; i++) {
		const struct sl_netpol *np = m->pols[i];

		if (strcmp(np->ns, x->ns) || !np->types[dir] || !selects(&np->pod_sel, &x->labels))
			continue;
		isolated = true; /* selected for this direction: only what some rule allows */
		for (size_t r = 0; np->valid && r < np->n_rules[dir]; r++) {
			const struct sl_rule *ru = &np->rules[dir][r];
			bool pm = !ru->n_peers;

			for (size_t k = 0; k < ru->n_peers && !pm; k++)
				pm = peer_matches(m, np, &ru->peers[k], peer, a);
			/* named ports: on the destination, i.e. x for ingress, the peer for egress
			 */
			if (pm && port_matches(ru, dir == SL_DIR_INGRESS ? x : peer, proto, port))
				return true;
		}
	}
	return !isolated;
}
