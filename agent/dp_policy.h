/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * dp_policy.h - apply a policy change to the datapath's maps so that every packet sees either
 * the whole old policy or the whole new one (sl_abi.h's policy comment has the map semantics).
 *
 * A change comes in three phases, applied in this order:
 *   1. add      sl_ports, sl_cidr, sl_peer entries of new policy sets and portsets. Nothing
 *               references them yet, so packets cannot see them.
 *   2. flip     sl_ident values set/deleted, then each endpoint's pol[] words (plus its identity
 *               and SL_EP_F_POLICY_INVALID) rewritten in one map update: a packet reads
 *               pol[dir] once, so it sees one version whole.
 *   3. delete   after an RCU grace period (every BPF program that could have read an old pol[]
 *               word has finished), the entries of the old sets, which nothing references.
 * Phase 1 failing rolls back what it added and returns the error: the maps are as before.
 * Phase 2 failing stops there (endpoints flipped so far stay flipped, each one whole; old
 * entries stay, so nothing half-applied is visible) and returns the error; re-applying the
 * same update is safe. Phase 3 ignores entries already gone.
 *
 * The arrays are in the ABI's layout. A span describes n (key, value) pairs of any struct that
 * holds them, e.g. policy/sl_policy.h's struct sl_ports_ent { k; v; }:
 *     u.ports_add = SL_DP_PAIRS(delta.ports_add.v, delta.ports_add.n, k, v);
 *     u.ports_del = SL_DP_KEYS(delta.ports_del.v, delta.ports_del.n);
 * Not thread-safe against other writers of the same maps: the agent serialises its writers.
 */
#ifndef SL_DP_POLICY_H
#define SL_DP_POLICY_H

#include <stddef.h>

#include "sl_abi.h"
#include "dp_maps.h"

struct sl_dp_span {
	const void *base;
	size_t n;
	size_t stride;	/* bytes from one element to the next */
	size_t key_off; /* offset of the ABI key in an element */
	size_t val_off; /* offset of the ABI value (unused for deletes) */
};

#define SL_DP_PAIRS(arr, count, kf, vf)                                   \
	((struct sl_dp_span){.base = (arr),                               \
			     .n = (count),                                \
			     .stride = sizeof(*(arr)),                    \
			     .key_off = offsetof(__typeof__(*(arr)), kf), \
			     .val_off = offsetof(__typeof__(*(arr)), vf)})
#define SL_DP_KEYS(arr, count) \
	((struct sl_dp_span){.base = (arr), .n = (count), .stride = sizeof(*(arr))})

/* One endpoint's new policy words. The endpoint (keyed by addr in sl_endpoints) must exist:
 * the agent writes an endpoint's first value itself; flips of missing ones are counted. */
struct sl_dp_ep_flip {
	struct sl_addr addr;
	__u32 pol[SL_DIR_MAX];
	__u32 identity;
	__u32 flags; /* only SL_EP_F_POLICY_INVALID is taken from here; the rest is kept */
};

struct sl_dp_policy_update {
	/* phase 1 (key, value) */
	struct sl_dp_span ports_add; /* sl_ports_key -> sl_ports_val */
	struct sl_dp_span cidr_add;  /* sl_cidr_key -> sl_portset_ref */
	struct sl_dp_span peer_add;  /* sl_peer_key -> sl_portset_ref */
	/* phase 2 */
	struct sl_dp_span ident_set; /* sl_addr -> sl_ident_val */
	struct sl_dp_span ident_del; /* sl_addr */
	const struct sl_dp_ep_flip *eps;
	size_t n_eps;
	/* How a flip is written. NULL: read-modify-write of the sl_endpoints value here. The agent,
	 * whose endpoints.c owns local endpoint values, passes its own writer so that its copy
	 * and the map change together: it must write the whole value in one map update and
	 * return 0, -ENOENT (no such endpoint: counted, not an error) or -errno. */
	int (*flip)(void *ctx, const struct sl_dp_ep_flip *f);
	void *flip_ctx;
	/* phase 3 (keys) */
	struct sl_dp_span peer_del;
	struct sl_dp_span cidr_del;
	struct sl_dp_span ports_del;
};

struct sl_dp_apply_stats {
	size_t added, flipped, missing_eps, deleted;
	double grace_ms; /* time spent waiting for the grace period */
};

/* Apply u to the maps of m (endpoints, ident, peer, cidr, ports). 0 or -errno (logged).
 * stats may be NULL. */
int sl_dp_policy_apply(const struct sl_dp_maps *m, const struct sl_dp_policy_update *u,
		       struct sl_dp_apply_stats *stats);

/* Returns once every BPF program running when it was called has finished (an RCU grace
 * period, obtained from a throw-away map-in-map update). 0 or -errno. */
int sl_dp_sync(void);

#endif /* SL_DP_POLICY_H */
