// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * compile.c - the NetworkPolicy compiler: keeps the model (pods, namespaces, policies, this
 * node) and, change by change, the map entries of sl_abi.h that enforce it on this node.
 *
 * Representation (see sl_abi.h, "Policy representation"), and why it scales:
 *
 * - Identity. Pods with equal (namespace, namespace labels, pod labels, named container ports)
 *   share one identity; sl_ident maps every live pod address in the cluster to it. Selectors
 *   only ever see these fields, so a selector matches whole identities. Named ports are in the
 *   key because an egress rule's named port resolves against the destination's ports; pods of
 *   one Deployment share them. Namespace labels are in the key so that a namespace relabel is
 *   "these pods change identity", never a change to a live identity's entries.
 *
 * - Policy set. Endpoints (live pods on this node) selected by the same policies in a
 *   direction share one policy set (sl_endpoint.pol[dir]): key = (direction, policy versions,
 *   and for ingress with named ports the endpoint's own named ports). Its entries:
 *   sl_peer[set, identity] for each identity some rule's selector peers match, and one LPM
 *   over every ipBlock/"all peers" prefix of its rules, flattened: each prefix's value is the
 *   union of all rules covering it minus their excepts (an except with nothing left is an
 *   entry with portset 0, shadowing the shorter prefix). An IPv6 block that would cover the
 *   v4-mapped range gets it as an implicit except, so families stay apart.
 *
 * - Portset. The (protocol, port prefix, rule) items one peer is allowed, content-addressed and
 *   shared by every set and peer that needs the same ones; ranges become <= 30 port prefixes.
 *
 * So a set holds (identities matched + prefixes) entries and its portsets (ports per rule):
 * sums, never the product peers x ports, and independent of how many pods an identity has.
 *
 * - Rules. Every rule of every policy gets a reference (sl_ports_val.rule), the reverse map to
 *   namespace/name, direction and index; a set knows its policies (for "default deny").
 *
 * Atomicity. The datapath applies a delta in three phases (sl_policy.h). The observable content
 * of a policy set id never changes: a set whose content changes gets a new id (policy update:
 * new policy version, so a new set key; egress ipBlock rules with named ports, whose per-pod
 * /128 entries follow pod addresses: rebuilt under a new id). The one in-place change is adding
 * or removing the entries of an identity that no address carries yet/any more: a new identity's
 * sl_peer entries go in in phase 1 before phase 2 points addresses at it, and a retired one's
 * leave in phase 3. Identity, set and portset ids are never reused.
 *
 * Incremental. Pod change: the pod's identity (new identity: evaluated against every set of
 * this node), its sl_ident entries, and if it is local its sets. Namespace relabel: its pods'
 * identities. Policy change: the sets of its namespace's local pods. Node change: host
 * addresses. entries.c turns what changed into the net delta. Invalid policies select pods (an
 * unreadable podSelector selects the whole namespace) and isolate them with no rules.
 *
 * Capacities. A set that would exceed max_set_entries or a map's capacity is failed closed
 * (no entries, SL_EP_F_POLICY_INVALID on its endpoints, an error) and retried at each take.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "entries.h"
#include "htab.h"
#include "sl_policy.h"

struct nsx {
	struct sl_hnode hn;
	char *name;
	struct sl_labels labels; /* the object's, or just kubernetes.io/metadata.name */
	bool known;
	struct sl_list pods, idents, pols;
	size_t refs; /* pods, identities and policies in it */
};

struct epval {
	bool present;
	__u32 pol[SL_DIR_MAX];
	__u32 identity;
	__u32 flags;
};

struct podx {
	struct sl_hnode hn;
	struct sl_list ns_node, local_node, dirty_node;
	char *ns_name, *name, *uid;
	struct sl_pod *pod; /* NULL: deleted, waiting for the take that reports it */
	struct nsx *ns;
	struct identx *id;
	struct setx *set[SL_DIR_MAX];
	bool in_local; /* on p->local: an endpoint now or at the last take */
	bool dirty;    /* on p->dirty: its endpoint value may have changed */
	struct epval emitted;
};

struct identx {
	struct sl_hnode hn, hid;
	struct sl_list ns_node, all_node;
	char *key;
	size_t klen;
	__u32 id;
	struct nsx *ns;
	struct sl_labels ns_labels, labels;
	struct sl_cport *cports; /* named ones only */
	size_t n_cports;
	size_t refs;
	uint64_t stamp;
};

struct polx {
	struct sl_hnode hn;
	struct sl_list ns_node;
	struct sl_netpol *np;
	struct nsx *ns;
	uint64_t serial;
	__u32 *rule_ref[SL_DIR_MAX];
	bool named[SL_DIR_MAX]; /* a rule of that direction has a named port */
	bool addr_dep;		/* an egress ipBlock rule with a named port */
	bool current;
	size_t refs; /* sets, +1 while current */
};

struct setx {
	struct sl_hnode hn, hid;
	struct sl_list all_node;
	char *key;
	size_t klen;
	int dir;
	struct polx **pols;
	size_t n_pols;
	struct sl_cport *ports; /* the endpoints' named ports (ingress with named ports) */
	size_t n_ports;
	__u32 id;
	size_t refs;
	bool overflow, addr_dep, all_named;
	SL_VEC(__u32) idents; /* identities it has sl_peer entries for (may hold stale ids) */
	SL_VEC(struct sl_cidr_key) cidrs;
	size_t n_peer;
	char *why;	    /* overflow message */
	uint64_t fail_dels; /* ents.dels when it failed: retried once entries have gone */
};

struct pitem {
	__u32 rule;
	__u16 port;
	__u8 proto;
	__u8 plen;
};

struct psx {
	struct sl_hnode hn, hid;
	struct sl_list zero_node; /* refs == 0: freed at the next take unless reused */
	__u32 id;
	size_t refs;
	struct pitem *items;
	size_t n;
};

struct addrx {
	struct sl_hnode hn;
	struct sl_addr a;
	bool host;
	bool overflow;
	SL_VEC(struct podx *) owners; /* the last claim wins */
};

struct rule_slot {
	struct polx *pol;
	int dir, idx;
};

typedef SL_VEC(struct pitem) pitem_vec;

struct sl_policy {
	struct sl_policy_config cfg;
	struct ents ents;
	struct sl_htab pods, nss, idents, idents_id, pols, sets, sets_id, portsets, portsets_id,
	    addrs;
	struct sl_list all_idents, all_sets, local, dirty, zero_portsets;
	__u32 next_ident, next_set, next_portset;
	uint64_t next_serial, stamp;
	struct rule_slot *rules;
	__u32 rule_hint;
	size_t rule_exhausted;
	struct sl_node *self;
	size_t ident_overflows, n_addr_dep;
	uint64_t ident_retry_dels;
	SL_VEC(char *) errs;
	pitem_vec tmp;
	int oom;
};

/* ---------------------------------------------------------------- helpers */

static uint64_t str_hash(const char *s)
{
	return sl_hash(s, strlen(s), 7);
}

static uint64_t pair_hash(const char *a, const char *b)
{
	return sl_hash(b, strlen(b), str_hash(a));
}

typedef SL_VEC(char) strbuf;

static void sb_put(struct sl_policy *p, strbuf *b, const void *s, size_t n)
{
	while (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		char *nv = realloc(b->v, nc);

		if (!nv) {
			p->oom = 1;
			return;
		}
		b->v = nv;
		b->cap = nc;
	}
	memcpy(b->v + b->n, s, n);
	b->n += n;
}

static void sb_str(struct sl_policy *p, strbuf *b, const char *s)
{
	sb_put(p, b, s, strlen(s) + 1);
}

static int cport_cmp(const void *a, const void *b)
{
	const struct sl_cport *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->proto != y->proto ? x->proto - y->proto : x->port - y->port;
}

/* The pod's named ports, sorted; *n set. NULL with *n == 0 if none (or no memory: p->oom). */
static struct sl_cport *named_ports(struct sl_policy *p, const struct sl_pod *pod, size_t *n)
{
	struct sl_cport *v;
	size_t k = 0;

	*n = 0;
	for (size_t i = 0; i < pod->n_cports; i++)
		k += pod->cports[i].name != NULL;
	if (!k)
		return NULL;
	v = calloc(k, sizeof(*v));
	if (!v) {
		p->oom = 1;
		return NULL;
	}
	for (size_t i = 0; i < pod->n_cports; i++)
		if (pod->cports[i].name) {
			v[*n] = pod->cports[i];
			v[*n].name = strdup(pod->cports[i].name);
			if (!v[(*n)++].name)
				p->oom = 1;
		}
	qsort(v, *n, sizeof(*v), cport_cmp);
	return v;
}

static void sb_ports(struct sl_policy *p, strbuf *b, const struct sl_cport *v, size_t n)
{
	char num[16];

	for (size_t i = 0; i < n; i++) {
		sb_str(p, b, v[i].name);
		snprintf(num, sizeof(num), "%u/%u", v[i].proto, v[i].port);
		sb_str(p, b, num);
	}
}

