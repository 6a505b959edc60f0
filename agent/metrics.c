// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * metrics.c - the agent's Prometheus metrics: the counters other parts increment, and the
 * /metrics text (datapath verdicts by reason and direction, policy verdicts, per-rule
 * counters named by NetworkPolicy, map fill, conntrack, events, endpoints, Kubernetes watches,
 * the policy apply latency histogram). Maps are read from the agent's pins at each scrape.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "counters.h"
#include "endpoints.h"
#include "metrics.h"
#include "strbuf.h"
#include "reasons.h"
#include "sl_policy.h"

static const char *const resources[] = {"pods", "namespaces", "networkpolicies", "nodes"};
#define N_RES 4

/* Upper bounds of the apply latency histogram's buckets, in seconds (+Inf implied). */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				 0.05,	 0.1,	0.25,	0.5,   1,    2.5};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static struct {
	atomic_ullong reconnects[N_RES], relists[N_RES];
	atomic_ullong apply_bucket[N_BUCKETS + 1], apply_count, apply_failed;
	atomic_ullong apply_sum_ns;
	atomic_ullong gc_runs, gc_deleted;
} st;

static int res_idx(const char *r)
{
	for (int i = 0; i < N_RES; i++)
		if (r && !strcmp(r, resources[i]))
			return i;
	return -1;
}

void sl_metrics_watch_stats(const char *resource, unsigned lists, unsigned watches)
{
	int i = res_idx(resource);

	if (i < 0)
		return;
	atomic_store(&st.relists[i], lists > 1 ? lists - 1 : 0);
	atomic_store(&st.reconnects[i], watches > lists ? watches - lists : 0);
}

void sl_metrics_policy_apply(double seconds, bool ok)
{
	size_t b = 0;

	if (!ok) {
		atomic_fetch_add(&st.apply_failed, 1);
		return;
	}
	while (b < N_BUCKETS && seconds > buckets[b])
		b++;
	atomic_fetch_add(&st.apply_bucket[b], 1);
	atomic_fetch_add(&st.apply_count, 1);
	atomic_fetch_add(&st.apply_sum_ns, (unsigned long long)(seconds * 1e9));
}

void sl_metrics_ct_gc(size_t deleted)
{
	atomic_fetch_add(&st.gc_runs, 1);
	atomic_fetch_add(&st.gc_deleted, deleted);
}

/* ------------------------------------------------------------------ text */

