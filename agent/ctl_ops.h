/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ctl_ops.h - the agent's answers to sluicectl: the "names" and "explain" ops of the local API
 * (common/agent_proto.h), read from the mode's compiler model (agent.h's with_model).
 */
#ifndef SL_AGENT_CTL_OPS_H
#define SL_AGENT_CTL_OPS_H

#include <cjson/cJSON.h>

#include "agent.h"

cJSON *sl_ctl_op_names(struct sl_agent *a, const cJSON *req);
cJSON *sl_ctl_op_explain(struct sl_agent *a, const cJSON *req);

#endif
