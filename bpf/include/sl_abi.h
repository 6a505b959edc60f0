/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_abi.h - the one contract between bpf/ and user space (agent, cni, policy, sluicectl).
 *
 * Rules: only <linux/types.h>; fixed-width types; explicit padding, no implicit holes;
 * byte order in the type (__be*); a _Static_assert on every map key and value.
 * Any layout change bumps SL_ABI_VERSION, which is part of the pin path
 * (<bpffs>/v<SL_ABI_VERSION>/), so an old agent's pins are never misread.
 *
 * Addresses are 16 bytes everywhere (struct sl_addr): IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d) so that IPv6 fits later without an ABI break.
 */
#ifndef SL_ABI_H
#define SL_ABI_H

#include <linux/types.h>

#define SL_ABI_VERSION 1

/* Default capacities; the agent may override max_entries before load. */
#define SL_MAX_ENDPOINTS  65536	 /* pods on this node plus remote pod identities */
#define SL_MAX_IDENTITIES 262144 /* sl_ident: every pod IP in the cluster */
#define SL_MAX_PEERS	  262144 /* sl_peer: (policy set, dir, identity) */
#define SL_MAX_CIDRS	  65536	 /* sl_cidr: ipBlock prefixes */
#define SL_MAX_PORTS	  262144 /* sl_ports: (portset, proto, port prefix) */
#define SL_MAX_RULES	  65536	 /* sl_rule_stats: per-rule counters */
#define SL_MAX_CT	  262144 /* sl_ct */
#define SL_EVENTS_BYTES	  (1 << 22)

/* tc attach parameters of our filters, so the agent and the CNI recognise their own. */
#define SL_TC_HANDLE 0x5c1
#define SL_TC_PRIO   1

/* Link-local gateway every pod routes through; answered by a permanent neighbour entry. */
#define SL_GATEWAY_V4 "169.254.1.1"

/* Directions, from the pod's point of view. */
enum sl_dir {
	SL_DIR_EGRESS = 0,  /* leaving the pod: host veth tc ingress, sl_from_pod */
	SL_DIR_INGRESS = 1, /* entering the pod: host veth tc egress, sl_to_pod */
	SL_DIR_MAX = 2,
};

/*
 * Every verdict the datapath counts, one enum: forwards first, then drops.
 * Counters (sl_counters) are indexed by SL_COUNTER_IDX(reason, dir).
 * Append only; never renumber (sluicectl and metrics decode these numbers from pins).
 */
enum sl_reason {
	SL_FWD_STACK = 0,      /* passed to the host stack for routing */
	SL_FWD_REDIRECT = 1,   /* bpf_redirect_peer straight into a local pod */
	SL_FWD_ARP = 2,	       /* ARP passed (sender checked) */
	SL_FWD_TO_POD = 3,     /* delivered into a pod from the host stack */
	SL_FWD_REPLY = 4,      /* reply of an allowed flow (conntrack) */
	SL_FWD_POLICY = 5,     /* new flow allowed by a policy rule */
	SL_FWD_NO_POLICY = 6,  /* new flow, pod not selected in this direction: open */
	SL_FWD_HOST = 7,       /* from the node's own addresses (kubelet probes) */
	SL_FWD_FIB = 8,	       /* to the next hop's device after a FIB lookup (SL_CFG_FIB) */
	__SL_FWD_MAX = 9,

	SL_DROP_TRUNCATED = 16,	     /* shorter than the headers it claims */
	SL_DROP_MALFORMED = 17,	     /* bad IHL, total length, or header field */
	SL_DROP_SPOOFED_IP = 18,     /* IPv4 source is not the pod's own */
	SL_DROP_SPOOFED_ARP = 19,    /* ARP sender IP or MAC is not the pod's own */
	SL_DROP_IPV6 = 20,	     /* IPv6 from a pod (not supported yet; RAs: CVE-2020-10749) */
	SL_DROP_UNKNOWN_L3 = 21,     /* ethertype neither IPv4, ARP nor IPv6 */
	SL_DROP_NO_ENDPOINT = 22,    /* packet on a veth whose endpoint is not registered */
	SL_DROP_REDIRECT = 23,	     /* bpf_redirect_peer failed */
	SL_DROP_FRAGMENT = 24,	     /* IP fragment we cannot classify */
	SL_DROP_POLICY = 25,	     /* denied: no rule allows it (default deny) */
	SL_DROP_CT_INVALID = 26,     /* not a valid packet for its flow's state */
	SL_DROP_POLICY_INVALID = 27, /* endpoint's policy failed to compile: fail closed */
	SL_DROP_UNKNOWN_L4 = 28,     /* protocol a selected pod's policy cannot allow */
	__SL_REASON_MAX = 32,
};

