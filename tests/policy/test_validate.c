// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_validate.c - decoding and validation like the API server: defaults (protocol TCP,
 * policyTypes), and one case per rejection, each naming its field path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "sl_model.h"

struct vcase {
	const char *name;
	const char *spec; /* the spec object, ' for " */
	const char *err;  /* NULL: valid */
};

static const struct vcase vcases[] = {
    {"minimal valid", "{'podSelector':{}}", NULL},
    {"every field valid",
     "{'podSelector':{'matchLabels':{'app':'web','example.com/tier':'a.b-c_d'},"
     "'matchExpressions':[{'key':'x','operator':'In','values':['1','2']},{'key':'y',"
     "'operator':'NotIn','values':['']},{'key':'z','operator':'Exists'},{'key':'w',"
     "'operator':'DoesNotExist'}]},'policyTypes':['Ingress','Egress'],'ingress':[{'from':[{"
     "'podSelector':{}},{'namespaceSelector':{}},{'podSelector':{},'namespaceSelector':{}},"
     "{'ipBlock':{'cidr':'10.0.0.0/8','except':['10.1.0.0/16']}},{'ipBlock':{'cidr':"
     "'fd00::/8','except':['fd00::/16']}}],'ports':[{'port':80},{'protocol':'UDP','port':"
     "'dns'},{'protocol':'SCTP','port':1000,'endPort':2000},{'protocol':'TCP'}]}],"
     "'egress':[{}]}",
     NULL},
    {"spec missing", NULL, "spec: Required value"},
    {"invalid CIDR",
     "{'podSelector':{},'ingress':[{'from':[{'podSelector':{}},{'ipBlock':"
     "{'cidr':'10.0.0.300/8'}}]}]}",
     "spec.ingress[0].from[1].ipBlock.cidr: Invalid value: \"10.0.0.300/8\""},
    {"CIDR prefix too long",
     "{'podSelector':{},'ingress':[{'from':[{'ipBlock':{'cidr':"
     "'10.0.0.0/33'}}]}]}",
     "spec.ingress[0].from[0].ipBlock.cidr: Invalid value"},
    {"CIDR missing", "{'podSelector':{},'egress':[{'to':[{'ipBlock':{}}]}]}",
     "spec.egress[0].to[0].ipBlock.cidr: Required value"},
    {"except not inside cidr",
     "{'podSelector':{},'ingress':[{'from':[{'podSelector':{}},{'ipBlock':{'cidr':"
     "'10.0.0.0/16','except':['10.1.0.0/24']}}]}]}",
     "spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: \"10.1.0.0/24\": must be a "
     "strict subset of `cidr`"},
    {"except equal to cidr",
     "{'podSelector':{},'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/16','except':["
     "'10.0.1.0/24','10.0.0.0/16']}}]}]}",
     "spec.ingress[0].from[0].ipBlock.except[1]: Invalid value"},
    {"except of the other family",
     "{'podSelector':{},'ingress':[{'from':[{'ipBlock':{'cidr':'::/0','except':["
     "'10.0.0.0/8']}}]}]}",
     "spec.ingress[0].from[0].ipBlock.except[0]: Invalid value"},
    {"invalid port name", "{'podSelector':{},'ingress':[{'ports':[{'port':'Serve_80'}]}]}",
     "spec.ingress[0].ports[0].port: Invalid value: \"Serve_80\""},
    {"numeric string port is not a name",
     "{'podSelector':{},'ingress':[{'ports':[{'port':'80'}]}]}",
     "spec.ingress[0].ports[0].port: Invalid value: \"80\""},
    {"port out of range", "{'podSelector':{},'egress':[{'ports':[{'port':65536}]}]}",
     "spec.egress[0].ports[0].port: Invalid value: 65536"},
    {"port zero", "{'podSelector':{},'egress':[{'ports':[{'port':0}]}]}",
     "spec.egress[0].ports[0].port: Invalid value: 0"},
    {"endPort below port",
     "{'podSelector':{},'ingress':[{'ports':[{'port':80},{'port':90,'endPort':89}]}]}",
     "spec.ingress[0].ports[1].endPort: Invalid value: 89: must be greater than or equal to "
     "`port`"},
    {"endPort with a named port",
     "{'podSelector':{},'ingress':[{'ports':[{'port':'http','endPort':90}]}]}",
     "spec.ingress[0].ports[0].endPort: Invalid value: may not be specified when `port` is "
     "non-numeric"},
    {"endPort without port", "{'podSelector':{},'ingress':[{'ports':[{'endPort':90}]}]}",
     "spec.ingress[0].ports[0].endPort: Required value"},
    {"unknown protocol", "{'podSelector':{},'ingress':[{'ports':[{'protocol':'ICMP','port':1}]}]}",
     "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\""},
    {"protocol is case-sensitive", "{'podSelector':{},'ingress':[{'ports':[{'protocol':'tcp'}]}]}",
     "spec.ingress[0].ports[0].protocol: Unsupported value: \"tcp\""},
    {"invalid selector operator",
     "{'podSelector':{},'ingress':[{'from':[{'namespaceSelector':{'matchExpressions':[{"
     "'key':'a','operator':'Equals','values':['b']}]}}]}]}",
     "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].operator: Unsupported "
     "value: \"Equals\""},
    {"In without values",
     "{'podSelector':{'matchExpressions':[{'key':'a','operator':'In','values':[]}]}}",
     "spec.podSelector.matchExpressions[0].values: Required value"},
    {"Exists with values",
     "{'podSelector':{'matchExpressions':[{'key':'a','operator':'Exists','values':['x']}]}}",
     "spec.podSelector.matchExpressions[0].values: Forbidden"},
    {"invalid label value in matchLabels", "{'podSelector':{'matchLabels':{'app':'-web'}}}",
     "spec.podSelector.matchLabels.app: Invalid value: \"-web\""},
    {"invalid label key", "{'podSelector':{'matchLabels':{'bad key':'x'}}}",
     "spec.podSelector.matchLabels.bad key: Invalid value"},
    {"invalid label value in values",
     "{'podSelector':{},'egress':[{'to':[{'podSelector':{'matchExpressions':[{'key':'a',"
     "'operator':'NotIn','values':['ok','not ok']}]}}]}]}",
     "spec.egress[0].to[0].podSelector.matchExpressions[0].values[1]: Invalid value"},
    {"ipBlock with another peer",
     "{'podSelector':{},'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/8'},'podSelector':"
     "{}}]}]}",
     "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"},
    {"empty peer", "{'podSelector':{},'egress':[{'to':[{}]}]}",
     "spec.egress[0].to[0]: Required value: must specify a peer"},
    {"invalid policyType", "{'podSelector':{},'policyTypes':['Inbound']}",
     "spec.policyTypes[0]: Unsupported value: \"Inbound\""},
    {"wrong JSON type", "{'podSelector':{},'ingress':{}}",
     "spec.ingress: Invalid value: must be a list"},
    /* found by fuzz-policy (tests/fuzz/corpus/policy/crash-huge-number): no UB on huge numbers */
    {"huge port number", "{'podSelector':{},'ingress':[{'ports':[{'port':8e37}]}]}",
     "spec.ingress[0].ports[0].port: Invalid value: must be an integer or a port name"},
    {"huge endPort", "{'podSelector':{},'ingress':[{'ports':[{'port':1,'endPort':-1e300}]}]}",
     "spec.ingress[0].ports[0].endPort: Invalid value: must be an integer"},
    {"every error reported",
     "{'podSelector':{},'ingress':[{'ports':[{'protocol':'X'}]}],'egress':[{'to':[{}]}]}",
     "spec.ingress[0].ports[0].protocol: Unsupported value: \"X\": supported values: "
     "\"TCP\", \"UDP\", \"SCTP\"; spec.egress[0].to[0]: Required value"},
};

