// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_policy.c - sluicectl policy get NS/POD|IP|--all: every map entry that an endpoint's
 * policy sets hold (sl_peer by identity, sl_cidr by prefix, their sl_ports), decoded back to
 * direction, peer, protocol and port range, verdict, the NetworkPolicy rule and its counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ctl.h"

struct ents {
	struct sl_peer_key *pk;
	struct sl_portset_ref *pv;
	size_t np;
	struct sl_cidr_key *ck;
	struct sl_portset_ref *cv;
	size_t nc;
	struct sl_ports_key *sk;
	struct sl_ports_val *sv;
	size_t ns;
};

/* Every entry of a map into parallel key/value arrays. */
static int slurp(int fd, size_t ksz, size_t vsz, void **keys, void **vals, size_t *n)
{
	unsigned char k[64], next[64];
	size_t cap = 0;
	void *prev = NULL;

	*keys = *vals = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, ksz);
		prev = k;
		if (*n == cap) {
			void *nk, *nv;

			cap = cap ? cap * 2 : 64;
			nk = realloc(*keys, cap * ksz);
			if (nk)
				*keys = nk;
			nv = realloc(*vals, cap * vsz);
			if (nv)
				*vals = nv;
			if (!nk || !nv)
				return -ENOMEM;
		}
		if (bpf_map_lookup_elem(fd, k, (char *)*vals + *n * vsz))
			continue;
		memcpy((char *)*keys + *n * ksz, k, ksz);
		(*n)++;
	}
	return 0;
}

static int ents_read(const struct sl_dp_maps *m, struct ents *e)
{
	int err;

	err = slurp(m->peer, sizeof(*e->pk), sizeof(*e->pv), (void **)&e->pk, (void **)&e->pv,
		    &e->np);
	err = err
		  ?: slurp(m->cidr, sizeof(*e->ck), sizeof(*e->cv), (void **)&e->ck,
			   (void **)&e->cv, &e->nc);
	err = err
		  ?: slurp(m->ports, sizeof(*e->sk), sizeof(*e->sv), (void **)&e->sk,
			   (void **)&e->sv, &e->ns);
	return err;
}

static void ents_free(struct ents *e)
{
	free(e->pk);
	free(e->pv);
	free(e->ck);
	free(e->cv);
	free(e->sk);
	free(e->sv);
}

struct ctx {
	const struct sl_dp_maps *m;
	const struct ents *e;
	const struct ctl_names *n;
};

/* One row per sl_ports entry of portset ps, for the peer described by peer. */
static void port_rows(const struct ctx *c, cJSON *rows, const cJSON *peer, __u32 ps, int dir)
{
	char pb[16];

	if (!ps) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "direction", dir ? "ingress" : "egress");
		cJSON_AddItemToObject(o, "peer", cJSON_Duplicate(peer, 1));
		cJSON_AddStringToObject(o, "protocol", "any");
		cJSON_AddStringToObject(o, "ports", "any");
		cJSON_AddStringToObject(o, "verdict", "deny");
		cJSON_AddStringToObject(o, "why", "ipBlock except: no rule covers this prefix");
		cJSON_AddItemToArray(rows, o);
		return;
	}
	for (size_t i = 0; i < c->e->ns; i++) {
		const struct sl_ports_key *k = &c->e->sk[i];
		unsigned proto, lo, hi;
		struct sl_counter st = {0};
		const cJSON *rule;
		char ports[24];
		cJSON *o;

		if (ntohl(k->portset) != ps)
			continue;
		ctl_ports_range(k, &proto, &lo, &hi);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "direction", dir ? "ingress" : "egress");
		cJSON_AddItemToObject(o, "peer", cJSON_Duplicate(peer, 1));
		cJSON_AddStringToObject(o, "protocol", ctl_proto_name(proto, pb, sizeof(pb)));
		if (lo == 0 && hi == 65535)
			snprintf(ports, sizeof(ports), "any");
		else if (lo == hi)
			snprintf(ports, sizeof(ports), "%u", lo);
		else
			snprintf(ports, sizeof(ports), "%u-%u", lo, hi);
		cJSON_AddStringToObject(o, "ports", ports);
		cJSON_AddStringToObject(o, "verdict", "allow");
		cJSON_AddNumberToObject(o, "rule", c->e->sv[i].rule);
		rule = ctl_rule(c->n, c->e->sv[i].rule);
		if (rule)
			cJSON_AddItemToObject(o, "policy", cJSON_Duplicate(rule, 1));
		ctl_percpu_sum(c->m->rule_stats, c->e->sv[i].rule, &st);
		cJSON_AddNumberToObject(o, "packets", (double)st.packets);
		cJSON_AddNumberToObject(o, "bytes", (double)st.bytes);
		cJSON_AddItemToArray(rows, o);
	}
}

