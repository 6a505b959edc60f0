// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_k8s_config.c - unit tests of k8s/: kubeconfig variants and errors, in-cluster config,
 * the token source (re-read period, 401), and that no token reaches the log. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "k8s_internal.h"
#include "log.h"

#define SECRET "s3cr3t-T0ken.value"

static char dir[] = "/tmp/slt-k8s-cfg-XXXXXX";
static char *logbuf;
static size_t loglen;
static FILE *logf_;

static void put(const char *name, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static char *path_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Logs go to memory: each test checks what was said (and that no token was). */
static int log_setup(void **state)
{
	(void)state;
	logf_ = open_memstream(&logbuf, &loglen);
	sl_log_set_stream(logf_);
	sl_log_set_level(SL_LOG_DEBUG);
	return 0;
}

static int log_teardown(void **state)
{
	(void)state;
	sl_log_set_stream(NULL);
	fclose(logf_);
	if (logbuf && strstr(logbuf, SECRET)) {
		fprintf(stderr, "token leaked into the log: %s\n", logbuf);
		free(logbuf);
		logbuf = NULL;
		return -1;
	}
	free(logbuf);
	logbuf = NULL;
	return 0;
}

static const char *logged(void)
{
	fflush(logf_);
	return logbuf ? logbuf : "";
}

/* A kubeconfig with one context c1 -> cluster k1, user u1; cluster and user bodies given. */
static int load(const char *cluster, const char *user, struct sl_k8s_config **cfg)
{
	char *y;
	int err;

	assert_true(asprintf(&y,
			     "apiVersion: v1\nkind: Config\ncurrent-context: c1\n"
			     "contexts:\n- name: c0\n  context: {cluster: k0}\n"
			     "- name: c1\n  context:\n    cluster: k1\n    user: u1\n"
			     "clusters:\n- name: k1\n  cluster:\n%s"
			     "users:\n- name: u1\n  user:\n%s",
			     cluster, user) > 0);
	put("kc.yaml", y);
	free(y);
	err = sl_k8s_config_from_kubeconfig(path_of("kc.yaml"), NULL, cfg);
	return err;
}

static void kc_minimal(void **state)
{
	struct sl_k8s_config *cfg;

	(void)state;
	assert_int_equal(load("    server: https://10.0.0.1:6443/\n", "    {}\n", &cfg), 0);
	assert_string_equal(sl_k8s_config_server(cfg), "https://10.0.0.1:6443");
	assert_null(cfg->token.value);
	assert_null(cfg->ca_file);
	assert_false(cfg->insecure);
	sl_k8s_config_free(cfg);
}

static void kc_token_and_relative_ca(void **state)
{
	struct sl_k8s_config *cfg;
	char want[600];

	(void)state;
	put("ca.pem", "-----BEGIN CERTIFICATE-----\n");
	assert_int_equal(load("    server: https://api.example:443/prefix\n"
			      "    certificate-authority: ca.pem\n",
			      "    token: " SECRET "\n", &cfg),
			 0);
	assert_string_equal(cfg->server, "https://api.example:443/prefix");
	snprintf(want, sizeof(want), "%s/ca.pem", dir);
	assert_string_equal(cfg->ca_file, want);
	assert_string_equal(cfg->token.value, SECRET);
	assert_null(cfg->token.file);
	sl_k8s_config_free(cfg);
}

static void kc_data_fields(void **state)
{
	struct sl_k8s_config *cfg;

	(void)state;
	/* PEM headers in base64, the key's with a line break inside */
	assert_int_equal(
	    load("    server: https://h\n"
		 "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg==\n",
		 "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNFUlQK\n"
		 "    client-key-data: |\n      LS0tLS1CRUdJTiBQUklW\n      "
		 "QVRFIEtFWS0tLS0tCktFWQo=\n",
		 &cfg),
	    0);
	assert_int_equal(cfg->ca_data.len, 31);
	assert_memory_equal(cfg->ca_data.data, "-----BEGIN CERTIFICATE-----\nCA\n", 31);
	assert_int_equal(cfg->cert_data.len, 33);
	assert_int_equal(cfg->key_data.len, 32);
	assert_memory_equal(cfg->key_data.data, "-----BEGIN PRIVATE KEY-----\nKEY\n", 32);
	sl_k8s_config_free(cfg);
}

static void kc_client_cert_files(void **state)
{
	struct sl_k8s_config *cfg;

	(void)state;
	put("c.crt", "x");
	put("c.key", "y");
	assert_int_equal(load("    server: https://h\n",
			      "    client-certificate: c.crt\n    client-key: c.key\n", &cfg),
			 0);
	assert_non_null(strstr(cfg->cert_file, "/c.crt"));
	assert_non_null(strstr(cfg->key_file, "/c.key"));
	sl_k8s_config_free(cfg);
	assert_int_equal(load("    server: https://h\n", "    client-certificate: c.crt\n", &cfg),
			 -EINVAL);
	assert_non_null(strstr(logged(), "client-certificate and client-key go together"));
}

static void kc_token_file(void **state)
{
	struct sl_k8s_config *cfg;
	char *hdr;

	(void)state;
	put("tok", "\n  " SECRET "\n\n");
	assert_int_equal(load("    server: https://h\n", "    tokenFile: tok\n", &cfg), 0);
	assert_string_equal(cfg->token.value, SECRET);
	assert_non_null(strstr(cfg->token.file, "/tok"));
	assert_int_equal(sl_k8s_token_header(&cfg->token, cfg->token.read_ms, 60000, &hdr), 0);
	assert_string_equal(hdr, "Authorization: Bearer " SECRET);
	free(hdr);
	sl_k8s_config_free(cfg);

	/* token and tokenFile: the token first, the file on refresh */
	assert_int_equal(
	    load("    server: https://h\n", "    token: first\n    tokenFile: tok\n", &cfg), 0);
	assert_string_equal(cfg->token.value, "first");
	sl_k8s_config_free(cfg);
}

static void kc_context_override_and_insecure(void **state)
{
	struct sl_k8s_config *cfg;

	(void)state;
	put("kc2.yaml",
	    "current-context: a\n"
	    "contexts:\n- {name: a, context: {cluster: ka}}\n"
	    "- {name: b, context: {cluster: kb}}\n"
	    "clusters:\n- {name: ka, cluster: {server: 'https://a'}}\n"
	    "- {name: kb, cluster: {server: 'https://b', insecure-skip-tls-verify: true}}\n");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("kc2.yaml"), "b", &cfg), 0);
	assert_string_equal(cfg->server, "https://b");
	assert_true(cfg->insecure);
	sl_k8s_config_free(cfg);
	assert_int_equal(sl_k8s_config_load(path_of("kc2.yaml"), &cfg), 0);
	assert_string_equal(cfg->server, "https://a");
	assert_false(cfg->insecure);
	sl_k8s_config_free(cfg);
}

