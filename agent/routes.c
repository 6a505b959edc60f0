// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * routes.c - the routes to other nodes' pod ranges (libnl-route-3): one per other node, its
 * podCIDR via its InternalIP, protocol SL_RTPROT, metric 0, main table. A sync reads the table
 * once and changes only the difference, so calling it on every Node event is cheap and a route
 * that is already right is never touched (no gap in traffic).
 *
 * Ours is recognised by the protocol alone: whatever else carries another protocol (the
 * kernel's own, an administrator's static routes, e2e/sandbox's fallbacks at metric 1000) is
 * never changed or deleted, even when it covers the same prefix.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "log.h"
#include "routes.h"

/* A route the nodes ask for, and what the table already has for it. */
struct want {
	const struct sl_node_route *n;
	struct rtnl_route *ours; /* our route for this prefix at metric 0, if any */
	bool ok;		 /* ours is already right */
	bool taken;		 /* someone else's route holds this prefix at metric 0 */
};

struct scan {
	struct want *w;
	size_t nw;
	struct rtnl_route **stale; /* ours that no node wants */
	size_t nstale;
};

static int nl_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_EXIST:
		return -EEXIST;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOADDR:
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static const char *cidr_str(uint32_t addr, uint8_t len, char *buf, size_t sz)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(buf, sz, "%s/%u", a, len);
	return buf;
}

static const char *ip_str(uint32_t addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

/* Dst of an IPv4 route as (address, prefix length); false for anything else. */
static bool route_dst(struct rtnl_route *r, uint32_t *addr, uint8_t *len)
{
	struct nl_addr *d = rtnl_route_get_dst(r);

	if (!d || nl_addr_get_family(d) != AF_INET)
		return false;
	*len = (uint8_t)nl_addr_get_prefixlen(d);
	*addr = 0;
	if (nl_addr_get_len(d) == 4)
		memcpy(addr, nl_addr_get_binary_addr(d), 4);
	return true;
}

/* The single next hop's gateway, or 0. */
static uint32_t route_gw(struct rtnl_route *r)
{
	struct rtnl_nexthop *nh;
	struct nl_addr *gw;
	uint32_t a = 0;

	if (rtnl_route_get_nnexthops(r) != 1)
		return 0;
	nh = rtnl_route_nexthop_n(r, 0);
	gw = nh ? rtnl_route_nh_get_gateway(nh) : NULL;
	if (gw && nl_addr_get_family(gw) == AF_INET && nl_addr_get_len(gw) == 4)
		memcpy(&a, nl_addr_get_binary_addr(gw), 4);
	return a;
}

static struct want *find_want(struct scan *s, uint32_t addr, uint8_t len)
{
	for (size_t i = 0; i < s->nw; i++)
		if (s->w[i].n->pod_cidr == addr && s->w[i].n->pod_cidr_len == len)
			return &s->w[i];
	return NULL;
}

static void scan_one(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct scan *s = arg;
	struct want *w;
	uint32_t addr;
	uint8_t len;

	if (rtnl_route_get_family(r) != AF_INET || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    !route_dst(r, &addr, &len))
		return;
	w = find_want(s, addr, len);
	if (rtnl_route_get_protocol(r) != SL_RTPROT) {
		if (w && rtnl_route_get_priority(r) == 0)
			w->taken = true;
		return;
	}
	if (w && rtnl_route_get_priority(r) == 0 && !w->ours) {
		w->ours = r;
		w->ok = route_gw(r) == w->n->node_ip;
		return;
	}
	s->stale[s->nstale++] = r;
}

static struct rtnl_route *build_route(const struct sl_node_route *n)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(AF_INET, &n->pod_cidr, 4);
	struct nl_addr *gw = nl_addr_build(AF_INET, &n->node_ip, 4);

	if (!r || !nh || !dst || !gw) {
		rtnl_route_put(r);
		rtnl_route_nh_free(nh);
		nh = NULL;
		r = NULL;
		goto out;
	}
	nl_addr_set_prefixlen(dst, n->pod_cidr_len);
	rtnl_route_set_family(r, AF_INET);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, SL_RTPROT);
	rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_set_priority(r, 0);
	rtnl_route_set_dst(r, dst);
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(r, nh); /* r owns nh now */
out:
	nl_addr_put(dst);
	nl_addr_put(gw);
	return r;
}

