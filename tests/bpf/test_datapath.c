// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_datapath.c - packet tests of sl_from_pod/sl_to_pod through bpf_prog_test_run_opts:
 * a table of cases (packet, the veth it arrives on, expected tc verdict, expected counter),
 * run in order against one loaded skeleton, katran-style. Runs in a private network namespace
 * whose veth pair gives the ifindex values the programs compare against.
 *
 * Not testable here: an Ethernet frame shorter than 14 bytes, or an IPv4 frame with less than
 * 20 bytes after the Ethernet header (the kernel refuses such test input with -EINVAL; the
 * netns test sends the latter from a pod through a packet socket); the redirect's target
 * interface (a test run returns TC_ACT_REDIRECT without redirecting: the netns test checks
 * delivery).
 */
#include "cases.h"

/* Mutations of an otherwise valid packet. */
static void trunc_arp(struct pkt *p)
{
	p->len = ETH_HLEN + 20;
}

static void ihl_4(struct pkt *p)
{
	pkt_iph(p)->ihl = 4;
	pkt_fix_ipsum(p);
}

static void ihl_beyond(struct pkt *p)
{
	pkt_iph(p)->ihl = 15; /* 60 bytes of header in a 40-byte packet */
	pkt_fix_ipsum(p);
}

static void totlen_long(struct pkt *p)
{
	pkt_iph(p)->tot_len = htons(ntohs(pkt_iph(p)->tot_len) + 200);
	pkt_fix_ipsum(p);
}

static void totlen_short(struct pkt *p)
{
	pkt_iph(p)->tot_len = htons(12);
	pkt_fix_ipsum(p);
}

static void version_6(struct pkt *p)
{
	pkt_iph(p)->version = 6;
	pkt_fix_ipsum(p);
}

static void ip_options(struct pkt *p)
{
	/* shift the L4 header by 4 bytes of NOPs: IHL 6 */
	uint8_t *l3 = p->data + ETH_HLEN;

	memmove(l3 + 24, l3 + 20, p->len - ETH_HLEN - 20);
	memset(l3 + 20, 1, 4);
	p->len += 4;
	pkt_iph(p)->ihl = 6;
	pkt_iph(p)->tot_len = htons(ntohs(pkt_iph(p)->tot_len) + 4);
	pkt_fix_ipsum(p);
}

static void arp_bad_hw(struct pkt *p)
{
	p->data[ETH_HLEN + 1] = 6; /* IEEE 802 */
}

static void ttl_1(struct pkt *p)
{
	pkt_iph(p)->ttl = 1;
	pkt_fix_ipsum(p);
}

/* The IPv4 header checksum of out verifies (sums to 0 with itself included). */
static int ipsum_ok(const struct pkt *out)
{
	struct iphdr *ip = pkt_iph((struct pkt *)out);

	return pkt_csum(ip, ip->ihl * 4, 0) == 0;
}

static void check_rewrite_b(const struct tcase *c, const struct pkt *out)
{
	const struct ethhdr *eth = (const void *)out->data;

	EXPECT_EQ(memcmp(eth->h_dest, mac_b, 6), 0, c->name);
	EXPECT_EQ(memcmp(eth->h_source, host_b, 6), 0, c->name);
	EXPECT_EQ(out->len, 60, c->name);
	EXPECT_EQ(pkt_iph((struct pkt *)out)->daddr, pkt_ip(POD_B), c->name);
	/* a hop through the node's gateway, as the stack would route it */
	EXPECT_EQ(pkt_iph((struct pkt *)out)->ttl, 63, c->name);
	EXPECT_EQ(ipsum_ok(out), 1, c->name);
}

static void check_ttl_untouched(const struct tcase *c, const struct pkt *out)
{
	EXPECT_EQ(pkt_iph((struct pkt *)out)->ttl, 1, c->name);
	EXPECT_EQ(ipsum_ok(out), 1, c->name);
}

