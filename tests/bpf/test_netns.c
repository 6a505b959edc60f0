// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_netns.c - the datapath with real traffic: a "node" namespace holding two host veths with
 * sl_from_pod/sl_to_pod attached by bpf_tc_attach, two pod namespaces behind them, policy
 * written through agent/dp_policy.c. TCP, UDP and ICMP from the pods' own stacks; SCTP by raw
 * packets (INIT with CRC32c, answered by INIT-ACK: the kernel here has no SCTP); a truncated
 * IPv4 frame and a spoofed source from a packet socket. Checks that same-node traffic goes by
 * bpf_redirect_peer (the redirect counter moves and the packets arrive), that rules allow and
 * deny, that the node's own address reaches a selected pod, and that removing a rule cuts an
 * established connection. Namespaces are named slt-bpf-<pid>-*, removed at exit.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "cases.h"
#include "dp_maps.h"
#include "dp_policy.h"

#define HOST_IP "192.168.1.1"
#define ID_A	1000

static char ns_node[64], ns_a[64], ns_b[64];
static pid_t server = -1;
static int have_ns;
static struct sl_dp_maps maps;

static void cleanup(void)
{
	char cmd[512];

	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (!have_ns)
		return;
	have_ns = 0;
	snprintf(cmd, sizeof(cmd),
		 "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; "
		 "ip netns del %s 2>/dev/null",
		 ns_a, ns_b, ns_node);
	if (system(cmd))
		fprintf(stderr, "cleanup: %s: failed\n", cmd);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(1); /* runs cleanup() */
}

static int enter(const char *ns)
{
	char path[128];
	int fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

/* Run fn(arg) in a child inside namespace ns; its exit status (0 = success). */
static int in_ns(const char *ns, int (*fn)(const void *), const void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		if (enter(ns))
			_exit(100);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = {.fd = fd, .events = ev};

	return poll(&p, 1, ms) == 1 ? 0 : -1;
}

#define TIMEOUT_MS 700 /* for a packet that must NOT arrive; arrivals are waited for */

/* --- the server in pod B: TCP echo on 8080 and 8081, UDP echo on 5353, SCTP INIT-ACK --- */

static int tcp_listen(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)) || listen(fd, 16))
		return -1;
	return fd;
}

static void sctp_answer(int raw)
{
	uint8_t buf[512];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(raw, buf, sizeof(buf), 0, (void *)&from, &fl);
	struct iphdr *ip = (struct iphdr *)buf;
	uint8_t *sh, out[64];
	char src[16], dst[16];

	if (n < 20 || n < ip->ihl * 4 + 32)
		return;
	sh = buf + ip->ihl * 4;
	if (sh[12] != 1) /* INIT only */
		return;
	inet_ntop(AF_INET, &ip->daddr, src, sizeof(src));
	inet_ntop(AF_INET, &ip->saddr, dst, sizeof(dst));
	{
		struct pkt_spec s = {.src = src,
				     .dst = dst,
				     .proto = IPPROTO_SCTP,
				     .sport = ntohs(*(uint16_t *)(sh + 2)),
				     .dport = ntohs(*(uint16_t *)sh),
				     .sctp_chunk = 2, /* INIT-ACK */
				     .sctp_tag = ntohl(*(uint32_t *)(sh + 16))};
		uint32_t len = pkt_l4(out, &s, ip->daddr, ip->saddr);

		sendto(raw, out, len, 0, (void *)&from, sizeof(from));
	}
}

static int serve(const void *arg)
{
	struct pollfd p[32];
	int n = 0;

	(void)arg;
	p[n++] = (struct pollfd){.fd = tcp_listen(8080), .events = POLLIN};
	p[n++] = (struct pollfd){.fd = tcp_listen(8081), .events = POLLIN};
	{
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5353)};
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (bind(fd, (void *)&sa, sizeof(sa)))
			return 1;
		p[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	p[n++] = (struct pollfd){.fd = socket(AF_INET, SOCK_RAW, IPPROTO_SCTP), .events = POLLIN};
	for (int i = 0; i < n; i++)
		if (p[i].fd < 0)
			return 1;
	if (write(3, "R", 1) != 1) /* ready: the parent waits for this byte on fd 3's pipe */
		return 1;
	for (;;) {
		if (poll(p, n, -1) < 0)
			return 1;
		for (int i = 0; i < n; i++) {
			char buf[512];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (i < 2) {
				int c = accept(p[i].fd, NULL, NULL);

				if (c >= 0 && n < 32)
					p[n++] = (struct pollfd){.fd = c, .events = POLLIN};
				else if (c >= 0)
					close(c);
			} else if (i == 2) {
				r = recvfrom(p[i].fd, buf, sizeof(buf), 0, (void *)&from, &fl);
				if (r > 0)
					sendto(p[i].fd, buf, r, 0, (void *)&from, fl);
			} else if (i == 3) {
				sctp_answer(p[i].fd);
			} else {
				r = read(p[i].fd, buf, sizeof(buf));
				if (r <= 0 || write(p[i].fd, buf, r) != r) {
					close(p[i].fd);
					p[i--] = p[--n];
				}
			}
		}
	}
}

