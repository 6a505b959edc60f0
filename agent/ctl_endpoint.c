// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_endpoint.c - sluicectl endpoint list|get: the pods of this node as sl_endpoints holds
 * them, joined with the agent's records (names, interfaces, state) and its model (labels, the
 * policies selecting each pod per direction).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "state.h"

static void add_dir(cJSON *o, const char *key, const struct ctl_names *n,
		    const struct sl_endpoint *v, int dir)
{
	cJSON *d = cJSON_AddObjectToObject(o, key), *arr;
	const cJSON *set = ctl_set(n, v->pol[dir]), *p;

	if (v->flags & SL_EP_F_POLICY_INVALID) {
		cJSON_AddStringToObject(d, "enforcement", "deny-all");
		cJSON_AddStringToObject(d, "why",
					"the pod's policy failed to compile (fail closed)");
	} else if (!v->pol[dir]) {
		cJSON_AddStringToObject(d, "enforcement", "open");
		cJSON_AddStringToObject(d, "why", "no NetworkPolicy selects the pod");
	} else {
		cJSON_AddStringToObject(d, "enforcement", "policy");
	}
	cJSON_AddNumberToObject(d, "policySet", v->pol[dir]);
	if (set) {
		arr = cJSON_AddArrayToObject(d, "policies");
		cJSON_ArrayForEach (p, cJSON_GetObjectItem(set, "policies"))
			cJSON_AddItemToArray(arr, cJSON_Duplicate(p, 0));
	}
}

/* Rows of every local entry of sl_endpoints (only the one at *only when given). */
static cJSON *rows(const struct sl_dp_maps *m, const struct sl_addr *only)
{
	struct ctl_ids ids = {0}, sets = {0};
	struct sl_addr k, *prev = NULL;
	struct sl_endpoint v;
	struct ctl_names n;
	cJSON *arr = cJSON_CreateArray();
	char ip[INET6_ADDRSTRLEN], mac[18];

	while (!bpf_map_get_next_key(m->endpoints, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(m->endpoints, &k, &v))
			continue;
		ctl_ids_add(&ids, v.identity);
		ctl_ids_add(&sets, v.pol[0]);
		ctl_ids_add(&sets, v.pol[1]);
	}
	ctl_names_load(&n, &ids, NULL, &sets);
	ctl_names_note(&n);
	prev = NULL;
	while (!bpf_map_get_next_key(m->endpoints, prev, &k)) {
		const cJSON *rec, *id;
		cJSON *o;

		prev = &k;
		if (bpf_map_lookup_elem(m->endpoints, &k, &v))
			continue;
		if (only && memcmp(only, &k, sizeof(k)))
			continue;
		o = cJSON_CreateObject();
		rec = ctl_ep_by_ip(&n, k.w[3]);
		cJSON_AddNumberToObject(o, "id", v.ep_id);
		cJSON_AddStringToObject(o, "ip", ctl_addr_str(&k, ip, sizeof(ip)));
		if (rec) {
			static const char *const keep[] = {"namespace", "pod",	      "containerID",
							   "ifname",	"hostIfname", "netns",
							   "state"};

			for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
				const char *s =
				    cJSON_GetStringValue(cJSON_GetObjectItem(rec, keep[i]));

				cJSON_AddStringToObject(o, keep[i], s ? s : "");
			}
		}
		cJSON_AddNumberToObject(o, "hostIfindex", v.ifindex);
		sl_format_mac(v.pod_mac, mac);
		cJSON_AddStringToObject(o, "podMac", mac);
		sl_format_mac(v.host_mac, mac);
		cJSON_AddStringToObject(o, "hostMac", mac);
		cJSON_AddBoolToObject(o, "local", v.flags & SL_EP_F_LOCAL);
		cJSON_AddNumberToObject(o, "identity", v.identity);
		id = ctl_ident(&n, v.identity);
		if (id && cJSON_GetObjectItem(id, "labels"))
			cJSON_AddItemToObject(
			    o, "labels", cJSON_Duplicate(cJSON_GetObjectItem(id, "labels"), 1));
		add_dir(o, "ingress", &n, &v, SL_DIR_INGRESS);
		add_dir(o, "egress", &n, &v, SL_DIR_EGRESS);
		cJSON_AddItemToArray(arr, o);
	}
	ctl_names_free(&n);
	ctl_ids_free(&ids);
	ctl_ids_free(&sets);
	{ /* map order is a hash's: sort by pod, then endpoint id */
		static const char *const keys[] = {"namespace", "pod", "id", NULL};

		ctl_sort(arr, keys);
	}
	return arr;
}

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));

	return s && s[0] ? s : "-";
}

