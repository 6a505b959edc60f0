/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * rules_fill.c - write a benchmark policy set into a running datapath's pinned maps, and point
 * a pod's ingress policy at one, through agent/dp_policy (the agent's own map writer), so the
 * maps hold exactly what the agent would write for such a NetworkPolicy.
 *
 *   sl-bench-rules-fill PIN_DIR add POL N CLIENT_IP
 *   sl-bench-rules-fill PIN_DIR flip POL SERVER_IP
 *
 * add: policy set POL (ingress) gets N rules that do not match the benchmark's client, each
 * one /32 ipBlock peer (172.16.0.0/12, the i-th address after 172.16.0.0) with its own TCP
 * port (its own portset), plus one rule allowing CLIENT_IP/32 on every TCP port. Nothing
 * references the set until a flip. POL, portsets and rule references are chosen high
 * (SLB_POL_BASE..., see below) so they never meet the agent's own.
 * flip: SERVER_IP's endpoint gets pol[ingress] = POL (0: no policy), its egress word and
 * identity kept, in one map update.
 * PIN_DIR is the pin root the agent uses (<--bpffs>/v<SL_ABI_VERSION>).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "log.h"
#include "sl_abi.h"
#include "dp_maps.h"
#include "dp_policy.h"

#define SLB_POL_MIN	  0x7f000000u /* policy sets POL lie in [MIN, MIN + SPAN) */
#define SLB_POL_SPAN	  (1u << 16)
#define SLB_RULES_MAX	  20000	      /* N per set */
#define SLB_RULE_BASE	  30000	      /* rule j of every set: BASE + j (one set is active) */
#define SLB_PEER_NET	  0xac100000u /* 172.16.0.0: the non-matching peers */
#define SLB_PORT_BASE	  20000	      /* non-matching rule i allows TCP port BASE + i */
#define SLB_PORTSET_SHIFT 15	      /* portset = (POL - MIN + 1) << SHIFT | rule index */

struct ports_ent {
	struct sl_ports_key k;
	struct sl_ports_val v;
};

struct cidr_ent {
	struct sl_cidr_key k;
	struct sl_portset_ref v;
};

static void v4_mapped(struct sl_addr *a, __be32 ip)
{
	memset(a, 0, sizeof(*a));
	a->w[2] = htonl(0xffff);
	a->w[3] = ip;
}