static int start_server(void)
{
	int pfd[2];
	char c;

	if (pipe(pfd))
		return -1;
	server = fork();
	if (server < 0)
		return -1;
	if (!server) {
		close(pfd[0]);
		if (dup2(pfd[1], 3) < 0 || enter(ns_b))
			_exit(100);
		_exit(serve(NULL));
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) { /* the child is listening (or died) */
		close(pfd[0]);
		return -1;
	}
	close(pfd[0]);
	return 0;
}

/* --- probes, each run inside the client's namespace --- */

struct probe {
	const char *dst;
	int port;
	const char *src; /* SCTP: own address */
};

static int tcp_connect(const char *dst, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t el = sizeof(err);

	inet_pton(AF_INET, dst, &sa.sin_addr);
	if (connect(fd, (void *)&sa, sizeof(sa)) && errno != EINPROGRESS)
		goto fail;
	if (wait_fd(fd, POLLOUT, TIMEOUT_MS) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) ||
	    err)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int echo(int fd, const char *msg)
{
	char buf[64];
	ssize_t n = strlen(msg);

	if (send(fd, msg, n, 0) != n || wait_fd(fd, POLLIN, TIMEOUT_MS))
		return 1;
	return recv(fd, buf, sizeof(buf), 0) == n && !memcmp(buf, msg, n) ? 0 : 1;
}

static int probe_tcp(const void *arg)
{
	const struct probe *p = arg;
	int fd = tcp_connect(p->dst, p->port), rc;

	if (fd < 0)
		return 1;
	rc = echo(fd, "hello");
	close(fd);
	return rc;
}

static int probe_udp(const void *arg)
{
	const struct probe *p = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	inet_pton(AF_INET, p->dst, &sa.sin_addr);
	if (connect(fd, (void *)&sa, sizeof(sa)))
		return 1;
	rc = echo(fd, "hello");
	close(fd);
	return rc;
}

static int probe_icmp(const void *arg)
{
	const struct probe *p = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	uint8_t buf[256];
	uint16_t id = getpid() & 0xffff;
	struct timespec t0, t;
	struct pkt_spec s = {.proto = IPPROTO_ICMP, .icmp_type = 8, .sport = id, .payload = 8};
	uint32_t len = pkt_l4(buf, &s, 0, 0);

	inet_pton(AF_INET, p->dst, &sa.sin_addr);
	if (fd < 0 || sendto(fd, buf, len, 0, (void *)&sa, sizeof(sa)) != (ssize_t)len)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n;
		struct iphdr *ip = (struct iphdr *)buf;

		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = TIMEOUT_MS -
			    ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || wait_fd(fd, POLLIN, left))
			return 1;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n >= 28 && buf[ip->ihl * 4] == 0 &&
		    *(uint16_t *)(buf + ip->ihl * 4 + 4) == htons(id))
			return 0;
	}
}

static int probe_sctp(const void *arg)
{
	const struct probe *p = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_SCTP);
	uint32_t tag = 0x5c100000 | (getpid() & 0xffff);
	struct pkt_spec s = {.src = p->src,
			     .dst = p->dst,
			     .proto = IPPROTO_SCTP,
			     .sport = 40000,
			     .dport = p->port,
			     .sctp_chunk = 1,
			     .sctp_tag = tag};
	uint8_t buf[512];
	uint32_t len = pkt_l4(buf, &s, pkt_ip(p->src), pkt_ip(p->dst));
	struct timespec t0, t;

	inet_pton(AF_INET, p->dst, &sa.sin_addr);
	if (fd < 0 || sendto(fd, buf, len, 0, (void *)&sa, sizeof(sa)) != (ssize_t)len)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct iphdr *ip = (struct iphdr *)buf;
		ssize_t n;
		uint8_t *sh;

		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = TIMEOUT_MS -
			    ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || wait_fd(fd, POLLIN, left))
			return 1;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 20 || n < ip->ihl * 4 + 16)
			continue;
		sh = buf + ip->ihl * 4;
		if (sh[12] == 2 && ntohl(*(uint32_t *)(sh + 4)) == tag)
			return 0;
	}
}

