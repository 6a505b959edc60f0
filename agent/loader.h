/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * loader.h - the datapath object: bpffs mounted, skeleton loaded with maps reused from their
 * pins, programs pinned. The only user of the skeleton.
 */
#ifndef SL_AGENT_LOADER_H
#define SL_AGENT_LOADER_H

#include <limits.h>
#include <stdbool.h>

struct datapath_bpf;
struct bpf_object;

struct sl_datapath {
	struct datapath_bpf *skel;
	char root[PATH_MAX];	/* --bpffs */
	char pin_dir[PATH_MAX]; /* <root>/v<SL_ABI_VERSION> */
	int endpoints_fd;	/* sl_endpoints, or -1 when the object has none */
	int counters_fd;	/* sl_counters, or -1 */
	int from_pod_fd;
	int to_pod_fd;
	int lock_fd;	 /* pin_dir, flock'ed: one agent per pin dir */
	int maps_reused; /* how many maps were adopted from existing pins */
	int maps_total;
};

/*
 * sl_bpffs_ensure - make sure root is a directory on a bpffs: when /sys/fs/bpf is needed and
 * holds none, mount one there; otherwise mount one on root itself. Serialised against other
 * agents with a lock on the mount point's parent. 0 or -errno (logged).
 */
int sl_bpffs_ensure(const char *root);
/* Mount if needed, load (reusing pinned maps), pin programs (atomic replace). policy: enforce
 * endpoint policy (off in standalone mode: routing and anti-spoofing only). fib: pods' traffic
 * to other nodes by bpf_fib_lookup (SL_CFG_FIB) instead of the host stack. 0 or -errno. */
int sl_datapath_load(struct sl_datapath *dp, const char *root, bool policy, bool fib);
/* The loaded object (for agent/dp_maps.c's sl_dp_maps_from_obj()); NULL before load. */
struct bpf_object *sl_datapath_obj(const struct sl_datapath *dp);
/* Close our fds; pins, maps and attached programs stay. */
void sl_datapath_close(struct sl_datapath *dp);

#endif
