/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * enforce.h - conntrack and policy for one IPv4 packet, in the order the design fixes:
 * fragments get their ports, replies and related ICMP errors of live flows pass, then the
 * sender's egress policy and the receiver's ingress policy (each for a local endpoint only),
 * then the flow is refreshed or created. Forward packets of live flows are re-checked, so a
 * rule removed cuts its flows at their next forward packet.
 */
#ifndef SL_ENFORCE_H
#define SL_ENFORCE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"
#include "lib/config.h"
#include "lib/conntrack.h"
#include "lib/frag.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/verdict.h"

/*
 * p goes from src (the local endpoint that sent it, NULL when it comes from the host stack) to
 * dst (the local endpoint it goes to, NULL when it leaves for the host stack); prog_dir is the
 * calling program's direction. 0: go on and forward; TC_ACT_SHOT: dropped (counted, event sent).
 */
static __always_inline int sl_enforce(struct __sk_buff *skb, struct sl_pkt *p,
				      const struct sl_endpoint *src, const struct sl_endpoint *dst,
				      __u32 prog_dir)
{
	struct sl_verdict ve = {}, vi = {};
	enum sl_ct_dir way = SL_CT_MISS;
	struct sl_ct_val *ct = NULL;
	__u64 now = 0;
	int err;

	if (!SL_CFG_ON(SL_CFG_POLICY | SL_CFG_CT))
		return 0;
	err = sl_frag_ports(p);
	if (err)
		return sl_drop(skb, p, err, prog_dir);
	if (SL_CFG_ON(SL_CFG_CT)) {
		now = bpf_ktime_get_ns();
		if (p->tracked)
			way = sl_ct_lookup(p, now, &ct);
		if (way == SL_CT_REPLY && ct) {
			sl_ct_advance(ct, p, way, now);
			sl_count(SL_FWD_REPLY, prog_dir, p->len);
			return 0;
		}
		if (sl_ct_related(skb, p, now)) {
			sl_count(SL_FWD_REPLY, prog_dir, p->len);
			return 0;
		}
	}
	if (src) {
		sl_policy(src, SL_DIR_EGRESS, &p->daddr, p, &ve);
		if (SL_REASON_IS_DROP(ve.reason))
			return sl_deny(p, &ve);
	}
	if (dst) {
		sl_policy(dst, SL_DIR_INGRESS, &p->saddr, p, &vi);
		if (SL_REASON_IS_DROP(vi.reason))
			return sl_deny(p, &vi);
	}
	if (src)
		sl_allowed(p, &ve);
	if (dst)
		sl_allowed(p, &vi);
	if (!SL_CFG_ON(SL_CFG_CT) || !p->tracked)
		return 0;
	if (way == SL_CT_FORWARD && ct) {
		sl_ct_advance(ct, p, way, now);
		return 0;
	}
	if (p->frag == SL_FRAG_LATER)
		return 0;
	sl_ct_create(p, src ? src->ep_id : 0, dst ? dst->ep_id : 0, ve.rule, vi.rule, now);
	if (src && ve.reason != SL_FWD_NO_POLICY)
		sl_event(p, SL_EV_VERDICT, &ve);
	if (dst && vi.reason != SL_FWD_NO_POLICY)
		sl_event(p, SL_EV_VERDICT, &vi);
	return 0;
}

#endif /* SL_ENFORCE_H */
