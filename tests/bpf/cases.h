/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cases.h - the packet-test table machinery shared by the datapath and policy tests: a fixed
 * cast (pods A and B on veths of a private netns, MACs, addresses), the case struct, its
 * macros, and run_case(), which runs one packet through a program and checks the verdict, the
 * counters that must move, the event that must be sent, and an optional hook on the output.
 */
#ifndef SL_TEST_CASES_H
#define SL_TEST_CASES_H

#include <linux/pkt_cls.h>
#include <unistd.h>

#include "harness.h"
#include "pkt.h"

enum { FROM, TO };		  /* program */
enum { IF_A, IF_B, IF_LO, IF_N }; /* the veth a packet arrives on */

static int ifidx[IF_N];
static struct datapath_bpf *skel;
static struct ring_buffer *events;
static struct sl_event last_ev;
static int n_ev;

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 5}, host_a[6] = {2, 0, 0, 0, 1, 5};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 6}, host_b[6] = {2, 0, 0, 0, 1, 6};
static const uint8_t mac_evil[6] = {2, 0, 0, 0, 0, 0x66};

#define POD_A  "10.0.0.5"
#define POD_B  "10.0.0.6"
#define REMOTE "10.0.1.7"

struct tcase {
	const char *name;
	int prog;
	int iface;
	struct pkt_spec pkt;
	int want;   /* TC_ACT_* */
	int reason; /* the final counter that must move by one */
	int dir;
	int also; /* a second counter (the policy decision) that must move by one */
	int also_reason, also_dir;
	int ev; /* an event of this type must be sent: reason/dir of the decision */
	__u32 ev_rule, ev_pol;
	void (*before)(void); /* map changes to make before the packet */
	void (*check)(const struct tcase *c, const struct pkt *out);
};

/* A case: name, program, veth, packet, verdict, counter (reason, dir) [, more fields]. */
#define C(n, pr, ifc, p, w, r, d, ...)                                                           \
	{                                                                                        \
		.name = n, .prog = pr, .iface = ifc, .pkt = p, .want = w, .reason = r, .dir = d, \
		##__VA_ARGS__                                                                    \
	}
#define PKT(...)            \
	{                   \
		__VA_ARGS__ \
	}
#define ALSO(r, d)  .also = 1, .also_reason = r, .also_dir = d
#define EV(t, r, p) .ev = t, .ev_rule = r, .ev_pol = p
#define TCPF(s, d, sp, dp, f)                                                            \
	{                                                                                \
		.smac = mac_a, .dmac = host_a, .src = s, .dst = d, .proto = IPPROTO_TCP, \
		.sport = sp, .dport = dp, .tcp_flags = f                                 \
	}
#define TCP(s, d, dp) TCPF(s, d, 40000, dp, TH_SYN)
#define UDP(s, d, sp, dp)                                                                         \
	{                                                                                         \
		.smac = mac_a, .src = s, .dst = d, .proto = IPPROTO_UDP, .sport = sp, .dport = dp \
	}
#define ARP(s, sha_)                                                                              \
	{                                                                                         \
		.eth_type = ETH_P_ARP, .smac = mac_a, .src = s, .dst = "169.254.1.1", .sha = sha_ \
	}

static inline struct sl_addr v4(const char *ip)
{
	struct sl_addr a = {.w = {0, 0, htonl(0xffff), pkt_ip(ip)}};

	return a;
}

static inline int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len >= sizeof(last_ev)) {
		memcpy(&last_ev, data, sizeof(last_ev));
		n_ev++;
	}
	return 0;
}

