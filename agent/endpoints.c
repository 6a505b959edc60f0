// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * endpoints.c - the local endpoint registry: the API's endpoint operations, the sl_endpoints
 * entries of local pods, the state file, and their reconciliation at start.
 *
 * Order of effects: endpoint_add writes the map, then the state file, then answers (a crash
 * in between leaves a map entry that the next start's reconciliation removes, since the state
 * does not hold it). endpoint_del writes the state first, then deletes the map entry (a crash
 * in between leaves a LOCAL entry no endpoint owns: removed at the next start too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent_proto.h"
#include "api.h"
#include "endpoints.h"
#include "log.h"
#include "tc_attach.h"

static void ep_key(uint32_t ip, struct sl_addr *k)
{
	memset(k, 0, sizeof(*k));
	k->w[2] = htonl(0xffff); /* v4-mapped ::ffff:a.b.c.d */
	k->w[3] = ip;
}

static const char *ip_str(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

/* The veth is still there under the same index and name. */
static bool host_if_present(const struct sl_ep *ep)
{
	char name[IF_NAMESIZE];

	return if_indextoname((unsigned int)ep->host_ifindex, name) &&
	       !strcmp(name, ep->host_ifname);
}

static int host_if_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* What the kernel says about the endpoint's host side; err names the field. */
static int check_host_if(const struct sl_ep *ep, char *err, size_t errlen)
{
	char name[IF_NAMESIZE], want[18], got[18];
	uint8_t mac[6];

	if (!if_indextoname((unsigned int)ep->host_ifindex, name)) {
		snprintf(err, errlen,
			 "hostIfindex: no interface with index %d in the agent's "
			 "network namespace",
			 ep->host_ifindex);
		return -EINVAL;
	}
	if (strcmp(name, ep->host_ifname)) {
		snprintf(err, errlen, "hostIfname: interface %d is '%s', not '%s'",
			 ep->host_ifindex, name, ep->host_ifname);
		return -EINVAL;
	}
	if (host_if_mac(name, mac)) {
		snprintf(err, errlen, "hostIfname: %s: cannot read its MAC address", name);
		return -EINVAL;
	}
	if (memcmp(mac, ep->host_mac, 6)) {
		sl_format_mac(ep->host_mac, want);
		sl_format_mac(mac, got);
		snprintf(err, errlen, "hostMac: %s is not %s's address (%s)", want, name, got);
		return -EINVAL;
	}
	return 0;
}

static int ep_value(struct sl_agent *a, const struct sl_ep *ep, struct sl_endpoint *val)
{
	memset(val, 0, sizeof(*val));
	val->ep_id = ep->id;
	val->ifindex = (__u32)ep->host_ifindex;
	memcpy(val->pod_mac, ep->pod_mac, 6);
	memcpy(val->host_mac, ep->host_mac, 6);
	val->flags = SL_EP_F_LOCAL;
	return a->mode->endpoint_policy ? a->mode->endpoint_policy(a, ep, val) : 0;
}

/* The parts of a map entry that the registry owns (pol and identity are the mode's). */
static bool entry_matches(const struct sl_endpoint *v, const struct sl_ep *ep)
{
	return v->ep_id == ep->id && v->ifindex == (__u32)ep->host_ifindex &&
	       !memcmp(v->pod_mac, ep->pod_mac, 6) && !memcmp(v->host_mac, ep->host_mac, 6) &&
	       (v->flags & SL_EP_F_LOCAL);
}

static int map_write(struct sl_agent *a, const struct sl_ep *ep, const struct sl_endpoint *val)
{
	char ip[INET_ADDRSTRLEN];
	struct sl_addr k;

	ep_key(ep->ip, &k);
	if (bpf_map_update_elem(a->dp.endpoints_fd, &k, val, BPF_ANY)) {
		int err = -errno;

		pr_err("sl_endpoints %s (endpoint %u): update: %s", ip_str(ep->ip, ip), ep->id,
		       strerror(errno));
		return err;
	}
	return 0;
}

/* Delete ip's entry if it belongs to endpoint id (or to anyone when id is 0). */
static int map_delete(struct sl_agent *a, uint32_t ip, uint32_t id)
{
	char ips[INET_ADDRSTRLEN];
	struct sl_endpoint v;
	struct sl_addr k;

	ep_key(ip, &k);
	if (bpf_map_lookup_elem(a->dp.endpoints_fd, &k, &v))
		return errno == ENOENT ? 0 : -errno;
	if (id && v.ep_id != id)
		return 0;
	if (bpf_map_delete_elem(a->dp.endpoints_fd, &k) && errno != ENOENT) {
		int err = -errno;

		pr_err("sl_endpoints %s: delete: %s", ip_str(ip, ips), strerror(errno));
		return err;
	}
	return 0;
}

static void attach_programs(struct sl_agent *a, const struct sl_ep *ep)
{
	/* Replace semantics: the filter is swapped in place, no packet sees an empty hook. */
	if (sl_tc_attach(ep->host_ifindex, BPF_TC_INGRESS, a->dp.from_pod_fd) ||
	    sl_tc_attach(ep->host_ifindex, BPF_TC_EGRESS, a->dp.to_pod_fd))
		pr_warn("endpoint %u (%s): programs not re-attached; the previous version keeps "
			"running",
			ep->id, ep->host_ifname);
}

static int reconcile(struct sl_agent *a, bool *changed)
{
	char ip[INET_ADDRSTRLEN];
	struct sl_endpoint v;
	struct sl_addr k, next, *stale = NULL;
	size_t nstale = 0, cap = 0, rewritten = 0;
	void *prev = NULL;
	int err;

	/* 1. A CNI DEL that happened while we were down: the veth is gone. */
	for (size_t i = 0; i < a->eps.n;) {
		struct sl_ep *ep = a->eps.v[i];

		if (host_if_present(ep)) {
			i++;
			continue;
		}
		pr_info("endpoint %u (%s, %s): host veth %s is gone: removing", ep->id,
			ep->container_id, ip_str(ep->ip, ip), ep->host_ifname);
		err = map_delete(a, ep->ip, ep->id);
		if (err)
			return err;
		if (a->mode->endpoint_removed)
			a->mode->endpoint_removed(a, ep);
		sl_ep_table_remove(&a->eps, i);
		*changed = true;
	}

	/* 2. Entries missing from the map (a fresh bpffs, or a crash mid-delete). */
	for (size_t i = 0; i < a->eps.n; i++) {
		struct sl_ep *ep = a->eps.v[i];

		ep_key(ep->ip, &k);
		if (!bpf_map_lookup_elem(a->dp.endpoints_fd, &k, &v) && entry_matches(&v, ep))
			continue;
		err = ep_value(a, ep, &v);
		if (!err)
			err = map_write(a, ep, &v);
		if (err)
			return err;
		rewritten++;
	}

	/* 3. LOCAL entries no endpoint owns. Collect first: deleting while walking skips keys. */
	while (!bpf_map_get_next_key(a->dp.endpoints_fd, prev, &next)) {
		struct sl_ep *ep;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(a->dp.endpoints_fd, &k, &v) || !(v.flags & SL_EP_F_LOCAL))
			continue;
		ep = sl_ep_table_find_ip(&a->eps, k.w[3], NULL);
		if (ep && ep->id == v.ep_id && !k.w[0] && !k.w[1] && k.w[2] == htonl(0xffff))
			continue;
		if (nstale == cap) {
			struct sl_addr *n = realloc(stale, (cap = cap ? cap * 2 : 16) * sizeof(*n));

			if (!n) {
				free(stale);
				return -ENOMEM;
			}
			stale = n;
		}
		stale[nstale++] = k;
	}
	for (size_t i = 0; i < nstale; i++) {
		pr_info("sl_endpoints: removing local entry %s owned by no endpoint",
			ip_str(stale[i].w[3], ip));
		if (bpf_map_delete_elem(a->dp.endpoints_fd, &stale[i]) && errno != ENOENT)
			pr_warn("sl_endpoints %s: delete: %s", ip, strerror(errno));
	}
	free(stale);

	/* 4. The programs just loaded replace the previous version on every endpoint. */
	for (size_t i = 0; i < a->eps.n; i++)
		attach_programs(a, a->eps.v[i]);

	pr_info("endpoints: %zu recovered, %zu map entries re-written, %zu stale removed", a->eps.n,
		rewritten, nstale);
	return 0;
}

int sl_eps_start(struct sl_agent *a)
{
	bool changed = false;
	char why[512];
	int err;

	err = sl_state_load(a->state_path, &a->eps, why, sizeof(why));
	if (err) {
		pr_err("state: %s (move the file away to start without it)", why);
		return err;
	}
	pthread_mutex_lock(&a->lock);
	err = reconcile(a, &changed);
	if (!err)
		err = sl_state_save(a->state_path, &a->eps);
	pthread_mutex_unlock(&a->lock);
	return err;
}

size_t sl_eps_count(struct sl_agent *a)
{
	size_t n;

	pthread_mutex_lock(&a->lock);
	n = a->eps.n;
	pthread_mutex_unlock(&a->lock);
	return n;
}

static cJSON *ok_endpoint(const struct sl_ep *ep)
{
	cJSON *r = sl_api_ok(), *e = sl_ep_to_json(ep, "ready");

	if (!r || !e) {
		cJSON_Delete(r);
		cJSON_Delete(e);
		return NULL;
	}
	cJSON_AddItemToObject(r, "endpoint", e);
	return r;
}

/* Another endpoint than old holding ep's ip or host interface. */
static struct sl_ep *conflicting(const struct sl_ep_table *t, const struct sl_ep *ep,
				 const struct sl_ep *old, size_t *idx)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i] != old &&
		    (t->v[i]->ip == ep->ip || t->v[i]->host_ifindex == ep->host_ifindex)) {
			*idx = i;
			return t->v[i];
		}
	}
	return NULL;
}

