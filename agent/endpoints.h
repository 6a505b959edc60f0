/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * endpoints.h - the local endpoint registry: the API's endpoint operations, the sl_endpoints
 * entries of local pods, the state file, and their reconciliation at start.
 */
#ifndef SL_AGENT_ENDPOINTS_H
#define SL_AGENT_ENDPOINTS_H

#include <cjson/cJSON.h>

#include "agent.h"

/*
 * sl_eps_start - recover <state-dir>/endpoints.json and reconcile it with the kernel: drop
 * endpoints whose host veth is gone, re-write missing or stale map entries, remove LOCAL map
 * entries that no endpoint owns, re-attach the freshly loaded programs (replace semantics).
 * 0 or -errno (logged).
 */
int sl_eps_start(struct sl_agent *a);
size_t sl_eps_count(struct sl_agent *a);

/* The API's operations: each returns the response object (never NULL except on ENOMEM). */
cJSON *sl_eps_add(struct sl_agent *a, const cJSON *req);
cJSON *sl_eps_del(struct sl_agent *a, const cJSON *req);
cJSON *sl_eps_get(struct sl_agent *a, const cJSON *req);
cJSON *sl_eps_list(struct sl_agent *a, const cJSON *req);

#endif
