// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * state.c - local endpoints as records: their JSON form (the API's endpoint object and the
 * state file's entries), syntactic validation, the table, and <state-dir>/endpoints.json.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "log.h"
#include "state.h"

int sl_valid_container_id(const char *s)
{
	size_t n = strlen(s);

	/* The CNI spec: alphanumerics, then also '_', '.', '-'. */
	if (n < 1 || n > 255)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return -EINVAL;
	}
	return 0;
}

int sl_valid_ifname(const char *s)
{
	size_t n = strlen(s);

	/* The kernel's dev_valid_name(): 1..15 bytes, not . or .., no '/', ':' or space. */
	if (n < 1 || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= ' ' ||
		    (unsigned char)s[i] >= 127)
			return -EINVAL;
	return 0;
}

int sl_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3 + 2] != ':' && i < 5)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	for (int i = 0; i < 17; i++)
		if (i % 3 != 2 && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
				    (s[i] >= 'A' && s[i] <= 'F')))
			return -EINVAL;
	if (mac[0] & 1) /* multicast or broadcast */
		return -EINVAL;
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

void sl_format_mac(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

bool sl_valid_dns_name(const char *s, bool subdomain)
{
	size_t n = strlen(s);

	/* RFC 1123 label (namespaces) or subdomain (pods): [a-z0-9] at both ends. */
	if (n < 1 || n > (subdomain ? 253 : 63))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || i == n - 1 || (c != '-' && !(subdomain && c == '.'))))
			return false;
	}
	return true;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 127)
			return false;
	return true;
}

/* A string member: required or optional ("" when absent), bounded, printable. */
static int get_str(const cJSON *o, const char *name, bool required, size_t max, char **out,
		   char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!it || cJSON_IsNull(it)) {
		if (required) {
			snprintf(err, errlen, "%s: missing", name);
			return -EINVAL;
		}
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	if (!cJSON_IsString(it)) {
		snprintf(err, errlen, "%s: must be a string", name);
		return -EINVAL;
	}
	if (required && !it->valuestring[0]) {
		snprintf(err, errlen, "%s: empty", name);
		return -EINVAL;
	}
	if (strlen(it->valuestring) > max) {
		snprintf(err, errlen, "%s: longer than %zu bytes", name, max);
		return -EINVAL;
	}
	if (!printable(it->valuestring)) {
		snprintf(err, errlen, "%s: contains control characters", name);
		return -EINVAL;
	}
	*out = strdup(it->valuestring);
	return *out ? 0 : -ENOMEM;
}

static int get_uint(const cJSON *o, const char *name, double max, double *out, char *err,
		    size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!it) {
		snprintf(err, errlen, "%s: missing", name);
		return -EINVAL;
	}
	if (!cJSON_IsNumber(it) || it->valuedouble != (double)(long long)it->valuedouble ||
	    it->valuedouble < 1 || it->valuedouble > max) {
		snprintf(err, errlen, "%s: must be an integer in 1..%.0f", name, max);
		return -EINVAL;
	}
	*out = it->valuedouble;
	return 0;
}

void sl_ep_clear(struct sl_ep *ep)
{
	free(ep->container_id);
	free(ep->ifname);
	free(ep->netns);
	free(ep->k8s_namespace);
	free(ep->pod);
	free(ep->pod_uid);
	free(ep->host_ifname);
	memset(ep, 0, sizeof(*ep));
}

void sl_ep_free(struct sl_ep *ep)
{
	if (!ep)
		return;
	sl_ep_clear(ep);
	free(ep);
}