/* A frame built whole (Ethernet included) and sent on eth0 by a packet socket. */
static int send_frame(const void *arg)
{
	const struct pkt *f = arg;
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex("eth0"), .sll_halen = 6};
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0 || sendto(fd, f->data, f->len, 0, (void *)&sll, sizeof(sll)) != (ssize_t)f->len)
		return 1;
	close(fd);
	return 0;
}

/* An established TCP connection cut by a rule removal between its two messages. */
static int cut_pipe[2], go_pipe[2];

static int probe_cut(const void *arg)
{
	const struct probe *p = arg;
	int fd = tcp_connect(p->dst, p->port);
	char c = echo(fd, "first") ? 'F' : 'E';

	if (write(cut_pipe[1], &c, 1) != 1 || read(go_pipe[0], &c, 1) != 1)
		return 3;
	return echo(fd, "second") ? 2 : 0; /* 2: cut */
}

/* --- setup --- */

static int make_pod(const char *ns, const char *host_if, const char *ip, const char *pod_mac,
		    const char *host_mac)
{
	return sh("ip netns add %s", ns) ||
	       sh("ip -n %s link add %s address %s type veth peer name eth0 address %s netns %s",
		  ns_node, host_if, host_mac, pod_mac, ns) ||
	       sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1", ns) ||
	       sh("ip -n %s link set lo up && ip -n %s link set eth0 up", ns, ns) ||
	       sh("ip -n %s addr add %s/32 dev eth0", ns, ip) ||
	       sh("ip -n %s route add 169.254.1.1 dev eth0 scope link", ns) ||
	       sh("ip -n %s route add default via 169.254.1.1 dev eth0", ns) ||
	       sh("ip -n %s neigh add 169.254.1.1 lladdr %s dev eth0 nud permanent", ns,
		  host_mac) ||
	       sh("ip -n %s link set %s up", ns_node, host_if) ||
	       sh("ip -n %s route add %s/32 dev %s src %s", ns_node, ip, host_if, HOST_IP);
}

static int attach(const char *ifname)
{
	int ifindex = if_nametoindex(ifname), err;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, from, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO,
		    .prog_fd = bpf_program__fd(skel->progs.sl_from_pod));
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO,
		    .prog_fd = bpf_program__fd(skel->progs.sl_to_pod));

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	hook.attach_point = BPF_TC_INGRESS;
	err = bpf_tc_attach(&hook, &from);
	if (err)
		return err;
	hook.attach_point = BPF_TC_EGRESS;
	return bpf_tc_attach(&hook, &to);
}

static int setup_world(void)
{
	int root, err;

	snprintf(ns_node, sizeof(ns_node), "slt-bpf-%d-node", getpid());
	snprintf(ns_a, sizeof(ns_a), "slt-bpf-%d-a", getpid());
	snprintf(ns_b, sizeof(ns_b), "slt-bpf-%d-b", getpid());
	have_ns = 1;
	if (sh("ip netns add %s", ns_node) ||
	    sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1", ns_node) ||
	    sh("ip -n %s link set lo up && ip -n %s addr add %s/32 dev lo", ns_node, ns_node,
	       HOST_IP) ||
	    make_pod(ns_a, "slt-ha", POD_A, "02:00:00:00:00:05", "02:00:00:00:01:05") ||
	    make_pod(ns_b, "slt-hb", POD_B, "02:00:00:00:00:06", "02:00:00:00:01:06"))
		return 1;
	skel = open_unpinned();
	if (!skel || datapath_bpf__load(skel)) {
		fprintf(stderr, "datapath: load: %s\n", strerror(errno));
		return 1;
	}
	if (sl_dp_maps_from_obj(&maps, skel->obj))
		return 1;
	/* attach and look up ifindexes from inside the node namespace, then come back */
	root = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (root < 0 || enter(ns_node))
		return 1;
	ifidx[IF_A] = if_nametoindex("slt-ha");
	ifidx[IF_B] = if_nametoindex("slt-hb");
	err = attach("slt-ha") || attach("slt-hb");
	if (setns(root, CLONE_NEWNET) || err) {
		fprintf(stderr, "tc attach: failed\n");
		return 1;
	}
	close(root);
	if (add_endpoint(POD_A, IF_A, mac_a, host_a, SL_EP_F_LOCAL, 100, 0, 0) ||
	    add_endpoint(POD_B, IF_B, mac_b, host_b, SL_EP_F_LOCAL, 101, 0, 0))
		return 1;
	{
		struct sl_ident_val ida = {.id = ID_A}, idh = {.id = SL_IDENTITY_HOST};
		struct sl_addr a = v4(POD_A), h = v4(HOST_IP);

		if (bpf_map_update_elem(maps.ident, &a, &ida, BPF_ANY) ||
		    bpf_map_update_elem(maps.ident, &h, &idh, BPF_ANY))
			return 1;
	}
	return start_server();
}