static const struct tcase cases[] = {
    C("same-node pod: MACs rewritten, redirect_peer", FROM, IF_A, TCP(POD_A, POD_B, 80),
      TC_ACT_REDIRECT, SL_FWD_REDIRECT, SL_DIR_EGRESS, .check = check_rewrite_b),
    C("TTL 1 to a local pod: left to the host stack (ICMP time exceeded)", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .dport = 80,
	  .mutate = ttl_1),
      TC_ACT_OK, SL_FWD_STACK, SL_DIR_EGRESS, .check = check_ttl_untouched),
    C("IP options: still parsed and redirected", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_UDP, .sport = 1, .dport = 53,
	  .mutate = ip_options),
      TC_ACT_REDIRECT, SL_FWD_REDIRECT, SL_DIR_EGRESS),
    C("off-node destination: host stack", FROM, IF_A, TCP(POD_A, "8.8.8.8", 443), TC_ACT_OK,
      SL_FWD_STACK, SL_DIR_EGRESS),
    C("remote pod (endpoint not local): host stack", FROM, IF_A, TCP(POD_A, REMOTE, 80), TC_ACT_OK,
      SL_FWD_STACK, SL_DIR_EGRESS),
    C("spoofed IPv4 source", FROM, IF_A, TCP("10.0.0.99", POD_B, 80), TC_ACT_SHOT,
      SL_DROP_SPOOFED_IP, SL_DIR_EGRESS),
    C("another pod's source on this veth", FROM, IF_A, TCP(POD_B, "8.8.8.8", 80), TC_ACT_SHOT,
      SL_DROP_SPOOFED_IP, SL_DIR_EGRESS),
    C("own source on the wrong veth", FROM, IF_B, TCP(POD_A, "8.8.8.8", 80), TC_ACT_SHOT,
      SL_DROP_SPOOFED_IP, SL_DIR_EGRESS),
    C("remote pod's source from a local veth", FROM, IF_LO, TCP(REMOTE, POD_A, 80), TC_ACT_SHOT,
      SL_DROP_SPOOFED_IP, SL_DIR_EGRESS),
    C("ARP from the pod", FROM, IF_A, ARP(POD_A, mac_a), TC_ACT_OK, SL_FWD_ARP, SL_DIR_EGRESS),
    C("ARP with another pod's IP", FROM, IF_A, ARP(POD_B, mac_a), TC_ACT_SHOT, SL_DROP_SPOOFED_ARP,
      SL_DIR_EGRESS),
    C("ARP with a foreign sender MAC", FROM, IF_A, ARP(POD_A, mac_evil), TC_ACT_SHOT,
      SL_DROP_SPOOFED_ARP, SL_DIR_EGRESS),
    C("ARP on the wrong veth", FROM, IF_B, ARP(POD_A, mac_a), TC_ACT_SHOT, SL_DROP_SPOOFED_ARP,
      SL_DIR_EGRESS),
    C("ARP probe (sender 0.0.0.0)", FROM, IF_A, ARP("0.0.0.0", mac_a), TC_ACT_SHOT,
      SL_DROP_SPOOFED_ARP, SL_DIR_EGRESS),
    C("ARP not IPv4-over-Ethernet", FROM, IF_A,
      PKT(.eth_type = ETH_P_ARP, .smac = mac_a, .src = POD_A, .dst = POD_B, .mutate = arp_bad_hw),
      TC_ACT_SHOT, SL_DROP_MALFORMED, SL_DIR_EGRESS),
    C("truncated ARP", FROM, IF_A,
      PKT(.eth_type = ETH_P_ARP, .smac = mac_a, .src = POD_A, .dst = POD_B, .mutate = trunc_arp),
      TC_ACT_SHOT, SL_DROP_TRUNCATED, SL_DIR_EGRESS),
    C("IPv6 (router advertisement)", FROM, IF_A, PKT(.eth_type = ETH_P_IPV6, .smac = mac_a),
      TC_ACT_SHOT, SL_DROP_IPV6, SL_DIR_EGRESS),
    C("unknown ethertype (LLDP)", FROM, IF_A, PKT(.eth_type = 0x88cc, .smac = mac_a), TC_ACT_SHOT,
      SL_DROP_UNKNOWN_L3, SL_DIR_EGRESS),
    C("IHL below 5", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .mutate = ihl_4),
      TC_ACT_SHOT, SL_DROP_MALFORMED, SL_DIR_EGRESS),
    C("IHL beyond the packet", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .mutate = ihl_beyond),
      TC_ACT_SHOT, SL_DROP_MALFORMED, SL_DIR_EGRESS),
    C("total length beyond the frame", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .mutate = totlen_long),
      TC_ACT_SHOT, SL_DROP_MALFORMED, SL_DIR_EGRESS),
    C("total length below the header", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .mutate = totlen_short),
      TC_ACT_SHOT, SL_DROP_MALFORMED, SL_DIR_EGRESS),
    C("IP version 6 in an IPv4 frame", FROM, IF_A,
      PKT(.smac = mac_a, .src = POD_A, .dst = POD_B, .proto = IPPROTO_TCP, .mutate = version_6),
      TC_ACT_SHOT, SL_DROP_MALFORMED, SL_DIR_EGRESS),
    C("host stack into a pod", TO, IF_A, TCP("192.168.1.1", POD_A, 80), TC_ACT_OK, SL_FWD_TO_POD,
      SL_DIR_INGRESS),
};

int main(void)
{
	int err;

	libbpf_set_print(quiet_libbpf);
	err = setup(NULL);
	if (err)
		return err;
	if (add_endpoint(POD_A, IF_A, mac_a, host_a, SL_EP_F_LOCAL, 100, 0, 0) ||
	    add_endpoint(POD_B, IF_B, mac_b, host_b, SL_EP_F_LOCAL, 101, 0, 0) ||
	    add_endpoint(REMOTE, IF_LO, mac_evil, mac_evil, 0, 102, 0, 0)) {
		teardown();
		return 1;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	teardown();
	return report();
}
