/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* reasons.h - names of the datapath's verdict reasons and directions (sluicectl, metrics). */
#ifndef SL_AGENT_REASONS_H
#define SL_AGENT_REASONS_H

#include <stdbool.h>

/* "fwd_redirect", "drop_spoofed_ip", ...; NULL for an unassigned number. */
const char *sl_reason_name(unsigned int reason);
/* A short human description, "" when unknown. */
const char *sl_reason_help(unsigned int reason);
/* "egress" (from the pod) / "ingress" (into the pod). */
const char *sl_dir_name(unsigned int dir);

#endif
