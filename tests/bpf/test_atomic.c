// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_atomic.c - a policy swap is atomic: while one thread replaces B's ingress policy of
 * thousands of entries (3000 peer identities and 1000 CIDRs) by another one, again and again,
 * through agent/dp_policy.c, probe threads run packets through sl_to_pod and check that what
 * both versions allow (TCP 80 from every peer) is always allowed and what both deny (TCP 22)
 * always denied. A control run rewrites a set in place (delete, then add, same set id) and
 * must be caught by the same probes, which shows they can see a torn policy.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "cases.h"
#include "dp_maps.h"
#include "dp_policy.h"

#define N_IDS	3000
#define N_CIDRS 1000
#define N_PEERS (N_IDS + N_CIDRS)
#define SWAPS	20
#define PROBERS 2

struct ports_ent {
	struct sl_ports_key k;
	struct sl_ports_val v;
};
struct peer_ent {
	struct sl_peer_key k;
	struct sl_portset_ref v;
};
struct cidr_ent {
	struct sl_cidr_key k;
	struct sl_portset_ref v;
};

struct version {
	__u32 pol;
	struct ports_ent ports[2];
	struct peer_ent peers[N_IDS];
	struct cidr_ent cidrs[N_CIDRS];
};

static struct sl_dp_maps maps;
static struct pkt allowed[N_PEERS], denied[N_PEERS];
static atomic_int stop;
static atomic_long probes, violations;

static void peer_addr(int i, char *buf, size_t len)
{
	if (i < N_IDS)
		snprintf(buf, len, "10.50.%d.%d", i / 250, i % 250 + 1);
	else
		snprintf(buf, len, "10.60.%d.%d", (i - N_IDS) / 250, (i - N_IDS) % 250 + 1);
}

/* Version v (set id 100 + v): every peer may reach TCP 80, and TCP 443 (even v) or UDP 53. */
static void make_version(struct version *ver, int v)
{
	__u32 pol = 100 + v;
	char ip[32];

	ver->pol = pol;
	ver->ports[0] = (struct ports_ent){.k = {.prefixlen = SL_PORTS_PREFIX_FULL,
						 .portset = htonl(pol),
						 .proto = IPPROTO_TCP,
						 .port = htons(80)},
					   .v = {.rule = 1}};
	ver->ports[1] = (struct ports_ent){.k = {.prefixlen = SL_PORTS_PREFIX_FULL,
						 .portset = htonl(pol),
						 .proto = v % 2 ? IPPROTO_UDP : IPPROTO_TCP,
						 .port = htons(v % 2 ? 53 : 443)},
					   .v = {.rule = 2}};
	for (int i = 0; i < N_IDS; i++)
		ver->peers[i] = (struct peer_ent){
		    .k = {.pol = pol, .identity = 5000 + i, .dir = SL_DIR_INGRESS},
		    .v = {.portset = pol}};
	for (int i = 0; i < N_CIDRS; i++) {
		peer_addr(N_IDS + i, ip, sizeof(ip));
		ver->cidrs[i] = (struct cidr_ent){.k = {.prefixlen = SL_CIDR_PREFIX_BASE + 128,
							.pol = pol,
							.dir = SL_DIR_INGRESS,
							.addr = v4(ip)},
						  .v = {.portset = pol}};
	}
}

static struct sl_dp_policy_update update(const struct version *old, const struct version *new,
					 struct sl_dp_ep_flip *f)
{
	struct sl_dp_policy_update u = {
	    .ports_add = SL_DP_PAIRS(new->ports, 2, k, v),
	    .cidr_add = SL_DP_PAIRS(new->cidrs, N_CIDRS, k, v),
	    .peer_add = SL_DP_PAIRS(new->peers, N_IDS, k, v),
	    .eps = f,
	    .n_eps = 1,
	};

	*f = (struct sl_dp_ep_flip){.addr = v4(POD_B), .pol = {0, new->pol}};
	if (old) {
		u.peer_del = SL_DP_PAIRS(old->peers, N_IDS, k, v);
		u.cidr_del = SL_DP_PAIRS(old->cidrs, N_CIDRS, k, v);
		u.ports_del = SL_DP_PAIRS(old->ports, 2, k, v);
	}
	return u;
}

static void *prober(void *arg)
{
	struct pkt out;
	unsigned int seed = (unsigned int)(long)arg;

	while (!atomic_load(&stop)) {
		int i = rand_r(&seed) % N_PEERS;

		if (run_pkt(TO, IF_B, &allowed[i], &out) != TC_ACT_OK)
			atomic_fetch_add(&violations, 1);
		if (run_pkt(TO, IF_B, &denied[i], &out) != TC_ACT_SHOT)
			atomic_fetch_add(&violations, 1);
		atomic_fetch_add(&probes, 2);
	}
	return NULL;
}