static char *policy_json(const char *spec)
{
	char *s = malloc(8192);

	if (spec)
		snprintf(s, 8192, "{'metadata':{'name':'p','namespace':'x'},'spec':%s}", spec);
	else
		snprintf(s, 8192, "{'metadata':{'name':'p','namespace':'x'}}");
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

static void run_vcase(void **state)
{
	const struct vcase *vc = *state;
	char *json = policy_json(vc->spec);
	struct sl_netpol *np = NULL;
	struct sl_err err;
	int r = sl_decode_netpol_str(json, &np, &err);

	assert_int_equal(r, 0); /* invalid policies still decode, to fail closed */
	assert_non_null(np);
	if (!vc->err) {
		if (!np->valid)
			print_error("unexpected error: %s\n", np->error);
		assert_true(np->valid);
	} else {
		assert_false(np->valid);
		if (!strstr(np->error, vc->err))
			print_error("got: %s\nwant: %s\n", np->error, vc->err);
		assert_non_null(strstr(np->error, vc->err));
		assert_int_equal(np->n_rules[0] + np->n_rules[1], 0); /* no rules: fail closed */
	}
	sl_netpol_free(np);
	free(json);
}

static void test_defaults(void **state)
{
	struct sl_netpol *np;
	struct sl_err err;
	char *json;

	(void)state;
	json = policy_json("{'podSelector':{},'ingress':[{'ports':[{'port':80}]}]}");
	assert_int_equal(sl_decode_netpol_str(json, &np, &err), 0);
	assert_true(np->types[SL_DIR_INGRESS]);
	assert_false(np->types[SL_DIR_EGRESS]);
	assert_int_equal(np->rules[SL_DIR_INGRESS][0].ports[0].proto, IPPROTO_TCP);
	sl_netpol_free(np);
	free(json);
	/* egress rules present: Egress too */
	json = policy_json("{'podSelector':{},'egress':[{}]}");
	assert_int_equal(sl_decode_netpol_str(json, &np, &err), 0);
	assert_true(np->types[SL_DIR_INGRESS] && np->types[SL_DIR_EGRESS]);
	sl_netpol_free(np);
	free(json);
	/* empty egress list: not "egress rules exist" */
	json = policy_json("{'podSelector':{},'egress':[]}");
	assert_int_equal(sl_decode_netpol_str(json, &np, &err), 0);
	assert_false(np->types[SL_DIR_EGRESS]);
	sl_netpol_free(np);
	free(json);
	/* explicit policyTypes win */
	json = policy_json("{'podSelector':{},'policyTypes':['Egress'],'ingress':[{}]}");
	assert_int_equal(sl_decode_netpol_str(json, &np, &err), 0);
	assert_false(np->types[SL_DIR_INGRESS]);
	assert_true(np->types[SL_DIR_EGRESS]);
	sl_netpol_free(np);
	free(json);
}

static void test_unreadable_selector_selects_all(void **state)
{
	struct sl_netpol *np;
	struct sl_err err;
	char *json = policy_json("{'podSelector':{'matchLabels':{'a':'b'},'matchExpressions':[{"
				 "'key':'a','operator':'Nope'}]},'policyTypes':['Egress']}");

	(void)state;
	assert_int_equal(sl_decode_netpol_str(json, &np, &err), 0);
	assert_false(np->valid);
	assert_int_equal(np->pod_sel.n, 0); /* matches every pod of the namespace */
	assert_true(np->types[SL_DIR_EGRESS]);
	assert_false(np->types[SL_DIR_INGRESS]);
	sl_netpol_free(np);
	free(json);
	/* unreadable policyTypes: both directions */
	json = policy_json("{'podSelector':{},'policyTypes':['Egress','Sideways']}");
	assert_int_equal(sl_decode_netpol_str(json, &np, &err), 0);
	assert_true(np->types[SL_DIR_EGRESS] && np->types[SL_DIR_INGRESS]);
	sl_netpol_free(np);
	free(json);
}

static void test_unreadable_objects(void **state)
{
	struct sl_netpol *np;
	struct sl_pod *pod;
	struct sl_namespace *ns;
	struct sl_node *node;
	struct sl_err err;

	(void)state;
	assert_int_equal(sl_decode_netpol_str("{\"metadata\":{\"name\":\"p\"}}", &np, &err), -22);
	assert_non_null(strstr(err.msg, "metadata.namespace: Required value"));
	assert_int_equal(sl_decode_netpol_str("[1,2", &np, &err), -22);
	assert_non_null(strstr(err.msg, "not valid JSON"));
	assert_int_equal(sl_decode_pod_str("{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},"
					   "\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.999\"}]}}",
					   &pod, &err),
			 -22);
	assert_non_null(strstr(err.msg, "status.podIPs[0].ip: Invalid value"));
	assert_int_equal(sl_decode_pod_str("{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"},"
					   "\"spec\":{\"containers\":[{\"ports\":[{\"name\":"
					   "\"x\",\"containerPort\":1,\"protocol\":\"ICMP\"}]}]}}",
					   &pod, &err),
			 -22);
	assert_non_null(strstr(err.msg, "spec.containers[0].ports[0].protocol: Unsupported"));
	assert_int_equal(sl_decode_namespace_str("{\"metadata\":{\"labels\":{}}}", &ns, &err), -22);
	assert_non_null(strstr(err.msg, "metadata.name: Required value"));
	assert_int_equal(sl_decode_node_str("{\"metadata\":{\"name\":\"n\"},\"spec\":{"
					    "\"podCIDRs\":[\"10.0.0.0/99\"]}}",
					    &node, &err),
			 -22);
	assert_non_null(strstr(err.msg, "spec.podCIDRs[0]: Invalid value"));
}

