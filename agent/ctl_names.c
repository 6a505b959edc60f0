// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_names.c - names for what the maps hold by number: local pods (the agent's endpoint_list,
 * or its state file when it is down), identities, rule references and policy sets (the agent's
 * names op, answered from its compiler model). Missing names are said, never guessed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "state.h"

bool ctl_ids_add(struct ctl_ids *s, __u32 id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return false;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		__u32 *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return false; /* a name goes missing; never a wrong one */
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return true;
}

void ctl_ids_free(struct ctl_ids *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static cJSON *ids_json(const struct ctl_ids *s)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && s && i < s->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(s->v[i]));
	return a;
}

static void eps_from_state(struct ctl_names *n)
{
	struct sl_ep_table t = {0};
	char path[PATH_MAX], err[256];

	snprintf(path, sizeof(path), "%s/%s", ctl.state_dir, SL_STATE_FILE);
	if (sl_state_load(path, &t, err, sizeof(err))) {
		snprintf(n->why, sizeof(n->why),
			 "agent not reachable and %s unreadable: pod names "
			 "missing",
			 path);
		return;
	}
	for (size_t i = 0; i < t.n; i++)
		cJSON_AddItemToArray(n->eps, sl_ep_to_json(t.v[i], "unknown"));
	sl_ep_table_free(&t);
	snprintf(n->why, sizeof(n->why),
		 "agent not reachable: pod names from %s, policy and identity names missing", path);
}

void ctl_names_load(struct ctl_names *n, const struct ctl_ids *idents, const struct ctl_ids *rules,
		    const struct ctl_ids *sets)
{
	cJSON *r = NULL, *req;

	memset(n, 0, sizeof(*n));
	n->eps = cJSON_CreateArray();
	if (!ctl_call(ctl_req("endpoint_list"), &r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"))) {
		cJSON *e = cJSON_DetachItemFromObject(r, "endpoints");

		if (cJSON_IsArray(e)) {
			cJSON_Delete(n->eps);
			n->eps = e;
			n->agent = true;
		} else {
			cJSON_Delete(e);
		}
	}
	cJSON_Delete(r);
	r = NULL;
	if (!n->agent) {
		eps_from_state(n);
		return;
	}
	req = ctl_req("names");
	if (req) {
		cJSON_AddItemToObject(req, "identities", ids_json(idents));
		cJSON_AddItemToObject(req, "rules", ids_json(rules));
		cJSON_AddItemToObject(req, "sets", ids_json(sets));
	}
	if (!ctl_call(req, &r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"))) {
		n->names = r;
		n->model = true;
		return;
	}
	snprintf(n->why, sizeof(n->why),
		 "the agent has no policy model (%s): policy and identity "
		 "names missing",
		 r ? cJSON_GetStringValue(cJSON_GetObjectItem(r, "error")) ?: "?" : "no answer");
	cJSON_Delete(r);
}

void ctl_names_free(struct ctl_names *n)
{
	cJSON_Delete(n->eps);
	cJSON_Delete(n->names);
	memset(n, 0, sizeof(*n));
}

void ctl_names_note(const struct ctl_names *n)
{
	if (n->why[0] && !ctl_machine())
		fprintf(stderr, "sluicectl: note: %s\n", n->why);
}

const cJSON *ctl_ep_by_ip(const struct ctl_names *n, __be32 ip)
{
	char s[INET_ADDRSTRLEN];
	const cJSON *e;

	inet_ntop(AF_INET, &ip, s, sizeof(s));
	cJSON_ArrayForEach (e, n->eps) {
		const char *eip = cJSON_GetStringValue(cJSON_GetObjectItem(e, "ip"));

		if (eip && !strcmp(eip, s))
			return e;
	}
	return NULL;
}

const cJSON *ctl_ep_by_name(const struct ctl_names *n, const char *ns, const char *name)
{
	const cJSON *e;

	cJSON_ArrayForEach (e, n->eps) {
		const char *ens = cJSON_GetStringValue(cJSON_GetObjectItem(e, "namespace"));
		const char *epod = cJSON_GetStringValue(cJSON_GetObjectItem(e, "pod"));

		if (ens && epod && !strcmp(ens, ns) && !strcmp(epod, name))
			return e;
	}
	return NULL;
}

const char *ctl_pod_of(const struct ctl_names *n, const struct sl_addr *a, char *buf, size_t len)
{
	static const __u8 v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const cJSON *e;
	const char *ns, *pod;

	if (memcmp(a->w, v4mapped, 12))
		return NULL;
	e = ctl_ep_by_ip(n, a->w[3]);
	if (!e)
		return NULL;
	ns = cJSON_GetStringValue(cJSON_GetObjectItem(e, "namespace"));
	pod = cJSON_GetStringValue(cJSON_GetObjectItem(e, "pod"));
	if (!ns || !pod || !pod[0])
		return NULL;
	snprintf(buf, len, "%s/%s", ns, pod);
	return buf;
}

static const cJSON *named(const struct ctl_names *n, const char *what, __u32 id)
{
	char k[16];

	if (!n->names)
		return NULL;
	snprintf(k, sizeof(k), "%u", id);
	return cJSON_GetObjectItem(cJSON_GetObjectItem(n->names, what), k);
}

const cJSON *ctl_ident(const struct ctl_names *n, __u32 id)
{
	return named(n, "identities", id);
}

const cJSON *ctl_rule(const struct ctl_names *n, __u32 id)
{
	return named(n, "rules", id);
}

const cJSON *ctl_set(const struct ctl_names *n, __u32 id)
{
	return named(n, "sets", id);
}

const char *ctl_rule_str(const struct ctl_names *n, __u32 id, char *buf, size_t len)
{
	const cJSON *r = ctl_rule(n, id);

	if (!id)
		snprintf(buf, len, "-");
	else if (!r)
		snprintf(buf, len, "rule %u", id);
	else
		snprintf(buf, len, "%s/%s %s[%d]",
			 cJSON_GetStringValue(cJSON_GetObjectItem(r, "namespace")) ?: "?",
			 cJSON_GetStringValue(cJSON_GetObjectItem(r, "policy")) ?: "?",
			 cJSON_GetStringValue(cJSON_GetObjectItem(r, "direction")) ?: "?",
			 (int)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "index")));
	return buf;
}