/* kubectl config view --flatten -o json: JSON is YAML */
static void kc_json(void **state)
{
	struct sl_k8s_config *cfg;

	(void)state;
	put("kc.json", "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"j\","
		       "\"contexts\":[{\"name\":\"j\",\"context\":{\"cluster\":\"jc\","
		       "\"user\":\"ju\"}}],\"clusters\":[{\"name\":\"jc\",\"cluster\":{"
		       "\"server\":\"https://json:6443\",\"tls-server-name\":\"x\"}}],"
		       "\"users\":[{\"name\":\"ju\",\"user\":{\"token\":\"" SECRET "\"}}]}");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("kc.json"), NULL, &cfg), 0);
	assert_string_equal(cfg->server, "https://json:6443");
	assert_string_equal(cfg->token.value, SECRET);
	assert_non_null(strstr(logged(), "tls-server-name: not supported, ignored"));
	sl_k8s_config_free(cfg);
}

struct bad_case {
	const char *cluster, *user;
	int err;
	const char *msg;
};

static void kc_errors(void **state)
{
	static const struct bad_case cases[] = {
	    {"    certificate-authority: ca.pem\n", "    {}\n", -EINVAL,
	     "clusters[k1].cluster.server: missing"},
	    {"    server: ftp://x\n", "    {}\n", -EINVAL, "is not an http(s) URL"},
	    {"    server: https://h\n    certificate-authority: nope.pem\n", "    {}\n", -ENOENT,
	     "clusters[k1].cluster.certificate-authority: "},
	    {"    server: https://h\n    certificate-authority-data: '*not*base64'\n", "    {}\n",
	     -EINVAL, "clusters[k1].cluster.certificate-authority-data: not valid base64"},
	    {"    server: https://h\n    insecure-skip-tls-verify: maybe\n", "    {}\n", -EINVAL,
	     "insecure-skip-tls-verify: \"maybe\" is not a boolean"},
	    {"    server: https://h\n    insecure-skip-tls-verify: true\n"
	     "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n",
	     "    {}\n", -EINVAL, "with insecure-skip-tls-verify is not allowed"},
	    {"    server: https://h\n    certificate-authority-data: Q0EtUEVN\n", "    {}\n",
	     -EINVAL, "certificate-authority-data: not base64 of a PEM block"},
	    {"    server: https://h\n", "    exec: {command: aws}\n", -ENOTSUP,
	     "users[u1].user.exec: not supported"},
	    {"    server: https://h\n", "    tokenFile: missing-token\n", -ENOENT,
	     "users[u1].user.tokenFile: "},
	    {"    server: https://h\n", "    client-key-data: 'S0VZ'\n    client-key: c.key\n",
	     -EINVAL, "both client-key and client-key-data are set"},
	    {"    server: [a, b]\n", "    {}\n", -EINVAL,
	     "clusters[k1].cluster.server: not a string"},
	};
	struct sl_k8s_config *cfg = NULL;

	(void)state;
	put("c.key", "y");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fflush(logf_);
		assert_int_equal(load(cases[i].cluster, cases[i].user, &cfg), cases[i].err);
		assert_null(cfg);
		if (!strstr(logged(), cases[i].msg))
			fail_msg("case %zu: \"%s\" not in log:\n%s", i, cases[i].msg, logged());
		assert_non_null(strstr(logged(), path_of("kc.yaml")));
	}
}