static void free_ports(struct sl_cport *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

static bool pod_live(const struct sl_pod *pod)
{
	return pod && !pod->host_network && pod->phase != SL_PHASE_SUCCEEDED &&
	       pod->phase != SL_PHASE_FAILED;
}

static bool pod_local(const struct sl_policy *p, const struct sl_pod *pod)
{
	return pod_live(pod) && pod->node && p->cfg.node && !strcmp(pod->node, p->cfg.node);
}

static void mark_dirty(struct sl_policy *p, struct podx *x)
{
	if (x->in_local && !x->dirty) {
		x->dirty = true;
		sl_list_add(&p->dirty, &x->dirty_node);
	}
}

/* ---------------------------------------------------------------- namespaces */

static struct nsx *ns_find(const struct sl_policy *p, const char *name)
{
	uint64_t h = str_hash(name);
	struct sl_hnode *n;

	for (n = sl_htab_first(&p->nss, h); n; n = sl_htab_next(n, h)) {
		struct nsx *x = container_of(n, struct nsx, hn);

		if (!strcmp(x->name, name))
			return x;
	}
	return NULL;
}

static int implied_labels(struct sl_labels *l, const char *name)
{
	l->v = calloc(1, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	l->v[0].key = strdup("kubernetes.io/metadata.name");
	l->v[0].value = strdup(name);
	l->n = 1;
	if (!l->v[0].key || !l->v[0].value)
		return -ENOMEM;
	return 0;
}

static struct nsx *ns_get(struct sl_policy *p, const char *name)
{
	struct nsx *x = ns_find(p, name);

	if (x)
		return x;
	x = calloc(1, sizeof(*x));
	if (!x || !(x->name = strdup(name)) || implied_labels(&x->labels, name) ||
	    sl_htab_add(&p->nss, &x->hn, str_hash(name))) {
		if (x) {
			free(x->name);
			sl_labels_free(&x->labels);
		}
		free(x);
		p->oom = 1;
		return NULL;
	}
	sl_list_init(&x->pods);
	sl_list_init(&x->idents);
	sl_list_init(&x->pols);
	return x;
}

static void ns_put(struct sl_policy *p, struct nsx *x)
{
	if (x->refs || x->known)
		return;
	sl_htab_del(&p->nss, &x->hn);
	free(x->name);
	sl_labels_free(&x->labels);
	free(x);
}

/* ---------------------------------------------------------------- portsets */

static int pitem_cmp(const void *a, const void *b)
{
	const struct pitem *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen - y->plen;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->port != y->port)
		return x->port - y->port;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Which of two rules allowing the same item a portset names: the first by (namespace, name,
 * direction, index), so that the choice does not depend on the order rules were numbered. */
static bool rule_before(const struct sl_policy *p, __u32 a, __u32 b)
{
	const struct rule_slot *x = &p->rules[a], *y = &p->rules[b];
	int c;

	if (!a || !b || !x->pol || !y->pol)
		return a > b;
	c = strcmp(x->pol->np->ns, y->pol->np->ns);
	if (!c)
		c = strcmp(x->pol->np->name, y->pol->np->name);
	if (!c)
		c = x->dir != y->dir ? x->dir - y->dir : x->idx - y->idx;
	return c < 0;
}

/* Sort by (plen, proto, port); of equal ones keep one rule (rule_before). */
static void canon_items(const struct sl_policy *p, pitem_vec *v)
{
	size_t k = 0;

	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), pitem_cmp);
	for (size_t i = 0; i < v->n; i++) {
		struct pitem *last = k ? &v->v[k - 1] : NULL;

		if (last && last->plen == v->v[i].plen && last->proto == v->v[i].proto &&
		    last->port == v->v[i].port) {
			if (rule_before(p, v->v[i].rule, last->rule))
				last->rule = v->v[i].rule;
			continue;
		}
		v->v[k++] = v->v[i];
	}
	v->n = k;
}

static struct sl_ports_key ports_key(__u32 ps, const struct pitem *it)
{
	struct sl_ports_key k = {0};

	k.prefixlen = it->plen;
	k.portset = htonl(ps);
	k.proto = it->proto;
	k.port = htons(it->port);
	return k;
}

static struct psx *ps_find_id(const struct sl_policy *p, __u32 id)
{
	uint64_t h = sl_hash_u64(id);
	struct sl_hnode *n;

	for (n = sl_htab_first(&p->portsets_id, h); n; n = sl_htab_next(n, h)) {
		struct psx *x = container_of(n, struct psx, hid);

		if (x->id == id)
			return x;
	}
	return NULL;
}

/* A reference to the portset of these (canonical) items; 0 if there are none. */
static __u32 ps_get(struct sl_policy *p, const pitem_vec *v)
{
	uint64_t h;
	struct sl_hnode *n;
	struct psx *x;

	if (!v->n)
		return 0;
	h = sl_hash(v->v, v->n * sizeof(*v->v), 3);
	for (n = sl_htab_first(&p->portsets, h); n; n = sl_htab_next(n, h)) {
		x = container_of(n, struct psx, hn);
		if (x->n == v->n && !memcmp(x->items, v->v, v->n * sizeof(*v->v))) {
			if (!x->refs++)
				sl_list_del(&x->zero_node);
			return x->id;
		}
	}
	x = calloc(1, sizeof(*x));
	if (!x || !(x->items = malloc(v->n * sizeof(*v->v)))) {
		free(x);
		p->oom = 1;
		return 0;
	}
	memcpy(x->items, v->v, v->n * sizeof(*v->v));
	x->n = v->n;
	x->id = p->next_portset++;
	x->refs = 1;
	sl_list_init(&x->zero_node);
	if (sl_htab_add(&p->portsets, &x->hn, h) ||
	    sl_htab_add(&p->portsets_id, &x->hid, sl_hash_u64(x->id)))
		p->oom = 1;
	for (size_t i = 0; i < x->n; i++) {
		struct sl_ports_key k = ports_key(x->id, &x->items[i]);
		struct sl_ports_val val = {.rule = x->items[i].rule};

		if (ents_set(&p->ents, ENT_PORTS, &k, &val))
			p->oom = 1;
	}
	return x->id;
}

static void ps_put(struct sl_policy *p, __u32 id)
{
	struct psx *x = id ? ps_find_id(p, id) : NULL;

	if (x && !--x->refs)
		sl_list_add(&p->zero_portsets, &x->zero_node);
}

static void ps_free_zero(struct sl_policy *p)
{
	struct sl_list *pos, *tmp;

	sl_list_for_each_safe(pos, tmp, &p->zero_portsets)
	{
		struct psx *x = container_of(pos, struct psx, zero_node);

		for (size_t i = 0; i < x->n; i++) {
			struct sl_ports_key k = ports_key(x->id, &x->items[i]);

			ents_del(&p->ents, ENT_PORTS, &k);
		}
		sl_list_del(&x->zero_node);
		sl_htab_del(&p->portsets, &x->hn);
		sl_htab_del(&p->portsets_id, &x->hid);
		free(x->items);
		free(x);
	}
}

/* ---------------------------------------------------------------- rule ports */

static void push_item(struct sl_policy *p, pitem_vec *v, struct pitem it)
{
	if (VEC_PUSH(*v, it))
		p->oom = 1;
}

static void add_range(struct sl_policy *p, pitem_vec *v, __u8 proto, __u32 lo, __u32 hi, __u32 rule)
{
	while (lo <= hi) {
		unsigned k = 0;

		while (k < 16 && !(lo & ((1u << (k + 1)) - 1)) && lo + (1u << (k + 1)) - 1 <= hi)
			k++;
		push_item(p, v,
			  (struct pitem){.rule = rule,
					 .port = (__u16)lo,
					 .proto = proto,
					 .plen = (__u8)(SL_PORTS_PREFIX_FULL - k)});
		lo += 1u << k;
	}
}

/* The items rule r allows, named ports resolved against cports (none: they match nothing). */
static void rule_items(struct sl_policy *p, pitem_vec *v, const struct sl_rule *r, __u32 rule,
		       const struct sl_cport *cports, size_t n_cports)
{
	if (!r->n_ports) {
		push_item(p, v, (struct pitem){.rule = rule, .plen = SL_PORTS_PREFIX_PORTSET});
		return;
	}
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct sl_port_spec *ps = &r->ports[i];

		if (!ps->has_port) {
			push_item(p, v,
				  (struct pitem){.rule = rule,
						 .proto = ps->proto,
						 .plen = SL_PORTS_PREFIX_PROTO});
		} else if (ps->name) {
			for (size_t k = 0; k < n_cports; k++)
				if (!strcmp(cports[k].name, ps->name) &&
				    cports[k].proto == ps->proto)
					add_range(p, v, ps->proto, cports[k].port, cports[k].port,
						  rule);
		} else {
			add_range(p, v, ps->proto, ps->port, ps->end_port, rule);
		}
	}
}

static bool rule_named(const struct sl_rule *r)
{
	for (size_t i = 0; i < r->n_ports; i++)
		if (r->ports[i].name)
			return true;
	return false;
}

/* ---------------------------------------------------------------- identities */

static struct identx *ident_find_id(const struct sl_policy *p, __u32 id)
{
	uint64_t h = sl_hash_u64(id);
	struct sl_hnode *n;

	for (n = sl_htab_first(&p->idents_id, h); n; n = sl_htab_next(n, h)) {
		struct identx *x = container_of(n, struct identx, hid);

		if (x->id == id)
			return x;
	}
	return NULL;
}

