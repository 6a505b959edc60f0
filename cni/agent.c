// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * agent.c - requests to sluice-agent's local API (common/agent_proto.h), with the agent's
 * absence or silence turned into CNI error 11 ("try again later") naming the socket.
 */
#include <errno.h>
#include <string.h>

#include "agent_proto.h"
#include "cni.h"
#include "log.h"

int sl_agent_request(const struct sl_conf *c, cJSON *req, cJSON **resp, int timeout_ms,
		     struct cni_error *e)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op"), *ok, *code, *msg;
	const char *name = cJSON_IsString(op) ? op->valuestring : "?";
	int err;

	*resp = NULL;
	err = sl_agent_call(c->sock_path, req, resp, timeout_ms);
	if (err == -ENOENT || err == -ECONNREFUSED)
		return cni_err(e, err, CNI_ERR_TRY_AGAIN,
			       "agent %s: not running (%s): try again later", c->sock_path,
			       strerror(-err));
	if (err == -ETIMEDOUT)
		return cni_err(e, err, CNI_ERR_TRY_AGAIN,
			       "agent %s: %s: no answer within %d ms: try again later",
			       c->sock_path, name, timeout_ms);
	if (err)
		return cni_err(e, err, err == -EPROTO ? SL_ERR_AGENT : CNI_ERR_TRY_AGAIN,
			       "agent %s: %s: %s", c->sock_path, name, strerror(-err));
	ok = cJSON_GetObjectItemCaseSensitive(*resp, "ok");
	if (cJSON_IsTrue(ok))
		return 0;
	code = cJSON_GetObjectItemCaseSensitive(*resp, "code");
	msg = cJSON_GetObjectItemCaseSensitive(*resp, "error");
	if (cJSON_IsNumber(code) && code->valueint == SL_AGENT_CODE_NOTFOUND)
		return -ENOENT; /* the caller knows what was not found */
	err = cni_err(e, -EREMOTEIO,
		      cJSON_IsNumber(code) && code->valueint > 0 ? code->valueint : SL_ERR_AGENT,
		      "agent: %s: %s", name,
		      cJSON_IsString(msg) ? msg->valuestring : "refused without a reason");
	cJSON_Delete(*resp);
	*resp = NULL;
	return err;
}

int sl_agent_endpoint_del(const struct sl_conf *c, const char *container_id, const char *ifname,
			  int timeout_ms, struct cni_error *e)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	int err;

	cJSON_AddStringToObject(req, "op", "endpoint_del");
	cJSON_AddStringToObject(req, "containerID", container_id);
	cJSON_AddStringToObject(req, "ifname", ifname);
	err = sl_agent_request(c, req, &resp, timeout_ms, e);
	if (err == -ENOENT && resp) /* 404: already gone */
		err = 0;
	cJSON_Delete(resp);
	cJSON_Delete(req);
	return err;
}
