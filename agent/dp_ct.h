/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * dp_ct.h - user-space upkeep of the conntrack map (sl_ct, an LRU): removing expired flows so
 * the LRU never has to evict live ones, and flushing the flows of an address that went away.
 */
#ifndef SL_DP_CT_H
#define SL_DP_CT_H

#include <stddef.h>

#include "sl_abi.h"

struct sl_dp_ct_stats {
	size_t seen, expired, deleted;
};

/* Now in the datapath's clock (bpf_ktime_get_ns: CLOCK_MONOTONIC), in ns. */
__u64 sl_dp_ct_now(void);

/* Delete every entry of the sl_ct map fd whose deadline is before now_ns (0: now).
 * 0 or -errno (logged); stats may be NULL. */
int sl_dp_ct_gc(int ct_fd, __u64 now_ns, struct sl_dp_ct_stats *stats);

/* Delete every entry with addr as source or destination (an endpoint removed: its address may
 * be reused by another pod, which must not inherit its flows). 0 or -errno (logged). */
int sl_dp_ct_flush_addr(int ct_fd, const struct sl_addr *addr, struct sl_dp_ct_stats *stats);

#endif /* SL_DP_CT_H */