static bool peer_matches(const struct polx *pol, const struct sl_peer *pe, const struct identx *id)
{
	if (pe->kind != SL_PEER_SELECTOR)
		return false;
	if (pe->has_ns_sel ? !sl_selector_matches(&pe->ns_sel, &id->ns_labels) : id->ns != pol->ns)
		return false;
	return !pe->has_pod_sel || sl_selector_matches(&pe->pod_sel, &id->labels);
}

/* The items set s allows peer identity id through sl_peer (canonical, in p->tmp). */
static void ident_items(struct sl_policy *p, const struct setx *s, const struct identx *id)
{
	p->tmp.n = 0;
	for (size_t i = 0; i < s->n_pols; i++) {
		const struct polx *pol = s->pols[i];
		const struct sl_netpol *np = pol->np;

		for (size_t r = 0; r < np->n_rules[s->dir]; r++) {
			const struct sl_rule *ru = &np->rules[s->dir][r];
			bool match = !ru->n_peers && s->dir == SL_DIR_EGRESS && rule_named(ru);

			for (size_t k = 0; k < ru->n_peers && !match; k++)
				match = peer_matches(pol, &ru->peers[k], id);
			if (!match)
				continue;
			if (s->dir == SL_DIR_EGRESS)
				rule_items(p, &p->tmp, ru, pol->rule_ref[s->dir][r], id->cports,
					   id->n_cports);
			else
				rule_items(p, &p->tmp, ru, pol->rule_ref[s->dir][r], s->ports,
					   s->n_ports);
		}
	}
	canon_items(p, &p->tmp);
}

static void set_fail(struct sl_policy *p, struct setx *s, const char *map, size_t need,
		     size_t room);
static void set_touch(struct sl_policy *p, const struct setx *s);

static struct sl_peer_key peer_key(const struct setx *s, __u32 ident)
{
	struct sl_peer_key k = {0};

	k.pol = s->id;
	k.identity = ident;
	k.dir = (__u8)s->dir;
	return k;
}

static void set_add_ident(struct sl_policy *p, struct setx *s, const struct identx *id)
{
	struct sl_peer_key k;
	struct sl_portset_ref v = {0};

	if (s->overflow)
		return;
	ident_items(p, s, id);
	if (!p->tmp.n)
		return;
	if (p->ents.count[ENT_PEER] >= p->cfg.max_peer) {
		set_fail(p, s, "sl_peer", p->ents.count[ENT_PEER] + 1, p->cfg.max_peer);
		return;
	}
	if (p->cfg.max_set_entries && s->n_peer + s->cidrs.n >= p->cfg.max_set_entries) {
		set_fail(p, s, "set", s->n_peer + s->cidrs.n + 1, p->cfg.max_set_entries);
		return;
	}
	if (p->ents.count[ENT_PORTS] + p->tmp.n > p->cfg.max_ports) {
		set_fail(p, s, "sl_ports", p->ents.count[ENT_PORTS] + p->tmp.n, p->cfg.max_ports);
		return;
	}
	k = peer_key(s, id->id);
	if (ents_get(&p->ents, ENT_PEER, &k))
		return;
	v.portset = ps_get(p, &p->tmp);
	if (ents_set(&p->ents, ENT_PEER, &k, &v) || VEC_PUSH(s->idents, id->id))
		p->oom = 1;
	s->n_peer++;
}

static void set_del_ident(struct sl_policy *p, struct setx *s, __u32 ident)
{
	struct sl_peer_key k = peer_key(s, ident);
	const struct sl_portset_ref *v = ents_get(&p->ents, ENT_PEER, &k);

	if (!v)
		return;
	ps_put(p, v->portset);
	ents_del(&p->ents, ENT_PEER, &k);
	s->n_peer--;
}

static struct identx *ident_get(struct sl_policy *p, const struct sl_pod *pod, struct nsx *ns)
{
	strbuf b = {0};
	struct sl_cport *cp;
	struct identx *x = NULL;
	struct sl_hnode *n;
	struct sl_list *pos, *tmp;
	size_t ncp;
	uint64_t h;

	cp = named_ports(p, pod, &ncp);
	sb_str(p, &b, ns->name);
	for (size_t i = 0; i < ns->labels.n; i++) {
		sb_str(p, &b, ns->labels.v[i].key);
		sb_str(p, &b, ns->labels.v[i].value);
	}
	sb_put(p, &b, "\1", 1);
	for (size_t i = 0; i < pod->labels.n; i++) {
		sb_str(p, &b, pod->labels.v[i].key);
		sb_str(p, &b, pod->labels.v[i].value);
	}
	sb_put(p, &b, "\1", 1);
	sb_ports(p, &b, cp, ncp);
	if (p->oom)
		goto out;
	h = sl_hash(b.v, b.n, 11);
	for (n = sl_htab_first(&p->idents, h); n; n = sl_htab_next(n, h)) {
		x = container_of(n, struct identx, hn);
		if (x->klen == b.n && !memcmp(x->key, b.v, b.n)) {
			x->refs++;
			goto out;
		}
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		p->oom = 1;
		goto out;
	}
	x->key = b.v;
	x->klen = b.n;
	b.v = NULL;
	x->id = p->next_ident++;
	x->ns = ns;
	x->refs = 1;
	x->cports = cp;
	x->n_cports = ncp;
	cp = NULL;
	if (sl_labels_copy(&x->ns_labels, &ns->labels) ||
	    sl_labels_copy(&x->labels, &pod->labels) || sl_htab_add(&p->idents, &x->hn, h) ||
	    sl_htab_add(&p->idents_id, &x->hid, sl_hash_u64(x->id)))
		p->oom = 1;
	sl_list_add(&ns->idents, &x->ns_node);
	sl_list_add(&p->all_idents, &x->all_node);
	ns->refs++;
	/* A new identity: its entries in every set of this node, before any address has it. */
	sl_list_for_each_safe(pos, tmp, &p->all_sets)
	{
		set_add_ident(p, container_of(pos, struct setx, all_node), x);
	}
out:
	free(b.v);
	free_ports(cp, ncp);
	return x;
}

static void ident_put(struct sl_policy *p, struct identx *x)
{
	struct sl_list *pos, *tmp;

	if (!x || --x->refs)
		return;
	sl_list_for_each_safe(pos, tmp, &p->all_sets)
	{
		set_del_ident(p, container_of(pos, struct setx, all_node), x->id);
	}
	sl_htab_del(&p->idents, &x->hn);
	sl_htab_del(&p->idents_id, &x->hid);
	sl_list_del(&x->ns_node);
	sl_list_del(&x->all_node);
	x->ns->refs--;
	ns_put(p, x->ns);
	free(x->key);
	sl_labels_free(&x->ns_labels);
	sl_labels_free(&x->labels);
	free_ports(x->cports, x->n_cports);
	free(x);
}

/* ---------------------------------------------------------------- addresses */

static struct addrx *addr_find(const struct sl_policy *p, const struct sl_addr *a, uint64_t h)
{
	struct sl_hnode *n;

	for (n = sl_htab_first(&p->addrs, h); n; n = sl_htab_next(n, h)) {
		struct addrx *x = container_of(n, struct addrx, hn);

		if (!memcmp(&x->a, a, sizeof(*a)))
			return x;
	}
	return NULL;
}

static void addr_update(struct sl_policy *p, struct addrx *x)
{
	struct sl_ident_val v = {0};

	if (x->host)
		v.id = SL_IDENTITY_HOST;
	else if (x->owners.n && x->owners.v[x->owners.n - 1]->id)
		v.id = x->owners.v[x->owners.n - 1]->id->id;
	if (!v.id) {
		ents_del(&p->ents, ENT_IDENT, &x->a);
		if (x->overflow)
			p->ident_overflows--;
		x->overflow = false;
		if (!x->owners.n) {
			sl_htab_del(&p->addrs, &x->hn);
			free(x->owners.v);
			free(x);
		}
		return;
	}
	if (!ents_get(&p->ents, ENT_IDENT, &x->a) && p->ents.count[ENT_IDENT] >= p->cfg.max_ident) {
		if (!x->overflow)
			p->ident_overflows++;
		x->overflow = true; /* treated as world: only ipBlock rules can match it */
		return;
	}
	if (x->overflow)
		p->ident_overflows--;
	x->overflow = false;
	if (ents_set(&p->ents, ENT_IDENT, &x->a, &v))
		p->oom = 1;
}

/* owner NULL: this node's own address (host). */
static void addr_claim(struct sl_policy *p, const struct sl_addr *a, struct podx *owner)
{
	uint64_t h = sl_hash(a, sizeof(*a), 5);
	struct addrx *x = addr_find(p, a, h);

	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x || sl_htab_add(&p->addrs, &x->hn, h)) {
			free(x);
			p->oom = 1;
			return;
		}
		x->a = *a;
	}
	if (!owner)
		x->host = true;
	else if (VEC_PUSH(x->owners, owner))
		p->oom = 1;
	addr_update(p, x);
}

static void addr_release(struct sl_policy *p, const struct sl_addr *a, struct podx *owner)
{
	struct addrx *x = addr_find(p, a, sl_hash(a, sizeof(*a), 5));

	if (!x)
		return;
	if (!owner) {
		x->host = false;
	} else {
		for (size_t i = x->owners.n; i-- > 0;) {
			if (x->owners.v[i] == owner) {
				memmove(&x->owners.v[i], &x->owners.v[i + 1],
					(x->owners.n - i - 1) * sizeof(owner));
				x->owners.n--;
				break;
			}
		}
	}
	addr_update(p, x);
}

