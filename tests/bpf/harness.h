/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * harness.h - what the BPF tests share: EXPECT_* counting into "N passed, N failed", loading
 * the datapath skeleton with every pin cleared (tests never touch bpffs), a private network
 * namespace with a veth pair (so ctx ifindex values name real devices), and counter reads.
 */
#ifndef SL_TEST_HARNESS_H
#define SL_TEST_HARNESS_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_abi.h"
#include "sl_check.h"
#include "datapath.skel.h"

#define SKIP 77 /* meson: skipped */

static inline int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || getenv("SL_TEST_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Open the skeleton with pinning off for every map. NULL with errno on failure. */
static inline struct datapath_bpf *open_unpinned(void)
{
	struct datapath_bpf *skel = datapath_bpf__open();
	struct bpf_map *m;

	if (!skel)
		return NULL;
	bpf_object__for_each_map (m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	return skel;
}

/* Enter a fresh network namespace; 0, SKIP when not permitted, or 1. */
static inline int enter_netns(void)
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return errno == EPERM ? SKIP : 1;
	}
	return 0;
}

/* Sum of a per-CPU struct sl_counter slot: packets. */
static inline long long percpu_packets(struct bpf_map *map, __u32 idx)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sl_counter v[ncpu > 0 ? ncpu : 1];
	long long sum = 0;

	if (ncpu <= 0 || bpf_map__lookup_elem(map, &idx, sizeof(idx), v, sizeof(v), 0))
		return -1;
	for (int i = 0; i < ncpu; i++)
		sum += v[i].packets;
	return sum;
}

static inline long long counter(struct datapath_bpf *skel, int reason, int dir)
{
	return percpu_packets(skel->maps.sl_counters, SL_COUNTER_IDX(reason, dir));
}

#endif /* SL_TEST_HARNESS_H */
