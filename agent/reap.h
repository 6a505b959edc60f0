/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * reap.h - phase 3 of a policy change (dp_policy.h) off the apply path: the entries an applied
 * delta no longer references are deleted by a thread of their own, after an RCU grace period
 * that began once the delta's flip was done. The change is enforced when its flip is done; the
 * grace period (~10 ms or more) then costs nobody a wait.
 *
 * The applier (one thread) calls, for every change:
 *   sl_reap_cancel(r, &u)   before phase 1: keys u adds are no longer to be deleted
 *                           (a compiler may hand a freed id out again);
 *   ... phases 1 and 2 ...
 *   sl_reap_queue(r, &u)    u's phase-3 keys, deleted after a grace period that starts now
 *                           or later.
 * A key is deleted only if no sl_reap_cancel() of it came after its sl_reap_queue(), and an
 * entry re-added after a cancel is never deleted by an older queue. Deletions of entries
 * already gone are ignored; a failed one is retried a second later.
 */
#ifndef SL_AGENT_REAP_H
#define SL_AGENT_REAP_H

#include <stddef.h>

#include "dp_maps.h"
#include "dp_policy.h"

struct sl_reap;

/* m is borrowed and must outlive the reaper. Starts its thread. NULL + errno on failure. */
struct sl_reap *sl_reap_new(const struct sl_dp_maps *m);
/* Deletes what is still queued (after its grace period), then stops the thread. */
void sl_reap_free(struct sl_reap *r);
/* u's phase-1 spans (ports_add, cidr_add, peer_add): those keys are no longer to be deleted. */
void sl_reap_cancel(struct sl_reap *r, const struct sl_dp_policy_update *u);
/* u's phase-3 spans (peer_del, cidr_del, ports_del). 0 or -ENOMEM (logged; some may be queued
 * already: the caller deletes them all itself after sl_dp_sync(), which makes those no-ops). */
int sl_reap_queue(struct sl_reap *r, const struct sl_dp_policy_update *u);
/* Wait until nothing is queued or timeout_ms passed: 0 or -ETIMEDOUT. */
int sl_reap_drain(struct sl_reap *r, int timeout_ms);

struct sl_reap_stats {
	size_t queued;	/* keys waiting now */
	size_t deleted; /* entries deleted so far */
	size_t graces;	/* grace periods waited */
	double last_grace_ms;
};
void sl_reap_stats(struct sl_reap *r, struct sl_reap_stats *st);

#endif
