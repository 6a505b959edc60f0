// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_sync_unit.c - the Kubernetes mode's helpers that need no API server:
 *   agent/reap.c            phase 3 behind the flip, on real BPF hash maps (root): queued keys
 *                           deleted after a grace period, a cancelled key kept, a re-queued
 *                           one deleted, missing entries ignored, stop drains;
 *   agent/dp_maps.c         the reset of the per-rule counters (real percpu array);
 *   agent/k8s_mode_trim.c   what the informer caches keep of real-sized objects, and that the
 *                           policy decoder reads the same pod from the trimmed object.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "k8s_mode.h"
#include "reap.h"
#include "sl_model.h"
#include "sl_policy.h"

/* ---------------------------------------------------------------- reap.c */

static struct sl_dp_maps maps;

static int mk(size_t klen)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "sl_test_reap", klen, 4, 1024, NULL);

	assert_true(fd >= 0);
	return fd;
}

static int maps_setup(void **state)
{
	(void)state;
	sl_dp_maps_init(&maps);
	maps.peer = mk(sizeof(struct sl_peer_key));
	maps.cidr = mk(sizeof(struct sl_cidr_key));
	maps.ports = mk(sizeof(struct sl_ports_key));
	return 0;
}

static int maps_teardown(void **state)
{
	(void)state;
	sl_dp_maps_close(&maps);
	return 0;
}

static struct sl_peer_key peer(__u32 pol, __u32 id)
{
	struct sl_peer_key k;

	memset(&k, 0, sizeof(k));
	k.pol = pol;
	k.identity = id;
	return k;
}

static void put(int fd, const void *k)
{
	__u32 v = 1;

	assert_int_equal(bpf_map_update_elem(fd, k, &v, BPF_ANY), 0);
}

static bool has(int fd, const void *k)
{
	__u32 v;

	return !bpf_map_lookup_elem(fd, k, &v);
}

static void reap_deletes_after_grace(void **state)
{
	struct sl_peer_key k[3] = {peer(1, 100), peer(1, 101), peer(2, 100)};
	struct sl_ports_key pk;
	struct sl_dp_policy_update u = {0};
	struct sl_reap_stats st;
	struct sl_reap *r;

	(void)state;
	memset(&pk, 0, sizeof(pk));
	pk.portset = htonl(7);
	for (int i = 0; i < 3; i++)
		put(maps.peer, &k[i]);
	put(maps.ports, &pk);
	r = sl_reap_new(&maps);
	assert_non_null(r);
	u.peer_del = SL_DP_KEYS(k, 2); /* k[2] stays */
	u.ports_del = SL_DP_KEYS(&pk, 1);
	assert_int_equal(sl_reap_queue(r, &u), 0);
	assert_int_equal(sl_reap_drain(r, 5000), 0);
	assert_false(has(maps.peer, &k[0]));
	assert_false(has(maps.peer, &k[1]));
	assert_true(has(maps.peer, &k[2]));
	assert_false(has(maps.ports, &pk));
	sl_reap_stats(r, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.deleted, 3);
	assert_true(st.graces >= 1);
	/* entries already gone: ignored, no retry loop */
	assert_int_equal(sl_reap_queue(r, &u), 0);
	assert_int_equal(sl_reap_drain(r, 5000), 0);
	sl_reap_stats(r, &st);
	assert_int_equal(st.deleted, 3);
	sl_reap_free(r);
	bpf_map_delete_elem(maps.peer, &k[2]);
}

/* A compiler may free a set id and hand it out again at once: the re-added entry must stay. */
static void reap_cancel_keeps_readded(void **state)
{
	struct sl_peer_key k = peer(9, 200), other = peer(9, 201);
	struct sl_dp_policy_update del = {0}, add = {0};
	struct sl_reap *r;
	int kept = 0;

	(void)state;
	r = sl_reap_new(&maps);
	assert_non_null(r);
	/* Many rounds: the cancel lands in `next` or in `wait` (a grace period in progress). */
	for (int round = 0; round < 200; round++) {
		put(maps.peer, &k);
		put(maps.peer, &other);
		del.peer_del = SL_DP_KEYS(&k, 1);
		assert_int_equal(sl_reap_queue(r, &del), 0);
		if (round % 3)
			usleep(round % 7 * 1000);
		add.peer_add = SL_DP_KEYS(&k, 1); /* keys only are read */
		sl_reap_cancel(r, &add);
		put(maps.peer, &k); /* phase 1 of the next change re-adds it */
		del.peer_del = SL_DP_KEYS(&other, 1);
		assert_int_equal(sl_reap_queue(r, &del), 0);
		assert_int_equal(sl_reap_drain(r, 5000), 0);
		kept += has(maps.peer, &k);
		assert_false(has(maps.peer, &other));
	}
	assert_int_equal(kept, 200);
	/* queued again after the cancel: deleted */
	del.peer_del = SL_DP_KEYS(&k, 1);
	assert_int_equal(sl_reap_queue(r, &del), 0);
	assert_int_equal(sl_reap_drain(r, 5000), 0);
	assert_false(has(maps.peer, &k));
	sl_reap_free(r);
}

