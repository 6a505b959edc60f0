/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* conflist.h - the CNI network configuration list the agent writes once it is ready. */
#ifndef SL_AGENT_CONFLIST_H
#define SL_AGENT_CONFLIST_H

#include <cjson/cJSON.h>

#include "flags.h"

#define SL_CONFLIST_NAME "10-sluice.conflist"

/* The conflist for this configuration (caller frees). NULL on ENOMEM. */
cJSON *sl_conflist_build(const struct sl_config *c);
/* Write it into c->cni_conf_dir atomically (mkdir -p first); path gets the file's path.
 * 0 or -errno (logged). Never removed by the agent. */
int sl_conflist_write(const struct sl_config *c, char *path, size_t pathlen);

#endif
