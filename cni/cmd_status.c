// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cmd_status.c - STATUS (spec 1.1.0): ready for ADD when the agent answers and says it is
 * ready (its programs pinned, its maps loaded), and the IPAM plugin, if it speaks 1.1.0, says
 * so too. Otherwise error 50 with the reason.
 */
#include <errno.h>
#include <string.h>

#include "cni.h"
#include "log.h"

#define STATUS_TIMEOUT_MS 5000

int cmd_status(const struct cni_args *a, struct sl_conf *c, struct cni_error *e)
{
	struct sl_ipam_call ipam_status = {.cmd = "STATUS"};
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	struct cni_error ae = {0};
	const cJSON *ready;
	int err, ver;

	cJSON_AddStringToObject(req, "op", "status");
	err = sl_agent_request(c, req, &resp, STATUS_TIMEOUT_MS, &ae);
	cJSON_Delete(req);
	if (err) {
		cJSON_Delete(resp);
		return cni_err(e, err, CNI_ERR_NOT_AVAILABLE, "%s", ae.msg);
	}
	ready = cJSON_GetObjectItemCaseSensitive(resp, "ready");
	err = cJSON_IsTrue(ready) ? 0 : -EAGAIN;
	cJSON_Delete(resp);
	if (err)
		return cni_err(e, err, CNI_ERR_NOT_AVAILABLE, "agent %s: not ready yet",
			       c->sock_path);
	if (!c->ipam_type)
		return 0;
	err = sl_ipam_version(a, c, &ver, &ae);
	if (err) /* no usable IPAM plugin: ADD cannot work either */
		return cni_err(e, err, CNI_ERR_NOT_AVAILABLE, "%s", ae.msg);
	return ver >= 10100 ? sl_ipam_exec(a, c, &ipam_status, NULL, e) : 0;
}