static const char *enf(const cJSON *o, const char *dir, char *buf, size_t len)
{
	const cJSON *d = cJSON_GetObjectItem(o, dir), *p;
	const char *e = str(d, "enforcement");
	bool first = true;
	size_t off;

	if (strcmp(e, "policy"))
		return e;
	off = (size_t)snprintf(buf, len, "set %.0f",
			       cJSON_GetNumberValue(cJSON_GetObjectItem(d, "policySet")));
	cJSON_ArrayForEach (p, cJSON_GetObjectItem(d, "policies")) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", first ? ":" : ",",
					cJSON_GetStringValue(p) ?: "?");
		first = false;
	}
	return buf;
}

static void print_rows(const cJSON *arr)
{
	const cJSON *e, *l;

	printf("%-6s %-15s %-30s %-15s %-8s %-24s %-24s %s\n", "ID", "IP", "POD", "HOST-IF",
	       "STATE", "INGRESS", "EGRESS", "LABELS");
	cJSON_ArrayForEach (e, arr) {
		char pod[300], in[200], eg[200], labels[512];
		size_t off = 0;

		if (str(e, "pod")[0] != '-')
			snprintf(pod, sizeof(pod), "%s/%s", str(e, "namespace"), str(e, "pod"));
		else if (str(e, "containerID")[0] != '-')
			snprintf(pod, sizeof(pod), "%.12s", str(e, "containerID"));
		else
			snprintf(pod, sizeof(pod), "-");
		labels[0] = 0;
		cJSON_ArrayForEach (l, cJSON_GetObjectItem(e, "labels"))
			if (off < sizeof(labels))
				off += (size_t)snprintf(labels + off, sizeof(labels) - off,
							"%s%s=%s", off ? "," : "", l->string,
							cJSON_GetStringValue(l) ?: "");
		printf("%-6.0f %-15s %-30s %-15s %-8s %-24s %-24s %s\n",
		       cJSON_GetNumberValue(cJSON_GetObjectItem(e, "id")), str(e, "ip"), pod,
		       str(e, "hostIfname"), str(e, "state"), enf(e, "ingress", in, sizeof(in)),
		       enf(e, "egress", eg, sizeof(eg)), labels[0] ? labels : "-");
	}
}

static int do_list(int argc, char **argv)
{
	struct sl_dp_maps m;
	char **pos, path[PATH_MAX];
	cJSON *arr;
	int npos, rc;

	rc = ctl_getopt(argc, argv, "endpoint list", "", NULL, NULL, NULL, NULL, &pos, &npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos)
		return ctl_usage("endpoint list", "unexpected argument '%s'", pos[0]);
	rc = ctl_maps_open(&m, "endpoint list");
	if (rc)
		return rc;
	arr = rows(&m, NULL);
	sl_dp_maps_close(&m);
	ctl_sock_path(path, sizeof(path));
	if (access(path, F_OK) || !cJSON_GetArraySize(arr) ||
	    !cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "state") ||
	    !strcmp(str(cJSON_GetArrayItem(arr, 0), "state"), "unknown")) {
		ctl_pin_path(path, sizeof(path), "sl_endpoints");
		if (!ctl_machine())
			fprintf(stderr, "sluicectl: entries read from %s\n", path);
	}
	if (ctl_machine())
		ctl_emit(arr);
	else
		print_rows(arr);
	cJSON_Delete(arr);
	return CTL_OK;
}

static int do_get(int argc, char **argv)
{
	struct sl_dp_maps m;
	struct sl_endpoint ep;
	struct sl_addr a;
	struct ctl_names n;
	char **pos;
	cJSON *arr;
	bool local;
	int npos, rc;

	rc = ctl_getopt(argc, argv, "endpoint get", "NS/POD|IP", NULL, NULL, NULL, NULL, &pos,
			&npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos != 1)
		return ctl_usage("endpoint get", "expected one NS/POD or IP (see --help)");
	rc = ctl_maps_open(&m, "endpoint get");
	if (rc)
		return rc;
	ctl_names_load(&n, NULL, NULL, NULL);
	rc = ctl_resolve(&m, &n, "endpoint get", pos[0], &a, &ep, &local);
	ctl_names_free(&n);
	if (!rc && !local)
		rc = ctl_fail("endpoint get", "%s: not an endpoint of this node", pos[0]);
	if (rc) {
		sl_dp_maps_close(&m);
		return rc;
	}
	arr = rows(&m, &a);
	sl_dp_maps_close(&m);
	if (ctl_machine()) {
		ctl_emit(cJSON_GetArrayItem(arr, 0));
	} else {
		ctl.fmt = CTL_YAML; /* one object: its YAML form is the readable one */
		ctl_emit(cJSON_GetArrayItem(arr, 0));
		ctl.fmt = CTL_TEXT;
	}
	cJSON_Delete(arr);
	return CTL_OK;
}

static const struct ctl_cmd cmds[] = {
    {"list", do_list, "", "local endpoints (from the agent, or the pins)"},
    {"get", do_get, "NS/POD|IP", "one endpoint in full"},
    {0},
};

int ctl_do_endpoint(int argc, char **argv)
{
	return ctl_dispatch(cmds, "endpoint", argc, argv);
}
