// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cmd_check.c - CHECK: everything ADD made is still there and as ADD left it: host veth
 * (up, named for this attachment), the pod's interface (up, MAC of prevResult), its /32,
 * the gateway's permanent neighbour entry, its routes, the host's /32 route, IPv6 off on the
 * host side, our tc programs, the agent's endpoint, and the IPAM reservation.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cni.h"
#include "log.h"
#include "sl_abi.h"

static int check_agent(const struct cni_args *a, const struct sl_conf *c, const char *ip,
		       int host_ifindex, struct cni_error *e)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	const cJSON *ep, *v;
	int err;

	cJSON_AddStringToObject(req, "op", "endpoint_get");
	cJSON_AddStringToObject(req, "containerID", a->container_id);
	cJSON_AddStringToObject(req, "ifname", a->ifname);
	err = sl_agent_request(c, req, &resp, SL_AGENT_TIMEOUT_MS, e);
	cJSON_Delete(req);
	if (err == -ENOENT && resp)
		err = cni_err(e, -ENOENT, SL_ERR_DRIFT, "agent: no endpoint for %s/%s",
			      a->container_id, a->ifname);
	if (err)
		goto out;
	ep = cJSON_GetObjectItemCaseSensitive(resp, "endpoint");
	v = cJSON_GetObjectItemCaseSensitive(ep, "ip");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, ip)) {
		err = cni_err(e, -ENOENT, SL_ERR_DRIFT, "agent: endpoint %s/%s has ip %s, want %s",
			      a->container_id, a->ifname,
			      cJSON_IsString(v) ? v->valuestring : "none", ip);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(ep, "hostIfindex");
	if (!cJSON_IsNumber(v) || v->valueint != host_ifindex)
		err = cni_err(e, -ENOENT, SL_ERR_DRIFT,
			      "agent: endpoint %s/%s has hostIfindex %d, the veth is %d",
			      a->container_id, a->ifname, cJSON_IsNumber(v) ? v->valueint : 0,
			      host_ifindex);
out:
	cJSON_Delete(resp);
	return err;
}

static int check_host(const struct sl_conf *c, struct nl_sock *host, const char *name,
		      const char *ip, struct sl_link_info *hl, struct cni_error *e)
{
	char where[40], path[96], val[8], cidr[24];
	int err;

	snprintf(where, sizeof(where), "host veth %s", name);
	err = sl_link_get(host, name, hl);
	if (err)
		return cni_err(e, err, SL_ERR_DRIFT, "%s: missing", where);
	if (strcmp(hl->kind, "veth"))
		return cni_err(e, -EINVAL, SL_ERR_DRIFT, "%s: is a %s, not a veth", where,
			       hl->kind[0] ? hl->kind : "device");
	if (!hl->up)
		return cni_err(e, -ENETDOWN, SL_ERR_DRIFT, "%s: down", where);
	if (c->mtu && hl->mtu != c->mtu)
		return cni_err(e, -EINVAL, SL_ERR_DRIFT, "%s: mtu %d, want %d", where, hl->mtu,
			       c->mtu);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	if (!sl_sysctl_read(path, val, sizeof(val)) && strcmp(val, "1"))
		return cni_err(e, -EINVAL, SL_ERR_DRIFT, "%s: IPv6 is enabled (disable_ipv6=%s)",
			       where, val);
	snprintf(cidr, sizeof(cidr), "%s/32", ip);
	err = sl_check_route(host, cidr, hl->ifindex, NULL, where, e);
	return err ?: sl_tc_check(c->bpffs, hl->ifindex, name, e);
}

static int check_pod(const struct cni_args *a, const struct sl_conf *c, struct nl_sock *pod,
		     const char *ip, const char *mac, const struct sl_link_info *hl,
		     struct cni_error *e)
{
	const cJSON *rt, *dst, *gw;
	struct sl_link_info pl;
	char where[40], m[18];
	int err;

	snprintf(where, sizeof(where), "pod %s", a->ifname);
	err = sl_link_get(pod, a->ifname, &pl);
	if (err)
		return cni_err(e, err, SL_ERR_DRIFT, "%s: missing in %s", where, a->netns);
	if (!pl.up)
		return cni_err(e, -ENETDOWN, SL_ERR_DRIFT, "%s: down", where);
	sl_mac_str(pl.mac, m);
	if (mac[0] && strcasecmp(m, mac))
		return cni_err(e, -EINVAL, SL_ERR_DRIFT, "%s: mac %s, prevResult says %s", where, m,
			       mac);
	err = sl_check_addr(pod, pl.ifindex, ip, where, e);
	err = err ?: sl_check_neigh(pod, pl.ifindex, SL_GATEWAY_V4, hl->mac, where, e);
	if (err)
		return err;
	cJSON_ArrayForEach (rt, cJSON_GetObjectItemCaseSensitive(c->prev_result, "routes")) {
		dst = cJSON_GetObjectItemCaseSensitive(rt, "dst");
		gw = cJSON_GetObjectItemCaseSensitive(rt, "gw");
		if (!cJSON_IsString(dst) || strchr(dst->valuestring, ':'))
			continue;
		err =
		    sl_check_route(pod, dst->valuestring, pl.ifindex,
				   cJSON_IsString(gw) ? gw->valuestring : SL_GATEWAY_V4, where, e);
		if (err)
			return err;
	}
	return 0;
}

int cmd_check(const struct cni_args *a, struct sl_conf *c, struct cni_error *e)
{
	struct sl_ipam_call ipam_check = {.cmd = "CHECK"};
	struct nl_sock *host = NULL, *pod = NULL;
	struct sl_link_info hl;
	char ip[16], mac[18], name[16];
	int nsfd, err;

	if (!c->prev_result)
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG,
			       "prevResult: missing (CHECK needs the result of ADD)");
	err = sl_prev_result_pod(c->prev_result, a->ifname, ip, mac, e);
	if (err)
		return err;
	nsfd = sl_netns_open(a->netns);
	if (nsfd < 0)
		return cni_err(e, nsfd, CNI_ERR_ENV, "CNI_NETNS \"%.200s\": %s", a->netns,
			       nsfd == -EINVAL ? "not a network namespace" : strerror(-nsfd));
	sl_veth_name(a->container_id, a->ifname, name);
	err = sl_nl_open(-1, &host);
	if (!err)
		err = sl_nl_open(nsfd, &pod);
	if (err) {
		cni_err(e, err, SL_ERR_INTERNAL, "netlink: open: %s", strerror(-err));
		goto out;
	}
	err = check_host(c, host, name, ip, &hl, e);
	err = err ?: check_pod(a, c, pod, ip, mac, &hl, e);
	err = err ?: check_agent(a, c, ip, hl.ifindex, e);
	err = err ?: sl_ipam_exec(a, c, &ipam_check, NULL, e);
out:
	sl_nl_close(pod);
	sl_nl_close(host);
	close(nsfd);
	return err;
}
