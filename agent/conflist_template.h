/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * conflist_template.h - --conflist-template: an admin's conflist (e.g. the sluice plugin
 * followed by chained plugins such as portmap or bandwidth) that the agent completes with its
 * own settings and writes instead of the default one.
 */
#ifndef SL_AGENT_CONFLIST_TEMPLATE_H
#define SL_AGENT_CONFLIST_TEMPLATE_H

#include <stddef.h>
#include <cjson/cJSON.h>

/*
 * sl_conflist_template_apply - read the template at path and complete it from ours (the
 * conflist sl_conflist_build() made): cniVersion, cniVersions and name when the template has
 * none; in its one plugin of type "sluice", stateDir and bpffs always (they must be the
 * agent's), ipam when it has none (the node's pod range). Everything else is kept as written.
 * The template must be a JSON object whose "plugins" array holds exactly one object of type
 * "sluice". Returns a new object (the caller frees it), or NULL with the reason in err.
 * ours NULL: only check the template.
 */
cJSON *sl_conflist_template_apply(const char *path, const cJSON *ours, char *err, size_t errlen);

#endif