static void kc_structure_errors(void **state)
{
	struct sl_k8s_config *cfg;

	(void)state;
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("absent.yaml"), NULL, &cfg),
			 -ENOENT);
	assert_non_null(strstr(logged(), "absent.yaml: open: No such file"));
	put("bad.yaml", "a: b\n  c: [\n");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("bad.yaml"), NULL, &cfg), -EINVAL);
	assert_non_null(strstr(logged(), "bad.yaml: line "));
	put("noctx.yaml", "clusters: []\n");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("noctx.yaml"), NULL, &cfg), -EINVAL);
	assert_non_null(strstr(logged(), "noctx.yaml: current-context: missing"));
	put("ctx.yaml", "current-context: x\ncontexts:\n- {name: y, context: {cluster: k}}\n");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("ctx.yaml"), NULL, &cfg), -EINVAL);
	assert_non_null(strstr(logged(), "contexts: no entry named \"x\""));
	put("nocl.yaml", "current-context: x\ncontexts:\n- {name: x, context: {cluster: k}}\n");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("nocl.yaml"), NULL, &cfg), -EINVAL);
	assert_non_null(strstr(logged(), "clusters: missing (needed for \"k\")"));
	put("empty.yaml", "");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("empty.yaml"), NULL, &cfg), -EINVAL);
	assert_non_null(strstr(logged(), "empty.yaml: empty or not a mapping"));
	put("nouser.yaml", "current-context: x\ncontexts:\n- {name: x, context: {cluster: k, "
			   "user: who}}\nclusters:\n- {name: k, cluster: {server: 'https://h'}}\n"
			   "users: []\n");
	assert_int_equal(sl_k8s_config_from_kubeconfig(path_of("nouser.yaml"), NULL, &cfg),
			 -EINVAL);
	assert_non_null(strstr(logged(), "users: no entry named \"who\""));
}

