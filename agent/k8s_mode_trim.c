// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * k8s_mode_trim.c - what the informer caches keep of each object: the fields the compiler's
 * decoders (policy/decode.c), the routes (routes_k8s.c) and the digest read, nothing else.
 * A Pod from a real API server is 3 to 10 KiB of JSON (managedFields, status conditions,
 * container statuses, volumes); what is kept here is a few hundred bytes.
 */
#include <stdbool.h>
#include <string.h>

#include "k8s_mode.h"

/* A key kept, and what is kept of its value (an object, or each object of an array): all of
 * it when sub is NULL. */
struct keep {
	const char *key;
	const struct keep *sub;
};

static const struct keep meta[] = {{.key = "name"},   {.key = "namespace"},	  {.key = "uid"},
				   {.key = "labels"}, {.key = "resourceVersion"}, {0}};

static const struct keep port[] = {
    {.key = "name"}, {.key = "containerPort"}, {.key = "protocol"}, {0}};
static const struct keep container[] = {{.key = "ports", .sub = port}, {0}};
static const struct keep pod_spec[] = {{.key = "nodeName"},
				       {.key = "hostNetwork"},
				       {.key = "containers", .sub = container},
				       {.key = "initContainers", .sub = container},
				       {0}};
static const struct keep pod_status[] = {
    {.key = "phase"}, {.key = "podIP"}, {.key = "podIPs"}, {0}};
static const struct keep pod[] = {{.key = "metadata", .sub = meta},
				  {.key = "spec", .sub = pod_spec},
				  {.key = "status", .sub = pod_status},
				  {0}};

static const struct keep ns[] = {{.key = "metadata", .sub = meta}, {0}};

static const struct keep netpol[] = {{.key = "metadata", .sub = meta}, {.key = "spec"}, {0}};

static const struct keep node_spec[] = {{.key = "podCIDR"}, {.key = "podCIDRs"}, {0}};
static const struct keep node_status[] = {{.key = "addresses"}, {0}};
static const struct keep node[] = {{.key = "metadata", .sub = meta},
				   {.key = "spec", .sub = node_spec},
				   {.key = "status", .sub = node_status},
				   {0}};

static void keep_only(cJSON *obj, const struct keep *k);

static void keep_value(cJSON *v, const struct keep *sub)
{
	cJSON *it;

	if (!sub)
		return;
	if (cJSON_IsObject(v))
		keep_only(v, sub);
	else if (cJSON_IsArray(v))
		cJSON_ArrayForEach (it, v)
			if (cJSON_IsObject(it))
				keep_only(it, sub);
}

static void keep_only(cJSON *obj, const struct keep *k)
{
	cJSON *it = obj->child;

	while (it) {
		cJSON *next = it->next;
		const struct keep *e = k;

		while (e->key && (!it->string || strcmp(e->key, it->string)))
			e++;
		if (e->key)
			keep_value(it, e->sub);
		else
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
		it = next;
	}
}

void sl_k8s_mode_trim(const char *kind, cJSON *obj)
{
	const struct keep *k = !strcmp(kind, "pods")		  ? pod
			       : !strcmp(kind, "namespaces")	  ? ns
			       : !strcmp(kind, "networkpolicies") ? netpol
			       : !strcmp(kind, "nodes")		  ? node
								  : NULL;

	if (k && cJSON_IsObject(obj))
		keep_only(obj, k);
}
