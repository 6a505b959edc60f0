/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pkt.h - test packet builder: Ethernet frames described by a struct pkt_spec (addresses as
 * strings, ports in host order), built with correct lengths and checksums, then optionally
 * damaged by a mutate hook. Used by the BPF packet tests and the netns test's raw SCTP probe.
 */
#ifndef SL_TEST_PKT_H
#define SL_TEST_PKT_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 512

struct pkt {
	uint8_t data[PKT_MAX];
	uint32_t len;
};

struct pkt_spec {
	uint16_t eth_type; /* 0: IPv4 */
	const uint8_t *smac, *dmac;
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport; /* TCP/UDP/SCTP; ICMP echo: sport is the identifier */
	uint8_t tcp_flags;     /* TH_* */
	uint8_t icmp_type, icmp_code;
	uint8_t sctp_chunk; /* first chunk type (1 = INIT) */
	uint32_t sctp_tag;
	uint16_t frag_off; /* host order, flags included (0x2000 = MF) */
	uint16_t ip_id;
	const struct pkt_spec *inner; /* ICMP error: the offending packet (IP header + 8 bytes) */
	uint16_t payload;	      /* bytes of zero payload after the L4 header */
	const uint8_t *sha;	      /* ARP sender MAC (default: smac) */
	void (*mutate)(struct pkt *p);
};

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

static inline uint16_t pkt_csum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/* CRC32c (Castagnoli), as SCTP's checksum. */
static inline uint32_t pkt_crc32c(const uint8_t *b, size_t len)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < len; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1));
	}
	return ~crc;
}

static inline uint32_t pkt_ip(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ? a.s_addr : 0;
}

/* The L4 header (+payload) of spec at b; returns its length. */
static inline uint32_t pkt_l4(uint8_t *b, const struct pkt_spec *s, uint32_t saddr, uint32_t daddr);

/* An IPv4 packet (no Ethernet) at b; returns its length. */
static inline uint32_t pkt_ipv4(uint8_t *b, const struct pkt_spec *s)
{
	struct iphdr *ip = (struct iphdr *)b;
	uint32_t l4len;

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = s->proto;
	ip->saddr = pkt_ip(s->src);
	ip->daddr = pkt_ip(s->dst);
	ip->id = htons(s->ip_id);
	ip->frag_off = htons(s->frag_off);
	if (s->frag_off & 0x1fff) { /* a later fragment: payload only */
		l4len = s->payload ? s->payload : 8;
		memset(b + sizeof(*ip), 0, l4len);
	} else {
		l4len = pkt_l4(b + sizeof(*ip), s, ip->saddr, ip->daddr);
	}
	ip->tot_len = htons(sizeof(*ip) + l4len);
	ip->check = pkt_csum(ip, sizeof(*ip), 0);
	return sizeof(*ip) + l4len;
}