/* ---------------------------------------------------------------- policy sets */

struct crule {
	const struct sl_rule *r;
	__u32 ref;
	struct sl_prefix cidr;
	const struct sl_prefix *except;
	size_t n_except;
	bool v4x;     /* IPv6 block covering the v4-mapped range: that range is excepted */
	bool ipblock; /* else "every peer": its named ports reach pods through sl_peer */
};

struct cprefix {
	struct sl_prefix pfx;
	const struct podx *host; /* a /128 of this pod's address (egress named ports) */
};

typedef SL_VEC(struct crule) crule_vec;
typedef SL_VEC(struct cprefix) cprefix_vec;

/* ::ffff:0:0/96, the IPv4 addresses */
static struct sl_prefix v4mapped;

static void init_v4mapped(void)
{
	if (!v4mapped.len)
		sl_prefix_parse("0.0.0.0/0", &v4mapped);
}

static bool same_prefix(const struct cprefix *x, const struct cprefix *y)
{
	return x->pfx.len == y->pfx.len && !memcmp(&x->pfx.addr, &y->pfx.addr, sizeof(x->pfx.addr));
}

/* By prefix; of equal ones a pod's /128 first: it is the one kept (named ports resolve). */
static int cprefix_cmp(const void *a, const void *b)
{
	const struct cprefix *x = a, *y = b;
	int c = memcmp(&x->pfx.addr, &y->pfx.addr, sizeof(x->pfx.addr));

	if (c)
		return c;
	if (x->pfx.len != y->pfx.len)
		return x->pfx.len - y->pfx.len;
	return !x->host - !y->host;
}

static bool crule_covers(const struct crule *c, const struct sl_prefix *pf)
{
	if (!sl_prefix_contains(&c->cidr, pf))
		return false;
	if (c->v4x && sl_prefix_contains(&v4mapped, pf))
		return false;
	for (size_t i = 0; i < c->n_except; i++)
		if (sl_prefix_contains(&c->except[i], pf))
			return false;
	return true;
}

static void set_clear(struct sl_policy *p, struct setx *s);

static void set_add_cidr(struct sl_policy *p, struct setx *s, const struct sl_prefix *pf, __u32 ps)
{
	struct sl_cidr_key k = {0};
	struct sl_portset_ref v = {.portset = ps};

	k.prefixlen = SL_CIDR_PREFIX_BASE + pf->len;
	k.pol = s->id;
	k.dir = (__u8)s->dir;
	k.addr = pf->addr;
	if (ents_set(&p->ents, ENT_CIDR, &k, &v) || VEC_PUSH(s->cidrs, k))
		p->oom = 1;
}

static void set_build_cidr(struct sl_policy *p, struct setx *s)
{
	crule_vec cr = {0};
	cprefix_vec pf = {0};
	bool named = false;

	for (size_t i = 0; i < s->n_pols; i++) {
		const struct polx *pol = s->pols[i];

		for (size_t r = 0; r < pol->np->n_rules[s->dir]; r++) {
			const struct sl_rule *ru = &pol->np->rules[s->dir][r];
			struct crule c = {.r = ru, .ref = pol->rule_ref[s->dir][r]};

			if (!ru->n_peers && VEC_PUSH(cr, c))
				p->oom = 1;
			for (size_t k = 0; k < ru->n_peers; k++) {
				const struct sl_peer *pe = &ru->peers[k];

				if (pe->kind != SL_PEER_IPBLOCK)
					continue;
				/* an IPv6 block inside ::ffff:0:0/96 is no IPv6 address at all */
				if (pe->cidr.v6 && sl_prefix_contains(&v4mapped, &pe->cidr))
					continue;
				c.cidr = pe->cidr;
				c.except = pe->except;
				c.n_except = pe->n_except;
				c.v4x = pe->cidr.v6 && sl_prefix_contains(&pe->cidr, &v4mapped);
				c.ipblock = true;
				named |= s->dir == SL_DIR_EGRESS && rule_named(ru);
				if (VEC_PUSH(cr, c))
					p->oom = 1;
			}
		}
	}
	for (size_t i = 0; i < cr.n; i++) {
		if (VEC_PUSH(pf, ((struct cprefix){.pfx = cr.v[i].cidr})))
			p->oom = 1;
		for (size_t k = 0; k < cr.v[i].n_except; k++)
			if (VEC_PUSH(pf, ((struct cprefix){.pfx = cr.v[i].except[k]})))
				p->oom = 1;
		if (cr.v[i].v4x && VEC_PUSH(pf, ((struct cprefix){.pfx = v4mapped})))
			p->oom = 1;
	}
	if (named) {
		/* Egress ipBlock rules with named ports: every live pod address they cover gets a
		 * /128 of its own, where the named ports resolve against that pod's ports. */
		struct sl_hnode *n;
		size_t b;

		sl_htab_for_each(&p->addrs, b, n)
		{
			struct addrx *a = container_of(n, struct addrx, hn);
			struct cprefix c = {.pfx = {.addr = a->a, .len = 128}};

			if (a->host || !a->owners.n || a->overflow)
				continue;
			c.host = a->owners.v[a->owners.n - 1];
			for (size_t i = 0; i < cr.n; i++) {
				if (cr.v[i].ipblock && rule_named(cr.v[i].r) &&
				    crule_covers(&cr.v[i], &c.pfx)) {
					if (VEC_PUSH(pf, c))
						p->oom = 1;
					break;
				}
			}
		}
	}
	if (pf.n > 1)
		qsort(pf.v, pf.n, sizeof(*pf.v), cprefix_cmp);
	for (size_t i = 0; i < pf.n && !s->overflow && !p->oom; i++) {
		const struct cprefix *c = &pf.v[i];
		struct sl_cport *hp = NULL;
		size_t nhp = 0;

		if (i && same_prefix(&pf.v[i - 1], c))
			continue;
		if (p->ents.count[ENT_CIDR] >= p->cfg.max_cidr) {
			set_fail(p, s, "sl_cidr", p->ents.count[ENT_CIDR] + 1, p->cfg.max_cidr);
			break;
		}
		if (p->cfg.max_set_entries && s->cidrs.n >= p->cfg.max_set_entries) {
			set_fail(p, s, "set", s->cidrs.n + 1, p->cfg.max_set_entries);
			break;
		}
		if (c->host)
			hp = named_ports(p, c->host->pod, &nhp);
		p->tmp.n = 0;
		for (size_t k = 0; k < cr.n; k++) {
			if (!crule_covers(&cr.v[k], &c->pfx))
				continue;
			if (s->dir == SL_DIR_INGRESS)
				rule_items(p, &p->tmp, cr.v[k].r, cr.v[k].ref, s->ports,
					   s->n_ports);
			else
				rule_items(p, &p->tmp, cr.v[k].r, cr.v[k].ref, hp, nhp);
		}
		free_ports(hp, nhp);
		canon_items(p, &p->tmp);
		if (p->ents.count[ENT_PORTS] + p->tmp.n > p->cfg.max_ports) {
			set_fail(p, s, "sl_ports", p->ents.count[ENT_PORTS] + p->tmp.n,
				 p->cfg.max_ports);
			break;
		}
		set_add_cidr(p, s, &c->pfx, ps_get(p, &p->tmp));
	}
	free(cr.v);
	free(pf.v);
}

static void set_build(struct sl_policy *p, struct setx *s)
{
	struct sl_list *pos, *tmp;
	uint64_t stamp = ++p->stamp;

	s->id = p->next_set++;
	s->overflow = false;
	free(s->why);
	s->why = NULL;
	if (sl_htab_add(&p->sets_id, &s->hid, sl_hash_u64(s->id)))
		p->oom = 1;
	set_build_cidr(p, s);
	if (s->all_named) {
		sl_list_for_each_safe(pos, tmp, &p->all_idents)
		{
			set_add_ident(p, s, container_of(pos, struct identx, all_node));
		}
	}
	for (size_t i = 0; i < s->n_pols && !s->all_named; i++) {
		const struct polx *pol = s->pols[i];

		for (size_t r = 0; r < pol->np->n_rules[s->dir]; r++) {
			const struct sl_rule *ru = &pol->np->rules[s->dir][r];

			for (size_t k = 0; k < ru->n_peers; k++) {
				const struct sl_peer *pe = &ru->peers[k];
				struct sl_hnode *n;
				size_t b;

				if (pe->kind != SL_PEER_SELECTOR)
					continue;
				sl_htab_for_each(&p->nss, b, n)
				{
					struct nsx *ns = container_of(n, struct nsx, hn);
					struct sl_list *q, *qt;

					if (pe->has_ns_sel
						? !sl_selector_matches(&pe->ns_sel, &ns->labels)
						: ns != pol->ns)
						continue;
					sl_list_for_each_safe(q, qt, &ns->idents)
					{
						struct identx *id =
						    container_of(q, struct identx, ns_node);

						if (id->stamp == stamp ||
						    !peer_matches(pol, pe, id))
							continue;
						id->stamp = stamp;
						set_add_ident(p, s, id);
					}
				}
			}
		}
	}
	if (s->overflow)
		set_clear(p, s);
}

