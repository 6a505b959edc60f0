// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_maps.c - sluicectl's reading of the pinned maps: opening them, counting entries, per-CPU
 * sums, decoding addresses, prefixes and port prefixes, and the datapath's policy lookup
 * (bpf/lib/policy.h) done from user space over the same maps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"

int ctl_maps_open(struct sl_dp_maps *m, const char *what)
{
	char path[PATH_MAX];

	sl_dp_maps_init(m);
	for (size_t i = 0; i < sl_dp_maps_count(); i++) {
		int *fd = sl_dp_map_fd(m, i);

		ctl_pin_path(path, sizeof(path), sl_dp_map_name(i));
		*fd = bpf_obj_get(path);
		if (*fd < 0) {
			int err = errno;

			sl_dp_maps_close(m);
			return ctl_fail(what, "%s: %s (is the agent's --bpffs %s?)", path,
					strerror(err), ctl.bpffs);
		}
	}
	return 0;
}

long ctl_map_count(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	unsigned char *k, *next;
	long n = 0;
	void *prev = NULL;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	k = malloc(info.key_size ? info.key_size : 1);
	next = malloc(info.key_size ? info.key_size : 1);
	if (!k || !next) {
		free(k);
		free(next);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, info.key_size);
		prev = k;
		n++;
	}
	free(k);
	free(next);
	return n;
}

int ctl_percpu_sum(int fd, __u32 idx, struct sl_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sl_counter *v;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &idx, v)) {
		err = -errno;
	} else {
		for (int c = 0; c < ncpu; c++) {
			out->packets += v[c].packets;
			out->bytes += v[c].bytes;
		}
	}
	free(v);
	return err;
}

/* ------------------------------------------------------------------ decoding */

static const __u8 v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void ctl_v4_addr(__be32 ip, struct sl_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->w[2] = htonl(0xffff);
	a->w[3] = ip;
}

