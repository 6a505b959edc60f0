/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * harness.h - test support for the policy compiler: a map store that applies deltas phase by
 * phase and answers lookups exactly as the datapath does (hash + longest prefix match, from the
 * sl_abi.h comment), and a reference evaluator written from the NetworkPolicy API
 * documentation that shares no code with the compiler.
 */
#ifndef SL_TEST_HARNESS_H
#define SL_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_policy.h"

/* ---- the datapath's maps ---- */

struct store_ep {
	char *ns, *name;
	__u32 pol[SL_DIR_MAX];
	__u32 identity, flags;
};

struct store {
	struct sl_ident_ent *ident;
	size_t n_ident, cap_ident;
	struct sl_peer_ent *peer;
	size_t n_peer, cap_peer;
	struct sl_cidr_ent *cidr;
	size_t n_cidr, cap_cidr;
	struct sl_ports_ent *ports;
	size_t n_ports, cap_ports;
	struct store_ep *eps;
	size_t n_eps, cap_eps;
	/* protocol violations seen while applying: an add of a key that exists, a delete of a key
	 * that does not, a phase-1 entry pointing at a portset that is not there */
	int violations;
	char last_violation[200];
};

void store_init(struct store *s);
void store_fini(struct store *s);
/* phase 1, 2 or 3 of d; 0 = all three */
void store_apply(struct store *s, const struct sl_delta *d, int phase);
/* Lookup as the datapath: is a packet allowed for endpoint ns/name in direction dir with peer
 * address a, protocol proto and destination port? (host peers and open directions pass) */
bool store_allows(const struct store *s, const char *ns, const char *name, int dir,
		  const struct sl_addr *a, int proto, int port);
bool store_has_ep(const struct store *s, const char *ns, const char *name);
/* Same entries (and endpoint values) in both? Writes the first difference to why. */
bool store_equal(const struct store *a, const struct store *b, char *why, size_t len);

/* ---- the model, for the evaluator ---- */

struct ref_model {
	struct sl_pod **pods;
	size_t n_pods;
	struct sl_namespace **nss;
	size_t n_nss;
	struct sl_netpol **pols;
	size_t n_pols;
};

/* Reference: does the policy of pod x (endpoint) allow traffic in direction dir with peer
 * (peer pod or NULL for a non-pod address) at address a, proto, port? */
bool ref_allows(const struct ref_model *m, const struct sl_pod *x, int dir,
		const struct sl_pod *peer, const struct sl_addr *a, int proto, int port);
bool ref_pod_live(const struct sl_pod *p);

#endif /* SL_TEST_HARNESS_H */
