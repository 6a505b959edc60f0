/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * endpoint.h - endpoints: anti-spoofing of what a pod sends, and same-node delivery by
 * bpf_redirect_peer. A pod's packets arrive on its host veth's tc ingress, so skb->ifindex is
 * the host veth: a source is the pod's own only when its endpoint names that very ifindex.
 */
#ifndef SL_ENDPOINT_H
#define SL_ENDPOINT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/ttl.h"

static __always_inline struct sl_endpoint *sl_ep_lookup(const struct sl_addr *a)
{
	return bpf_map_lookup_elem(&sl_endpoints, a);
}

/*
 * The endpoint of a pod on this node, or NULL. (The barrier keeps clang from turning the test
 * into a branch-free mask of the pointer, which the verifier rejects.)
 */
static __always_inline struct sl_endpoint *sl_ep_local(const struct sl_addr *a)
{
	struct sl_endpoint *ep = sl_ep_lookup(a);

	if (ep && !(ep->flags & SL_EP_F_LOCAL)) {
		ep = NULL;
		asm volatile("" : "+r"(ep));
	}
	return ep;
}

/* The local endpoint owning addr on this veth, or NULL (spoofed or unknown). */
static __always_inline struct sl_endpoint *sl_ep_on_veth(struct __sk_buff *skb,
							 const struct sl_addr *addr)
{
	struct sl_endpoint *ep = sl_ep_lookup(addr);

	if (!ep || !(ep->flags & SL_EP_F_LOCAL) || ep->ifindex != skb->ifindex)
		return NULL;
	return ep;
}

/* ARP from a pod: its sender IP and sender MAC must both be the pod's own. */
static __always_inline int sl_arp_sender_ok(struct __sk_buff *skb, const struct sl_pkt *p)
{
	struct sl_endpoint *ep = sl_ep_on_veth(skb, &p->saddr);
	const __u8 *m;

	if (!ep)
		return 0;
	m = ep->pod_mac;
	return m[0] == p->sha[0] && m[1] == p->sha[1] && m[2] == p->sha[2] && m[3] == p->sha[3] &&
	       m[4] == p->sha[4] && m[5] == p->sha[5];
}

/*
 * Deliver an IPv4 packet into a local pod, bypassing the host stack: TTL decremented (ttl.h),
 * Ethernet as the pod would see it from its host veth (dst = pod MAC, src = host veth MAC),
 * then bpf_redirect_peer() to the peer of the destination's host veth. Returns
 * TC_ACT_REDIRECT; TC_ACT_OK when the TTL expires here (the host stack sends the ICMP time
 * exceeded); or a negative SL_DROP_* reason.
 */
static __always_inline int sl_redirect_local(struct __sk_buff *skb, const struct sl_endpoint *dst)
{
	struct ethhdr *eth = sl_hdr(skb, 0, ETH_HLEN + sizeof(struct iphdr));
	struct iphdr *ip;
	int ret;

	if (!eth)
		return -SL_DROP_TRUNCATED;
	ip = (struct iphdr *)(eth + 1);
	if (ip->ttl <= 1)
		return TC_ACT_OK;
	sl_ipv4_dec_ttl_direct(ip);
	__builtin_memcpy(eth->h_dest, dst->pod_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, dst->host_mac, ETH_ALEN);
	ret = bpf_redirect_peer(dst->ifindex, 0);
	return ret == TC_ACT_REDIRECT ? ret : -SL_DROP_REDIRECT;
}

#endif /* SL_ENDPOINT_H */
