// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_property.c - seeded randomized property test of the compiler. Generates thousands of
 * small clusters (namespaces, pods with labels, addresses and named ports on this node and
 * another, NetworkPolicies of every shape, some invalid), compiles them, and compares every
 * local endpoint x direction x peer address x port/protocol, looked up in the applied entries
 * exactly as the datapath does, with the reference evaluator. Then applies random change
 * sequences and checks, at every delta, that phase 1 changes no verdict, that after phase 2
 * every verdict is the evaluator's, that phase 3 changes no verdict, and at the end that the
 * result equals a full recompilation.
 *
 * PROPERTY_SEED=n reproduces a run; PROPERTY_ROUNDS=n sets the number of clusters;
 * PROPERTY_ONLY=i runs cluster i alone and lists its changes.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "topo.h"

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned rnd(unsigned n)
{
	return (unsigned)(rnd64() % n);
}

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd((unsigned)n)];
}

#define PICK(arr) pick(arr, sizeof(arr) / sizeof(arr[0]))

struct buf {
	char s[16384];
	size_t n;
};

static void __attribute__((format(printf, 2, 3))) bp(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	b->n += (size_t)vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
	va_end(ap);
	if (b->n >= sizeof(b->s))
		abort();
}

/* ------------------------------------------------------------------ generated objects */

struct gpod {
	char ns[8], name[8];
	char labels[128], ports[512];
	int ip, ip6; /* index into the address pool; ip6 < 0: none */
	int node;    /* 1 = this node */
	int phase;   /* 0 Running, 1 Pending, 2 Succeeded */
	int hostnet;
	bool noip;
	bool alive;
};

struct gns {
	char name[8];
	char labels[128];
	bool alive;
};

struct gpol {
	char ns[8], name[8];
	bool alive;
};

struct gen {
	struct topo *t;
	struct gpod pods[24];
	int n_pods;
	struct gns nss[5];
	int n_nss;
	struct gpol pols[10];
	int n_pols;
	bool ip_used[64];
	int node_addr;
};

static const char *const ns_names[] = {"x", "y", "z", "w"};
static const char *const apps[] = {"web", "db", "api"};
static const char *const tiers[] = {"fe", "be"};

static void ip_str(int i, char *out, size_t len)
{
	/* three /24s that the ipBlocks below cut in different ways */
	static const char *const nets[] = {"10.0.1.", "10.0.2.", "10.1.2."};

	snprintf(out, len, "%s%d", nets[i % 3], 1 + i / 3);
}

static void gen_labels(char *out, size_t len, bool ns, const char *nsname)
{
	struct buf b = {.n = 0};

	bp(&b, "{");
	if (ns) {
		bp(&b, "'ns':'%s'", nsname);
		if (rnd(2))
			bp(&b, ",'team':'%s'", rnd(2) ? "a" : "b");
		if (rnd(3))
			bp(&b, ",'env':'%s'", rnd(2) ? "prod" : "dev");
	} else {
		const char *sep = "";

		if (rnd(4)) {
			bp(&b, "'app':'%s'", PICK(apps));
			sep = ",";
		}
		if (rnd(2)) {
			bp(&b, "%s'tier':'%s'", sep, PICK(tiers));
			sep = ",";
		}
		if (!rnd(4))
			bp(&b, "%s'role':'x'", sep);
	}
	bp(&b, "}");
	if (b.n >= len)
		abort();
	memcpy(out, b.s, b.n + 1);
}

static void gen_ports(char *out, size_t len)
{
	static const char *const all[] = {
	    "{'name':'http','containerPort':80}",
	    "{'name':'http','containerPort':8080}",
	    "{'name':'dns','containerPort':53,'protocol':'UDP'}",
	    "{'name':'metrics','containerPort':81}",
	    "{'name':'sctp-p','containerPort':9000,'protocol':'SCTP'}",
	    "{'name':'web-udp','containerPort':80,'protocol':'UDP'}",
	    "{'containerPort':1234}",
	};
	struct buf b = {.n = 0};
	bool http = false;
	const char *sep = "";

	bp(&b, "[");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (rnd(2))
			continue;
		if (i < 2) { /* one "http" per pod */
			if (http)
				continue;
			http = true;
		}
		bp(&b, "%s%s", sep, all[i]);
		sep = ",";
	}
	bp(&b, "]");
	if (b.n >= len)
		abort();
	memcpy(out, b.s, b.n + 1);
}

