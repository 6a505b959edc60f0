// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_explain.c - sluicectl explain FROM TO PORT[/PROTO]: the verdict the live maps give a new
 * flow, looked up exactly as the datapath does (the sender's egress, then the receiver's
 * ingress, each for a pod of this node), and why: the NetworkPolicy rule that allows it, or the
 * policies that select the pod so that default deny applies. The same question is put to the
 * agent's compiler model (the explain op); a disagreement is an error (exit 4), never hidden.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ctl.h"
#include "reasons.h"

struct side {
	bool local;
	const char *name; /* as given */
	char pod[300];	  /* ns/pod, or the address */
	struct sl_addr addr;
	struct sl_endpoint ep;
};

static const char *why_str(const struct ctl_names *n, const struct side *self,
			   const struct side *peer, unsigned dir, const struct ctl_verdict *v,
			   const char *port, char *buf, size_t len)
{
	char rb[300], ib[300];

	switch (v->reason) {
	case SL_FWD_NO_POLICY:
		snprintf(buf, len, "no NetworkPolicy selects %s for %s", self->pod,
			 sl_dir_name(dir));
		break;
	case SL_FWD_HOST:
		snprintf(buf, len,
			 "from the node's own address (kubelet probes are always allowed)");
		break;
	case SL_FWD_POLICY:
		snprintf(buf, len, "%s allows %s on %s", ctl_rule_str(n, v->rule, rb, sizeof(rb)),
			 ctl_ident_str(n, v->peer_id, ib, sizeof(ib)), port);
		break;
	case SL_DROP_POLICY_INVALID:
		snprintf(buf, len, "%s's policy failed to compile: deny all (see sluicectl status)",
			 self->pod);
		break;
	default:
		snprintf(buf, len,
			 "default deny: %s is selected for %s by %s, and no rule allows "
			 "%s (%s) on %s",
			 self->pod, sl_dir_name(dir), ctl_set_str(n, v->pol, rb, sizeof(rb)),
			 peer->pod, ctl_ident_str(n, v->peer_id, ib, sizeof(ib)), port);
	}
	return buf;
}

/* The agent's answer for direction dir, or NULL. */
static const cJSON *model_dir(const cJSON *model, unsigned dir)
{
	const cJSON *d;

	cJSON_ArrayForEach (d, cJSON_GetObjectItem(model, "directions")) {
		const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(d, "direction"));

		if (s && !strcmp(s, sl_dir_name(dir)))
			return d;
	}
	return NULL;
}

