// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* topo.c - the test cluster of topo.h: objects in, deltas applied, verdicts compared. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

static char *squote(const char *json)
{
	char *s = strdup(json);

	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "topo: %s: %s\n", what, detail);
	abort();
}

void topo_init_cfg(struct topo *t, const struct sl_policy_config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->p = sl_policy_new(cfg);
	if (!t->p)
		die("sl_policy_new", "failed");
	store_init(&t->store);
}

void topo_init(struct topo *t, const char *node)
{
	struct sl_policy_config cfg = {.node = node};

	topo_init_cfg(t, &cfg);
}

static void model_clear(struct ref_model *m)
{
	for (size_t i = 0; i < m->n_pods; i++)
		sl_pod_free(m->pods[i]);
	for (size_t i = 0; i < m->n_nss; i++)
		sl_namespace_free(m->nss[i]);
	for (size_t i = 0; i < m->n_pols; i++)
		sl_netpol_free(m->pols[i]);
	free(m->pods);
	free(m->nss);
	free(m->pols);
	memset(m, 0, sizeof(*m));
}

void topo_fini(struct topo *t)
{
	sl_policy_free(t->p);
	store_fini(&t->store);
	model_clear(&t->m);
	for (size_t i = 0; i < t->n_objs; i++) {
		free(t->objs[i].ns);
		free(t->objs[i].name);
		free(t->objs[i].json);
	}
	free(t->objs);
}

/* Rebuild the evaluator's model from the objects' JSON. */
static void model_build(struct topo *t, struct ref_model *m)
{
	struct sl_err err;

	if (m == &t->m && t->model_fresh)
		return;
	t->model_fresh = m == &t->m;
	model_clear(m);
	m->pods = calloc(t->n_objs + 1, sizeof(void *));
	m->nss = calloc(t->n_objs + 1, sizeof(void *));
	m->pols = calloc(t->n_objs + 1, sizeof(void *));
	for (size_t i = 0; i < t->n_objs; i++) {
		const char *j = t->objs[i].json;

		if (t->objs[i].kind == 0 && !sl_decode_pod_str(j, &m->pods[m->n_pods], &err))
			m->n_pods++;
		else if (t->objs[i].kind == 1 &&
			 !sl_decode_namespace_str(j, &m->nss[m->n_nss], &err))
			m->n_nss++;
		else if (t->objs[i].kind == 2 &&
			 !sl_decode_netpol_str(j, &m->pols[m->n_pols], &err))
			m->n_pols++;
	}
}

static void feed(struct sl_policy *p, int kind, const char *json)
{
	struct sl_err err;
	int r = -1;

	if (kind == 0) {
		struct sl_pod *o;

		if (!sl_decode_pod_str(json, &o, &err))
			r = sl_policy_upsert_pod(p, o);
	} else if (kind == 1) {
		struct sl_namespace *o;

		if (!sl_decode_namespace_str(json, &o, &err))
			r = sl_policy_upsert_namespace(p, o);
	} else if (kind == 2) {
		struct sl_netpol *o;

		if (!sl_decode_netpol_str(json, &o, &err))
			r = sl_policy_upsert_netpol(p, o);
	} else {
		struct sl_node *o;

		if (!sl_decode_node_str(json, &o, &err))
			r = sl_policy_upsert_node(p, o);
	}
	if (r)
		die(err.msg, json);
}