static int alloc_ip(struct gen *g)
{
	for (int tries = 0; tries < 200; tries++) {
		int i = (int)rnd(45);

		if (!g->ip_used[i]) {
			g->ip_used[i] = true;
			return i;
		}
	}
	abort();
}

static void push_pod(struct gen *g, struct gpod *p)
{
	struct buf b = {.n = 0};
	char ip[32];
	static const char *const phases[] = {"Running", "Pending", "Succeeded"};

	ip_str(p->ip, ip, sizeof(ip));
	if (p->noip) { /* scheduled, no address yet */
		bp(&b,
		   "{'metadata':{'name':'%s','namespace':'%s','labels':%s},'spec':{'nodeName':"
		   "'n%d','containers':[{'name':'c','ports':%s}]},'status':{'phase':'Pending'}}",
		   p->name, p->ns, p->labels, p->node, p->ports);
		topo_pod(g->t, b.s);
		return;
	}
	bp(&b,
	   "{'metadata':{'name':'%s','namespace':'%s','uid':'%s-%s','labels':%s},'spec':{"
	   "'nodeName':'n%d','hostNetwork':%s,'containers':[{'name':'c','ports':%s}]},"
	   "'status':{'phase':'%s','podIPs':[{'ip':'%s'}",
	   p->name, p->ns, p->ns, p->name, p->labels, p->node, p->hostnet ? "true" : "false",
	   p->ports, phases[p->phase], ip);
	if (p->ip6 >= 0)
		bp(&b, ",{'ip':'fd00::1:%d'}", p->ip6 + 1);
	bp(&b, "]}}");
	topo_pod(g->t, b.s);
}

static void new_pod(struct gen *g, const char *ns)
{
	struct gpod *p = &g->pods[g->n_pods];

	memset(p, 0, sizeof(*p));
	snprintf(p->ns, sizeof(p->ns), "%s", ns);
	snprintf(p->name, sizeof(p->name), "p%d", g->n_pods++);
	gen_labels(p->labels, sizeof(p->labels), false, NULL);
	gen_ports(p->ports, sizeof(p->ports));
	p->ip = alloc_ip(g);
	p->ip6 = rnd(6) ? -1 : p->ip;
	p->node = rnd(10) < 7 ? 1 : 2;
	p->phase = rnd(10) < 8 ? 0 : (int)rnd(3);
	p->hostnet = !rnd(20);
	p->noip = !rnd(15);
	p->alive = true;
	push_pod(g, p);
}

static void push_ns(struct gen *g, struct gns *n)
{
	char b[256];

	snprintf(b, sizeof(b), "{'metadata':{'name':'%s','labels':%s}}", n->name, n->labels);
	topo_ns(g->t, b);
}

static void gen_selector(struct buf *b, bool ns)
{
	static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist"};
	const char *key, *v1, *v2;
	unsigned n;

	switch (rnd(4)) {
	case 0:
		bp(b, "{}");
		return;
	case 1:
		if (ns)
			bp(b, "{'matchLabels':{'ns':'%s'}}", PICK(ns_names));
		else
			bp(b, "{'matchLabels':{'app':'%s'}}", PICK(apps));
		return;
	case 2:
		if (ns)
			bp(b, "{'matchLabels':{'team':'%s'}}", rnd(2) ? "a" : "b");
		else
			bp(b, "{'matchLabels':{'tier':'%s','app':'%s'}}", PICK(tiers), PICK(apps));
		return;
	}
	bp(b, "{'matchExpressions':[");
	n = 1 + rnd(2);
	for (unsigned i = 0; i < n; i++) {
		const char *op = PICK(ops);

		if (ns) {
			key = rnd(2) ? "ns" : rnd(2) ? "team" : "env";
			v1 = !strcmp(key, "ns")	    ? PICK(ns_names)
			     : !strcmp(key, "team") ? "a"
						    : "prod";
			v2 = !strcmp(key, "ns")	    ? PICK(ns_names)
			     : !strcmp(key, "team") ? "b"
						    : "dev";
		} else {
			key = rnd(2) ? "app" : rnd(2) ? "tier" : "role";
			v1 = !strcmp(key, "app") ? PICK(apps) : !strcmp(key, "tier") ? "fe" : "x";
			v2 = !strcmp(key, "app") ? PICK(apps) : "be";
		}
		bp(b, "%s{'key':'%s','operator':'%s'", i ? "," : "", key, op);
		if (op[0] == 'I' || op[0] == 'N') {
			if (rnd(2))
				bp(b, ",'values':['%s']", v1);
			else
				bp(b, ",'values':['%s','%s']", v1, v2);
		}
		bp(b, "}");
	}
	bp(b, "]}");
}