#define SL_REASON_IS_DROP(r)	    ((r) >= 16)
#define SL_COUNTER_IDX(reason, dir) ((reason) * SL_DIR_MAX + (dir))
#define SL_COUNTERS_MAX		    (__SL_REASON_MAX * SL_DIR_MAX)

/* An address, v4-mapped for IPv4. w[] is in network byte order. */
struct sl_addr {
	__be32 w[4];
};
_Static_assert(sizeof(struct sl_addr) == 16, "sl_addr is ABI");

/*
 * sl_endpoints: HASH, struct sl_addr (pod IP) -> struct sl_endpoint.
 * Written only by the agent. Local pods have SL_EP_F_LOCAL and a host ifindex.
 */
#define SL_EP_F_LOCAL		 (1u << 0) /* a pod on this node with a host veth */
#define SL_EP_F_POLICY_INVALID (1u << 1) /* its policy failed to compile: deny all */

struct sl_endpoint {
	__u32 ep_id;	    /* agent-assigned, stable across agent restarts */
	__u32 ifindex;	    /* host-side veth, in the node's netns */
	__u8 pod_mac[6];    /* eth0 in the pod */
	__u8 host_mac[6];   /* host-side veth */
	__u32 flags;	    /* SL_EP_F_* */
	__u32 pol[SL_DIR_MAX]; /* policy set per direction (sl_peer/sl_cidr keys); 0 = none selects
				* this pod in that direction: open. Flipping this one word is how a
				* new policy version becomes visible atomically. */
	__u32 identity;	    /* this pod's own security identity (sl_ident value) */
};
_Static_assert(sizeof(struct sl_endpoint) == 36, "sl_endpoint is ABI");

