// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_matrix.c - sluicectl matrix [-n NS]... [--port P/PROTO]: the connectivity matrix of this
 * node's pods for a new flow on one port, computed from the live maps with the datapath's
 * lookups (the sender's egress and the receiver's ingress), as a grid (colour on a terminal)
 * or as {"ns/from": {"ns/to": bool}} like e2e/sandbox matrix -o json.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ctl.h"

#define MAX_NS 32

enum { OPT_PORT = 300 };

struct mopt {
	const char *ns[MAX_NS];
	int nns;
	const char *port;
};

static int opt_cb(int o, const char *arg, void *ctx)
{
	struct mopt *m = ctx;

	if (o == 'n') {
		if (m->nns == MAX_NS)
			return ctl_usage("matrix", "-n: at most %d namespaces", MAX_NS);
		m->ns[m->nns++] = arg;
		return 0;
	}
	if (o == OPT_PORT) {
		m->port = arg;
		return 0;
	}
	return CTL_USAGE;
}

struct pod {
	char name[300];
	struct sl_addr addr;
	struct sl_endpoint ep;
};

static int pod_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pod *)a)->name, ((const struct pod *)b)->name);
}

int ctl_do_matrix(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"namespace", required_argument, NULL, 'n'},
	    {"port", required_argument, NULL, OPT_PORT},
	    {0},
	};
	struct mopt o = {.port = "80/tcp"};
	struct sl_addr k, *prev = NULL;
	struct sl_endpoint ep;
	struct sl_dp_maps m;
	struct ctl_names n;
	struct pod *pods = NULL;
	size_t np = 0, cap = 0, width = 4;
	unsigned proto, port;
	char **pos, pb[16];
	cJSON *doc;
	int npos, rc;

	rc = ctl_getopt(argc, argv, "matrix", "[-n NS]... [--port P/PROTO] (default 80/tcp)",
			"n:", lo, opt_cb, &o, &pos, &npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos)
		return ctl_usage("matrix", "unexpected argument '%s'", pos[0]);
	if (ctl_parse_port(o.port, &proto, &port))
		return ctl_usage("matrix", "--port: '%s' is not PORT[/tcp|udp|sctp] or icmp",
				 o.port);
	rc = ctl_maps_open(&m, "matrix");
	if (rc)
		return rc;
	ctl_names_load(&n, NULL, NULL, NULL);
	ctl_names_note(&n);
	while (!bpf_map_get_next_key(m.endpoints, prev, &k)) {
		struct pod p = {.addr = k};
		bool keep = !o.nns;

		prev = &k;
		if (bpf_map_lookup_elem(m.endpoints, &k, &ep) || !(ep.flags & SL_EP_F_LOCAL))
			continue;
		p.ep = ep;
		if (!ctl_pod_of(&n, &k, p.name, sizeof(p.name)))
			ctl_addr_str(&k, p.name, sizeof(p.name));
		for (int i = 0; i < o.nns && !keep; i++)
			keep = !strncmp(p.name, o.ns[i], strlen(o.ns[i])) &&
			       p.name[strlen(o.ns[i])] == '/';
		if (!keep)
			continue;
		if (np == cap) {
			struct pod *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(pods, cap * sizeof(*nv));
			if (!nv) {
				rc = ctl_fail("matrix", "out of memory");
				goto out;
			}
			pods = nv;
		}
		pods[np++] = p;
		if (strlen(p.name) > width)
			width = strlen(p.name);
	}
	if (np)
		qsort(pods, np, sizeof(*pods), pod_cmp);
	doc = cJSON_CreateObject();
	for (size_t i = 0; i < np; i++) {
		cJSON *row = cJSON_AddObjectToObject(doc, pods[i].name);

		for (size_t j = 0; j < np; j++) {
			struct ctl_verdict ve, vi;
			bool ok;

			if (i == j)
				continue;
			rc = ctl_lookup(&m, &pods[i].ep, SL_DIR_EGRESS, &pods[j].addr, proto, port,
					&ve);
			rc = rc
				 ?: ctl_lookup(&m, &pods[j].ep, SL_DIR_INGRESS, &pods[i].addr,
					       proto, port, &vi);
			if (rc) {
				cJSON_Delete(doc);
				rc = ctl_fail("matrix", "policy lookup failed");
				goto out;
			}
			ok = !SL_REASON_IS_DROP(ve.reason) && !SL_REASON_IS_DROP(vi.reason);
			cJSON_AddBoolToObject(row, pods[j].name, ok);
		}
	}
	if (ctl_machine()) {
		ctl_emit(doc);
	} else {
		printf("%s on this node, %s%s%u, from the live maps (row: from, column: to; "
		       ". allowed, X denied)\n",
		       np ? "pods" : "no pods", ctl_proto_name(proto, pb, sizeof(pb)),
		       proto == IPPROTO_ICMP ? "" : "/", port);
		if (proto == IPPROTO_ICMP)
			printf("(icmp: port 0)\n");
		printf("%-*s", (int)width + 1, "");
		for (size_t j = 0; j < np; j++)
			printf(" %zu", j % 10);
		printf("\n");
		for (size_t i = 0; i < np; i++) {
			printf("%-*s", (int)width + 1, pods[i].name);
			for (size_t j = 0; j < np; j++) {
				const cJSON *c = cJSON_GetObjectItem(
				    cJSON_GetObjectItem(doc, pods[i].name), pods[j].name);

				if (i == j)
					printf(" -");
				else if (cJSON_IsTrue(c))
					printf(" %s.%s", ctl_col("\033[32m"), ctl_col("\033[0m"));
				else
					printf(" %sX%s", ctl_col("\033[1;31m"), ctl_col("\033[0m"));
			}
			printf("   %zu\n", i % 10);
		}
	}
	cJSON_Delete(doc);
	rc = CTL_OK;
out:
	free(pods);
	ctl_names_free(&n);
	sl_dp_maps_close(&m);
	return rc;
}
