// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* flags.c - sluice-agent's command line: flags, subcommand, and the parsers of their values. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conflist_template.h"
#include "flags.h"

enum {
	OPT_NODE = 1000,
	OPT_KUBECONFIG,
	OPT_POD_CIDR,
	OPT_BPFFS,
	OPT_STATE_DIR,
	OPT_CNI_CONF_DIR,
	OPT_METRICS_ADDR,
	OPT_LOG_LEVEL,
	OPT_IPAM_DATA_DIR,
	OPT_CONFLIST_TEMPLATE,
	OPT_XNODE_FWD,
	OPT_HELP,
};

static const struct option long_opts[] = {
    {"node", required_argument, NULL, OPT_NODE},
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"pod-cidr", required_argument, NULL, OPT_POD_CIDR},
    {"bpffs", required_argument, NULL, OPT_BPFFS},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"cni-conf-dir", required_argument, NULL, OPT_CNI_CONF_DIR},
    {"metrics-addr", required_argument, NULL, OPT_METRICS_ADDR},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"ipam-data-dir", required_argument, NULL, OPT_IPAM_DATA_DIR},
    {"conflist-template", required_argument, NULL, OPT_CONFLIST_TEMPLATE},
    {"cross-node-forwarding", required_argument, NULL, OPT_XNODE_FWD},
    {"help", no_argument, NULL, OPT_HELP},
    {0},
};

void sl_config_usage(FILE *f, const char *prog)
{
	fprintf(
	    f,
	    "Usage: %s [FLAGS]\n"
	    "The Sluice node agent: loads and pins the tc datapath, serves the CNI's local API,\n"
	    "writes the CNI conflist once ready.\n"
	    "Subcommand: cleanup [--bpffs DIR] [--state-dir DIR] [--cni-conf-dir DIR]: uninstall:\n"
	    "remove the conflist, tc filters, routes, pins and state Sluice added on this node.\n\n"
	    "  --node NAME           this node's name (default: hostname)\n"
	    "  --kubeconfig PATH     Kubernetes mode with this kubeconfig (default: in-cluster\n"
	    "                        config when KUBERNETES_SERVICE_HOST is set; with neither:\n"
	    "                        standalone mode, routing and anti-spoofing only)\n"
	    "  --pod-cidr CIDR       this node's pod range (required in standalone mode)\n"
	    "  --bpffs DIR           bpffs root; pins live under DIR/v<ABI>/ (default %s)\n"
	    "  --state-dir DIR       socket and state (default %s)\n"
	    "  --cni-conf-dir DIR    where 10-sluice.conflist is written (default %s)\n"
	    "  --metrics-addr ADDR   /metrics /healthz /readyz listen address, [HOST]:PORT\n"
	    "                        (default %s; empty disables)\n"
	    "  --log-level LEVEL     error|warn|info|debug (default info)\n"
	    "  --ipam-data-dir DIR   host-local IPAM dataDir written into the conflist\n"
	    "  --conflist-template FILE\n"
	    "                        write this conflist (e.g. with chained plugins) instead,\n"
	    "                        its sluice plugin completed with stateDir, bpffs, ipam\n"
	    "  --cross-node-forwarding fib|stack\n"
	    "                        how pod traffic to other nodes leaves this one: fib =\n"
	    "                        bpf_fib_lookup and a redirect straight to the next hop,\n"
	    "                        stack = the host stack's routing (default %s)\n"
	    "  --help                this text\n\n"
	    "Exit status: 0 on SIGTERM/SIGINT, 1 on a runtime failure, 2 on bad usage.\n",
	    prog, SL_DEFAULT_BPFFS, SL_DEFAULT_STATE_DIR, SL_DEFAULT_CNI_CONF_DIR,
	    SL_DEFAULT_METRICS_ADDR, SL_DEFAULT_XNODE_FWD == SL_XNODE_FIB ? "fib" : "stack");
}

