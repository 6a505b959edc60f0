/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ctl.h - what sluicectl's command files share: options, command tables, output (text, JSON,
 * YAML), the agent's socket, the pinned maps read and decoded as the datapath reads them, and
 * names (pods, identities, NetworkPolicy rules) from the agent or, without it, the state file.
 */
#ifndef SL_CTL_H
#define SL_CTL_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "dp_maps.h"
#include "sl_abi.h"

/* Exit codes (docs/sluicectl.md). */
#define CTL_OK	     0 /* done; explain: allowed */
#define CTL_FAIL     1 /* could not do it (pins missing, agent error, not found) */
#define CTL_USAGE    2 /* bad command line */
#define CTL_DENIED   3 /* explain: the maps deny it */
#define CTL_DISAGREE 4 /* explain: the live maps and the agent's compiler model disagree */

enum ctl_fmt { CTL_TEXT, CTL_JSON, CTL_YAML };

struct ctl_opts {
	char bpffs[PATH_MAX];
	char state_dir[PATH_MAX];
	enum ctl_fmt fmt;
	bool all;
	bool color; /* stdout is a terminal and NO_COLOR is unset */
};
extern struct ctl_opts ctl;

struct ctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the command's own name */
	const char *usage;		  /* "NS/POD | --all" */
	const char *help;
};

/* Run the entry of cmds named argv[0] (argc >= 1 and argv[0] the family's name: what). */
int ctl_dispatch(const struct ctl_cmd *cmds, const char *what, int argc, char **argv);
void ctl_print_cmds(FILE *f, const char *prefix, const struct ctl_cmd *cmds);
/* "sluicectl WHAT: MSG" on stderr; return CTL_USAGE / CTL_FAIL. */
int ctl_usage(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ctl_fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * ctl_getopt - a command's options. lo: its own long options (val >= 256 or a letter in
 * shortopts), handled by cb (return 0, or an exit code to stop). The global options (-o, --all,
 * --bpffs, --state-dir, -h) are accepted here too. On return 0, *pos / *npos are the
 * positional arguments; -1 means --help was printed (exit 0); else an exit code.
 */
int ctl_getopt(int argc, char **argv, const char *what, const char *usage, const char *shortopts,
	       const struct option *lo, int (*cb)(int opt, const char *arg, void *ctx), void *ctx,
	       char ***pos, int *npos);
/* A global option: 0 handled, 1 not global, CTL_USAGE bad value. */
int ctl_global_opt(int opt, const char *arg);

/* Output: the document in the chosen machine format (JSON pretty, or YAML). */
void ctl_emit(const cJSON *doc);
void ctl_yaml(FILE *f, const cJSON *doc);
bool ctl_machine(void);
/* Sort an array of objects by the values of keys (NULL-terminated; numbers or strings). */
void ctl_sort(cJSON *arr, const char *const *keys);
/* ANSI colour around s when colour is on. */
const char *ctl_col(const char *code);

/* The agent. 0 with *resp (ok may be false), or -errno when no agent answers. req is taken. */
int ctl_call(cJSON *req, cJSON **resp);
cJSON *ctl_req(const char *op);
void ctl_sock_path(char *buf, size_t len);

/* Pins. */
void ctl_pin_path(char *buf, size_t len, const char *name);
/* Every map of struct sl_dp_maps from the pins; CTL_FAIL (message printed) or 0. */
int ctl_maps_open(struct sl_dp_maps *m, const char *what);
/* Entries now in a map (iterated), -errno on error. */
long ctl_map_count(int fd);
int ctl_percpu_sum(int fd, __u32 idx, struct sl_counter *out);

/* Decoding. */
void ctl_v4_addr(__be32 ip, struct sl_addr *a);
const char *ctl_addr_str(const struct sl_addr *a, char *buf, size_t len);
/* "10.0.0.0/8" (v4-mapped prefixes printed as IPv4) of addr/bits (bits over 128). */
const char *ctl_prefix_str(const struct sl_addr *a, unsigned bits, char *buf, size_t len);
const char *ctl_proto_name(unsigned proto, char *buf, size_t len);
/* "80/tcp", "tcp", "80" (tcp), "icmp": proto and host-order port (0 = none). CTL_USAGE on error. */
int ctl_parse_port(const char *s, unsigned *proto, unsigned *port);
/* What an sl_ports key admits: proto (0 = any), port range lo..hi (0..65535 = any). */
void ctl_ports_range(const struct sl_ports_key *k, unsigned *proto, unsigned *lo, unsigned *hi);

