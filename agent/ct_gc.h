/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ct_gc.h - the agent's conntrack garbage collector: a thread that deletes expired sl_ct
 * entries every SL_CT_GC_INTERVAL_S (agent/dp_ct.c does the walk), counted in /metrics.
 */
#ifndef SL_AGENT_CT_GC_H
#define SL_AGENT_CT_GC_H

#include "agent.h"

#define SL_CT_GC_INTERVAL_S 10

/* Start the thread (opens the pinned sl_ct). 0 or -errno (logged; the agent runs on). */
int sl_ct_gc_start(struct sl_agent *a);
/* Stop it and wait for it; nothing when it is not running. */
void sl_ct_gc_stop(void);

#endif
