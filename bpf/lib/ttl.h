/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ttl.h - the IPv4 TTL of a packet the datapath routes itself (same-node redirect, FIB
 * forward), decremented as the stack's ip_forward() would: pod to pod is a hop through the
 * node's gateway address whichever way it goes, so traceroute and TTL-scoped traffic see the
 * same with and without the shortcut.
 */
#ifndef SL_TTL_H
#define SL_TTL_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/*
 * Returns 0 when the TTL was decremented, 1 when it would expire (TTL <= 1: the packet is left
 * alone, for the host stack to answer with ICMP time exceeded), -1 on a helper error. The
 * header checksum is fixed incrementally (RFC 1624): TTL and protocol share one of its 16-bit
 * words. (Helpers rather than direct packet access: one more inlined sl_hdr() user makes clang
 * keep &skb->data_end in a register, which the verifier rejects as a modified ctx pointer.)
 */
static __always_inline int sl_ipv4_dec_ttl(struct __sk_buff *skb)
{
	__u8 old[2], new[2];

	if (bpf_skb_load_bytes(skb, ETH_HLEN + __builtin_offsetof(struct iphdr, ttl), old,
			       sizeof(old)))
		return -1;
	if (old[0] <= 1)
		return 1;
	new[0] = old[0] - 1;
	new[1] = old[1];
	if (bpf_skb_store_bytes(skb, ETH_HLEN + __builtin_offsetof(struct iphdr, ttl), new,
				sizeof(new), 0))
		return -1;
	if (bpf_l3_csum_replace(skb, ETH_HLEN + __builtin_offsetof(struct iphdr, check),
				*(__be16 *)old, *(__be16 *)new, sizeof(__be16)))
		return -1;
	return 0;
}

/*
 * The same on a header the program may write directly (the same-node path, whose Ethernet
 * rewrite already made the head writable): no helper calls, as the kernel's
 * ip_decrease_ttl(). The caller has checked TTL > 1. TTL - 1 takes 0x0100 off the header's
 * 16-bit word, so the one's complement checksum gains 0x0100, with the end-around carry.
 */
static __always_inline void sl_ipv4_dec_ttl_direct(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__sum16)(check + (check >= 0xffff));
	ip->ttl--;
}

#endif /* SL_TTL_H */
