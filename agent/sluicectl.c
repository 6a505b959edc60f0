// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluicectl.c - the debug CLI: bpftool-style command tables over the agent's socket and,
 * when the agent is down, the pinned maps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cjson/cJSON.h>

#include "agent_proto.h"
#include "counters.h"
#include "flags.h"
#include "reasons.h"
#include "sl_abi.h"
#include "state.h"

#define CALL_TIMEOUT_MS 5000

static struct {
	char bpffs[PATH_MAX];
	char state_dir[PATH_MAX];
	bool json;
	bool all;
} opt = {.bpffs = SL_DEFAULT_BPFFS, .state_dir = SL_DEFAULT_STATE_DIR};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int do_help(int argc, char **argv);

static void sock_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", opt.state_dir, SL_AGENT_SOCK_NAME);
}

static void pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/v%d/%s", opt.bpffs, SL_ABI_VERSION, name);
}

/* 0 with *resp, or -errno (agent not reachable / bad answer). */
static int call(const char *op, cJSON **resp)
{
	cJSON *req = cJSON_CreateObject();
	char path[PATH_MAX];
	int err;

	if (!req || !cJSON_AddStringToObject(req, "op", op)) {
		cJSON_Delete(req);
		return -ENOMEM;
	}
	sock_path(path, sizeof(path));
	err = sl_agent_call(path, req, resp, CALL_TIMEOUT_MS);
	cJSON_Delete(req);
	return err;
}

static void print_json(const cJSON *o)
{
	char *s = cJSON_Print(o);

	if (s)
		puts(s);
	free(s);
}

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));

	return s && s[0] ? s : "-";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

static int do_status(int argc, char **argv)
{
	char path[PATH_MAX], pins[PATH_MAX];
	bool pinned;
	cJSON *r;
	int err;

	(void)argv;
	if (argc > 0) {
		fprintf(stderr, "sluicectl status: unexpected argument '%s'\n", argv[0]);
		return 2;
	}
	pin_path(pins, sizeof(pins), "sl_from_pod");
	pinned = !access(pins, F_OK);
	pin_path(pins, sizeof(pins), "");
	err = call("status", &r);
	if (err) {
		sock_path(path, sizeof(path));
		if (opt.json) {
			printf("{\"agent\":\"unreachable\",\"socket\":\"%s\",\"error\":\"%s\","
			       "\"pinned\":%s}\n",
			       path, strerror(-err), pinned ? "true" : "false");
		} else {
			printf("agent:     not reachable at %s (%s)\n", path, strerror(-err));
			printf("datapath:  %s %s\n", pins,
			       pinned ? "(programs pinned)" : "(nothing pinned)");
		}
		return 1;
	}
	if (opt.json) {
		print_json(r);
	} else if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"))) {
		fprintf(stderr, "sluicectl status: %s\n", str(r, "error"));
	} else {
		printf("agent:     %s (node %s, %s mode, pid %.0f, version %s)\n",
		       cJSON_IsTrue(cJSON_GetObjectItem(r, "ready")) ? "ready" : "not ready",
		       str(r, "node"), str(r, "mode"), num(r, "pid"), str(r, "version"));
		printf("datapath:  %s (abi %.0f)\n", str(r, "bpffs"), num(r, "abi"));
		printf("pod CIDR:  %s\n", str(r, "podCIDR"));
		printf("endpoints: %.0f\n", num(r, "endpoints"));
	}
	err = cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")) ? 0 : 1;
	cJSON_Delete(r);
	return err;
}