static cJSON *ident_peer(const struct ctx *c, __u32 id)
{
	cJSON *p = cJSON_CreateObject(), *pods;
	const cJSON *io = ctl_ident(c->n, id);
	struct sl_addr k, *prev = NULL;
	struct sl_ident_val v;
	char buf[300];

	cJSON_AddStringToObject(p, "kind", "identity");
	cJSON_AddNumberToObject(p, "identity", id);
	if (io) {
		cJSON_AddItemToObject(p, "namespace",
				      cJSON_Duplicate(cJSON_GetObjectItem(io, "namespace"), 1));
		cJSON_AddItemToObject(p, "labels",
				      cJSON_Duplicate(cJSON_GetObjectItem(io, "labels"), 1));
	}
	/* The addresses carrying it, named when they are pods of this node. */
	pods = cJSON_AddArrayToObject(p, "addresses");
	while (!bpf_map_get_next_key(c->m->ident, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(c->m->ident, &k, &v) || v.id != id)
			continue;
		if (!ctl_pod_of(c->n, &k, buf, sizeof(buf)))
			ctl_addr_str(&k, buf, sizeof(buf));
		cJSON_AddItemToArray(pods, cJSON_CreateString(buf));
	}
	return p;
}

static cJSON *endpoint_policy(const struct ctx *c, const struct sl_addr *a,
			      const struct sl_endpoint *ep)
{
	cJSON *o = cJSON_CreateObject(), *rows;
	char buf[300];

	if (ctl_pod_of(c->n, a, buf, sizeof(buf)))
		cJSON_AddStringToObject(o, "pod", buf);
	cJSON_AddStringToObject(o, "ip", ctl_addr_str(a, buf, sizeof(buf)));
	cJSON_AddNumberToObject(o, "id", ep->ep_id);
	for (int dir = SL_DIR_INGRESS; dir >= SL_DIR_EGRESS; dir--) {
		__u32 P = ep->pol[dir];
		cJSON *d = cJSON_AddObjectToObject(o, dir ? "ingress" : "egress");

		cJSON_AddNumberToObject(d, "policySet", P);
		if (ep->flags & SL_EP_F_POLICY_INVALID) {
			cJSON_AddStringToObject(d, "default", "deny");
			cJSON_AddStringToObject(d, "why",
						"the pod's policy failed to compile: deny all "
						"(host probes still pass)");
			cJSON_AddArrayToObject(d, "entries");
			continue;
		}
		if (!P) {
			cJSON_AddStringToObject(d, "default", "allow");
			cJSON_AddStringToObject(d, "why", "no NetworkPolicy selects the pod");
			cJSON_AddArrayToObject(d, "entries");
			continue;
		}
		cJSON_AddStringToObject(d, "default", "deny");
		{
			const cJSON *set = ctl_set(c->n, P);

			if (set)
				cJSON_AddItemToObject(
				    d, "selectedBy",
				    cJSON_Duplicate(cJSON_GetObjectItem(set, "policies"), 1));
		}
		rows = cJSON_AddArrayToObject(d, "entries");
		for (size_t i = 0; i < c->e->np; i++) {
			cJSON *peer;

			if (c->e->pk[i].pol != P || c->e->pk[i].dir != dir)
				continue;
			peer = ident_peer(c, c->e->pk[i].identity);
			port_rows(c, rows, peer, c->e->pv[i].portset, dir);
			cJSON_Delete(peer);
		}
		for (size_t i = 0; i < c->e->nc; i++) {
			const struct sl_cidr_key *k = &c->e->ck[i];
			cJSON *peer;

			if (k->pol != P || k->dir != dir)
				continue;
			peer = cJSON_CreateObject();
			cJSON_AddStringToObject(peer, "kind", "cidr");
			cJSON_AddStringToObject(peer, "cidr",
						ctl_prefix_str(&k->addr,
							       k->prefixlen - SL_CIDR_PREFIX_BASE,
							       buf, sizeof(buf)));
			port_rows(c, rows, peer, c->e->cv[i].portset, dir);
			cJSON_Delete(peer);
		}
	}
	return o;
}

