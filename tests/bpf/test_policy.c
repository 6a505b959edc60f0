// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_policy.c - packet tests of enforcement: policy (peers by identity, CIDRs with except,
 * port ranges, any-protocol), conntrack (replies, related ICMP errors, state timeouts, expiry,
 * garbage collection), fragments, events and per-rule counters. Policy is written through
 * agent/dp_policy.c, as the agent writes it. Cases run in order: later ones rely on the flows
 * earlier ones created.
 */
#include <time.h>

#include "cases.h"
#include "dp_ct.h"
#include "dp_maps.h"
#include "dp_policy.h"

static struct sl_dp_maps maps;

#define ID_A 1000
#define ID_B 1001
#define HOST "192.168.1.1"

/* policy sets */
#define P_B_IN	10
#define P_B_IN2 11
#define P_A_EG	20
#define P_B_EG	30
#define P_A_IN	40

/* portsets and the rules behind their entries */
enum { PS_ANY = 1, PS_B_FROM_A, PS_TCP, PS_UDP53, PS_B_FROM_A2 };
enum { R_ANY = 1, R_TCP80, R_TCP8000, R_UDP53_B, R_SCTP9000, R_TCP_CIDR, R_UDP53, R_TCP8000_2 };

struct ports_ent {
	struct sl_ports_key k;
	struct sl_ports_val v;
};
struct peer_ent {
	struct sl_peer_key k;
	struct sl_portset_ref v;
};
struct cidr_ent {
	struct sl_cidr_key k;
	struct sl_portset_ref v;
};

/* (portset, proto, port/bits) -> rule; proto 0: any protocol, bits 0: any port */
static struct ports_ent ports(__u32 ps, __u8 proto, __u16 port, int bits, __u32 rule)
{
	struct ports_ent e = {.k = {.prefixlen = !proto ? SL_PORTS_PREFIX_PORTSET
						 : bits ? SL_PORTS_PREFIX_PORT + bits
							: SL_PORTS_PREFIX_PROTO,
				    .portset = htonl(ps),
				    .proto = proto,
				    .port = htons(port)},
			      .v = {.rule = rule}};
	return e;
}

static struct peer_ent peer(__u32 pol, __u8 dir, __u32 id, __u32 ps)
{
	struct peer_ent e = {.k = {.pol = pol, .identity = id, .dir = dir}, .v = {.portset = ps}};
	return e;
}