static void in_cluster(void **state)
{
	struct sl_k8s_config *cfg;
	char sa[600];

	(void)state;
	snprintf(sa, sizeof(sa), "%s/sa", dir);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_int_equal(sl_k8s_config_in_cluster(sa, &cfg), -ENOENT);
	assert_int_equal(sl_k8s_config_load(NULL, &cfg), -ENOENT); /* standalone */
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(mkdir(sa, 0700), 0);
	assert_int_equal(sl_k8s_config_in_cluster(sa, &cfg), -ENOENT);
	assert_non_null(strstr(logged(), "in-cluster config: CA "));
	put("sa/ca.crt", "pem");
	assert_int_equal(sl_k8s_config_in_cluster(sa, &cfg), -ENOENT);
	assert_non_null(strstr(logged(), "/sa/token: read: No such file"));
	put("sa/token", SECRET "\n");
	assert_int_equal(sl_k8s_config_in_cluster(sa, &cfg), 0);
	assert_string_equal(cfg->server, "https://10.96.0.1:443");
	assert_string_equal(cfg->token.value, SECRET);
	assert_non_null(strstr(cfg->ca_file, "/sa/ca.crt"));
	sl_k8s_config_free(cfg);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(sl_k8s_config_in_cluster(sa, &cfg), 0);
	assert_string_equal(cfg->server, "https://[fd00::1]:443");
	sl_k8s_config_free(cfg);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void token_rotation(void **state)
{
	struct sl_k8s_token t = {.lock = PTHREAD_MUTEX_INITIALIZER};
	int64_t t0;
	char *h;

	(void)state;
	put("rot", "one");
	assert_int_equal(sl_k8s_token_init(&t, NULL, path_of("rot")), 0);
	t0 = t.read_ms;
	put("rot", "two\n");
	assert_int_equal(sl_k8s_token_header(&t, t0 + 59999, 60000, &h), 0);
	assert_string_equal(h, "Authorization: Bearer one"); /* not yet: at most every 60 s */
	free(h);
	assert_int_equal(sl_k8s_token_header(&t, t0 + 60000, 60000, &h), 0);
	assert_string_equal(h, "Authorization: Bearer two");
	free(h);
	put("rot", "three");
	assert_int_equal(sl_k8s_token_header(&t, t0 + 60001, 60000, &h), 0);
	assert_string_equal(h, "Authorization: Bearer two");
	free(h);
	sl_k8s_token_invalidate(&t); /* a 401: re-read now */
	assert_int_equal(sl_k8s_token_header(&t, t0 + 60002, 60000, &h), 0);
	assert_string_equal(h, "Authorization: Bearer three");
	free(h);
	/* the file vanishes or turns bad: keep the last good token, say so without it */
	put("rot", SECRET " with spaces");
	sl_k8s_token_invalidate(&t);
	assert_int_equal(sl_k8s_token_header(&t, t0 + 60003, 60000, &h), 0);
	assert_string_equal(h, "Authorization: Bearer three");
	free(h);
	assert_non_null(strstr(logged(), "not a token"));
	unlink(path_of("rot"));
	sl_k8s_token_invalidate(&t);
	assert_int_equal(sl_k8s_token_header(&t, t0 + 60004, 60000, &h), 0);
	assert_string_equal(h, "Authorization: Bearer three");
	free(h);
	sl_k8s_token_fini(&t);

	/* no token, no header */
	t = (struct sl_k8s_token){.lock = PTHREAD_MUTEX_INITIALIZER};
	assert_int_equal(sl_k8s_token_header(&t, 0, 60000, &h), 0);
	assert_null(h);
	sl_k8s_token_fini(&t);
}

static void token_file_errors(void **state)
{
	struct sl_k8s_token t = {.lock = PTHREAD_MUTEX_INITIALIZER};

	(void)state;
	put("empty-tok", " \n");
	assert_int_equal(sl_k8s_token_init(&t, NULL, path_of("empty-tok")), -ENODATA);
	assert_non_null(strstr(logged(), "empty-tok: empty"));
	sl_k8s_token_fini(&t);
	t = (struct sl_k8s_token){.lock = PTHREAD_MUTEX_INITIALIZER};
	put("bad-tok", SECRET "\x01\n");
	assert_int_equal(sl_k8s_token_init(&t, NULL, path_of("bad-tok")), -EINVAL);
	sl_k8s_token_fini(&t);
}

static void rm_dir(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(kc_minimal, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(kc_token_and_relative_ca, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(kc_data_fields, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(kc_client_cert_files, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(kc_token_file, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(kc_context_override_and_insecure, log_setup,
					    log_teardown),
	    cmocka_unit_test_setup_teardown(kc_json, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(kc_errors, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(kc_structure_errors, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(in_cluster, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(token_rotation, log_setup, log_teardown),
	    cmocka_unit_test_setup_teardown(token_file_errors, log_setup, log_teardown),
	};
	int failed, total = (int)(sizeof(tests) / sizeof(tests[0]));

	if (!mkdtemp(dir))
		return 1;
	atexit(rm_dir);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