static const char *peer_str(const struct ctx *c, const cJSON *p, char *buf, size_t len)
{
	const cJSON *a;
	size_t off;

	if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "kind")) ?: "", "cidr")) {
		snprintf(buf, len, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(p, "cidr")));
		return buf;
	}
	ctl_ident_str(c->n, (__u32)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "identity")), buf,
		      len);
	off = strlen(buf);
	a = cJSON_GetObjectItem(p, "addresses");
	if (cJSON_GetArraySize(a) && off < len) {
		const cJSON *x;
		bool first = true;

		off += (size_t)snprintf(buf + off, len - off, " [");
		cJSON_ArrayForEach (x, a) {
			if (off >= len)
				break;
			off += (size_t)snprintf(buf + off, len - off, "%s%s", first ? "" : " ",
						cJSON_GetStringValue(x));
			first = false;
		}
		if (off < len)
			snprintf(buf + off, len - off, "]");
	}
	return buf;
}

static void print_text(const struct ctx *c, const cJSON *eps)
{
	const cJSON *e, *r;

	cJSON_ArrayForEach (e, eps) {
		for (int dir = SL_DIR_INGRESS; dir >= SL_DIR_EGRESS; dir--) {
			const char *dn = dir ? "ingress" : "egress";
			const cJSON *d = cJSON_GetObjectItem(e, dn), *sel;
			char sets[512] = "", pb[400], rb[300];

			sel = cJSON_GetObjectItem(d, "selectedBy");
			if (sel) {
				const cJSON *x;
				size_t off = 0;

				cJSON_ArrayForEach (x, sel)
					if (off < sizeof(sets))
						off += (size_t)snprintf(
						    sets + off, sizeof(sets) - off, "%s%s",
						    off ? ", " : "", cJSON_GetStringValue(x));
			}
			printf("%s (%s) %s: ",
			       cJSON_GetStringValue(cJSON_GetObjectItem(e, "pod")) ?: "?",
			       cJSON_GetStringValue(cJSON_GetObjectItem(e, "ip")), dn);
			if (cJSON_GetObjectItem(d, "why")) {
				printf("%s: %s\n",
				       cJSON_GetStringValue(cJSON_GetObjectItem(d, "default")),
				       cJSON_GetStringValue(cJSON_GetObjectItem(d, "why")));
				continue;
			}
			printf("policy set %.0f, selected by %s\n",
			       cJSON_GetNumberValue(cJSON_GetObjectItem(d, "policySet")),
			       sets[0] ? sets : "(names unknown)");
			printf("  %-40s %-5s %-11s %-7s %-34s %8s %10s\n", "PEER", "PROTO", "PORTS",
			       "VERDICT", "POLICY RULE", "PACKETS", "BYTES");
			cJSON_ArrayForEach (r, cJSON_GetObjectItem(d, "entries")) {
				__u32 rule =
				    (__u32)cJSON_GetNumberValue(cJSON_GetObjectItem(r, "rule"));

				char pk[24] = "-", by[24] = "-";

				if (rule) {
					snprintf(pk, sizeof(pk), "%.0f",
						 cJSON_GetNumberValue(
						     cJSON_GetObjectItem(r, "packets")));
					snprintf(
					    by, sizeof(by), "%.0f",
					    cJSON_GetNumberValue(cJSON_GetObjectItem(r, "bytes")));
				}
				printf("  %-40s %-5s %-11s %-7s %-34s %8s %10s\n",
				       peer_str(c, cJSON_GetObjectItem(r, "peer"), pb, sizeof(pb)),
				       cJSON_GetStringValue(cJSON_GetObjectItem(r, "protocol")),
				       cJSON_GetStringValue(cJSON_GetObjectItem(r, "ports")),
				       cJSON_GetStringValue(cJSON_GetObjectItem(r, "verdict")),
				       rule ? ctl_rule_str(c->n, rule, rb, sizeof(rb)) : "(except)",
				       pk, by);
			}
			printf("  %-40s %-5s %-11s %-7s %s\n", "anything else", "", "", "deny",
			       "(default deny)");
		}
	}
}

