/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_model.h - the policy compiler's view of Kubernetes objects (Pod, Namespace, NetworkPolicy,
 * Node), decoded from their JSON with the API server's defaults applied and validated like the
 * API server does. Pure data: no I/O.
 */
#ifndef SL_MODEL_H
#define SL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_abi.h"

struct cJSON;

/* A decode or validation error: "<field path>: <what is wrong>", e.g.
 * "spec.ingress[0].from[1].ipBlock.except[0]: must be a strict subset of cidr". */
struct sl_err {
	char msg[512];
};

struct sl_label {
	char *key;
	char *value;
};

/* Labels, sorted by key, keys unique. */
struct sl_labels {
	struct sl_label *v;
	size_t n;
};

enum sl_sel_op { SL_SEL_IN, SL_SEL_NOT_IN, SL_SEL_EXISTS, SL_SEL_DOES_NOT_EXIST };

struct sl_sel_req {
	char *key;
	enum sl_sel_op op;
	char **values;
	size_t n_values;
};

/* A LabelSelector: requirements ANDed; none = matches everything. */
struct sl_selector {
	struct sl_sel_req *reqs;
	size_t n;
};

/* An address prefix over struct sl_addr (IPv4 is v4-mapped: a /n is a /(96+n)). */
struct sl_prefix {
	struct sl_addr addr; /* host bits cleared */
	uint8_t len;	     /* 0..128 */
	uint8_t v6;	     /* written as an IPv6 CIDR */
};

struct sl_port_spec {
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	bool has_port; /* false: every port of proto */
	char *name;    /* named port (then port/end_port are 0) */
	uint16_t port; /* numeric port, and end of range (== port without endPort) */
	uint16_t end_port;
};

enum sl_peer_kind { SL_PEER_SELECTOR, SL_PEER_IPBLOCK };

struct sl_peer {
	enum sl_peer_kind kind;
	bool has_pod_sel; /* absent podSelector: every pod of the selected namespaces */
	bool has_ns_sel;  /* absent namespaceSelector: the policy's own namespace */
	struct sl_selector pod_sel;
	struct sl_selector ns_sel;
	struct sl_prefix cidr;
	struct sl_prefix *except;
	size_t n_except;
};

struct sl_rule {
	struct sl_peer *peers; /* none: every peer */
	size_t n_peers;
	struct sl_port_spec *ports; /* none: every port and protocol */
	size_t n_ports;
};

struct sl_netpol {
	char *ns;
	char *name;
	char *uid;
	/* Invalid policies keep what could be read of podSelector and policyTypes and isolate the
	 * pods they select in those directions with no rules (fail closed); error says why. */
	bool valid;
	char *error;
	struct sl_selector pod_sel;
	bool types[SL_DIR_MAX];		   /* policyTypes, defaulted */
	struct sl_rule *rules[SL_DIR_MAX]; /* egress rules, ingress rules */
	size_t n_rules[SL_DIR_MAX];
};

struct sl_cport {
	char *name; /* NULL if unnamed */
	uint16_t port;
	uint8_t proto;
};

enum sl_phase {
	SL_PHASE_PENDING,
	SL_PHASE_RUNNING,
	SL_PHASE_SUCCEEDED,
	SL_PHASE_FAILED,
	SL_PHASE_UNKNOWN
};

struct sl_pod {
	char *ns;
	char *name;
	char *uid;
	char *node; /* spec.nodeName, NULL if unscheduled */
	struct sl_labels labels;
	struct sl_addr *ips; /* status.podIPs (or podIP) */
	size_t n_ips;
	struct sl_cport *cports; /* every container's ports */
	size_t n_cports;
	enum sl_phase phase;
	bool host_network;
};

struct sl_namespace {
	char *name;
	struct sl_labels labels;
};

struct sl_node {
	char *name;
	struct sl_addr *addrs; /* status.addresses InternalIP and ExternalIP */
	size_t n_addrs;
	struct sl_prefix *pod_cidrs;
	size_t n_pod_cidrs;
};

/*
 * Decoders: 0 and a new object in *out, or -EINVAL with err filled. A NetworkPolicy whose
 * metadata can be read but whose spec is invalid decodes to 0 with (*out)->valid == false and
 * (*out)->error set: the caller must still hand it to the compiler so that it fails closed.
 */
int sl_decode_pod(const struct cJSON *j, struct sl_pod **out, struct sl_err *err);
int sl_decode_namespace(const struct cJSON *j, struct sl_namespace **out, struct sl_err *err);
int sl_decode_netpol(const struct cJSON *j, struct sl_netpol **out, struct sl_err *err);
int sl_decode_node(const struct cJSON *j, struct sl_node **out, struct sl_err *err);
/* Same from JSON text. */
int sl_decode_pod_str(const char *s, struct sl_pod **out, struct sl_err *err);
int sl_decode_namespace_str(const char *s, struct sl_namespace **out, struct sl_err *err);
int sl_decode_netpol_str(const char *s, struct sl_netpol **out, struct sl_err *err);
int sl_decode_node_str(const char *s, struct sl_node **out, struct sl_err *err);

void sl_pod_free(struct sl_pod *p);
void sl_namespace_free(struct sl_namespace *n);
void sl_netpol_free(struct sl_netpol *np);
void sl_node_free(struct sl_node *n);
struct sl_pod *sl_pod_dup(const struct sl_pod *p);

/* Helpers shared by the compiler, its tests and the CLI. */
const char *sl_labels_get(const struct sl_labels *l, const char *key);
/* Sort by key; -EINVAL on a duplicate key. */
int sl_labels_sort(struct sl_labels *l);
void sl_labels_free(struct sl_labels *l);
int sl_labels_copy(struct sl_labels *dst, const struct sl_labels *src);
bool sl_selector_matches(const struct sl_selector *s, const struct sl_labels *l);
void sl_selector_free(struct sl_selector *s);

/* "10.1.2.3" or "fd00::1" -> v4-mapped/IPv6 address; 0 or -EINVAL. */
int sl_addr_parse(const char *s, struct sl_addr *a);
/* Into buf (at least 46 bytes); IPv4 printed dotted. */
const char *sl_addr_str(const struct sl_addr *a, char *buf, size_t len);
bool sl_addr_is_v4(const struct sl_addr *a);
/* "10.0.0.0/8": host bits cleared; 0 or -EINVAL. */
int sl_prefix_parse(const char *s, struct sl_prefix *p);
bool sl_prefix_contains(const struct sl_prefix *outer, const struct sl_prefix *inner);
bool sl_prefix_has_addr(const struct sl_prefix *p, const struct sl_addr *a);

#endif /* SL_MODEL_H */
