/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* k8s_cache.h - an informer's store: objects keyed by "namespace/name", and the difference
 * between the store and a fresh list. */
#ifndef SL_K8S_CACHE_H
#define SL_K8S_CACHE_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct sl_k8s_cache;

struct sl_k8s_diff_ops {
	void (*add)(const cJSON *obj, void *ud);
	void (*update)(const cJSON *old, const cJSON *obj, void *ud);
	void (*del)(const cJSON *obj, void *ud);
};

/* "namespace/name", or "name" for cluster-scoped objects (malloc'd); NULL if obj has no
 * metadata.name. */
char *sl_k8s_obj_key(const cJSON *obj);
/* Same from parts; ns NULL or "" = cluster-scoped. */
char *sl_k8s_key(const char *ns, const char *name);

struct sl_k8s_cache *sl_k8s_cache_new(void);
void sl_k8s_cache_free(struct sl_k8s_cache *c);
size_t sl_k8s_cache_count(const struct sl_k8s_cache *c);
const cJSON *sl_k8s_cache_get(const struct sl_k8s_cache *c, const char *key);
/* Stores obj (ownership taken, also on error) under its key; *old (may be NULL) gets the
 * replaced object, which the caller frees. 0, -EINVAL (no name) or -ENOMEM. */
int sl_k8s_cache_put(struct sl_k8s_cache *c, cJSON *obj, cJSON **old);
/* Removes and returns the object under key, or NULL. */
cJSON *sl_k8s_cache_take(struct sl_k8s_cache *c, const char *key);
void sl_k8s_cache_foreach(const struct sl_k8s_cache *c, void (*fn)(const cJSON *obj, void *arg),
			  void *arg);
/* Makes the cache hold exactly items (a cJSON array, consumed; items without a name are
 * skipped), calling ops for the difference: del for objects gone (first, so that an address
 * freed by a deleted object is released before a new one claims it), then add for new ones
 * and update for those whose metadata.resourceVersion changed. 0 or -ENOMEM (cache unchanged
 * then). */
int sl_k8s_cache_replace(struct sl_k8s_cache *c, cJSON *items, const struct sl_k8s_diff_ops *ops,
			 void *ud);

#endif
