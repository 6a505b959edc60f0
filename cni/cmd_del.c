// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cmd_del.c - DEL: best effort and idempotent. Everything is keyed by containerID + ifname
 * (the host veth's name is derived from them), never by what only the netns or prevResult
 * holds: DEL comes with an empty CNI_NETNS, after the netns is gone, without prevResult, and
 * twice in a row (containerd). An absent agent is no error: it reconciles vanished veths at
 * start.
 */
#include <errno.h>
#include <string.h>

#include "cni.h"
#include "log.h"

int cmd_del(const struct cni_args *a, struct sl_conf *c, struct cni_error *e)
{
	struct sl_ipam_call ipam_del = {.cmd = "DEL"};
	struct cni_error agent_err = {0}, lock_err = {0};
	struct nl_sock *host = NULL;
	char name[16];
	int err, ret = 0;

	if (sl_lock(c, false, &lock_err))
		pr_warn("DEL: continuing without the lock: %s", lock_err.msg);
	sl_veth_name(a->container_id, a->ifname, name);
	pr_info("DEL %s/%s: veth %s", a->container_id, a->ifname, name);

	err = sl_agent_endpoint_del(c, a->container_id, a->ifname, SL_AGENT_TIMEOUT_MS, &agent_err);
	if (err && agent_err.code == CNI_ERR_TRY_AGAIN) {
		pr_warn("DEL %s/%s: agent unreachable, it will reconcile: %s", a->container_id,
			a->ifname, agent_err.msg);
	} else if (err) {
		cni_err(e, err, agent_err.code, "%s", agent_err.msg);
		ret = err; /* still release the rest */
	}

	err = sl_nl_open(-1, &host);
	if (!err) {
		err = sl_link_del(host, name); /* its peer, and the routes, go with it */
		sl_nl_close(host);
	}
	if (err) {
		cni_err(e, err, SL_ERR_INTERNAL, "host veth %s: delete: %s", name, strerror(-err));
		ret = ret ?: err;
	}

	err = sl_ipam_exec(a, c, &ipam_del, NULL, e);
	return ret ?: err;
}
