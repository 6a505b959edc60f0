// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_unit.c - the plugin's protocol and parsing in-process, without root: VERSION, env and
 * config validation through sl_cni_run() with a struct cni_args (as a runtime would set the
 * environment), result building per cniVersion, prevResult reading, veth naming.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "sl_check.h"

/* Run one command in-process; returns the exit code, *out the stdout text (caller frees). */
static int run(const char *cmd, const char *id, const char *netns, const char *ifname,
	       const char *conf, char **out)
{
	char *const env[] = {NULL};
	size_t len = 0;
	struct cni_args a = {
	    .command = cmd,
	    .container_id = id,
	    .netns = netns,
	    .ifname = ifname,
	    .path = "/usr/lib/cni",
	    .stdin_data = conf,
	    .stdin_len = conf ? strlen(conf) : 0,
	    .environ = env,
	};
	int rc;

	a.out = open_memstream(out, &len);
	rc = sl_cni_run(&a);
	fclose(a.out);
	return rc;
}

/* The exit code and the error's code field of one run. */
static int err_code(const char *cmd, const char *id, const char *netns, const char *ifname,
		    const char *conf, const char *want_msg)
{
	char *out = NULL;
	int rc = run(cmd, id, netns, ifname, conf, &out), code = -1;
	cJSON *o = cJSON_Parse(out);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "code");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "msg");

	if (rc == 1 && cJSON_IsNumber(c))
		code = c->valueint;
	if (want_msg && (!cJSON_IsString(m) || !strstr(m->valuestring, want_msg))) {
		fprintf(stderr, "  msg %s lacks \"%s\"\n", out, want_msg);
		code = -2;
	}
	cJSON_Delete(o);
	free(out);
	return code;
}

#define CONF(extra)                                                                  \
	"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"sluice\",\"stateDir\":" \
	"\"/nonexistent-sluice-test\",\"ipam\":{\"type\":\"host-local\"}" extra "}"

static void test_version(void)
{
	char *out = NULL;

	EXPECT(run("VERSION", NULL, "dummy", "dummy", "{\"cniVersion\":\"0.4.0\"}", &out) == 0,
	       "VERSION exits 0 whatever the other env");
	EXPECT(out && !strcmp(out, "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.3.1\","
				   "\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n"),
	       "VERSION echoes the input version and lists ours");
	free(out);
	EXPECT(sl_version_parse("1.1.0") == 10100 && sl_version_parse("0.4.0") == 400,
	       "version parse");
	EXPECT(sl_version_parse("1.0") < 0 && sl_version_parse("1.0.0x") < 0 &&
		   sl_version_parse(NULL) < 0,
	       "malformed versions rejected");
	EXPECT(!sl_version_supported("0.2.0") && !sl_version_supported("0.3.0") &&
		   sl_version_supported("0.3.1"),
	       "supported set is 0.3.1, 0.4.0, 1.0.0, 1.1.0");
}

static void test_env_and_config(void)
{
	const char *ns = "/proc/self/ns/net";

	EXPECT(err_code(NULL, "c", ns, "eth0", CONF(""), "CNI_COMMAND") == CNI_ERR_ENV,
	       "no CNI_COMMAND -> 4");
	EXPECT(err_code("ADD", NULL, ns, "eth0", CONF(""), "CNI_CONTAINERID") == CNI_ERR_ENV,
	       "no CNI_CONTAINERID -> 4");
	EXPECT(err_code("ADD", "c", NULL, "eth0", CONF(""), "CNI_NETNS") == CNI_ERR_ENV,
	       "no CNI_NETNS -> 4");
	EXPECT(err_code("ADD", "c", ns, "way-too-long-ifname", CONF(""), "CNI_IFNAME") ==
		   CNI_ERR_ENV,
	       "long ifname -> 4");
	EXPECT(err_code("ADD", "_c", ns, "eth0", CONF(""), "CNI_CONTAINERID") == CNI_ERR_ENV,
	       "container id starting with _ -> 4");
	EXPECT(err_code("ADD", "c", ns, "eth0", "{nope", "invalid JSON") == CNI_ERR_DECODE,
	       "bad JSON -> 6");
	EXPECT(err_code("ADD", "c", ns, "eth0", "{\"cniVersion\":\"0.1.0\",\"name\":\"n\"}",
			"0.1.0") == CNI_ERR_VERSION,
	       "cniVersion 0.1.0 -> 1");
	EXPECT(err_code("ADD", "c", ns, "eth0", CONF(",\"mtu\":70000"), "mtu") == CNI_ERR_CONFIG,
	       "mtu too large -> 7");
	EXPECT(err_code("ADD", "c", ns, "eth0", CONF(",\"logFile\":\"rel\""), "logFile") ==
		   CNI_ERR_CONFIG,
	       "relative logFile -> 7");
	EXPECT(err_code("ADD", "c", ns, "eth0",
			CONF(",\"runtimeConfig\":{\"PORTMAPPINGS\":[{\"hostPort\":1}]}"),
			"portMappings") == CNI_ERR_UNSUPPORTED,
	       "runtimeConfig matched case-insensitively -> 2");
	EXPECT(err_code("ADD", "c", ns, "eth0", CONF(""), "/nonexistent-sluice-test/agent.sock") ==
		   CNI_ERR_TRY_AGAIN,
	       "no agent socket -> 11 naming it");
	EXPECT(err_code("CHECK", "c", ns, "eth0",
			"{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"ipam\":{\"type\":\"x\"}}",
			"CHECK") == CNI_ERR_VERSION,
	       "CHECK under 0.3.1 -> 1");
	EXPECT(err_code("GC", NULL, NULL, NULL, CONF(""), "GC") == CNI_ERR_VERSION,
	       "GC under 1.0.0 -> 1");
	EXPECT(err_code("ADD", "c", "/nonexistent/netns", "eth0", CONF(""), "CNI_NETNS") ==
		   CNI_ERR_ENV,
	       "missing netns path -> 4");
}