/* Remove every entry of s and its id (it gets a new one when built again). */
static void set_clear(struct sl_policy *p, struct setx *s)
{
	for (size_t i = 0; i < s->idents.n; i++)
		set_del_ident(p, s, s->idents.v[i]);
	s->idents.n = 0;
	s->n_peer = 0;
	for (size_t i = 0; i < s->cidrs.n; i++) {
		const struct sl_portset_ref *v = ents_get(&p->ents, ENT_CIDR, &s->cidrs.v[i]);

		if (v) {
			ps_put(p, v->portset);
			ents_del(&p->ents, ENT_CIDR, &s->cidrs.v[i]);
		}
	}
	s->cidrs.n = 0;
}

static void set_fail(struct sl_policy *p, struct setx *s, const char *map, size_t need, size_t room)
{
	char buf[200];

	if (s->overflow)
		return;
	s->overflow = true;
	snprintf(buf, sizeof(buf), "%s policy needs at least %zu %s entries, room for %zu",
		 s->dir == SL_DIR_INGRESS ? "ingress" : "egress", need, map, room);
	free(s->why);
	s->why = strdup(buf);
	set_clear(p, s); /* never a partial policy */
	s->fail_dels = p->ents.dels;
	set_touch(p, s);
}

/* The endpoints of s (all in its policies' namespace) have new values. */
static void set_touch(struct sl_policy *p, const struct setx *s)
{
	struct sl_list *pos, *tmp;

	sl_list_for_each_safe(pos, tmp, &s->pols[0]->ns->pods)
	{
		struct podx *x = container_of(pos, struct podx, ns_node);

		if (x->set[0] == s || x->set[1] == s)
			mark_dirty(p, x);
	}
}

/* Build s again under a new id: for content that changes (overflow retry, per-pod /128s). */
static void set_rebuild(struct sl_policy *p, struct setx *s)
{
	struct setx old = *s; /* its id, idents and cidrs: the entries to remove */

	memset(&s->idents, 0, sizeof(s->idents));
	memset(&s->cidrs, 0, sizeof(s->cidrs));
	s->n_peer = 0;
	s->why = NULL;
	sl_htab_del(&p->sets_id, &s->hid);
	set_build(p, s); /* new entries first: shared portsets stay alive */
	set_clear(p, &old);
	set_touch(p, s);
	free(old.idents.v);
	free(old.cidrs.v);
	free(old.why);
}

static int polx_serial_cmp(const void *a, const void *b)
{
	const struct polx *x = *(struct polx *const *)a, *y = *(struct polx *const *)b;

	return x->serial < y->serial ? -1 : x->serial > y->serial;
}

static void polx_put(struct sl_policy *p, struct polx *x);

static struct setx *set_get(struct sl_policy *p, int dir, struct polx **pols, size_t n,
			    const struct sl_pod *pod)
{
	struct sl_cport *cp = NULL;
	size_t ncp = 0;
	bool need_ports = false;
	strbuf b = {0};
	char num[32];
	struct setx *s = NULL;
	struct sl_hnode *hn;
	uint64_t h;

	qsort(pols, n, sizeof(*pols), polx_serial_cmp);
	snprintf(num, sizeof(num), "%d", dir);
	sb_str(p, &b, num);
	for (size_t i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)pols[i]->serial);
		sb_str(p, &b, num);
		need_ports |= dir == SL_DIR_INGRESS && pols[i]->named[dir];
	}
	if (need_ports) {
		cp = named_ports(p, pod, &ncp);
		sb_put(p, &b, "\1", 1);
		sb_ports(p, &b, cp, ncp);
	}
	if (p->oom)
		goto out;
	h = sl_hash(b.v, b.n, 13);
	for (hn = sl_htab_first(&p->sets, h); hn; hn = sl_htab_next(hn, h)) {
		s = container_of(hn, struct setx, hn);
		if (s->klen == b.n && !memcmp(s->key, b.v, b.n)) {
			s->refs++;
			goto out;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->pols = calloc(n, sizeof(*pols)))) {
		free(s);
		s = NULL;
		p->oom = 1;
		goto out;
	}
	s->key = b.v;
	s->klen = b.n;
	b.v = NULL;
	s->dir = dir;
	s->refs = 1;
	s->ports = cp;
	s->n_ports = ncp;
	cp = NULL;
	s->n_pols = n;
	for (size_t i = 0; i < n; i++) {
		const struct sl_netpol *np = pols[i]->np;

		s->pols[i] = pols[i];
		pols[i]->refs++;
		s->addr_dep |= dir == SL_DIR_EGRESS && pols[i]->addr_dep;
		for (size_t r = 0; dir == SL_DIR_EGRESS && r < np->n_rules[dir]; r++)
			s->all_named |=
			    !np->rules[dir][r].n_peers && rule_named(&np->rules[dir][r]);
	}
	p->n_addr_dep += s->addr_dep;
	if (sl_htab_add(&p->sets, &s->hn, h))
		p->oom = 1;
	sl_list_add(&p->all_sets, &s->all_node);
	set_build(p, s);
out:
	free(b.v);
	free_ports(cp, ncp);
	return s;
}

static void set_put(struct sl_policy *p, struct setx *s)
{
	if (!s || --s->refs)
		return;
	set_clear(p, s);
	sl_htab_del(&p->sets, &s->hn);
	sl_htab_del(&p->sets_id, &s->hid);
	sl_list_del(&s->all_node);
	p->n_addr_dep -= s->addr_dep;
	for (size_t i = 0; i < s->n_pols; i++)
		polx_put(p, s->pols[i]);
	free(s->pols);
	free(s->key);
	free_ports(s->ports, s->n_ports);
	free(s->idents.v);
	free(s->cidrs.v);
	free(s->why);
	free(s);
}

static struct setx *set_find_id(const struct sl_policy *p, __u32 id)
{
	uint64_t h = sl_hash_u64(id);
	struct sl_hnode *n;

	for (n = sl_htab_first(&p->sets_id, h); n; n = sl_htab_next(n, h)) {
		struct setx *x = container_of(n, struct setx, hid);

		if (x->id == id)
			return x;
	}
	return NULL;
}

/* Does an egress ipBlock rule with named ports of s cover one of these addresses? */
static bool set_covers_named(const struct setx *s, const struct sl_addr *a, size_t n)
{
	for (size_t i = 0; i < s->n_pols; i++) {
		const struct sl_netpol *np = s->pols[i]->np;

		for (size_t r = 0; r < np->n_rules[SL_DIR_EGRESS]; r++) {
			const struct sl_rule *ru = &np->rules[SL_DIR_EGRESS][r];

			if (!rule_named(ru))
				continue;
			for (size_t k = 0; k < ru->n_peers; k++) {
				const struct sl_peer *pe = &ru->peers[k];
				struct crule c = {.cidr = pe->cidr,
						  .except = pe->except,
						  .n_except = pe->n_except};

				if (pe->kind != SL_PEER_IPBLOCK)
					continue;
				c.v4x = pe->cidr.v6 && sl_prefix_contains(&pe->cidr, &v4mapped);
				for (size_t j = 0; j < n; j++) {
					struct sl_prefix host = {.addr = a[j], .len = 128};

					if (crule_covers(&c, &host))
						return true;
				}
			}
		}
	}
	return false;
}

/* Addresses changed owner: the sets with per-pod /128s covering them get rebuilt (new id). */
static void rebuild_addr_dep(struct sl_policy *p, const struct sl_addr *a, size_t n)
{
	struct sl_list *pos, *tmp;

	if (!p->n_addr_dep || !n)
		return;
	sl_list_for_each_safe(pos, tmp, &p->all_sets)
	{
		struct setx *s = container_of(pos, struct setx, all_node);

		if (s->addr_dep && set_covers_named(s, a, n))
			set_rebuild(p, s);
	}
}

/* Both pods' addresses, for rebuild_addr_dep (a pod's own view changed: liveness, addresses
 * or named ports); 0 if nothing a /128 depends on changed. */
static size_t addr_view_changed(const struct sl_pod *a, const struct sl_pod *b,
				struct sl_addr **out)
{
	bool la = pod_live(a), lb = pod_live(b), same = la == lb;
	size_t n = 0;

	*out = NULL;
	if (same && la)
		same = a->n_ips == b->n_ips &&
		       !memcmp(a->ips, b->ips, a->n_ips * sizeof(*a->ips)) &&
		       a->n_cports == b->n_cports;
	for (size_t i = 0; same && la && i < a->n_cports; i++)
		same = a->cports[i].port == b->cports[i].port &&
		       a->cports[i].proto == b->cports[i].proto &&
		       !a->cports[i].name == !b->cports[i].name &&
		       (!a->cports[i].name || !strcmp(a->cports[i].name, b->cports[i].name));
	if (same)
		return 0;
	*out = calloc((la ? a->n_ips : 0) + (lb ? b->n_ips : 0) + 1, sizeof(**out));
	if (!*out)
		return 0;
	for (size_t i = 0; la && i < a->n_ips; i++)
		(*out)[n++] = a->ips[i];
	for (size_t i = 0; lb && i < b->n_ips; i++)
		(*out)[n++] = b->ips[i];
	return n;
}

