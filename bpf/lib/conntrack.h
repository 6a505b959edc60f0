/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * conntrack.h - flows in sl_ct (semantics in sl_abi.h): classify a packet as new, forward or
 * reply, relate ICMP errors to their flow, advance a flow's state and deadline, create one.
 * The deadline is CLOCK_MONOTONIC (bpf_ktime_get_ns) + the timeout of the flow's state.
 * (bpf_ktime_get_coarse_ns would save ~10 ns a packet but needs Linux 5.11; we support 5.10.)
 */
#ifndef SL_CONNTRACK_H
#define SL_CONNTRACK_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/parse.h"

#define SL_TH_FIN 0x01
#define SL_TH_SYN 0x02
#define SL_TH_RST 0x04
#define SL_TH_ACK 0x10

#define SL_SCTP_INIT		  1
#define SL_SCTP_ABORT		  6
#define SL_SCTP_SHUTDOWN_COMPLETE 14

enum sl_ct_dir { SL_CT_MISS, SL_CT_FORWARD, SL_CT_REPLY };

static __always_inline void sl_ct_key_of(struct sl_ct_key *k, const struct sl_pkt *p)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->saddr = p->saddr;
	k->daddr = p->daddr;
	k->sport = p->sport;
	k->dport = p->dport;
	k->proto = p->proto;
}

static __always_inline void sl_ct_reverse(struct sl_ct_key *r, const struct sl_ct_key *k)
{
	__builtin_memset(r, 0, sizeof(*r));
	r->saddr = k->daddr;
	r->daddr = k->saddr;
	r->sport = k->dport;
	r->dport = k->sport;
	r->proto = k->proto;
}

static __always_inline __u64 sl_ct_timeout(__u8 proto, __u8 state)
{
	__u32 s;

	if (proto == IPPROTO_TCP || proto == IPPROTO_SCTP)
		s = state == SL_CT_ESTABLISHED ? sl_cfg.ct_est_s
		    : state == SL_CT_CLOSING   ? sl_cfg.ct_close_s
					       : sl_cfg.ct_syn_s;
	else if (proto == IPPROTO_UDP)
		s = sl_cfg.ct_udp_s;
	else
		s = sl_cfg.ct_icmp_s;
	return (__u64)s * 1000000000ull;
}

/* The live entry of k (an expired one counts as none). */
static __always_inline struct sl_ct_val *sl_ct_get(const struct sl_ct_key *k, __u64 now)
{
	struct sl_ct_val *v = bpf_map_lookup_elem(&sl_ct, k);

	return v && v->expires_ns > now ? v : NULL;
}

/* The flow of p and which way p goes in it. */
static __always_inline enum sl_ct_dir sl_ct_lookup(const struct sl_pkt *p, __u64 now,
						   struct sl_ct_val **out)
{
	struct sl_ct_key k, r;

	sl_ct_key_of(&k, p);
	*out = sl_ct_get(&k, now);
	if (*out)
		return SL_CT_FORWARD;
	sl_ct_reverse(&r, &k);
	*out = sl_ct_get(&r, now);
	return *out ? SL_CT_REPLY : SL_CT_MISS;
}

/*
 * An ICMP error quoting a packet of a live flow (either way): the quoted IP header and the
 * first 8 bytes of its payload, which hold the ports (or the echo identifier).
 */
static __always_inline int sl_ct_related(struct __sk_buff *skb, const struct sl_pkt *p, __u64 now)
{
	__u32 off = p->l4_off + 8, l4;
	struct sl_ct_key k = {}, r;
	struct iphdr *ip;
	__u8 *ports;

	if (p->proto != IPPROTO_ICMP || !sl_icmp_is_error(p->icmp_type) || off > SL_L3_MAX_OFF + 8)
		return 0;
	ip = sl_hdr(skb, off, sizeof(*ip));
	if (!ip || ip->ihl < 5)
		return 0;
	sl_addr_v4(&k.saddr, ip->saddr);
	sl_addr_v4(&k.daddr, ip->daddr);
	k.proto = ip->protocol;
	l4 = off + ip->ihl * 4;
	if (l4 > SL_L3_MAX_OFF + 8 + 60)
		return 0;
	ports = sl_hdr(skb, l4, 8);
	if (!ports)
		return 0;
	switch (k.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		k.sport = *(__be16 *)ports;
		k.dport = *(__be16 *)(ports + 2);
		break;
	case IPPROTO_ICMP:
		if (ports[0] != ICMP_ECHO && ports[0] != ICMP_ECHOREPLY)
			return 0;
		sl_icmp_ports(ports[0], *(__be16 *)(ports + 4), &k.sport, &k.dport);
		break;
	default:
		return 0;
	}
	if (sl_ct_get(&k, now))
		return 1;
	sl_ct_reverse(&r, &k);
	return sl_ct_get(&r, now) != NULL;
}

