/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * dp_maps.h - the datapath's map file descriptors in one struct, opened from a loaded
 * bpf_object (the agent's skeleton) or from the pins (sluicectl, tests, a restarted agent).
 * Every fd in the struct is owned by it: close with sl_dp_maps_close().
 */
#ifndef SL_DP_MAPS_H
#define SL_DP_MAPS_H

#include <bpf/libbpf.h>

struct sl_dp_maps {
	int endpoints, counters, ident, peer, cidr, ports, rule_stats, ct, frag, events, ev_rate,
	    ev_stats;
};

/* Every fd -1. */
void sl_dp_maps_init(struct sl_dp_maps *m);
/* Duplicates the fds of obj's maps (after load). 0 or -errno; on failure m holds no fd. */
int sl_dp_maps_from_obj(struct sl_dp_maps *m, struct bpf_object *obj);
/* Opens the pins in dir (the pin root, e.g. /sys/fs/bpf/sluice/v1). 0 or -errno (logged). */
int sl_dp_maps_open_pinned(struct sl_dp_maps *m, const char *dir);
void sl_dp_maps_close(struct sl_dp_maps *m);

/* Zero every per-rule counter (sl_rule_stats): rule references are the compiler's, numbered
 * afresh by each agent, so counters a previous agent left would be credited to other rules.
 * 0 or -errno (logged). */
int sl_dp_rule_stats_reset(const struct sl_dp_maps *m);

/* The one table of map names: i = 0 .. sl_dp_maps_count()-1, its pin name and its fd slot in m
 * (for callers that open the pins themselves, e.g. sluicectl with its own error messages). */
size_t sl_dp_maps_count(void);
const char *sl_dp_map_name(size_t i);
int *sl_dp_map_fd(struct sl_dp_maps *m, size_t i);

#endif /* SL_DP_MAPS_H */