int sl_ep_from_json(const cJSON *o, bool with_id, struct sl_ep *ep, char *err, size_t errlen)
{
	struct in_addr a;
	double d;
	int ret;

	memset(ep, 0, sizeof(*ep));
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "endpoint: must be a JSON object");
		return -EINVAL;
	}
	if (with_id) {
		ret = get_uint(o, "id", 4294967295.0, &d, err, errlen);
		if (ret)
			goto fail;
		ep->id = (uint32_t)d;
	}
	ret = get_str(o, "containerID", true, 255, &ep->container_id, err, errlen);
	if (ret)
		goto fail;
	if (sl_valid_container_id(ep->container_id)) {
		snprintf(err, errlen,
			 "containerID: '%s' is invalid (letters, digits, then also '_', '.', '-')",
			 ep->container_id);
		ret = -EINVAL;
		goto fail;
	}
	ret = get_str(o, "ifname", true, 15, &ep->ifname, err, errlen);
	if (ret)
		goto fail;
	if (sl_valid_ifname(ep->ifname)) {
		snprintf(err, errlen, "ifname: '%s' is not a valid interface name", ep->ifname);
		ret = -EINVAL;
		goto fail;
	}
	ret = get_str(o, "netns", true, 4095, &ep->netns, err, errlen);
	if (ret)
		goto fail;
	if (ep->netns[0] != '/') {
		snprintf(err, errlen, "netns: '%s' is not an absolute path", ep->netns);
		ret = -EINVAL;
		goto fail;
	}
	ret = get_str(o, "namespace", false, 63, &ep->k8s_namespace, err, errlen);
	if (ret)
		goto fail;
	if (ep->k8s_namespace[0] && !sl_valid_dns_name(ep->k8s_namespace, false)) {
		snprintf(
		    err, errlen,
		    "namespace: '%s' is not a valid namespace name (lowercase letters, digits, "
		    "'-'; 1..63 characters)",
		    ep->k8s_namespace);
		ret = -EINVAL;
		goto fail;
	}
	ret = get_str(o, "pod", false, 253, &ep->pod, err, errlen);
	if (ret)
		goto fail;
	if (ep->pod[0] && !sl_valid_dns_name(ep->pod, true)) {
		snprintf(err, errlen,
			 "pod: '%s' is not a valid pod name (lowercase letters, digits, '-', '.')",
			 ep->pod);
		ret = -EINVAL;
		goto fail;
	}
	ret = get_str(o, "podUID", false, 128, &ep->pod_uid, err, errlen);
	if (ret)
		goto fail;
	ret = get_str(o, "hostIfname", true, 15, &ep->host_ifname, err, errlen);
	if (ret)
		goto fail;
	if (sl_valid_ifname(ep->host_ifname)) {
		snprintf(err, errlen, "hostIfname: '%s' is not a valid interface name",
			 ep->host_ifname);
		ret = -EINVAL;
		goto fail;
	}
	ret = get_uint(o, "hostIfindex", 2147483647.0, &d, err, errlen);
	if (ret)
		goto fail;
	ep->host_ifindex = (int)d;

	const cJSON *ip = cJSON_GetObjectItemCaseSensitive(o, "ip");
	if (!cJSON_IsString(ip) || inet_pton(AF_INET, ip->valuestring, &a) != 1) {
		snprintf(err, errlen, "ip: %s",
			 !ip ? "missing" : "must be an IPv4 address a.b.c.d");
		ret = -EINVAL;
		goto fail;
	}
	uint32_t h = ntohl(a.s_addr);
	if (h == 0 || h == 0xffffffff || (h >> 28) == 0xe || (h >> 24) == 127) {
		snprintf(err, errlen, "ip: %s is not a unicast pod address", ip->valuestring);
		ret = -EINVAL;
		goto fail;
	}
	ep->ip = a.s_addr;

	static const char *const macs[] = {"podMac", "hostMac"};
	for (int i = 0; i < 2; i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, macs[i]);
		uint8_t *dst = i ? ep->host_mac : ep->pod_mac;

		if (!cJSON_IsString(m) || sl_parse_mac(m->valuestring, dst)) {
			snprintf(err, errlen, "%s: %s", macs[i],
				 !m ? "missing" : "must be a unicast MAC aa:bb:cc:dd:ee:ff");
			ret = -EINVAL;
			goto fail;
		}
	}
	return 0;
