/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* cleanup.h - `sluice-agent cleanup`: remove from this node what Sluice added, and only that. */
#ifndef SL_AGENT_CLEANUP_H
#define SL_AGENT_CLEANUP_H

#include "flags.h"

/*
 * sl_cleanup - uninstall Sluice from the node (the agent's network namespace) in this order:
 * the conflist (only <cni-conf-dir>/10-sluice.conflist whose plugins include type "sluice"),
 * our tc filters (handle SL_TC_HANDLE, prio SL_TC_PRIO, program named sl_*) on every link, the
 * routes marked with rtm_protocol SL_RTPROT (agent/routes.h), the pins under <bpffs>/v<N>/
 * (names sl_*) and those directories, the state dir's files (socket, state file, lock). Everything
 * else is left alone. Refuses (-EBUSY) while an agent holds the state dir or a pin dir. Safe to run
 * again: what is already gone counts as done. 0, or the first -errno (every failure logged;
 * the other steps still run).
 */
int sl_cleanup(const struct sl_config *c);

#endif
