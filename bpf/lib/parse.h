/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.h - bounds-checked header parsing into struct sl_pkt. Every function returns 0 or an
 * SL_DROP_* reason; nothing here decides a verdict. Headers are read through direct packet
 * access; when the linear part of the skb is shorter than the headers (rare on veth), it is
 * pulled once, so a short linear area is never mistaken for a truncated packet.
 */
#ifndef SL_PARSE_H
#define SL_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sl_abi.h"

/* ARP for IPv4 over Ethernet: the only kind a pod may send. (linux/if_arp.h drags in libc's
 * socket headers, which do not build for -target bpf; so does linux/icmp.h.) */
#define SL_ARPHRD_ETHER 1
struct sl_arp_eth {
	struct {
		__be16 ar_hrd;
		__be16 ar_pro;
		__u8 ar_hln;
		__u8 ar_pln;
		__be16 ar_op;
	} hdr;
	__u8 sha[ETH_ALEN];
	__be32 spa;
	__u8 tha[ETH_ALEN];
	__be32 tpa;
} __attribute__((packed));

/* ICMP (linux/icmp.h, like linux/if_arp.h, pulls in libc headers). */
#define ICMP_ECHOREPLY	   0
#define ICMP_DEST_UNREACH  3
#define ICMP_ECHO	   8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
struct sl_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id; /* echo */
	__be16 sequence;
};

/* What the datapath needs of a packet, in network byte order. */
struct sl_pkt {
	struct sl_addr saddr; /* IPv4: v4-mapped; ARP: the sender protocol address */
	struct sl_addr daddr;
	__u32 len; /* skb->len: what counters count */
	__u16 l4_off;
	__u16 tot_len;
	__be16 sport; /* ICMP echo: the identifier (request) */
	__be16 dport; /* ICMP echo: the identifier (reply) */
	__be16 frag_id;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 frag;	    /* enum sl_frag */
	__u8 sctp_chunk;    /* type of the first chunk */
	__u8 tracked;	    /* conntrack applies: TCP, UDP, SCTP, ICMP echo */
	__u8 sha[ETH_ALEN]; /* ARP: sender hardware address */
};

enum sl_frag {
	SL_FRAG_NONE = 0,
	SL_FRAG_FIRST = 1, /* offset 0, more fragments: carries the L4 header */
	SL_FRAG_LATER = 2, /* offset > 0: no L4 header */
};

static __always_inline void sl_addr_v4(struct sl_addr *a, __be32 ip)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0xffff);
	a->w[3] = ip;
}

/*
 * A pointer to len bytes at off, or NULL when the packet is shorter. off and len must have
 * bounds the verifier can see (constants, or an IHL-derived offset below 80).
 */
static __always_inline void *sl_hdr(struct __sk_buff *skb, __u32 off, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (data + off + len <= end)
		return data + off;
	if (skb->len < off + len || bpf_skb_pull_data(skb, off + len))
		return NULL;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + off + len <= end)
		return data + off;
	return NULL;
}

/* The ethertype (network order) into *proto. */
static __always_inline int sl_parse_eth(struct __sk_buff *skb, __be16 *proto)
{
	struct ethhdr *eth = sl_hdr(skb, 0, sizeof(*eth));

	if (!eth)
		return SL_DROP_TRUNCATED;
	*proto = eth->h_proto;
	return 0;
}

/* ARP request or reply for IPv4 over Ethernet: sender into p->saddr/p->sha. */
static __always_inline int sl_parse_arp(struct __sk_buff *skb, struct sl_pkt *p)
{
	struct sl_arp_eth *arp = sl_hdr(skb, ETH_HLEN, sizeof(*arp));

	if (!arp)
		return SL_DROP_TRUNCATED;
	if (arp->hdr.ar_hrd != bpf_htons(SL_ARPHRD_ETHER) ||
	    arp->hdr.ar_pro != bpf_htons(ETH_P_IP) || arp->hdr.ar_hln != ETH_ALEN ||
	    arp->hdr.ar_pln != 4)
		return SL_DROP_MALFORMED;
	sl_addr_v4(&p->saddr, arp->spa);
	sl_addr_v4(&p->daddr, arp->tpa);
	__builtin_memcpy(p->sha, arp->sha, ETH_ALEN);
	p->len = skb->len;
	return 0;
}

