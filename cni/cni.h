/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cni.h - the types and functions shared by the files of the sluice CNI plugin (internal).
 *
 * Every function returns 0 or -errno; the ones that can fail for a reason the runtime must
 * see also fill a struct cni_error (CNI code + message naming what was wrong). Files:
 * main.c (protocol), conf.c, ipam.c, veth.c, netns.c, tc.c, agent.c, result.c, errors.c,
 * lock.c, cmd_*.c.
 */
#ifndef SL_CNI_H
#define SL_CNI_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

/* CNI error codes (SPEC.md "Error"), then ours (100+). */
enum cni_code {
	CNI_ERR_VERSION = 1,	    /* incompatible CNI version */
	CNI_ERR_UNSUPPORTED = 2,    /* unsupported field in network config */
	CNI_ERR_UNKNOWN_CTR = 3,    /* container unknown or does not exist */
	CNI_ERR_ENV = 4,	    /* invalid necessary environment variables */
	CNI_ERR_IO = 5,		    /* I/O failure */
	CNI_ERR_DECODE = 6,	    /* failed to decode content */
	CNI_ERR_CONFIG = 7,	    /* invalid network config */
	CNI_ERR_TRY_AGAIN = 11,	    /* try again later */
	CNI_ERR_NOT_AVAILABLE = 50, /* STATUS: cannot service ADD */
	SL_ERR_INTERNAL = 100,	    /* a system call or netlink request failed */
	SL_ERR_NETNS = 101,	    /* the container's netns could not be entered */
	SL_ERR_IPAM = 102,	    /* the IPAM plugin misbehaved (no address, bad output) */
	SL_ERR_DATAPATH = 103,	    /* attaching the pinned programs failed */
	SL_ERR_AGENT = 104,	    /* the agent refused the request */
	SL_ERR_DRIFT = 105,	    /* CHECK: the attachment differs from what ADD made */
	SL_ERR_EXISTS = 106,	    /* ADD: the interface or host veth already exists */
};

struct cni_error {
	int code;
	char msg[512];
	char details[1024];
};

