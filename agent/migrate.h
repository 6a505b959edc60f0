/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * migrate.h - upgrade across an ABI change: adopt an older ABI version's pins (<bpffs>/v<M>/,
 * M < SL_ABI_VERSION) into the maps just loaded under <bpffs>/v<SL_ABI_VERSION>/.
 */
#ifndef SL_AGENT_MIGRATE_H
#define SL_AGENT_MIGRATE_H

#include "loader.h"

/*
 * sl_migrate_older - for each older pin dir under dp->root, newest first: wait (bounded) until
 * no agent holds it; copy every map's entries into ours, each key and value converted field by
 * field by name through the two maps' BTF (same-named fields copied, integers widened or
 * narrowed, new fields zero, removed fields dropped; identical layouts copied as they are);
 * move every tc filter that runs an older sl_from_pod/sl_to_pod onto ours (replace: no packet
 * sees an empty hook); copy again the conntrack entries the old programs created meanwhile;
 * then remove the old pins. Called by sl_datapath_load() once ours are loaded and pinned.
 * Newer versions' pins (a downgrade) are left alone, with a warning.
 * 0 (also when there is nothing to migrate) or -errno (logged; the old pins then stay, and
 * the next start tries again: every step is idempotent).
 */
int sl_migrate_older(struct sl_datapath *dp);

#endif