static int start_probers(pthread_t *t)
{
	atomic_store(&stop, 0);
	atomic_store(&probes, 0);
	atomic_store(&violations, 0);
	for (long i = 0; i < PROBERS; i++)
		if (pthread_create(&t[i], NULL, prober, (void *)(i + 1)))
			return -1;
	/* let the probers get going before the first change */
	while (atomic_load(&probes) < 1000)
		sched_yield();
	return 0;
}

static void stop_probers(pthread_t *t)
{
	atomic_store(&stop, 1);
	for (int i = 0; i < PROBERS; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	static struct version ver[2];
	struct sl_dp_apply_stats st;
	struct sl_dp_policy_update u;
	struct sl_dp_ep_flip f;
	pthread_t t[PROBERS];
	long swap_probes;
	double grace = 0;
	int err, swaps = 0, control_rewrites = 0;

	libbpf_set_print(quiet_libbpf);
	err = setup(NULL);
	if (err)
		return err;
	if (sl_dp_maps_from_obj(&maps, skel->obj) ||
	    add_endpoint(POD_B, IF_B, mac_b, host_b, SL_EP_F_LOCAL, 101, 0, 0))
		return 1;
	for (int i = 0; i < N_PEERS; i++) {
		char ip[32];
		struct pkt_spec s = {.src = ip,
				     .dst = POD_B,
				     .proto = IPPROTO_TCP,
				     .sport = 1234,
				     .dport = 80,
				     .tcp_flags = TH_SYN};

		peer_addr(i, ip, sizeof(ip));
		if (i < N_IDS) {
			struct sl_addr a = v4(ip);
			struct sl_ident_val id = {.id = 5000 + i};

			if (bpf_map_update_elem(maps.ident, &a, &id, BPF_ANY))
				return 1;
		}
		allowed[i] = pkt_build(&s);
		s.dport = 22;
		denied[i] = pkt_build(&s);
	}
	make_version(&ver[0], 0);
	u = update(NULL, &ver[0], &f);
	EXPECT_EQ(sl_dp_policy_apply(&maps, &u, &st), 0, "install version 0");
	EXPECT_EQ(st.added, 2 + N_IDS + N_CIDRS, "version 0: every entry added");

	/* swaps through dp_policy: never a torn verdict */
	if (start_probers(t))
		return 1;
	for (int v = 1; v <= SWAPS; v++) {
		struct version *old = &ver[(v - 1) % 2], *new = &ver[v % 2];

		make_version(new, v);
		u = update(old, new, &f);
		if (sl_dp_policy_apply(&maps, &u, &st))
			break;
		grace += st.grace_ms;
		swaps += st.flipped == 1 && st.deleted == 2 + N_IDS + N_CIDRS;
	}
	stop_probers(t);
	swap_probes = atomic_load(&probes);
	EXPECT_EQ(swaps, SWAPS, "every swap applied whole");
	EXPECT_EQ(atomic_load(&violations), 0,
		  "swaps: no probe saw a verdict neither version gives");
	EXPECT_EQ(swap_probes > 10000, 1, "swaps: enough probes ran during the swaps");
	fprintf(stderr, "atomic: %d swaps of %d entries, %ld probes, grace period %.1f ms/swap\n",
		swaps, 2 * (2 + N_IDS + N_CIDRS), swap_probes, grace / SWAPS);

	/* control: rewriting one set in place (delete all, add all) is seen as torn */
	if (start_probers(t))
		return 1;
	{
		struct version *cur = &ver[SWAPS % 2];

		while (atomic_load(&violations) == 0 && control_rewrites < 50) {
			struct sl_dp_policy_update del = {
			    .peer_del = SL_DP_PAIRS(cur->peers, N_IDS, k, v),
			    .cidr_del = SL_DP_PAIRS(cur->cidrs, N_CIDRS, k, v)};
			struct sl_dp_policy_update add = {
			    .cidr_add = SL_DP_PAIRS(cur->cidrs, N_CIDRS, k, v),
			    .peer_add = SL_DP_PAIRS(cur->peers, N_IDS, k, v)};

			if (sl_dp_policy_apply(&maps, &del, NULL) ||
			    sl_dp_policy_apply(&maps, &add, NULL))
				break;
			control_rewrites++;
		}
	}
	stop_probers(t);
	EXPECT_EQ(atomic_load(&violations) > 0, 1, "control: an in-place rewrite is caught");

	sl_dp_maps_close(&maps);
	teardown();
	return report();
}