static inline uint32_t pkt_l4(uint8_t *b, const struct pkt_spec *s, uint32_t saddr, uint32_t daddr)
{
	uint32_t len = 0, sum;

	switch (s->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *t = (struct tcphdr *)b;

		len = sizeof(*t) + s->payload;
		memset(b, 0, len);
		t->source = htons(s->sport);
		t->dest = htons(s->dport);
		t->doff = 5;
		((uint8_t *)t)[13] = s->tcp_flags;
		t->window = htons(65535);
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *u = (struct udphdr *)b;

		len = sizeof(*u) + s->payload;
		memset(b, 0, len);
		u->source = htons(s->sport);
		u->dest = htons(s->dport);
		u->len = htons(len);
		break;
	}
	case IPPROTO_SCTP: {
		/* common header (12) + one chunk header (4) + INIT body (16) */
		uint32_t crc;

		len = 12 + 4 + 16;
		memset(b, 0, len);
		*(uint16_t *)b = htons(s->sport);
		*(uint16_t *)(b + 2) = htons(s->dport);
		*(uint32_t *)(b + 4) = htonl(s->sctp_chunk == 1 ? 0 : s->sctp_tag);
		b[12] = s->sctp_chunk;
		*(uint16_t *)(b + 14) = htons(4 + 16);
		*(uint32_t *)(b + 16) = htonl(s->sctp_tag); /* initiate tag */
		*(uint32_t *)(b + 20) = htonl(65536);	    /* a_rwnd */
		*(uint16_t *)(b + 24) = htons(1);	    /* outbound streams */
		*(uint16_t *)(b + 26) = htons(1);	    /* inbound streams */
		*(uint32_t *)(b + 28) = htonl(1);	    /* initial TSN */
		crc = pkt_crc32c(b, len);
		memcpy(b + 8, &crc, 4); /* CRC32c goes on the wire little-endian */
		return len;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *ic = (struct icmphdr *)b;

		len = sizeof(*ic);
		memset(b, 0, len);
		ic->type = s->icmp_type;
		ic->code = s->icmp_code;
		if (s->inner) {
			struct pkt_spec in = *s->inner;

			in.payload = 0;
			pkt_ipv4(b + len, &in);
			len += sizeof(struct iphdr) + 8; /* RFC 792: header + 64 bits */
		} else {
			ic->un.echo.id = htons(s->sport);
			ic->un.echo.sequence = htons(1);
			memset(b + len, 0, s->payload);
			len += s->payload;
		}
		ic->checksum = pkt_csum(b, len, 0);
		return len;
	}
	default:
		len = s->payload;
		memset(b, 0, len);
		return len;
	}
	/* TCP/UDP pseudo-header checksum */
	sum = ntohs(saddr & 0xffff) + ntohs(saddr >> 16) + ntohs(daddr & 0xffff) +
	      ntohs(daddr >> 16) + s->proto + len;
	if (s->proto == IPPROTO_TCP)
		((struct tcphdr *)b)->check = pkt_csum(b, len, sum);
	else
		((struct udphdr *)b)->check = pkt_csum(b, len, sum);
	return len;
}

static const uint8_t pkt_zero_mac[ETH_ALEN];

/* The Ethernet frame of spec. */
static inline struct pkt pkt_build(const struct pkt_spec *s)
{
	struct pkt p = {.len = ETH_HLEN};
	struct ethhdr *eth = (struct ethhdr *)p.data;
	uint16_t type = s->eth_type ? s->eth_type : ETH_P_IP;

	memset(p.data, 0, sizeof(p.data));
	memcpy(eth->h_dest, s->dmac ? s->dmac : pkt_zero_mac, ETH_ALEN);
	memcpy(eth->h_source, s->smac ? s->smac : pkt_zero_mac, ETH_ALEN);
	eth->h_proto = htons(type);
	if (type == ETH_P_IP) {
		p.len += pkt_ipv4(p.data + ETH_HLEN, s);
	} else if (type == ETH_P_ARP) {
		uint8_t *a = p.data + ETH_HLEN;
		uint32_t spa = pkt_ip(s->src), tpa = pkt_ip(s->dst);

		*(uint16_t *)a = htons(1); /* Ethernet */
		*(uint16_t *)(a + 2) = htons(ETH_P_IP);
		a[4] = ETH_ALEN;
		a[5] = 4;
		*(uint16_t *)(a + 6) = htons(1); /* request */
		memcpy(a + 8, s->sha ? s->sha : (s->smac ? s->smac : pkt_zero_mac), ETH_ALEN);
		memcpy(a + 14, &spa, 4);
		memcpy(a + 24, &tpa, 4);
		p.len += 28;
	} else if (type == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(p.data + ETH_HLEN);

		ip6->version = 6;
		ip6->nexthdr = 58; /* ICMPv6: a router advertisement, say */
		ip6->payload_len = htons(16);
		ip6->hop_limit = 255;
		p.data[ETH_HLEN + sizeof(*ip6)] = 134;
		p.len += sizeof(*ip6) + 16;
	} else {
		p.len += 46;
	}
	if (p.len < 60) /* Ethernet minimum frame: the tail is padding */
		p.len = 60;
	if (s->mutate)
		s->mutate(&p);
	return p;
}

static inline struct iphdr *pkt_iph(struct pkt *p)
{
	return (struct iphdr *)(p->data + ETH_HLEN);
}

/* Recompute the IPv4 header checksum after a mutation. */
static inline void pkt_fix_ipsum(struct pkt *p)
{
	struct iphdr *ip = pkt_iph(p);

	ip->check = 0;
	ip->check = pkt_csum(ip, ip->ihl * 4, 0);
}

#endif /* SL_TEST_PKT_H */