static void gen_peer(struct buf *b)
{
	static const char *const cidrs[] = {"10.0.0.0/8",  "10.0.0.0/16",   "10.0.1.0/24",
					    "10.1.0.0/16", "10.1.2.0/24",   "0.0.0.0/0",
					    "::/0",	   "fd00::/16",	    "10.0.1.5/32",
					    "10.0.2.7/32", "fd00::1:8/128", "10.1.2.0/26"};
	static const char *const excepts[] = {"10.0.1.0/24",   "10.0.2.0/24", "10.0.1.0/28",
					      "10.1.2.0/25",   "10.0.2.7/32", "10.1.2.4/30",
					      "fd00::1:0/112", "10.0.0.0/16"};

	switch (rnd(4)) {
	case 0:
		bp(b, "{'podSelector':");
		gen_selector(b, false);
		bp(b, "}");
		return;
	case 1:
		bp(b, "{'namespaceSelector':");
		gen_selector(b, true);
		bp(b, "}");
		return;
	case 2:
		bp(b, "{'podSelector':");
		gen_selector(b, false);
		bp(b, ",'namespaceSelector':");
		gen_selector(b, true);
		bp(b, "}");
		return;
	}
	{
		const char *cidr = PICK(cidrs);
		struct sl_prefix c, e;
		const char *sep = "";

		sl_prefix_parse(cidr, &c);
		bp(b, "{'ipBlock':{'cidr':'%s'", cidr);
		if (rnd(2)) {
			bp(b, ",'except':[");
			for (size_t i = 0; i < sizeof(excepts) / sizeof(excepts[0]); i++) {
				sl_prefix_parse(excepts[i], &e);
				if (e.v6 == c.v6 && e.len > c.len && sl_prefix_contains(&c, &e) &&
				    rnd(2)) {
					bp(b, "%s'%s'", sep, excepts[i]);
					sep = ",";
				}
			}
			bp(b, "]");
		}
		bp(b, "}}");
	}
}

static void gen_port(struct buf *b)
{
	static const char *const protos[] = {"TCP", "UDP", "SCTP"};
	static const char *const names[] = {"http", "dns", "metrics", "sctp-p", "web-udp", "nope"};
	static const int nums[] = {53, 80, 81, 8080, 9000, 1234};

	bp(b, "{");
	if (rnd(3))
		bp(b, "'protocol':'%s'", PICK(protos));
	else
		bp(b, "'protocol':'TCP'");
	switch (rnd(4)) {
	case 0:
		break;
	case 1:
		bp(b, ",'port':'%s'", PICK(names));
		break;
	case 2: {
		int p = nums[rnd(6)];

		bp(b, ",'port':%d,'endPort':%d", p, p + (int)rnd(9000));
		break;
	}
	default:
		bp(b, ",'port':%d", nums[rnd(6)]);
	}
	bp(b, "}");
}

static void gen_rules(struct buf *b, const char *field, const char *peers)
{
	unsigned n;

	switch (rnd(5)) {
	case 0:
		return; /* absent */
	case 1:
		bp(b, ",'%s':[]", field);
		return;
	}
	bp(b, ",'%s':[", field);
	n = 1 + rnd(3);
	for (unsigned r = 0; r < n; r++) {
		bp(b, "%s{", r ? "," : "");
		unsigned np = rnd(4), nq = rnd(4);
		bool any = false;

		if (np) {
			bp(b, "'ports':[");
			for (unsigned i = 0; i + 1 < np; i++) {
				bp(b, "%s", i ? "," : "");
				gen_port(b);
			}
			bp(b, "]");
			any = true;
		}
		if (nq) {
			bp(b, "%s'%s':[", any ? "," : "", peers);
			for (unsigned i = 0; i + 1 < nq; i++) {
				bp(b, "%s", i ? "," : "");
				gen_peer(b);
			}
			bp(b, "]");
		}
		bp(b, "}");
	}
	bp(b, "]");
}

static void gen_policy(struct gen *g, struct gpol *pol)
{
	struct buf b = {.n = 0};

	bp(&b, "{'metadata':{'name':'%s','namespace':'%s'},'spec':{'podSelector':", pol->name,
	   pol->ns);
	gen_selector(&b, false);
	switch (rnd(5)) {
	case 0:
		bp(&b, ",'policyTypes':['Ingress']");
		break;
	case 1:
		bp(&b, ",'policyTypes':['Egress']");
		break;
	case 2:
		bp(&b, ",'policyTypes':['Ingress','Egress']");
		break;
	}
	gen_rules(&b, "ingress", "from");
	gen_rules(&b, "egress", "to");
	if (!rnd(30)) /* invalid: isolates what it selects */
		bp(&b, ",'egress':[{'to':[{'ipBlock':{'cidr':'10.0.0.0/8','except':['11.0.0.0/"
		       "16']}}]}]");
	bp(&b, "}}");
	topo_policy(g->t, b.s);
}

