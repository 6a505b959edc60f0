// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_conf.c - libFuzzer target: whatever a runtime (or anyone with write access to the CNI
 * config dir) puts on the plugin's stdin: config parsing and validation, runtimeConfig lookup,
 * prevResult reading, and CNI_ARGS parsing. Suite 'fuzz' (make fuzz, build-fuzz/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_error e = {0};
	char ip[16], mac[18], val[64];
	struct sl_conf c;
	char *s;

	if (!sl_conf_parse((const char *)data, size, true, &c, &e)) {
		sl_runtime_config(&c, "portMappings");
		if (c.prev_result)
			sl_prev_result_pod(c.prev_result, "eth0", ip, mac, &e);
	}
	sl_conf_free(&c);

	s = malloc(size + 1); /* the same bytes as CNI_ARGS and as env values */
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	sl_cni_arg(s, "K8S_POD_NAME", val, sizeof(val));
	memset(&e, 0, sizeof(e));
	sl_validate_container_id(s, &e);
	memset(&e, 0, sizeof(e));
	sl_validate_ifname(s, &e);
	free(s);
	return 0;
}
