// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * result.c - the ADD result in the version the runtime asked for (0.3.1/0.4.0 carry "version"
 * on each IP; 1.1.0 adds interface mtu), and reading our own result back as prevResult.
 */
#include <errno.h>
#include <string.h>

#include "cni.h"
#include "sl_abi.h"

static cJSON *iface(const char *name, const unsigned char mac[6], const char *sandbox, int mtu)
{
	cJSON *o = cJSON_CreateObject();
	char m[18];

	sl_mac_str(mac, m);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "mac", m);
	if (mtu)
		cJSON_AddNumberToObject(o, "mtu", mtu);
	if (sandbox)
		cJSON_AddStringToObject(o, "sandbox", sandbox);
	return o;
}

cJSON *sl_result_build(const struct sl_conf *c, const struct sl_add_result *r)
{
	cJSON *o = cJSON_CreateObject(), *ifs, *ips, *ip, *routes, *rt;
	int mtu = c->ver >= 10100 ? r->mtu : 0; /* interface mtu is a 1.1.0 field */
	char cidr[24];

	cJSON_AddStringToObject(o, "cniVersion", c->cni_version);
	ifs = cJSON_AddArrayToObject(o, "interfaces");
	/* host side first (no sandbox): the bandwidth plugin looks for it there */
	cJSON_AddItemToArray(ifs, iface(r->veth->host_name, r->veth->host_mac, NULL, mtu));
	cJSON_AddItemToArray(ifs, iface(r->ifname, r->veth->pod_mac, r->netns, mtu));
	ips = cJSON_AddArrayToObject(o, "ips");
	ip = cJSON_CreateObject();
	if (c->ver < 10000)
		cJSON_AddStringToObject(ip, "version", "4");
	snprintf(cidr, sizeof(cidr), "%s/32", r->ipam->ip);
	cJSON_AddStringToObject(ip, "address", cidr);
	cJSON_AddStringToObject(ip, "gateway", SL_GATEWAY_V4);
	cJSON_AddNumberToObject(ip, "interface", 1);
	cJSON_AddItemToArray(ips, ip);
	routes = cJSON_AddArrayToObject(o, "routes");
	for (int i = 0; i < (r->ipam->nroutes ? r->ipam->nroutes : 1); i++) {
		rt = cJSON_CreateObject();
		cJSON_AddStringToObject(rt, "dst",
					r->ipam->nroutes ? r->ipam->routes[i].dst : "0.0.0.0/0");
		cJSON_AddStringToObject(rt, "gw", SL_GATEWAY_V4);
		cJSON_AddItemToArray(routes, rt);
	}
	if (r->ipam->dns && r->ipam->dns->child)
		cJSON_AddItemToObject(o, "dns", cJSON_Duplicate(r->ipam->dns, true));
	return o;
}

int sl_prev_result_pod(const cJSON *prev, const char *ifname, char ip[16], char mac[18],
		       struct cni_error *e)
{
	const cJSON *ifs = cJSON_GetObjectItemCaseSensitive(prev, "interfaces"), *it, *v;
	int idx = -1, i = 0;

	cJSON_ArrayForEach (it, ifs) {
		v = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(v) && !strcmp(v->valuestring, ifname) &&
		    cJSON_GetObjectItemCaseSensitive(it, "sandbox")) {
			idx = i;
			v = cJSON_GetObjectItemCaseSensitive(it, "mac");
			snprintf(mac, 18, "%s", cJSON_IsString(v) ? v->valuestring : "");
		}
		i++;
	}
	if (idx < 0)
		return cni_err(e, -ENOENT, CNI_ERR_CONFIG,
			       "prevResult.interfaces: no interface %s with a sandbox", ifname);
	cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(prev, "ips")) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "address");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "interface");
		const char *slash;

		if (!cJSON_IsString(a) || strchr(a->valuestring, ':') ||
		    (cJSON_IsNumber(n) && n->valueint != idx))
			continue;
		slash = strchr(a->valuestring, '/');
		snprintf(ip, 16, "%.*s", slash ? (int)(slash - a->valuestring) : 15,
			 a->valuestring);
		return 0;
	}
	return cni_err(e, -ENOENT, CNI_ERR_CONFIG, "prevResult.ips: no IPv4 address for %s",
		       ifname);
}
