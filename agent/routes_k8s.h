/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * routes_k8s.h - Kubernetes mode's routes to other nodes: Node objects (spec.podCIDR(s),
 * status.addresses InternalIP) from the Nodes informer into sl_routes_sync (routes.h).
 * Called from the Kubernetes mode's loop thread only.
 */
#ifndef SL_AGENT_ROUTES_K8S_H
#define SL_AGENT_ROUTES_K8S_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "routes.h"

struct sl_k8s_informer;

/* A Node object as a route: 0; -ENOENT when it has no IPv4 pod range or no IPv4 InternalIP
 * (yet); -EINVAL when it has no name or an unreadable podCIDR. */
int sl_node_route_decode(const cJSON *node, struct sl_node_route *out);

/* Some Node was added, changed or deleted: the next sl_routes_k8s_apply() syncs. */
void sl_routes_k8s_changed(void);

/* When a Node changed since the last successful sync (or never synced) and the informer has
 * listed: sync the routes to every Node but self. 0, or -errno: call again later (retry);
 * after a failure, attempts are spaced 1 s doubling to 60 s (-EAGAIN until then). */
int sl_routes_k8s_apply(const struct sl_k8s_informer *nodes, const char *self);

/* Own Node's IPv4 pod range as "a.b.c.d/n" into buf: 0, or -ENOENT (no Node or no range). */
int sl_routes_k8s_pod_cidr(const struct sl_k8s_informer *nodes, const char *self, char *buf,
			   size_t len);

/*
 * When no --pod-cidr was given: take the own Node's IPv4 spec.podCIDR(s) as cfg's pod range,
 * for the conflist's host-local range and the endpoint address check. Call before the agent is
 * ready (nothing reads the range concurrently but the status op). 0, or -ENOENT (warned).
 */
struct sl_config;
int sl_routes_k8s_adopt_pod_cidr(const struct sl_k8s_informer *nodes, struct sl_config *cfg);

#endif