static struct cidr_ent cidr(__u32 pol, __u8 dir, const char *net, int bits, __u32 ps)
{
	struct cidr_ent e = {.k = {.prefixlen = SL_CIDR_PREFIX_BASE + 96 + bits,
				   .pol = pol,
				   .dir = dir,
				   .addr = v4(net)},
			     .v = {.portset = ps}};
	return e;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int apply(struct ports_ent *pa, size_t npa, struct cidr_ent *ca, size_t nca,
		 struct peer_ent *pe, size_t npe, struct sl_dp_ep_flip *eps, size_t neps,
		 struct peer_ent *pd, size_t npd, struct cidr_ent *cd, size_t ncd,
		 struct ports_ent *sd, size_t nsd)
{
	struct sl_dp_policy_update u = {
	    .ports_add = SL_DP_PAIRS(pa, npa, k, v),
	    .cidr_add = SL_DP_PAIRS(ca, nca, k, v),
	    .peer_add = SL_DP_PAIRS(pe, npe, k, v),
	    .eps = eps,
	    .n_eps = neps,
	    .peer_del = SL_DP_PAIRS(pd, npd, k, v),
	    .cidr_del = SL_DP_PAIRS(cd, ncd, k, v),
	    .ports_del = SL_DP_PAIRS(sd, nsd, k, v),
	};
	return sl_dp_policy_apply(&maps, &u, NULL);
}

static struct sl_dp_ep_flip flip(const char *ip, __u32 eg, __u32 in, __u32 id, __u32 flags)
{
	struct sl_dp_ep_flip f = {.addr = v4(ip), .pol = {eg, in}, .identity = id, .flags = flags};
	return f;
}

static struct ports_ent set_ports[] = {
    /* filled in install_policy (C has no constant calls) */
    {{0}, {0}}, {{0}, {0}}, {{0}, {0}}, {{0}, {0}}, {{0}, {0}}, {{0}, {0}}, {{0}, {0}},
};

static int install_policy(void)
{
	struct sl_ident_val ida = {.id = ID_A}, idb = {.id = ID_B}, idh = {.id = SL_IDENTITY_HOST};
	struct sl_addr a = v4(POD_A), b = v4(POD_B), h = v4(HOST);
	struct peer_ent pe[] = {
	    peer(P_A_EG, SL_DIR_EGRESS, ID_B, PS_ANY),
	    peer(P_B_IN, SL_DIR_INGRESS, ID_A, PS_B_FROM_A),
	};
	struct cidr_ent ce[] = {
	    cidr(P_A_EG, SL_DIR_EGRESS, "0.0.0.0", 0, PS_UDP53),
	    cidr(P_A_EG, SL_DIR_EGRESS, "10.1.0.0", 16, PS_TCP),
	    cidr(P_B_IN, SL_DIR_INGRESS, "10.1.0.0", 16, PS_TCP),
	    cidr(P_B_IN, SL_DIR_INGRESS, "10.1.2.0", 24, 0), /* except */
	    cidr(P_B_IN, SL_DIR_INGRESS, "10.2.0.0", 16, PS_ANY),
	};
	struct sl_dp_ep_flip eps[] = {
	    flip(POD_A, P_A_EG, P_A_IN, ID_A, 0),
	    flip(POD_B, P_B_EG, P_B_IN, ID_B, 0),
	};

	set_ports[0] = ports(PS_ANY, 0, 0, 0, R_ANY);
	set_ports[1] = ports(PS_B_FROM_A, IPPROTO_TCP, 80, 16, R_TCP80);
	set_ports[2] = ports(PS_B_FROM_A, IPPROTO_TCP, 8000, 13, R_TCP8000); /* 8000-8007 */
	set_ports[3] = ports(PS_B_FROM_A, IPPROTO_UDP, 53, 16, R_UDP53_B);
	set_ports[4] = ports(PS_B_FROM_A, IPPROTO_SCTP, 9000, 16, R_SCTP9000);
	set_ports[5] = ports(PS_TCP, IPPROTO_TCP, 0, 0, R_TCP_CIDR);
	set_ports[6] = ports(PS_UDP53, IPPROTO_UDP, 53, 16, R_UDP53);
	if (bpf_map_update_elem(maps.ident, &a, &ida, BPF_ANY) ||
	    bpf_map_update_elem(maps.ident, &b, &idb, BPF_ANY) ||
	    bpf_map_update_elem(maps.ident, &h, &idh, BPF_ANY))
		return -errno;
	return apply(set_ports, N(set_ports), ce, N(ce), pe, N(pe), eps, N(eps), NULL, 0, NULL, 0,
		     NULL, 0);
}

/* B's ingress loses TCP 80: a new set P_B_IN2 (only 8000-8007 from A), flip, old set gone. */
static void remove_tcp80(void)
{
	struct ports_ent pa[] = {ports(PS_B_FROM_A2, IPPROTO_TCP, 8000, 13, R_TCP8000_2)};
	struct peer_ent pe[] = {peer(P_B_IN2, SL_DIR_INGRESS, ID_A, PS_B_FROM_A2)};
	struct cidr_ent ce[] = {
	    cidr(P_B_IN2, SL_DIR_INGRESS, "10.1.0.0", 16, PS_TCP),
	    cidr(P_B_IN2, SL_DIR_INGRESS, "10.1.2.0", 24, 0),
	    cidr(P_B_IN2, SL_DIR_INGRESS, "10.2.0.0", 16, PS_ANY),
	};
	struct sl_dp_ep_flip eps[] = {flip(POD_B, P_B_EG, P_B_IN2, ID_B, 0)};
	struct peer_ent pd[] = {peer(P_B_IN, SL_DIR_INGRESS, ID_A, 0)};
	struct cidr_ent cd[] = {
	    cidr(P_B_IN, SL_DIR_INGRESS, "10.1.0.0", 16, 0),
	    cidr(P_B_IN, SL_DIR_INGRESS, "10.1.2.0", 24, 0),
	    cidr(P_B_IN, SL_DIR_INGRESS, "10.2.0.0", 16, 0),
	};
	struct ports_ent sd[] = {set_ports[1], set_ports[2], set_ports[3], set_ports[4]};
	struct sl_peer_key old = {.pol = P_B_IN, .identity = ID_A, .dir = SL_DIR_INGRESS};
	struct sl_portset_ref ref;

	EXPECT_EQ(
	    apply(pa, N(pa), ce, N(ce), pe, N(pe), eps, N(eps), pd, N(pd), cd, N(cd), sd, N(sd)), 0,
	    "apply: B loses TCP 80");
	EXPECT_EQ(bpf_map_lookup_elem(maps.peer, &old, &ref) ? errno : 0, ENOENT,
		  "apply: old set's entries deleted");
}

static void b_invalid(void)
{
	struct sl_dp_ep_flip eps[] = {flip(POD_B, P_B_EG, P_B_IN2, ID_B, SL_EP_F_POLICY_INVALID)};

	EXPECT_EQ(apply(NULL, 0, NULL, 0, NULL, 0, eps, 1, NULL, 0, NULL, 0, NULL, 0), 0,
		  "apply: B's policy invalid");
}

static void b_open(void)
{
	struct sl_dp_ep_flip eps[] = {flip(POD_B, 0, 0, ID_B, 0)};

	EXPECT_EQ(apply(NULL, 0, NULL, 0, NULL, 0, eps, 1, NULL, 0, NULL, 0, NULL, 0), 0,
		  "apply: no policy selects B");
}

/* Conntrack checks: the flow of a case's packet (as sent: forward) must be in state st with a
 * deadline about tmo seconds away. */
static void expect_ct(const struct tcase *c, int st, __u32 tmo)
{
	struct sl_ct_key k = {.saddr = v4(c->pkt.src),
			      .daddr = v4(c->pkt.dst),
			      .sport = htons(c->pkt.sport),
			      .dport = htons(c->pkt.dport),
			      .proto = c->pkt.proto};
	struct sl_ct_val v;
	long long left;

	if (bpf_map_lookup_elem(maps.ct, &k, &v)) {
		struct sl_ct_key r = {.saddr = k.daddr,
				      .daddr = k.saddr,
				      .sport = k.dport,
				      .dport = k.sport,
				      .proto = k.proto};

		if (bpf_map_lookup_elem(maps.ct, &r, &v)) {
			EXPECT_EQ(0, 1, "conntrack entry exists");
			return;
		}
	}
	left = ((long long)v.expires_ns - (long long)sl_dp_ct_now()) / 1000000000ll;
	EXPECT_EQ(v.state, st, c->name);
	EXPECT_EQ(left >= (long long)tmo - 2 && left <= tmo, 1, c->name);
}

static long long rule_packets(__u32 rule)
{
	return percpu_packets(skel->maps.sl_rule_stats, rule);
}

static void ct_syn(const struct tcase *c, const struct pkt *o)
{
	(void)o;
	expect_ct(c, SL_CT_SYN_SENT, 60);
	EXPECT_EQ(rule_packets(R_ANY), 1, "egress rule credited");
	EXPECT_EQ(rule_packets(R_TCP80), 1, "ingress rule credited");
}

static void ct_est(const struct tcase *c, const struct pkt *o)
{
	(void)o;
	expect_ct(c, SL_CT_ESTABLISHED, 21600);
}

static void ct_closing(const struct tcase *c, const struct pkt *o)
{
	(void)o;
	expect_ct(c, SL_CT_CLOSING, 10);
}

static void ct_udp(const struct tcase *c, const struct pkt *o)
{
	(void)o;
	expect_ct(c, SL_CT_ESTABLISHED, 60);
}

static void ct_icmp(const struct tcase *c, const struct pkt *o)
{
	(void)o;
	expect_ct(c, SL_CT_NEW, 30);
}

static long long limited_before;

static void note_limited(void)
{
	limited_before = percpu_packets(skel->maps.sl_ev_stats, SL_EV_STAT_LIMITED);
}

static void expect_limited(const struct tcase *c, const struct pkt *o)
{
	(void)o;
	EXPECT_EQ(n_ev, 0, c->name);
	EXPECT_EQ(percpu_packets(skel->maps.sl_ev_stats, SL_EV_STAT_LIMITED) - limited_before, 1,
		  c->name);
}

/* Damage to L4 headers: the IP total length is cut (the frame keeps its padding). */
static void cut_l4_to(struct pkt *p, int l4len)
{
	pkt_iph(p)->tot_len = htons(20 + l4len);
	pkt_fix_ipsum(p);
}

static void cut_l4_10(struct pkt *p)
{
	cut_l4_to(p, 10);
}

static void cut_l4_4(struct pkt *p)
{
	cut_l4_to(p, 4);
}

static void cut_l4_12(struct pkt *p)
{
	cut_l4_to(p, 12);
}

static void doff_4(struct pkt *p)
{
	p->data[ETH_HLEN + 20 + 12] = 4 << 4;
}

#define SCTP(s, d, sp, dp, chunk)                                                      \
	{                                                                              \
		.smac = mac_a, .src = s, .dst = d, .proto = IPPROTO_SCTP, .sport = sp, \
		.dport = dp, .sctp_chunk = chunk, .sctp_tag = 0x1234                   \
	}
#define ICMP(s, d, type, id)                                                                 \
	{                                                                                    \
		.smac = mac_a, .src = s, .dst = d, .proto = IPPROTO_ICMP, .icmp_type = type, \
		.sport = id                                                                  \
	}
#define FRAG(s, d, dp, id, off)                                                         \
	{                                                                               \
		.smac = mac_a, .src = s, .dst = d, .proto = IPPROTO_UDP, .sport = 6000, \
		.dport = dp, .ip_id = id, .frag_off = off, .payload = 64                \
	}

/* A macro, not a const object: C11 initializers of static tables need constant expressions. */
#define DNS_QUERY UDP(POD_A, "8.8.8.8", 5353, 53)
static const struct pkt_spec dns_query = DNS_QUERY;
static const struct pkt_spec other_query = UDP(POD_A, "8.8.4.4", 5353, 53);

#define EG    SL_DIR_EGRESS
#define IN    SL_DIR_INGRESS
#define REDIR TC_ACT_REDIRECT
#define SHOT  TC_ACT_SHOT
#define OK    TC_ACT_OK

static const struct tcase cases[] = {
    /* TCP between two selected pods on this node */
    C("new flow allowed by A's egress and B's ingress rules", FROM, IF_A,
      TCPF(POD_A, POD_B, 40001, 80, TH_SYN), REDIR, SL_FWD_REDIRECT, EG, ALSO(SL_FWD_POLICY, IN),
      EV(SL_EV_VERDICT, R_TCP80, P_B_IN), .check = ct_syn),
    C("reply passes by conntrack, though B's egress allows nothing", FROM, IF_B,
      TCPF(POD_B, POD_A, 80, 40001, TH_SYN | TH_ACK), REDIR, SL_FWD_REDIRECT, EG,
      ALSO(SL_FWD_REPLY, EG), .check = ct_est),
    C("forward packet of the flow re-checked and allowed", FROM, IF_A,
      TCPF(POD_A, POD_B, 40001, 80, TH_ACK), REDIR, SL_FWD_REDIRECT, EG, ALSO(SL_FWD_POLICY, EG)),
    C("port no rule names: default deny, event names the policy set", FROM, IF_A,
      TCP(POD_A, POD_B, 81), SHOT, SL_DROP_POLICY, IN, EV(SL_EV_DROP, 0, P_B_IN)),
    C("port range 8000-8007: 8005 allowed", FROM, IF_A, TCP(POD_A, POD_B, 8005), REDIR,
      SL_FWD_REDIRECT, EG, ALSO(SL_FWD_POLICY, IN), EV(SL_EV_VERDICT, R_TCP8000, P_B_IN)),
    C("port range: 8008 denied", FROM, IF_A, TCP(POD_A, POD_B, 8008), SHOT, SL_DROP_POLICY, IN),
    C("port range: 7999 denied", FROM, IF_A, TCP(POD_A, POD_B, 7999), SHOT, SL_DROP_POLICY, IN),
    /* UDP, SCTP, ICMP */
    C("UDP 53 allowed", FROM, IF_A, UDP(POD_A, POD_B, 5000, 53), REDIR, SL_FWD_REDIRECT, EG,
      ALSO(SL_FWD_POLICY, IN)),
    C("UDP reply", FROM, IF_B, UDP(POD_B, POD_A, 53, 5000), REDIR, SL_FWD_REDIRECT, EG,
      ALSO(SL_FWD_REPLY, EG), .check = ct_udp),
    C("new UDP flow from B: B's egress allows nothing", FROM, IF_B, UDP(POD_B, POD_A, 5001, 53),
      SHOT, SL_DROP_POLICY, EG, EV(SL_EV_DROP, 0, P_B_EG)),
    C("SCTP INIT to 9000 allowed", FROM, IF_A, SCTP(POD_A, POD_B, 5000, 9000, 1), REDIR,
      SL_FWD_REDIRECT, EG, ALSO(SL_FWD_POLICY, IN)),
    C("SCTP INIT-ACK reply", FROM, IF_B, SCTP(POD_B, POD_A, 9000, 5000, 2), REDIR, SL_FWD_REDIRECT,
      EG, ALSO(SL_FWD_REPLY, EG)),
    C("SCTP INIT to 9001 denied", FROM, IF_A, SCTP(POD_A, POD_B, 5000, 9001, 1), SHOT,
      SL_DROP_POLICY, IN),
    C("ICMP echo A to B: no portset of B admits ICMP from A", FROM, IF_A, ICMP(POD_A, POD_B, 8, 77),
      SHOT, SL_DROP_POLICY, IN),
    C("ICMP echo into B from 10.2.0.9: any-protocol CIDR rule", TO, IF_B,
      ICMP("10.2.0.9", POD_B, 8, 77), OK, SL_FWD_TO_POD, IN, ALSO(SL_FWD_POLICY, IN),
      .check = ct_icmp),
    C("ICMP echo reply from B", FROM, IF_B, ICMP(POD_B, "10.2.0.9", 0, 77), OK, SL_FWD_STACK, EG,
      ALSO(SL_FWD_REPLY, EG)),
    /* CIDRs */
    C("CIDR 10.1.0.0/16, TCP any port", TO, IF_B, TCP("10.1.3.3", POD_B, 22), OK, SL_FWD_TO_POD, IN,
      ALSO(SL_FWD_POLICY, IN), EV(SL_EV_VERDICT, R_TCP_CIDR, P_B_IN)),
    C("CIDR except 10.1.2.0/24 denied", TO, IF_B, TCP("10.1.2.3", POD_B, 22), SHOT, SL_DROP_POLICY,
      IN),
    C("outside every CIDR denied", TO, IF_B, TCP("10.3.0.1", POD_B, 22), SHOT, SL_DROP_POLICY, IN),
    C("node address (kubelet probe) always allowed in", TO, IF_B, TCP(HOST, POD_B, 10250), OK,
      SL_FWD_TO_POD, IN, ALSO(SL_FWD_HOST, IN)),
    /* off-node flows, related ICMP errors */
    C("A's DNS query to the world (0.0.0.0/0 UDP 53)", FROM, IF_A, DNS_QUERY, OK, SL_FWD_STACK, EG,
      ALSO(SL_FWD_POLICY, EG)),
    C("its answer, into A whose ingress allows nothing", TO, IF_A, UDP("8.8.8.8", POD_A, 53, 5353),
      OK, SL_FWD_TO_POD, IN, ALSO(SL_FWD_REPLY, IN)),
    C("ICMP port unreachable about the query, from a router: related", TO, IF_A,
      PKT(.src = "172.16.0.1", .dst = POD_A, .proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 3,
	  .inner = &dns_query),
      OK, SL_FWD_TO_POD, IN, ALSO(SL_FWD_REPLY, IN)),
    C("ICMP error about a flow that does not exist", TO, IF_A,
      PKT(.src = "172.16.0.1", .dst = POD_A, .proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 3,
	  .inner = &other_query),
      SHOT, SL_DROP_POLICY, IN),
    C("UDP 54 to the world denied", FROM, IF_A, UDP(POD_A, "8.8.8.8", 5353, 54), SHOT,
      SL_DROP_POLICY, EG),
    /* fragments */
    C("first fragment", FROM, IF_A, FRAG(POD_A, "8.8.8.8", 53, 4242, 0x2000), OK, SL_FWD_STACK, EG,
      ALSO(SL_FWD_POLICY, EG)),
    C("later fragment: ports of its first fragment", FROM, IF_A,
      FRAG(POD_A, "8.8.8.8", 53, 4242, 185), OK, SL_FWD_STACK, EG, ALSO(SL_FWD_POLICY, EG)),
    C("later fragment without its first", FROM, IF_A, FRAG(POD_A, "8.8.8.8", 53, 4243, 185), SHOT,
      SL_DROP_FRAGMENT, EG),
    C("first fragment to a denied port", FROM, IF_A, FRAG(POD_A, "8.8.8.8", 54, 4244, 0x2000), SHOT,
      SL_DROP_POLICY, EG),
    C("later fragment of it: denied too", FROM, IF_A, FRAG(POD_A, "8.8.8.8", 54, 4244, 370), SHOT,
      SL_DROP_POLICY, EG),
    /* protocols and damaged L4 headers */
    C("GRE to a selected pod", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = 47, .payload = 8), SHOT,
      SL_DROP_UNKNOWN_L4, IN),
    C("TCP header cut short", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .mutate = cut_l4_10),
      SHOT, SL_DROP_TRUNCATED, EG),
    C("TCP data offset below 5", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .mutate = doff_4), SHOT,
      SL_DROP_MALFORMED, EG),
    C("UDP header cut short", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_UDP, .mutate = cut_l4_4),
      SHOT, SL_DROP_TRUNCATED, EG),
    C("ICMP header cut short", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_ICMP, .mutate = cut_l4_4),
      SHOT, SL_DROP_TRUNCATED, EG),
    C("SCTP without a chunk", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_SCTP, .sctp_chunk = 1,
	  .mutate = cut_l4_12),
      SHOT, SL_DROP_TRUNCATED, EG),
    C("TCP header cut short, into a pod", TO, IF_B,
      PKT(.src = "10.1.3.3", .dst = POD_B, .proto = IPPROTO_TCP, .mutate = cut_l4_10), SHOT,
      SL_DROP_TRUNCATED, IN),
    /* a rule removed: established flows are cut at their next forward packet */
    C("B loses TCP 80: the established flow's next packet is denied", FROM, IF_A,
      TCPF(POD_A, POD_B, 40001, 80, TH_ACK), SHOT, SL_DROP_POLICY, IN, EV(SL_EV_DROP, 0, P_B_IN2),
      .before = remove_tcp80),
    C("the new set still allows 8001", FROM, IF_A, TCP(POD_A, POD_B, 8001), REDIR, SL_FWD_REDIRECT,
      EG, ALSO(SL_FWD_POLICY, IN), EV(SL_EV_VERDICT, R_TCP8000_2, P_B_IN2)),
    C("RST closes the flow", FROM, IF_A, TCPF(POD_A, POD_B, 40000, 8001, TH_RST | TH_ACK), REDIR,
      SL_FWD_REDIRECT, EG, .check = ct_closing),
    /* endpoint states */
    C("policy failed to compile: fail closed", FROM, IF_A, TCP(POD_A, POD_B, 8002), SHOT,
      SL_DROP_POLICY_INVALID, IN, .before = b_invalid),
    C("... except for the node's probes", TO, IF_B, TCPF(HOST, POD_B, 40002, 10250, TH_SYN), OK,
      SL_FWD_TO_POD, IN, ALSO(SL_FWD_HOST, IN)),
    C("no policy selects B: open", FROM, IF_A, TCP(POD_A, POD_B, 81), REDIR, SL_FWD_REDIRECT, EG,
      ALSO(SL_FWD_NO_POLICY, IN), .before = b_open),
    /* sl_to_pod's own checks */
    C("into a veth that is not the destination's", TO, IF_A, TCP("8.8.8.8", POD_B, 80), SHOT,
      SL_DROP_NO_ENDPOINT, IN),
    C("IPv6 into a pod", TO, IF_A, PKT(.eth_type = ETH_P_IPV6), SHOT, SL_DROP_IPV6, IN),
    C("ARP into a pod", TO, IF_A, PKT(.eth_type = ETH_P_ARP, .src = HOST, .dst = POD_A), OK,
      SL_FWD_ARP, IN),
    /* events: rate limited per flow */
    C("spoofed source: drop event", FROM, IF_A, TCP("10.0.0.99", POD_B, 80), SHOT,
      SL_DROP_SPOOFED_IP, EG, EV(SL_EV_DROP, 0, 0)),
    C("same flow again within the interval: counted, no event", FROM, IF_A,
      TCP("10.0.0.99", POD_B, 80), SHOT, SL_DROP_SPOOFED_IP, EG, .before = note_limited,
      .check = expect_limited),
};

