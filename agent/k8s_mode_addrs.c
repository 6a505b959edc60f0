// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_mode_addrs.c - the node's own addresses as the policy model wants them: the Node object
 * (if any) plus the addresses of the agent's network-namespace interfaces, so that traffic
 * from the node (kubelet probes) is SL_IDENTITY_HOST; and the netlink subscription that says
 * when those addresses change. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <linux/rtnetlink.h>

#include "k8s_mode.h"
#include "log.h"

static bool has_addr(const struct sl_node *n, const struct sl_addr *a)
{
	for (size_t i = 0; i < n->n_addrs; i++)
		if (!memcmp(&n->addrs[i], a, sizeof(*a)))
			return true;
	return false;
}

static int add_addr(struct sl_node *n, const struct sl_addr *a)
{
	struct sl_addr *v;

	if (has_addr(n, a))
		return 0;
	v = realloc(n->addrs, (n->n_addrs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[n->n_addrs++] = *a;
	n->addrs = v;
	return 0;
}

int sl_k8s_mode_node_addrs(struct sl_node *n)
{
	struct ifaddrs *ifa, *i;
	int err = 0;

	if (getifaddrs(&ifa)) {
		err = -errno;
		pr_warn("node %s: list interface addresses: %s", n->name, strerror(errno));
		return err;
	}
	for (i = ifa; i && !err; i = i->ifa_next) {
		struct sl_addr a = {0};

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a.w[2] = htonl(0xffff);
			a.w[3] = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *s = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(s))
				continue;
			memcpy(&a, s, sizeof(a));
		} else {
			continue;
		}
		err = add_addr(n, &a);
	}
	freeifaddrs(ifa);
	return err;
}

struct nl_sock *sl_k8s_mode_addr_watch(void)
{
	struct nl_sock *s = nl_socket_alloc();
	int err;

	if (!s) {
		pr_warn("node addresses: watch: %s", strerror(ENOMEM));
		return NULL;
	}
	nl_socket_disable_seq_check(s);
	nl_socket_disable_auto_ack(s);
	err = nl_connect(s, NETLINK_ROUTE);
	err = err ?: nl_socket_add_memberships(s, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, 0);
	err = err ?: nl_socket_set_nonblocking(s);
	if (err) {
		pr_warn("node addresses: watch: %s (the addresses of the start are kept)",
			nl_geterror(err));
		nl_socket_free(s);
		return NULL;
	}
	return s;
}

bool sl_k8s_mode_addr_changed(struct nl_sock *s)
{
	unsigned char buf[8192];
	bool changed = false;
	ssize_t n;

	/* Any message of the groups is a change; what changed is read again whole. An
	 * overflow (ENOBUFS) lost some: a change too. */
	while ((n = recv(nl_socket_get_fd(s), buf, sizeof(buf), 0)) > 0 ||
	       (n < 0 && errno == ENOBUFS))
		changed = true;
	return changed;
}
