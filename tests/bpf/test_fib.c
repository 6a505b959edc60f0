// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_fib.c - cross-node forwarding by bpf_fib_lookup (SL_CFG_FIB, bpf/lib/fib.h) with real
 * traffic: two "node" namespaces joined by a veth (10.210.0.1/24 <-> 10.210.0.2/24), each with
 * one pod behind a host veth that has sl_from_pod/sl_to_pod attached (one datapath object per
 * node), each node routing the other's pod range via the other node. Checks that TCP, UDP and
 * ICMP between the pods are forwarded by the FIB path on both nodes (fwd_fib moves and the
 * answers come back, through the host stack and sl_to_pod on the receiving side), that the
 * first packet to an unresolved next hop gets through (bpf_redirect_neigh), that what the FIB
 * does not forward goes to the host stack (TTL 1: the node answers time exceeded; the node's
 * own address; no route: the node answers unreachable), that only pods' addresses take the FIB
 * path (the other node's address goes by the stack), that a spoofed source is dropped
 * before any of it, and that without SL_CFG_FIB the same traffic goes through the stack.
 * Namespaces are slt-fib-<pid>-*, removed at exit.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char ns[4][48]; /* node 1, node 2, pod 1, pod 2 */
#define N1   ns[0]
#define N2   ns[1]
#define P1   ns[2]
#define P2   ns[3]
#define POD1 "10.245.1.2"
#define POD2 "10.245.2.2"
static pid_t server = -1;
static int have_ns;
static struct datapath_bpf *skel[2];

static void cleanup(void)
{
	char cmd[512];

	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
	for (int i = 0; i < 2; i++) {
		datapath_bpf__destroy(skel[i]);
		skel[i] = NULL;
	}
	if (!have_ns)
		return;
	have_ns = 0;
	snprintf(cmd, sizeof(cmd), "for n in %s %s %s %s; do ip netns del $n 2>/dev/null; done", P1,
		 P2, N1, N2);
	if (system(cmd))
		fprintf(stderr, "cleanup: %s: failed\n", cmd);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(1); /* runs cleanup() */
}

/* The output of a shell command (first 4 KiB). */
static const char *out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *out(const char *fmt, ...)
{
	static char buf[4096];
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		pclose(f);
	return buf;
}

static int enter(const char *name)
{
	char path[128];
	int fd, err;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

static int mac_of(const char *netns, const char *dev, __u8 *mac)
{
	const char *s = out("ip -n %s -br link show dev %s | awk '{print $3}'", netns, dev);
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

/* Node K (1, 2): underlay address 10.210.0.K, pod 10.245.K.2 behind host veth slt-hK. */
static int wire(int k)
{
	const char *node = ns[k - 1], *pod = ns[k + 1], *pod_ip = k == 1 ? POD1 : POD2;
	int other = 3 - k;

	return sh("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 "
		  "net.ipv4.conf.default.rp_filter=0",
		  node) ||
	       sh("ip -n %s link add slt-h%d type veth peer name eth0 netns %s", node, k, pod) ||
	       sh("ip -n %s link set slt-h%d up && ip -n %s link set eth0 up && ip -n %s link set "
		  "lo up",
		  node, k, pod, pod) ||
	       sh("ip -n %s addr add %s/32 dev eth0 && ip -n %s route add 169.254.1.1 dev eth0 "
		  "scope link && ip -n %s route add default via 169.254.1.1 dev eth0",
		  pod, pod_ip, pod, pod) ||
	       sh("ip -n %s neigh add 169.254.1.1 lladdr $(ip -n %s -br link show dev slt-h%d | "
		  "awk '{print $3}') dev eth0 nud permanent",
		  pod, node, k) ||
	       sh("ip -n %s route add %s/32 dev slt-h%d", node, pod_ip, k) ||
	       sh("ip -n %s route add 10.245.%d.0/24 via 10.210.0.%d", node, other, other);
}

static int setup(void)
{
	return sh("ip netns add %s && ip netns add %s && ip netns add %s && ip netns add %s", N1,
		  N2, P1, P2) ||
	       sh("ip -n %s link add eth0 type veth peer name eth0 netns %s", N1, N2) ||
	       sh("ip -n %s addr add 10.210.0.1/24 dev eth0 && ip -n %s link set eth0 up && "
		  "ip -n %s addr add 10.210.0.2/24 dev eth0 && ip -n %s link set eth0 up",
		  N1, N1, N2, N2) ||
	       wire(1) || wire(2);
}

/* Load node K's datapath with flags, its pod as the one local endpoint, attached to slt-hK. */
static int load_node(int k, __u32 flags)
{
	static const struct sl_cfg defaults = SL_CFG_DEFAULTS;
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, from, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	struct sl_endpoint ep = {.ep_id = (__u32)k, .flags = SL_EP_F_LOCAL};
	struct sl_addr a = {.w = {0, 0, htonl(0xffff), 0}};
	char host_if[16];
	int self, err;

	bool reload = skel[k - 1] != NULL; /* clsact exists already */

	snprintf(host_if, sizeof(host_if), "slt-h%d", k);
	datapath_bpf__destroy(skel[k - 1]);
	skel[k - 1] = open_unpinned();
	if (!skel[k - 1])
		return -errno;
	skel[k - 1]->rodata->sl_cfg = defaults;
	skel[k - 1]->rodata->sl_cfg.flags = flags;
	err = datapath_bpf__load(skel[k - 1]);
	if (err)
		return err;
	if (mac_of(ns[k + 1], "eth0", ep.pod_mac) || mac_of(ns[k - 1], host_if, ep.host_mac))
		return -EINVAL;
	inet_pton(AF_INET, k == 1 ? POD1 : POD2, &a.w[3]);

	/* ifindexes and tc hooks live in the node namespace: go there and come back */
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || enter(ns[k - 1]))
		return -errno;
	ep.ifindex = if_nametoindex(host_if);
	hook.ifindex = (int)ep.ifindex;
	err = reload ? 0 : bpf_tc_hook_create(&hook);
	from.prog_fd = bpf_program__fd(skel[k - 1]->progs.sl_from_pod);
	to.prog_fd = bpf_program__fd(skel[k - 1]->progs.sl_to_pod);
	hook.attach_point = BPF_TC_INGRESS;
	err = err ?: bpf_tc_attach(&hook, &from);
	hook.attach_point = BPF_TC_EGRESS;
	err = err ?: bpf_tc_attach(&hook, &to);
	if (setns(self, CLONE_NEWNET))
		err = -errno;
	close(self);
	if (!err)
		err = bpf_map__update_elem(skel[k - 1]->maps.sl_endpoints, &a, sizeof(a), &ep,
					   sizeof(ep), BPF_ANY);
	/* Both pods have a pod identity, as the agent writes every pod IP of the cluster. */
	for (int i = 0; !err && i < 2; i++) {
		struct sl_ident_val id = {.id = SL_IDENTITY_FIRST + (__u32)i};

		inet_pton(AF_INET, i ? POD2 : POD1, &a.w[3]);
		err = bpf_map__update_elem(skel[k - 1]->maps.sl_ident, &a, sizeof(a), &id,
					   sizeof(id), BPF_ANY);
	}
	return err;
}

/* --- a TCP and UDP echo server in pod 2 --- */

static int serve(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
	int one = 1, t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	struct pollfd p[2] = {{.fd = t, .events = POLLIN}, {.fd = u, .events = POLLIN}};

	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (t < 0 || u < 0 || bind(t, (void *)&sa, sizeof(sa)) || listen(t, 16) ||
	    bind(u, (void *)&sa, sizeof(sa)))
		return 1;
	if (write(3, "R", 1) != 1)
		return 1;
	for (;;) {
		char buf[512];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r;

		if (poll(p, 2, -1) < 0)
			return 1;
		if (p[0].revents & POLLIN) {
			int c = accept(t, NULL, NULL);

			if (c >= 0) {
				struct pollfd pc = {.fd = c, .events = POLLIN};

				if (poll(&pc, 1, 2000) == 1 &&
				    (r = read(c, buf, sizeof(buf))) > 0 && write(c, buf, r) != r)
					r = -1;
				close(c);
			}
		}
		if (p[1].revents & POLLIN) {
			r = recvfrom(u, buf, sizeof(buf), 0, (void *)&from, &fl);
			if (r > 0)
				sendto(u, buf, r, 0, (void *)&from, fl);
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
		if (dup2(pfd[1], 3) < 0 || enter(P2))
			_exit(100);
		_exit(serve());
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		return -1;
	}
	close(pfd[0]);
	return 0;
}

/* One echo over TCP or UDP from pod 1 to pod 2, in a child inside pod 1. 0 = answered. */
static int probe(int type)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
		struct timeval tv = {.tv_sec = 2};
		char buf[16];
		int fd;

		if (enter(P1))
			_exit(100);
		fd = socket(AF_INET, type, 0);
		inet_pton(AF_INET, POD2, &sa.sin_addr);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (void *)&sa, sizeof(sa)) || send(fd, "hello", 5, 0) != 5 ||
		    recv(fd, buf, sizeof(buf), 0) != 5 || memcmp(buf, "hello", 5))
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static long long fib(int k)
{
	return counter(skel[k - 1], SL_FWD_FIB, SL_DIR_EGRESS);
}

static long long stack(int k)
{
	return counter(skel[k - 1], SL_FWD_STACK, SL_DIR_EGRESS);
}

static void test_fib_path(void)
{
	long long f1 = fib(1), f2 = fib(2), s1, to2;
	const char *o;

	EXPECT_EQ(sh("ip netns exec %s ping -c 3 -i 0.1 -W 2 -q %s >/dev/null", P1, POD2), 0,
		  "ICMP pod 1 -> pod 2 across nodes");
	EXPECT_EQ(probe(SOCK_STREAM), 0, "TCP pod 1 -> pod 2 across nodes");
	EXPECT_EQ(probe(SOCK_DGRAM), 0, "UDP pod 1 -> pod 2 across nodes");
	EXPECT_EQ(fib(1) - f1 >= 3 + 3 + 1, 1, "node 1 forwarded the requests by the FIB");
	EXPECT_EQ(fib(2) - f2 >= 3 + 2 + 1, 1, "node 2 forwarded the answers by the FIB");
	EXPECT_EQ(counter(skel[1], SL_FWD_TO_POD, SL_DIR_INGRESS) > 0, 1,
		  "arrivals from the other node reach the pod through sl_to_pod");

	/* Unresolved next hop: bpf_redirect_neigh resolves it; the first packet gets through. */
	sh("ip -n %s neigh flush dev eth0", N1);
	f1 = fib(1);
	EXPECT_EQ(sh("ip netns exec %s ping -c 1 -W 2 -q %s >/dev/null", P1, POD2), 0,
		  "first packet to an unresolved next hop answered (bpf_redirect_neigh)");
	EXPECT_EQ(fib(1) - f1, 1, "... and it went by the FIB path");
	EXPECT_EQ(strstr(out("ip -n %s neigh show 10.210.0.2", N1), "lladdr") != NULL, 1,
		  "... which resolved the next hop's neighbour entry");

	/* What the FIB does not forward: to the host stack. */
	f1 = fib(1);
	s1 = stack(1);
	o = out("ip netns exec %s ping -c 1 -t 1 -W 2 %s 2>&1", P1, POD2);
	EXPECT_EQ(strstr(o, "Time to live exceeded") != NULL, 1,
		  "TTL 1: the node answers time exceeded (stack, not FIB)");
	EXPECT_EQ(sh("ip netns exec %s ping -c 1 -W 2 -q 10.210.0.1 >/dev/null", P1), 0,
		  "the node's own address: delivered locally");
	o = out("ip netns exec %s ping -c 1 -W 2 10.99.0.1 2>&1", P1);
	EXPECT_EQ(strstr(o, "nreachable") != NULL, 1, "no route: the node answers unreachable");
	EXPECT_EQ(sh("ip netns exec %s ping -c 1 -W 2 -q 10.210.0.2 >/dev/null", P1), 0,
		  "the other node's address (not a pod): answered");
	EXPECT_EQ(fib(1) - f1, 0, "none of those went by the FIB path");
	EXPECT_EQ(stack(1) - s1, 4, "all four went to the host stack");

	/* A spoofed source is dropped before forwarding. */
	f1 = fib(1);
	to2 = counter(skel[1], SL_FWD_TO_POD, SL_DIR_INGRESS);
	sh("ip -n %s addr add 10.245.2.99/32 dev eth0", P1);
	EXPECT_EQ(sh("ip netns exec %s ping -c 2 -i 0.1 -W 1 -q -I 10.245.2.99 %s >/dev/null 2>&1 "
		     "|| true",
		     P1, POD2),
		  0, "spoofed ping sent");
	EXPECT_EQ(counter(skel[1], SL_FWD_TO_POD, SL_DIR_INGRESS) == to2, 1,
		  "spoofed source (the other node's range): nothing arrives at pod 2");
	sh("ip -n %s addr del 10.245.2.99/32 dev eth0", P1);
	EXPECT_EQ(counter(skel[0], SL_DROP_SPOOFED_IP, SL_DIR_EGRESS) >= 2, 1,
		  "spoofed packets counted drop_spoofed_ip");
	EXPECT_EQ(fib(1) - f1, 0, "spoofed packets never reached the FIB path");
}

static void test_stack_path(void)
{
	long long s1;

	EXPECT_EQ(load_node(1, SL_CFG_ALL), 0, "node 1 reloaded without SL_CFG_FIB");
	s1 = stack(1);
	EXPECT_EQ(sh("ip netns exec %s ping -c 3 -i 0.1 -W 2 -q %s >/dev/null", P1, POD2), 0,
		  "ICMP across nodes by the host stack");
	EXPECT_EQ(probe(SOCK_STREAM), 0, "TCP across nodes by the host stack");
	EXPECT_EQ(stack(1) - s1 >= 4, 1, "node 1 passed them to the stack (fwd_stack)");
	EXPECT_EQ(fib(1), 0, "and never by the FIB path");
}

int main(void)
{
	int err;

	if (geteuid()) {
		printf("needs root: skipped\n0 passed, 0 failed\n");
		return SKIP;
	}
	libbpf_set_print(quiet_libbpf);
	for (int i = 0; i < 4; i++)
		snprintf(ns[i], sizeof(ns[i]), "slt-fib-%d-%s", getpid(),
			 (const char *[]){"n1", "n2", "p1", "p2"}[i]);
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	have_ns = 1;
	if (setup()) {
		fprintf(stderr, "namespaces: set-up failed\n");
		return 1;
	}
	err = load_node(1, SL_CFG_ALL | SL_CFG_FIB);
	if (err == -EPERM)
		return SKIP;
	EXPECT_EQ(err, 0, "node 1: load and attach with SL_CFG_FIB");
	EXPECT_EQ(load_node(2, SL_CFG_ALL | SL_CFG_FIB), 0,
		  "node 2: load and attach with SL_CFG_FIB");
	if (failed || start_server()) {
		fprintf(stderr, "set-up failed\n");
		return report() ?: 1;
	}
	test_fib_path();
	test_stack_path();
	return report();
}