static void upsert(struct topo *t, int kind, const char *json1)
{
	char *json = squote(json1);
	struct sl_err err;
	char *ns = NULL, *name = NULL;
	size_t i;

	/* namespace and name, through the decoders */
	if (kind == 0) {
		struct sl_pod *o;

		if (sl_decode_pod_str(json, &o, &err))
			die(err.msg, json);
		ns = strdup(o->ns), name = strdup(o->name);
		sl_pod_free(o);
	} else if (kind == 1) {
		struct sl_namespace *o;

		if (sl_decode_namespace_str(json, &o, &err))
			die(err.msg, json);
		ns = strdup(""), name = strdup(o->name);
		sl_namespace_free(o);
	} else if (kind == 2) {
		struct sl_netpol *o;

		if (sl_decode_netpol_str(json, &o, &err))
			die(err.msg, json);
		ns = strdup(o->ns), name = strdup(o->name);
		sl_netpol_free(o);
	} else {
		struct sl_node *o;

		if (sl_decode_node_str(json, &o, &err))
			die(err.msg, json);
		ns = strdup(""), name = strdup(o->name);
		sl_node_free(o);
	}
	for (i = 0; i < t->n_objs; i++)
		if (t->objs[i].kind == kind && !strcmp(t->objs[i].ns, ns) &&
		    !strcmp(t->objs[i].name, name))
			break;
	if (i == t->n_objs) {
		t->objs = realloc(t->objs, (t->n_objs + 1) * sizeof(*t->objs));
		t->objs[t->n_objs++] = (struct tobj){.kind = kind, .ns = ns, .name = name};
	} else {
		free(ns);
		free(name);
		free(t->objs[i].json);
	}
	t->objs[i].json = json;
	t->model_fresh = 0;
	feed(t->p, kind, json);
}

void topo_pod(struct topo *t, const char *json)
{
	upsert(t, 0, json);
}

void topo_ns(struct topo *t, const char *json)
{
	upsert(t, 1, json);
}

void topo_policy(struct topo *t, const char *json)
{
	upsert(t, 2, json);
}

void topo_node(struct topo *t, const char *json)
{
	upsert(t, 3, json);
}

void topo_del(struct topo *t, int kind, const char *ns, const char *name)
{
	t->model_fresh = 0;
	for (size_t i = 0; i < t->n_objs; i++) {
		if (t->objs[i].kind != kind || strcmp(t->objs[i].ns, ns) ||
		    strcmp(t->objs[i].name, name))
			continue;
		free(t->objs[i].ns);
		free(t->objs[i].name);
		free(t->objs[i].json);
		t->objs[i] = t->objs[--t->n_objs];
		break;
	}
	if (kind == 0)
		sl_policy_delete_pod(t->p, ns, name);
	else if (kind == 1)
		sl_policy_delete_namespace(t->p, name);
	else if (kind == 2)
		sl_policy_delete_netpol(t->p, ns, name);
	else
		sl_policy_delete_node(t->p, name);
}

void topo_e2e(struct topo *t)
{
	static const char *const nss[] = {"x", "y", "z"};
	static const char *const pods[] = {"a", "b", "c"};
	char buf[2048];

	for (int n = 0; n < 3; n++) {
		snprintf(buf, sizeof(buf), "{'metadata':{'name':'%s','labels':{'ns':'%s'}}}",
			 nss[n], nss[n]);
		topo_ns(t, buf);
		for (int k = 0; k < 3; k++) {
			snprintf(
			    buf, sizeof(buf),
			    "{'metadata':{'name':'%s','namespace':'%s','uid':'u-%s-%s',"
			    "'labels':{'pod':'%s'}},'spec':{'nodeName':'n1','containers':[{"
			    "'name':'c','ports':["
			    "{'name':'serve-80-tcp','containerPort':80},"
			    "{'name':'serve-80-udp','containerPort':80,'protocol':'UDP'},"
			    "{'name':'serve-80-sctp','containerPort':80,'protocol':'SCTP'},"
			    "{'name':'serve-81-tcp','containerPort':81,'protocol':'TCP'},"
			    "{'name':'serve-81-udp','containerPort':81,'protocol':'UDP'},"
			    "{'name':'serve-81-sctp','containerPort':81,'protocol':'SCTP'}]}]},"
			    "'status':{'phase':'Running','podIP':'10.0.%d.%d',"
			    "'podIPs':[{'ip':'10.0.%d.%d'}]}}",
			    pods[k], nss[n], nss[n], pods[k], pods[k], n + 1, k + 1, n + 1, k + 1);
			topo_pod(t, buf);
		}
	}
	topo_pod(t, "{'metadata':{'name':'d','namespace':'z','labels':{'pod':'d'}},'spec':{"
		    "'nodeName':'n2','containers':[{'name':'c','ports':[{'name':'serve-80-tcp',"
		    "'containerPort':8080}]}]},'status':{'phase':'Running','podIPs':[{'ip':"
		    "'10.0.3.4'}]}}");
	topo_node(t, "{'metadata':{'name':'n1'},'spec':{'podCIDRs':['10.0.0.0/16']},'status':{"
		     "'addresses':[{'type':'InternalIP','address':'192.168.0.1'},{'type':"
		     "'Hostname','address':'n1'}]}}");
}

