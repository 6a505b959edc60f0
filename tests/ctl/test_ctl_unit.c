// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_ctl_unit.c - sluicectl's pure parts: the YAML emitter, PORT[/PROTO] parsing, port
 * prefix and CIDR decoding; and, as root, the user-space policy lookup (ctl_lookup) against
 * real maps of the ABI's types, for every step of the datapath's lookup order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "flags.h"
#include "sl_check.h"

struct ctl_opts ctl = {.bpffs = SL_DEFAULT_BPFFS, .state_dir = SL_DEFAULT_STATE_DIR};

static char *yaml_of(const char *json)
{
	cJSON *o = cJSON_Parse(json);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ctl_yaml(f, o);
	fclose(f);
	cJSON_Delete(o);
	return buf;
}

static void test_yaml(void)
{
	static const struct {
		const char *json, *yaml;
	} cases[] = {
	    {"{\"a\":1,\"b\":\"x\"}", "a: 1\nb: \"x\"\n"},
	    {"[1,2]", "- 1\n- 2\n"},
	    {"{}", "{}\n"},
	    {"{\"a\":[],\"b\":{}}", "a: []\nb: {}\n"},
	    {"{\"a\":{\"b\":{\"c\":true}}}", "a:\n  b:\n    c: true\n"},
	    {"[{\"a\":1,\"b\":2},{\"c\":null}]", "- a: 1\n  b: 2\n- c: null\n"},
	    {"{\"l\":[{\"x\":[1,2]}]}", "l:\n  - x:\n      - 1\n      - 2\n"},
	    {"{\"k: y\":\"multi\\nline\"}", "\"k: y\": \"multi\\nline\"\n"},
	    {"{\"n\":0.5,\"s\":\"yes\"}", "n: 0.5\ns: \"yes\"\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *y = yaml_of(cases[i].json), what[256];

		snprintf(what, sizeof(what), "yaml of %s", cases[i].json);
		EXPECT(y && !strcmp(y, cases[i].yaml), what);
		if (y && strcmp(y, cases[i].yaml))
			fprintf(stderr, "  got:\n%s  want:\n%s", y, cases[i].yaml);
		free(y);
	}
}

static void test_parse_port(void)
{
	unsigned proto, port;

	EXPECT(!ctl_parse_port("80/tcp", &proto, &port) && proto == IPPROTO_TCP && port == 80,
	       "80/tcp");
	EXPECT(!ctl_parse_port("53/UDP", &proto, &port) && proto == IPPROTO_UDP && port == 53,
	       "53/UDP (case-insensitive)");
	EXPECT(!ctl_parse_port("81/sctp", &proto, &port) && proto == IPPROTO_SCTP && port == 81,
	       "81/sctp");
	EXPECT(!ctl_parse_port("8080", &proto, &port) && proto == IPPROTO_TCP && port == 8080,
	       "a bare port is TCP");
	EXPECT(!ctl_parse_port("icmp", &proto, &port) && proto == IPPROTO_ICMP && port == 0,
	       "icmp");
	EXPECT(ctl_parse_port("0/tcp", &proto, &port) == CTL_USAGE, "port 0 refused");
	EXPECT(ctl_parse_port("65536", &proto, &port) == CTL_USAGE, "port 65536 refused");
	EXPECT(ctl_parse_port("80/gre", &proto, &port) == CTL_USAGE, "unknown protocol refused");
	EXPECT(ctl_parse_port("tcp", &proto, &port) == CTL_USAGE, "tcp without a port refused");
	EXPECT(ctl_parse_port("8o", &proto, &port) == CTL_USAGE, "garbage refused");
}

static struct sl_ports_key pk(unsigned prefixlen, unsigned proto, unsigned port)
{
	return (struct sl_ports_key){.prefixlen = prefixlen,
				     .portset = htonl(7),
				     .proto = (__u8)proto,
				     .port = htons((__u16)port)};
}

static void test_ports_range(void)
{
	struct sl_ports_key k;
	unsigned proto, lo, hi;

	k = pk(SL_PORTS_PREFIX_FULL, IPPROTO_TCP, 80);
	ctl_ports_range(&k, &proto, &lo, &hi);
	EXPECT(proto == IPPROTO_TCP && lo == 80 && hi == 80, "one port");
	k = pk(SL_PORTS_PREFIX_PORT + 16 - 3, IPPROTO_UDP, 8000);
	ctl_ports_range(&k, &proto, &lo, &hi);
	EXPECT(proto == IPPROTO_UDP && lo == 8000 && hi == 8007, "an aligned block of 8");
	k = pk(SL_PORTS_PREFIX_PROTO, IPPROTO_SCTP, 0);
	ctl_ports_range(&k, &proto, &lo, &hi);
	EXPECT(proto == IPPROTO_SCTP && lo == 0 && hi == 65535, "any port of a protocol");
	k = pk(SL_PORTS_PREFIX_PORTSET, 0, 0);
	ctl_ports_range(&k, &proto, &lo, &hi);
	EXPECT(proto == 0 && lo == 0 && hi == 65535, "any protocol and port");
}

static void test_prefix(void)
{
	struct sl_addr a;
	char buf[64];

	ctl_v4_addr(inet_addr("10.1.0.0"), &a);
	EXPECT(!strcmp(ctl_prefix_str(&a, 96 + 16, buf, sizeof(buf)), "10.1.0.0/16"),
	       "v4-mapped /112 is 10.1.0.0/16");
	ctl_v4_addr(0, &a);
	EXPECT(!strcmp(ctl_prefix_str(&a, 96, buf, sizeof(buf)), "0.0.0.0/0"),
	       "v4-mapped /96 is 0.0.0.0/0");
	memset(&a, 0, sizeof(a));
	EXPECT(!strcmp(ctl_prefix_str(&a, 0, buf, sizeof(buf)), "::/0"), "::/0");
	ctl_v4_addr(inet_addr("10.244.1.3"), &a);
	EXPECT(!strcmp(ctl_addr_str(&a, buf, sizeof(buf)), "10.244.1.3"), "address printed dotted");
}

/* ------------------------------------------------------------------ lookup (root) */

static int mk(enum bpf_map_type t, size_t k, size_t v, unsigned max)
{
	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .map_flags = t == BPF_MAP_TYPE_LPM_TRIE ? BPF_F_NO_PREALLOC : 0);

	return bpf_map_create(t, NULL, (__u32)k, (__u32)v, max, &o);
}