static void push_node(struct gen *g)
{
	char b[512];

	snprintf(b, sizeof(b),
		 "{'metadata':{'name':'n1'},'status':{'addresses':[{'type':'InternalIP',"
		 "'address':'192.168.0.%d'}]}}",
		 g->node_addr);
	topo_node(g->t, b);
}

static void gen_cluster(struct gen *g)
{
	int nns = 2 + (int)rnd(3), npods = 3 + (int)rnd(8), npol = 1 + (int)rnd(5);

	for (int i = 0; i < nns; i++) {
		struct gns *n = &g->nss[g->n_nss++];

		snprintf(n->name, sizeof(n->name), "%s", ns_names[i]);
		gen_labels(n->labels, sizeof(n->labels), true, n->name);
		n->alive = true;
		if (rnd(8))
			push_ns(g, n); /* sometimes the namespace object is not known (yet) */
	}
	g->node_addr = 1;
	push_node(g);
	for (int i = 0; i < npods; i++)
		new_pod(g, ns_names[rnd((unsigned)nns)]);
	for (int i = 0; i < npol; i++) {
		struct gpol *pol = &g->pols[g->n_pols];

		snprintf(pol->ns, sizeof(pol->ns), "%s", ns_names[rnd((unsigned)nns)]);
		snprintf(pol->name, sizeof(pol->name), "np%d", g->n_pols++);
		pol->alive = true;
		gen_policy(g, pol);
	}
}

static struct gpod *some_pod(struct gen *g)
{
	for (int tries = 0; tries < 20 && g->n_pods; tries++) {
		struct gpod *p = &g->pods[rnd((unsigned)g->n_pods)];

		if (p->alive)
			return p;
	}
	return NULL;
}

static void change(struct gen *g, char *what, size_t len)
{
	struct gpod *p;
	struct gpol *pol;

	switch (rnd(12)) {
	case 0:
		if (g->n_pods < 24) {
			new_pod(g, g->nss[rnd((unsigned)g->n_nss)].name);
			snprintf(what, len, "add pod %s", g->pods[g->n_pods - 1].name);
			return;
		}
		/* fallthrough */
	case 1:
		if ((p = some_pod(g))) {
			p->alive = false;
			g->ip_used[p->ip] = false;
			topo_del(g->t, 0, p->ns, p->name);
			snprintf(what, len, "delete pod %s", p->name);
		}
		return;
	case 2:
		if ((p = some_pod(g))) {
			gen_labels(p->labels, sizeof(p->labels), false, NULL);
			push_pod(g, p);
			snprintf(what, len, "relabel pod %s", p->name);
		}
		return;
	case 3:
		if ((p = some_pod(g))) {
			g->ip_used[p->ip] = false;
			p->ip = alloc_ip(g);
			p->noip = false;
			push_pod(g, p);
			snprintf(what, len, "new address for pod %s", p->name);
		}
		return;
	case 4:
		if ((p = some_pod(g))) {
			p->phase = (int)rnd(3);
			push_pod(g, p);
			snprintf(what, len, "phase %d for pod %s", p->phase, p->name);
		}
		return;
	case 5: {
		struct gns *n = &g->nss[rnd((unsigned)g->n_nss)];

		gen_labels(n->labels, sizeof(n->labels), true, n->name);
		push_ns(g, n);
		snprintf(what, len, "relabel namespace %s", n->name);
		return;
	}
	case 6: {
		struct gns *n = &g->nss[rnd((unsigned)g->n_nss)];

		topo_del(g->t, 1, "", n->name);
		snprintf(what, len, "delete namespace object %s", n->name);
		return;
	}
	case 7:
		if (g->n_pols < 10) {
			pol = &g->pols[g->n_pols];
			memcpy(pol->ns, g->nss[rnd((unsigned)g->n_nss)].name, sizeof(pol->ns));
			snprintf(pol->name, sizeof(pol->name), "np%d", g->n_pols++);
			pol->alive = true;
			gen_policy(g, pol);
			snprintf(what, len, "add policy %s/%s", pol->ns, pol->name);
			return;
		}
		/* fallthrough */
	case 8:
		pol = &g->pols[rnd((unsigned)g->n_pols)];
		pol->alive = true;
		gen_policy(g, pol);
		snprintf(what, len, "update policy %s/%s", pol->ns, pol->name);
		return;
	case 9:
		pol = &g->pols[rnd((unsigned)g->n_pols)];
		pol->alive = false;
		topo_del(g->t, 2, pol->ns, pol->name);
		snprintf(what, len, "delete policy %s/%s", pol->ns, pol->name);
		return;
	case 10:
		g->node_addr = 1 + (int)rnd(3);
		push_node(g);
		snprintf(what, len, "node address 192.168.0.%d", g->node_addr);
		return;
	default:
		if ((p = some_pod(g))) {
			topo_del(g->t, 0, p->ns, p->name);
			p->node = 3 - p->node;
			push_pod(g, p);
			snprintf(what, len, "pod %s re-created on node n%d", p->name, p->node);
		}
		return;
	}
}