const char *ctl_ident_str(const struct ctl_names *n, __u32 id, char *buf, size_t len)
{
	const cJSON *o = ctl_ident(n, id), *l;
	size_t off;

	if (id == SL_IDENTITY_WORLD) {
		snprintf(buf, len, "world");
		return buf;
	}
	if (id == SL_IDENTITY_HOST) {
		snprintf(buf, len, "host");
		return buf;
	}
	if (!o) {
		snprintf(buf, len, "identity %u", id);
		return buf;
	}
	off = (size_t)snprintf(buf, len, "ns=%s",
			       cJSON_GetStringValue(cJSON_GetObjectItem(o, "namespace")) ?: "?");
	cJSON_ArrayForEach (l, cJSON_GetObjectItem(o, "labels")) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, " %s=%s", l->string,
					cJSON_GetStringValue(l) ?: "");
	}
	return buf;
}

const char *ctl_set_str(const struct ctl_names *n, __u32 id, char *buf, size_t len)
{
	const cJSON *s = ctl_set(n, id), *p;
	size_t off = 0;

	buf[0] = 0;
	cJSON_ArrayForEach (p, cJSON_GetObjectItem(s, "policies")) {
		if (off >= len)
			break;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
					cJSON_GetStringValue(p) ?: "?");
	}
	if (!buf[0])
		snprintf(buf, len, "policy set %u", id);
	return buf;
}

int ctl_resolve(const struct sl_dp_maps *m, const struct ctl_names *n, const char *what,
		const char *s, struct sl_addr *addr, struct sl_endpoint *ep, bool *local)
{
	struct in_addr ip;
	const cJSON *e = NULL;
	const char *slash = strchr(s, '/');
	char ns[256];

	*local = false;
	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, s, &ip) == 1) {
		ctl_v4_addr(ip.s_addr, addr);
	} else if (slash && slash != s && slash[1] && (size_t)(slash - s) < sizeof(ns)) {
		memcpy(ns, s, (size_t)(slash - s));
		ns[slash - s] = 0;
		e = ctl_ep_by_name(n, ns, slash + 1);
		if (!e)
			return ctl_fail(
			    what,
			    "%s: not a pod of this node%s (give a remote pod's IP address, "
			    "or run against its node)",
			    s, n->agent ? "" : " (per the state file; agent down)");
		if (inet_pton(AF_INET, cJSON_GetStringValue(cJSON_GetObjectItem(e, "ip")) ?: "",
			      &ip) != 1)
			return ctl_fail(what, "%s: endpoint has no IPv4 address", s);
		ctl_v4_addr(ip.s_addr, addr);
	} else {
		return ctl_usage(what, "'%s': neither NAMESPACE/POD nor an IPv4 address", s);
	}
	if (!bpf_map_lookup_elem(m->endpoints, addr, ep) && (ep->flags & SL_EP_F_LOCAL))
		*local = true;
	else if (e)
		return ctl_fail(what, "%s: endpoint known to the agent but not in sl_endpoints", s);
	return 0;
}