/* Valid, not self, and not a repeat of an earlier node's range. */
static bool wanted(const struct sl_node_route *nodes, size_t i, const char *self)
{
	const struct sl_node_route *n = &nodes[i];
	char c[32];

	if (self && !strcmp(n->name, self))
		return false;
	if (n->pod_cidr_len < 1 || n->pod_cidr_len > 32 || !n->node_ip) {
		pr_warn("node %s: no usable pod range or address: no route", n->name);
		return false;
	}
	for (size_t j = 0; j < i; j++) {
		if (self && !strcmp(nodes[j].name, self))
			continue;
		if (nodes[j].pod_cidr == n->pod_cidr && nodes[j].pod_cidr_len == n->pod_cidr_len) {
			pr_warn("node %s: pod range %s is node %s's too: no route for it", n->name,
				cidr_str(n->pod_cidr, n->pod_cidr_len, c, sizeof(c)),
				nodes[j].name);
			return false;
		}
	}
	return true;
}

static void keep_first(int *err, int e)
{
	if (e && !*err)
		*err = e;
}

int sl_routes_sync(const struct sl_node_route *nodes, size_t n, const char *self)
{
	struct nl_cache *cache = NULL;
	struct nl_sock *sk = NULL;
	struct scan s = {0};
	char c[32], g[INET_ADDRSTRLEN];
	int err = 0, e;

	s.w = calloc(n ? n : 1, sizeof(*s.w));
	if (!s.w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (wanted(nodes, i, self))
			s.w[s.nw++].n = &nodes[i];

	sk = nl_socket_alloc();
	if (!sk) {
		err = -ENOMEM;
		goto out;
	}
	e = nl_connect(sk, NETLINK_ROUTE);
	if (!e)
		e = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);
	if (e) {
		pr_err("routes: read the routing table: %s", nl_geterror(e));
		err = nl_to_errno(e);
		goto out;
	}
	s.stale = calloc((size_t)nl_cache_nitems(cache) + 1, sizeof(*s.stale));
	if (!s.stale) {
		err = -ENOMEM;
		goto out;
	}
	nl_cache_foreach(cache, scan_one, &s);

	for (size_t i = 0; i < s.nstale; i++) {
		uint32_t addr = 0;
		uint8_t len = 0;

		route_dst(s.stale[i], &addr, &len);
		e = rtnl_route_delete(sk, s.stale[i], 0);
		if (e && e != -NLE_OBJ_NOTFOUND) {
			pr_err("route %s: delete: %s", cidr_str(addr, len, c, sizeof(c)),
			       nl_geterror(e));
			keep_first(&err, nl_to_errno(e));
		} else {
			pr_info("route %s: deleted (no node has this pod range now)",
				cidr_str(addr, len, c, sizeof(c)));
		}
	}
	for (size_t i = 0; i < s.nw; i++) {
		const struct sl_node_route *nr = s.w[i].n;
		struct rtnl_route *r;

		cidr_str(nr->pod_cidr, nr->pod_cidr_len, c, sizeof(c));
		ip_str(nr->node_ip, g);
		if (s.w[i].ok)
			continue;
		if (s.w[i].taken && !s.w[i].ours) {
			pr_warn("route %s: another route (not ours) already covers it at metric 0: "
				"node %s not routed",
				c, nr->name);
			keep_first(&err, -EEXIST);
			continue;
		}
		r = build_route(nr);
		if (!r) {
			keep_first(&err, -ENOMEM);
			continue;
		}
		/* Replace only over our own route: EXCL otherwise, so nobody's is taken over. */
		e = rtnl_route_add(sk, r,
				   NLM_F_CREATE | (s.w[i].ours ? NLM_F_REPLACE : NLM_F_EXCL));
		rtnl_route_put(r);
		if (e) {
			pr_err("route %s via %s (node %s): add: %s", c, g, nr->name,
			       nl_geterror(e));
			keep_first(&err, nl_to_errno(e));
			continue;
		}
		pr_info("route %s via %s (node %s): %s", c, g, nr->name,
			s.w[i].ours ? "next hop changed" : "added");
	}
out:
	free(s.stale);
	free(s.w);
	if (cache)
		nl_cache_free(cache);
	nl_socket_free(sk);
	return err;
}

int sl_routes_flush(void)
{
	return sl_routes_sync(NULL, 0, NULL);
}