static void reap_stop_drains(void **state)
{
	struct sl_peer_key k[64];
	struct sl_dp_policy_update u = {0};
	struct sl_reap *r;

	(void)state;
	for (int i = 0; i < 64; i++) {
		k[i] = peer(20, 300 + i);
		put(maps.peer, &k[i]);
	}
	r = sl_reap_new(&maps);
	assert_non_null(r);
	u.peer_del = SL_DP_KEYS(k, 64);
	assert_int_equal(sl_reap_queue(r, &u), 0);
	sl_reap_free(r); /* no drain first */
	for (int i = 0; i < 64; i++)
		assert_false(has(maps.peer, &k[i]));
}

/* ---------------------------------------------------------------- dp_maps.c */

static void rule_stats_reset(void **state)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sl_dp_maps m;
	struct sl_counter *v = calloc(ncpu, sizeof(*v));
	__u32 keys[] = {0, 1, 777, 4095};

	(void)state;
	assert_non_null(v);
	sl_dp_maps_init(&m);
	m.rule_stats = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "sl_test_rules", 4,
				      sizeof(struct sl_counter), 4096, NULL);
	assert_true(m.rule_stats >= 0);
	for (int c = 0; c < ncpu; c++)
		v[c] = (struct sl_counter){.packets = 5 + c, .bytes = 500};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(bpf_map_update_elem(m.rule_stats, &keys[i], v, BPF_ANY), 0);
	assert_int_equal(sl_dp_rule_stats_reset(&m), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(bpf_map_lookup_elem(m.rule_stats, &keys[i], v), 0);
		for (int c = 0; c < ncpu; c++)
			assert_true(v[c].packets == 0 && v[c].bytes == 0);
	}
	sl_dp_maps_close(&m);
	free(v);
}

/* ---------------------------------------------------------------- k8s_mode_trim.c */

/* A Pod as a real API server sends it (kubectl get -o json of a Deployment's pod), shortened. */
static const char *pod_json =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-7d9c\","
    "\"namespace\":\"shop\",\"uid\":\"6f1c\",\"resourceVersion\":\"4711\","
    "\"generateName\":\"web-\",\"creationTimestamp\":\"2026-11-25T10:00:00Z\","
    "\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"7d9c\"},"
    "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"x\"},"
    "\"ownerReferences\":[{\"apiVersion\":\"apps/"
    "v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-7d9c\","
    "\"uid\":\"1\",\"controller\":true}],"
    "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\","
    "\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{}}}}]},"
    "\"spec\":{\"nodeName\":\"node-1\",\"serviceAccountName\":\"default\","
    "\"volumes\":[{\"name\":\"kube-api-access\",\"projected\":{\"sources\":[]}}],"
    "\"initContainers\":[{\"name\":\"side\",\"image\":\"envoy\",\"restartPolicy\":\"Always\","
    "\"ports\":[{\"name\":\"admin\",\"containerPort\":9901,\"protocol\":\"TCP\"}]}],"
    "\"containers\":[{\"name\":\"web\",\"image\":\"nginx\",\"args\":[\"-g\"],"
    "\"env\":[{\"name\":\"A\",\"value\":\"b\"}],\"resources\":{\"limits\":{\"cpu\":\"1\"}},"
    "\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\","
    "\"hostPort\":0}],\"volumeMounts\":[{\"name\":\"kube-api-access\",\"mountPath\":\"/v\"}]}],"
    "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\"}]},"
    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.1.7\",\"podIPs\":[{\"ip\":\"10.244.1.7\"}"
    "],"
    "\"hostIP\":\"192.168.1.2\",\"qosClass\":\"Burstable\","
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
    "\"containerStatuses\":[{\"name\":\"web\",\"ready\":true,\"restartCount\":0}]}}";

