// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_status.c - sluicectl status: the agent (mode, readiness, Kubernetes sync, errors), the
 * datapath (programs pinned, every map's entries, capacity and fill ratio) and the endpoints.
 * Exit 1 when the agent does not answer (the datapath part is still printed, from the pins).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctl.h"

static const char *const map_names[] = {
    "sl_endpoints", "sl_ident",	  "sl_peer",   "sl_cidr",     "sl_ports",      "sl_ct",
    "sl_frag",	    "sl_ev_rate", "sl_events", "sl_counters", "sl_rule_stats", "sl_ev_stats",
};

static cJSON *datapath_json(void)
{
	static const char *const progs[] = {"sl_from_pod", "sl_to_pod"};
	cJSON *dp = cJSON_CreateObject(), *pa, *ma;
	char path[PATH_MAX];

	ctl_pin_path(path, sizeof(path), "");
	path[strlen(path) - 1] = 0;
	cJSON_AddStringToObject(dp, "pinDir", path);
	pa = cJSON_AddArrayToObject(dp, "programs");
	for (size_t i = 0; i < 2; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		cJSON *p = cJSON_CreateObject();
		int fd;

		ctl_pin_path(path, sizeof(path), progs[i]);
		cJSON_AddStringToObject(p, "name", progs[i]);
		fd = bpf_obj_get(path);
		cJSON_AddBoolToObject(p, "pinned", fd >= 0);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
			cJSON_AddNumberToObject(p, "id", info.id);
			cJSON_AddNumberToObject(p, "loadTime", (double)info.load_time);
		}
		if (fd >= 0)
			close(fd);
		cJSON_AddItemToArray(pa, p);
	}
	ma = cJSON_AddArrayToObject(dp, "maps");
	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		cJSON *m = cJSON_CreateObject();
		long n = -1;
		int fd;

		ctl_pin_path(path, sizeof(path), map_names[i]);
		cJSON_AddStringToObject(m, "name", map_names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			cJSON_AddStringToObject(m, "error", strerror(errno));
		} else {
			cJSON_AddNumberToObject(m, "id", info.id);
			cJSON_AddBoolToObject(m, "btf", info.btf_id != 0);
			if (info.type == BPF_MAP_TYPE_RINGBUF) {
				cJSON_AddNumberToObject(m, "bytes", info.max_entries);
			} else if (info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
				   info.type == BPF_MAP_TYPE_ARRAY) {
				cJSON_AddNumberToObject(m, "slots", info.max_entries);
			} else {
				n = ctl_map_count(fd);
				cJSON_AddNumberToObject(m, "entries", (double)n);
				cJSON_AddNumberToObject(m, "maxEntries", info.max_entries);
				cJSON_AddNumberToObject(
				    m, "fill", info.max_entries ? (double)n / info.max_entries : 0);
			}
		}
		if (fd >= 0)
			close(fd);
		cJSON_AddItemToArray(ma, m);
	}
	return dp;
}

static void print_datapath(const cJSON *dp)
{
	const cJSON *p, *m;

	printf("datapath:  %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(dp, "pinDir")));
	cJSON_ArrayForEach (p, cJSON_GetObjectItem(dp, "programs")) {
		if (cJSON_IsTrue(cJSON_GetObjectItem(p, "pinned")))
			printf("  program  %-14s pinned, id %.0f\n",
			       cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")),
			       cJSON_GetNumberValue(cJSON_GetObjectItem(p, "id")));
		else
			printf("  program  %-14s NOT pinned\n",
			       cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")));
	}
	cJSON_ArrayForEach (m, cJSON_GetObjectItem(dp, "maps")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(m, "name"));

		if (cJSON_GetObjectItem(m, "error"))
			printf("  map      %-14s %s\n", name,
			       cJSON_GetStringValue(cJSON_GetObjectItem(m, "error")));
		else if (cJSON_GetObjectItem(m, "entries"))
			printf("  map      %-14s %8.0f / %-8.0f %5.1f%%\n", name,
			       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "entries")),
			       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "maxEntries")),
			       100 * cJSON_GetNumberValue(cJSON_GetObjectItem(m, "fill")));
		else if (cJSON_GetObjectItem(m, "bytes"))
			printf("  map      %-14s ring buffer, %.0f bytes\n", name,
			       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "bytes")));
		else
			printf("  map      %-14s %.0f slots (per-CPU counters)\n", name,
			       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "slots")));
	}
}

static const char *s(const cJSON *o, const char *k)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));

	return v && v[0] ? v : "-";
}

int ctl_do_status(int argc, char **argv)
{
	char **pos, path[PATH_MAX];
	cJSON *r = NULL, *doc, *dp;
	int npos, err, rc;
	bool up;

	rc = ctl_getopt(argc, argv, "status", "", NULL, NULL, NULL, NULL, &pos, &npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos)
		return ctl_usage("status", "unexpected argument '%s'", pos[0]);
	err = ctl_call(ctl_req("status"), &r);
	up = !err && cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"));
	dp = datapath_json();
	ctl_sock_path(path, sizeof(path));
	if (up) {
		doc = r;
		cJSON_DeleteItemFromObject(doc, "ok");
		cJSON_AddStringToObject(doc, "agent", "ready");
		if (!cJSON_IsTrue(cJSON_GetObjectItem(doc, "ready")))
			cJSON_ReplaceItemInObject(doc, "agent", cJSON_CreateString("not ready"));
	} else {
		doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "agent", "unreachable");
		cJSON_AddStringToObject(doc, "socket", path);
		cJSON_AddStringToObject(doc, "error",
					err ? strerror(-err)
					    : cJSON_GetStringValue(cJSON_GetObjectItem(r, "error")) ?: "?");
		cJSON_AddBoolToObject(
		    doc, "pinned",
		    cJSON_IsTrue(cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(dp, "programs"), 0), "pinned")));
		cJSON_Delete(r);
	}
	cJSON_AddItemToObject(doc, "datapath", dp);
	if (ctl_machine()) {
		ctl_emit(doc);
	} else if (!up) {
		printf("agent:     not reachable at %s (%s)\n", path, s(doc, "error"));
		printf("           %s\n", cJSON_IsTrue(cJSON_GetObjectItem(doc, "pinned"))
					      ? "(programs pinned: the datapath keeps enforcing)"
					      : "(nothing pinned)");
		print_datapath(dp);
	} else {
		const cJSON *e;

		printf("agent:     %s (node %s, %s mode, pid %.0f, version %s)\n",
		       cJSON_IsTrue(cJSON_GetObjectItem(doc, "ready")) ? "ready" : "not ready",
		       s(doc, "node"), s(doc, "mode"),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "pid")), s(doc, "version"));
		if (cJSON_GetObjectItem(doc, "synced"))
			printf("kubernetes: %s, digest %s\n",
			       cJSON_IsTrue(cJSON_GetObjectItem(doc, "synced")) ? "synced"
										: "not synced",
			       s(doc, "digest"));
		cJSON_ArrayForEach (e, cJSON_GetObjectItem(doc, "errors"))
			printf("  error    %s\n", cJSON_GetStringValue(e) ?: "?");
		printf("abi:       %.0f\n", cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "abi")));
		printf("pod CIDR:  %s\n", s(doc, "podCIDR"));
		printf("endpoints: %.0f\n",
		       cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "endpoints")));
		print_datapath(dp);
	}
	cJSON_Delete(doc);
	return up ? CTL_OK : CTL_FAIL;
}