/* errors.c */
/* Fill e (first error wins) and return -EINVAL-like err unchanged for chaining: returns err. */
int cni_err(struct cni_error *e, int err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cni_err_details(struct cni_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print {"cniVersion","code","msg","details"} to out. */
void cni_err_print(FILE *out, const char *cni_version, const struct cni_error *e);

/*
 * What the runtime gave us: env and stdin, kept behind a struct so tests can run commands
 * in-process. Empty env values are stored as NULL (libcni always sets all six variables).
 */
struct cni_args {
	const char *command;
	const char *container_id;
	const char *netns;
	const char *ifname;
	const char *args; /* CNI_ARGS: K=V;K=V */
	const char *path; /* CNI_PATH */
	const char *stdin_data;
	size_t stdin_len;
	FILE *out;	      /* where results go (stdout) */
	char *const *environ; /* the rest of the environment, passed to the IPAM plugin */
};

#define SL_CNI_VERSION_MAX "1.1.0"

/* conf.c: the request config, validated. */
struct sl_conf {
	cJSON *root;		 /* the whole request config as received (owned) */
	const char *cni_version; /* as given: echoed in every output */
	int ver;		 /* 10000 * major + 100 * minor + patch */
	const char *name;
	const cJSON *ipam; /* the "ipam" object */
	const char *ipam_type;
	const cJSON *prev_result;
	const cJSON *runtime_config;
	const cJSON *valid_attachments; /* GC */
	char state_dir[PATH_MAX];
	char bpffs[PATH_MAX];
	char log_file[PATH_MAX];
	char sock_path[PATH_MAX];
	int mtu; /* 0 = kernel default */
};

/* Parse a version "a.b.c" into 10000a+100b+c; -1 if malformed. */
int sl_version_parse(const char *s);
/* Is this cniVersion one we accept for configs? */
bool sl_version_supported(const char *s);
extern const char *const sl_supported_versions[];
/* Parse stdin into c; fills e. need_ipam: ADD/DEL/CHECK/GC need an ipam section. */
int sl_conf_parse(const char *data, size_t len, bool need_ipam, struct sl_conf *c,
		  struct cni_error *e);
void sl_conf_free(struct sl_conf *c);
/* Read KEY from CNI_ARGS ("K=V;K=V") into buf; 0, or -ENOENT. */
int sl_cni_arg(const char *args, const char *key, char *buf, size_t size);
/* Case-insensitive lookup in runtimeConfig (Go plugins match keys that way). */
const cJSON *sl_runtime_config(const struct sl_conf *c, const char *key);
/* Validate CNI_CONTAINERID and CNI_IFNAME like libcni (pkg/utils). */
int sl_validate_container_id(const char *id, struct cni_error *e);
int sl_validate_ifname(const char *name, struct cni_error *e);

/* ipam.c: one IPv4 allocation as returned by the IPAM plugin. */
struct sl_ipam_route {
	char dst[48]; /* CIDR */
};
struct sl_ipam_result {
	char ip[16]; /* dotted quad */
	int prefix;  /* as the IPAM plugin gave it (we configure a /32) */
	struct sl_ipam_route routes[16];
	int nroutes;
	cJSON *dns;    /* copy of the plugin's "dns", or NULL */
	bool reserved; /* the plugin's ADD succeeded, even if its output was unusable */
};

/* Run the IPAM plugin with command cmd ("ADD", "DEL", "CHECK", "GC", "STATUS"). On ADD fills
 * res (may be NULL otherwise). container_id/ifname/netns override the args (GC, DEL of stale
 * attachments); stdin_conf overrides the config sent (GC). */
#define SL_IPAM_TIMEOUT_MS 60000 /* a hung IPAM plugin is killed after this */
struct sl_ipam_call {
	const char *cmd;
	const char *container_id;
	const char *ifname;
	const char *netns;
	const cJSON *conf; /* the full config to send; its cniVersion is replaced */
};
int sl_ipam_exec(const struct cni_args *a, const struct sl_conf *c, const struct sl_ipam_call *call,
		 struct sl_ipam_result *res, struct cni_error *e);
/* The same in two steps, so that the caller works while the plugin runs: start it, then take
 * its answer. A started job must be finished (it is waited for). */
struct sl_ipam_job {
	pid_t pid;
	int fd; /* its stdout */
	long long deadline;
	const char *cmd, *type;
};
int sl_ipam_start(const struct cni_args *a, const struct sl_conf *c,
		  const struct sl_ipam_call *call, struct sl_ipam_job *j, struct cni_error *e);
int sl_ipam_finish(struct sl_ipam_job *j, const struct sl_conf *c, struct sl_ipam_result *res,
		   struct cni_error *e);
/* The highest version the IPAM plugin's VERSION lists (among ours), in *ver. */
int sl_ipam_version(const struct cni_args *a, const struct sl_conf *c, int *ver,
		    struct cni_error *e);
void sl_ipam_result_free(struct sl_ipam_result *r);

/* netns.c */
/* Open a netns path (O_RDONLY|O_CLOEXEC) and check it is a network namespace. */
int sl_netns_open(const char *path);
/* Run fn(arg) in the netns of nsfd, on a short-lived thread; returns fn's result. */
int sl_netns_run(int nsfd, int (*fn)(void *), void *arg);

/* veth.c: host name, creation, configuration and checks, through libnl-route-3. */
#define SL_VETH_PREFIX	     "sl"
#define SL_VETH_ALIAS_PREFIX "sluice "
struct nl_sock;
struct sl_veth {
	char host_name[16];
	int host_ifindex;
	unsigned char host_mac[6];
	int pod_ifindex; /* in the netns */
	unsigned char pod_mac[6];
};
/* "sl" + 12 hex of a hash of containerID and ifname: stable, <= 15 chars. */
void sl_veth_name(const char *container_id, const char *ifname, char out[16]);
/* A netlink route socket in the current netns, or (nsfd >= 0) in that netns. */
int sl_nl_open(int nsfd, struct nl_sock **out);
void sl_nl_close(struct nl_sock *sk);
/* Neither the host veth nor CNI_IFNAME in the pod exists yet: 0 or -EEXIST (e filled). */
int sl_veth_check_free(struct nl_sock *host, struct nl_sock *pod, const char *host_name,
		       const char *ifname, struct cni_error *e);
int sl_veth_create(struct nl_sock *host, struct nl_sock *pod, int nsfd, const char *ifname,
		   const char *alias, int mtu, struct sl_veth *v, struct cni_error *e);
int sl_veth_setup_pod(struct nl_sock *pod, const struct sl_veth *v, const char *ifname,
		      const char *ip, const struct sl_ipam_result *r, struct cni_error *e);
int sl_veth_setup_host(struct nl_sock *host, const struct sl_veth *v, const char *ip,
		       struct cni_error *e);
int sl_veth_set_up(struct nl_sock *sk, int ifindex, const char *what, struct cni_error *e);
/* Delete a link by name; 0 when it is already gone. */
int sl_link_del(struct nl_sock *sk, const char *name);
/* Find a link: 0 and fills ifindex/mac/up/kind, or -ENODEV. */
struct sl_link_info {
	int ifindex;
	unsigned char mac[6];
	bool up;
	char kind[16];
	char alias[128];
	int mtu;
};
int sl_link_get(struct nl_sock *sk, const char *name, struct sl_link_info *out);
/* Every link whose name starts with the prefix; cb may delete. */
int sl_link_foreach(struct nl_sock *sk, const char *prefix,
		    void (*cb)(const char *name, const struct sl_link_info *l, void *arg),
		    void *arg);
/* CHECK helpers; each returns 0 or -ENOENT with e naming what is missing or different. */
int sl_check_addr(struct nl_sock *sk, int ifindex, const char *ip, const char *where,
		  struct cni_error *e);
int sl_check_route(struct nl_sock *sk, const char *dst, int ifindex, const char *gw,
		   const char *where, struct cni_error *e);
int sl_check_neigh(struct nl_sock *sk, int ifindex, const char *ip, const unsigned char *mac,
		   const char *where, struct cni_error *e);
int sl_sysctl_write(const char *path, const char *value);
int sl_sysctl_read(const char *path, char *buf, size_t size);
void sl_mac_str(const unsigned char mac[6], char out[18]);

/* tc.c */
int sl_tc_attach_pinned(const char *bpffs, int ifindex, struct cni_error *e);
int sl_tc_check(const char *bpffs, int ifindex, const char *ifname, struct cni_error *e);

/* agent.c: the agent's local API. */
#define SL_AGENT_TIMEOUT_MS 15000
int sl_agent_request(const struct sl_conf *c, cJSON *req, cJSON **resp, int timeout_ms,
		     struct cni_error *e);
int sl_agent_endpoint_del(const struct sl_conf *c, const char *container_id, const char *ifname,
			  int timeout_ms, struct cni_error *e);

/* result.c */
struct sl_add_result {
	const struct sl_veth *veth;
	const char *ifname;
	const char *netns;
	const struct sl_ipam_result *ipam;
	int mtu;
};
cJSON *sl_result_build(const struct sl_conf *c, const struct sl_add_result *r);
/* The pod address (dotted quad) and MAC in prevResult's interface ifname; 0 or -ENOENT. */
int sl_prev_result_pod(const cJSON *prev, const char *ifname, char ip[16], char mac[18],
		       struct cni_error *e);

/* lock.c: ADD/DEL take the lock shared, GC exclusive (GC must not reap an ADD in flight). */
int sl_lock(const struct sl_conf *c, bool exclusive, struct cni_error *e);

/* Commands: 0 or -errno with e filled. */
int cmd_add(const struct cni_args *a, struct sl_conf *c, struct cni_error *e);
int cmd_del(const struct cni_args *a, struct sl_conf *c, struct cni_error *e);
int cmd_check(const struct cni_args *a, struct sl_conf *c, struct cni_error *e);
int cmd_gc(const struct cni_args *a, struct sl_conf *c, struct cni_error *e);
int cmd_status(const struct cni_args *a, struct sl_conf *c, struct cni_error *e);

/* main.c: run one command as the runtime asked; returns the process exit code. */
int sl_cni_run(const struct cni_args *a);

#endif