static int do_get(int argc, char **argv)
{
	struct ctl_ids idents = {0}, rules = {0}, sets = {0};
	struct sl_addr only, k, *prev = NULL;
	struct sl_endpoint ep;
	struct sl_dp_maps m;
	struct ctl_names n;
	struct ents e = {0};
	struct ctx c;
	cJSON *eps;
	char **pos;
	bool local;
	int npos, rc;

	rc = ctl_getopt(argc, argv, "policy get", "NS/POD|IP | --all", NULL, NULL, NULL, NULL, &pos,
			&npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos > 1 || (npos == 1) == ctl.all)
		return ctl_usage("policy get", "expected one NS/POD or IP, or --all");
	rc = ctl_maps_open(&m, "policy get");
	if (rc)
		return rc;
	if (ents_read(&m, &e)) {
		rc = ctl_fail("policy get", "reading the policy maps: %s", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < e.np; i++) {
		ctl_ids_add(&idents, e.pk[i].identity);
		ctl_ids_add(&sets, e.pk[i].pol);
	}
	for (size_t i = 0; i < e.nc; i++)
		ctl_ids_add(&sets, e.ck[i].pol);
	for (size_t i = 0; i < e.ns; i++)
		ctl_ids_add(&rules, e.sv[i].rule);
	ctl_names_load(&n, &idents, &rules, &sets);
	c = (struct ctx){.m = &m, .e = &e, .n = &n};
	if (npos) {
		rc = ctl_resolve(&m, &n, "policy get", pos[0], &only, &ep, &local);
		if (!rc && !local)
			rc = ctl_fail("policy get", "%s: not an endpoint of this node", pos[0]);
		if (rc)
			goto out_names;
	}
	ctl_names_note(&n);
	eps = cJSON_CreateArray();
	while (!bpf_map_get_next_key(m.endpoints, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(m.endpoints, &k, &ep) || !(ep.flags & SL_EP_F_LOCAL))
			continue;
		if (npos && memcmp(&k, &only, sizeof(k)))
			continue;
		cJSON_AddItemToArray(eps, endpoint_policy(&c, &k, &ep));
	}
	{
		static const char *const keys[] = {"pod", "id", NULL};

		ctl_sort(eps, keys);
	}
	if (ctl_machine())
		ctl_emit(npos ? cJSON_GetArrayItem(eps, 0) : eps);
	else
		print_text(&c, eps);
	cJSON_Delete(eps);
	rc = CTL_OK;
out_names:
	ctl_names_free(&n);
out:
	ents_free(&e);
	ctl_ids_free(&idents);
	ctl_ids_free(&rules);
	ctl_ids_free(&sets);
	sl_dp_maps_close(&m);
	return rc;
}

static const struct ctl_cmd cmds[] = {
    {"get", do_get, "NS/POD|IP | --all", "the policy map entries of one endpoint, or of all"},
    {0},
};

int ctl_do_policy(int argc, char **argv)
{
	return ctl_dispatch(cmds, "policy", argc, argv);
}