/* Flows in sl_ct with addr at either end (NULL: all). */
static size_t count_flows(const struct sl_addr *addr)
{
	struct sl_ct_key k, prev;
	size_t n = 0;
	int first = 1;

	while (!bpf_map_get_next_key(maps.ct, first ? NULL : &prev, &k)) {
		first = 0;
		prev = k;
		if (!addr || !memcmp(&k.saddr, addr, sizeof(*addr)) ||
		    !memcmp(&k.daddr, addr, sizeof(*addr)))
			n++;
	}
	return n;
}

/* The DNS flow's entry forced past its deadline: its answer is no longer a reply, GC removes
 * it, flushing B's address removes B's flows only, and a GC "far in the future" empties the
 * table. */
static void test_expiry_and_gc(void)
{
	struct sl_ct_key k = {.saddr = v4(POD_A),
			      .daddr = v4("8.8.8.8"),
			      .sport = htons(5353),
			      .dport = htons(53),
			      .proto = IPPROTO_UDP};
	struct pkt_spec answer = UDP("8.8.8.8", POD_A, 53, 5353);
	struct pkt in = pkt_build(&answer), out;
	struct sl_addr b = v4(POD_B);
	struct sl_dp_ct_stats st;
	struct sl_ct_val v;
	size_t n = 0;

	EXPECT_EQ(bpf_map_lookup_elem(maps.ct, &k, &v), 0, "ct: DNS flow present");
	v.expires_ns = sl_dp_ct_now() - 1000000000ull; /* the datapath's clock is coarse */
	EXPECT_EQ(bpf_map_update_elem(maps.ct, &k, &v, BPF_EXIST), 0, "ct: expire DNS flow");
	EXPECT_EQ(run_pkt(TO, IF_A, &in, &out), TC_ACT_SHOT, "ct: answer after expiry denied");
	EXPECT_EQ(sl_dp_ct_gc(maps.ct, 0, &st), 0, "ct: gc");
	EXPECT_EQ(st.deleted >= 1, 1, "ct: gc deleted the expired flow");
	EXPECT_EQ(bpf_map_lookup_elem(maps.ct, &k, &v) ? errno : 0, ENOENT, "ct: DNS flow gone");
	EXPECT_EQ(st.seen > st.deleted, 1, "ct: gc kept live flows");
	EXPECT_EQ(count_flows(&b) > 0 && count_flows(NULL) > count_flows(&b), 1,
		  "ct: flows of B and others");
	EXPECT_EQ(sl_dp_ct_flush_addr(maps.ct, &b, &st), 0, "ct: flush B");
	EXPECT_EQ(count_flows(&b), 0, "ct: no flow of B left");
	EXPECT_EQ(count_flows(NULL) > 0, 1, "ct: other flows kept");
	EXPECT_EQ(sl_dp_ct_gc(maps.ct, sl_dp_ct_now() + 1000000000000000ull, &st), 0, "ct: gc all");
	EXPECT_EQ(st.deleted, st.seen, "ct: gc in the far future deletes every flow");
	while (!bpf_map_get_next_key(maps.ct, n ? &k : NULL, &k))
		n++;
	EXPECT_EQ(n, 0, "ct: table empty");
}