/* ---------------------------------------------------------------- policies */

static void rule_free_ref(struct sl_policy *p, __u32 ref)
{
	if (ref && ref < p->cfg.max_rules)
		p->rules[ref].pol = NULL;
}

static __u32 rule_alloc(struct sl_policy *p, struct polx *pol, int dir, int idx)
{
	for (__u32 i = 0; i < p->cfg.max_rules; i++) {
		__u32 r = (p->rule_hint + i) % p->cfg.max_rules;

		if (r && !p->rules[r].pol) {
			p->rules[r] = (struct rule_slot){.pol = pol, .dir = dir, .idx = idx};
			p->rule_hint = r + 1;
			return r;
		}
	}
	p->rule_exhausted++;
	return 0;
}

static void polx_put(struct sl_policy *p, struct polx *x)
{
	if (--x->refs)
		return;
	for (int d = 0; d < SL_DIR_MAX; d++) {
		for (size_t r = 0; r < x->np->n_rules[d]; r++) {
			if (!x->rule_ref[d][r])
				p->rule_exhausted--;
			rule_free_ref(p, x->rule_ref[d][r]);
		}
		free(x->rule_ref[d]);
	}
	x->ns->refs--;
	ns_put(p, x->ns);
	sl_netpol_free(x->np);
	free(x);
}

static struct polx *pol_find(const struct sl_policy *p, const char *ns, const char *name)
{
	uint64_t h = pair_hash(ns, name);
	struct sl_hnode *n;

	for (n = sl_htab_first(&p->pols, h); n; n = sl_htab_next(n, h)) {
		struct polx *x = container_of(n, struct polx, hn);

		if (!strcmp(x->np->ns, ns) && !strcmp(x->np->name, name))
			return x;
	}
	return NULL;
}

/* ---------------------------------------------------------------- pods */

static struct podx *pod_find(const struct sl_policy *p, const char *ns, const char *name)
{
	uint64_t h = pair_hash(ns, name);
	struct sl_hnode *n;

	for (n = sl_htab_first(&p->pods, h); n; n = sl_htab_next(n, h)) {
		struct podx *x = container_of(n, struct podx, hn);

		if (!strcmp(x->ns_name, ns) && !strcmp(x->name, name))
			return x;
	}
	return NULL;
}

/* The sets of a local pod from the policies of its namespace; NULL sets for others. */
static void pod_sets(struct sl_policy *p, struct podx *x)
{
	bool local = pod_local(p, x->pod);
	SL_VEC(struct polx *) sel = {0};

	if (local && !x->in_local) {
		sl_list_add(&p->local, &x->local_node);
		x->in_local = true;
	}
	for (int d = 0; d < SL_DIR_MAX; d++) {
		struct setx *old = x->set[d], *s = NULL;
		struct sl_list *pos, *tmp;

		sel.n = 0;
		if (local) {
			sl_list_for_each_safe(pos, tmp, &x->ns->pols)
			{
				struct polx *pol = container_of(pos, struct polx, ns_node);

				if (pol->np->types[d] &&
				    sl_selector_matches(&pol->np->pod_sel, &x->pod->labels) &&
				    VEC_PUSH(sel, pol))
					p->oom = 1;
			}
		}
		if (sel.n)
			s = set_get(p, d, sel.v, sel.n, x->pod);
		x->set[d] = s;
		set_put(p, old);
	}
	free(sel.v);
	mark_dirty(p, x);
}

static void pod_claims(struct sl_policy *p, struct podx *x, const struct sl_pod *pod, bool claim)
{
	if (!pod_live(pod))
		return;
	for (size_t i = 0; i < pod->n_ips; i++) {
		if (claim)
			addr_claim(p, &pod->ips[i], x);
		else
			addr_release(p, &pod->ips[i], x);
	}
}

/* x->pod was old (NULL: new pod); now it is x->pod (NULL: deleted). */
static void pod_changed(struct sl_policy *p, struct podx *x, struct sl_pod *old)
{
	struct identx *oid = x->id;

	x->id = pod_live(x->pod) ? ident_get(p, x->pod, x->ns) : NULL;
	pod_claims(p, x, old, false);
	pod_claims(p, x, x->pod, true);
	ident_put(p, oid);
	if (x->pod)
		pod_sets(p, x);
	else
		for (int d = 0; d < SL_DIR_MAX; d++) {
			set_put(p, x->set[d]);
			x->set[d] = NULL;
		}
	if (p->n_addr_dep) {
		struct sl_addr *a;
		size_t n = addr_view_changed(old, x->pod, &a);

		rebuild_addr_dep(p, a, n);
		free(a);
	}
	mark_dirty(p, x);
}

static void podx_free(struct sl_policy *p, struct podx *x)
{
	sl_htab_del(&p->pods, &x->hn);
	if (x->in_local)
		sl_list_del(&x->local_node);
	free(x->ns_name);
	free(x->name);
	free(x->uid);
	free(x);
}

/* ---------------------------------------------------------------- public: model changes */

static int done(struct sl_policy *p)
{
	return p->oom ? -ENOMEM : 0;
}

int sl_policy_upsert_pod(struct sl_policy *p, struct sl_pod *pod)
{
	struct podx *x = pod_find(p, pod->ns, pod->name);
	struct sl_pod *old = NULL;

	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x || !(x->ns_name = strdup(pod->ns)) || !(x->name = strdup(pod->name)) ||
		    !(x->ns = ns_get(p, pod->ns)) ||
		    sl_htab_add(&p->pods, &x->hn, pair_hash(pod->ns, pod->name))) {
			if (x) {
				free(x->ns_name);
				free(x->name);
			}
			free(x);
			sl_pod_free(pod);
			p->oom = 1;
			return -ENOMEM;
		}
		sl_list_init(&x->local_node);
		sl_list_init(&x->dirty_node);
		x->ns->refs++;
		sl_list_add(&x->ns->pods, &x->ns_node);
	} else if (!x->pod) {
		x->ns = ns_get(p, pod->ns);
		x->ns->refs++;
		sl_list_add(&x->ns->pods, &x->ns_node);
	} else {
		old = x->pod;
	}
	free(x->uid);
	x->uid = strdup(pod->uid ? pod->uid : "");
	x->pod = pod;
	pod_changed(p, x, old);
	sl_pod_free(old);
	return done(p);
}

int sl_policy_delete_pod(struct sl_policy *p, const char *ns, const char *name)
{
	struct podx *x = pod_find(p, ns, name);
	struct sl_pod *old;

	if (!x || !x->pod)
		return 0;
	old = x->pod;
	x->pod = NULL;
	pod_changed(p, x, old);
	sl_pod_free(old);
	sl_list_del(&x->ns_node);
	x->ns->refs--;
	ns_put(p, x->ns);
	x->ns = NULL;
	if (!x->in_local)
		podx_free(p, x); /* else freed by the take that reports its removal */
	return done(p);
}

int sl_policy_set_pod_ips(struct sl_policy *p, const char *ns, const char *name,
			  const struct sl_addr *ips, size_t n)
{
	struct podx *x = pod_find(p, ns, name);
	struct sl_pod *pod;
	struct sl_addr *v;

	if (!x || !x->pod)
		return -ENOENT;
	pod = sl_pod_dup(x->pod);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!pod || !v) {
		sl_pod_free(pod);
		free(v);
		return -ENOMEM;
	}
	memcpy(v, ips, n * sizeof(*v));
	free(pod->ips);
	pod->ips = v;
	pod->n_ips = n;
	return sl_policy_upsert_pod(p, pod);
}

static void ns_relabel(struct sl_policy *p, struct nsx *ns, struct sl_labels *labels)
{
	struct sl_list *pos, *tmp;
	bool same = ns->labels.n == labels->n;

	for (size_t i = 0; same && i < labels->n; i++)
		same = !strcmp(ns->labels.v[i].key, labels->v[i].key) &&
		       !strcmp(ns->labels.v[i].value, labels->v[i].value);
	if (same) {
		sl_labels_free(labels);
		return;
	}
	sl_labels_free(&ns->labels);
	ns->labels = *labels;
	ns->refs++; /* keep it while its pods move */
	sl_list_for_each_safe(pos, tmp, &ns->pods)
	{
		struct podx *x = container_of(pos, struct podx, ns_node);
		struct identx *oid = x->id;

		x->id = pod_live(x->pod) ? ident_get(p, x->pod, ns) : NULL;
		pod_claims(p, x, x->pod, false);
		pod_claims(p, x, x->pod, true);
		ident_put(p, oid);
		mark_dirty(p, x);
	}
	ns->refs--;
}

int sl_policy_upsert_namespace(struct sl_policy *p, struct sl_namespace *n)
{
	struct nsx *ns = ns_get(p, n->name);

	if (!ns) {
		sl_namespace_free(n);
		return -ENOMEM;
	}
	ns->known = true;
	ns_relabel(p, ns, &n->labels);
	n->labels.v = NULL;
	n->labels.n = 0;
	sl_namespace_free(n);
	return done(p);
}

int sl_policy_delete_namespace(struct sl_policy *p, const char *name)
{
	struct nsx *ns = ns_find(p, name);
	struct sl_labels l = {0};

	if (!ns || !ns->known)
		return 0;
	if (implied_labels(&l, name)) {
		sl_labels_free(&l);
		return -ENOMEM;
	}
	ns_relabel(p, ns, &l);
	ns->known = false;
	ns_put(p, ns);
	return done(p);
}