/*
 * The IPv4 header: version, IHL and total length checked against the packet. The total length
 * may be shorter than the frame (Ethernet padding), never longer; a GSO packet larger than 64k
 * (BIG TCP) carries 0 there.
 */
static __always_inline int sl_parse_ipv4(struct __sk_buff *skb, struct sl_pkt *p)
{
	struct iphdr *ip = sl_hdr(skb, ETH_HLEN, sizeof(*ip));
	__u32 hlen, tot_len, frag;

	if (!ip)
		return SL_DROP_TRUNCATED;
	hlen = ip->ihl * 4;
	if (ip->version != 4 || hlen < sizeof(*ip))
		return SL_DROP_MALFORMED;
	tot_len = bpf_ntohs(ip->tot_len);
	if (tot_len == 0 && skb->gso_size)
		tot_len = skb->len - ETH_HLEN;
	if (tot_len < hlen || tot_len > skb->len - ETH_HLEN)
		return SL_DROP_MALFORMED;
	sl_addr_v4(&p->saddr, ip->saddr);
	sl_addr_v4(&p->daddr, ip->daddr);
	p->proto = ip->protocol;
	p->frag_id = ip->id;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff)
		p->frag = SL_FRAG_LATER;
	else if (frag & 0x2000)
		p->frag = SL_FRAG_FIRST;
	else
		p->frag = SL_FRAG_NONE;
	p->l4_off = ETH_HLEN + hlen;
	p->tot_len = tot_len;
	p->len = skb->len;
	return 0;
}

#define SL_L3_MAX_OFF (ETH_HLEN + 60) /* the largest IHL */

/* ICMP types that quote an offending packet (RFC 792): conntrack relates them to its flow. */
static __always_inline int sl_icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

/* Ports as conntrack keys them: an echo request's identifier is its source "port", an echo
 * reply's its destination "port", so that the reply is the request's reversed tuple. */
static __always_inline void sl_icmp_ports(__u8 type, __be16 id, __be16 *sport, __be16 *dport)
{
	*sport = type == ICMP_ECHO ? id : 0;
	*dport = type == ICMP_ECHOREPLY ? id : 0;
}

/*
 * The L4 header after sl_parse_ipv4: ports, TCP flags, SCTP's first chunk, ICMP type and echo
 * identifier. The IP total length bounds what counts as present, so Ethernet padding is never
 * read as a header. A non-first fragment has no L4 header: lib/frag.h fills its ports.
 */
static __always_inline int sl_parse_l4(struct __sk_buff *skb, struct sl_pkt *p)
{
	__u32 off = p->l4_off, avail;

	if (off > SL_L3_MAX_OFF) /* cannot happen; tells the verifier the bound */
		return SL_DROP_MALFORMED;
	avail = p->tot_len - (off - ETH_HLEN);
	if (p->frag == SL_FRAG_LATER)
		return 0;
	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = sl_hdr(skb, off, sizeof(*th));

		if (avail < sizeof(*th) || !th)
			return SL_DROP_TRUNCATED;
		if (th->doff < 5 || th->doff * 4 > avail)
			return SL_DROP_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->tracked = 1;
		return 0;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = sl_hdr(skb, off, sizeof(*uh));

		if (avail < sizeof(*uh) || !uh)
			return SL_DROP_TRUNCATED;
		p->sport = uh->source;
		p->dport = uh->dest;
		p->tracked = 1;
		return 0;
	}
	case IPPROTO_SCTP: {
		/* common header (ports, verification tag, checksum) and one chunk header */
		__u8 *sh = sl_hdr(skb, off, 16);

		if (avail < 16 || !sh)
			return SL_DROP_TRUNCATED;
		p->sport = *(__be16 *)sh;
		p->dport = *(__be16 *)(sh + 2);
		p->sctp_chunk = sh[12];
		p->tracked = 1;
		return 0;
	}
	case IPPROTO_ICMP: {
		struct sl_icmphdr *ic = sl_hdr(skb, off, sizeof(*ic));

		if (avail < sizeof(*ic) || !ic)
			return SL_DROP_TRUNCATED;
		p->icmp_type = ic->type;
		p->icmp_code = ic->code;
		if (ic->type == ICMP_ECHO || ic->type == ICMP_ECHOREPLY) {
			sl_icmp_ports(ic->type, ic->id, &p->sport, &p->dport);
			p->tracked = 1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

#endif /* SL_PARSE_H */
