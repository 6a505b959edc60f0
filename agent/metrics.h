/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * metrics.h - the agent's Prometheus metrics: counters other parts of the agent increment
 * (lock-free, any thread), and the /metrics text, which also reads the datapath's maps.
 * Names follow Prometheus conventions: sluice_<what>_total for counters, _seconds for times.
 */
#ifndef SL_AGENT_METRICS_H
#define SL_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct sl_agent;

/* The Kubernetes mode, from its informer's stats (absolute values, any time): complete lists
 * of resource ("pods", "namespaces", "networkpolicies", "nodes"), the first one included, and
 * watch requests made. Relists are lists after the first; reconnects, watches that did not
 * follow a list (after an error, a stall or the server's timeout). */
void sl_metrics_watch_stats(const char *resource, unsigned lists, unsigned watches);
/* A policy delta applied to the maps in seconds (ok: it succeeded). */
void sl_metrics_policy_apply(double seconds, bool ok);
/* A conntrack garbage collection run that deleted n expired entries. */
void sl_metrics_ct_gc(size_t deleted);

/* The whole /metrics body (text format 0.0.4): malloc'd, *len set; NULL on ENOMEM. */
char *sl_metrics_render(struct sl_agent *a, size_t *len);

#endif
