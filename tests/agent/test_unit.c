// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_unit.c - unit tests of the agent's pure parts: flags, CIDRs, endpoint JSON, state file,
 * conflist. No root, no kernel objects. */
#include <fcntl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "conflist.h"
#include "flags.h"
#include "fsutil.h"
#include "reasons.h"
#include "sl_abi.h"
#include "state.h"

static struct sl_config cfg;
static char err[512];

/* Parse a NULL-terminated argv list. */
static int parse(const char *first, ...)
{
	char *argv[32] = {"sluice-agent"};
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	err[0] = '\0';
	return sl_config_parse(&cfg, argc, argv, err, sizeof(err));
}

static void flags_defaults(void **state)
{
	(void)state;
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(parse("--pod-cidr", "10.244.1.0/24", NULL), 0);
	assert_string_equal(cfg.bpffs, "/sys/fs/bpf/sluice");
	assert_string_equal(cfg.state_dir, "/run/sluice");
	assert_string_equal(cfg.cni_conf_dir, "/etc/cni/net.d");
	assert_string_equal(cfg.metrics_addr, ":9962");
	assert_string_equal(cfg.pod_cidr_str, "10.244.1.0/24");
	assert_int_equal(cfg.log_level, SL_LOG_INFO);
	assert_true(cfg.node[0] != '\0'); /* hostname */
	assert_null(cfg.subcommand);
	assert_int_equal(sl_config_mode(&cfg), SL_MODE_STANDALONE);
}

static void flags_all(void **state)
{
	(void)state;
	assert_int_equal(parse("--node", "node-1", "--pod-cidr", "10.1.0.0/16", "--bpffs",
			       "/tmp/x/bpffs/", "--state-dir", "/tmp/x/state", "--cni-conf-dir",
			       "/tmp/x/net.d", "--metrics-addr", "", "--log-level", "debug",
			       "--ipam-data-dir", "/tmp/x/ipam", NULL),
			 0);
	assert_string_equal(cfg.node, "node-1");
	assert_string_equal(cfg.bpffs, "/tmp/x/bpffs"); /* trailing slash dropped */
	assert_string_equal(cfg.metrics_addr, "");
	assert_string_equal(cfg.ipam_data_dir, "/tmp/x/ipam");
	assert_int_equal(cfg.log_level, SL_LOG_DEBUG);
	assert_int_equal(parse("--help", NULL), 0);
	assert_true(cfg.help);
}

static void flags_mode(void **state)
{
	(void)state;
	assert_int_equal(parse("--kubeconfig", "/etc/kube.conf", NULL), 0); /* no cidr needed */
	assert_int_equal(sl_config_mode(&cfg), SL_MODE_KUBERNETES);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	assert_int_equal(parse(NULL), 0);
	assert_int_equal(sl_config_mode(&cfg), SL_MODE_KUBERNETES);
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(parse(NULL), -EINVAL);
	assert_non_null(strstr(err, "--pod-cidr"));
	assert_int_equal(parse("cleanup", NULL), 0); /* subcommands need no cidr */
	assert_string_equal(cfg.subcommand, "cleanup");
}

