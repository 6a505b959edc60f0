// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* conflist.c - the CNI network configuration list the agent writes once it is ready. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflist.h"
#include "conflist_template.h"
#include "fsutil.h"
#include "log.h"

cJSON *sl_conflist_build(const struct sl_config *c)
{
	cJSON *o = cJSON_CreateObject(), *vers, *plugins, *p, *ipam, *ranges, *set, *r;
	bool ok = o;

	/* Today's runtimes and the standard IPAM plugins stop at 1.0.0 (DESIGN.md). */
	ok = ok && cJSON_AddStringToObject(o, "cniVersion", "1.0.0");
	ok = ok && (vers = cJSON_AddArrayToObject(o, "cniVersions"));
	ok = ok && cJSON_AddItemToArray(vers, cJSON_CreateString("1.0.0"));
	ok = ok && cJSON_AddItemToArray(vers, cJSON_CreateString("1.1.0"));
	ok = ok && cJSON_AddStringToObject(o, "name", "sluice");
	ok = ok && (plugins = cJSON_AddArrayToObject(o, "plugins"));
	ok = ok && (p = cJSON_CreateObject()) && cJSON_AddItemToArray(plugins, p);
	ok = ok && cJSON_AddStringToObject(p, "type", "sluice");
	ok = ok && cJSON_AddStringToObject(p, "stateDir", c->state_dir);
	ok = ok && cJSON_AddStringToObject(p, "bpffs", c->bpffs);
	ok = ok && (ipam = cJSON_AddObjectToObject(p, "ipam"));
	ok = ok && cJSON_AddStringToObject(ipam, "type", "host-local");
	ok = ok && (ranges = cJSON_AddArrayToObject(ipam, "ranges"));
	ok = ok && (set = cJSON_CreateArray()) && cJSON_AddItemToArray(ranges, set);
	ok = ok && (r = cJSON_CreateObject()) && cJSON_AddItemToArray(set, r);
	ok = ok && cJSON_AddStringToObject(r, "subnet", c->pod_cidr_str);
	if (ok && c->ipam_data_dir[0])
		ok = cJSON_AddStringToObject(ipam, "dataDir", c->ipam_data_dir);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int sl_conflist_write(const struct sl_config *c, char *path, size_t pathlen)
{
	char *s, *old;
	cJSON *o;
	int err;

	snprintf(path, pathlen, "%s/%s", c->cni_conf_dir, SL_CONFLIST_NAME);
	err = sl_mkdir_p(c->cni_conf_dir, 0755);
	if (err)
		return err;
	o = sl_conflist_build(c);
	if (o && c->conflist_template) { /* --conflist-template: checked at start, read again */
		char why[512];
		cJSON *t = sl_conflist_template_apply(c->conflist_template, o, why, sizeof(why));

		cJSON_Delete(o);
		if (!t) {
			pr_err("--conflist-template: %s", why);
			return -EINVAL;
		}
		o = t;
	}
	s = o ? cJSON_Print(o) : NULL;
	cJSON_Delete(o);
	if (!s)
		return -ENOMEM;
	/* Unchanged content is not rewritten: runtimes reload the network on every change. */
	old = sl_read_file(path, 1 << 20, NULL);
	if (old && !strcmp(old, s)) {
		err = 0;
		goto out;
	}
	err = sl_write_file_atomic(path, s, strlen(s), 0644, SL_WRITE_DURABLE);
out:
	free(old);
	free(s);
	return err;
}
