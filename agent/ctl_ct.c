// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_ct.c - sluicectl ct list: the conntrack map (sl_ct) decoded: flow, state, time left,
 * packets and bytes, the pods at each end and the rules that allowed each side; with filters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "dp_ct.h"

enum { OPT_POD = 300, OPT_IP, OPT_PROTO, OPT_PORT, OPT_STATE };

struct filt {
	const char *pod, *state;
	struct sl_addr ip;
	bool has_ip;
	int proto, port;
};

static const char *const states[] = {"new", "syn-sent", "established", "closing"};

static int proto_of(const char *s)
{
	static const struct {
		const char *n;
		int p;
	} t[] = {{"tcp", IPPROTO_TCP},
		 {"udp", IPPROTO_UDP},
		 {"sctp", IPPROTO_SCTP},
		 {"icmp", IPPROTO_ICMP}};

	for (size_t i = 0; i < 4; i++)
		if (!strcasecmp(s, t[i].n))
			return t[i].p;
	return -1;
}

static int opt_cb(int o, const char *arg, void *ctx)
{
	struct filt *f = ctx;
	struct in_addr ip;
	char *end;
	long v;

	switch (o) {
	case OPT_POD:
		if (!strchr(arg, '/'))
			return ctl_usage("ct list", "--pod: '%s' is not NAMESPACE/POD", arg);
		f->pod = arg;
		return 0;
	case OPT_IP:
		if (inet_pton(AF_INET, arg, &ip) != 1)
			return ctl_usage("ct list", "--ip: '%s' is not an IPv4 address", arg);
		ctl_v4_addr(ip.s_addr, &f->ip);
		f->has_ip = true;
		return 0;
	case OPT_PROTO:
		f->proto = proto_of(arg);
		if (f->proto < 0)
			return ctl_usage("ct list", "--proto: '%s' is not tcp, udp, sctp or icmp",
					 arg);
		return 0;
	case OPT_PORT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < 1 || v > 65535)
			return ctl_usage("ct list", "--port: '%s' is not a port (1-65535)", arg);
		f->port = (int)v;
		return 0;
	case OPT_STATE:
		for (size_t i = 0; i < 4; i++)
			if (!strcmp(arg, states[i])) {
				f->state = arg;
				return 0;
			}
		return ctl_usage("ct list",
				 "--state: '%s' is not new, syn-sent, established or "
				 "closing",
				 arg);
	}
	return CTL_USAGE;
}

