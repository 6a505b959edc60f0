/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * routes.h - the routes to other nodes' pod ranges: one route per other node, its podCIDR via
 * its InternalIP, in the main table of the agent's network namespace, marked as ours by the
 * route protocol SL_RTPROT so that sync and cleanup find exactly ours and never touch others'.
 */
#ifndef SL_AGENT_ROUTES_H
#define SL_AGENT_ROUTES_H

#include <stddef.h>
#include <stdint.h>

/* rtm_protocol of our routes ("proto 92" in `ip route`; unassigned in iproute2's rt_protos and
 * the kernel's RTPROT_* list, which stops at 42 for static values other daemons use). */
#define SL_RTPROT 0x5c

/* One node as the routes need it. Addresses in network byte order. */
struct sl_node_route {
	char name[254];
	uint32_t pod_cidr; /* network address of the node's IPv4 pod range */
	uint8_t pod_cidr_len;
	uint32_t node_ip; /* the node's InternalIP: the next hop */
};

/*
 * sl_routes_sync - make our routes exactly { nodes[i].pod_cidr via nodes[i].node_ip } for every
 * node but self (NULL: none skipped): add what is missing, replace ours whose next hop changed,
 * delete ours that no node wants (stale ones from an earlier run included). A route of the same
 * prefix and metric that is not ours is left alone (warned about, counted as a failure). Nodes
 * whose pod range repeats an earlier node's are skipped (warned). Returns 0, or the first
 * -errno after trying everything else (each failure logged); a retry converges.
 */
int sl_routes_sync(const struct sl_node_route *nodes, size_t n, const char *self);

/* sl_routes_flush - delete every route of ours (sync with no nodes). 0 or -errno. */
int sl_routes_flush(void);

#endif
