// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cmd_gc.c - GC (spec 1.1.0): remove every attachment not in cni.dev/valid-attachments. Stale
 * attachments are found where we left traces: the agent's endpoints, our host veths (their
 * alias names containerID and ifname), and, for an IPAM plugin older than 1.1.0, host-local's
 * reservation files. Each is then released as DEL would (IPAM DEL per attachment); an IPAM
 * plugin that speaks 1.1.0 gets the GC itself. Errors do not stop the sweep; the first is
 * reported.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "log.h"

struct att {
	char id[256];
	char ifname[16];
};

struct att_set {
	struct att *v;
	size_t n, cap;
};

static bool att_has(const struct att_set *s, const char *id, const char *ifname)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].id, id) && !strcmp(s->v[i].ifname, ifname))
			return true;
	return false;
}

static void att_add(struct att_set *s, const char *id, const char *ifname)
{
	struct att *nv;

	if (!id || !ifname || strlen(id) >= sizeof(s->v->id) ||
	    strlen(ifname) >= sizeof(s->v->ifname) || att_has(s, id, ifname))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		nv = realloc(s->v, s->cap * sizeof(*nv));
		if (!nv)
			return;
		s->v = nv;
	}
	snprintf(s->v[s->n].id, sizeof(s->v->id), "%s", id);
	snprintf(s->v[s->n].ifname, sizeof(s->v->ifname), "%s", ifname);
	s->n++;
}

static void from_agent(const struct sl_conf *c, struct att_set *s, struct cni_error *e)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	const cJSON *it;

	cJSON_AddStringToObject(req, "op", "endpoint_list");
	if (!sl_agent_request(c, req, &resp, SL_AGENT_TIMEOUT_MS, e)) {
		cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(resp, "endpoints")) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "containerID");
			const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(it, "ifname");

			if (cJSON_IsString(id) && cJSON_IsString(ifn))
				att_add(s, id->valuestring, ifn->valuestring);
		}
	}
	cJSON_Delete(resp);
	cJSON_Delete(req);
}

static void veth_cb(const char *name, const struct sl_link_info *l, void *arg)
{
	char id[256], ifname[16], want[16];

	if (strncmp(l->alias, SL_VETH_ALIAS_PREFIX, strlen(SL_VETH_ALIAS_PREFIX)) ||
	    sscanf(l->alias + strlen(SL_VETH_ALIAS_PREFIX), "%255s %15s", id, ifname) != 2)
		return;
	sl_veth_name(id, ifname, want);
	if (!strcmp(want, name)) /* ours by name and alias, not someone else's "sl..." */
		att_add(arg, id, ifname);
}

/* host-local: <dataDir>/<network name>/<ip>, content "<containerID>\r\n<ifname>". */
static void from_host_local(const struct sl_conf *c, struct att_set *s)
{
	const cJSON *dd = cJSON_GetObjectItemCaseSensitive(c->ipam, "dataDir");
	char dir[PATH_MAX], path[PATH_MAX + 256], buf[512], *nl;
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s",
		 cJSON_IsString(dd) ? dd->valuestring : "/var/lib/cni/networks", c->name);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lock") ||
		    !strncmp(de->d_name, "last_reserved_ip", 16))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		nl = strpbrk(buf, "\r\n");
		if (!nl)
			continue; /* pre-0.7 format without ifname: cannot DEL it precisely */
		*nl++ = '\0';
		nl += strspn(nl, "\r\n");
		nl[strcspn(nl, "\r\n")] = '\0';
		att_add(s, buf, nl);
	}
	closedir(d);
}

static void release(const struct cni_args *a, const struct sl_conf *c, struct nl_sock *host,
		    const struct att *t, bool ipam_del, struct cni_error *e, int *ret)
{
	struct sl_ipam_call call = {
	    .cmd = "DEL", .container_id = t->id, .ifname = t->ifname, .netns = ""};
	char name[16];
	int err;

	pr_info("GC: releasing stale attachment %s/%s", t->id, t->ifname);
	err = sl_agent_endpoint_del(c, t->id, t->ifname, SL_AGENT_TIMEOUT_MS, e);
	*ret = *ret ?: err;
	sl_veth_name(t->id, t->ifname, name);
	if (host && (err = sl_link_del(host, name)))
		cni_err(e, err, SL_ERR_INTERNAL, "GC: host veth %s: delete: %s", name,
			strerror(-err));
	*ret = *ret ?: err;
	if (ipam_del && (err = sl_ipam_exec(a, c, &call, NULL, e)))
		*ret = *ret ?: err;
}

int cmd_gc(const struct cni_args *a, struct sl_conf *c, struct cni_error *e)
{
	struct att_set valid = {0}, seen = {0};
	struct sl_ipam_call ipam_gc = {.cmd = "GC"};
	struct nl_sock *host = NULL;
	const cJSON *it;
	int err, ret = 0, ver = 0;

	err = sl_lock(c, true, e);
	if (err)
		return err;
	cJSON_ArrayForEach (it, c->valid_attachments) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "containerID");
		const cJSON *ifn = cJSON_GetObjectItemCaseSensitive(it, "ifname");

		if (!cJSON_IsString(id) || !cJSON_IsString(ifn))
			return cni_err(e, -EINVAL, CNI_ERR_CONFIG,
				       "cni.dev/valid-attachments: each entry needs string "
				       "containerID and ifname");
		att_add(&valid, id->valuestring, ifn->valuestring);
	}

	from_agent(c, &seen, e);
	if (e->code)
		ret = -EAGAIN; /* agent down: still sweep veths and IPAM */
	err = sl_nl_open(-1, &host);
	if (!err)
		err = sl_link_foreach(host, SL_VETH_PREFIX, veth_cb, &seen);
	if (err)
		ret = ret ?: cni_err(e, err, SL_ERR_INTERNAL, "GC: list links: %s", strerror(-err));
	err = sl_ipam_version(a, c, &ver, e);
	if (err)
		ret = ret ?: err;
	else if (ver < 10100 && !strcmp(c->ipam_type, "host-local"))
		from_host_local(c, &seen);

	for (size_t i = 0; i < seen.n; i++)
		if (!att_has(&valid, seen.v[i].id, seen.v[i].ifname))
			release(a, c, host, &seen.v[i], !err && ver < 10100, e, &ret);
	if (!err && ver >= 10100 && (err = sl_ipam_exec(a, c, &ipam_gc, NULL, e)))
		ret = ret ?: err;

	sl_nl_close(host);
	free(valid.v);
	free(seen.v);
	return ret;
}
