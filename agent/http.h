/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* http.h - /healthz, /readyz and /metrics on --metrics-addr, served by libmicrohttpd. */
#ifndef SL_AGENT_HTTP_H
#define SL_AGENT_HTTP_H

#include "agent.h"

/* Listen on a->cfg->metrics_addr (no-op when empty). 0 or -errno (logged). */
int sl_http_start(struct sl_agent *a);
void sl_http_stop(void);

#endif