/* State machine: SYN_SENT until the first reply, CLOSING after RST/ABORT or both FINs. */
static __always_inline void sl_ct_advance(struct sl_ct_val *v, const struct sl_pkt *p,
					  enum sl_ct_dir way, __u64 now)
{
	__u8 st = v->state, fl = v->flags;

	if (way == SL_CT_REPLY) {
		fl |= SL_CT_F_REPLY;
		if (st == SL_CT_SYN_SENT || st == SL_CT_NEW)
			st = SL_CT_ESTABLISHED;
	}
	if (p->proto == IPPROTO_TCP && p->frag != SL_FRAG_LATER) {
		__u8 f = p->tcp_flags;

		if (f & SL_TH_RST) {
			st = SL_CT_CLOSING;
		} else if ((f & SL_TH_SYN) && !(f & SL_TH_ACK) && way == SL_CT_FORWARD &&
			   st == SL_CT_CLOSING) {
			st = SL_CT_SYN_SENT; /* the port pair is reused for a new connection */
			fl = 0;
		} else if (f & SL_TH_FIN) {
			fl |= way == SL_CT_REPLY ? SL_CT_F_FIN_REV : SL_CT_F_FIN_FWD;
			if ((fl & (SL_CT_F_FIN_FWD | SL_CT_F_FIN_REV)) ==
			    (SL_CT_F_FIN_FWD | SL_CT_F_FIN_REV))
				st = SL_CT_CLOSING;
		}
	} else if (p->proto == IPPROTO_SCTP && p->frag != SL_FRAG_LATER) {
		if (p->sctp_chunk == SL_SCTP_ABORT || p->sctp_chunk == SL_SCTP_SHUTDOWN_COMPLETE)
			st = SL_CT_CLOSING;
		else if (p->sctp_chunk == SL_SCTP_INIT && way == SL_CT_FORWARD &&
			 st == SL_CT_CLOSING)
			st = SL_CT_SYN_SENT;
	}
	if (st != v->state)
		v->state = st;
	if (fl != v->flags)
		v->flags = fl;
	v->expires_ns = now + sl_ct_timeout(p->proto, st);
	v->packets++;
	v->bytes += p->len;
}

/* A new flow, which policy allowed: rule[] says by which rules (0: no policy). */
static __always_inline void sl_ct_create(const struct sl_pkt *p, __u32 src_ep, __u32 dst_ep,
					 __u32 rule_egress, __u32 rule_ingress, __u64 now)
{
	struct sl_ct_val v = {
	    .src_ep = src_ep,
	    .dst_ep = dst_ep,
	    .rule = {rule_egress, rule_ingress},
	};
	struct sl_ct_key k;

	if (p->proto == IPPROTO_TCP)
		v.state = (p->tcp_flags & (SL_TH_SYN | SL_TH_ACK)) == SL_TH_SYN ? SL_CT_SYN_SENT
										: SL_CT_ESTABLISHED;
	else if (p->proto == IPPROTO_SCTP)
		v.state = p->sctp_chunk == SL_SCTP_INIT ? SL_CT_SYN_SENT : SL_CT_ESTABLISHED;
	else
		v.state = SL_CT_NEW;
	sl_ct_advance(&v, p, SL_CT_FORWARD, now);
	sl_ct_key_of(&k, p);
	bpf_map_update_elem(&sl_ct, &k, &v, BPF_ANY);
}

#endif /* SL_CONNTRACK_H */