static void head(struct sl_strbuf *b, const char *name, const char *type, const char *help)
{
	sl_strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the text format wants (\\, \", \n). */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 2 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = 0;
	return buf;
}

static int pin_fd(struct sl_agent *a, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", a->dp.pin_dir, name);
	return bpf_obj_get(path);
}

static void datapath(struct sl_strbuf *b, const struct sl_counter *c)
{
	static const char *const what[] = {"packets", "bytes"};

	for (int w = 0; w < 2; w++) {
		char name[64], help[128];

		snprintf(name, sizeof(name), "sluice_datapath_%s_total", what[w]);
		snprintf(help, sizeof(help), "%s the datapath counted, by reason and direction.",
			 w ? "Bytes" : "Packets");
		head(b, name, "counter", help);
		for (unsigned r = 0; r < __SL_REASON_MAX; r++)
			for (unsigned d = 0;
			     r < __SL_REASON_MAX && sl_reason_name(r) && d < SL_DIR_MAX; d++)
				sl_strbuf_printf(b, "%s{reason=\"%s\",direction=\"%s\"} %llu\n", name,
				    sl_reason_name(r), sl_dir_name(d),
				    (unsigned long long)(w ? c[SL_COUNTER_IDX(r, d)].bytes
							   : c[SL_COUNTER_IDX(r, d)].packets));
	}
	/* The same, split into drops and forwards, reason without its prefix. */
	for (int drop = 1; drop >= 0; drop--) {
		const char *name = drop ? "sluice_drops_total" : "sluice_forwards_total";

		head(b, name, "counter",
		     drop ? "Packets dropped, by reason and direction (from the pod's view)."
			  : "Packets forwarded, by reason and direction (from the pod's view).");
		for (unsigned r = 0; r < __SL_REASON_MAX; r++) {
			const char *n = sl_reason_name(r);

			if (!n || (bool)SL_REASON_IS_DROP(r) != (bool)drop)
				continue;
			for (unsigned d = 0; d < SL_DIR_MAX; d++)
				sl_strbuf_printf(b, "%s{reason=\"%s\",direction=\"%s\"} %llu\n", name,
				    n + (drop ? 5 : 4), sl_dir_name(d),
				    (unsigned long long)c[SL_COUNTER_IDX(r, d)].packets);
		}
	}
	/* Policy verdicts of new and forward flows. */
	{
		static const struct {
			unsigned reason;
			const char *verdict, *why;
		} v[] = {
		    {SL_FWD_POLICY, "allow", "rule"},
		    {SL_FWD_NO_POLICY, "allow", "no_policy"},
		    {SL_FWD_HOST, "allow", "host"},
		    {SL_DROP_POLICY, "deny", "default_deny"},
		    {SL_DROP_POLICY_INVALID, "deny", "policy_invalid"},
		    {SL_DROP_UNKNOWN_L4, "deny", "protocol"},
		};

		head(b, "sluice_policy_verdicts_total", "counter",
		     "Policy decisions on packets of new and forward flows, by verdict, cause and "
		     "direction.");
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			for (unsigned d = 0; d < SL_DIR_MAX; d++)
				sl_strbuf_printf(b,
				    "sluice_policy_verdicts_total{verdict=\"%s\",cause=\"%s\","
				    "direction=\"%s\"} %llu\n",
				    v[i].verdict, v[i].why, sl_dir_name(d),
				    (unsigned long long)c[SL_COUNTER_IDX(v[i].reason, d)].packets);
	}
}

struct rule_ctx {
	struct sl_strbuf *b;
	int stats_fd, ports_fd;
};

static int rules_fn(const struct sl_policy *p, void *arg)
{
	struct rule_ctx *c = arg;
	struct sl_ports_key k, *prev = NULL;
	struct sl_ports_val v;
	__u32 seen[4096];
	size_t n = 0;

	head(c->b, "sluice_policy_rule_packets_total", "counter",
	     "Packets of new and forward flows allowed by each NetworkPolicy rule.");
	while (!bpf_map_get_next_key(c->ports_fd, prev, &k) && n < 4096) {
		const struct sl_rule_info *ri;
		struct sl_counter sum = {0};
		bool dup = false;
		char ns[512], name[512];

		prev = &k;
		if (bpf_map_lookup_elem(c->ports_fd, &k, &v) || !v.rule)
			continue;
		for (size_t i = 0; i < n && !dup; i++)
			dup = seen[i] == v.rule;
		if (dup)
			continue;
		seen[n++] = v.rule;
		ri = sl_policy_rule(p, v.rule);
		if (!ri)
			continue;
		{
			int ncpu = libbpf_num_possible_cpus();
			struct sl_counter pc[ncpu > 0 && ncpu < 4096 ? ncpu : 1];

			if (ncpu <= 0 || ncpu >= 4096 ||
			    bpf_map_lookup_elem(c->stats_fd, &v.rule, pc))
				continue;
			for (int i = 0; i < ncpu; i++)
				sum.packets += pc[i].packets;
		}
		sl_strbuf_printf(c->b,
		    "sluice_policy_rule_packets_total{namespace=\"%s\",policy=\"%s\",direction="
		    "\"%s\",rule=\"%d\"} %llu\n",
		    esc(ri->ns, ns, sizeof(ns)), esc(ri->name, name, sizeof(name)),
		    sl_dir_name(ri->dir), ri->index, (unsigned long long)sum.packets);
	}
	return 0;
}

static void maps(struct sl_agent *a, struct sl_strbuf *b)
{
	static const char *const names[] = {"sl_endpoints", "sl_ident", "sl_peer", "sl_cidr",
					    "sl_ports",	    "sl_ct",	"sl_frag", "sl_ev_rate"};
	long entries[8];
	__u32 maxe[8];
	int fd;

	for (size_t i = 0; i < 8; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		unsigned char k[64], next[64];
		void *prev = NULL;

		entries[i] = -1;
		fd = pin_fd(a, names[i]);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.key_size <= sizeof(k)) {
			maxe[i] = info.max_entries;
			entries[i] = 0;
			while (!bpf_map_get_next_key(fd, prev, next)) {
				memcpy(k, next, info.key_size);
				prev = k;
				entries[i]++;
			}
		}
		close(fd);
	}
	head(b, "sluice_map_entries", "gauge", "Entries in each datapath map.");
	for (size_t i = 0; i < 8; i++)
		if (entries[i] >= 0)
			sl_strbuf_printf(b, "sluice_map_entries{map=\"%s\"} %ld\n", names[i], entries[i]);
	head(b, "sluice_map_capacity", "gauge", "max_entries of each datapath map.");
	for (size_t i = 0; i < 8; i++)
		if (entries[i] >= 0)
			sl_strbuf_printf(b, "sluice_map_capacity{map=\"%s\"} %u\n", names[i], maxe[i]);
	head(b, "sluice_map_fill_ratio", "gauge", "Entries over capacity of each datapath map.");
	for (size_t i = 0; i < 8; i++)
		if (entries[i] >= 0 && maxe[i])
			sl_strbuf_printf(b, "sluice_map_fill_ratio{map=\"%s\"} %.6f\n", names[i],
			    (double)entries[i] / maxe[i]);
	head(b, "sluice_conntrack_entries", "gauge", "Flows in the conntrack map (sl_ct).");
	sl_strbuf_printf(b, "sluice_conntrack_entries %ld\n", entries[5] > 0 ? entries[5] : 0);
}