/* ------------------------------------------------------------------ verdicts */

static const struct sl_pod *find_pod(const struct ref_model *m, const char *nsname)
{
	const char *slash = strchr(nsname, '/');

	for (size_t i = 0; i < m->n_pods; i++)
		if (!strncmp(m->pods[i]->ns, nsname, (size_t)(slash - nsname)) &&
		    !m->pods[i]->ns[slash - nsname] && !strcmp(m->pods[i]->name, slash + 1))
			return m->pods[i];
	return NULL;
}

static const struct sl_pod *pod_by_addr(const struct ref_model *m, const struct sl_addr *a)
{
	for (size_t i = 0; i < m->n_pods; i++) {
		if (!ref_pod_live(m->pods[i]))
			continue;
		for (size_t k = 0; k < m->pods[i]->n_ips; k++)
			if (!memcmp(&m->pods[i]->ips[k], a, sizeof(*a)))
				return m->pods[i];
	}
	return NULL;
}

static bool is_local(const struct topo *t, const struct sl_pod *p)
{
	return ref_pod_live(p) && p->node && t->cfg.node && !strcmp(p->node, t->cfg.node) &&
	       p->n_ips;
}

bool topo_conn(struct topo *t, const char *from, const char *to, int proto, int port, bool ref)
{
	const struct sl_pod *a, *b;
	bool ok = true;

	model_build(t, &t->m);
	a = find_pod(&t->m, from);
	b = find_pod(&t->m, to);
	if (!a || !b || !a->n_ips || !b->n_ips)
		die("topo_conn: no such pod or no address", from);
	if (ref)
		return ref_allows(&t->m, a, SL_DIR_EGRESS, b, &b->ips[0], proto, port) &&
		       ref_allows(&t->m, b, SL_DIR_INGRESS, a, &a->ips[0], proto, port);
	if (is_local(t, a))
		ok &=
		    store_allows(&t->store, a->ns, a->name, SL_DIR_EGRESS, &b->ips[0], proto, port);
	if (is_local(t, b))
		ok &= store_allows(&t->store, b->ns, b->name, SL_DIR_INGRESS, &a->ips[0], proto,
				   port);
	return ok;
}

bool topo_probe(struct topo *t, const char *ep, int dir, const char *addr, int proto, int port,
		bool ref)
{
	const struct sl_pod *x;
	struct sl_addr a;

	model_build(t, &t->m);
	x = find_pod(&t->m, ep);
	if (!x || sl_addr_parse(addr, &a))
		die("topo_probe: bad endpoint or address", ep);
	if (ref)
		return ref_allows(&t->m, x, dir, pod_by_addr(&t->m, &a), &a, proto, port);
	return store_allows(&t->store, x->ns, x->name, dir, &a, proto, port);
}

static const struct {
	int proto, port;
} probe_ports[] = {
    {IPPROTO_TCP, 80},	  {IPPROTO_TCP, 81}, {IPPROTO_TCP, 8080},
    {IPPROTO_UDP, 53},	  {IPPROTO_UDP, 80}, {IPPROTO_SCTP, 80},
    {IPPROTO_SCTP, 9000}, {IPPROTO_ICMP, 0}, {IPPROTO_TCP, 1234},
};

static const char *const outside[] = {"8.8.8.8",    "10.0.9.9", "10.1.2.99",
				      "10.1.200.1", "fd00::1",	"2001:db8::5"};

