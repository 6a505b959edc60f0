// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * routes_k8s.c - Kubernetes mode's routes to other nodes: Node objects (spec.podCIDR(s),
 * status.addresses InternalIP) from the Nodes informer into sl_routes_sync (routes.c), after
 * every batch of Node events, and again after a failure until it succeeds. The first sync after
 * start removes routes of ours that a previous run left for nodes that are gone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h" /* sl_now_ms */
#include "flags.h"
#include "k8s.h"
#include "log.h"
#include "routes_k8s.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 60000

static bool dirty = true;		  /* a sync is due (the first one: reconcile at start) */
static long long next_try_ms, backoff_ms; /* after a failure: not before next_try_ms */

static const cJSON *item(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

/* "a.b.c.d/n" (IPv4 only, host bits cleared). 0, -EAFNOSUPPORT (IPv6), -EINVAL. */
static int parse_cidr(const char *s, uint32_t *addr, uint8_t *len)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	unsigned long n;
	uint32_t mask;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (strchr(buf, ':'))
		return -EAFNOSUPPORT;
	if (inet_pton(AF_INET, buf, &a) != 1 || !slash[1] || slash[1] == '-' || slash[1] == '+')
		return -EINVAL;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (*end || errno || n < 1 || n > 32)
		return -EINVAL;
	mask = htonl(~0u << (32 - n));
	*addr = a.s_addr & mask;
	*len = (uint8_t)n;
	return 0;
}

/* The first IPv4 range of spec.podCIDR, then spec.podCIDRs. */
static int node_pod_cidr(const cJSON *node, uint32_t *addr, uint8_t *len)
{
	const cJSON *one = item(node, "spec", "podCIDR"), *many = item(node, "spec", "podCIDRs");
	const cJSON *c;
	int err = -ENOENT, e;

	if (cJSON_IsString(one)) {
		e = parse_cidr(one->valuestring, addr, len);
		if (e != -EAFNOSUPPORT)
			return e;
	}
	if (!cJSON_IsArray(many))
		many = NULL;
	cJSON_ArrayForEach (c, many) {
		if (!cJSON_IsString(c))
			continue;
		e = parse_cidr(c->valuestring, addr, len);
		if (e != -EAFNOSUPPORT)
			return e;
	}
	return err;
}

int sl_node_route_decode(const cJSON *node, struct sl_node_route *out)
{
	const cJSON *name = item(node, "metadata", "name"),
		    *addrs = item(node, "status", "addresses");
	const cJSON *a;
	struct in_addr ip;
	int err;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsString(name) || !name->valuestring[0] ||
	    strlen(name->valuestring) >= sizeof(out->name))
		return -EINVAL;
	strcpy(out->name, name->valuestring);
	err = node_pod_cidr(node, &out->pod_cidr, &out->pod_cidr_len);
	if (err)
		return err;
	if (!cJSON_IsArray(addrs))
		addrs = NULL;
	cJSON_ArrayForEach (a, addrs) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "address");

		if (cJSON_IsString(t) && !strcmp(t->valuestring, "InternalIP") &&
		    cJSON_IsString(v) && inet_pton(AF_INET, v->valuestring, &ip) == 1) {
			out->node_ip = ip.s_addr;
			return 0;
		}
	}
	return -ENOENT;
}

void sl_routes_k8s_changed(void)
{
	dirty = true;
}

struct collect {
	struct sl_node_route *v;
	size_t n, cap;
	int err;
};

static void collect_one(const cJSON *obj, void *arg)
{
	struct collect *c = arg;
	struct sl_node_route r;
	int err = sl_node_route_decode(obj, &r);

	if (err == -EINVAL) {
		const cJSON *name = item(obj, "metadata", "name");

		pr_warn("node %s: unreadable spec.podCIDR: no route to its pods",
			cJSON_IsString(name) ? name->valuestring : "?");
	}
	if (err)
		return; /* -ENOENT: not routable yet (a later update will say) */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct sl_node_route *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->err = -ENOMEM;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = r;
}

int sl_routes_k8s_apply(const struct sl_k8s_informer *nodes, const char *self)
{
	struct collect c = {0};
	int err;

	if (!dirty || !nodes || !sl_k8s_informer_synced(nodes))
		return 0;
	if (backoff_ms && sl_now_ms() < next_try_ms)
		return -EAGAIN; /* a failure is being retried with backoff */
	dirty = false;
	sl_k8s_informer_foreach(nodes, collect_one, &c);
	err = c.err ? c.err : sl_routes_sync(c.v, c.n, self);
	free(c.v);
	if (err) {
		/* Again later, 1 s doubling to 60 s: a conflict with someone else's route may last,
		 * and every attempt logs. A Node event still waits for the backoff to end. */
		dirty = true;
		backoff_ms = backoff_ms ? backoff_ms * 2 : RETRY_MIN_MS;
		if (backoff_ms > RETRY_MAX_MS)
			backoff_ms = RETRY_MAX_MS;
		next_try_ms = sl_now_ms() + backoff_ms;
	} else {
		backoff_ms = 0;
	}
	return err;
}

struct own {
	const char *self;
	char *buf;
	size_t len;
	int err;
};

static void own_one(const cJSON *obj, void *arg)
{
	const cJSON *name = item(obj, "metadata", "name");
	struct own *o = arg;
	char a[INET_ADDRSTRLEN];
	uint32_t addr;
	uint8_t len;

	if (!cJSON_IsString(name) || strcmp(name->valuestring, o->self))
		return;
	if (node_pod_cidr(obj, &addr, &len))
		return;
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(o->buf, o->len, "%s/%u", a, len);
	o->err = 0;
}

int sl_routes_k8s_pod_cidr(const struct sl_k8s_informer *nodes, const char *self, char *buf,
			   size_t len)
{
	struct own o = {.self = self, .buf = buf, .len = len, .err = -ENOENT};

	if (nodes)
		sl_k8s_informer_foreach(nodes, own_one, &o);
	return o.err;
}

int sl_routes_k8s_adopt_pod_cidr(const struct sl_k8s_informer *nodes, struct sl_config *cfg)
{
	char buf[32], a[INET_ADDRSTRLEN];
	uint32_t addr;
	uint8_t len;

	if (cfg->have_pod_cidr)
		return 0;
	if (sl_routes_k8s_pod_cidr(nodes, cfg->node, buf, sizeof(buf)) ||
	    parse_cidr(buf, &addr, &len) || len > 30) {
		pr_warn("node %s: no --pod-cidr, and its Node object has no usable IPv4 "
			"spec.podCIDR: the conflist gets no pod range",
			cfg->node);
		return -ENOENT;
	}
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	cfg->pod_cidr.addr = ntohl(addr);
	cfg->pod_cidr.len = len;
	snprintf(cfg->pod_cidr_str, sizeof(cfg->pod_cidr_str), "%s/%u", a, len);
	__atomic_store_n(&cfg->have_pod_cidr, true, __ATOMIC_RELEASE); /* after the range */
	pr_info("node %s: pod range %s from its Node object (no --pod-cidr)", cfg->node,
		cfg->pod_cidr_str);
	return 0;
}