static void events(struct sl_agent *a, struct sl_strbuf *b)
{
	int fd = pin_fd(a, "sl_ev_stats");
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long v[SL_EV_STATS_MAX] = {0};

	if (fd >= 0 && ncpu > 0 && ncpu < 4096) {
		struct sl_counter pc[ncpu];

		for (__u32 i = 0; i < SL_EV_STATS_MAX; i++)
			if (!bpf_map_lookup_elem(fd, &i, pc))
				for (int c = 0; c < ncpu; c++)
					v[i] += pc[c].packets;
	}
	if (fd >= 0)
		close(fd);
	head(b, "sluice_events_lost_total", "counter",
	     "Drop/verdict events lost because the ring buffer was full.");
	sl_strbuf_printf(b, "sluice_events_lost_total %llu\n", v[SL_EV_STAT_LOST]);
	head(b, "sluice_events_rate_limited_total", "counter",
	     "Drop/verdict events suppressed by the per-flow rate limit.");
	sl_strbuf_printf(b, "sluice_events_rate_limited_total %llu\n", v[SL_EV_STAT_LIMITED]);
}

static void agent_counters(struct sl_strbuf *b)
{
	unsigned long long cum = 0;

	head(b, "sluice_conntrack_gc_runs_total", "counter", "Conntrack garbage collection runs.");
	sl_strbuf_printf(b, "sluice_conntrack_gc_runs_total %llu\n", atomic_load(&st.gc_runs));
	head(b, "sluice_conntrack_gc_deleted_total", "counter",
	     "Expired conntrack entries deleted by garbage collection.");
	sl_strbuf_printf(b, "sluice_conntrack_gc_deleted_total %llu\n", atomic_load(&st.gc_deleted));
	head(b, "sluice_k8s_watch_reconnects_total", "counter",
	     "Kubernetes watches re-established after an error or a stall, by resource.");
	for (int i = 0; i < N_RES; i++)
		sl_strbuf_printf(b, "sluice_k8s_watch_reconnects_total{resource=\"%s\"} %llu\n", resources[i],
		    atomic_load(&st.reconnects[i]));
	head(b, "sluice_k8s_relists_total", "counter",
	     "Lists of a Kubernetes resource after the first (410 Gone, resync), by resource.");
	for (int i = 0; i < N_RES; i++)
		sl_strbuf_printf(b, "sluice_k8s_relists_total{resource=\"%s\"} %llu\n", resources[i],
		    atomic_load(&st.relists[i]));
	head(b, "sluice_policy_apply_duration_seconds", "histogram",
	     "Time to apply a policy change (one compiler delta) to the datapath's maps.");
	for (size_t i = 0; i <= N_BUCKETS; i++) {
		cum += atomic_load(&st.apply_bucket[i]);
		if (i < N_BUCKETS)
			sl_strbuf_printf(b, "sluice_policy_apply_duration_seconds_bucket{le=\"%g\"} %llu\n",
			    buckets[i], cum);
		else
			sl_strbuf_printf(b, "sluice_policy_apply_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
			    cum);
	}
	sl_strbuf_printf(b, "sluice_policy_apply_duration_seconds_sum %.9f\n",
	    atomic_load(&st.apply_sum_ns) / 1e9);
	sl_strbuf_printf(b, "sluice_policy_apply_duration_seconds_count %llu\n", cum);
	head(b, "sluice_policy_apply_failures_total", "counter",
	     "Policy changes whose application to the maps failed (retried).");
	sl_strbuf_printf(b, "sluice_policy_apply_failures_total %llu\n", atomic_load(&st.apply_failed));
}

char *sl_metrics_render(struct sl_agent *a, size_t *len)
{
	struct sl_counter c[SL_COUNTERS_MAX];
	/* ready is stored after the datapath is loaded: its fds are valid once it reads true. */
	bool ready = atomic_load(&a->ready);
	struct sl_strbuf b = {0};

	head(&b, "sluice_agent_ready", "gauge",
	     "1 when the datapath is programmed and the conflist written.");
	sl_strbuf_printf(&b, "sluice_agent_ready %d\n", ready ? 1 : 0);
	head(&b, "sluice_endpoints", "gauge", "Local endpoints (pods on this node).");
	sl_strbuf_printf(&b, "sluice_endpoints %zu\n", sl_eps_count(a));
	agent_counters(&b);
	if (ready && a->dp.counters_fd >= 0 && !sl_counters_read(a->dp.counters_fd, c)) {
		struct rule_ctx rc = {.b = &b};

		datapath(&b, c);
		maps(a, &b);
		events(a, &b);
		rc.stats_fd = pin_fd(a, "sl_rule_stats");
		rc.ports_fd = pin_fd(a, "sl_ports");
		if (a->mode->with_model && rc.stats_fd >= 0 && rc.ports_fd >= 0)
			a->mode->with_model(a, rules_fn, &rc);
		if (rc.stats_fd >= 0)
			close(rc.stats_fd);
		if (rc.ports_fd >= 0)
			close(rc.ports_fd);
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	*len = b.len;
	return b.s ? b.s : strdup("");
}