cJSON *sl_eps_add(struct sl_agent *a, const cJSON *req)
{
	struct sl_ep *ep, *old, *other, *replaced = NULL;
	char why[512], ip[INET_ADDRSTRLEN];
	struct sl_endpoint val, old_val;
	bool had_old_val;
	struct sl_addr k;
	size_t idx, oidx;
	cJSON *resp;
	int err;

	if (!atomic_load(&a->ready))
		return sl_api_err(SL_AGENT_CODE_TRYAGAIN, "agent not ready yet");
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return NULL;
	if (sl_ep_from_json(req, false, ep, why, sizeof(why))) {
		free(ep);
		return sl_api_err(SL_AGENT_CODE_INVALID, "%s", why);
	}
	if (a->cfg->have_pod_cidr && !sl_cidr4_contains(&a->cfg->pod_cidr, ntohl(ep->ip))) {
		resp =
		    sl_api_err(SL_AGENT_CODE_INVALID, "ip: %s is outside this node's pod CIDR %s",
			       ip_str(ep->ip, ip), a->cfg->pod_cidr_str);
		goto out_free;
	}
	if (check_host_if(ep, why, sizeof(why))) {
		resp = sl_api_err(SL_AGENT_CODE_INVALID, "%s", why);
		goto out_free;
	}
	/* The mode may wait for the pod's policy: not under the lock (ep->id is still 0). */
	err = ep_value(a, ep, &val);
	if (err) {
		resp = err == -EAGAIN
			   ? sl_api_err(SL_AGENT_CODE_TRYAGAIN, "policy of %s not known yet",
					ep->container_id)
			   : sl_api_err(SL_AGENT_CODE_INTERNAL, "policy: %s", strerror(-err));
		goto out_free;
	}

	pthread_mutex_lock(&a->lock);
	if (a->mode->endpoint_refresh)
		a->mode->endpoint_refresh(a, ep, &val);
	old = sl_ep_table_find(&a->eps, ep->container_id, ep->ifname, &idx);
	while ((other = conflicting(&a->eps, ep, old, &oidx))) {
		bool same_ip = other->ip == ep->ip;

		if (host_if_present(other)) {
			if (same_ip)
				resp = sl_api_err(SL_AGENT_CODE_INVALID,
						  "ip: %s is already used by endpoint %u "
						  "(containerID %s, %s)",
						  ip_str(ep->ip, ip), other->id,
						  other->container_id, other->host_ifname);
			else
				resp =
				    sl_api_err(SL_AGENT_CODE_INVALID,
					       "hostIfindex: %d (%s) already belongs to endpoint "
					       "%u (containerID %s)",
					       ep->host_ifindex, ep->host_ifname, other->id,
					       other->container_id);
			goto out_unlock;
		}
		pr_info("endpoint %u (%s): host veth %s is gone and its %s is reused: removing",
			other->id, other->container_id, other->host_ifname,
			same_ip ? "ip" : "ifindex");
		err = map_delete(a, other->ip, other->id);
		if (err) {
			resp = sl_api_err(SL_AGENT_CODE_INTERNAL, "sl_endpoints: delete: %s",
					  strerror(-err));
			goto out_unlock;
		}
		if (a->mode->endpoint_removed)
			a->mode->endpoint_removed(a, other);
		sl_ep_table_remove(&a->eps, oidx);
		old = sl_ep_table_find(&a->eps, ep->container_id, ep->ifname, &idx);
	}
	ep->id = old ? old->id : a->eps.next_id;
	val.ep_id = ep->id;
	ep_key(ep->ip, &k);
	if (old && sl_ep_equal(old, ep)) {
		/* Idempotent re-add: make sure the entry is there, answer as before. */
		err = 0;
		if (bpf_map_lookup_elem(a->dp.endpoints_fd, &k, &old_val) ||
		    !entry_matches(&old_val, old))
			err = map_write(a, old, &val);
		resp = err ? sl_api_err(SL_AGENT_CODE_INTERNAL, "sl_endpoints: update: %s",
					strerror(-err))
			   : ok_endpoint(old);
		goto out_unlock;
	}
	had_old_val = !bpf_map_lookup_elem(a->dp.endpoints_fd, &k, &old_val);
	err = map_write(a, ep, &val);
	if (err) {
		resp =
		    sl_api_err(SL_AGENT_CODE_INTERNAL, "sl_endpoints: update: %s", strerror(-err));
		goto out_unlock;
	}
	if (old) {
		replaced = old;
		a->eps.v[idx] = ep;
	} else {
		err = sl_ep_table_add(&a->eps, ep);
		if (err)
			goto rollback;
	}
	err = sl_state_save(a->state_path, &a->eps);
	if (err) {
		/* Undo: table, then map, so nothing answers for an endpoint not on disk. */
		if (replaced) {
			a->eps.v[idx] = replaced;
		} else {
			a->eps.n--;
			a->eps.next_id = ep->id; /* not handed out after all */
		}
		replaced = NULL;
		goto rollback;
	}
	if (replaced && replaced->ip != ep->ip)
		map_delete(a, replaced->ip, replaced->id);
	pr_info("endpoint %u: added %s/%s ip %s on %s (ifindex %d)", ep->id, ep->container_id,
		ep->ifname, ip_str(ep->ip, ip), ep->host_ifname, ep->host_ifindex);
	resp = ok_endpoint(ep);
	sl_ep_free(replaced);
	pthread_mutex_unlock(&a->lock);
	return resp;

rollback:
	if (had_old_val)
		bpf_map_update_elem(a->dp.endpoints_fd, &k, &old_val, BPF_ANY);
	else
		bpf_map_delete_elem(a->dp.endpoints_fd, &k);
	resp = sl_api_err(SL_AGENT_CODE_INTERNAL, "state: %s: write failed: %s", a->state_path,
			  strerror(-err));
out_unlock:
	pthread_mutex_unlock(&a->lock);
out_free:
	sl_ep_free(ep);
	return resp;
}

