/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* flags.h - sluice-agent's command line: flags, subcommand, and the parsers of their values. */
#ifndef SL_AGENT_FLAGS_H
#define SL_AGENT_FLAGS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define SL_DEFAULT_BPFFS	"/sys/fs/bpf/sluice"
#define SL_DEFAULT_STATE_DIR	"/run/sluice"
#define SL_DEFAULT_CNI_CONF_DIR "/etc/cni/net.d"
#define SL_DEFAULT_METRICS_ADDR ":9962"

/* How a pod's packet for another node leaves this one (--cross-node-forwarding). */
enum sl_xnode_fwd {
	SL_XNODE_STACK, /* through the host stack's routing (ip_forward) */
	SL_XNODE_FIB,	/* bpf_fib_lookup + bpf_redirect(_neigh) straight to the next hop */
};
/* The measured faster one (bench/crossnode; bench/out/crossnode.txt). */
#define SL_DEFAULT_XNODE_FWD SL_XNODE_FIB

/* An IPv4 prefix; addr in host byte order, host bits zero. */
struct sl_cidr4 {
	uint32_t addr;
	uint8_t len;
};

struct sl_config {
	const char *subcommand; /* argv[1] when it does not start with '-'; NULL: run the agent */
	char node[256];
	const char *kubeconfig;
	bool in_cluster; /* KUBERNETES_SERVICE_HOST is set */
	bool have_pod_cidr;
	struct sl_cidr4 pod_cidr;
	char pod_cidr_str[24]; /* canonical a.b.c.d/n */
	char bpffs[PATH_MAX];
	char state_dir[PATH_MAX];
	char cni_conf_dir[PATH_MAX];
	char metrics_addr[128]; /* "" disables */
	char ipam_data_dir[PATH_MAX];
	const char *conflist_template; /* --conflist-template: a conflist file to complete */
	enum sl_log_level log_level;
	enum sl_xnode_fwd xnode_fwd;
	bool help;
};

enum sl_agent_mode_kind { SL_MODE_STANDALONE, SL_MODE_KUBERNETES };

/*
 * sl_config_parse - fill *c from argv (and KUBERNETES_SERVICE_HOST). On bad input returns
 * -EINVAL with a message naming the flag in err. Uses getopt_long (resets optind).
 */
int sl_config_parse(struct sl_config *c, int argc, char **argv, char *err, size_t errlen);
/* Mode chosen by the flags; standalone requires --pod-cidr (checked by sl_config_parse). */
enum sl_agent_mode_kind sl_config_mode(const struct sl_config *c);
void sl_config_usage(FILE *f, const char *prog);

/* "a.b.c.d/n", canonical (no host bits), n in 1..30. 0 or -EINVAL with a reason in err. */
int sl_parse_cidr4(const char *s, struct sl_cidr4 *out, char *err, size_t errlen);
bool sl_cidr4_contains(const struct sl_cidr4 *c, uint32_t addr_host);
/* "[host]:port", "host:port" or ":port". host empty = any. 0 or -EINVAL. */
int sl_parse_listen_addr(const char *s, char *host, size_t hostlen, uint16_t *port);

#endif
