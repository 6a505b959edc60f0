/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sync.h - policy sync: the compiler's deltas into the datapath's maps in three phases, with
 * the endpoints' policy words merged into the agent's own sl_endpoints entries; the restart
 * diff of a full desired state against what the pinned maps hold; and the table of endpoint
 * values applied so far (what endpoint_add hands out).
 *
 * Threads: sl_sync_apply() runs on one thread (the Kubernetes loop). It takes a->lock only
 * around phase 2 (the flip), so the agent's endpoint writes and the flips are serialised.
 * sl_sync_ep_value() may be called from any thread, with or without a->lock.
 */
#ifndef SL_AGENT_SYNC_H
#define SL_AGENT_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"
#include "dp_maps.h"
#include "sl_policy.h"

struct sl_sync;

/* The first ids a fresh compiler may hand out without reusing any the maps hold. */
struct sl_sync_floor {
	__u32 ident, set, portset;
};

struct sl_sync_stats {
	size_t added, flipped, deleted, bridged; /* bridged: restart-only sl_peer copies */
	size_t reaped;	/* stale entries handed to the reaper (deleted after a grace period) */
	double ms;	/* the whole apply */
	double flip_ms; /* from the start to the end of phase 2 */
};

/* Scan the maps of m; 0 or -errno (logged). */
int sl_sync_floor(const struct sl_dp_maps *m, struct sl_sync_floor *f);

/* m is borrowed and must outlive the sync. NULL + errno on failure. */
struct sl_sync *sl_sync_new(struct sl_agent *a, const struct sl_dp_maps *m);
void sl_sync_free(struct sl_sync *s);

/*
 * Apply d to the maps. against_maps: d is everything the maps should hold (the first delta of
 * a fresh compiler whose ids start above sl_sync_floor()); the pinned maps are read and only
 * the difference is written: new entries first, then the flip of sl_ident and of every local
 * endpoint whose words differ, then the deletion of what is no longer wanted. Nothing is
 * flushed, sl_ct is never touched. For the flip window, old sets get copies of their sl_peer
 * entries under the new identity ids of the same addresses (removed in phase 3).
 * Otherwise d is an incremental delta. Either way the call returns once the change is
 * enforced (phase 2): phase 3, the deletion of what nothing references any more, runs after
 * a grace period on the reaper's thread (reap.h). Endpoints the compiler reports removed, and local
 * endpoints whose pod the compiler does not know, get deny-all (SL_EP_F_POLICY_INVALID).
 * 0 or -errno (logged); after a failure the same d may be applied again.
 */
int sl_sync_apply(struct sl_sync *s, const struct sl_delta *d, bool against_maps,
		  struct sl_sync_stats *st);

/* Wait until the stale entries of applied deltas are deleted: 0 or -ETIMEDOUT. */
int sl_sync_drain(struct sl_sync *s, int timeout_ms);

/* The policy words applied for pod ns/name into val (pol, identity, the INVALID flag).
 * 0, or -ENOENT when no applied delta made it an endpoint of this node (val: deny all). */
int sl_sync_ep_value(struct sl_sync *s, const char *ns, const char *name, struct sl_endpoint *val);

#endif