int sl_parse_cidr4(const char *s, struct sl_cidr4 *out, char *err, size_t errlen)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	unsigned long len;
	uint32_t addr, mask;

	if (!s || strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "not an IPv4 CIDR (a.b.c.d/n)");
		return -EINVAL;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash) {
		snprintf(err, errlen, "%s: missing /prefix length", s);
		return -EINVAL;
	}
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1) {
		snprintf(err, errlen, "%s: '%s' is not an IPv4 address", s, buf);
		return -EINVAL;
	}
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || slash[1] == '-' || slash[1] == '+' || len < 1 ||
	    len > 30) {
		snprintf(err, errlen, "%s: prefix length must be 1..30", s);
		return -EINVAL;
	}
	addr = ntohl(a.s_addr);
	mask = len ? ~0u << (32 - len) : 0;
	if (addr & ~mask) {
		snprintf(err, errlen, "%s: host bits set (did you mean %u.%u.%u.%u/%lu?)", s,
			 (addr & mask) >> 24, ((addr & mask) >> 16) & 255,
			 ((addr & mask) >> 8) & 255, (addr & mask) & 255, len);
		return -EINVAL;
	}
	out->addr = addr;
	out->len = (uint8_t)len;
	return 0;
}

bool sl_cidr4_contains(const struct sl_cidr4 *c, uint32_t addr_host)
{
	uint32_t mask = c->len ? ~0u << (32 - c->len) : 0;

	return (addr_host & mask) == c->addr;
}

int sl_parse_listen_addr(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *hs = s, *he;
	unsigned long p;
	char *end;

	if (s[0] == '[') {
		he = strchr(s, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		hs = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		he = colon;
	}
	if ((size_t)(he - hs) >= hostlen)
		return -EINVAL;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p < 1 || p > 65535 || colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	*port = (uint16_t)p;
	if (host[0]) {
		struct in6_addr a6;
		struct in_addr a4;

		if (inet_pton(AF_INET, host, &a4) != 1 && inet_pton(AF_INET6, host, &a6) != 1)
			return -EINVAL;
	}
	return 0;
}

static int set_path(char *dst, size_t dstlen, const char *v, const char *flag, char *err,
		    size_t errlen)
{
	if (!v[0] || v[0] != '/') {
		snprintf(err, errlen, "%s: '%s' must be an absolute path", flag, v);
		return -EINVAL;
	}
	if (strlen(v) >= dstlen - 64) { /* room for the names we append */
		snprintf(err, errlen, "%s: path too long", flag);
		return -EINVAL;
	}
	strcpy(dst, v);
	while (strlen(dst) > 1 && dst[strlen(dst) - 1] == '/')
		dst[strlen(dst) - 1] = '\0';
	return 0;
}

static bool valid_node_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.'))
			return false;
	}
	return true;
}

