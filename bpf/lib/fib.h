/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fib.h - cross-node forwarding without the host stack: the node's FIB is asked for the next
 * hop of a packet leaving a pod for a non-local destination (bpf_fib_lookup), and the packet is
 * sent straight out of the next hop's device (bpf_redirect with the neighbour's MAC written in,
 * or bpf_redirect_neigh when the neighbour is not resolved yet). Whatever the FIB does not hand
 * over as a plain forward (the node's own addresses, broadcast, unreachable, blackhole, a packet
 * too big for the next hop, TTL about to expire) goes to the host stack, which answers with the
 * right ICMP error or delivers locally. Used only when SL_CFG_FIB is set, and only for packets
 * to pods (addresses with a pod identity in sl_ident): traffic to nodes and the outside world
 * keeps the host stack's semantics (netfilter: an administrator's masquerading, firewalling).
 */
#ifndef SL_FIB_H
#define SL_FIB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sl_abi.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/ttl.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* Is addr a pod's (of any node)? Only pod-to-pod traffic takes the FIB path. */
static __always_inline int sl_fib_is_pod(const struct sl_addr *addr)
{
	struct sl_ident_val *v = bpf_map_lookup_elem(&sl_ident, addr);

	return v && v->id >= SL_IDENTITY_FIRST;
}

/*
 * Forward p (an IPv4 packet from a local pod, policy already passed) to its next hop. Returns
 * TC_ACT_REDIRECT when the packet was handed to the next hop's device, TC_ACT_OK when the host
 * stack must deal with it, or a negative SL_DROP_* reason.
 */
static __always_inline int sl_fib_forward(struct __sk_buff *skb, const struct sl_pkt *p)
{
	struct bpf_fib_lookup fib = {};
	__u8 macs[2 * ETH_ALEN];
	struct iphdr ip;
	long rc;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return -SL_DROP_TRUNCATED;
	if (ip.ttl <= 1) /* the stack sends the ICMP time exceeded */
		return TC_ACT_OK;
	fib.family = AF_INET;
	fib.tos = ip.tos;
	fib.l4_protocol = p->proto;
	fib.sport = p->sport;
	fib.dport = p->dport;
	fib.tot_len = 0; /* 0: the kernel checks the skb (GSO aware) against the device MTU */
	fib.ipv4_src = ip.saddr;
	fib.ipv4_dst = ip.daddr;
	fib.ifindex = skb->ifindex; /* input device: policy routing and its forwarding switch */

	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return TC_ACT_OK;
	if (sl_ipv4_dec_ttl(skb))
		return -SL_DROP_MALFORMED;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* The kernel resolves the neighbour and queues the packet meanwhile. NULL params:
		 * it looks up the next hop itself (works back to Linux 5.10's two-argument form).
		 */
		rc = bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
		return rc == TC_ACT_REDIRECT ? rc : -SL_DROP_REDIRECT;
	}
	__builtin_memcpy(macs, fib.dmac, ETH_ALEN);
	__builtin_memcpy(macs + ETH_ALEN, fib.smac, ETH_ALEN);
	if (bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0))
		return -SL_DROP_TRUNCATED;
	rc = bpf_redirect(fib.ifindex, 0);
	return rc == TC_ACT_REDIRECT ? rc : -SL_DROP_REDIRECT;
}

#endif /* SL_FIB_H */