/* --- policy versions for B's ingress: set `pol` admits from A exactly ports[] --- */

struct ports_ent {
	struct sl_ports_key k;
	struct sl_ports_val v;
};
struct peer_ent {
	struct sl_peer_key k;
	struct sl_portset_ref v;
};

struct version {
	__u32 pol;
	int n;
	struct ports_ent ports[4];
	struct peer_ent peer;
};

static void make_version(struct version *v, __u32 pol, const __u8 *proto, const int *port, int n)
{
	memset(v, 0, sizeof(*v));
	v->pol = pol;
	v->n = n;
	for (int i = 0; i < n; i++)
		v->ports[i] = (struct ports_ent){
		    .k = {.prefixlen = SL_PORTS_PREFIX_FULL,
			  .portset = htonl(pol), /* one portset per set, numbered alike */
			  .proto = proto[i],
			  .port = htons(port[i])},
		    .v = {.rule = pol * 10 + i}};
	v->peer = (struct peer_ent){.k = {.pol = pol, .identity = ID_A, .dir = SL_DIR_INGRESS},
				    .v = {.portset = pol}};
}

/* Flip B's ingress from old (NULL: none) to new. */
static int switch_version(const struct version *old, const struct version *new)
{
	struct sl_dp_ep_flip f = {.addr = v4(POD_B), .pol = {0, new->pol}};
	struct sl_dp_policy_update u = {
	    .ports_add = SL_DP_PAIRS(new->ports, new->n, k, v),
	    .peer_add = SL_DP_PAIRS(&new->peer, 1, k, v),
	    .eps = &f,
	    .n_eps = 1,
	};

	if (old) {
		u.peer_del = SL_DP_PAIRS(&old->peer, 1, k, v);
		u.ports_del = SL_DP_PAIRS(old->ports, old->n, k, v);
	}
	return sl_dp_policy_apply(&maps, &u, NULL);
}

#define EXPECT_PROBE(ns, fn, probe, want, what) EXPECT_EQ(in_ns(ns, fn, probe) == 0, want, what)

