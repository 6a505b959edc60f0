// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * veth.c - the pod's veth pair through libnl-route-3: naming, creation (the peer is created
 * straight into the pod's netns under CNI_IFNAME), addresses, routes, the gateway's permanent
 * neighbour entry, the host side's sysctls, and the lookups CHECK and GC need.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "cni.h"
#include "log.h"
#include "sl_abi.h"

/* libnl has its own error space; callers get -errno. */
static int nl2errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

void sl_mac_str(const unsigned char mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

/* FNV-1a 64 over "containerID/ifname"; 48 bits keep collisions negligible per node. */
void sl_veth_name(const char *container_id, const char *ifname, char out[16])
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[] = {container_id, "/", ifname};

	for (int i = 0; i < 3; i++)
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
			h = (h ^ *p) * 0x100000001b3ull;
	snprintf(out, 16, SL_VETH_PREFIX "%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

static int open_sock(void *arg)
{
	struct nl_sock **out = arg, *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err) {
		nl_socket_free(sk);
		return nl2errno(err);
	}
	*out = sk;
	return 0;
}

int sl_nl_open(int nsfd, struct nl_sock **out)
{
	*out = NULL;
	return nsfd < 0 ? open_sock(out) : sl_netns_run(nsfd, open_sock, out);
}

void sl_nl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

int sl_link_get(struct nl_sock *sk, const char *name, struct sl_link_info *out)
{
	struct rtnl_link *l = NULL;
	struct nl_addr *a;
	const char *s;
	int err;

	memset(out, 0, sizeof(*out));
	err = rtnl_link_get_kernel(sk, 0, name, &l);
	if (err)
		return err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV ? -ENODEV : nl2errno(err);
	out->ifindex = rtnl_link_get_ifindex(l);
	a = rtnl_link_get_addr(l);
	if (a && nl_addr_get_len(a) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(a), 6);
	out->up = rtnl_link_get_flags(l) & IFF_UP;
	out->mtu = (int)rtnl_link_get_mtu(l);
	s = rtnl_link_get_type(l);
	snprintf(out->kind, sizeof(out->kind), "%s", s ? s : "");
	s = rtnl_link_get_ifalias(l);
	snprintf(out->alias, sizeof(out->alias), "%s", s ? s : "");
	rtnl_link_put(l);
	return 0;
}

int sl_link_foreach(struct nl_sock *sk, const char *prefix,
		    void (*cb)(const char *name, const struct sl_link_info *l, void *arg),
		    void *arg)
{
	struct nl_cache *cache;
	struct nl_object *o;
	struct sl_link_info info;
	int err;

	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err)
		return nl2errno(err);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		const char *name = rtnl_link_get_name((struct rtnl_link *)o);

		if (!name || strncmp(name, prefix, strlen(prefix)))
			continue;
		if (sl_link_get(sk, name, &info) == 0)
			cb(name, &info, arg);
	}
	nl_cache_free(cache);
	return 0;
}

int sl_link_del(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	err = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
		return 0;
	if (err)
		pr_err("link %s: delete: %s", name, nl_geterror(err));
	return nl2errno(err);
}

static int link_change(struct nl_sock *sk, int ifindex, struct rtnl_link *change)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	int err;

	if (!orig)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	err = rtnl_link_change(sk, orig, change, 0);
	rtnl_link_put(orig);
	return nl2errno(err);
}

int sl_veth_set_up(struct nl_sock *sk, int ifindex, const char *what, struct cni_error *e)
{
	struct rtnl_link *ch = rtnl_link_alloc();
	int err;

	if (!ch)
		return -ENOMEM;
	rtnl_link_set_flags(ch, IFF_UP);
	err = link_change(sk, ifindex, ch);
	rtnl_link_put(ch);
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL, "%s: set up: %s", what, strerror(-err));
	return 0;
}

int sl_veth_check_free(struct nl_sock *host, struct nl_sock *pod, const char *host_name,
		       const char *ifname, struct cni_error *e)
{
	struct sl_link_info info;

	if (sl_link_get(host, host_name, &info) == 0)
		return cni_err(e, -EEXIST, SL_ERR_EXISTS,
			       "host veth %s: already exists (ADD twice without DEL?)", host_name);
	if (sl_link_get(pod, ifname, &info) == 0)
		return cni_err(e, -EEXIST, SL_ERR_EXISTS,
			       "CNI_IFNAME %s: already exists in the container's netns", ifname);
	return 0;
}