/* The local endpoints of ns choose their sets again (a policy of ns changed). */
static void ns_resets(struct sl_policy *p, struct nsx *ns)
{
	struct sl_list *pos, *tmp;

	sl_list_for_each_safe(pos, tmp, &ns->pods)
	{
		struct podx *x = container_of(pos, struct podx, ns_node);

		if (x->set[0] || x->set[1] || pod_local(p, x->pod))
			pod_sets(p, x);
	}
}

int sl_policy_upsert_netpol(struct sl_policy *p, struct sl_netpol *np)
{
	struct polx *old = pol_find(p, np->ns, np->name), *x;

	x = calloc(1, sizeof(*x));
	if (!x || !(x->ns = ns_get(p, np->ns))) {
		free(x);
		sl_netpol_free(np);
		p->oom = 1;
		return -ENOMEM;
	}
	x->np = np;
	x->serial = ++p->next_serial;
	x->current = true;
	x->refs = 1;
	x->ns->refs++;
	for (int d = 0; d < SL_DIR_MAX; d++) {
		x->rule_ref[d] = calloc(np->n_rules[d] + 1, sizeof(__u32));
		if (!x->rule_ref[d])
			p->oom = 1;
		for (size_t r = 0; x->rule_ref[d] && r < np->n_rules[d]; r++) {
			const struct sl_rule *ru = &np->rules[d][r];

			x->rule_ref[d][r] = rule_alloc(p, x, d, (int)r);
			x->named[d] |= rule_named(ru);
			for (size_t k = 0; d == SL_DIR_EGRESS && k < ru->n_peers; k++)
				x->addr_dep |=
				    ru->peers[k].kind == SL_PEER_IPBLOCK && rule_named(ru);
		}
	}
	if (p->oom)
		return -ENOMEM;
	if (old) {
		sl_htab_del(&p->pols, &old->hn);
		sl_list_del(&old->ns_node);
		old->current = false;
	}
	if (sl_htab_add(&p->pols, &x->hn, pair_hash(np->ns, np->name)))
		p->oom = 1;
	sl_list_add(&x->ns->pols, &x->ns_node);
	ns_resets(p, x->ns);
	if (old)
		polx_put(p, old);
	return done(p);
}

int sl_policy_delete_netpol(struct sl_policy *p, const char *ns, const char *name)
{
	struct polx *old = pol_find(p, ns, name);
	struct nsx *nsx;

	if (!old)
		return 0;
	nsx = old->ns;
	sl_htab_del(&p->pols, &old->hn);
	sl_list_del(&old->ns_node);
	old->current = false;
	nsx->refs++;
	ns_resets(p, nsx);
	polx_put(p, old);
	nsx->refs--;
	ns_put(p, nsx);
	return done(p);
}

static void node_claims(struct sl_policy *p, const struct sl_node *n, bool claim)
{
	for (size_t i = 0; n && i < n->n_addrs; i++) {
		if (claim)
			addr_claim(p, &n->addrs[i], NULL);
		else
			addr_release(p, &n->addrs[i], NULL);
	}
}

int sl_policy_upsert_node(struct sl_policy *p, struct sl_node *n)
{
	if (!p->cfg.node || strcmp(n->name, p->cfg.node)) {
		sl_node_free(n); /* only this node's addresses matter to its datapath */
		return 0;
	}
	node_claims(p, p->self, false);
	node_claims(p, n, true);
	if (p->self)
		rebuild_addr_dep(p, p->self->addrs, p->self->n_addrs);
	rebuild_addr_dep(p, n->addrs, n->n_addrs);
	sl_node_free(p->self);
	p->self = n;
	return done(p);
}

int sl_policy_delete_node(struct sl_policy *p, const char *name)
{
	if (!p->self || strcmp(name, p->self->name))
		return 0;
	node_claims(p, p->self, false);
	rebuild_addr_dep(p, p->self->addrs, p->self->n_addrs);
	sl_node_free(p->self);
	p->self = NULL;
	return done(p);
}

/* ---------------------------------------------------------------- public: output */

static void ep_value(const struct podx *x, bool local, struct epval *v)
{
	memset(v, 0, sizeof(*v));
	if (!local)
		return;
	v->present = true;
	for (int d = 0; d < SL_DIR_MAX; d++) {
		if (!x->set[d])
			continue;
		v->pol[d] = x->set[d]->id;
		if (x->set[d]->overflow)
			v->flags |= SL_EP_F_POLICY_INVALID;
	}
	v->identity = x->id ? x->id->id : 0;
}

static int push_ep(struct sl_delta *d, const struct podx *x, const struct epval *v)
{
	struct sl_ep_update u = {0};

	u.ns = strdup(x->ns_name);
	u.name = strdup(x->name);
	u.uid = strdup(x->uid ? x->uid : "");
	memcpy(u.pol, v->pol, sizeof(u.pol));
	u.identity = v->identity;
	u.flags = v->flags;
	u.removed = !v->present;
	if (!u.ns || !u.name || !u.uid || VEC_PUSH(d->eps, u)) {
		free(u.ns);
		free(u.name);
		free(u.uid);
		return -ENOMEM;
	}
	return 0;
}

static void retry_overflowed(struct sl_policy *p)
{
	struct sl_list *pos, *tmp;

	sl_list_for_each_safe(pos, tmp, &p->all_sets)
	{
		struct setx *s = container_of(pos, struct setx, all_node);

		if (s->overflow && s->fail_dels != p->ents.dels)
			set_rebuild(p, s);
	}
}

/* Addresses left out of a full sl_ident get in once room was made. */
static void retry_ident_overflow(struct sl_policy *p)
{
	struct sl_hnode *n, *next;
	size_t b;

	if (!p->ident_overflows || p->ident_retry_dels == p->ents.dels)
		return;
	p->ident_retry_dels = p->ents.dels;
	for (b = 0; b <= p->addrs.mask; b++)
		for (n = p->addrs.b[b]; n; n = next) {
			struct addrx *x = container_of(n, struct addrx, hn);

			next = n->next;
			if (x->overflow)
				addr_update(p, x);
		}
}

int sl_policy_take_delta(struct sl_policy *p, struct sl_delta *d)
{
	struct sl_list *pos, *tmp;
	int err;

	memset(d, 0, sizeof(*d));
	if (p->oom)
		return -ENOMEM;
	retry_overflowed(p);
	retry_ident_overflow(p);
	ps_free_zero(p);
	err = ents_take(&p->ents, d);
	sl_list_for_each_safe(pos, tmp, &p->dirty)
	{
		struct podx *x = container_of(pos, struct podx, dirty_node);
		bool local = pod_local(p, x->pod);
		struct epval v;

		sl_list_del(&x->dirty_node);
		x->dirty = false;
		ep_value(x, local, &v);
		if (!err && memcmp(&v, &x->emitted, sizeof(v)) && (v.present || x->emitted.present))
			err = push_ep(d, x, &v);
		x->emitted = v;
		if (!local) {
			sl_list_del(&x->local_node);
			x->in_local = false;
			if (!x->pod)
				podx_free(p, x);
		}
	}
	if (err)
		sl_delta_free(d);
	return err;
}

int sl_policy_snapshot(const struct sl_policy *p, struct sl_delta *d)
{
	struct sl_list *pos;
	int err;

	memset(d, 0, sizeof(*d));
	err = ents_snapshot(&p->ents, d);
	for (pos = p->local.next; !err && pos != &p->local; pos = pos->next) {
		const struct podx *x = container_of(pos, struct podx, local_node);
		struct epval v;

		ep_value(x, pod_local(p, x->pod), &v);
		if (v.present)
			err = push_ep(d, x, &v);
	}
	if (err)
		sl_delta_free(d);
	return err;
}

void sl_delta_free(struct sl_delta *d)
{
	for (size_t i = 0; i < d->eps.n; i++) {
		free(d->eps.v[i].ns);
		free(d->eps.v[i].name);
		free(d->eps.v[i].uid);
	}
	free(d->ports_add.v);
	free(d->cidr_add.v);
	free(d->peer_add.v);
	free(d->ident_set.v);
	free(d->ident_del.v);
	free(d->eps.v);
	free(d->peer_del.v);
	free(d->cidr_del.v);
	free(d->ports_del.v);
	memset(d, 0, sizeof(*d));
}

size_t sl_delta_size(const struct sl_delta *d)
{
	return d->ports_add.n + d->cidr_add.n + d->peer_add.n + d->ident_set.n + d->ident_del.n +
	       d->eps.n + d->peer_del.n + d->cidr_del.n + d->ports_del.n;
}

/* ---------------------------------------------------------------- public: lifecycle, queries */