/* Every (local endpoint, direction, peer address, port) in a fixed order; f called on each. */
static size_t for_each_probe(struct topo *t, const struct ref_model *m,
			     void (*f)(struct topo *, const struct ref_model *,
				       const struct sl_pod *, int, const struct sl_pod *,
				       const struct sl_addr *, int, int, size_t, void *),
			     void *arg)
{
	size_t n = 0;

	for (size_t e = 0; e < m->n_pods; e++) {
		const struct sl_pod *x = m->pods[e];

		if (!is_local(t, x))
			continue;
		for (int dir = 0; dir < SL_DIR_MAX; dir++) {
			for (size_t q = 0; q < m->n_pods + sizeof(outside) / sizeof(outside[0]);
			     q++) {
				const struct sl_pod *peer = NULL;
				struct sl_addr a;

				if (q < m->n_pods) {
					peer = m->pods[q];
					if (!ref_pod_live(peer) || !peer->n_ips)
						continue;
					a = peer->ips[peer->n_ips - 1];
				} else {
					sl_addr_parse(outside[q - m->n_pods], &a);
				}
				for (size_t k = 0; k < sizeof(probe_ports) / sizeof(probe_ports[0]);
				     k++)
					f(t, m, x, dir, peer, &a, probe_ports[k].proto,
					  probe_ports[k].port, n++, arg);
			}
		}
	}
	return n;
}

struct vcollect {
	bool *v;
	size_t cap;
	bool ref;
	const struct store *s;
};

static void collect(struct topo *t, const struct ref_model *m, const struct sl_pod *x, int dir,
		    const struct sl_pod *peer, const struct sl_addr *a, int proto, int port,
		    size_t i, void *arg)
{
	struct vcollect *c = arg;

	(void)t;
	if (i >= c->cap) {
		c->cap = (i + 1) * 2;
		c->v = realloc(c->v, c->cap * sizeof(bool));
	}
	c->v[i] = c->ref ? ref_allows(m, x, dir, peer, a, proto, port)
			 : store_allows(c->s, x->ns, x->name, dir, a, proto, port);
}

static size_t verdicts(struct topo *t, const struct ref_model *m, const struct store *s, bool ref,
		       bool **out)
{
	struct vcollect c = {.ref = ref, .s = s};
	size_t n = for_each_probe(t, m, collect, &c);

	*out = c.v;
	return n;
}

struct finder {
	size_t idx;
	char *why;
	size_t len;
	const char *what;
	bool got, want;
};

static void find_cb(struct topo *t, const struct ref_model *m, const struct sl_pod *x, int dir,
		    const struct sl_pod *peer, const struct sl_addr *a, int proto, int port,
		    size_t i, void *arg)
{
	struct finder *f = arg;
	char buf[64];

	(void)t;
	(void)m;
	(void)peer;
	if (i != f->idx || !f->len)
		return;
	snprintf(f->why, f->len, "%s: %s/%s %s %s proto %d port %d: got %d want %d", f->what, x->ns,
		 x->name, dir ? "ingress from" : "egress to", sl_addr_str(a, buf, 64), proto, port,
		 f->got, f->want);
}

static void describe(struct topo *t, const struct ref_model *m, size_t idx, char *why, size_t len,
		     const char *what, bool got, bool want)
{
	struct finder f = {idx, why, len, what, got, want};

	for_each_probe(t, m, find_cb, &f);
}

int topo_check_ref(struct topo *t, char *why, size_t len)
{
	bool *got, *want;
	size_t n;
	int bad = 0;

	model_build(t, &t->m);
	n = verdicts(t, &t->m, &t->store, false, &got);
	verdicts(t, &t->m, NULL, true, &want);
	for (size_t i = 0; i < n; i++) {
		if (got[i] == want[i] || (t->fail_closed_ok && !got[i]))
			continue;
		if (!bad++)
			describe(t, &t->m, i, why, len, "compiled vs reference", got[i], want[i]);
	}
	free(got);
	free(want);
	return bad;
}