fail:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	sl_ep_clear(ep);
	return ret;
}

cJSON *sl_ep_to_json(const struct sl_ep *ep, const char *state)
{
	char mac[18], ip[INET_ADDRSTRLEN];
	cJSON *o = cJSON_CreateObject();
	bool ok = o;

	inet_ntop(AF_INET, &ep->ip, ip, sizeof(ip));
	ok = ok && cJSON_AddNumberToObject(o, "id", ep->id);
	ok = ok && cJSON_AddStringToObject(o, "containerID", ep->container_id);
	ok = ok && cJSON_AddStringToObject(o, "ifname", ep->ifname);
	ok = ok && cJSON_AddStringToObject(o, "netns", ep->netns);
	ok = ok && cJSON_AddStringToObject(o, "namespace", ep->k8s_namespace);
	ok = ok && cJSON_AddStringToObject(o, "pod", ep->pod);
	ok = ok && cJSON_AddStringToObject(o, "podUID", ep->pod_uid);
	ok = ok && cJSON_AddStringToObject(o, "ip", ip);
	ok = ok && cJSON_AddStringToObject(o, "hostIfname", ep->host_ifname);
	ok = ok && cJSON_AddNumberToObject(o, "hostIfindex", ep->host_ifindex);
	sl_format_mac(ep->pod_mac, mac);
	ok = ok && cJSON_AddStringToObject(o, "podMac", mac);
	sl_format_mac(ep->host_mac, mac);
	ok = ok && cJSON_AddStringToObject(o, "hostMac", mac);
	if (state)
		ok = ok && cJSON_AddStringToObject(o, "state", state);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

bool sl_ep_equal(const struct sl_ep *a, const struct sl_ep *b)
{
	return !strcmp(a->container_id, b->container_id) && !strcmp(a->ifname, b->ifname) &&
	       !strcmp(a->netns, b->netns) && !strcmp(a->k8s_namespace, b->k8s_namespace) &&
	       !strcmp(a->pod, b->pod) && !strcmp(a->pod_uid, b->pod_uid) &&
	       !strcmp(a->host_ifname, b->host_ifname) && a->ip == b->ip &&
	       a->host_ifindex == b->host_ifindex && !memcmp(a->pod_mac, b->pod_mac, 6) &&
	       !memcmp(a->host_mac, b->host_mac, 6);
}

int sl_ep_table_add(struct sl_ep_table *t, struct sl_ep *ep)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct sl_ep **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = ep;
	if (ep->id >= t->next_id)
		t->next_id = ep->id + 1;
	return 0;
}

struct sl_ep *sl_ep_table_find(const struct sl_ep_table *t, const char *container_id,
			       const char *ifname, size_t *idx)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!strcmp(t->v[i]->container_id, container_id) &&
		    !strcmp(t->v[i]->ifname, ifname)) {
			if (idx)
				*idx = i;
			return t->v[i];
		}
	}
	return NULL;
}

struct sl_ep *sl_ep_table_find_ip(const struct sl_ep_table *t, uint32_t ip, size_t *idx)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i]->ip == ip) {
			if (idx)
				*idx = i;
			return t->v[i];
		}
	}
	return NULL;
}

void sl_ep_table_remove(struct sl_ep_table *t, size_t idx)
{
	sl_ep_free(t->v[idx]);
	memmove(&t->v[idx], &t->v[idx + 1], (t->n - idx - 1) * sizeof(t->v[0]));
	t->n--;
}

