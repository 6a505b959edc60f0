/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * frag.h - IPv4 fragments. Policy and conntrack need ports, which only the first fragment
 * carries. The first fragment (offset 0, MF set) is parsed like any packet and records its
 * ports in sl_frag under (saddr, daddr, id, proto); later fragments take them from there and
 * get the same verdict as their first one would (policy is checked for each of them too).
 * A later fragment with no entry (it overtook its first fragment, or the entry was evicted) is
 * dropped with SL_DROP_FRAGMENT: it cannot be classified. Fragments never create conntrack
 * entries by themselves except the first one, which is a normal packet.
 */
#ifndef SL_FRAG_H
#define SL_FRAG_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"
#include "lib/maps.h"
#include "lib/parse.h"

static __always_inline int sl_frag_ports(struct sl_pkt *p)
{
	struct sl_frag_key k = {
	    .saddr = p->saddr,
	    .daddr = p->daddr,
	    .id = p->frag_id,
	    .proto = p->proto,
	};
	struct sl_frag_val *v, nv = {};

	if (p->frag == SL_FRAG_NONE)
		return 0;
	if (p->frag == SL_FRAG_FIRST) {
		nv.sport = p->sport;
		nv.dport = p->dport;
		nv.tracked = p->tracked;
		bpf_map_update_elem(&sl_frag, &k, &nv, BPF_ANY);
		return 0;
	}
	v = bpf_map_lookup_elem(&sl_frag, &k);
	if (!v)
		return SL_DROP_FRAGMENT;
	p->sport = v->sport;
	p->dport = v->dport;
	p->tracked = v->tracked;
	return 0;
}

#endif /* SL_FRAG_H */