static int do_list(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"pod", required_argument, NULL, OPT_POD},
	    {"ip", required_argument, NULL, OPT_IP},
	    {"proto", required_argument, NULL, OPT_PROTO},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"state", required_argument, NULL, OPT_STATE},
	    {0},
	};
	struct ctl_ids rules = {0};
	struct filt f = {.proto = -1};
	struct sl_ct_key k, *prev = NULL;
	struct sl_ct_val v;
	struct sl_dp_maps m;
	struct sl_endpoint ep;
	struct ctl_names n;
	cJSON *arr;
	__u64 now = sl_dp_ct_now();
	char **pos;
	int npos, rc;
	bool local;

	rc = ctl_getopt(argc, argv, "ct list",
			"[--pod NS/POD] [--ip A.B.C.D] [--proto P] [--port N] [--state S]", NULL,
			lo, opt_cb, &f, &pos, &npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos)
		return ctl_usage("ct list", "unexpected argument '%s'", pos[0]);
	rc = ctl_maps_open(&m, "ct list");
	if (rc)
		return rc;
	while (!bpf_map_get_next_key(m.ct, prev, &k)) {
		prev = &k;
		if (!bpf_map_lookup_elem(m.ct, &k, &v)) {
			ctl_ids_add(&rules, v.rule[0]);
			ctl_ids_add(&rules, v.rule[1]);
		}
	}
	ctl_names_load(&n, NULL, &rules, NULL);
	if (f.pod) {
		rc = ctl_resolve(&m, &n, "ct list", f.pod, &f.ip, &ep, &local);
		if (rc)
			goto out;
		f.has_ip = true;
	}
	ctl_names_note(&n);
	arr = cJSON_CreateArray();
	prev = NULL;
	while (!bpf_map_get_next_key(m.ct, prev, &k)) {
		char sa[64], da[64], pb[16], buf[300];
		const char *st;
		cJSON *o;

		prev = &k;
		if (bpf_map_lookup_elem(m.ct, &k, &v))
			continue;
		st = v.state < 4 ? states[v.state] : "?";
		if (f.has_ip && memcmp(&k.saddr, &f.ip, sizeof(f.ip)) &&
		    memcmp(&k.daddr, &f.ip, sizeof(f.ip)))
			continue;
		if (f.proto >= 0 && k.proto != f.proto)
			continue;
		if (f.port && ntohs(k.sport) != f.port && ntohs(k.dport) != f.port)
			continue;
		if (f.state && strcmp(f.state, st))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "protocol", ctl_proto_name(k.proto, pb, sizeof(pb)));
		cJSON_AddStringToObject(o, "src", ctl_addr_str(&k.saddr, sa, sizeof(sa)));
		cJSON_AddNumberToObject(o, "sport", ntohs(k.sport));
		cJSON_AddStringToObject(o, "dst", ctl_addr_str(&k.daddr, da, sizeof(da)));
		cJSON_AddNumberToObject(o, "dport", ntohs(k.dport));
		if (ctl_pod_of(&n, &k.saddr, buf, sizeof(buf)))
			cJSON_AddStringToObject(o, "srcPod", buf);
		if (ctl_pod_of(&n, &k.daddr, buf, sizeof(buf)))
			cJSON_AddStringToObject(o, "dstPod", buf);
		cJSON_AddStringToObject(o, "state", st);
		cJSON_AddBoolToObject(o, "replied", v.flags & SL_CT_F_REPLY);
		cJSON_AddNumberToObject(
		    o, "expiresInSeconds",
		    v.expires_ns > now ? (double)((v.expires_ns - now) / 1000000000ull) : 0);
		cJSON_AddBoolToObject(o, "expired", v.expires_ns <= now);
		cJSON_AddNumberToObject(o, "packets", (double)v.packets);
		cJSON_AddNumberToObject(o, "bytes", (double)v.bytes);
		cJSON_AddNumberToObject(o, "egressRule", v.rule[SL_DIR_EGRESS]);
		cJSON_AddNumberToObject(o, "ingressRule", v.rule[SL_DIR_INGRESS]);
		if (v.rule[SL_DIR_EGRESS])
			cJSON_AddStringToObject(o, "egressPolicy",
						ctl_rule_str(&n, v.rule[0], buf, sizeof(buf)));
		if (v.rule[SL_DIR_INGRESS])
			cJSON_AddStringToObject(o, "ingressPolicy",
						ctl_rule_str(&n, v.rule[1], buf, sizeof(buf)));
		cJSON_AddItemToArray(arr, o);
	}
	{
		static const char *const keys[] = {"src",   "dst",   "protocol",
						   "dport", "sport", NULL};

		ctl_sort(arr, keys);
	}
	if (ctl_machine()) {
		ctl_emit(arr);
	} else {
		const cJSON *o;

		printf("%-5s %-32s %-32s %-12s %8s %8s %10s %s\n", "PROTO", "SOURCE", "DESTINATION",
		       "STATE", "EXPIRES", "PACKETS", "BYTES", "ALLOWED BY");
		cJSON_ArrayForEach (o, arr) {
			char s[128], d[128], by[400], exp[16];
			const char *sp = cJSON_GetStringValue(cJSON_GetObjectItem(o, "srcPod"));
			const char *dp = cJSON_GetStringValue(cJSON_GetObjectItem(o, "dstPod"));
			const char *ep =
			    cJSON_GetStringValue(cJSON_GetObjectItem(o, "egressPolicy"));
			const char *ip =
			    cJSON_GetStringValue(cJSON_GetObjectItem(o, "ingressPolicy"));

			snprintf(s, sizeof(s), "%s:%.0f%s%s%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(o, "src")),
				 cJSON_GetNumberValue(cJSON_GetObjectItem(o, "sport")),
				 sp ? " (" : "", sp ? sp : "", sp ? ")" : "");
			snprintf(d, sizeof(d), "%s:%.0f%s%s%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(o, "dst")),
				 cJSON_GetNumberValue(cJSON_GetObjectItem(o, "dport")),
				 dp ? " (" : "", dp ? dp : "", dp ? ")" : "");
			snprintf(by, sizeof(by), "%s%s%s%s%s", ep ? "egress " : "", ep ? ep : "",
				 ep && ip ? "; " : "", ip ? "ingress " : "", ip ? ip : "");
			if (cJSON_IsTrue(cJSON_GetObjectItem(o, "expired")))
				snprintf(exp, sizeof(exp), "expired");
			else
				snprintf(exp, sizeof(exp), "%.0fs",
					 cJSON_GetNumberValue(
					     cJSON_GetObjectItem(o, "expiresInSeconds")));
			printf("%-5s %-32s %-32s %-12s %8s %8.0f %10.0f %s\n",
			       cJSON_GetStringValue(cJSON_GetObjectItem(o, "protocol")), s, d,
			       cJSON_GetStringValue(cJSON_GetObjectItem(o, "state")), exp,
			       cJSON_GetNumberValue(cJSON_GetObjectItem(o, "packets")),
			       cJSON_GetNumberValue(cJSON_GetObjectItem(o, "bytes")),
			       by[0] ? by : "no policy");
		}
	}
	cJSON_Delete(arr);
	rc = CTL_OK;
out:
	ctl_names_free(&n);
	ctl_ids_free(&rules);
	sl_dp_maps_close(&m);
	return rc;
}

static const struct ctl_cmd cmds[] = {
    {"list", do_list, "[--pod NS/POD] [--ip IP] [--proto P] [--port N] [--state S]",
     "conntrack entries, decoded"},
    {0},
};

int ctl_do_ct(int argc, char **argv)
{
	return ctl_dispatch(cmds, "ct", argc, argv);
}
