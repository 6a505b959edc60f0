/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * topo.h - a test cluster: one compiler (this node), the store its deltas are applied to, and
 * the same objects decoded again for the reference evaluator. Objects are given as JSON, in
 * which ' stands for ".
 */
#ifndef SL_TEST_TOPO_H
#define SL_TEST_TOPO_H

#include "harness.h"

struct tobj {
	int kind; /* 0 pod, 1 namespace, 2 netpol, 3 node */
	char *ns, *name, *json;
};

struct topo {
	struct sl_policy *p;
	struct sl_policy_config cfg;
	struct store store;
	struct ref_model m;
	struct tobj *objs;
	size_t n_objs;
	int check_phases;   /* verify that phase 1 changes no verdict and phase 2 gives the new ones
			     */
	int fail_closed_ok; /* small capacities: a verdict may deny what the evaluator allows
			       (fail closed), never the reverse; no comparison with a full compile
			     */
	int model_fresh;    /* m matches objs */
	int failures;	    /* verdict mismatches found by topo_sync's phase checks */
	char first_failure[256];
};

void topo_init(struct topo *t, const char *node);
void topo_init_cfg(struct topo *t, const struct sl_policy_config *cfg);
void topo_fini(struct topo *t);
/* The upstream e2e topology (and z/d, whose serve-80-tcp is 8080; node n1 is 192.168.0.1). */
void topo_e2e(struct topo *t);
void topo_pod(struct topo *t, const char *json);
void topo_ns(struct topo *t, const char *json);
void topo_policy(struct topo *t, const char *json);
void topo_node(struct topo *t, const char *json);
void topo_del(struct topo *t, int kind, const char *ns, const char *name);
/* Take the compiler's delta and apply it to the store (phase by phase when check_phases). */
void topo_sync(struct topo *t);
/* from -> to ("ns/name") on proto/port: sender's egress (if local) and receiver's ingress (if
 * local), compiled (ref false) or by the reference evaluator */
bool topo_conn(struct topo *t, const char *from, const char *to, int proto, int port, bool ref);
bool topo_probe(struct topo *t, const char *ep, int dir, const char *addr, int proto, int port,
		bool ref);
/* A fresh compiler fed the same objects gives the same entry counts and verdicts; the store
 * equals this compiler's snapshot; verdicts match the evaluator. */
bool topo_check_full(struct topo *t, char *why, size_t len);
/* Compare every local endpoint x peer x port with the evaluator; mismatches counted. */
int topo_check_ref(struct topo *t, char *why, size_t len);

#endif /* SL_TEST_TOPO_H */
