/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * verdict.h - counting verdicts. Every packet ends in exactly one final reason (a forward:
 * STACK, REDIRECT, ARP, TO_POD; or a drop), counted by (reason, dir) in sl_counters. IPv4
 * packets that passed conntrack/policy also count how, once per direction checked: REPLY (in
 * the program's direction), or NO_POLICY/POLICY/HOST in the direction of the policy that
 * allowed it; so a same-node packet counts its egress and its ingress decision. A drop counts
 * in the direction of the policy that denied it, and sends a drop event.
 */
#ifndef SL_VERDICT_H
#define SL_VERDICT_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"
#include "lib/maps.h"
#include "lib/events.h"
#include "lib/policy.h"

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

/* A decision that denied p: count it, send its event; TC_ACT_SHOT. */
static __always_inline int sl_deny(const struct sl_pkt *p, const struct sl_verdict *v)
{
	sl_count(v->reason, v->dir, p->len);
	sl_event(p, SL_EV_DROP, v);
	return TC_ACT_SHOT;
}

/* Drop p (parsed as far as it got) for a reason that is no endpoint's policy. */
static __always_inline int sl_drop(struct __sk_buff *skb, struct sl_pkt *p, __u32 reason, __u32 dir)
{
	struct sl_verdict v = {.reason = reason, .dir = dir};

	p->len = skb->len;
	return sl_deny(p, &v);
}

/* A decision that allowed p: count it and credit its rule. */
static __always_inline void sl_allowed(const struct sl_pkt *p, const struct sl_verdict *v)
{
	struct sl_counter *c;
	__u32 rule = v->rule;

	sl_count(v->reason, v->dir, p->len);
	if (!rule)
		return;
	c = bpf_map_lookup_elem(&sl_rule_stats, &rule);
	if (c) {
		c->packets++;
		c->bytes += p->len;
	}
}

#endif /* SL_VERDICT_H */
