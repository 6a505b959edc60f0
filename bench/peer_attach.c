/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * peer_attach.c - load the benchmark's bare bpf_redirect_peer program (peer.bpf.c), fill its
 * map with the given pods and attach it to their host veths' tc ingress, then exit: the tc
 * filters keep the program and its map alive until the links go away with their namespace.
 *
 *   sl-bench-peer HOST_IF,POD_IP,POD_MAC...      (run in the node's network namespace)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <bpf/libbpf.h>

#include "peer.h"
#include "peer.skel.h"

#define PEER_TC_HANDLE 0x5c1b
#define PEER_TC_PRIO   1

struct pod {
	char host_if[IF_NAMESIZE];
	__be32 ip;
	struct slb_peer_dst dst;
};

static int parse_mac(const char *s, __u8 *mac)
{
	unsigned int b[ETH_ALEN];
	char extra;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) !=
	    ETH_ALEN)
		return -EINVAL;
	for (i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

static int link_mac(const char *ifname, __u8 *mac)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
	return err;
}

/* "HOST_IF,POD_IP,POD_MAC" -> pod; 0 or -errno, with the message printed. */
static int parse_pod(const char *arg, struct pod *p)
{
	char buf[128], *ip, *mac;
	int err;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		goto bad;
	ip = strchr(buf, ',');
	if (!ip)
		goto bad;
	*ip++ = '\0';
	mac = strchr(ip, ',');
	if (!mac)
		goto bad;
	*mac++ = '\0';
	if (strlen(buf) >= IF_NAMESIZE || inet_pton(AF_INET, ip, &p->ip) != 1 ||
	    parse_mac(mac, p->dst.pod_mac))
		goto bad;
	strcpy(p->host_if, buf);
	p->dst.ifindex = if_nametoindex(buf);
	if (!p->dst.ifindex) {
		fprintf(stderr, "%s: no such link: %s\n", buf, strerror(errno));
		return -ENODEV;
	}
	err = link_mac(buf, p->dst.host_mac);
	if (err)
		fprintf(stderr, "%s: read MAC: %s\n", buf, strerror(-err));
	return err;
bad:
	fprintf(stderr, "expected HOST_IF,POD_IP,POD_MAC, got '%s'\n", arg);
	return -EINVAL;
}

static int attach(int ifindex, const char *ifname, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PEER_TC_HANDLE, .priority = PEER_TC_PRIO,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		fprintf(stderr, "%s: create clsact: %s\n", ifname, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		fprintf(stderr, "%s: tc attach: %s\n", ifname, strerror(-err));
	return err;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* bpf_tc_hook_create() warns about an existing qdisc: expected, not an error. */
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	struct peer_bpf *skel = NULL;
	struct pod *pods = NULL;
	int i, n = argc - 1, err = 0;

	if (n < 1 || !strcmp(argv[1], "-h")) {
		fprintf(n < 1 ? stderr : stdout,
			"usage: sl-bench-peer HOST_IF,POD_IP,POD_MAC...\n");
		return n < 1 ? 2 : 0;
	}
	if (n > SLB_PEER_MAX) {
		fprintf(stderr, "at most %d pods, got %d\n", SLB_PEER_MAX, n);
		return 2;
	}
	pods = calloc(n, sizeof(*pods));
	if (!pods)
		return 1;
	for (i = 0; i < n; i++) {
		if (parse_pod(argv[i + 1], &pods[i])) {
			free(pods);
			return 2;
		}
	}
	libbpf_set_print(quiet);
	skel = peer_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "peer.bpf.o: open and load: %s\n", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		err = bpf_map__update_elem(skel->maps.slb_peer_dst, &pods[i].ip, sizeof(pods[i].ip),
					   &pods[i].dst, sizeof(pods[i].dst), BPF_ANY);
		if (err) {
			fprintf(stderr, "slb_peer_dst: update: %s\n", strerror(-err));
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		err = attach(pods[i].dst.ifindex, pods[i].host_if,
			     bpf_program__fd(skel->progs.slb_peer));
		if (err)
			goto out;
	}
out:
	peer_bpf__destroy(skel);
	free(pods);
	return err ? 1 : 0;
}