static void flags_bad(void **state)
{
	static const struct {
		const char *flag, *value, *want;
	} cases[] = {
	    {"--pod-cidr", "10.0.0.0", "--pod-cidr"},
	    {"--pod-cidr", "10.0.0.1/24", "host bits"},
	    {"--pod-cidr", "10.0.0.0/33", "--pod-cidr"},
	    {"--pod-cidr", "10.0.0.0/0", "--pod-cidr"},
	    {"--pod-cidr", "fd00::/64", "--pod-cidr"},
	    {"--pod-cidr", "10.0.0.0/2x", "--pod-cidr"},
	    {"--bpffs", "relative/dir", "--bpffs"},
	    {"--state-dir", "", "--state-dir"},
	    {"--cni-conf-dir", "x", "--cni-conf-dir"},
	    {"--ipam-data-dir", "x", "--ipam-data-dir"},
	    {"--metrics-addr", "9962", "--metrics-addr"},
	    {"--metrics-addr", ":0", "--metrics-addr"},
	    {"--metrics-addr", ":70000", "--metrics-addr"},
	    {"--metrics-addr", "nothost:80", "--metrics-addr"},
	    {"--metrics-addr", "[::1:80", "--metrics-addr"},
	    {"--log-level", "loud", "--log-level"},
	    {"--node", "Node_1", "--node"},
	    {"--kubeconfig", "", "--kubeconfig"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    parse("--pod-cidr", "10.9.0.0/24", cases[i].flag, cases[i].value, NULL),
		    -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("%s %s: error '%s' does not name '%s'", cases[i].flag,
				 cases[i].value, err, cases[i].want);
	}
	assert_int_equal(parse("--pod-cidr", "10.9.0.0/24", "--bogus", NULL), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(parse("--pod-cidr", NULL), -EINVAL);
	assert_non_null(strstr(err, "missing value"));
	assert_int_equal(parse("--pod-cidr", "10.9.0.0/24", "--node", "a", "extra", NULL), -EINVAL);
	assert_non_null(strstr(err, "extra"));
	char longdir[200];
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(parse("--pod-cidr", "10.9.0.0/24", "--state-dir", longdir, NULL), -EINVAL);
	assert_non_null(strstr(err, "Unix socket"));
}

static void listen_addrs(void **state)
{
	char host[64];
	uint16_t port;

	(void)state;
	assert_int_equal(sl_parse_listen_addr(":9962", host, sizeof(host), &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(port, 9962);
	assert_int_equal(sl_parse_listen_addr("127.0.0.1:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(sl_parse_listen_addr("[::1]:8080", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_int_equal(sl_parse_listen_addr("::1:80", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(sl_parse_listen_addr(":", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(sl_parse_listen_addr(":-1", host, sizeof(host), &port), -EINVAL);
}

static void cidr_contains(void **state)
{
	struct sl_cidr4 c;

	(void)state;
	assert_int_equal(sl_parse_cidr4("10.244.1.0/24", &c, err, sizeof(err)), 0);
	assert_true(sl_cidr4_contains(&c, 0x0af40105));
	assert_false(sl_cidr4_contains(&c, 0x0af40205));
	assert_int_equal(sl_parse_cidr4("10.0.0.0/8", &c, err, sizeof(err)), 0);
	assert_true(sl_cidr4_contains(&c, 0x0affffff));
}

static const char *good_ep =
    "{\"containerID\":\"abc-123_x.y\",\"ifname\":\"eth0\",\"netns\":\"/var/run/netns/p1\","
    "\"namespace\":\"default\",\"pod\":\"p1\",\"podUID\":\"u-1\",\"ip\":\"10.244.1.5\","
    "\"hostIfname\":\"sl12345\",\"hostIfindex\":42,\"podMac\":\"02:00:0a:f4:01:05\","
    "\"hostMac\":\"AA:bb:cc:dd:ee:fe\"}";

/* Parse good_ep with field set to value (raw JSON, or NULL to delete it). */
static int ep_with(const char *field, const char *value, struct sl_ep *ep)
{
	cJSON *o = cJSON_Parse(good_ep);
	int ret;

	assert_non_null(o);
	cJSON_DeleteItemFromObjectCaseSensitive(o, field);
	if (value)
		cJSON_AddItemToObject(o, field, cJSON_Parse(value));
	ret = sl_ep_from_json(o, false, ep, err, sizeof(err));
	cJSON_Delete(o);
	return ret;
}

static void endpoint_json(void **state)
{
	static const struct {
		const char *field, *value;
	} bad[] = {
	    {"containerID", NULL},
	    {"containerID", "\"\""},
	    {"containerID", "\"-abc\""},
	    {"containerID", "\"a/b\""},
	    {"containerID", "7"},
	    {"ifname", "\"eth0/1\""},
	    {"ifname", "\"0123456789abcdef\""},
	    {"ifname", "\"..\""},
	    {"netns", "\"rel\""},
	    {"netns", NULL},
	    {"ip", "\"10.244.1\""},
	    {"ip", "\"::1\""},
	    {"ip", "\"224.0.0.1\""},
	    {"ip", "\"0.0.0.0\""},
	    {"ip", NULL},
	    {"hostIfname", "\"a b\""},
	    {"hostIfindex", "0"},
	    {"hostIfindex", "1.5"},
	    {"hostIfindex", "\"3\""},
	    {"hostIfindex", NULL},
	    {"podMac", "\"01:00:00:00:00:01\""},
	    {"podMac", "\"00:00:00:00:00:00\""},
	    {"podMac", "\"02:00:00:00:00\""},
	    {"hostMac", "\"02-00-00-00-00-01\""},
	    {"hostMac", "\"zz:00:00:00:00:01\""},
	    {"pod", "\"a\\nb\""},
	    {"namespace", "[]"},
	    {"namespace", "\"Default\""},
	    {"namespace", "\"a.b\""},
	    {"namespace", "\"-a\""},
	    {"pod", "\"a_b\""},
	    {"pod", "\"a.\""},
	};
	struct sl_ep ep;
	char mac[18];

	(void)state;
	assert_int_equal(ep_with("none", NULL, &ep), 0);
	assert_string_equal(ep.container_id, "abc-123_x.y");
	assert_int_equal(ep.host_ifindex, 42);
	assert_int_equal(ep.ip, inet_addr("10.244.1.5"));
	sl_format_mac(ep.host_mac, mac);
	assert_string_equal(mac, "aa:bb:cc:dd:ee:fe");
	sl_ep_clear(&ep);
	assert_int_equal(ep_with("pod", "\"web-0.x\"", &ep), 0);
	sl_ep_clear(&ep);
	assert_int_equal(ep_with("namespace", NULL, &ep), 0); /* optional: podman sends none */
	sl_ep_clear(&ep);
	assert_int_equal(ep_with("podUID", NULL, &ep), 0); /* optional */
	assert_string_equal(ep.pod_uid, "");
	sl_ep_clear(&ep);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ep_with(bad[i].field, bad[i].value, &ep) != -EINVAL)
			fail_msg("%s=%s accepted", bad[i].field, bad[i].value);
		if (strncmp(err, bad[i].field, strlen(bad[i].field)) ||
		    err[strlen(bad[i].field)] != ':')
			fail_msg("%s=%s: error '%s' does not start with the field", bad[i].field,
				 bad[i].value, err);
	}
}

static void state_round_trip(void **state)
{
	char dir[] = "/tmp/slt-agent-unit-XXXXXX", path[256];
	struct sl_ep_table t = {.next_id = 1}, back;
	cJSON *o;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/endpoints.json", dir);
	/* A missing file is an empty table. */
	assert_int_equal(sl_state_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(back.next_id, 1);
	for (int i = 0; i < 3; i++) {
		struct sl_ep *ep = calloc(1, sizeof(*ep));
		char cid[16];

		o = cJSON_Parse(good_ep);
		snprintf(cid, sizeof(cid), "c%d", i);
		cJSON_ReplaceItemInObject(o, "containerID", cJSON_CreateString(cid));
		cJSON_ReplaceItemInObject(o, "ip",
					  cJSON_CreateString(i == 0   ? "10.244.1.5"
							     : i == 1 ? "10.244.1.6"
								      : "10.244.1.7"));
		assert_int_equal(sl_ep_from_json(o, false, ep, err, sizeof(err)), 0);
		cJSON_Delete(o);
		ep->id = t.next_id + 10; /* ids need not be dense */
		assert_int_equal(sl_ep_table_add(&t, ep), 0);
	}
	assert_int_equal(sl_state_save(path, &t), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sl_state_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	assert_int_equal(back.next_id, t.next_id);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(back.v[i]->id, t.v[i]->id);
		assert_true(sl_ep_equal(back.v[i], t.v[i]));
	}
	assert_non_null(sl_ep_table_find(&back, "c1", "eth0", NULL));
	assert_null(sl_ep_table_find(&back, "c1", "eth1", NULL));
	sl_ep_table_remove(&back, 1);
	assert_null(sl_ep_table_find(&back, "c1", "eth0", NULL));
	assert_non_null(sl_ep_table_find_ip(&back, inet_addr("10.244.1.7"), NULL));
	sl_ep_table_free(&back);

	/* A corrupt file is an error naming the problem, not an empty table. */
	assert_int_equal(sl_write_file_atomic(path, "{\"version\":1,", 13, 0600, 0), 0);
	assert_int_equal(sl_state_load(path, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
	/* ... unless it was written before this boot: the state is not synced to disk, so a
	 * crash of the machine may leave it empty; what it described is gone anyway. */
	struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
	assert_true(sl_boot_time() > 1000000);
	assert_int_equal(sl_write_file_atomic(path, "", 0, 0600, SL_WRITE_DURABLE), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(sl_state_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(back.next_id, 1);
	const char *dup = "{\"version\":1,\"nextId\":5,\"endpoints\":[{\"id\":1}]}";
	assert_int_equal(sl_write_file_atomic(path, dup, strlen(dup), 0600, 0), 0);
	assert_int_equal(sl_state_load(path, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "endpoints[0].containerID"));
	unlink(path);
	rmdir(dir);
	sl_ep_table_free(&t);
}

static void conflist(void **state)
{
	cJSON *o, *p, *ipam;
	char *s;

	(void)state;
	assert_int_equal(parse("--pod-cidr", "10.244.1.0/24", "--state-dir", "/run/x", "--bpffs",
			       "/sys/fs/bpf/x", NULL),
			 0);
	o = sl_conflist_build(&cfg);
	s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"1.0.0\",\"1.1.0\"],"
			       "\"name\":\"sluice\",\"plugins\":[{\"type\":\"sluice\","
			       "\"stateDir\":\"/run/x\",\"bpffs\":\"/sys/fs/bpf/x\",\"ipam\":{"
			       "\"type\":\"host-local\",\"ranges\":[[{\"subnet\":"
			       "\"10.244.1.0/24\"}]]}}]}");
	free(s);
	cJSON_Delete(o);
	assert_int_equal(
	    parse("--pod-cidr", "10.244.1.0/24", "--ipam-data-dir", "/run/x/ipam", NULL), 0);
	o = sl_conflist_build(&cfg);
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "plugins"), 0);
	ipam = cJSON_GetObjectItem(p, "ipam");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ipam, "dataDir")),
			    "/run/x/ipam");
	cJSON_Delete(o);
}

static void reason_names(void **state)
{
	(void)state;
	assert_string_equal(sl_reason_name(SL_FWD_REDIRECT), "fwd_redirect");
	assert_string_equal(sl_reason_name(SL_DROP_SPOOFED_IP), "drop_spoofed_ip");
	assert_null(sl_reason_name(__SL_FWD_MAX));
	assert_null(sl_reason_name(1000));
	/* Every reason the ABI defines below its max has a name. */
	for (unsigned r = 0; r < __SL_FWD_MAX; r++)
		assert_non_null(sl_reason_name(r));
	for (unsigned r = SL_DROP_TRUNCATED; r <= SL_DROP_UNKNOWN_L4; r++)
		assert_non_null(sl_reason_name(r));
	assert_string_equal(sl_dir_name(SL_DIR_EGRESS), "egress");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(flags_defaults), cmocka_unit_test(flags_all),
	    cmocka_unit_test(flags_mode),     cmocka_unit_test(flags_bad),
	    cmocka_unit_test(listen_addrs),   cmocka_unit_test(cidr_contains),
	    cmocka_unit_test(endpoint_json),  cmocka_unit_test(state_round_trip),
	    cmocka_unit_test(conflist),	      cmocka_unit_test(reason_names),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	int total = (int)(sizeof(tests) / sizeof(tests[0]));

	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
