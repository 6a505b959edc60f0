/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_policy.h - the NetworkPolicy compiler's API: feed it model changes (sl_model.h objects),
 * take deltas of map entries in sl_abi.h layout, apply them in three phases. Pure library:
 * no I/O, no syscalls, not thread-safe (one caller at a time).
 *
 * Applying a delta (agent/dp_policy.c), in this order, each array in its order:
 *   phase 1  ports_add, cidr_add, peer_add        new entries, unreferenced until phase 2
 *   phase 2  ident_set, ident_del, eps            flip: sl_ident values, endpoint pol words
 *   phase 3  peer_del, cidr_del, ports_del        entries nothing references any more
 * A failure in phase 1 may be retried; the delta stays valid until the next take.
 */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_abi.h"
#include "sl_model.h"

struct sl_policy;

struct sl_policy_config {
	const char *node; /* this node's name: pods with spec.nodeName == node are endpoints */
	/* Map capacities (0: the SL_MAX_* default). Exceeding one fails the endpoints whose
	 * policy did not fit closed (SL_EP_F_POLICY_INVALID), with an error, never partially. */
	uint32_t max_ident, max_peer, max_cidr, max_ports;
	uint32_t max_rules;	  /* rule references: 1 .. max_rules-1 (sl_rule_stats size) */
	uint32_t max_set_entries; /* sl_peer + sl_cidr entries of one policy set (0: no limit) */
	/* First ids handed out (0: the defaults SL_IDENTITY_FIRST, 1, 1). A restarted agent
	 * starts above the ids its pinned maps hold, so no live entry changes meaning. */
	uint32_t first_ident, first_set, first_portset;
};

struct sl_ports_ent {
	struct sl_ports_key k;
	struct sl_ports_val v;
};
struct sl_peer_ent {
	struct sl_peer_key k;
	struct sl_portset_ref v;
};
struct sl_cidr_ent {
	struct sl_cidr_key k;
	struct sl_portset_ref v;
};
struct sl_ident_ent {
	struct sl_addr k;
	struct sl_ident_val v;
};

/* An endpoint (local pod) whose policy words changed. The agent owns ep_id, ifindex, MACs and
 * the pod's addresses; it copies pol[], identity and flags into its sl_endpoint values. */
struct sl_ep_update {
	char *ns;
	char *name;
	char *uid;
	__u32 pol[SL_DIR_MAX]; /* 0: no policy selects the pod in that direction (open) */
	__u32 identity;
	__u32 flags;  /* SL_EP_F_POLICY_INVALID when its policy failed to compile */
	bool removed; /* no longer an endpoint of this node (deleted, moved, finished) */
};

#define SL_VEC(type)           \
	struct {               \
		type *v;       \
		size_t n, cap; \
	}

struct sl_delta {
	SL_VEC(struct sl_ports_ent) ports_add; /* phase 1 */
	SL_VEC(struct sl_cidr_ent) cidr_add;
	SL_VEC(struct sl_peer_ent) peer_add;
	SL_VEC(struct sl_ident_ent) ident_set; /* phase 2 */
	SL_VEC(struct sl_addr) ident_del;
	SL_VEC(struct sl_ep_update) eps;
	SL_VEC(struct sl_peer_key) peer_del; /* phase 3 */
	SL_VEC(struct sl_cidr_key) cidr_del;
	SL_VEC(struct sl_ports_key) ports_del;
};

/* What a rule reference (sl_ports_val.rule, sl_event.rule, sl_rule_stats index) stands for. */
struct sl_rule_info {
	const char *ns;
	const char *name;
	enum sl_dir dir;
	int index; /* spec.ingress[index] or spec.egress[index] */
};

struct sl_policy_stats {
	size_t ident, peer, cidr, ports; /* entries the maps hold now */
	size_t identities, sets, portsets, endpoints, pods, policies;
	size_t overflows;	/* policy sets failed closed for lack of room */
	size_t ident_overflows; /* pod addresses left out of sl_ident (treated as world) */
	size_t inplace_updates; /* invariant: must stay 0 (no entry changes value in place) */
};

/* NULL and errno on failure. cfg is copied. */
struct sl_policy *sl_policy_new(const struct sl_policy_config *cfg);
void sl_policy_free(struct sl_policy *p);

/*
 * Model changes. The upserts take ownership of the object (also on failure) and replace the
 * object of the same namespace/name. An invalid NetworkPolicy (np->valid false) is accepted: it
 * isolates the pods it selects in its directions with no rules until it is fixed. 0 or -errno
 * (-ENOMEM only; after it the compiler must be freed).
 */
int sl_policy_upsert_pod(struct sl_policy *p, struct sl_pod *pod);
int sl_policy_delete_pod(struct sl_policy *p, const char *ns, const char *name);
/* The addresses CNI ADD gave a known pod, before its status.podIPs reaches the API server:
 * the same as upserting the stored pod with these addresses. -ENOENT if the pod is unknown
 * (its labels are, so its policy would be a guess: wait for the watch). An upsert replaces
 * the addresses again: merge before upserting a pod whose status has none yet. */
int sl_policy_set_pod_ips(struct sl_policy *p, const char *ns, const char *name,
			  const struct sl_addr *ips, size_t n);
int sl_policy_upsert_namespace(struct sl_policy *p, struct sl_namespace *n);
int sl_policy_delete_namespace(struct sl_policy *p, const char *name);
int sl_policy_upsert_netpol(struct sl_policy *p, struct sl_netpol *np);
int sl_policy_delete_netpol(struct sl_policy *p, const char *ns, const char *name);
int sl_policy_upsert_node(struct sl_policy *p, struct sl_node *n);
int sl_policy_delete_node(struct sl_policy *p, const char *name);

/* The entries to add/flip/remove since the last take (or since creation). d is overwritten;
 * free it with sl_delta_free. 0 or -ENOMEM. */
int sl_policy_take_delta(struct sl_policy *p, struct sl_delta *d);
/* Everything the maps should hold now, as a delta from empty maps (agent restart, tests). */
int sl_policy_snapshot(const struct sl_policy *p, struct sl_delta *d);
void sl_delta_free(struct sl_delta *d);
size_t sl_delta_size(const struct sl_delta *d);

/* Reverse maps, for drop events, counters and sluicectl explain. NULL/0 when unknown. */
const struct sl_rule_info *sl_policy_rule(const struct sl_policy *p, __u32 rule);
/* The policies (i = 0, 1, ...) that select the endpoints of policy set pol in its direction:
 * what "default deny" means for a drop with rule 0. NULL past the end. */
const struct sl_netpol *sl_policy_set_policy(const struct sl_policy *p, __u32 pol, size_t i,
					     enum sl_dir *dir);
/* An identity's namespace and labels; false if unknown. */
bool sl_policy_identity(const struct sl_policy *p, __u32 id, const char **ns,
			const struct sl_labels **labels);
/* The endpoint values of a local pod; -ENOENT if it is not an endpoint here. */
int sl_policy_endpoint(const struct sl_policy *p, const char *ns, const char *name,
		       struct sl_ep_update *out);
/* Current problems, one line each ("netpol x/deny: spec...: ...", "pod x/a: ingress policy
 * needs 70000 sl_peer entries, room for 65536: failing closed"); i = 0, 1, ... NULL past end.
 * i == 0 builds the list afresh; the strings live until the next call with i == 0. */
const char *sl_policy_error(struct sl_policy *p, size_t i);
void sl_policy_get_stats(const struct sl_policy *p, struct sl_policy_stats *s);

#endif /* SL_POLICY_H */