/* The agent is down: what the pinned sl_endpoints says, without names. */
static int endpoints_from_pins(void)
{
	char path[PATH_MAX], ip[INET_ADDRSTRLEN], pm[18], hm[18];
	struct sl_addr k, *prev = NULL;
	struct sl_endpoint v;
	cJSON *arr = NULL, *e;
	int fd;

	pin_path(path, sizeof(path), "sl_endpoints");
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "sluicectl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(stderr, "sluicectl: agent not reachable; read from %s (names missing)\n", path);
	if (opt.json)
		arr = cJSON_CreateArray();
	else
		printf("%-6s %-15s %-8s %-17s %-17s %s\n", "ID", "IP", "IFINDEX", "POD-MAC",
		       "HOST-MAC", "FLAGS");
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		inet_ntop(AF_INET, &k.w[3], ip, sizeof(ip));
		sl_format_mac(v.pod_mac, pm);
		sl_format_mac(v.host_mac, hm);
		if (arr) {
			e = cJSON_CreateObject();
			cJSON_AddNumberToObject(e, "id", v.ep_id);
			cJSON_AddStringToObject(e, "ip", ip);
			cJSON_AddNumberToObject(e, "hostIfindex", v.ifindex);
			cJSON_AddStringToObject(e, "podMac", pm);
			cJSON_AddStringToObject(e, "hostMac", hm);
			cJSON_AddBoolToObject(e, "local", v.flags & SL_EP_F_LOCAL);
			cJSON_AddNumberToObject(e, "flags", v.flags);
			cJSON_AddItemToArray(arr, e);
		} else {
			printf("%-6u %-15s %-8u %-17s %-17s %s%s\n", v.ep_id, ip, v.ifindex, pm, hm,
			       v.flags & SL_EP_F_LOCAL ? "local" : "remote",
			       v.flags & SL_EP_F_POLICY_INVALID ? ",policy-invalid" : "");
		}
	}
	if (arr) {
		print_json(arr);
		cJSON_Delete(arr);
	}
	close(fd);
	return 0;
}

static int do_endpoint_list(int argc, char **argv)
{
	const cJSON *arr, *e;
	cJSON *r;
	int err;

	if (argc > 0) {
		fprintf(stderr, "sluicectl endpoint list: unexpected argument '%s'\n", argv[0]);
		return 2;
	}
	if (call("endpoint_list", &r))
		return endpoints_from_pins();
	if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"))) {
		fprintf(stderr, "sluicectl endpoint list: %s\n", str(r, "error"));
		cJSON_Delete(r);
		return 1;
	}
	arr = cJSON_GetObjectItem(r, "endpoints");
	if (opt.json) {
		print_json(arr);
	} else {
		printf("%-6s %-15s %-30s %-15s %-17s %s\n", "ID", "IP", "POD", "HOST-IF", "POD-MAC",
		       "STATE");
		cJSON_ArrayForEach (e, arr) {
			char pod[300];

			if (str(e, "pod")[0] != '-')
				snprintf(pod, sizeof(pod), "%s/%s", str(e, "namespace"),
					 str(e, "pod"));
			else
				snprintf(pod, sizeof(pod), "%.12s", str(e, "containerID"));
			printf("%-6.0f %-15s %-30s %-15s %-17s %s\n", num(e, "id"), str(e, "ip"),
			       pod, str(e, "hostIfname"), str(e, "podMac"), str(e, "state"));
		}
	}
	err = 0;
	cJSON_Delete(r);
	return err;
}

static const struct cmd endpoint_cmds[] = {
    {"list", do_endpoint_list, "local endpoints (from the agent, or the pins)"},
    {0},
};

static int dispatch(const struct cmd *cmds, const char *what, int argc, char **argv);

static int do_endpoint(int argc, char **argv)
{
	return dispatch(endpoint_cmds, "endpoint", argc, argv);
}

