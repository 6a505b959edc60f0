// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * datapath.bpf.c - entry points only: sl_from_pod (host veth tc ingress: packets leaving the
 * pod) and sl_to_pod (host veth tc egress: packets entering the pod from the host stack).
 * Parsing, lookups, conntrack, policy and counting live in lib/; each step below is one call.
 *
 * A same-node packet is redirected into its destination pod by sl_from_pod and never reaches
 * sl_to_pod, so sl_from_pod enforces the destination's ingress policy too. A packet for another
 * node goes to the host stack, or with SL_CFG_FIB straight to the FIB's next hop (lib/fib.h);
 * packets from other nodes reach a pod through the host stack and sl_to_pod.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sl_abi.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/verdict.h"
#include "lib/endpoint.h"
#include "lib/enforce.h"
#include "lib/fib.h"

static __always_inline int from_pod_arp(struct __sk_buff *skb)
{
	struct sl_pkt p = {};
	int err = sl_parse_arp(skb, &p);

	if (err)
		return sl_drop(skb, &p, err, SL_DIR_EGRESS);
	if (!sl_arp_sender_ok(skb, &p))
		return sl_drop(skb, &p, SL_DROP_SPOOFED_ARP, SL_DIR_EGRESS);
	return sl_pass(skb, SL_FWD_ARP, SL_DIR_EGRESS, TC_ACT_OK);
}

/* Not a local pod: the host stack routes it, or (SL_CFG_FIB, to a pod on another node) the
 * FIB's next hop directly. */
static __always_inline int from_pod_remote(struct __sk_buff *skb, struct sl_pkt *p)
{
	int ret;

	if (!SL_CFG_ON(SL_CFG_FIB) || !sl_fib_is_pod(&p->daddr))
		return sl_pass(skb, SL_FWD_STACK, SL_DIR_EGRESS, TC_ACT_OK);
	ret = sl_fib_forward(skb, p);
	if (ret < 0)
		return sl_drop(skb, p, -ret, SL_DIR_EGRESS);
	if (ret == TC_ACT_OK)
		return sl_pass(skb, SL_FWD_STACK, SL_DIR_EGRESS, TC_ACT_OK);
	return sl_pass(skb, SL_FWD_FIB, SL_DIR_EGRESS, ret);
}

static __always_inline int from_pod_ipv4(struct __sk_buff *skb)
{
	struct sl_endpoint *src, *dst;
	struct sl_pkt p = {};
	int err;

	err = sl_parse_ipv4(skb, &p);
	if (err)
		return sl_drop(skb, &p, err, SL_DIR_EGRESS);
	src = sl_ep_on_veth(skb, &p.saddr);
	if (!src)
		return sl_drop(skb, &p, SL_DROP_SPOOFED_IP, SL_DIR_EGRESS);
	err = sl_parse_l4(skb, &p);
	if (err)
		return sl_drop(skb, &p, err, SL_DIR_EGRESS);
	dst = sl_ep_local(&p.daddr);
	if (sl_enforce(skb, &p, src, dst, SL_DIR_EGRESS))
		return TC_ACT_SHOT;
	if (!dst)
		return from_pod_remote(skb, &p);
	err = sl_redirect_local(skb, dst);
	if (err < 0)
		return sl_drop(skb, &p, -err, SL_DIR_EGRESS);
	if (err == TC_ACT_OK) /* TTL expired: the stack answers */
		return sl_pass(skb, SL_FWD_STACK, SL_DIR_EGRESS, TC_ACT_OK);
	return sl_pass(skb, SL_FWD_REDIRECT, SL_DIR_EGRESS, err);
}

SEC("tc")
int sl_from_pod(struct __sk_buff *skb)
{
	struct sl_pkt p = {};
	__be16 proto;
	int err;

	err = sl_parse_eth(skb, &proto);
	if (err)
		return sl_drop(skb, &p, err, SL_DIR_EGRESS);
	switch (proto) {
	case bpf_htons(ETH_P_IP):
		return from_pod_ipv4(skb);
	case bpf_htons(ETH_P_ARP):
		return from_pod_arp(skb);
	case bpf_htons(ETH_P_IPV6):
		return sl_drop(skb, &p, SL_DROP_IPV6, SL_DIR_EGRESS);
	default:
		return sl_drop(skb, &p, SL_DROP_UNKNOWN_L3, SL_DIR_EGRESS);
	}
}

static __always_inline int to_pod_ipv4(struct __sk_buff *skb)
{
	struct sl_endpoint *dst;
	struct sl_pkt p = {};
	int err;

	err = sl_parse_ipv4(skb, &p);
	if (err)
		return sl_drop(skb, &p, err, SL_DIR_INGRESS);
	dst = sl_ep_on_veth(skb, &p.daddr);
	if (!dst)
		return sl_drop(skb, &p, SL_DROP_NO_ENDPOINT, SL_DIR_INGRESS);
	err = sl_parse_l4(skb, &p);
	if (err)
		return sl_drop(skb, &p, err, SL_DIR_INGRESS);
	if (sl_enforce(skb, &p, NULL, dst, SL_DIR_INGRESS))
		return TC_ACT_SHOT;
	return sl_pass(skb, SL_FWD_TO_POD, SL_DIR_INGRESS, TC_ACT_OK);
}

SEC("tc")
int sl_to_pod(struct __sk_buff *skb)
{
	struct sl_pkt p = {};
	__be16 proto;
	int err;

	err = sl_parse_eth(skb, &proto);
	if (err)
		return sl_drop(skb, &p, err, SL_DIR_INGRESS);
	switch (proto) {
	case bpf_htons(ETH_P_IP):
		return to_pod_ipv4(skb);
	case bpf_htons(ETH_P_ARP):
		return sl_pass(skb, SL_FWD_ARP, SL_DIR_INGRESS, TC_ACT_OK);
	case bpf_htons(ETH_P_IPV6):
		return sl_drop(skb, &p, SL_DROP_IPV6, SL_DIR_INGRESS);
	default:
		return sl_drop(skb, &p, SL_DROP_UNKNOWN_L3, SL_DIR_INGRESS);
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