void topo_sync(struct topo *t)
{
	struct sl_delta d;
	bool *before = NULL, *after = NULL;
	size_t n = 0;

	if (t->check_phases) {
		/* verdicts of the old state, over the probes of the new model */
		model_build(t, &t->m);
		n = verdicts(t, &t->m, &t->store, false, &before);
	}
	if (sl_policy_take_delta(t->p, &d))
		die("sl_policy_take_delta", "failed");
	if (!t->check_phases) {
		store_apply(&t->store, &d, 0);
		sl_delta_free(&d);
		return;
	}
	store_apply(&t->store, &d, 1);
	verdicts(t, &t->m, &t->store, false, &after);
	for (size_t i = 0; i < n; i++)
		if (before[i] != after[i] && !t->failures++)
			describe(t, &t->m, i, t->first_failure, sizeof(t->first_failure),
				 "phase 1 changed a verdict", after[i], before[i]);
	free(after);
	store_apply(&t->store, &d, 2);
	if (topo_check_ref(t, t->first_failure, t->failures ? 0 : sizeof(t->first_failure)))
		t->failures++;
	free(before);
	verdicts(t, &t->m, &t->store, false, &before);
	store_apply(&t->store, &d, 3);
	verdicts(t, &t->m, &t->store, false, &after);
	for (size_t i = 0; i < n; i++)
		if (before[i] != after[i] && !t->failures++)
			describe(t, &t->m, i, t->first_failure, sizeof(t->first_failure),
				 "phase 3 changed a verdict", after[i], before[i]);
	free(before);
	free(after);
	sl_delta_free(&d);
}

bool topo_check_full(struct topo *t, char *why, size_t len)
{
	struct sl_policy *fresh = sl_policy_new(&t->cfg);
	struct store s2, s3;
	struct sl_delta d;
	struct sl_policy_stats st;
	bool *v1, *v2;
	size_t n;
	bool ok = true;

	store_init(&s2);
	store_init(&s3);
	/* namespaces and the node first, as the agent's initial list does, then the rest */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < t->n_objs; i++)
			if ((t->objs[i].kind == 1 || t->objs[i].kind == 3) == !pass)
				feed(fresh, t->objs[i].kind, t->objs[i].json);
	if (sl_policy_take_delta(fresh, &d))
		die("take", "fresh");
	store_apply(&s2, &d, 0);
	sl_delta_free(&d);
	if (sl_policy_snapshot(t->p, &d))
		die("snapshot", "incremental");
	store_apply(&s3, &d, 0);
	sl_delta_free(&d);
	sl_policy_get_stats(t->p, &st);
	if (st.inplace_updates) {
		snprintf(why, len, "%zu entries changed value in place", st.inplace_updates);
		ok = false;
	} else if (t->store.violations || s2.violations) {
		snprintf(why, len, "store protocol violation: %s", t->store.last_violation);
		ok = false;
	} else if (!store_equal(&t->store, &s3, why, len)) {
		ok = false; /* store after deltas != snapshot */
	} else if (t->fail_closed_ok) {
		if (topo_check_ref(t, why, len))
			ok = false;
	} else if (t->store.n_ident != s2.n_ident || t->store.n_peer != s2.n_peer ||
		   t->store.n_cidr != s2.n_cidr || t->store.n_ports != s2.n_ports ||
		   t->store.n_eps != s2.n_eps) {
		snprintf(why, len,
			 "incremental vs full: ident %zu/%zu peer %zu/%zu cidr %zu/%zu ports "
			 "%zu/%zu eps %zu/%zu",
			 t->store.n_ident, s2.n_ident, t->store.n_peer, s2.n_peer, t->store.n_cidr,
			 s2.n_cidr, t->store.n_ports, s2.n_ports, t->store.n_eps, s2.n_eps);
		ok = false;
	} else {
		model_build(t, &t->m);
		n = verdicts(t, &t->m, &t->store, false, &v1);
		verdicts(t, &t->m, &s2, false, &v2);
		for (size_t i = 0; i < n && ok; i++) {
			if (v1[i] != v2[i]) {
				describe(t, &t->m, i, why, len, "incremental vs full", v1[i],
					 v2[i]);
				ok = false;
			}
		}
		free(v1);
		free(v2);
		if (ok && topo_check_ref(t, why, len))
			ok = false;
	}
	store_fini(&s2);
	store_fini(&s3);
	sl_policy_free(fresh);
	return ok;
}