static void test_pod_fields(void **state)
{
	struct sl_pod *pod;
	struct sl_namespace *ns;
	struct sl_node *node;
	struct sl_err err;
	char buf[64];

	(void)state;
	assert_int_equal(
	    sl_decode_pod_str(
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\",\"uid\":\"u1\","
		"\"labels\":{\"b\":\"2\",\"a\":\"1\"}},\"spec\":{\"nodeName\":\"n1\","
		"\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8080},"
		"{\"containerPort\":53,\"protocol\":\"UDP\"}]}],\"initContainers\":[{\"ports\":"
		"[{\"name\":\"side\",\"containerPort\":9,\"protocol\":\"SCTP\"}]}]},"
		"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\",\"podIPs\":[{\"ip\":"
		"\"10.0.0.5\"},{\"ip\":\"fd00::5\"}]}}",
		&pod, &err),
	    0);
	assert_string_equal(pod->uid, "u1");
	assert_string_equal(pod->node, "n1");
	assert_string_equal(sl_labels_get(&pod->labels, "a"), "1");
	assert_string_equal(pod->labels.v[0].key, "a"); /* sorted */
	assert_int_equal(pod->n_ips, 2);
	assert_string_equal(sl_addr_str(&pod->ips[0], buf, sizeof(buf)), "10.0.0.5");
	assert_string_equal(sl_addr_str(&pod->ips[1], buf, sizeof(buf)), "fd00::5");
	assert_int_equal(pod->n_cports, 3);
	assert_string_equal(pod->cports[0].name, "http");
	assert_int_equal(pod->cports[0].proto, IPPROTO_TCP);
	assert_null(pod->cports[1].name);
	assert_int_equal(pod->cports[2].proto, IPPROTO_SCTP);
	assert_int_equal(pod->phase, SL_PHASE_RUNNING);
	sl_pod_free(pod);

	assert_int_equal(sl_decode_namespace_str("{\"metadata\":{\"name\":\"x\"}}", &ns, &err), 0);
	assert_string_equal(sl_labels_get(&ns->labels, "kubernetes.io/metadata.name"), "x");
	sl_namespace_free(ns);

	assert_int_equal(sl_decode_node_str("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":"
					    "\"10.0.0.0/24\"},\"status\":{\"addresses\":[{\"type\":"
					    "\"InternalIP\",\"address\":\"192.168.1.1\"},{\"type\":"
					    "\"Hostname\",\"address\":\"n1\"}]}}",
					    &node, &err),
			 0);
	assert_int_equal(node->n_addrs, 1);
	assert_int_equal(node->n_pod_cidrs, 1);
	assert_int_equal(node->pod_cidrs[0].len, 96 + 24);
	sl_node_free(node);
}

int main(void)
{
	size_t nv = sizeof(vcases) / sizeof(vcases[0]);
	struct CMUnitTest tests[sizeof(vcases) / sizeof(vcases[0]) + 5];
	size_t n = 0;
	int failed;

	for (size_t i = 0; i < nv; i++) {
		struct CMUnitTest t = {vcases[i].name, run_vcase, NULL, NULL, (void *)&vcases[i]};

		tests[n++] = t;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_defaults);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_unreadable_selector_selects_all);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_unreadable_objects);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pod_fields);
	failed = _cmocka_run_group_tests("policy validation", tests, n, NULL, NULL);
	printf("%zu passed, %d failed\n", n - (size_t)failed, failed);
	return failed ? 1 : 0;
}