/*
 * In the pod's netns (sl_netns_run): no IPv6 on the pod's interface, which is not up yet. Pods
 * get IPv4 only, and the datapath drops IPv6; with it on, the interface's own router and
 * neighbour solicitations would be counted as drops nobody asked about. ENOENT: IPv6 is off.
 */
static int pod_no_ipv6(void *ifname)
{
	char path[96];
	int err;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", (char *)ifname);
	err = sl_sysctl_write(path, "1");
	return err == -ENOENT ? 0 : err;
}

int sl_veth_create(struct nl_sock *host, struct nl_sock *pod, int nsfd, const char *ifname,
		   const char *alias, int mtu, struct sl_veth *v, struct cni_error *e)
{
	struct rtnl_link *link, *peer, *ch;
	struct sl_link_info info;
	int err;

	link = rtnl_link_veth_alloc();
	if (!link)
		return cni_err(e, -ENOMEM, SL_ERR_INTERNAL, "veth: out of memory");
	rtnl_link_set_name(link, v->host_name);
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(peer, ifname);
	rtnl_link_set_ns_fd(peer, nsfd); /* created in the pod: no name clash in the host */
	if (mtu) {
		rtnl_link_set_mtu(link, (unsigned)mtu);
		rtnl_link_set_mtu(peer, (unsigned)mtu);
	}
	err = rtnl_link_add(host, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(link);
	if (err)
		return cni_err(e, nl2errno(err), SL_ERR_INTERNAL, "veth %s/%s: create: %s",
			       v->host_name, ifname, nl_geterror(err));

	err = sl_link_get(host, v->host_name, &info);
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL, "host veth %s: vanished after create: %s",
			       v->host_name, strerror(-err));
	v->host_ifindex = info.ifindex;
	memcpy(v->host_mac, info.mac, 6);
	err = sl_link_get(pod, ifname, &info);
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL,
			       "%s: not found in the netns after create: %s", ifname,
			       strerror(-err));
	v->pod_ifindex = info.ifindex;
	memcpy(v->pod_mac, info.mac, 6);

	/* The alias names the attachment, so GC can map a veth back to containerID/ifname. */
	ch = rtnl_link_alloc();
	if (!ch)
		return -ENOMEM;
	rtnl_link_set_ifalias(ch, alias);
	err = link_change(host, v->host_ifindex, ch);
	rtnl_link_put(ch);
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL, "host veth %s: set alias: %s", v->host_name,
			       strerror(-err));
	err = sl_netns_run(nsfd, pod_no_ipv6, (void *)ifname);
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL,
			       "%s: write /proc/sys/net/ipv6/conf/%s/disable_ipv6 in the pod: %s",
			       ifname, ifname, strerror(-err));
	return 0;
}

static int parse_addr(const char *s, struct nl_addr **out)
{
	return nl2errno(nl_addr_parse(s, AF_INET, out));
}

static int add_route(struct nl_sock *sk, const char *dst, int ifindex, const char *gw,
		     const char *where, struct cni_error *e)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = NULL, *g = NULL;
	int err;

	if (!r || !nh) {
		err = -ENOMEM;
		goto out;
	}
	err = parse_addr(dst, &d);
	if (!err && gw)
		err = parse_addr(gw, &g);
	if (err) {
		cni_err(e, err, SL_ERR_IPAM, "%s: route %s: bad address", where, dst);
		goto out;
	}
	rtnl_route_set_family(r, AF_INET);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_dst(r, d);
	rtnl_route_set_scope(r, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (g) {
		rtnl_route_nh_set_gateway(nh, g);
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK); /* the gateway is on no subnet */
	}
	rtnl_route_add_nexthop(r, nh);
	nh = NULL;
	err = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_EXCL);
	if (err)
		cni_err(e, nl2errno(err), SL_ERR_INTERNAL, "%s: add route %s%s%s: %s", where, dst,
			gw ? " via " : "", gw ? gw : "", nl_geterror(err));
	err = nl2errno(err);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	if (r)
		rtnl_route_put(r);
	return err;
}