/*
 * Policy representation (designed with the compiler; see policy/compile.c's top comment).
 *
 * A packet between endpoint E (policy set P = E.pol[dir]) and peer address A is allowed when
 *   portset S1 = sl_peer[P, dir, sl_ident[A].id]   or   S2 = sl_cidr[lpm(P, dir, A)]
 * contains (proto, port) in sl_ports (an LPM: exact portset and protocol, prefix on the port,
 * so endPort ranges are a handful of prefixes, and "any port"/"any protocol" are short prefixes).
 * Entries grow as (identities matched + prefixes + port prefixes) per policy set, never as
 * their product, and pods with equal labels in one namespace share one identity.
 *
 * What the datapath does, exactly (bpf/lib/policy.h), for a packet of a new or forward flow,
 * once per direction checked: the source pod's egress (peer = destination address, in
 * sl_from_pod), the destination pod's ingress (peer = source address: in sl_from_pod before a
 * same-node redirect, in sl_to_pod otherwise). Replies of tracked flows skip all of this.
 *   1. P = E.pol[dir], read once per packet and direction (the flip word). P == 0 and
 *      !(E.flags & SL_EP_F_POLICY_INVALID): allowed, SL_FWD_NO_POLICY; no lookups.
 *   2. I = sl_ident[A].id, or SL_IDENTITY_WORLD when A has no entry.
 *   3. dir == SL_DIR_INGRESS and I == SL_IDENTITY_HOST: allowed, SL_FWD_HOST (kubelet probes;
 *      also when the policy is invalid). Egress to the host is policy like any peer.
 *   4. E.flags & SL_EP_F_POLICY_INVALID: denied, SL_DROP_POLICY_INVALID.
 *   5. port = the destination port for TCP, UDP and SCTP (a non-first fragment: its first
 *      fragment's); 0 for ICMP and any other protocol. Lookup key proto = IP protocol number.
 *   6. S1 = sl_peer[{P, I, dir}].portset; if S1 != 0 and sl_ports[lpm(S1, proto, port)]
 *      exists: allowed by its .rule (SL_FWD_POLICY).
 *   7. S2 = sl_cidr[lpm({P, dir, A})].portset (prefixlen 192 looked up: 64 + 128 bits);
 *      if S2 != 0 and sl_ports[lpm(S2, proto, port)] exists: allowed by its .rule.
 *   8. Otherwise denied: SL_DROP_POLICY (SL_DROP_UNKNOWN_L4 for a protocol other than TCP,
 *      UDP, SCTP, ICMP), event rule 0 = default deny of policy set P.
 * So a compiler must:
 *   - make S1 the union of the ports of every rule of P whose peers include identity I (at
 *     most one sl_peer entry per (P, I, dir)), and each sl_cidr prefix's portset the union of
 *     every ipBlock of P containing that prefix and not excepting it: the trie returns the
 *     longest prefix only, so an except is a longer prefix whose portset is the union of the
 *     rules that still cover it (0 when none: "excepted"), and overlapping blocks must be
 *     flattened the same way. "All peers" (a rule with no from/to) is 0.0.0.0/0, i.e. prefix
 *     64 + 96 on the v4-mapped address, plus whatever identities it needs (none: every peer
 *     goes through step 7 as well).
 *   - one port is prefix SL_PORTS_PREFIX_FULL (64); an aligned block of 2^k ports (endPort
 *     ranges split into such blocks) is SL_PORTS_PREFIX_PORT + 16 - k (the pad byte sits
 *     between proto and port and is always 0: count it); "any port" of a protocol is
 *     SL_PORTS_PREFIX_PROTO; "any protocol and port" (an empty ports list)
 *     SL_PORTS_PREFIX_PORTSET, the only way ICMP (port 0) or another protocol is admitted. When rules overlap, one entry per
 *     distinct (portset, proto, prefix) holds the rule reference the counters credit.
 *   - rule references start at 1 (0 = none/default deny) and stay below sl_rule_stats'
 *     max_entries; per-rule counters are indexed by them.
 *   - keep a policy set's and a portset's entries immutable while any endpoint points at it:
 *     a changed set is a new P (and new portsets), written before the flip of E.pol, and the
 *     old entries deleted after it (agent/dp_policy.c waits for in-flight packets between
 *     the flip and the deletes). A packet reads E.pol before sl_ident, so a changed identity
 *     of a peer is seen by packets of either version of P.
 */

/*
 * sl_ident: HASH, struct sl_addr -> struct sl_ident_val. Every pod IP the agent knows, and the
 * node's own addresses as SL_IDENTITY_HOST. An address with no entry is SL_IDENTITY_WORLD.
 */
#define SL_IDENTITY_WORLD 0   /* not a known pod or node address */
#define SL_IDENTITY_HOST  1   /* this node's own addresses: kubelet probes are always allowed */
#define SL_IDENTITY_FIRST 256 /* first identity the compiler assigns to a label set */
struct sl_ident_val {
	__u32 id;
	__u32 flags;
};
_Static_assert(sizeof(struct sl_ident_val) == 8, "sl_ident_val is ABI");

/* sl_peer: HASH, (policy set, direction, peer identity) -> portset. */
struct sl_peer_key {
	__u32 pol;
	__u32 identity;
	__u8 dir;
	__u8 pad[3];
};
_Static_assert(sizeof(struct sl_peer_key) == 12, "sl_peer_key is ABI");

struct sl_portset_ref {
	__u32 portset;
	__u32 pad;
};
_Static_assert(sizeof(struct sl_portset_ref) == 8, "sl_portset_ref is ABI");

/* sl_cidr: LPM_TRIE, prefixlen = 64 + address bits (pol and dir/pad are always exact). */
struct sl_cidr_key {
	__u32 prefixlen;
	__u32 pol;
	__u8 dir;
	__u8 pad[3];
	struct sl_addr addr;
};
_Static_assert(sizeof(struct sl_cidr_key) == 28, "sl_cidr_key is ABI");
#define SL_CIDR_PREFIX_BASE 64 /* bits of pol + dir + pad before addr */
/* value: struct sl_portset_ref; portset 0 means "excepted: no ports from this prefix" */