static void dump(struct topo *t)
{
	for (size_t i = 0; i < t->n_objs; i++)
		fprintf(stderr, "  %s\n", t->objs[i].json);
}

int main(void)
{
	const char *env_seed = getenv("PROPERTY_SEED"), *env_rounds = getenv("PROPERTY_ROUNDS");
	const char *env_only = getenv("PROPERTY_ONLY"); /* one cluster, with its changes listed */
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : 20261125;
	int rounds = env_rounds ? atoi(env_rounds) : 2000, passed = 0, failed = 0;
	size_t checks = 0, changes = 0, overflowed = 0;
	clock_t t0 = clock();

	printf("property: seed %llu, %d clusters\n", (unsigned long long)seed, rounds);
	for (int r = 0; r < rounds; r++) {
		struct topo t;
		struct gen g = {.t = &t};
		char why[512] = "", what[128] = "initial compile";
		bool ok = true;
		int steps;

		if (env_only && atoi(env_only) != r)
			continue;
		rng_state = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)r * 0xbf58476d1ce4e5b9ULL + 1;
		if (r % 7 == 3) { /* small maps: overflows must fail closed, never open */
			struct sl_policy_config cfg = {
			    .node = "n1",
			    .max_peer = 2 + rnd(12),
			    .max_cidr = 2 + rnd(12),
			    .max_ports = 4 + rnd(40),
			    .max_ident = 3 + rnd(20),
			    .max_set_entries = rnd(2) ? 0 : 2 + rnd(10),
			};

			topo_init_cfg(&t, &cfg);
			t.fail_closed_ok = 1;
		} else {
			topo_init(&t, "n1");
		}
		t.check_phases = 1;
		gen_cluster(&g);
		topo_sync(&t);
		if (env_only) {
			char w2[512] = "";

			fprintf(stderr, "initial: %s\n",
				topo_check_full(&t, w2, sizeof(w2)) ? "ok" : w2);
		}
		steps = r % 4 == 0 ? 12 : 3; /* a quarter of the clusters get long change runs */
		for (int s = 0; s <= steps && ok; s++) {
			if (t.failures) {
				snprintf(why, sizeof(why), "%s", t.first_failure);
				ok = false;
				break;
			}
			if (s == steps)
				break;
			change(&g, what, sizeof(what));
			if (env_only) {
				char w2[512] = "";
				bool full;

				topo_sync(&t);
				full = topo_check_full(&t, w2, sizeof(w2));
				fprintf(stderr, "change %d: %s: %s\n", s, what, full ? "ok" : w2);
				continue;
			}
			changes++;
			topo_sync(&t);
		}
		checks++;
		{
			struct sl_policy_stats st;

			sl_policy_get_stats(t.p, &st);
			overflowed += st.overflows || st.ident_overflows;
		}
		if (ok && !topo_check_full(&t, why, sizeof(why))) {
			ok = false;
			snprintf(what, sizeof(what), "full recompilation check");
		}
		if (ok) {
			passed++;
		} else {
			failed++;
			if (failed <= 3) {
				fprintf(stderr,
					"FAIL cluster %d (PROPERTY_SEED=%llu) after '%s': %s\n", r,
					(unsigned long long)seed, what, why);
				dump(&t);
			}
		}
		topo_fini(&t);
	}
	printf("property: %zu clusters (%zu ending with full maps, failed closed), %zu changes, "
	       "%.1f s\n",
	       checks, overflowed, changes, (double)(clock() - t0) / CLOCKS_PER_SEC);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