static void test_conf_defaults(void)
{
	struct cni_error e = {0};
	struct sl_conf c;
	const char *s =
	    "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\"},"
	    "\"runtimeConfig\":{\"IO.Kubernetes.CRI.Pod-Annotations\":{}}}";
	char buf[64];

	EXPECT(!sl_conf_parse(s, strlen(s), true, &c, &e), "minimal config parses");
	EXPECT(!strcmp(c.state_dir, "/run/sluice") && !strcmp(c.bpffs, "/sys/fs/bpf/sluice") &&
		   !strcmp(c.sock_path, "/run/sluice/agent.sock") && !c.log_file[0] && !c.mtu,
	       "DESIGN.md defaults");
	EXPECT(sl_runtime_config(&c, "io.kubernetes.cri.pod-annotations") != NULL,
	       "runtimeConfig lookup ignores case");
	sl_conf_free(&c);
	EXPECT(!sl_cni_arg("IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_NAMESPACE=default",
			   "K8S_POD_NAMESPACE", buf, sizeof(buf)) &&
		   !strcmp(buf, "default"),
	       "CNI_ARGS lookup");
	EXPECT(sl_cni_arg("K8S_POD_NAME=web", "K8S_POD", buf, sizeof(buf)) == -ENOENT,
	       "CNI_ARGS key prefix does not match");
}

static void test_names(void)
{
	char a[16], b[16], c[16];

	sl_veth_name("0123456789abcdef0123456789abcdef", "eth0", a);
	sl_veth_name("0123456789abcdef0123456789abcdef", "eth0", b);
	sl_veth_name("0123456789abcdef0123456789abcdef", "eth1", c);
	EXPECT(!strcmp(a, b) && strlen(a) == 14 && !strncmp(a, "sl", 2), "veth name stable, 14");
	EXPECT(strcmp(a, c), "another ifname, another veth");
}

static void test_result(void)
{
	struct sl_ipam_result ipam = {.ip = "10.1.2.3", .prefix = 24, .nroutes = 0};
	struct sl_veth v = {
	    .host_name = "slabc", .host_mac = {2, 0, 0, 0, 0, 1}, .pod_mac = {2, 0, 0, 0, 0, 2}};
	struct sl_add_result r = {
	    .veth = &v, .ifname = "eth0", .netns = "/run/netns/x", .ipam = &ipam, .mtu = 1400};
	struct sl_conf c = {.cni_version = "0.4.0", .ver = 400};
	struct cni_error e = {0};
	char ip[16], mac[18];
	cJSON *o;

	o = sl_result_build(&c, &r);
	EXPECT(!strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "ips"), 0),
					   "version")
			   ->valuestring,
		       "4"),
	       "0.4.0 result: ips carry version 4");
	EXPECT(!cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "interfaces"), 0),
				    "mtu"),
	       "0.4.0 result: no interface mtu");
	EXPECT(!sl_prev_result_pod(o, "eth0", ip, mac, &e) && !strcmp(ip, "10.1.2.3") &&
		   !strcmp(mac, "02:00:00:00:00:02"),
	       "prevResult read back: pod ip and mac");
	EXPECT(sl_prev_result_pod(o, "eth1", ip, mac, &e) == -ENOENT, "no eth1 in prevResult");
	cJSON_Delete(o);
	c = (struct sl_conf){.cni_version = "1.1.0", .ver = 10100};
	o = sl_result_build(&c, &r);
	EXPECT(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "interfaces"), 1), "mtu")
		    ->valueint == 1400,
	    "1.1.0 result: interface mtu");
	EXPECT(
	    !cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "ips"), 0), "version"),
	    "1.1.0 result: no ip version");
	cJSON_Delete(o);
}

int main(void)
{
	test_version();
	test_env_and_config();
	test_conf_defaults();
	test_names();
	test_result();
	return report();
}
