/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * verdict.h - counting verdicts. Every packet ends in exactly one final reason (a forward:
 * STACK, REDIRECT, ARP, TO_POD; or a drop), counted by (reason, dir) in sl_counters. Packets
 * that passed policy also count the policy decision per direction checked (REPLY, POLICY,
 * NO_POLICY, HOST), so a same-node packet counts its egress and its ingress decision.
 */
#ifndef SL_VERDICT_H
#define SL_VERDICT_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"
#include "lib/maps.h"

static __always_inline void sl_count(__u32 reason, __u32 dir, __u32 len)
{
	__u32 idx = SL_COUNTER_IDX(reason, dir);
	struct sl_counter *c = bpf_map_lookup_elem(&sl_counters, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* Count a final forward and return the tc verdict that goes with it. */
static __always_inline int sl_pass(struct __sk_buff *skb, __u32 reason, __u32 dir, int verdict)
{
	sl_count(reason, dir, skb->len);
	return verdict;
}

/* Count a drop and return TC_ACT_SHOT. */
static __always_inline int sl_drop(struct __sk_buff *skb, __u32 reason, __u32 dir)
{
	sl_count(reason, dir, skb->len);
	return TC_ACT_SHOT;
}

#endif /* SL_VERDICT_H */
