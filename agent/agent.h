/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* agent.h - the agent's shared context and the mode interface (standalone, kubernetes). */
#ifndef SL_AGENT_AGENT_H
#define SL_AGENT_AGENT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <cjson/cJSON.h>

#include "flags.h"
#include "loader.h"
#include "sl_abi.h"
#include "state.h"

struct sl_agent;
struct sl_policy;

/*
 * A mode is where policy comes from. Standalone: nowhere (pol {0,0}: routing and
 * anti-spoofing only). Kubernetes (agent/k8s_*.c, issue 5): list/watch and the compiler.
 * Hooks other than name may be NULL.
 */
struct sl_mode_ops {
	const char *name; /* "standalone" | "kubernetes": the status op's "mode" */
	/* After the datapath is loaded and endpoints reconciled, before the agent is ready:
	 * start watches etc. Return 0 once the mode's initial state is programmed. */
	int (*start)(struct sl_agent *a);
	/* Fill val->pol, val->identity and extra val->flags for a local endpoint about to be
	 * written to sl_endpoints (endpoint_add, where ep->id is still 0, and reconcile at
	 * start). Called WITHOUT a->lock; may wait (bounded). -EAGAIN answers CNI code 11. */
	int (*endpoint_policy)(struct sl_agent *a, const struct sl_ep *ep, struct sl_endpoint *val);
	/* After a local endpoint left the maps and state (a->lock held). */
	void (*endpoint_removed)(struct sl_agent *a, const struct sl_ep *ep);
	void (*stop)(struct sl_agent *a);
	/* endpoint_add, a->lock held, right before val is written: refresh val->pol, identity
	 * and flags to what the mode has applied by now (closes the race with a policy change
	 * between endpoint_policy and the write). Must not block. */
	void (*endpoint_refresh)(struct sl_agent *a, const struct sl_ep *ep,
				 struct sl_endpoint *val);
	/* The status op: add the mode's fields to the response object. 0 or -ENOMEM. */
	int (*status)(struct sl_agent *a, cJSON *resp);
	/* start returns before the initial state is programmed; the mode calls
	 * sl_agent_set_ready() from its own thread once it is. */
	bool ready_later;
	/* sluicectl's questions (agent/ctl_ops.c: the names and explain ops): call fn(p, ctx)
	 * with the compiler whose last taken delta the maps hold, while nothing changes it (e.g.
	 * on the mode's own thread, the caller waiting, bounded). fn only reads p and does not
	 * block. Returns fn's result, or -ENOTSUP (no compiler), -EAGAIN (not synced yet),
	 * -ETIMEDOUT. NULL: the mode has no model (standalone). */
	int (*with_model)(struct sl_agent *a, int (*fn)(const struct sl_policy *p, void *ctx),
			  void *ctx);
};

/* Write the conflist and become ready (/readyz 200). 0 or -errno (logged). */
int sl_agent_set_ready(struct sl_agent *a);

extern const struct sl_mode_ops sl_mode_standalone;
/* Defined by agent/k8s_*.c when linked (main.c picks it when --kubeconfig or
 * KUBERNETES_SERVICE_HOST is given); weak until then. */
extern const struct sl_mode_ops sl_mode_kubernetes;

struct sl_agent {
	const struct sl_config *cfg;
	const struct sl_mode_ops *mode;
	void *mode_priv;
	struct sl_datapath dp;

	pthread_mutex_t lock; /* eps, the state file and sl_endpoints' local entries */
	struct sl_ep_table eps;
	char state_path[PATH_MAX];
	char sock_path[PATH_MAX];
	char conflist_path[PATH_MAX];

	atomic_bool ready;    /* datapath programmed, conflist written */
	atomic_bool stopping; /* SIGTERM/SIGINT seen */
};

#endif
