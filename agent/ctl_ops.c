// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_ops.c - the agent's answers to sluicectl (ops "names" and "explain", see agent_proto.h),
 * read from the compiler model through the mode's with_model hook. explain evaluates the
 * model's own entries (sl_policy_snapshot) with the datapath's lookup sequence, so sluicectl can
 * compare them with what the live maps answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_proto.h"
#include "api.h"
#include "ctl_ops.h"
#include "reasons.h"
#include "sl_policy.h"

#define MAX_IDS 100000

/* ------------------------------------------------------------------ names */

/* The mode answers -EAGAIN while a change waits to be applied: a second later it is the
 * maps' model again. */
static int with_model(struct sl_agent *a, int (*fn)(const struct sl_policy *p, void *ctx),
		      void *ctx)
{
	int err = -EAGAIN;

	for (int i = 0; i < 40 && err == -EAGAIN; i++) {
		if (i)
			usleep(25000);
		err = a->mode->with_model(a, fn, ctx);
	}
	return err;
}

struct names_ctx {
	const cJSON *req;
	cJSON *resp;
};

static int names_fn(const struct sl_policy *p, void *arg)
{
	struct names_ctx *c = arg;
	cJSON *ids = cJSON_AddObjectToObject(c->resp, "identities");
	cJSON *rules = cJSON_AddObjectToObject(c->resp, "rules");
	cJSON *sets = cJSON_AddObjectToObject(c->resp, "sets");
	const cJSON *x;
	char k[16];

	if (!ids || !rules || !sets)
		return -ENOMEM;
	cJSON_ArrayForEach (x, cJSON_GetObjectItem(c->req, "identities")) {
		const struct sl_labels *l;
		const char *ns;
		cJSON *o, *lo;

		if (!cJSON_IsNumber(x) || !sl_policy_identity(p, (__u32)x->valuedouble, &ns, &l))
			continue;
		snprintf(k, sizeof(k), "%u", (__u32)x->valuedouble);
		o = cJSON_AddObjectToObject(ids, k);
		cJSON_AddStringToObject(o, "namespace", ns);
		lo = cJSON_AddObjectToObject(o, "labels");
		for (size_t i = 0; lo && i < l->n; i++)
			cJSON_AddStringToObject(lo, l->v[i].key, l->v[i].value);
	}
	cJSON_ArrayForEach (x, cJSON_GetObjectItem(c->req, "rules")) {
		const struct sl_rule_info *r;
		cJSON *o;

		if (!cJSON_IsNumber(x) || !(r = sl_policy_rule(p, (__u32)x->valuedouble)))
			continue;
		snprintf(k, sizeof(k), "%u", (__u32)x->valuedouble);
		o = cJSON_AddObjectToObject(rules, k);
		cJSON_AddStringToObject(o, "namespace", r->ns);
		cJSON_AddStringToObject(o, "policy", r->name);
		cJSON_AddStringToObject(o, "direction", sl_dir_name(r->dir));
		cJSON_AddNumberToObject(o, "index", r->index);
	}
	cJSON_ArrayForEach (x, cJSON_GetObjectItem(c->req, "sets")) {
		const struct sl_netpol *np;
		enum sl_dir dir = SL_DIR_EGRESS;
		cJSON *o = NULL, *arr = NULL;
		char name[512];

		if (!cJSON_IsNumber(x) || !x->valuedouble)
			continue;
		for (size_t i = 0; (np = sl_policy_set_policy(p, (__u32)x->valuedouble, i, &dir));
		     i++) {
			if (!o) {
				snprintf(k, sizeof(k), "%u", (__u32)x->valuedouble);
				o = cJSON_AddObjectToObject(sets, k);
				arr = cJSON_AddArrayToObject(o, "policies");
			}
			snprintf(name, sizeof(name), "%s/%s", np->ns, np->name);
			cJSON_AddItemToArray(arr, cJSON_CreateString(name));
		}
		if (o)
			cJSON_AddStringToObject(o, "direction", sl_dir_name(dir));
	}
	return 0;
}

static cJSON *model_err(int err)
{
	if (err == -ENOTSUP)
		return sl_api_err(SL_AGENT_CODE_NOTFOUND, "no policy model in this mode");
	if (err == -EAGAIN || err == -ETIMEDOUT)
		return sl_api_err(SL_AGENT_CODE_TRYAGAIN, "policy model busy or not synced yet: %s",
				  strerror(-err));
	return sl_api_err(SL_AGENT_CODE_INTERNAL, "policy model: %s", strerror(-err));
}

