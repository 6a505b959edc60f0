/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* counters.h - read sl_counters (per-CPU) summed over CPUs: for sluicectl and metrics. */
#ifndef SL_AGENT_COUNTERS_H
#define SL_AGENT_COUNTERS_H

#include "sl_abi.h"

/* out[SL_COUNTER_IDX(reason, dir)] = sum over CPUs. 0 or -errno (not logged). */
int sl_counters_read(int map_fd, struct sl_counter out[SL_COUNTERS_MAX]);

#endif