static void test_lookup(void)
{
	struct sl_dp_maps m;
	struct sl_endpoint ep = {.ep_id = 1, .flags = SL_EP_F_LOCAL, .pol = {0, 0}};
	struct sl_addr peer, other, host;
	struct ctl_verdict v;
	__u32 one = 1;

	sl_dp_maps_init(&m);
	m.ident = mk(BPF_MAP_TYPE_HASH, sizeof(struct sl_addr), sizeof(struct sl_ident_val), 64);
	m.peer =
	    mk(BPF_MAP_TYPE_HASH, sizeof(struct sl_peer_key), sizeof(struct sl_portset_ref), 64);
	m.cidr = mk(BPF_MAP_TYPE_LPM_TRIE, sizeof(struct sl_cidr_key),
		    sizeof(struct sl_portset_ref), 64);
	m.ports =
	    mk(BPF_MAP_TYPE_LPM_TRIE, sizeof(struct sl_ports_key), sizeof(struct sl_ports_val), 64);
	if (m.ident < 0 || m.peer < 0 || m.cidr < 0 || m.ports < 0) {
		fprintf(stderr, "lookup tests skipped: map create: %s (root needed)\n",
			strerror(errno));
		sl_dp_maps_close(&m);
		return;
	}
	ctl_v4_addr(inet_addr("10.0.0.5"), &peer);
	ctl_v4_addr(inet_addr("192.168.7.7"), &other);
	ctl_v4_addr(inet_addr("10.200.0.1"), &host);

	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &peer, IPPROTO_TCP, 80, &v) &&
		   v.reason == SL_FWD_NO_POLICY,
	       "no policy set: open");
	ep.pol[SL_DIR_INGRESS] = 3;
	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &peer, IPPROTO_TCP, 80, &v) &&
		   v.reason == SL_DROP_POLICY && v.rule == 0 && v.peer_id == SL_IDENTITY_WORLD,
	       "selected, no entries: default deny, peer is world");

	{ /* identity 300 may use tcp/80 by rule 9 */
		struct sl_ident_val iv = {.id = 300};
		struct sl_peer_key k = {.pol = 3, .identity = 300, .dir = SL_DIR_INGRESS};
		struct sl_portset_ref ps = {.portset = 5};
		struct sl_ports_key p = pk(SL_PORTS_PREFIX_FULL, IPPROTO_TCP, 80);
		struct sl_ports_val pv = {.rule = 9};

		p.portset = htonl(5);
		bpf_map_update_elem(m.ident, &peer, &iv, 0);
		bpf_map_update_elem(m.peer, &k, &ps, 0);
		bpf_map_update_elem(m.ports, &p, &pv, 0);
	}
	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &peer, IPPROTO_TCP, 80, &v) &&
		   v.reason == SL_FWD_POLICY && v.rule == 9 && !v.via_cidr && v.peer_id == 300,
	       "identity entry allows tcp/80 by rule 9");
	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &peer, IPPROTO_TCP, 81, &v) &&
		   v.reason == SL_DROP_POLICY,
	       "tcp/81 not in the portset: denied");
	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_EGRESS, &peer, IPPROTO_TCP, 80, &v) &&
		   v.reason == SL_FWD_NO_POLICY,
	       "the other direction is still open");

	{ /* 192.168.0.0/16 any port of udp by rule 11; 192.168.7.0/24 excepted */
		struct sl_cidr_key k = {
		    .prefixlen = SL_CIDR_PREFIX_BASE + 96 + 16, .pol = 3, .dir = SL_DIR_INGRESS};
		struct sl_portset_ref ps = {.portset = 6}, none = {.portset = 0};
		struct sl_ports_key p = pk(SL_PORTS_PREFIX_PROTO, IPPROTO_UDP, 0);
		struct sl_ports_val pv = {.rule = 11};

		p.portset = htonl(6);
		ctl_v4_addr(inet_addr("192.168.0.0"), &k.addr);
		bpf_map_update_elem(m.cidr, &k, &ps, 0);
		bpf_map_update_elem(m.ports, &p, &pv, 0);
		EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &other, IPPROTO_UDP, 53, &v) &&
			   v.reason == SL_FWD_POLICY && v.rule == 11 && v.via_cidr,
		       "ipBlock allows udp/53 by rule 11");
		k.prefixlen = SL_CIDR_PREFIX_BASE + 96 + 24;
		ctl_v4_addr(inet_addr("192.168.7.0"), &k.addr);
		bpf_map_update_elem(m.cidr, &k, &none, 0);
		EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &other, IPPROTO_UDP, 53, &v) &&
			   v.reason == SL_DROP_POLICY,
		       "an except (portset 0) shadows the block");
	}
	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &peer, 47, 0, &v) &&
		   v.reason == SL_DROP_UNKNOWN_L4,
	       "GRE to a selected pod: unknown L4");
	{
		struct sl_ident_val iv = {.id = SL_IDENTITY_HOST};

		bpf_map_update_elem(m.ident, &host, &iv, 0);
	}
	ep.flags |= SL_EP_F_POLICY_INVALID;
	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &host, IPPROTO_TCP, 80, &v) &&
		   v.reason == SL_FWD_HOST,
	       "the node's own address passes even an invalid policy (kubelet probes)");
	EXPECT(!ctl_lookup(&m, &ep, SL_DIR_INGRESS, &peer, IPPROTO_TCP, 80, &v) &&
		   v.reason == SL_DROP_POLICY_INVALID,
	       "invalid policy: deny all");
	(void)one;
	sl_dp_maps_close(&m);
}

int main(void)
{
	test_yaml();
	test_parse_port();
	test_ports_range();
	test_prefix();
	test_lookup();
	return report();
}