static bool ids_ok(const cJSON *req, const char *k)
{
	const cJSON *a = cJSON_GetObjectItem(req, k);

	return !a || (cJSON_IsArray(a) && cJSON_GetArraySize(a) <= MAX_IDS);
}

cJSON *sl_ctl_op_names(struct sl_agent *a, const cJSON *req)
{
	struct names_ctx c = {.req = req};
	int err;

	if (!ids_ok(req, "identities") || !ids_ok(req, "rules") || !ids_ok(req, "sets"))
		return sl_api_err(SL_AGENT_CODE_INVALID,
				  "identities, rules, sets: arrays of at most %d numbers", MAX_IDS);
	if (!a->mode->with_model)
		return model_err(-ENOTSUP);
	c.resp = sl_api_ok();
	if (!c.resp)
		return NULL;
	err = with_model(a, names_fn, &c);
	if (err) {
		cJSON_Delete(c.resp);
		return model_err(err);
	}
	return c.resp;
}

/* ------------------------------------------------------------------ explain */

/* Whether the first bits of a and b are equal. */
static bool bits_eq(const void *a, const void *b, unsigned bits)
{
	const unsigned char *x = a, *y = b;
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(x, y, full))
		return false;
	return !rest || !((x[full] ^ y[full]) & (0xff << (8 - rest)));
}

struct ex_dir {
	bool local;
	char ns[256], pod[256];
	__u32 reason, rule, pol, peer_id;
	bool known; /* the model has the pod as an endpoint of this node */
};

struct ex_ctx {
	struct sl_addr addr[2]; /* src, dst */
	unsigned proto, port;
	struct ex_dir d[SL_DIR_MAX];
};

static bool ports_match(const struct sl_delta *s, __u32 ps, unsigned proto, unsigned port,
			__u32 *rule)
{
	struct sl_ports_key want = {
	    .portset = htonl(ps), .proto = (__u8)proto, .port = htons((__u16)port)};
	__u32 best = 0;
	bool found = false;

	if (!ps)
		return false;
	for (size_t i = 0; i < s->ports_add.n; i++) {
		const struct sl_ports_key *k = &s->ports_add.v[i].k;

		if (k->portset != want.portset || (found && k->prefixlen <= best))
			continue;
		if (bits_eq(&k->portset, &want.portset, k->prefixlen)) {
			best = k->prefixlen;
			*rule = s->ports_add.v[i].v.rule;
			found = true;
		}
	}
	return found;
}

static void model_lookup(const struct sl_delta *s, const struct sl_ep_update *ep, unsigned dir,
			 const struct sl_addr *peer, unsigned proto, unsigned port,
			 struct ex_dir *v)
{
	bool invalid = ep->flags & SL_EP_F_POLICY_INVALID;
	__u32 best = 0;
	bool found = false;
	__u32 ps = 0;

	v->pol = ep->pol[dir];
	v->rule = 0;
	v->peer_id = SL_IDENTITY_WORLD;
	if (!v->pol && !invalid) {
		v->reason = SL_FWD_NO_POLICY;
		return;
	}
	for (size_t i = 0; i < s->ident_set.n; i++)
		if (!memcmp(&s->ident_set.v[i].k, peer, sizeof(*peer)))
			v->peer_id = s->ident_set.v[i].v.id;
	if (dir == SL_DIR_INGRESS && v->peer_id == SL_IDENTITY_HOST) {
		v->reason = SL_FWD_HOST;
		return;
	}
	if (invalid) {
		v->reason = SL_DROP_POLICY_INVALID;
		return;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP)
		port = 0;
	v->reason = SL_FWD_POLICY;
	for (size_t i = 0; i < s->peer_add.n; i++) {
		const struct sl_peer_key *k = &s->peer_add.v[i].k;

		if (k->pol == v->pol && k->identity == v->peer_id && k->dir == dir)
			ps = s->peer_add.v[i].v.portset;
	}
	if (ports_match(s, ps, proto, port, &v->rule))
		return;
	for (size_t i = 0; i < s->cidr_add.n; i++) {
		const struct sl_cidr_key *k = &s->cidr_add.v[i].k;
		struct sl_cidr_key want = {.pol = v->pol, .dir = (__u8)dir, .addr = *peer};

		if (k->pol != v->pol || k->dir != dir || (found && k->prefixlen <= best))
			continue;
		if (bits_eq(&k->pol, &want.pol, k->prefixlen)) {
			best = k->prefixlen;
			ps = s->cidr_add.v[i].v.portset;
			found = true;
		}
	}
	if (found && ports_match(s, ps, proto, port, &v->rule))
		return;
	v->reason = proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
			    proto == IPPROTO_ICMP
			? SL_DROP_POLICY
			: SL_DROP_UNKNOWN_L4;
}

