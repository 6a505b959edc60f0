// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * conflist_template.c - --conflist-template: an admin's conflist (e.g. the sluice plugin
 * followed by chained plugins such as portmap or bandwidth) that the agent completes with its
 * own settings and writes instead of the default one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conflist_template.h"
#include "fsutil.h"

#define TEMPLATE_MAX (1u << 20)

/* Set key of dst to a copy of src's key when dst has none (or always, when force). */
static bool take(cJSON *dst, const cJSON *src, const char *key, bool force)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
	cJSON *copy;

	if (!v || (!force && cJSON_HasObjectItem(dst, key)))
		return true;
	copy = cJSON_Duplicate(v, true);
	if (!copy)
		return false;
	if (cJSON_HasObjectItem(dst, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(dst, key, copy);
	return cJSON_AddItemToObject(dst, key, copy);
}

/* The template's one plugin of type "sluice", or NULL with the reason in err. */
static cJSON *sluice_plugin(cJSON *t, const char *path, char *err, size_t errlen)
{
	cJSON *plugins = cJSON_GetObjectItemCaseSensitive(t, "plugins"), *p, *found = NULL;
	int n = 0;

	if (!cJSON_IsArray(plugins) || !cJSON_GetArraySize(plugins)) {
		snprintf(err, errlen, "%s: \"plugins\" must be a non-empty array", path);
		return NULL;
	}
	cJSON_ArrayForEach (p, plugins) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");

		if (!cJSON_IsObject(p) || !cJSON_IsString(type)) {
			snprintf(err, errlen,
				 "%s: every plugin must be an object with a string \"type\"", path);
			return NULL;
		}
		if (!strcmp(type->valuestring, "sluice")) {
			found = p;
			n++;
		}
	}
	if (n != 1) {
		snprintf(err, errlen, "%s: %s plugin of type \"sluice\" (exactly one is needed)",
			 path, n ? "more than one" : "no");
		return NULL;
	}
	return found;
}

cJSON *sl_conflist_template_apply(const char *path, const cJSON *ours, char *err, size_t errlen)
{
	const cJSON *our_plugin;
	cJSON *t, *p;
	char *s;

	s = sl_read_file(path, TEMPLATE_MAX, NULL);
	if (!s) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		return NULL;
	}
	t = cJSON_Parse(s);
	free(s);
	if (!cJSON_IsObject(t)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		goto fail;
	}
	p = sluice_plugin(t, path, err, errlen);
	if (!p)
		goto fail;
	if (!ours)
		return t;
	our_plugin = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ours, "plugins"), 0);
	if (!take(t, ours, "cniVersion", false) || !take(t, ours, "cniVersions", false) ||
	    !take(t, ours, "name", false) || !take(p, our_plugin, "stateDir", true) ||
	    !take(p, our_plugin, "bpffs", true) || !take(p, our_plugin, "ipam", false)) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	return t;
fail:
	cJSON_Delete(t);
	return NULL;
}