static int parse_u32(const char *s, unsigned long max, __u32 *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_ip(const char *s, struct sl_addr *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	v4_mapped(a, in.s_addr);
	return 0;
}

/* Rule j of set pol (j = n: the client's rule): its portset and rule reference. */
static __u32 portset_of(__u32 pol, __u32 j)
{
	return ((pol - SLB_POL_MIN + 1) << SLB_PORTSET_SHIFT) | j;
}

static int fill(const struct sl_dp_maps *m, __u32 pol, __u32 n, const struct sl_addr *client)
{
	struct sl_dp_policy_update u = {};
	struct sl_dp_apply_stats st;
	struct ports_ent *ports;
	struct cidr_ent *cidr;
	__u32 j;
	int err;

	ports = calloc(n + 1, sizeof(*ports));
	cidr = calloc(n + 1, sizeof(*cidr));
	if (!ports || !cidr) {
		err = -ENOMEM;
		pr_err("policy set %#x: %u rules: %s", pol, n, strerror(-err));
		goto out;
	}
	for (j = 0; j <= n; j++) {
		struct cidr_ent *c = &cidr[j];
		struct ports_ent *p = &ports[j];

		c->k.prefixlen = SL_CIDR_PREFIX_BASE + 128;
		c->k.pol = pol;
		c->k.dir = SL_DIR_INGRESS;
		if (j < n)
			v4_mapped(&c->k.addr, htonl(SLB_PEER_NET + 1 + j));
		else
			c->k.addr = *client;
		c->v.portset = portset_of(pol, j);

		p->k.portset = htonl(c->v.portset);
		p->k.proto = IPPROTO_TCP;
		if (j < n) {
			p->k.prefixlen = SL_PORTS_PREFIX_FULL;
			p->k.port = htons(SLB_PORT_BASE + j);
		} else {
			p->k.prefixlen = SL_PORTS_PREFIX_PROTO;
		}
		p->v.rule = SLB_RULE_BASE + j;
	}
	u.ports_add = SL_DP_PAIRS(ports, n + 1, k, v);
	u.cidr_add = SL_DP_PAIRS(cidr, n + 1, k, v);
	err = sl_dp_policy_apply(m, &u, &st);
	if (!err)
		printf("policy set %#x: %zu entries added (%u rules + the client's)\n", pol,
		       st.added, n);
out:
	free(ports);
	free(cidr);
	return err;
}

static int flip(const struct sl_dp_maps *m, __u32 pol, const struct sl_addr *server)
{
	struct sl_dp_policy_update u = {};
	struct sl_dp_ep_flip f = {.addr = *server};
	struct sl_dp_apply_stats st;
	struct sl_endpoint ep;
	int err;

	if (bpf_map_lookup_elem(m->endpoints, server, &ep)) {
		err = -errno;
		pr_err("endpoint: lookup: %s", strerror(-err));
		return err;
	}
	memcpy(f.pol, ep.pol, sizeof(f.pol));
	f.pol[SL_DIR_INGRESS] = pol;
	f.identity = ep.identity;
	f.flags = ep.flags & SL_EP_F_POLICY_INVALID;
	u.eps = &f;
	u.n_eps = 1;
	err = sl_dp_policy_apply(m, &u, &st);
	if (err)
		return err;
	if (st.flipped != 1) {
		pr_err("endpoint: flip: not flipped (gone meanwhile?)");
		return -ENOENT;
	}
	printf("endpoint: ingress policy set %#x\n", pol);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sl-bench-rules-fill PIN_DIR add POL N CLIENT_IP\n"
		"       sl-bench-rules-fill PIN_DIR flip POL SERVER_IP\n"
		"POL: %#x .. %#x (flip: also 0); N: 0 .. %u\n",
		SLB_POL_MIN, SLB_POL_MIN + SLB_POL_SPAN - 1, SLB_RULES_MAX);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sl_dp_maps m;
	struct sl_addr addr;
	__u32 pol, n = 0;
	bool add;
	int err;

	if (argc < 5)
		usage();
	add = !strcmp(argv[2], "add");
	if ((!add && strcmp(argv[2], "flip")) || argc != (add ? 6 : 5)) {
		fprintf(stderr, "sl-bench-rules-fill: bad command '%s' or argument count\n",
			argv[2]);
		usage();
	}
	if (parse_u32(argv[3], UINT_MAX, &pol) ||
	    ((pol < SLB_POL_MIN || pol >= SLB_POL_MIN + SLB_POL_SPAN) && (add || pol))) {
		fprintf(stderr, "sl-bench-rules-fill: POL '%s': out of the benchmark's range\n",
			argv[3]);
		usage();
	}
	if (add && parse_u32(argv[4], SLB_RULES_MAX, &n)) {
		fprintf(stderr, "sl-bench-rules-fill: N '%s': not a number 0..%u\n", argv[4],
			SLB_RULES_MAX);
		usage();
	}
	if (parse_ip(argv[add ? 5 : 4], &addr)) {
		fprintf(stderr, "sl-bench-rules-fill: '%s': not an IPv4 address\n",
			argv[add ? 5 : 4]);
		usage();
	}
	sl_log_route_libbpf();
	err = sl_dp_maps_open_pinned(&m, argv[1]);
	if (err)
		return 1;
	if (add)
		err = fill(&m, pol, n, &addr);
	else
		err = flip(&m, pol, &addr);
	sl_dp_maps_close(&m);
	return err ? 1 : 0;
}