int main(void)
{
	static const struct probe b8080 = {POD_B, 8080, POD_A}, b8081 = {POD_B, 8081, POD_A},
				  b5353 = {POD_B, 5353, POD_A}, b9000 = {POD_B, 9000, POD_A},
				  b9001 = {POD_B, 9001, POD_A}, bping = {POD_B, 0, POD_A};
	static const __u8 p1[] = {IPPROTO_TCP, IPPROTO_SCTP},
			  p2[] = {IPPROTO_TCP, IPPROTO_SCTP, IPPROTO_UDP},
			  p3[] = {IPPROTO_SCTP, IPPROTO_UDP};
	static const int o1[] = {8080, 9000}, o2[] = {8080, 9000, 5353}, o3[] = {9000, 5353};
	struct version v1, v2, v3;
	long long redirects, policy_drops, before;
	pid_t cut;
	int status;
	char c;

	libbpf_set_print(quiet_libbpf);
	if (geteuid()) {
		fprintf(stderr, "needs root\n");
		return SKIP;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (setup_world()) {
		fprintf(stderr, "netns: setup failed\n");
		return 1;
	}

	/* no policy: everything flows, same-node by redirect_peer */
	redirects = counter(skel, SL_FWD_REDIRECT, SL_DIR_EGRESS);
	EXPECT_PROBE(ns_a, probe_icmp, &bping, 1, "open: ping A->B");
	EXPECT_PROBE(ns_a, probe_tcp, &b8080, 1, "open: TCP A->B:8080");
	EXPECT_PROBE(ns_a, probe_udp, &b5353, 1, "open: UDP A->B:5353");
	EXPECT_PROBE(ns_a, probe_sctp, &b9000, 1, "open: SCTP INIT A->B:9000");
	EXPECT_EQ(counter(skel, SL_FWD_REDIRECT, SL_DIR_EGRESS) - redirects >= 8, 1,
		  "open: same-node packets went by redirect_peer (both ways)");
	EXPECT_PROBE(ns_node, probe_tcp, &b8081, 1, "open: TCP node->B:8081 (host stack, to_pod)");

	/* B's ingress admits from A: TCP 8080, SCTP 9000 */
	make_version(&v1, 10, p1, o1, 2);
	make_version(&v2, 11, p2, o2, 3);
	make_version(&v3, 12, p3, o3, 2);
	EXPECT_EQ(switch_version(NULL, &v1), 0, "apply v1");
	policy_drops = counter(skel, SL_DROP_POLICY, SL_DIR_INGRESS);
	EXPECT_PROBE(ns_a, probe_tcp, &b8080, 1, "v1: TCP 8080 allowed");
	EXPECT_PROBE(ns_a, probe_tcp, &b8081, 0, "v1: TCP 8081 denied");
	EXPECT_PROBE(ns_a, probe_udp, &b5353, 0, "v1: UDP 5353 denied");
	EXPECT_PROBE(ns_a, probe_icmp, &bping, 0, "v1: ping denied");
	EXPECT_PROBE(ns_a, probe_sctp, &b9000, 1, "v1: SCTP 9000 allowed (INIT-ACK came back)");
	EXPECT_PROBE(ns_a, probe_sctp, &b9001, 0, "v1: SCTP 9001 denied");
	EXPECT_PROBE(ns_node, probe_tcp, &b8081, 1, "v1: node's address always reaches B");
	EXPECT_EQ(counter(skel, SL_DROP_POLICY, SL_DIR_INGRESS) - policy_drops >= 4, 1,
		  "v1: policy drops counted");

	/* v2 adds UDP 5353 */
	EXPECT_EQ(switch_version(&v1, &v2), 0, "apply v2");
	EXPECT_PROBE(ns_a, probe_udp, &b5353, 1, "v2: UDP 5353 allowed");

	/* v3 drops TCP 8080: an established connection is cut at its next packet */
	if (pipe(cut_pipe) || pipe(go_pipe))
		return 1;
	cut = fork();
	if (!cut)
		_exit(enter(ns_a) ? 100 : probe_cut(&b8080));
	EXPECT_EQ(read(cut_pipe[0], &c, 1), 1, "cut: first exchange done");
	EXPECT_EQ(c, 'E', "cut: first exchange echoed");
	EXPECT_EQ(switch_version(&v2, &v3), 0, "apply v3");
	EXPECT_EQ(write(go_pipe[1], "g", 1), 1, "cut: go");
	EXPECT_EQ(waitpid(cut, &status, 0) == cut && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		  2, "v3: established TCP 8080 connection cut");
	EXPECT_PROBE(ns_a, probe_tcp, &b8080, 0, "v3: new TCP 8080 denied");
	EXPECT_PROBE(ns_a, probe_udp, &b5353, 1, "v3: UDP 5353 still allowed");

	/* what a pod's own stack would never send: from packet sockets */
	{
		struct pkt_spec t = {.smac = mac_a,
				     .dmac = host_a,
				     .src = POD_A,
				     .dst = POD_B,
				     .proto = IPPROTO_TCP};
		struct pkt f = pkt_build(&t);

		f.len = ETH_HLEN + 10; /* an IPv4 header cut at 10 bytes */
		before = counter(skel, SL_DROP_TRUNCATED, SL_DIR_EGRESS);
		EXPECT_EQ(in_ns(ns_a, send_frame, &f), 0, "truncated: sent");
		for (int i = 0;
		     i < 100 && counter(skel, SL_DROP_TRUNCATED, SL_DIR_EGRESS) == before; i++)
			usleep(10000); /* the veth delivers from a softirq: poll the counter */
		EXPECT_EQ(counter(skel, SL_DROP_TRUNCATED, SL_DIR_EGRESS) - before, 1,
			  "truncated IPv4 header from a pod: dropped and counted");

		t.src = "10.0.0.99";
		f = pkt_build(&t);
		before = counter(skel, SL_DROP_SPOOFED_IP, SL_DIR_EGRESS);
		EXPECT_EQ(in_ns(ns_a, send_frame, &f), 0, "spoofed: sent");
		for (int i = 0;
		     i < 100 && counter(skel, SL_DROP_SPOOFED_IP, SL_DIR_EGRESS) == before; i++)
			usleep(10000);
		EXPECT_EQ(counter(skel, SL_DROP_SPOOFED_IP, SL_DIR_EGRESS) - before, 1,
			  "spoofed source from a pod: dropped and counted");
	}

	sl_dp_maps_close(&maps);
	cleanup();
	datapath_bpf__destroy(skel);
	return report();
}