static int explain_fn(const struct sl_policy *p, void *arg)
{
	struct ex_ctx *c = arg;
	struct sl_delta s;
	int err = sl_policy_snapshot(p, &s);

	if (err)
		return err;
	for (unsigned dir = 0; dir < SL_DIR_MAX; dir++) {
		struct ex_dir *d = &c->d[dir];
		const struct sl_addr *peer = &c->addr[dir == SL_DIR_EGRESS ? 1 : 0];
		struct sl_ep_update u = {0};

		if (!d->local)
			continue;
		d->known = !sl_policy_endpoint(p, d->ns, d->pod, &u);
		if (!d->known) { /* agent/sync.c: a local endpoint the model lacks is deny-all */
			u.flags = SL_EP_F_POLICY_INVALID;
		}
		model_lookup(&s, &u, dir, peer, c->proto, c->port, d);
	}
	sl_delta_free(&s);
	return 0;
}

static int parse_addr(const cJSON *req, const char *k, struct sl_addr *a)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(req, k));
	struct in_addr ip;

	if (!s || inet_pton(AF_INET, s, &ip) != 1)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->w[2] = htonl(0xffff);
	a->w[3] = ip.s_addr;
	return 0;
}

cJSON *sl_ctl_op_explain(struct sl_agent *a, const cJSON *req)
{
	struct ex_ctx c = {0};
	const cJSON *pr = cJSON_GetObjectItem(req, "proto"), *po = cJSON_GetObjectItem(req, "port");
	cJSON *r, *arr;
	int err;

	if (parse_addr(req, "src", &c.addr[0]))
		return sl_api_err(SL_AGENT_CODE_INVALID, "src: must be an IPv4 address");
	if (parse_addr(req, "dst", &c.addr[1]))
		return sl_api_err(SL_AGENT_CODE_INVALID, "dst: must be an IPv4 address");
	if (!cJSON_IsNumber(pr) || pr->valuedouble < 0 || pr->valuedouble > 255)
		return sl_api_err(SL_AGENT_CODE_INVALID, "proto: must be an IP protocol number");
	if (!cJSON_IsNumber(po) || po->valuedouble < 0 || po->valuedouble > 65535)
		return sl_api_err(SL_AGENT_CODE_INVALID, "port: must be 0-65535");
	c.proto = (unsigned)pr->valuedouble;
	c.port = (unsigned)po->valuedouble;
	if (!a->mode->with_model)
		return model_err(-ENOTSUP);
	/* Which ends are pods of this node, by name (the model knows pods by name). */
	pthread_mutex_lock(&a->lock);
	for (unsigned dir = 0; dir < SL_DIR_MAX; dir++) {
		const struct sl_addr *self = &c.addr[dir == SL_DIR_EGRESS ? 0 : 1];
		const struct sl_ep *ep = sl_ep_table_find_ip(&a->eps, self->w[3], NULL);

		if (ep && ep->pod && ep->pod[0]) {
			c.d[dir].local = true;
			snprintf(c.d[dir].ns, sizeof(c.d[dir].ns), "%s", ep->k8s_namespace ?: "");
			snprintf(c.d[dir].pod, sizeof(c.d[dir].pod), "%s", ep->pod);
		}
	}
	pthread_mutex_unlock(&a->lock);
	err = with_model(a, explain_fn, &c);
	if (err)
		return model_err(err);
	r = sl_api_ok();
	arr = r ? cJSON_AddArrayToObject(r, "directions") : NULL;
	if (!arr) {
		cJSON_Delete(r);
		return NULL;
	}
	for (unsigned dir = 0; dir < SL_DIR_MAX; dir++) {
		struct ex_dir *d = &c.d[dir];
		char pod[600];
		cJSON *o;

		if (!d->local)
			continue;
		o = cJSON_CreateObject();
		snprintf(pod, sizeof(pod), "%s/%s", d->ns, d->pod);
		cJSON_AddStringToObject(o, "direction", sl_dir_name(dir));
		cJSON_AddStringToObject(o, "pod", pod);
		cJSON_AddBoolToObject(o, "modelEndpoint", d->known);
		cJSON_AddStringToObject(o, "reason", sl_reason_name(d->reason));
		cJSON_AddStringToObject(o, "verdict",
					SL_REASON_IS_DROP(d->reason) ? "deny" : "allow");
		cJSON_AddNumberToObject(o, "rule", d->rule);
		cJSON_AddNumberToObject(o, "policySet", d->pol);
		cJSON_AddNumberToObject(o, "peerIdentity", d->peer_id);
		cJSON_AddItemToArray(arr, o);
	}
	return r;
}