/* The datapath's policy decision for one direction (bpf/lib/policy.h), from the live maps. */
struct ctl_verdict {
	__u32 reason; /* SL_FWD_NO_POLICY / _POLICY / _HOST, SL_DROP_POLICY / _INVALID / _UNKNOWN_L4
		       */
	__u32 rule;
	__u32 pol;
	__u32 peer_id;
	__u32 portset; /* the portset that admitted it, 0 */
	bool via_cidr; /* admitted through sl_cidr (ipBlock / all peers), else sl_peer */
};
int ctl_lookup(const struct sl_dp_maps *m, const struct sl_endpoint *ep, unsigned dir,
	       const struct sl_addr *peer, unsigned proto, unsigned port, struct ctl_verdict *v);

/* Names. */
struct ctl_names {
	bool agent;    /* the agent answered endpoint_list */
	bool model;    /* the agent answered names (it has a compiler model) */
	cJSON *eps;    /* array of endpoint objects (agent or state file), never NULL after load */
	cJSON *names;  /* the names op's answer, or NULL */
	char why[256]; /* why names may be missing ("" when complete) */
};

/* A set of ids to ask the agent about. */
struct ctl_ids {
	__u32 *v;
	size_t n, cap;
};
/* true when id was not in s yet */
bool ctl_ids_add(struct ctl_ids *s, __u32 id);
void ctl_ids_free(struct ctl_ids *s);

/* Endpoints from the agent, else <state-dir>/endpoints.json; then the names of the ids given
 * (any may be NULL) from the agent's model. Never fails: what is missing is said in why. */
void ctl_names_load(struct ctl_names *n, const struct ctl_ids *idents, const struct ctl_ids *rules,
		    const struct ctl_ids *sets);
void ctl_names_free(struct ctl_names *n);
/* Print "sluicectl: note: ..." to stderr when names are incomplete (text output only). */
void ctl_names_note(const struct ctl_names *n);
/* The local endpoint object with this IPv4 address / ns/name, or NULL. */
const cJSON *ctl_ep_by_ip(const struct ctl_names *n, __be32 ip);
const cJSON *ctl_ep_by_name(const struct ctl_names *n, const char *ns, const char *name);
/* "ns/pod" of a local endpoint with this address into buf, or NULL. */
const char *ctl_pod_of(const struct ctl_names *n, const struct sl_addr *a, char *buf, size_t len);
/* names.identities[id] {"namespace","labels"}, names.rules[id] {"namespace","policy",
 * "direction","index"}, names.sets[id] {"direction","policies":[..]}; NULL when unknown. */
const cJSON *ctl_ident(const struct ctl_names *n, __u32 id);
const cJSON *ctl_rule(const struct ctl_names *n, __u32 id);
const cJSON *ctl_set(const struct ctl_names *n, __u32 id);
/* "x/allow-a ingress[0]" or "rule 7" */
const char *ctl_rule_str(const struct ctl_names *n, __u32 id, char *buf, size_t len);
/* "ns=x pod=a" / "world" / "host" / "identity 300" */
const char *ctl_ident_str(const struct ctl_names *n, __u32 id, char *buf, size_t len);
/* The comma-joined policies selecting set id, or "policy set N". */
const char *ctl_set_str(const struct ctl_names *n, __u32 id, char *buf, size_t len);

/* Resolve "NS/POD" (a local endpoint) or an IPv4 address into an address and, for a local
 * endpoint, its sl_endpoints value (*local). CTL_FAIL/CTL_USAGE (message printed) or 0. */
int ctl_resolve(const struct sl_dp_maps *m, const struct ctl_names *n, const char *what,
		const char *s, struct sl_addr *addr, struct sl_endpoint *ep, bool *local);

/* Families. */
int ctl_do_status(int argc, char **argv);
int ctl_do_endpoint(int argc, char **argv);
int ctl_do_policy(int argc, char **argv);
int ctl_do_ct(int argc, char **argv);
int ctl_do_counters(int argc, char **argv);
int ctl_do_monitor(int argc, char **argv);
int ctl_do_explain(int argc, char **argv);
int ctl_do_matrix(int argc, char **argv);

#endif /* SL_CTL_H */