/* A private netns with a veth pair, the skeleton loaded there with cfg, the event reader. */
static inline int setup(const struct sl_cfg *cfg)
{
	static const char *names[] = {"slt-dp-a", "slt-dp-b"};
	int err = enter_netns();

	if (err)
		return err;
	if (system("ip link add slt-dp-a type veth peer name slt-dp-b")) {
		fprintf(stderr, "ip link add: failed\n");
		return 1;
	}
	for (int i = 0; i < 2; i++)
		ifidx[i] = if_nametoindex(names[i]);
	ifidx[IF_LO] = 1;
	skel = open_unpinned();
	if (!skel)
		return 1;
	if (cfg)
		skel->rodata->sl_cfg = *cfg;
	if (datapath_bpf__load(skel)) {
		fprintf(stderr, "datapath: load: %s\n", strerror(errno));
		return errno == EPERM ? SKIP : 1;
	}
	events = ring_buffer__new(bpf_map__fd(skel->maps.sl_events), on_event, NULL, NULL);
	if (!events) {
		fprintf(stderr, "sl_events: ring buffer: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static inline void teardown(void)
{
	ring_buffer__free(events);
	datapath_bpf__destroy(skel);
}

static inline int add_endpoint(const char *ip, int iface, const uint8_t *mac, const uint8_t *host,
			__u32 flags, __u32 ep_id, __u32 pol_egress, __u32 pol_ingress)
{
	struct sl_endpoint ep = {.ep_id = ep_id,
				 .ifindex = ifidx[iface],
				 .flags = flags,
				 .pol = {pol_egress, pol_ingress}};
	struct sl_addr a = v4(ip);

	memcpy(ep.pod_mac, mac, 6);
	memcpy(ep.host_mac, host, 6);
	if (bpf_map__update_elem(skel->maps.sl_endpoints, &a, sizeof(a), &ep, sizeof(ep),
				 BPF_ANY)) {
		fprintf(stderr, "sl_endpoints: update %s: %s\n", ip, strerror(errno));
		return -1;
	}
	return 0;
}

/* Run one packet; out receives the packet as the program left it. Returns the verdict. */
static inline int run_pkt(int prog, int iface, const struct pkt *in, struct pkt *out)
{
	struct __sk_buff ctx = {.ifindex = ifidx[iface]};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->data, .data_size_in = in->len,
		    .data_out = out->data, .data_size_out = sizeof(out->data), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	struct bpf_program *p = prog == FROM ? skel->progs.sl_from_pod : skel->progs.sl_to_pod;
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);

	if (err)
		return err;
	out->len = o.data_size_out;
	return o.retval;
}

static inline void run_case(const struct tcase *c)
{
	struct pkt in, out = {0};
	long long before, also_before = 0;
	int ret;

	if (c->before)
		c->before();
	in = pkt_build(&c->pkt);
	before = counter(skel, c->reason, c->dir);
	if (c->also)
		also_before = counter(skel, c->also_reason, c->also_dir);
	ring_buffer__consume(events);
	n_ev = 0;
	ret = run_pkt(c->prog, c->iface, &in, &out);
	EXPECT_EQ(ret, c->want, c->name);
	EXPECT_EQ(counter(skel, c->reason, c->dir) - before, 1, c->name);
	if (c->also)
		EXPECT_EQ(counter(skel, c->also_reason, c->also_dir) - also_before, 1, c->name);
	ring_buffer__consume(events);
	if (c->ev) {
		int reason = c->ev == SL_EV_DROP ? c->reason : c->also_reason;
		int dir = c->ev == SL_EV_DROP ? c->dir : c->also_dir;

		EXPECT_EQ(n_ev >= 1, 1, c->name);
		EXPECT_EQ(last_ev.type, c->ev, c->name);
		EXPECT_EQ(last_ev.reason, reason, c->name);
		EXPECT_EQ(last_ev.dir, dir, c->name);
		EXPECT_EQ(last_ev.rule, c->ev_rule, c->name);
		EXPECT_EQ(last_ev.pol, c->ev_pol, c->name);
		EXPECT_EQ(last_ev.saddr.w[3], pkt_ip(c->pkt.src), c->name);
	}
	if (c->check)
		c->check(c, &out);
}

#endif /* SL_TEST_CASES_H */
