// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_mode_digest.c - the status op's digest of one cached object (a contract with
 * e2e/sandbox wait-synced, see common/agent_proto.h). */
#include <string.h>

#include "k8s_mode.h"

static uint64_t fnv(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

uint64_t sl_k8s_mode_obj_digest(const char *kind, const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	uint64_t h = 0xcbf29ce484222325ull;

	h = fnv(kind, h);
	h = fnv("/", h);
	h = fnv(str(md, "namespace"), h);
	h = fnv("/", h);
	h = fnv(str(md, "name"), h);
	h = fnv("/", h);
	return fnv(str(md, "resourceVersion"), h);
}
