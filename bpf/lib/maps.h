/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.h - every map of the datapath, declared once. All are pinned by name under the agent's
 * pin root (<bpffs>/v<SL_ABI_VERSION>/), so the agent, the CNI and sluicectl find them there and
 * they survive agent restarts. Key and value layouts are in sl_abi.h; sizes are the SL_MAX_*
 * defaults, which the agent may change with bpf_map__set_max_entries() before load.
 */
#ifndef SL_MAPS_H
#define SL_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sl_abi.h"

/* Pod IP (and remote pod IP) -> endpoint. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sl_addr);
	__type(value, struct sl_endpoint);
	__uint(max_entries, SL_MAX_ENDPOINTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_endpoints SEC(".maps");

/* Verdict counters by SL_COUNTER_IDX(reason, dir). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct sl_counter);
	__uint(max_entries, SL_COUNTERS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_counters SEC(".maps");

/* Any known address -> security identity (missing: SL_IDENTITY_WORLD). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sl_addr);
	__type(value, struct sl_ident_val);
	__uint(max_entries, SL_MAX_IDENTITIES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ident SEC(".maps");

/* (policy set, dir, peer identity) -> portset. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sl_peer_key);
	__type(value, struct sl_portset_ref);
	__uint(max_entries, SL_MAX_PEERS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_peer SEC(".maps");

/* (policy set, dir, peer prefix) -> portset (0: excepted). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct sl_cidr_key);
	__type(value, struct sl_portset_ref);
	__uint(max_entries, SL_MAX_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_cidr SEC(".maps");

/* (portset, proto, port prefix) -> rule reference. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct sl_ports_key);
	__type(value, struct sl_ports_val);
	__uint(max_entries, SL_MAX_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ports SEC(".maps");

/* Per-rule packets and bytes, by rule reference. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct sl_counter);
	__uint(max_entries, SL_MAX_RULES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_rule_stats SEC(".maps");

/* Connection tracking, keyed by the flow as first seen. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct sl_ct_key);
	__type(value, struct sl_ct_val);
	__uint(max_entries, SL_MAX_CT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ct SEC(".maps");

/* Non-first IPv4 fragments borrow the ports their first fragment carried. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct sl_frag_key);
	__type(value, struct sl_frag_val);
	__uint(max_entries, SL_MAX_FRAGS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_frag SEC(".maps");

/* Drop and verdict events for the agent and sluicectl. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SL_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_events SEC(".maps");

/* Per-flow event rate limiter: (flow, reason) -> time of the last event sent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct sl_ct_key);
	__type(value, __u64);
	__uint(max_entries, SL_MAX_EV_FLOWS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ev_rate SEC(".maps");

/* Events not sent: SL_EV_STAT_LOST (ring buffer full), SL_EV_STAT_LIMITED (rate limit). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct sl_counter);
	__uint(max_entries, SL_EV_STATS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sl_ev_stats SEC(".maps");

#endif /* SL_MAPS_H */
