/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* api.h - the local API server on <state-dir>/agent.sock (protocol: common/agent_proto.h). */
#ifndef SL_AGENT_API_H
#define SL_AGENT_API_H

#include <cjson/cJSON.h>

#include "agent.h"

#define SL_API_MAX_CLIENTS 64	/* connections served at once; more get code 11 */
#define SL_API_TIMEOUT_MS  5000 /* to receive a request, and again to send its answer */

/* Bind the socket (mode 0600) and serve it from a thread. 0 or -errno (logged). */
int sl_api_start(struct sl_agent *a);
/* Stop accepting, wait (bounded) for requests in progress, remove nothing. */
void sl_api_stop(struct sl_agent *a);

/* Responses. */
cJSON *sl_api_ok(void);
cJSON *sl_api_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
