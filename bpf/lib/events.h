/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * events.h - drop and verdict events into the sl_events ring buffer, rate limited per flow:
 * at most one event per (flow, reason, direction) per sl_cfg.ev_interval_ms, remembered in the
 * sl_ev_rate LRU. A suppressed event counts SL_EV_STAT_LIMITED, one the ring buffer had no room
 * for SL_EV_STAT_LOST, in sl_ev_stats. Only drops and the creation of flows reach this file.
 */
#ifndef SL_EVENTS_H
#define SL_EVENTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/policy.h"

static __always_inline void sl_ev_stat(__u32 idx, __u32 len)
{
	struct sl_counter *c = bpf_map_lookup_elem(&sl_ev_stats, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* Whether this flow may have an event now; remembers that it had one. */
static __always_inline int sl_ev_allowed(const struct sl_pkt *p, const struct sl_verdict *v,
					 __u64 now)
{
	struct sl_ct_key k = {
	    .saddr = p->saddr,
	    .daddr = p->daddr,
	    .sport = p->sport,
	    .dport = p->dport,
	    .proto = p->proto,
	    .pad = {v->reason, v->dir},
	};
	__u64 *last;

	if (!sl_cfg.ev_interval_ms)
		return 1;
	last = bpf_map_lookup_elem(&sl_ev_rate, &k);
	if (last && now - *last < (__u64)sl_cfg.ev_interval_ms * 1000000ull)
		return 0;
	if (last)
		*last = now;
	else
		bpf_map_update_elem(&sl_ev_rate, &k, &now, BPF_ANY);
	return 1;
}

static __always_inline void sl_event(const struct sl_pkt *p, __u8 type, const struct sl_verdict *v)
{
	struct sl_event *e;
	__u64 now;

	if (!SL_CFG_ON(type == SL_EV_DROP ? SL_CFG_EV_DROP : SL_CFG_EV_VERDICT))
		return;
	now = bpf_ktime_get_ns();
	if (!sl_ev_allowed(p, v, now)) {
		sl_ev_stat(SL_EV_STAT_LIMITED, p->len);
		return;
	}
	e = bpf_ringbuf_reserve(&sl_events, sizeof(*e), 0);
	if (!e) {
		sl_ev_stat(SL_EV_STAT_LOST, p->len);
		return;
	}
	e->ts_ns = now;
	e->type = type;
	e->dir = v->dir;
	e->proto = p->proto;
	e->reason = v->reason;
	e->ep_id = v->ep_id;
	e->peer_identity = v->peer_id;
	e->rule = v->rule;
	e->pol = v->pol;
	e->sport = p->sport;
	e->dport = p->dport;
	e->saddr = p->saddr;
	e->daddr = p->daddr;
	e->len = p->len;
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
}

#endif /* SL_EVENTS_H */