int sl_veth_setup_pod(struct nl_sock *pod, const struct sl_veth *v, const char *ifname,
		      const char *ip, const struct sl_ipam_result *res, struct cni_error *e)
{
	struct rtnl_addr *a = NULL;
	struct rtnl_neigh *n = NULL;
	struct nl_addr *local = NULL, *gw = NULL, *ll = NULL;
	char cidr[24], where[40];
	int err, i;

	snprintf(where, sizeof(where), "pod %s", ifname);
	err = sl_veth_set_up(pod, v->pod_ifindex, where, e);
	if (err)
		return err;

	snprintf(cidr, sizeof(cidr), "%s/32", ip);
	a = rtnl_addr_alloc();
	err = a ? parse_addr(cidr, &local) : -ENOMEM;
	if (err)
		goto out;
	rtnl_addr_set_ifindex(a, v->pod_ifindex);
	rtnl_addr_set_family(a, AF_INET);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, 32);
	err = rtnl_addr_add(pod, a, 0);
	if (err) {
		err = cni_err(e, nl2errno(err), SL_ERR_INTERNAL, "%s: add address %s: %s", where,
			      cidr, nl_geterror(err));
		goto out;
	}

	/* The gateway is answered by nobody: a permanent entry to the host veth's MAC. */
	n = rtnl_neigh_alloc();
	err = n ? parse_addr(SL_GATEWAY_V4, &gw) : -ENOMEM;
	if (err)
		goto out;
	ll = nl_addr_build(AF_LLC, v->host_mac, 6);
	if (!ll) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_neigh_set_ifindex(n, v->pod_ifindex);
	rtnl_neigh_set_family(n, AF_INET);
	rtnl_neigh_set_dst(n, gw);
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	err = rtnl_neigh_add(pod, n, NLM_F_CREATE | NLM_F_REPLACE);
	if (err) {
		err = cni_err(e, nl2errno(err), SL_ERR_INTERNAL, "%s: add neighbour %s: %s", where,
			      SL_GATEWAY_V4, nl_geterror(err));
		goto out;
	}

	if (!res->nroutes)
		err = add_route(pod, "0.0.0.0/0", v->pod_ifindex, SL_GATEWAY_V4, where, e);
	for (i = 0; !err && i < res->nroutes; i++)
		err = add_route(pod, res->routes[i].dst, v->pod_ifindex, SL_GATEWAY_V4, where, e);
out:
	if (err == -ENOMEM)
		cni_err(e, err, SL_ERR_INTERNAL, "%s: out of memory", where);
	nl_addr_put(local);
	nl_addr_put(gw);
	nl_addr_put(ll);
	if (a)
		rtnl_addr_put(a);
	if (n)
		rtnl_neigh_put(n);
	return err;
}

int sl_sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		err = -errno;
	close(fd);
	return err;
}

int sl_sysctl_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n'))
		buf[--n] = '\0';
	return 0;
}

int sl_veth_setup_host(struct nl_sock *host, const struct sl_veth *v, const char *ip,
		       struct cni_error *e)
{
	static const char *const knobs[][2] = {{"accept_ra", "0"}, {"disable_ipv6", "1"}};
	char path[128], cidr[24], where[32];
	int err;

	/* A pod must not be able to send router advertisements to the node (CVE-2020-10749). */
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", v->host_name,
			 knobs[i][0]);
		err = sl_sysctl_write(path, knobs[i][1]);
		if (err && err != -ENOENT) /* ENOENT: IPv6 is off in this kernel */
			return cni_err(e, err, SL_ERR_INTERNAL, "%s: write %s: %s", v->host_name,
				       path, strerror(-err));
	}
	snprintf(where, sizeof(where), "host veth %s", v->host_name);
	err = sl_veth_set_up(host, v->host_ifindex, where, e);
	if (err)
		return err;
	snprintf(cidr, sizeof(cidr), "%s/32", ip);
	return add_route(host, cidr, v->host_ifindex, NULL, where, e);
}

int sl_check_addr(struct nl_sock *sk, int ifindex, const char *ip, const char *where,
		  struct cni_error *e)
{
	struct nl_cache *cache;
	struct nl_object *o;
	struct nl_addr *want = NULL;
	bool found = false;
	int err;