static int hook_calls;

static int flip_hook(void *ctx, const struct sl_dp_ep_flip *f)
{
	struct sl_addr a = v4(POD_A);

	(void)ctx;
	hook_calls++;
	return memcmp(&f->addr, &a, sizeof(a)) ? -ENOENT : 0;
}

/* A failing phase 1 leaves the maps as they were; flips of unknown endpoints are counted. */
static void test_apply_errors(void)
{
	struct ports_ent pa[] = {ports(99, IPPROTO_TCP, 1, 16, 50),
				 ports(99, IPPROTO_TCP, 2, 16, 51)};
	struct sl_dp_ep_flip eps[] = {flip("10.9.9.9", 1, 1, 1, 0)};
	struct sl_dp_policy_update u = {
	    .ports_add = SL_DP_PAIRS(pa, 2, k, v), .eps = eps, .n_eps = 1};
	struct sl_dp_apply_stats st;
	struct sl_ports_val pv;

	pa[1].k.prefixlen = 99; /* beyond the key: the kernel refuses it */
	EXPECT_EQ(sl_dp_policy_apply(&maps, &u, &st), -EINVAL, "apply: bad entry fails");
	EXPECT_EQ(bpf_map_lookup_elem(maps.ports, &pa[0].k, &pv) ? errno : 0, ENOENT,
		  "apply: entries added before the failure rolled back");
	u.ports_add.n = 1;
	EXPECT_EQ(sl_dp_policy_apply(&maps, &u, &st), 0, "apply: good entry");
	EXPECT_EQ(st.added, 1, "apply: one added");
	EXPECT_EQ(st.missing_eps, 1, "apply: unknown endpoint counted");
	EXPECT_EQ(sl_dp_policy_apply(&maps, &u, &st), 0, "apply: again (idempotent)");
	EXPECT_EQ(st.added, 0, "apply: existing entry not re-added");
	EXPECT_EQ(sl_dp_sync(), 0, "sync");

	/* the agent's own flip writer */
	u = (struct sl_dp_policy_update){.eps = eps, .n_eps = 1, .flip = flip_hook};
	hook_calls = 0;
	EXPECT_EQ(sl_dp_policy_apply(&maps, &u, &st), 0, "apply: flip through a hook");
	EXPECT_EQ(hook_calls, 1, "apply: the hook wrote the flip");
	EXPECT_EQ(st.missing_eps, 1, "apply: hook's -ENOENT counted as missing");
	eps[0] = flip(POD_A, 7, 8, ID_A, 0);
	EXPECT_EQ(sl_dp_policy_apply(&maps, &u, &st), 0, "apply: flip A through the hook");
	EXPECT_EQ(st.flipped, 1, "apply: hook flip counted");
}

int main(void)
{
	int err;

	libbpf_set_print(quiet_libbpf);
	err = setup(NULL);
	if (err)
		return err;
	if (sl_dp_maps_from_obj(&maps, skel->obj) ||
	    add_endpoint(POD_A, IF_A, mac_a, host_a, SL_EP_F_LOCAL, 100, 0, 0) ||
	    add_endpoint(POD_B, IF_B, mac_b, host_b, SL_EP_F_LOCAL, 101, 0, 0) ||
	    install_policy()) {
		fprintf(stderr, "policy: setup failed\n");
		teardown();
		return 1;
	}
	for (size_t i = 0; i < N(cases); i++)
		run_case(&cases[i]);
	test_expiry_and_gc();
	test_apply_errors();
	sl_dp_maps_close(&maps);
	teardown();
	return report();
}
