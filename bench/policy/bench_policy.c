// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_policy.c - the policy compiler's benchmark: a synthetic cluster (10,000 pods in 500
 * namespaces, 100 nodes, 2,000 policies of realistic shapes: default deny, same-namespace
 * allow, app tiers over named ports, DNS and ipBlock egress, monitoring from another
 * namespace), compiled for one node. Measures full compile time and peak memory, incremental
 * update latency (p50/p99) for a pod relabel, a pod add and a policy add, and map entries per
 * endpoint, also with half the replicas, to show entries do not grow with the pods a selector
 * matches (they grow with the label sets it matches: one identity per namespace x labels).
 * Prints a table with the targets. SLUICE_BENCH_QUICK=1: fewer incremental samples.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sl_policy.h"

static int n_nodes = 100; /* pods spread over node-0 .. node-<n_nodes-1> */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* This thread's CPU time: the compiler's work, without the waits of a busy shared machine. */
static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench-policy: %s: %s\n", what, detail);
	exit(1);
}

struct sizes {
	int pods, nss, pols;
};

static const char *const tiers[] = {"web", "api", "db"};

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		die("vasprintf", "failed");
	va_end(ap);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

static char *ns_json(int n)
{
	return fmt("{'metadata':{'name':'ns-%d','labels':{'team':'t%d','env':'%s'}}}", n, n % 50,
		   n % 3 == 0	? "prod"
		   : n % 3 == 1 ? "staging"
				: "dev");
}

