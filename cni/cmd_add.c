// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cmd_add.c - ADD: IPAM, veth pair into the pod, addresses/routes/neighbour, the pinned
 * programs on the host veth, registration with the agent, then the result. The result is
 * printed only once the agent says the endpoint's policy is in the maps, so a pod never runs
 * unprotected; on any failure everything already done is undone in reverse.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"
#include "log.h"

#define UNDO_AGENT_TIMEOUT_MS 2000 /* undo must not double a timeout the runtime already waited */

struct k8s_args {
	char ns[256], pod[256], uid[128];
};

static void read_k8s_args(const char *args, struct k8s_args *k)
{
	memset(k, 0, sizeof(*k));
	sl_cni_arg(args, "K8S_POD_NAMESPACE", k->ns, sizeof(k->ns));
	sl_cni_arg(args, "K8S_POD_NAME", k->pod, sizeof(k->pod));
	sl_cni_arg(args, "K8S_POD_UID", k->uid, sizeof(k->uid));
}

static int register_endpoint(const struct cni_args *a, const struct sl_conf *c,
			     const struct sl_veth *v, const char *ip, struct cni_error *e)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	char pm[18], hm[18];
	struct k8s_args k;
	int err;

	read_k8s_args(a->args, &k);
	sl_mac_str(v->pod_mac, pm);
	sl_mac_str(v->host_mac, hm);
	cJSON_AddStringToObject(req, "op", "endpoint_add");
	cJSON_AddStringToObject(req, "containerID", a->container_id);
	cJSON_AddStringToObject(req, "ifname", a->ifname);
	cJSON_AddStringToObject(req, "netns", a->netns);
	cJSON_AddStringToObject(req, "namespace", k.ns);
	cJSON_AddStringToObject(req, "pod", k.pod);
	cJSON_AddStringToObject(req, "podUID", k.uid);
	cJSON_AddStringToObject(req, "ip", ip);
	cJSON_AddStringToObject(req, "hostIfname", v->host_name);
	cJSON_AddNumberToObject(req, "hostIfindex", v->host_ifindex);
	cJSON_AddStringToObject(req, "podMac", pm);
	cJSON_AddStringToObject(req, "hostMac", hm);
	err = sl_agent_request(c, req, &resp, SL_AGENT_TIMEOUT_MS, e);
	if (err == -ENOENT && resp) /* a 404 on add makes no sense: treat as a refusal */
		err = cni_err(e, -EREMOTEIO, SL_ERR_AGENT, "agent: endpoint_add: not found");
	cJSON_Delete(resp);
	cJSON_Delete(req);
	return err;
}

static int print_result(const struct cni_args *a, const struct sl_conf *c,
			const struct sl_add_result *r)
{
	cJSON *res = sl_result_build(c, r);
	char *s = cJSON_Print(res);

	cJSON_Delete(res);
	if (!s)
		return -ENOMEM;
	fprintf(a->out, "%s\n", s);
	fflush(a->out);
	cJSON_free(s);
	return 0;
}

int cmd_add(const struct cni_args *a, struct sl_conf *c, struct cni_error *e)
{
	struct sl_ipam_call ipam_add = {.cmd = "ADD"}, ipam_del = {.cmd = "DEL"};
	struct sl_ipam_result res = {0};
	struct sl_ipam_job job;
	struct sl_veth v = {0};
	struct nl_sock *host = NULL, *pod = NULL;
	struct cni_error ignore = {0};
	char alias[128];
	bool ipam_done = false, veth_done = false, agent_done = false;
	struct stat st;
	int nsfd, err, err2;

	nsfd = sl_netns_open(a->netns);
	if (nsfd < 0)
		return cni_err(e, nsfd, CNI_ERR_ENV, "CNI_NETNS \"%.200s\": %s", a->netns,
			       nsfd == -EINVAL ? "not a network namespace" : strerror(-nsfd));
	/* fail fast, before allocating anything, when no agent is there to protect the pod */
	if (stat(c->sock_path, &st)) {
		err = cni_err(e, -errno, CNI_ERR_TRY_AGAIN,
			      "agent %s: not running (%s): try again later", c->sock_path,
			      strerror(errno));
		goto out;
	}
	err = sl_lock(c, false, e);
	if (err)
		goto out;
	err = sl_nl_open(-1, &host);
	if (err) {
		cni_err(e, err, SL_ERR_INTERNAL, "netlink: open: %s", strerror(-err));
		goto out;
	}
	err = sl_nl_open(nsfd, &pod);
	if (err) {
		cni_err(e, err, SL_ERR_NETNS, "CNI_NETNS %s: netlink: open: %s", a->netns,
			strerror(-err));
		goto out;
	}
	sl_veth_name(a->container_id, a->ifname, v.host_name);
	snprintf(alias, sizeof(alias), SL_VETH_ALIAS_PREFIX "%s %s", a->container_id, a->ifname);

	/* a duplicate ADD must fail before IPAM: undoing it would release the first one's IP */
	err = sl_veth_check_free(host, pod, v.host_name, a->ifname, e);
	if (err)
		goto out;
	/* The veth pair is made and the programs attached to its host end (before that end is
	 * up: no packet passes unfiltered) while the IPAM plugin runs, most of an ADD's time
	 * being its start-up; the addresses go on once it has answered. */
	err = sl_ipam_start(a, c, &ipam_add, &job, e);
	if (err)
		goto undo;
	err = sl_veth_create(host, pod, nsfd, a->ifname, alias, c->mtu, &v, e);
	if (err && err != -EEXIST) /* created but not finished: ours to remove */
		sl_link_del(host, v.host_name);
	veth_done = !err;
	err = err ?: sl_tc_attach_pinned(c->bpffs, v.host_ifindex, e);
	err2 = sl_ipam_finish(&job, c, &res, err ? &ignore : e);
	/* a failed IPAM ADD reserved nothing, and a DEL by containerID could free a live one */
	ipam_done = res.reserved;
	err = err ?: err2;
	if (err)
		goto undo;
	pr_info("ADD %s/%s: ip %s veth %s", a->container_id, a->ifname, res.ip, v.host_name);
	err = sl_veth_setup_pod(pod, &v, a->ifname, res.ip, &res, e);
	err = err ?: sl_veth_setup_host(host, &v, res.ip, e);
	if (err)
		goto undo;
	err = register_endpoint(a, c, &v, res.ip, e);
	/* an agent that timed out or refused may still hold a half-made entry: remove it too */
	agent_done = err != -ENOENT && err != -ECONNREFUSED;
	if (err)
		goto undo;

	struct sl_add_result r = {
	    .veth = &v, .ifname = a->ifname, .netns = a->netns, .ipam = &res, .mtu = c->mtu};
	err = print_result(a, c, &r);
	if (err) {
		cni_err(e, err, SL_ERR_INTERNAL, "result: %s", strerror(-err));
		goto undo;
	}
	goto out;

undo:
	pr_warn("ADD %s/%s failed: undoing", a->container_id, a->ifname);
	if (agent_done)
		sl_agent_endpoint_del(c, a->container_id, a->ifname, UNDO_AGENT_TIMEOUT_MS,
				      &ignore);
	if (veth_done) /* takes the peer, its routes and the host route with it */
		sl_link_del(host, v.host_name);
	if (ipam_done && sl_ipam_exec(a, c, &ipam_del, NULL, &ignore))
		pr_err("ADD %s/%s: undo: ipam DEL failed: %s", a->container_id, a->ifname,
		       ignore.msg);
out:
	sl_ipam_result_free(&res);
	sl_nl_close(pod);
	sl_nl_close(host);
	close(nsfd);
	return err;
}