/* sl_ports: LPM_TRIE, prefixlen = 32 (portset) [+ 8 (proto) [+ 0..16 port bits]]. */
struct sl_ports_key {
	__u32 prefixlen;
	__be32 portset; /* big-endian so the trie's bytewise prefix is the portset's bits */
	__u8 proto;	/* IPPROTO_TCP, _UDP, _SCTP, _ICMP */
	__u8 pad;
	__be16 port;	/* destination port; ICMP: 0 */
};
_Static_assert(sizeof(struct sl_ports_key) == 12, "sl_ports_key is ABI");
#define SL_PORTS_PREFIX_PORTSET 32
#define SL_PORTS_PREFIX_PROTO	40 /* any port of this protocol */
#define SL_PORTS_PREFIX_PORT	48 /* + the port's prefix bits: pad is 0 and always matched */
#define SL_PORTS_PREFIX_FULL	64 /* one port: 48 + 16 */

struct sl_ports_val {
	__u32 rule; /* rule reference (>= 1): index into the compiler's rule table and sl_rule_stats */
	__u32 pad;
};
_Static_assert(sizeof(struct sl_ports_val) == 8, "sl_ports_val is ABI");


/*
 * Datapath configuration: the agent sets skel->rodata->sl_cfg between open and load (a
 * loaded program cannot change it). Standalone mode (no policy source) clears SL_CFG_POLICY.
 */
#define SL_CFG_POLICY	  (1u << 0) /* enforce endpoint policy (off: routing and anti-spoofing) */
#define SL_CFG_CT	  (1u << 1) /* conntrack: replies and related ICMP errors of allowed flows */
#define SL_CFG_EV_DROP	  (1u << 2) /* drop events into sl_events */
#define SL_CFG_EV_VERDICT (1u << 3) /* verdict events: new flows of policy-selected pods */
#define SL_CFG_ALL	  0xfu
/* Not in SL_CFG_ALL (the agent's --cross-node-forwarding chooses it): a packet from a pod to a
 * non-local destination is forwarded by bpf_fib_lookup + bpf_redirect(_neigh) to the next hop's
 * device instead of through the host stack (bpf/lib/fib.h). */
#define SL_CFG_FIB (1u << 4)

struct sl_cfg {
	__u32 flags;	       /* SL_CFG_* */
	__u32 ct_syn_s;	       /* TCP/SCTP until the reply: seconds since the last packet */
	__u32 ct_est_s;	       /* TCP/SCTP established */
	__u32 ct_close_s;      /* TCP after RST or both FINs, SCTP after ABORT/SHUTDOWN-COMPLETE */
	__u32 ct_udp_s;	       /* UDP */
	__u32 ct_icmp_s;       /* ICMP echo */
	__u32 ev_interval_ms;  /* at most one event per flow, reason and direction per interval */
	__u32 pad;
};
_Static_assert(sizeof(struct sl_cfg) == 32, "sl_cfg is ABI");

#define SL_CFG_DEFAULTS                                                                           \
	{                                                                                         \
		.flags = SL_CFG_ALL, .ct_syn_s = 60, .ct_est_s = 21600, .ct_close_s = 10,         \
		.ct_udp_s = 60, .ct_icmp_s = 30, .ev_interval_ms = 1000,                          \
	}

/* sl_rule_stats: PERCPU_ARRAY indexed by rule reference. sl_counters: PERCPU_ARRAY by
 * SL_COUNTER_IDX(reason, dir). Both hold struct sl_counter. */
struct sl_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct sl_counter) == 16, "sl_counter is ABI");

/* sl_ct: LRU_HASH, keyed by the flow as first seen (forward direction). */
struct sl_ct_key {
	struct sl_addr saddr;
	struct sl_addr daddr;
	__be16 sport; /* ICMP echo: the identifier; other ICMP: 0 */
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};
_Static_assert(sizeof(struct sl_ct_key) == 40, "sl_ct_key is ABI");