int sl_config_parse(struct sl_config *c, int argc, char **argv, char *err, size_t errlen)
{
	char host[128], why[160];
	const char *env;
	uint16_t port;
	int o, ret;

	memset(c, 0, sizeof(*c));
	strcpy(c->bpffs, SL_DEFAULT_BPFFS);
	strcpy(c->state_dir, SL_DEFAULT_STATE_DIR);
	strcpy(c->cni_conf_dir, SL_DEFAULT_CNI_CONF_DIR);
	strcpy(c->metrics_addr, SL_DEFAULT_METRICS_ADDR);
	c->log_level = SL_LOG_INFO;
	c->xnode_fwd = SL_DEFAULT_XNODE_FWD;
	env = getenv("KUBERNETES_SERVICE_HOST");
	c->in_cluster = env && env[0];

	if (argc > 1 && argv[1][0] != '-') {
		c->subcommand = argv[1];
		argc--;
		argv++;
	}
	optind = 0; /* full reset: tests parse several command lines */
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		ret = 0;
		switch (o) {
		case OPT_NODE:
			if (!valid_node_name(optarg)) {
				snprintf(err, errlen,
					 "--node: '%s' is not a valid node name (lowercase "
					 "letters, digits, '-', '.', 1..253 characters)",
					 optarg);
				return -EINVAL;
			}
			snprintf(c->node, sizeof(c->node), "%s", optarg);
			break;
		case OPT_KUBECONFIG:
			if (!optarg[0]) {
				snprintf(err, errlen, "--kubeconfig: empty path");
				return -EINVAL;
			}
			c->kubeconfig = optarg;
			break;
		case OPT_POD_CIDR:
			if (sl_parse_cidr4(optarg, &c->pod_cidr, why, sizeof(why))) {
				snprintf(err, errlen, "--pod-cidr: %s", why);
				return -EINVAL;
			}
			c->have_pod_cidr = true;
			snprintf(c->pod_cidr_str, sizeof(c->pod_cidr_str), "%u.%u.%u.%u/%u",
				 c->pod_cidr.addr >> 24, (c->pod_cidr.addr >> 16) & 255,
				 (c->pod_cidr.addr >> 8) & 255, c->pod_cidr.addr & 255,
				 c->pod_cidr.len);
			break;
		case OPT_BPFFS:
			ret = set_path(c->bpffs, sizeof(c->bpffs), optarg, "--bpffs", err, errlen);
			break;
		case OPT_STATE_DIR:
			ret = set_path(c->state_dir, sizeof(c->state_dir), optarg, "--state-dir",
				       err, errlen);
			if (!ret && strlen(c->state_dir) > 90) { /* sun_path is 108 bytes */
				snprintf(err, errlen,
					 "--state-dir: '%s' is too long for a Unix socket path "
					 "(at most 90 characters)",
					 optarg);
				ret = -EINVAL;
			}
			break;
		case OPT_CNI_CONF_DIR:
			ret = set_path(c->cni_conf_dir, sizeof(c->cni_conf_dir), optarg,
				       "--cni-conf-dir", err, errlen);
			break;
		case OPT_CONFLIST_TEMPLATE: {
			cJSON *t = sl_conflist_template_apply(optarg, NULL, why, sizeof(why));

			if (!t) {
				snprintf(err, errlen, "--conflist-template: %s", why);
				return -EINVAL;
			}
			cJSON_Delete(t);
			c->conflist_template = optarg;
			break;
		}
		case OPT_IPAM_DATA_DIR:
			ret = set_path(c->ipam_data_dir, sizeof(c->ipam_data_dir), optarg,
				       "--ipam-data-dir", err, errlen);
			break;
		case OPT_METRICS_ADDR:
			if (optarg[0] && sl_parse_listen_addr(optarg, host, sizeof(host), &port)) {
				snprintf(err, errlen,
					 "--metrics-addr: '%s' is not [HOST]:PORT (e.g. :9962, "
					 "127.0.0.1:9962, [::1]:9962; empty disables)",
					 optarg);
				return -EINVAL;
			}
			snprintf(c->metrics_addr, sizeof(c->metrics_addr), "%s", optarg);
			if (strlen(optarg) >= sizeof(c->metrics_addr)) {
				snprintf(err, errlen, "--metrics-addr: too long");
				return -EINVAL;
			}
			break;
		case OPT_LOG_LEVEL:
			if (sl_log_parse_level(optarg, &c->log_level)) {
				snprintf(err, errlen,
					 "--log-level: '%s' is not one of error, warn, info, debug",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_XNODE_FWD:
			if (!strcmp(optarg, "fib")) {
				c->xnode_fwd = SL_XNODE_FIB;
			} else if (!strcmp(optarg, "stack")) {
				c->xnode_fwd = SL_XNODE_STACK;
			} else {
				snprintf(err, errlen,
					 "--cross-node-forwarding: '%s' is not one of fib, stack",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_HELP:
			c->help = true;
			return 0;
		case ':':
			snprintf(err, errlen, "%s: missing value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "%s: unknown flag (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
		if (ret)
			return ret;
	}
	if (optind < argc) {
		snprintf(err, errlen, "'%s': unexpected argument (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (!c->node[0]) {
		if (gethostname(c->node, sizeof(c->node) - 1)) {
			snprintf(err, errlen, "--node: not given and gethostname failed: %s",
				 strerror(errno));
			return -EINVAL;
		}
		for (char *p = c->node; *p; p++) /* node names are lowercase */
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	if (!c->subcommand && sl_config_mode(c) == SL_MODE_STANDALONE && !c->have_pod_cidr) {
		snprintf(err, errlen,
			 "--pod-cidr: required in standalone mode (neither --kubeconfig nor "
			 "KUBERNETES_SERVICE_HOST is set)");
		return -EINVAL;
	}
	return 0;
}

enum sl_agent_mode_kind sl_config_mode(const struct sl_config *c)
{
	return (c->kubeconfig || c->in_cluster) ? SL_MODE_KUBERNETES : SL_MODE_STANDALONE;
}