/* Pod i of ns n: 5 apps per namespace, app j has tier j%3, replicas share labels. */
static char *pod_json(int i, int n, int per_ns, const char *extra)
{
	int j = (i % per_ns) % 5;
	const char *tier = tiers[j % 3];
	unsigned ip = (10u << 24) + (1u << 16) + (unsigned)i;

	return fmt("{'metadata':{'name':'pod-%d','namespace':'ns-%d','uid':'u%d','labels':{"
		   "'app':'app-%d','tier':'%s','pod-template-hash':'h%d-%d'%s}},'spec':{"
		   "'nodeName':'node-%d','containers':[{'name':'c','ports':[{'name':'http',"
		   "'containerPort':8080},{'name':'metrics','containerPort':9090}%s]}]},"
		   "'status':{'phase':'Running','podIPs':[{'ip':'%u.%u.%u.%u'}]}}",
		   i, n, i, j, tier, n, j, extra, i % n_nodes,
		   j % 3 == 2 ? ",{'name':'postgres','containerPort':5432}" : "", ip >> 24,
		   (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* Four policies per namespace, shape k. */
static char *pol_json(int n, int k, const char *name)
{
	switch (k) {
	case 0:
		return fmt(
		    "{'metadata':{'name':'%s','namespace':'ns-%d'},'spec':{'podSelector':{},"
		    "'policyTypes':['Ingress','Egress'],'ingress':[{'from':[{'podSelector':"
		    "{}}]}],'egress':[{'to':[{'namespaceSelector':{'matchLabels':{"
		    "'kubernetes.io/metadata.name':'kube-system'}},'podSelector':{"
		    "'matchLabels':{'k8s-app':'kube-dns'}}}],'ports':[{'protocol':'UDP',"
		    "'port':53},{'protocol':'TCP','port':53}]},{'to':[{'podSelector':{}}]}]}}",
		    name, n);
	case 1:
		return fmt("{'metadata':{'name':'%s','namespace':'ns-%d'},'spec':{'podSelector':{"
			   "'matchLabels':{'tier':'db'}},'ingress':[{'from':[{'podSelector':{"
			   "'matchLabels':{'tier':'api'}}}],'ports':[{'port':'postgres'}]}]}}",
			   name, n);
	case 2:
		return fmt(
		    "{'metadata':{'name':'%s','namespace':'ns-%d'},'spec':{'podSelector':{"
		    "'matchLabels':{'tier':'web'}},'policyTypes':['Ingress','Egress'],"
		    "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'team':'t%d'}}},"
		    "{'ipBlock':{'cidr':'0.0.0.0/0','except':['10.0.0.0/8']}}],'ports':[{"
		    "'port':'http'},{'port':443}]}],'egress':[{'to':[{'ipBlock':{'cidr':"
		    "'0.0.0.0/0','except':['10.0.0.0/8','172.16.0.0/12','192.168.0.0/16']}}],"
		    "'ports':[{'port':443},{'port':8000,'endPort':8999}]}]}}",
		    name, n, n % 50);
	default:
		return fmt(
		    "{'metadata':{'name':'%s','namespace':'ns-%d'},'spec':{'podSelector':{},"
		    "'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{"
		    "'kubernetes.io/metadata.name':'monitoring'}},'podSelector':{'matchLabels':"
		    "{'app':'prometheus'}}}],'ports':[{'port':'metrics'}]}]}}",
		    name, n);
	}
}

static void feed_pod(struct sl_policy *p, char *json)
{
	struct sl_pod *o;
	struct sl_err err;

	if (sl_decode_pod_str(json, &o, &err) || sl_policy_upsert_pod(p, o))
		die(err.msg, json);
	free(json);
}

static void feed_pol(struct sl_policy *p, char *json)
{
	struct sl_netpol *o;
	struct sl_err err;

	if (sl_decode_netpol_str(json, &o, &err) || !o->valid || sl_policy_upsert_netpol(p, o))
		die(err.msg, json);
	free(json);
}

static void feed_ns(struct sl_policy *p, char *json)
{
	struct sl_namespace *o;
	struct sl_err err;

	if (sl_decode_namespace_str(json, &o, &err) || sl_policy_upsert_namespace(p, o))
		die(err.msg, json);
	free(json);
}

static void take(struct sl_policy *p, size_t *n)
{
	struct sl_delta d;

	if (sl_policy_take_delta(p, &d))
		die("take", "failed");
	if (n)
		*n = sl_delta_size(&d);
	sl_delta_free(&d);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double q)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[(int)(q * (n - 1) + 0.5)];
}

struct result {
	double full_ms, full_cpu_ms, peak_mb;
	double relabel[2], add[2], pol[2]; /* p50, p99 */
	double ep_avg, ep_max, ports_per_ep;
	size_t endpoints, peer, cidr, ports, ident, identities, sets, portsets, overflows;
};

/* Entries (sl_peer + sl_cidr) of each local endpoint's two sets, from a snapshot. */
static void per_endpoint(struct sl_policy *p, struct result *r)
{
	struct sl_delta d;
	size_t max_pol = 0, sum = 0, mx = 0;
	size_t *cnt;

	if (sl_policy_snapshot(p, &d))
		die("snapshot", "failed");
	for (size_t i = 0; i < d.eps.n; i++)
		for (int k = 0; k < SL_DIR_MAX; k++)
			if (d.eps.v[i].pol[k] > max_pol)
				max_pol = d.eps.v[i].pol[k];
	cnt = calloc(max_pol + 1, sizeof(*cnt));
	for (size_t i = 0; i < d.peer_add.n; i++)
		if (d.peer_add.v[i].k.pol <= max_pol)
			cnt[d.peer_add.v[i].k.pol]++;
	for (size_t i = 0; i < d.cidr_add.n; i++)
		if (d.cidr_add.v[i].k.pol <= max_pol)
			cnt[d.cidr_add.v[i].k.pol]++;
	for (size_t i = 0; i < d.eps.n; i++) {
		size_t e = cnt[d.eps.v[i].pol[0]] + cnt[d.eps.v[i].pol[1]];

		sum += e;
		if (e > mx)
			mx = e;
	}
	r->endpoints = d.eps.n;
	r->ep_avg = d.eps.n ? (double)sum / d.eps.n : 0;
	r->ep_max = (double)mx;
	r->ports_per_ep = d.eps.n ? (double)d.ports_add.n / d.eps.n : 0;
	free(cnt);
	sl_delta_free(&d);
}

/* allow_all: every namespace also admits every pod of the cluster (namespaceSelector {}) */
static void run(const struct sizes *sz, int samples, const char *node, bool allow_all,
		struct result *r)
{
	struct sl_policy_config cfg = {.node = node};
	struct sl_policy *p = sl_policy_new(&cfg);
	int per_ns = sz->pods / sz->nss, next_pod = sz->pods;
	struct sl_policy_stats st;
	struct rusage ru;
	double t0, c0, *lat = calloc((size_t)samples, sizeof(double));
	char **pods = calloc((size_t)sz->pods, sizeof(char *));
	char **pols = calloc((size_t)sz->pols, sizeof(char *));
	char **nss = calloc((size_t)sz->nss + 2, sizeof(char *));

	if (!p || !lat || !pods || !pols || !nss)
		die("alloc", "failed");
	/* JSON text first: the benchmark times decode + compile, not its own formatting */
	for (int n = 0; n < sz->nss; n++)
		nss[n] = ns_json(n);
	nss[sz->nss] = fmt("{'metadata':{'name':'kube-system'}}");
	nss[sz->nss + 1] = fmt("{'metadata':{'name':'monitoring'}}");
	for (int i = 0; i < sz->pods; i++)
		pods[i] = pod_json(i, i / per_ns, per_ns, "");
	for (int k = 0; k < sz->pols; k++) {
		char name[32];

		snprintf(name, sizeof(name), "np-%d", k / sz->nss);
		pols[k] = pol_json(k % sz->nss, k / sz->nss % 4, name);
	}
	t0 = now_ms();
	c0 = cpu_ms();
	for (int n = 0; n < sz->nss + 2; n++)
		feed_ns(p, nss[n]);
	feed_pod(p, fmt("{'metadata':{'name':'dns','namespace':'kube-system','labels':{'k8s-app':"
			"'kube-dns'}},'spec':{'nodeName':'node-1'},'status':{'phase':'Running',"
			"'podIPs':[{'ip':'10.0.0.10'}]}}"));
	feed_pod(p, fmt("{'metadata':{'name':'prom','namespace':'monitoring','labels':{'app':"
			"'prometheus'}},'spec':{'nodeName':'node-2'},'status':{'phase':'Running',"
			"'podIPs':[{'ip':'10.0.0.11'}]}}"));
	for (int i = 0; i < sz->pods; i++)
		feed_pod(p, pods[i]);
	for (int k = 0; k < sz->pols; k++)
		feed_pol(p, pols[k]);
	for (int n = 0; allow_all && n < sz->nss; n++)
		feed_pol(p, fmt("{'metadata':{'name':'from-cluster','namespace':'ns-%d'},'spec':{"
				"'podSelector':{},'ingress':[{'from':[{'namespaceSelector':{}}],"
				"'ports':[{'port':'http'}]}]}}",
				n));
	take(p, NULL);
	r->full_ms = now_ms() - t0;
	r->full_cpu_ms = cpu_ms() - c0;

	per_endpoint(p, r);
	sl_policy_get_stats(p, &st);
	r->peer = st.peer;
	r->cidr = st.cidr;
	r->ports = st.ports;
	r->ident = st.ident;
	r->identities = st.identities;
	r->sets = st.sets;
	r->portsets = st.portsets;
	r->overflows = st.overflows;

	/* pod relabel: a local pod gets another version label (new identity, new sets) */
	for (int s = 0; s < samples; s++) {
		int i = (int)rnd((unsigned)(sz->pods / n_nodes)) * n_nodes; /* on node-0 */
		char extra[64];

		snprintf(extra, sizeof(extra), ",'version':'v%d'", s);
		t0 = cpu_ms();
		feed_pod(p, pod_json(i, i / per_ns, per_ns, extra));
		take(p, NULL);
		lat[s] = cpu_ms() - t0;
	}
	r->relabel[0] = pct(lat, samples, 0.5);
	r->relabel[1] = pct(lat, samples, 0.99);
	/* pod add: a new replica (existing identity) or a new app (new identity), any node */
	for (int s = 0; s < samples; s++) {
		int n = (int)rnd((unsigned)sz->nss);
		char extra[64] = "";

		if (s % 2)
			snprintf(extra, sizeof(extra), ",'canary':'c%d'", s);
		t0 = cpu_ms();
		feed_pod(p, pod_json(next_pod++, n, per_ns, extra));
		take(p, NULL);
		lat[s] = cpu_ms() - t0;
	}
	r->add[0] = pct(lat, samples, 0.5);
	r->add[1] = pct(lat, samples, 0.99);
	/* policy add: one more app-tier policy in a namespace */
	for (int s = 0; s < samples; s++) {
		char name[32];

		snprintf(name, sizeof(name), "extra-%d", s);
		t0 = cpu_ms();
		feed_pol(p, pol_json((int)rnd((unsigned)sz->nss), 1 + s % 3, name));
		take(p, NULL);
		lat[s] = cpu_ms() - t0;
	}
	r->pol[0] = pct(lat, samples, 0.5);
	r->pol[1] = pct(lat, samples, 0.99);
	getrusage(RUSAGE_SELF, &ru);
	r->peak_mb = ru.ru_maxrss / 1024.0;
	sl_policy_free(p);
	free(lat);
	free(pods);
	free(pols);
	free(nss);
}

static void json_result(FILE *f, const char *name, const struct result *r, bool last)
{
	fprintf(f,
		"  \"%s\": {\"full_ms\": %.3f, \"full_cpu_ms\": %.3f, \"peak_mb\": %.1f, "
		"\"relabel_p50_ms\": %.4f, "
		"\"relabel_p99_ms\": %.4f, \"add_p50_ms\": %.4f, \"add_p99_ms\": %.4f, "
		"\"policy_add_p50_ms\": %.4f, \"policy_add_p99_ms\": %.4f, \"endpoints\": %zu, "
		"\"entries_per_endpoint_avg\": %.2f, \"entries_per_endpoint_max\": %.0f, "
		"\"peer\": %zu, \"cidr\": %zu, \"ports\": %zu, \"ident\": %zu, "
		"\"identities\": %zu, \"sets\": %zu, \"overflows\": %zu}%s\n",
		name, r->full_ms, r->full_cpu_ms, r->peak_mb, r->relabel[0], r->relabel[1],
		r->add[0], r->add[1], r->pol[0], r->pol[1], r->endpoints, r->ep_avg, r->ep_max,
		r->peer, r->cidr, r->ports, r->ident, r->identities, r->sets, r->overflows,
		last ? "" : ",");
}

/* Raw numbers to $SLUICE_BENCH_OUT/policy.json when make bench asks for files. */
static void write_json(const struct result *r, const struct result *h, const struct result *all,
		       const struct result *wide)
{
	const char *dir = getenv("SLUICE_BENCH_OUT");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return;
	}
	fprintf(f, "{\n");
	json_result(f, "node", r, false);
	json_result(f, "node_half_replicas", h, false);
	json_result(f, "all_pods_local", all, false);
	json_result(f, "allow_from_all_namespaces", wide, true);
	fprintf(f, "}\n");
	fclose(f);
}

static double load(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static const char *ok(bool b)
{
	return b ? "yes" : "NO";
}

int main(void)
{
	bool quick = getenv("SLUICE_BENCH_QUICK") != NULL;
	int samples = quick ? 50 : 400;
	struct sizes big = {10000, 500, 2000}, half = {5000, 500, 2000}; /* half the replicas */
	struct result r, h, all, wide;
	double peak;

	run(&half, samples, "node-0", false, &h);
	run(&big, samples, "node-0", false, &r);
	run(&big, quick ? 20 : 100, "node-0", true, &wide);
	n_nodes = 1; /* stress: every pod of the cluster is an endpoint of this node */
	run(&big, quick ? 20 : 100, "node-0", false, &all);
	n_nodes = 100;

	printf("policy compiler: %d pods, %d namespaces, %d policies, %zu endpoints on this node "
	       "(1 of %d nodes)\n\n",
	       big.pods, big.nss, big.pols, r.endpoints, n_nodes);
	printf("%-44s %14s %12s %4s\n", "metric", "value", "target", "ok");
	printf("%-44s %11.1f ms %9s ms %4s\n", "full compile (decode + compile + delta)", r.full_ms,
	       "< 1000", ok(r.full_ms < 1000));
	printf("%-44s %11.1f ms\n", "  of which CPU time", r.full_cpu_ms);
	peak = wide.peak_mb > all.peak_mb ? wide.peak_mb : all.peak_mb; /* maxrss only grows */
	printf("%-44s %11.1f MB %9s MB %4s\n", "peak memory (maxrss, all runs below)", peak,
	       "< 300", ok(peak < 300));
	printf("%-44s %8.3f/%.3f %9s ms %4s\n", "incremental pod relabel p50/p99 (ms)",
	       r.relabel[0], r.relabel[1], "p99 < 5", ok(r.relabel[1] < 5));
	printf("%-44s %8.3f/%.3f %9s ms %4s\n", "incremental pod add p50/p99 (ms)", r.add[0],
	       r.add[1], "p99 < 5", ok(r.add[1] < 5));
	printf("%-44s %8.3f/%.3f %9s ms %4s\n", "incremental policy add p50/p99 (ms)", r.pol[0],
	       r.pol[1], "p99 < 5", ok(r.pol[1] < 5));
	printf("%-44s %8.1f/%-5.0f %12s %4s\n", "sl_peer+sl_cidr entries per endpoint avg/max",
	       r.ep_avg, r.ep_max, "flat", ok(r.ep_avg <= h.ep_avg * 1.2 + 2));
	printf("%-44s %8.1f/%-5.0f %12s %4s\n", "  same with half the replicas (5000 pods)",
	       h.ep_avg, h.ep_max, "", "");
	printf("%-44s %14.1f\n", "sl_ports entries per endpoint (shared)", r.ports_per_ep);
	printf("%-44s %14zu\n", "sl_ident entries (every pod address)", r.ident);
	printf("%-44s %14zu\n", "identities (of 10000 pods)", r.identities);
	printf("%-44s %14zu\n", "policy sets on this node", r.sets);
	printf("%-44s %14zu\n", "sl_peer / sl_cidr / sl_ports entries", r.peer);
	printf("%-44s %14zu\n", "", r.cidr);
	printf("%-44s %14zu\n", "", r.ports);
	printf("\nstress, all %d pods on this one node (%zu endpoints, %zu policy sets):\n",
	       big.pods, all.endpoints, all.sets);
	printf("%-44s %11.1f ms (CPU %.1f ms)\n", "full compile", all.full_ms, all.full_cpu_ms);
	printf("%-44s %8.3f/%.3f\n", "pod relabel p50/p99 (ms)", all.relabel[0], all.relabel[1]);
	printf("%-44s %8.3f/%.3f\n", "pod add p50/p99 (ms)", all.add[0], all.add[1]);
	printf("%-44s %8.3f/%.3f\n", "policy add p50/p99 (ms)", all.pol[0], all.pol[1]);
	printf("%-44s %8.1f/%-5.0f\n", "entries per endpoint avg/max", all.ep_avg, all.ep_max);
	printf("\nwide: every namespace also admits all pods of the cluster (namespaceSelector "
	       "{}):\n");
	printf("%-44s %11.1f ms (CPU %.1f ms)\n", "full compile", wide.full_ms, wide.full_cpu_ms);
	printf("%-44s %8.1f/%-5.0f\n", "entries per endpoint avg/max", wide.ep_avg, wide.ep_max);
	printf("%-44s %8zu of %d\n", "sl_peer entries (map capacity)", wide.peer, SL_MAX_PEERS);
	printf("%-44s %14zu\n", "policy sets failed closed (map full)", wide.overflows);
	printf("%-44s %8.3f/%.3f\n", "pod add p50/p99 (ms)", wide.add[0], wide.add[1]);
	printf(
	    "\n(incremental = the model change and take_delta, thread CPU time; %d samples each;\n"
	    " full compile = wall clock; load average at the end %.2f)\n",
	    samples, load());
	write_json(&r, &h, &all, &wide);
	return 0;
}
