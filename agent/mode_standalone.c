// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* mode_standalone.c - standalone mode: no policy source; routing and anti-spoofing only. */
#include "agent.h"

static int standalone_endpoint_policy(struct sl_agent *a, const struct sl_ep *ep,
				      struct sl_endpoint *val)
{
	(void)a;
	(void)ep;
	val->pol[SL_DIR_EGRESS] = 0; /* no policy selects the pod: open both ways */
	val->pol[SL_DIR_INGRESS] = 0;
	val->identity = SL_IDENTITY_WORLD;
	return 0;
}

const struct sl_mode_ops sl_mode_standalone = {
    .name = "standalone",
    .endpoint_policy = standalone_endpoint_policy,
};
