/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* k8s_mode.h - helpers of the Kubernetes mode (mode_kubernetes.c) that live in their own files. */
#ifndef SL_AGENT_K8S_MODE_H
#define SL_AGENT_K8S_MODE_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "sl_model.h"

/* Add the addresses of the agent's network-namespace interfaces (IPv4, and IPv6 that is not
 * link-local) to n->addrs, without duplicates. 0 or -errno. */
int sl_k8s_mode_node_addrs(struct sl_node *n);

struct nl_sock;
/* A nonblocking netlink socket subscribed to address changes (IPv4 and IPv6), or NULL
 * (logged: the addresses read at start stay). */
struct nl_sock *sl_k8s_mode_addr_watch(void);
/* Drain it: true when an address was added or removed since the last call. */
bool sl_k8s_mode_addr_changed(struct nl_sock *s);

/* FNV-1a-64 of "<kind>/<namespace>/<name>/<resourceVersion>" of obj (namespace "" when it has
 * none): the status op's digest is the sum of these over the caches. */
uint64_t sl_k8s_mode_obj_digest(const char *kind, const cJSON *obj);

/* Drop, in place, every field of obj (a "pods", "namespaces", "networkpolicies" or "nodes"
 * object) that the Kubernetes mode does not read: the informers' transform. */
void sl_k8s_mode_trim(const char *kind, cJSON *obj);

#endif