	err = nl2errno(rtnl_addr_alloc_cache(sk, &cache));
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL, "%s: list addresses: %s", where,
			       strerror(-err));
	err = parse_addr(ip, &want);
	for (o = nl_cache_get_first(cache); !err && o && !found; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *l = rtnl_addr_get_local(a);

		found = rtnl_addr_get_ifindex(a) == ifindex && rtnl_addr_get_family(a) == AF_INET &&
			rtnl_addr_get_prefixlen(a) == 32 && l &&
			!memcmp(nl_addr_get_binary_addr(l), nl_addr_get_binary_addr(want), 4);
	}
	nl_addr_put(want);
	nl_cache_free(cache);
	if (err || !found)
		return cni_err(e, -ENOENT, SL_ERR_DRIFT, "%s: address %s/32 missing", where, ip);
	return 0;
}

struct route_match {
	struct nl_addr *dst, *gw;
	int ifindex;
	bool found;
};

static void match_route(struct nl_object *o, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)o;
	struct route_match *m = arg;
	struct rtnl_nexthop *nh;
	struct nl_addr *d = rtnl_route_get_dst(r), *g;

	if (m->found || rtnl_route_get_table(r) != RT_TABLE_MAIN || !d ||
	    nl_addr_get_prefixlen(d) != nl_addr_get_prefixlen(m->dst) ||
	    (nl_addr_get_prefixlen(d) && nl_addr_cmp_prefix(d, m->dst)) ||
	    rtnl_route_get_nnexthops(r) != 1)
		return;
	nh = rtnl_route_nexthop_n(r, 0);
	if (rtnl_route_nh_get_ifindex(nh) != m->ifindex)
		return;
	g = rtnl_route_nh_get_gateway(nh);
	if (m->gw ? !g || nl_addr_cmp(g, m->gw) : !!g)
		return;
	m->found = true;
}

int sl_check_route(struct nl_sock *sk, const char *dst, int ifindex, const char *gw,
		   const char *where, struct cni_error *e)
{
	struct route_match m = {.ifindex = ifindex};
	struct nl_cache *cache;
	int err;

	err = nl2errno(rtnl_route_alloc_cache(sk, AF_INET, 0, &cache));
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL, "%s: list routes: %s", where,
			       strerror(-err));
	err = parse_addr(dst, &m.dst);
	if (!err && gw)
		err = parse_addr(gw, &m.gw);
	if (!err)
		nl_cache_foreach(cache, match_route, &m);
	nl_addr_put(m.dst);
	nl_addr_put(m.gw);
	nl_cache_free(cache);
	if (err || !m.found)
		return cni_err(e, -ENOENT, SL_ERR_DRIFT, "%s: route %s%s%s missing", where, dst,
			       gw ? " via " : "", gw ? gw : "");
	return 0;
}

int sl_check_neigh(struct nl_sock *sk, int ifindex, const char *ip, const unsigned char *mac,
		   const char *where, struct cni_error *e)
{
	struct nl_cache *cache;
	struct rtnl_neigh *n = NULL;
	struct nl_addr *dst = NULL, *ll;
	char want[18], got[18] = "none";
	int err;

	err = nl2errno(rtnl_neigh_alloc_cache(sk, &cache));
	if (err)
		return cni_err(e, err, SL_ERR_INTERNAL, "%s: list neighbours: %s", where,
			       strerror(-err));
	err = parse_addr(ip, &dst);
	if (!err)
		n = rtnl_neigh_get(cache, ifindex, dst);
	sl_mac_str(mac, want);
	err = -ENOENT;
	if (n) {
		ll = rtnl_neigh_get_lladdr(n);
		if (ll && nl_addr_get_len(ll) == 6)
			sl_mac_str(nl_addr_get_binary_addr(ll), got);
		if ((rtnl_neigh_get_state(n) & NUD_PERMANENT) && !strcmp(got, want))
			err = 0;
		rtnl_neigh_put(n);
	}
	nl_addr_put(dst);
	nl_cache_free(cache);
	if (err)
		return cni_err(e, err, SL_ERR_DRIFT, "%s: neighbour %s: want permanent %s, have %s",
			       where, ip, want, got);
	return 0;
}
