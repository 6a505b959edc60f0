// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * peer.bpf.c - the benchmark's limit: the least a tc program can do to forward same-node
 * pod traffic. On a host veth's tc ingress: one hash lookup of the IPv4 destination, the two
 * MAC addresses rewritten, bpf_redirect_peer() into the destination pod. No parsing beyond
 * the IPv4 header, no counters, no checks. Anything not found goes to the host stack.
 * Bench only: never loaded by Sluice itself.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "peer.h"

/* Filled by peer_attach.c. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __be32);
	__type(value, struct slb_peer_dst);
	__uint(max_entries, SLB_PEER_MAX);
} slb_peer_dst SEC(".maps");

SEC("tc")
int slb_peer(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct slb_peer_dst *dst;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	dst = bpf_map_lookup_elem(&slb_peer_dst, &ip->daddr);
	if (!dst)
		return TC_ACT_OK;
	/* pod_mac and host_mac are adjacent: one 12-byte store rewrites both addresses. */
	if (bpf_skb_store_bytes(skb, 0, dst->pod_mac, 2 * ETH_ALEN, 0))
		return TC_ACT_SHOT;
	return bpf_redirect_peer(dst->ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
