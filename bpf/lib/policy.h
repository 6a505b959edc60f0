/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * policy.h - one endpoint's policy in one direction for one packet: the lookup sequence that
 * sl_abi.h's policy comment specifies, a constant number of hash and LPM lookups whatever the
 * number of policies, rules or peers. Fills a struct sl_verdict; decides nothing else.
 */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sl_abi.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/parse.h"

/* A decision about one direction of one packet, and what an event says about it. */
struct sl_verdict {
	__u32 reason; /* SL_FWD_{NO_POLICY,POLICY,HOST} or SL_DROP_* */
	__u32 dir;
	__u32 ep_id;
	__u32 peer_id;
	__u32 rule; /* 0: none (no policy, host, or default deny) */
	__u32 pol;
};

static __always_inline __u32 sl_identity(const struct sl_addr *a)
{
	struct sl_ident_val *v = bpf_map_lookup_elem(&sl_ident, a);

	return v ? v->id : SL_IDENTITY_WORLD;
}

/* Whether portset S admits (proto, port); *rule = the rule reference that does. */
static __always_inline int sl_portset_match(__u32 portset, __u8 proto, __be16 port, __u32 *rule)
{
	struct sl_ports_key k = {
	    .prefixlen = SL_PORTS_PREFIX_FULL,
	    .portset = bpf_htonl(portset),
	    .proto = proto,
	    .port = port,
	};
	struct sl_ports_val *v;

	if (!portset)
		return 0;
	v = bpf_map_lookup_elem(&sl_ports, &k);
	if (!v)
		return 0;
	*rule = v->rule;
	return 1;
}

static __always_inline __be16 sl_policy_port(const struct sl_pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		return p->dport;
	default:
		return 0;
	}
}

static __always_inline int sl_proto_known(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_ICMP;
}

/* Endpoint ep's policy in direction dir for packet p, whose other end is peer. */
static __always_inline void sl_policy(const struct sl_endpoint *ep, __u32 dir,
				      const struct sl_addr *peer, const struct sl_pkt *p,
				      struct sl_verdict *v)
{
	__u32 pol = dir == SL_DIR_EGRESS ? ep->pol[SL_DIR_EGRESS] : ep->pol[SL_DIR_INGRESS];
	__u32 invalid = ep->flags & SL_EP_F_POLICY_INVALID;
	struct sl_peer_key pk = {};
	struct sl_cidr_key ck = {};
	struct sl_portset_ref *ps;
	__be16 port;

	v->dir = dir;
	v->ep_id = ep->ep_id;
	v->pol = pol;
	v->rule = 0;
	v->peer_id = 0;
	if (!SL_CFG_ON(SL_CFG_POLICY) || (!pol && !invalid)) {
		v->reason = SL_FWD_NO_POLICY;
		return;
	}
	v->peer_id = sl_identity(peer);
	if (dir == SL_DIR_INGRESS && v->peer_id == SL_IDENTITY_HOST) {
		v->reason = SL_FWD_HOST;
		return;
	}
	if (invalid) {
		v->reason = SL_DROP_POLICY_INVALID;
		return;
	}
	port = sl_policy_port(p);
	v->reason = SL_FWD_POLICY;
	pk.pol = pol;
	pk.identity = v->peer_id;
	pk.dir = dir;
	ps = bpf_map_lookup_elem(&sl_peer, &pk);
	if (ps && sl_portset_match(ps->portset, p->proto, port, &v->rule))
		return;
	ck.prefixlen = SL_CIDR_PREFIX_BASE + 128;
	ck.pol = pol;
	ck.dir = dir;
	ck.addr = *peer;
	ps = bpf_map_lookup_elem(&sl_cidr, &ck);
	if (ps && sl_portset_match(ps->portset, p->proto, port, &v->rule))
		return;
	v->reason = sl_proto_known(p->proto) ? SL_DROP_POLICY : SL_DROP_UNKNOWN_L4;
}

#endif /* SL_POLICY_H */