void sl_ep_table_free(struct sl_ep_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		sl_ep_free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

cJSON *sl_state_to_json(const struct sl_ep_table *t)
{
	cJSON *o = cJSON_CreateObject(), *arr, *e;

	if (!o || !cJSON_AddNumberToObject(o, "version", SL_STATE_VERSION) ||
	    !cJSON_AddNumberToObject(o, "nextId", t->next_id ? t->next_id : 1))
		goto fail;
	arr = cJSON_AddArrayToObject(o, "endpoints");
	if (!arr)
		goto fail;
	for (size_t i = 0; i < t->n; i++) {
		e = sl_ep_to_json(t->v[i], NULL);
		if (!e)
			goto fail;
		cJSON_AddItemToArray(arr, e);
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

int sl_state_from_json(const cJSON *o, struct sl_ep_table *t, char *err, size_t errlen)
{
	const cJSON *ver, *next, *arr, *e;
	char why[512];
	size_t i = 0;
	int ret;

	memset(t, 0, sizeof(*t));
	t->next_id = 1;
	ver = cJSON_GetObjectItemCaseSensitive(o, "version");
	if (!cJSON_IsNumber(ver) || ver->valueint != SL_STATE_VERSION) {
		snprintf(err, errlen, "version: want %d", SL_STATE_VERSION);
		return -EINVAL;
	}
	next = cJSON_GetObjectItemCaseSensitive(o, "nextId");
	if (!cJSON_IsNumber(next) || next->valuedouble < 1 || next->valuedouble > 4294967295.0) {
		snprintf(err, errlen, "nextId: must be an integer >= 1");
		return -EINVAL;
	}
	t->next_id = (uint32_t)next->valuedouble;
	arr = cJSON_GetObjectItemCaseSensitive(o, "endpoints");
	if (!cJSON_IsArray(arr)) {
		snprintf(err, errlen, "endpoints: must be an array");
		return -EINVAL;
	}
	cJSON_ArrayForEach (e, arr) {
		struct sl_ep *ep = calloc(1, sizeof(*ep));

		if (!ep) {
			ret = -ENOMEM;
			goto fail;
		}
		ret = sl_ep_from_json(e, true, ep, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "endpoints[%zu].%s", i, why);
			free(ep);
			goto fail;
		}
		if (sl_ep_table_find(t, ep->container_id, ep->ifname, NULL) ||
		    sl_ep_table_find_ip(t, ep->ip, NULL)) {
			snprintf(err, errlen, "endpoints[%zu]: duplicate endpoint or ip", i);
			sl_ep_free(ep);
			ret = -EINVAL;
			goto fail;
		}
		ret = sl_ep_table_add(t, ep);
		if (ret) {
			sl_ep_free(ep);
			goto fail;
		}
		i++;
	}
	return 0;
fail:
	sl_ep_table_free(t);
	return ret;
}

int sl_state_save(const char *path, const struct sl_ep_table *t)
{
	cJSON *o = sl_state_to_json(t);
	char *s;
	int ret;

	if (!o)
		return -ENOMEM;
	s = cJSON_Print(o);
	cJSON_Delete(o);
	if (!s)
		return -ENOMEM;
	/* Not synced to disk (each sync is a CNI ADD's wait): what it describes (veths, pod
	 * netns, pins) does not outlive the boot, and a file a crash of the machine left empty
	 * is recognised by sl_state_load() as from an earlier boot. */
	ret = sl_write_file_atomic(path, s, strlen(s), 0600, 0);
	free(s);
	return ret;
}

int sl_state_load(const char *path, struct sl_ep_table *t, char *err, size_t errlen)
{
	char *s;
	cJSON *o;
	int ret;

	memset(t, 0, sizeof(*t));
	t->next_id = 1;
	s = sl_read_file(path, SL_STATE_MAX_BYTES, NULL);
	if (!s) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
		return ret;
	}
	o = cJSON_Parse(s);
	free(s);
	if (!o) {
		struct stat st;
		long long boot = sl_boot_time();

		if (!stat(path, &st) && boot > 0 && st.st_mtime < boot) {
			pr_warn("%s: not valid JSON, written before this boot (the machine crashed "
				"before it reached the disk): starting without it",
				path);
			return 0;
		}
		snprintf(err, errlen, "%s: not valid JSON", path);
		return -EINVAL;
	}
	ret = sl_state_from_json(o, t, err, errlen);
	cJSON_Delete(o);
	return ret;
}