int ctl_do_explain(int argc, char **argv)
{
	struct ctl_ids idents = {0}, rules = {0}, sets = {0};
	struct side side[2] = {0}; /* from, to */
	struct ctl_verdict v[SL_DIR_MAX];
	bool have[SL_DIR_MAX] = {false, false};
	struct sl_dp_maps m;
	struct ctl_names n;
	cJSON *doc, *dirs, *model = NULL, *req, *mism;
	char **pos, port[32], pb[16], buf[1024], a0[64], a1[64];
	unsigned proto, dport;
	bool allowed = true, checked = false;
	const char *model_why = NULL;
	int npos, rc;

	rc = ctl_getopt(argc, argv, "explain", "NS/FROM|IP NS/TO|IP PORT[/PROTO]", NULL, NULL, NULL,
			NULL, &pos, &npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos != 3)
		return ctl_usage("explain", "expected FROM TO PORT[/PROTO] (e.g. x/a x/b 80/tcp)");
	if (ctl_parse_port(pos[2], &proto, &dport))
		return ctl_usage("explain", "'%s': not PORT[/tcp|udp|sctp] or icmp", pos[2]);
	if (proto == IPPROTO_ICMP)
		snprintf(port, sizeof(port), "icmp");
	else
		snprintf(port, sizeof(port), "%s/%u", ctl_proto_name(proto, pb, sizeof(pb)), dport);
	rc = ctl_maps_open(&m, "explain");
	if (rc)
		return rc;
	ctl_names_load(&n, NULL, NULL, NULL);
	for (int i = 0; i < 2; i++) {
		side[i].name = pos[i];
		rc = ctl_resolve(&m, &n, "explain", pos[i], &side[i].addr, &side[i].ep,
				 &side[i].local);
		if (rc)
			goto out_names;
		if (!ctl_pod_of(&n, &side[i].addr, side[i].pod, sizeof(side[i].pod)))
			ctl_addr_str(&side[i].addr, side[i].pod, sizeof(side[i].pod));
	}
	if (!side[0].local && !side[1].local) {
		rc = ctl_fail("explain",
			      "neither %s nor %s is a pod of this node: run it against "
			      "either one's node",
			      pos[0], pos[1]);
		goto out_names;
	}
	/* The datapath's order: the sender's egress, then the receiver's ingress. */
	for (unsigned dir = 0; dir < SL_DIR_MAX; dir++) {
		struct side *self = &side[dir == SL_DIR_EGRESS ? 0 : 1];
		struct side *peer = &side[dir == SL_DIR_EGRESS ? 1 : 0];

		if (!self->local)
			continue;
		rc = ctl_lookup(&m, &self->ep, dir, &peer->addr, proto, dport, &v[dir]);
		if (rc) {
			rc = ctl_fail("explain", "policy lookup: %s", strerror(-rc));
			goto out_names;
		}
		have[dir] = true;
		ctl_ids_add(&idents, v[dir].peer_id);
		ctl_ids_add(&rules, v[dir].rule);
		ctl_ids_add(&sets, v[dir].pol);
	}
	ctl_names_free(&n);
	ctl_names_load(&n, &idents, &rules, &sets);

	/* The compiler model's view, from the agent. */
	ctl_addr_str(&side[0].addr, a0, sizeof(a0));
	ctl_addr_str(&side[1].addr, a1, sizeof(a1));
	req = ctl_req("explain");
	if (req) {
		cJSON_AddStringToObject(req, "src", a0);
		cJSON_AddStringToObject(req, "dst", a1);
		cJSON_AddNumberToObject(req, "proto", proto);
		cJSON_AddNumberToObject(req, "port", dport);
	}
	if (ctl_call(req, &model)) {
		model_why = "agent not reachable";
	} else if (!cJSON_IsTrue(cJSON_GetObjectItem(model, "ok"))) {
		model_why = cJSON_GetStringValue(cJSON_GetObjectItem(model, "error")) ?: "?";
	} else {
		checked = true;
	}

	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "from", side[0].pod);
	cJSON_AddStringToObject(doc, "fromIP", a0);
	cJSON_AddStringToObject(doc, "to", side[1].pod);
	cJSON_AddStringToObject(doc, "toIP", a1);
	cJSON_AddStringToObject(doc, "protocol", ctl_proto_name(proto, pb, sizeof(pb)));
	cJSON_AddNumberToObject(doc, "port", dport);
	dirs = cJSON_AddArrayToObject(doc, "directions");
	mism = cJSON_CreateArray();
	for (unsigned dir = 0; dir < SL_DIR_MAX; dir++) {
		struct side *self = &side[dir == SL_DIR_EGRESS ? 0 : 1];
		struct side *peer = &side[dir == SL_DIR_EGRESS ? 1 : 0];
		const cJSON *md, *rule;
		cJSON *d;

		if (!have[dir]) {
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "direction", sl_dir_name(dir));
			cJSON_AddStringToObject(d, "pod", self->pod);
			cJSON_AddStringToObject(d, "verdict", "unknown");
			cJSON_AddStringToObject(d, "why",
						"not a pod of this node: its node decides");
			cJSON_AddItemToArray(dirs, d);
			continue;
		}
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "direction", sl_dir_name(dir));
		cJSON_AddStringToObject(d, "pod", self->pod);
		cJSON_AddStringToObject(d, "verdict",
					SL_REASON_IS_DROP(v[dir].reason) ? "deny" : "allow");
		cJSON_AddStringToObject(d, "reason", sl_reason_name(v[dir].reason));
		cJSON_AddNumberToObject(d, "policySet", v[dir].pol);
		cJSON_AddNumberToObject(d, "peerIdentity", v[dir].peer_id);
		cJSON_AddNumberToObject(d, "rule", v[dir].rule);
		rule = ctl_rule(&n, v[dir].rule);
		if (rule)
			cJSON_AddItemToObject(d, "policy", cJSON_Duplicate(rule, 1));
		if (ctl_set(&n, v[dir].pol))
			cJSON_AddItemToObject(
			    d, "selectedBy",
			    cJSON_Duplicate(
				cJSON_GetObjectItem(ctl_set(&n, v[dir].pol), "policies"), 1));
		cJSON_AddStringToObject(
		    d, "why", why_str(&n, self, peer, dir, &v[dir], port, buf, sizeof(buf)));
		if (SL_REASON_IS_DROP(v[dir].reason))
			allowed = false;
		md = checked ? model_dir(model, dir) : NULL;
		if (checked) {
			const char *mr = cJSON_GetStringValue(cJSON_GetObjectItem(md, "reason"));
			__u32 mrule = (__u32)cJSON_GetNumberValue(cJSON_GetObjectItem(md, "rule"));

			if (!md) {
				snprintf(buf, sizeof(buf), "%s: the model has no %s verdict for %s",
					 sl_dir_name(dir), sl_dir_name(dir), self->pod);
				cJSON_AddItemToArray(mism, cJSON_CreateString(buf));
			} else if (!mr || strcmp(mr, sl_reason_name(v[dir].reason)) ||
				   mrule != v[dir].rule) {
				snprintf(
				    buf, sizeof(buf),
				    "%s of %s: maps say %s (rule %u, set %u), model says %s "
				    "(rule %u, set %.0f)",
				    sl_dir_name(dir), self->pod, sl_reason_name(v[dir].reason),
				    v[dir].rule, v[dir].pol, mr ?: "?", mrule,
				    cJSON_GetNumberValue(cJSON_GetObjectItem(md, "policySet")));
				cJSON_AddItemToArray(mism, cJSON_CreateString(buf));
			}
			if (md)
				cJSON_AddItemToObject(d, "model", cJSON_Duplicate(md, 1));
		}
		cJSON_AddItemToArray(dirs, d);
	}
	cJSON_AddStringToObject(doc, "verdict", allowed ? "allow" : "deny");
	{
		cJSON *mo = cJSON_AddObjectToObject(doc, "modelCheck");

		cJSON_AddBoolToObject(mo, "checked", checked);
		cJSON_AddBoolToObject(mo, "agrees", checked && !cJSON_GetArraySize(mism));
		if (!checked)
			cJSON_AddStringToObject(mo, "why", model_why);
		cJSON_AddItemToObject(mo, "disagreements", mism);
	}
	if (ctl_machine()) {
		ctl_emit(doc);
	} else {
		const cJSON *d, *x;

		printf("%s (%s) -> %s (%s) %s: %s%s%s\n", side[0].pod, a0, side[1].pod, a1, port,
		       ctl_col(allowed ? "\033[1;32m" : "\033[1;31m"),
		       allowed ? "ALLOWED" : "DENIED", ctl_col("\033[0m"));
		cJSON_ArrayForEach (d, dirs)
			printf("  %-7s of %-20s %-7s %s\n",
			       cJSON_GetStringValue(cJSON_GetObjectItem(d, "direction")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(d, "pod")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(d, "verdict")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(d, "why")));
		if (!checked)
			printf("  model:  not checked (%s)\n", model_why);
		else if (!cJSON_GetArraySize(mism))
			printf("  model:  the agent's compiler model agrees\n");
		cJSON_ArrayForEach (x, mism)
			fprintf(stderr, "sluicectl explain: maps and model DISAGREE: %s\n",
				cJSON_GetStringValue(x));
	}
	rc = checked && cJSON_GetArraySize(mism) ? CTL_DISAGREE : allowed ? CTL_OK : CTL_DENIED;
	if (rc == CTL_DISAGREE && ctl_machine())
		fprintf(stderr, "sluicectl explain: the live maps and the agent's compiler model "
				"disagree\n");
	cJSON_Delete(doc);
out_names:
	cJSON_Delete(model);
	ctl_names_free(&n);
	ctl_ids_free(&idents);
	ctl_ids_free(&rules);
	ctl_ids_free(&sets);
	sl_dp_maps_close(&m);
	return rc;
}