static int do_counters(int argc, char **argv)
{
	struct sl_counter c[SL_COUNTERS_MAX];
	char path[PATH_MAX];
	cJSON *arr = NULL, *e;
	int fd, err;

	if (argc > 0) {
		fprintf(stderr, "sluicectl counters: unexpected argument '%s'\n", argv[0]);
		return 2;
	}
	pin_path(path, sizeof(path), "sl_counters");
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "sluicectl counters: %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = sl_counters_read(fd, c);
	close(fd);
	if (err) {
		fprintf(stderr, "sluicectl counters: %s: read: %s\n", path, strerror(-err));
		return 1;
	}
	if (opt.json)
		arr = cJSON_CreateArray();
	else
		printf("%-22s %-9s %14s %16s\n", "REASON", "DIRECTION", "PACKETS", "BYTES");
	for (unsigned r = 0; r < __SL_REASON_MAX; r++) {
		for (unsigned d = 0; d < SL_DIR_MAX; d++) {
			struct sl_counter *v = &c[SL_COUNTER_IDX(r, d)];
			char unnamed[16];
			const char *name = sl_reason_name(r);

			if (!name) {
				if (!v->packets)
					continue;
				snprintf(unnamed, sizeof(unnamed), "reason_%u", r);
				name = unnamed;
			}
			if (arr) {
				e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "reason", name);
				cJSON_AddStringToObject(e, "direction", sl_dir_name(d));
				cJSON_AddBoolToObject(e, "drop", SL_REASON_IS_DROP(r));
				cJSON_AddNumberToObject(e, "packets", (double)v->packets);
				cJSON_AddNumberToObject(e, "bytes", (double)v->bytes);
				cJSON_AddItemToArray(arr, e);
			} else if (v->packets || opt.all) {
				printf("%-22s %-9s %14llu %16llu\n", name, sl_dir_name(d),
				       (unsigned long long)v->packets,
				       (unsigned long long)v->bytes);
			}
		}
	}
	if (arr) {
		print_json(arr);
		cJSON_Delete(arr);
	}
	return 0;
}

static const struct cmd top_cmds[] = {
    {"status", do_status, "the agent's state (exit 1 when it is not reachable)"},
    {"endpoint", do_endpoint, "endpoint list"},
    {"counters", do_counters,
     "datapath counters by reason and direction, from the pins (--all: zero rows too)"},
    {"help", do_help, "this text"},
    {0},
};

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("Usage: sluicectl [OPTIONS] COMMAND [ARGS]\n\n"
	       "Options:\n"
	       "  --bpffs DIR      the agent's --bpffs root (default %s)\n"
	       "  --state-dir DIR  the agent's --state-dir (default %s)\n"
	       "  -o json          machine-readable output\n"
	       "  --all            counters: include zero rows\n"
	       "  -h, --help       this text\n\nCommands:\n",
	       SL_DEFAULT_BPFFS, SL_DEFAULT_STATE_DIR);
	for (const struct cmd *c = top_cmds; c->name; c++)
		printf("  %-10s %s\n", c->name, c->help);
	printf("  endpoint list  %s\n", endpoint_cmds[0].help);
	printf("\nExit status: 0 ok, 1 failure, 2 bad usage.\n");
	return 0;
}

static int dispatch(const struct cmd *cmds, const char *what, int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "sluicectl %s: missing command (see --help)\n", what);
		return 2;
	}
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(argv[0], c->name))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "sluicectl%s%s: '%s': unknown command (see --help)\n", what[0] ? " " : "",
		what, argv[0]);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"bpffs", required_argument, NULL, 'b'},  {"state-dir", required_argument, NULL, 's'},
	    {"output", required_argument, NULL, 'o'}, {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
		switch (o) {
		case 'b':
		case 's':
			if (optarg[0] != '/' || strlen(optarg) >= PATH_MAX - 64) {
				fprintf(stderr, "sluicectl: --%s: '%s' must be an absolute path\n",
					o == 'b' ? "bpffs" : "state-dir", optarg);
				return 2;
			}
			strcpy(o == 'b' ? opt.bpffs : opt.state_dir, optarg);
			break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "sluicectl: -o: '%s' is not json or text\n",
					optarg);
				return 2;
			}
			opt.json = !strcmp(optarg, "json");
			break;
		case 'a':
			opt.all = true;
			break;
		case 'h':
			return do_help(0, NULL);
		case ':':
			fprintf(stderr, "sluicectl: %s: missing value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "sluicectl: %s: unknown option (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	return dispatch(top_cmds, "", argc - optind, argv + optind);
}