/* containerID and ifname of a del/get request; NULL response when they are valid. */
static cJSON *ident_fields(const cJSON *req, const char **cid, const char **ifname)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "containerID");
	const cJSON *i = cJSON_GetObjectItemCaseSensitive(req, "ifname");

	if (!cJSON_IsString(c) || sl_valid_container_id(c->valuestring))
		return sl_api_err(SL_AGENT_CODE_INVALID, "containerID: %s",
				  !c ? "missing" : "must be a valid container id string");
	if (!cJSON_IsString(i) || sl_valid_ifname(i->valuestring))
		return sl_api_err(SL_AGENT_CODE_INVALID, "ifname: %s",
				  !i ? "missing" : "must be a valid interface name string");
	*cid = c->valuestring;
	*ifname = i->valuestring;
	return NULL;
}

cJSON *sl_eps_del(struct sl_agent *a, const cJSON *req)
{
	const char *cid, *ifname;
	struct sl_ep *ep;
	cJSON *resp;
	size_t idx;
	int err;

	resp = ident_fields(req, &cid, &ifname);
	if (resp)
		return resp;
	pthread_mutex_lock(&a->lock);
	ep = sl_ep_table_find(&a->eps, cid, ifname, &idx);
	if (!ep) {
		resp = sl_api_ok(); /* idempotent: containerd sends DEL twice */
		goto out;
	}
	/* State first: a crash before the map delete leaves an orphan the next start removes. */
	memmove(&a->eps.v[idx], &a->eps.v[idx + 1], (a->eps.n - idx - 1) * sizeof(ep));
	a->eps.n--;
	err = sl_state_save(a->state_path, &a->eps);
	if (err) {
		sl_ep_table_add(&a->eps, ep); /* cannot fail: the slot was just freed */
		resp = sl_api_err(SL_AGENT_CODE_INTERNAL, "state: %s: write failed: %s",
				  a->state_path, strerror(-err));
		goto out;
	}
	err = map_delete(a, ep->ip, ep->id);
	if (err)
		pr_warn("endpoint %u: map entry left behind, removed at the next start", ep->id);
	if (a->mode->endpoint_removed)
		a->mode->endpoint_removed(a, ep);
	pr_info("endpoint %u: deleted %s/%s", ep->id, ep->container_id, ep->ifname);
	sl_ep_free(ep);
	resp = sl_api_ok();
out:
	pthread_mutex_unlock(&a->lock);
	return resp;
}