struct sl_policy *sl_policy_new(const struct sl_policy_config *cfg)
{
	struct sl_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->cfg.node = cfg->node ? strdup(cfg->node) : NULL;
	if (!p->cfg.max_ident)
		p->cfg.max_ident = SL_MAX_IDENTITIES;
	if (!p->cfg.max_peer)
		p->cfg.max_peer = SL_MAX_PEERS;
	if (!p->cfg.max_cidr)
		p->cfg.max_cidr = SL_MAX_CIDRS;
	if (!p->cfg.max_ports)
		p->cfg.max_ports = SL_MAX_PORTS;
	if (!p->cfg.max_rules)
		p->cfg.max_rules = SL_MAX_RULES;
	p->next_ident = cfg->first_ident > SL_IDENTITY_FIRST ? cfg->first_ident : SL_IDENTITY_FIRST;
	p->next_set = cfg->first_set ? cfg->first_set : 1;
	p->next_portset = cfg->first_portset ? cfg->first_portset : 1;
	p->rule_hint = 1;
	sl_list_init(&p->all_idents);
	sl_list_init(&p->all_sets);
	sl_list_init(&p->local);
	sl_list_init(&p->dirty);
	sl_list_init(&p->zero_portsets);
	p->rules = calloc(p->cfg.max_rules, sizeof(*p->rules));
	init_v4mapped();
	if ((cfg->node && !p->cfg.node) || !p->rules || ents_init(&p->ents) ||
	    sl_htab_init(&p->pods) || sl_htab_init(&p->nss) || sl_htab_init(&p->idents) ||
	    sl_htab_init(&p->idents_id) || sl_htab_init(&p->pols) || sl_htab_init(&p->sets) ||
	    sl_htab_init(&p->sets_id) || sl_htab_init(&p->portsets) ||
	    sl_htab_init(&p->portsets_id) || sl_htab_init(&p->addrs)) {
		sl_policy_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

static void free_errs(struct sl_policy *p)
{
	for (size_t i = 0; i < p->errs.n; i++)
		free(p->errs.v[i]);
	p->errs.n = 0;
}

void sl_policy_free(struct sl_policy *p)
{
	struct sl_hnode *n, *next;
	size_t b;

	if (!p)
		return;
	/* Everything goes; no entries need to be kept consistent. */
	for (b = 0; p->sets.b && b <= p->sets.mask; b++)
		for (n = p->sets.b[b]; n; n = next) {
			struct setx *s = container_of(n, struct setx, hn);

			next = n->next;
			for (size_t i = 0; i < s->n_pols; i++) {
				struct polx *x = s->pols[i];

				if (!--x->refs) { /* superseded versions live only in sets */
					for (int d = 0; d < SL_DIR_MAX; d++)
						free(x->rule_ref[d]);
					sl_netpol_free(x->np);
					free(x);
				}
			}
			free(s->pols);
			free(s->key);
			free_ports(s->ports, s->n_ports);
			free(s->idents.v);
			free(s->cidrs.v);
			free(s->why);
			free(s);
		}
	for (b = 0; p->pods.b && b <= p->pods.mask; b++)
		for (n = p->pods.b[b]; n; n = next) {
			struct podx *x = container_of(n, struct podx, hn);

			next = n->next;
			sl_pod_free(x->pod);
			free(x->ns_name);
			free(x->name);
			free(x->uid);
			free(x);
		}
	for (b = 0; p->idents.b && b <= p->idents.mask; b++)
		for (n = p->idents.b[b]; n; n = next) {
			struct identx *x = container_of(n, struct identx, hn);

			next = n->next;
			free(x->key);
			sl_labels_free(&x->ns_labels);
			sl_labels_free(&x->labels);
			free_ports(x->cports, x->n_cports);
			free(x);
		}
	for (b = 0; p->pols.b && b <= p->pols.mask; b++)
		for (n = p->pols.b[b]; n; n = next) {
			struct polx *x = container_of(n, struct polx, hn);

			next = n->next;
			for (int d = 0; d < SL_DIR_MAX; d++)
				free(x->rule_ref[d]);
			sl_netpol_free(x->np);
			free(x);
		}
	for (b = 0; p->portsets.b && b <= p->portsets.mask; b++)
		for (n = p->portsets.b[b]; n; n = next) {
			struct psx *x = container_of(n, struct psx, hn);

			next = n->next;
			free(x->items);
			free(x);
		}
	for (b = 0; p->addrs.b && b <= p->addrs.mask; b++)
		for (n = p->addrs.b[b]; n; n = next) {
			struct addrx *x = container_of(n, struct addrx, hn);

			next = n->next;
			free(x->owners.v);
			free(x);
		}
	for (b = 0; p->nss.b && b <= p->nss.mask; b++)
		for (n = p->nss.b[b]; n; n = next) {
			struct nsx *x = container_of(n, struct nsx, hn);

			next = n->next;
			free(x->name);
			sl_labels_free(&x->labels);
			free(x);
		}
	sl_htab_fini(&p->pods);
	sl_htab_fini(&p->nss);
	sl_htab_fini(&p->idents);
	sl_htab_fini(&p->idents_id);
	sl_htab_fini(&p->pols);
	sl_htab_fini(&p->sets);
	sl_htab_fini(&p->sets_id);
	sl_htab_fini(&p->portsets);
	sl_htab_fini(&p->portsets_id);
	sl_htab_fini(&p->addrs);
	ents_fini(&p->ents);
	sl_node_free(p->self);
	free_errs(p);
	free(p->errs.v);
	free(p->tmp.v);
	free(p->rules);
	free((char *)p->cfg.node);
	free(p);
}

const struct sl_rule_info *sl_policy_rule(const struct sl_policy *p, __u32 rule)
{
	static __thread struct sl_rule_info info;
	const struct rule_slot *r;

	if (!rule || rule >= p->cfg.max_rules || !p->rules[rule].pol)
		return NULL;
	r = &p->rules[rule];
	info.ns = r->pol->np->ns;
	info.name = r->pol->np->name;
	info.dir = r->dir;
	info.index = r->idx;
	return &info;
}

const struct sl_netpol *sl_policy_set_policy(const struct sl_policy *p, __u32 pol, size_t i,
					     enum sl_dir *dir)
{
	const struct setx *s = pol ? set_find_id(p, pol) : NULL;

	if (!s || i >= s->n_pols)
		return NULL;
	if (dir)
		*dir = s->dir;
	return s->pols[i]->np;
}

bool sl_policy_identity(const struct sl_policy *p, __u32 id, const char **ns,
			const struct sl_labels **labels)
{
	const struct identx *x = ident_find_id(p, id);

	if (!x)
		return false;
	*ns = x->ns->name;
	*labels = &x->labels;
	return true;
}

int sl_policy_endpoint(const struct sl_policy *p, const char *ns, const char *name,
		       struct sl_ep_update *out)
{
	const struct podx *x = pod_find(p, ns, name);
	struct epval v;

	if (!x || !pod_local(p, x->pod))
		return -ENOENT;
	ep_value(x, true, &v);
	memset(out, 0, sizeof(*out));
	out->ns = x->ns_name;
	out->name = x->name;
	out->uid = x->uid;
	memcpy(out->pol, v.pol, sizeof(v.pol));
	out->identity = v.identity;
	out->flags = v.flags;
	return 0;
}

static void add_err(struct sl_policy *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_err(struct sl_policy *p, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s && VEC_PUSH(p->errs, s))
		free(s);
}

const char *sl_policy_error(struct sl_policy *p, size_t i)
{
	struct sl_hnode *n;
	struct sl_list *pos;
	size_t b;

	if (i == 0) {
		free_errs(p);
		sl_htab_for_each(&p->pols, b, n)
		{
			const struct polx *x = container_of(n, struct polx, hn);

			if (!x->np->valid)
				add_err(p, "netpol %s/%s: rejected, its pods stay isolated: %s",
					x->np->ns, x->np->name, x->np->error);
		}
		for (pos = p->local.next; pos != &p->local; pos = pos->next) {
			const struct podx *x = container_of(pos, struct podx, local_node);

			for (int d = 0; d < SL_DIR_MAX; d++)
				if (x->set[d] && x->set[d]->overflow)
					add_err(p, "pod %s/%s: %s: failing closed", x->ns_name,
						x->name, x->set[d]->why);
		}
		if (p->ident_overflows)
			add_err(p,
				"sl_ident full (%u entries): %zu pod addresses left out, "
				"treated as outside the cluster",
				p->cfg.max_ident, p->ident_overflows);
		if (p->rule_exhausted)
			add_err(p, "rule references exhausted (%u): %zu rules counted as rule 0",
				p->cfg.max_rules, p->rule_exhausted);
	}
	return i < p->errs.n ? p->errs.v[i] : NULL;
}

void sl_policy_get_stats(const struct sl_policy *p, struct sl_policy_stats *s)
{
	struct sl_list *pos;

	memset(s, 0, sizeof(*s));
	s->ident = p->ents.count[ENT_IDENT];
	s->peer = p->ents.count[ENT_PEER];
	s->cidr = p->ents.count[ENT_CIDR];
	s->ports = p->ents.count[ENT_PORTS];
	s->identities = p->idents.n;
	s->sets = p->sets.n;
	s->portsets = p->portsets.n;
	s->pods = p->pods.n;
	s->policies = p->pols.n;
	for (pos = p->local.next; pos != &p->local; pos = pos->next) {
		const struct podx *x = container_of(pos, struct podx, local_node);

		s->endpoints += pod_local(p, x->pod);
		for (int d = 0; d < SL_DIR_MAX; d++)
			s->overflows += x->set[d] && x->set[d]->overflow;
	}
	s->ident_overflows = p->ident_overflows;
	s->inplace_updates = p->ents.inplace;
}