static const char *pod_trimmed =
    "{\"metadata\":{\"name\":\"web-7d9c\",\"namespace\":\"shop\",\"uid\":\"6f1c\","
    "\"resourceVersion\":\"4711\",\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"7d9c\"}},"
    "\"spec\":{\"nodeName\":\"node-1\",\"initContainers\":[{\"ports\":[{\"name\":\"admin\","
    "\"containerPort\":9901,\"protocol\":\"TCP\"}]}],\"containers\":[{\"ports\":[{\"name\":"
    "\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}]}]},\"status\":{\"phase\":"
    "\"Running\",\"podIP\":\"10.244.1.7\",\"podIPs\":[{\"ip\":\"10.244.1.7\"}]}}";

static void trim_pod(void **state)
{
	cJSON *full = cJSON_Parse(pod_json), *t = cJSON_Parse(pod_json);
	cJSON *want = cJSON_Parse(pod_trimmed);
	struct sl_pod *a, *b;
	struct sl_err e;

	(void)state;
	assert_non_null(full);
	assert_non_null(want);
	sl_k8s_mode_trim("pods", t);
	assert_true(cJSON_Compare(t, want, true));
	/* the decoder reads the same pod from both */
	assert_int_equal(sl_decode_pod(full, &a, &e), 0);
	assert_int_equal(sl_decode_pod(t, &b, &e), 0);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->ns, b->ns);
	assert_string_equal(a->node, b->node);
	assert_int_equal(a->phase, b->phase);
	assert_int_equal(a->n_ips, b->n_ips);
	assert_int_equal(a->n_cports, b->n_cports);
	assert_int_equal(a->n_cports, 2);
	assert_int_equal(a->labels.n, b->labels.n);
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(full, "metadata")) >
		    cJSON_GetArraySize(cJSON_GetObjectItem(t, "metadata")));
	sl_pod_free(a);
	sl_pod_free(b);
	cJSON_Delete(full);
	cJSON_Delete(t);
	cJSON_Delete(want);
}

static void trim_others(void **state)
{
	cJSON *ns = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"1\","
				"\"labels\":{\"kubernetes.io/metadata.name\":\"x\"},"
				"\"managedFields\":[]},\"spec\":{\"finalizers\":[\"kubernetes\"]},"
				"\"status\":{\"phase\":\"Active\"}}");
	cJSON *np = cJSON_Parse("{\"metadata\":{\"name\":\"d\",\"namespace\":\"x\","
				"\"annotations\":{\"a\":\"b\"}},\"spec\":{\"podSelector\":{},"
				"\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}}");
	cJSON *node = cJSON_Parse("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.1.0.0/"
				  "24\",\"taints\":[]},\"status\":{\"addresses\":[{\"type\":"
				  "\"InternalIP\",\"address\":\"192.168.1.2\"}],\"images\":[{"
				  "\"names\":[\"a\"]}],\"conditions\":[]}}");
	char *s;

	(void)state;
	sl_k8s_mode_trim("namespaces", ns);
	s = cJSON_PrintUnformatted(ns);
	assert_string_equal(s, "{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"1\",\"labels\":"
			       "{\"kubernetes.io/metadata.name\":\"x\"}}}");
	free(s);
	sl_k8s_mode_trim("networkpolicies", np);
	s = cJSON_PrintUnformatted(np);
	assert_string_equal(s,
			    "{\"metadata\":{\"name\":\"d\",\"namespace\":\"x\"},\"spec\":{"
			    "\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}}");
	free(s);
	sl_k8s_mode_trim("nodes", node);
	s = cJSON_PrintUnformatted(node);
	assert_string_equal(s, "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.1.0.0/"
			       "24\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
			       "\"address\":\"192.168.1.2\"}]}}");
	free(s);
	cJSON_Delete(ns);
	cJSON_Delete(np);
	cJSON_Delete(node);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reap_deletes_after_grace),
	    cmocka_unit_test(reap_cancel_keeps_readded),
	    cmocka_unit_test(reap_stop_drains),
	    cmocka_unit_test(rule_stats_reset),
	    cmocka_unit_test(trim_pod),
	    cmocka_unit_test(trim_others),
	};
	int failed = cmocka_run_group_tests(tests, maps_setup, maps_teardown);
	int total = (int)(sizeof(tests) / sizeof(tests[0]));

	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