cJSON *sl_eps_get(struct sl_agent *a, const cJSON *req)
{
	const char *cid, *ifname;
	struct sl_ep *ep;
	cJSON *resp;

	resp = ident_fields(req, &cid, &ifname);
	if (resp)
		return resp;
	pthread_mutex_lock(&a->lock);
	ep = sl_ep_table_find(&a->eps, cid, ifname, NULL);
	resp = ep ? ok_endpoint(ep) : sl_api_err(SL_AGENT_CODE_NOTFOUND, "no such endpoint");
	pthread_mutex_unlock(&a->lock);
	return resp;
}

cJSON *sl_eps_list(struct sl_agent *a, const cJSON *req)
{
	cJSON *resp = sl_api_ok(), *arr, *e;

	(void)req;
	if (!resp)
		return NULL;
	arr = cJSON_AddArrayToObject(resp, "endpoints");
	if (!arr)
		goto fail;
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->eps.n; i++) {
		e = sl_ep_to_json(a->eps.v[i], "ready");
		if (!e) {
			pthread_mutex_unlock(&a->lock);
			goto fail;
		}
		cJSON_AddItemToArray(arr, e);
	}
	pthread_mutex_unlock(&a->lock);
	return resp;
fail:
	cJSON_Delete(resp);
	return NULL;
}