const char *ctl_addr_str(const struct sl_addr *a, char *buf, size_t len)
{
	if (!memcmp(a->w, v4mapped, 12))
		inet_ntop(AF_INET, &a->w[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->w, buf, (socklen_t)len);
	return buf;
}

const char *ctl_prefix_str(const struct sl_addr *a, unsigned bits, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (bits >= 96 && !memcmp(a->w, v4mapped, 12)) {
		inet_ntop(AF_INET, &a->w[3], ip, sizeof(ip));
		snprintf(buf, len, "%s/%u", ip, bits - 96);
	} else {
		inet_ntop(AF_INET6, a->w, ip, sizeof(ip));
		snprintf(buf, len, "%s/%u", ip, bits);
	}
	return buf;
}

const char *ctl_proto_name(unsigned proto, char *buf, size_t len)
{
	switch (proto) {
	case 0:
		return "any";
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

static int proto_num(const char *s)
{
	if (!strcasecmp(s, "tcp"))
		return IPPROTO_TCP;
	if (!strcasecmp(s, "udp"))
		return IPPROTO_UDP;
	if (!strcasecmp(s, "sctp"))
		return IPPROTO_SCTP;
	if (!strcasecmp(s, "icmp"))
		return IPPROTO_ICMP;
	return -1;
}

int ctl_parse_port(const char *s, unsigned *proto, unsigned *port)
{
	char buf[32], *slash, *end;
	long p;
	int pr;

	if (strlen(s) >= sizeof(buf))
		return CTL_USAGE;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	pr = proto_num(buf);
	if (pr >= 0 && !slash) { /* "tcp", "icmp" */
		*proto = (unsigned)pr;
		*port = 0;
		return pr == IPPROTO_ICMP ? 0 : CTL_USAGE;
	}
	errno = 0;
	p = strtol(buf, &end, 10);
	if (errno || end == buf || *end || p < 0 || p > 65535)
		return CTL_USAGE;
	pr = slash ? proto_num(slash) : IPPROTO_TCP;
	if (pr < 0 || (pr == IPPROTO_ICMP && p))
		return CTL_USAGE;
	if (pr != IPPROTO_ICMP && !p)
		return CTL_USAGE;
	*proto = (unsigned)pr;
	*port = (unsigned)p;
	return 0;
}

void ctl_ports_range(const struct sl_ports_key *k, unsigned *proto, unsigned *lo, unsigned *hi)
{
	unsigned port = ntohs(k->port), bits;

	*proto = k->prefixlen >= SL_PORTS_PREFIX_PROTO ? k->proto : 0;
	if (k->prefixlen <= SL_PORTS_PREFIX_PORT) {
		*lo = 0;
		*hi = 65535;
		return;
	}
	bits = k->prefixlen - SL_PORTS_PREFIX_PORT;
	if (bits > 16)
		bits = 16;
	*lo = port & (0xffffu << (16 - bits)) & 0xffff;
	*hi = *lo | ((1u << (16 - bits)) - 1);
}

/* ------------------------------------------------------------------ the policy lookup */

static int portset_match(const struct sl_dp_maps *m, __u32 ps, unsigned proto, unsigned port,
			 __u32 *rule)
{
	struct sl_ports_key k = {.prefixlen = SL_PORTS_PREFIX_FULL,
				 .portset = htonl(ps),
				 .proto = (__u8)proto,
				 .port = htons((__u16)port)};
	struct sl_ports_val v;

	if (!ps)
		return 0;
	if (bpf_map_lookup_elem(m->ports, &k, &v))
		return errno == ENOENT ? 0 : -errno;
	*rule = v.rule;
	return 1;
}

int ctl_lookup(const struct sl_dp_maps *m, const struct sl_endpoint *ep, unsigned dir,
	       const struct sl_addr *peer, unsigned proto, unsigned port, struct ctl_verdict *v)
{
	struct sl_ident_val iv;
	struct sl_portset_ref ps;
	struct sl_peer_key pk = {};
	struct sl_cidr_key ck = {};
	bool invalid = ep->flags & SL_EP_F_POLICY_INVALID;
	bool has_port = proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
	int r;

	memset(v, 0, sizeof(*v));
	v->pol = ep->pol[dir];
	if (!v->pol && !invalid) {
		v->reason = SL_FWD_NO_POLICY;
		return 0;
	}
	v->peer_id = bpf_map_lookup_elem(m->ident, peer, &iv) ? SL_IDENTITY_WORLD : iv.id;
	if (dir == SL_DIR_INGRESS && v->peer_id == SL_IDENTITY_HOST) {
		v->reason = SL_FWD_HOST;
		return 0;
	}
	if (invalid) {
		v->reason = SL_DROP_POLICY_INVALID;
		return 0;
	}
	if (!has_port)
		port = 0;
	v->reason = SL_FWD_POLICY;
	pk.pol = v->pol;
	pk.identity = v->peer_id;
	pk.dir = (__u8)dir;
	if (!bpf_map_lookup_elem(m->peer, &pk, &ps)) {
		r = portset_match(m, ps.portset, proto, port, &v->rule);
		if (r < 0)
			return r;
		if (r) {
			v->portset = ps.portset;
			return 0;
		}
	}
	ck.prefixlen = SL_CIDR_PREFIX_BASE + 128;
	ck.pol = v->pol;
	ck.dir = (__u8)dir;
	ck.addr = *peer;
	if (!bpf_map_lookup_elem(m->cidr, &ck, &ps)) {
		r = portset_match(m, ps.portset, proto, port, &v->rule);
		if (r < 0)
			return r;
		if (r) {
			v->portset = ps.portset;
			v->via_cidr = true;
			return 0;
		}
	}
	v->reason = proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
			    proto == IPPROTO_ICMP
			? SL_DROP_POLICY
			: SL_DROP_UNKNOWN_L4;
	return 0;
}