/*
 * Conntrack semantics (bpf/lib/conntrack.h): a packet whose tuple is an entry's key is
 * "forward" (re-checked against policy every time, so a removed rule cuts the flow at its next
 * forward packet; a denied forward packet leaves the entry alone), one whose reversed tuple is
 * a key is a "reply" (passes, SL_FWD_REPLY). ICMP errors whose quoted packet belongs to an
 * entry pass as replies. Entries are created only for packets policy allowed, and only for
 * TCP, UDP, SCTP and ICMP echo (ICMP echo request: sport = identifier, dport = 0; echo reply:
 * sport = 0, dport = identifier, so that a reply is the reversed tuple). Expired entries
 * (expires_ns < now) are ignored by the datapath and removed by agent/dp_ct.c.
 */
#define SL_CT_F_FIN_FWD (1u << 0) /* FIN seen from the flow's initiator */
#define SL_CT_F_FIN_REV (1u << 1) /* FIN seen from the responder */
#define SL_CT_F_REPLY	(1u << 2) /* a reply was seen */

enum sl_ct_state {
	SL_CT_NEW = 0,
	SL_CT_SYN_SENT = 1,
	SL_CT_ESTABLISHED = 2,
	SL_CT_CLOSING = 3,
};

struct sl_ct_val {
	__u64 expires_ns; /* CLOCK_MONOTONIC deadline (bpf_ktime_get_ns); the datapath ignores
			   * and agent/dp_ct.c deletes entries past it */
	__u64 packets;
	__u64 bytes;
	__u32 src_ep; /* endpoint ids, 0 if not local */
	__u32 dst_ep;
	__u32 rule[SL_DIR_MAX]; /* the rule that allowed each side, 0 = no policy */
	__u8 state;	       /* enum sl_ct_state */
	__u8 flags;	       /* SL_CT_F_* */
	__u8 pad[6];
};
_Static_assert(sizeof(struct sl_ct_val) == 48, "sl_ct_val is ABI");

/* sl_events: RINGBUF of struct sl_event. */
enum sl_event_type {
	SL_EV_DROP = 1,
	SL_EV_VERDICT = 2,
};

struct sl_event {
	__u64 ts_ns;
	__u8 type; /* enum sl_event_type */
	__u8 dir;  /* enum sl_dir */
	__u8 proto;
	__u8 reason; /* enum sl_reason */
	__u32 ep_id;
	__u32 peer_identity;
	__u32 rule; /* rule reference, 0 = none (default deny: see pol) */
	__u32 pol;  /* the endpoint's policy set when the verdict was made */
	__be16 sport;
	__be16 dport;
	struct sl_addr saddr;
	struct sl_addr daddr;
	__u32 len;
	__u32 pad;
};
_Static_assert(sizeof(struct sl_event) == 72, "sl_event is ABI");

/*
 * sl_frag: LRU_HASH, struct sl_frag_key -> struct sl_frag_val. Written by the datapath only:
 * a first fragment records its ports so the later fragments of the same datagram get the same
 * verdict (they carry no L4 header). A non-first fragment seen before its first one (reordered)
 * or after its entry was evicted is dropped with SL_DROP_FRAGMENT.
 */
#define SL_MAX_FRAGS 8192
struct sl_frag_key {
	struct sl_addr saddr;
	struct sl_addr daddr;
	__be32 id; /* IPv4: the 16-bit identification as on the wire, zero-extended */
	__u8 proto;
	__u8 pad[3];
};
_Static_assert(sizeof(struct sl_frag_key) == 40, "sl_frag_key is ABI");

struct sl_frag_val {
	__be16 sport; /* as the conntrack key has them (ICMP echo: the identifier) */
	__be16 dport;
	__u8 tracked; /* the first fragment was of a conntracked kind */
	__u8 pad[3];
};
_Static_assert(sizeof(struct sl_frag_val) == 8, "sl_frag_val is ABI");

/*
 * sl_ev_rate: LRU_HASH, struct sl_ct_key (the flow; pad[0] = reason) -> __u64 time of the last
 * event sent for it. Written by the datapath only. sl_ev_stats: PERCPU_ARRAY of struct
 * sl_counter: events lost because the ring buffer was full, and events suppressed by the
 * per-flow rate limit.
 */
#define SL_MAX_EV_FLOWS 16384
enum sl_ev_stat {
	SL_EV_STAT_LOST = 0,
	SL_EV_STAT_LIMITED = 1,
	SL_EV_STATS_MAX = 2,
};

#endif /* SL_ABI_H */
