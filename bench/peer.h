/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* peer.h - the map value shared by peer.bpf.c and peer_attach.c (bench only). */
#ifndef SLB_PEER_H
#define SLB_PEER_H

#include <linux/types.h>

#define SLB_PEER_MAX 256

/* Destination pod IPv4 (network order) -> where to send it. */
struct slb_peer_dst {
	__u32 ifindex;	  /* host veth of the destination pod */
	__u8 pod_mac[6];  /* new destination MAC: the pod's eth0 */
	__u8 host_mac[6]; /* new source MAC: that host veth; adjacent to pod_mac on purpose */
};

_Static_assert(sizeof(struct slb_peer_dst) == 16, "slb_peer_dst is shared with BPF");
#endif
