// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_netpol.c - one case per NetworkPolicy semantic on the upstream netpol e2e topology:
 * namespaces x, y, z (labelled ns=<name>), pods a, b, c (labelled pod=<name>) in each, ports
 * 80 and 81 over TCP, UDP and SCTP with named ports serve-80-tcp etc. Every case compares the
 * compiled entries (looked up as the datapath does) and the reference evaluator with the
 * expected matrix, so the evaluator the property test trusts is itself checked here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "harness.h"
#include "topo.h"

#define TCP  IPPROTO_TCP
#define UDP  IPPROTO_UDP
#define SCTP IPPROTO_SCTP
#define ING  SL_DIR_INGRESS
#define EGR  SL_DIR_EGRESS

struct mcheck {
	int proto, port;
	const char *m; /* 9 rows (from) of 9 columns (to), x/a..z/c; X allowed; diagonal ignored */
};

struct probe {
	const char *ep;
	int dir;
	const char *addr;
	int proto, port;
	bool want;
};

struct tcase {
	const char *name;
	const char *pols[4];
	struct mcheck checks[5];
	struct probe probes[4];
	const char *err; /* expected in sl_policy_error() */
};

#define ALL                                                                                \
	"XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX " \
	"XXXXXXXXX"
#define NO_INTO_X                                                                          \
	"...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX " \
	"...XXXXXX"

static const struct tcase cases[] = {
    {"no policy: everything open", {}, {{TCP, 80, ALL}, {UDP, 81, ALL}, {SCTP, 80, ALL}}},
    {"deny all ingress (podSelector {} policyTypes Ingress)",
     {"{'metadata':{'name':'deny','namespace':'x'},'spec':{'podSelector':{},"
      "'policyTypes':['Ingress']}}"},
     {{TCP, 80, NO_INTO_X}, {UDP, 81, NO_INTO_X}, {SCTP, 80, NO_INTO_X}}},
    {"deny all egress",
     {"{'metadata':{'name':'deny','namespace':'x'},'spec':{'podSelector':{},"
      "'policyTypes':['Egress']}}"},
     {{TCP, 80,
       "......... ......... ......... XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}}},
    {"podSelector matchLabels: x/b -> x/a only",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}}"},
     {{TCP, 80,
       ".XXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX "
       ".XXXXXXXX"},
      {UDP, 81,
       ".XXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX "
       ".XXXXXXXX"}}},
    {"matchExpressions In and NotIn",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{'matchExpressions':"
      "[{'key':'pod','operator':'In','values':['a','b']}]},'ingress':[{'from':[{"
      "'podSelector':{'matchExpressions':[{'key':'pod','operator':'NotIn','values':['a']}]"
      "}}]}]}}"},
     {{TCP, 80,
       "..XXXXXXX XXXXXXXXX XXXXXXXXX ..XXXXXXX ..XXXXXXX ..XXXXXXX ..XXXXXXX ..XXXXXXX "
       "..XXXXXXX"}}},
    {"matchExpressions Exists and DoesNotExist, namespaceSelector NotIn",
     {"{'metadata':{'name':'p','namespace':'y'},'spec':{'podSelector':{'matchExpressions':"
      "[{'key':'pod','operator':'Exists'}]},'ingress':[{'from':[{'podSelector':{"
      "'matchExpressions':[{'key':'other','operator':'DoesNotExist'}]},'namespaceSelector':"
      "{'matchExpressions':[{'key':'ns','operator':'NotIn','values':['x']}]}}]}]}}"},
     {{TCP, 81,
       "XXX...XXX XXX...XXX XXX...XXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}}},
    {"namespaceSelector alone: every pod of the selected namespaces",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{'from':"
      "[{'namespaceSelector':{'matchLabels':{'ns':'y'}}}]}]}}"},
     {{TCP, 80,
       "...XXXXXX ...XXXXXX ...XXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX ...XXXXXX ...XXXXXX "
       "...XXXXXX"}}},
    {"namespaceSelector and podSelector in one peer: AND",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'y'}},"
      "'podSelector':{'matchLabels':{'pod':'b'}}}]}]}}"},
     {{TCP, 80,
       ".XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX "
       ".XXXXXXXX"}}},
    {"namespaceSelector and podSelector in two peers: OR",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'y'}}},"
      "{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}}"},
     {{TCP, 80,
       ".XXXXXXXX XXXXXXXXX .XXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX "
       ".XXXXXXXX"}}},
    {"ipBlock with except matches pod addresses (ingress)",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/16','except':"
      "['10.0.2.0/24']}}]}]}}"},
     {{TCP, 80,
       "XXXXXXXXX XXXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}},
     {{"x/a", ING, "10.0.9.9", TCP, 80, true},
      {"x/a", ING, "10.1.0.1", TCP, 80, false},
      {"x/a", ING, "10.0.2.77", TCP, 80, false}}},
    {"ipBlock egress to another namespace's range",
     {"{'metadata':{'name':'p','namespace':'y'},'spec':{'podSelector':{},'policyTypes':"
      "['Egress'],'egress':[{'to':[{'ipBlock':{'cidr':'10.0.3.0/24'}}]}]}}"},
     {{UDP, 80,
       "XXXXXXXXX XXXXXXXXX XXXXXXXXX ......XXX ......XXX ......XXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}},
     {{"y/a", EGR, "8.8.8.8", UDP, 53, false}, {"y/a", EGR, "10.0.3.200", TCP, 1, true}}},
    {"numeric port: TCP 80 only",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{"
      "'ports':[{'port':80}]}]}}"},
     {{TCP, 80, ALL}, {TCP, 81, NO_INTO_X}, {UDP, 80, NO_INTO_X}},
     {{"x/a", ING, "10.0.2.1", IPPROTO_ICMP, 0, false}}},
    {"protocols UDP and SCTP",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{"
      "'ports':[{'protocol':'UDP','port':81},{'protocol':'SCTP','port':80}]}]}}"},
     {{UDP, 81, ALL},
      {SCTP, 80, ALL},
      {TCP, 81, NO_INTO_X},
      {UDP, 80, NO_INTO_X},
      {SCTP, 81, NO_INTO_X}}},
    {"named port in ingress resolves on the receiving pod",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{"
      "'ports':[{'protocol':'UDP','port':'serve-81-udp'}]}]}}"},
     {{UDP, 81, ALL}, {UDP, 80, NO_INTO_X}, {TCP, 81, NO_INTO_X}}},
    {"named port in egress resolves on the destination pod",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'policyTypes':"
      "['Egress'],'egress':[{'ports':[{'port':'serve-80-tcp'}]}]}}"},
     {{TCP, 80, ALL},
      {TCP, 81,
       "......... ......... ......... XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}},
     {{"x/a", EGR, "10.0.3.4", TCP, 8080, true}, /* z/d: serve-80-tcp is 8080 there */
      {"x/a", EGR, "10.0.3.4", TCP, 80, false},
      {"x/a", EGR, "8.8.8.8", TCP, 80, false}}},
    {"endPort range 80-81",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{"
      "'ports':[{'port':80,'endPort':81}]}]}}"},
     {{TCP, 80, ALL}, {TCP, 81, ALL}, {UDP, 80, NO_INTO_X}},
     {{"x/a", ING, "10.0.2.1", TCP, 82, false}, {"x/a", ING, "10.0.2.1", TCP, 79, false}}},
    {"empty from: every peer; empty rule allows all",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{}]}}"},
     {{TCP, 80, ALL}, {SCTP, 81, ALL}},
     {{"x/a", ING, "8.8.8.8", TCP, 80, true}, {"x/a", ING, "fd00::1", UDP, 1, true}}},
    {"missing ingress list isolates; empty list too",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[]}}",
      "{'metadata':{'name':'q','namespace':'x'},'spec':{'podSelector':{}}}"},
     {{TCP, 80, NO_INTO_X}}},
    {"empty ports: all ports and protocols of the matched peers",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'podSelector':{}}],'ports':[]}]}}"},
     {{TCP, 80,
       "XXXXXXXXX XXXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX "
       ".XXXXXXXX"},
      {SCTP, 81,
       "XXXXXXXXX XXXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX "
       ".XXXXXXXX"}},
     {{"x/a", ING, "10.0.1.2", IPPROTO_ICMP, 0, true}}},
    {"several policies selecting one pod: union",
     {"{'metadata':{'name':'p1','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}}",
      "{'metadata':{'name':'p2','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'z'}}}]}]"
      "}}"},
     {{TCP, 80,
       ".XXXXXXXX XXXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}}},
    {"policyTypes Egress only: ingress rules do not isolate",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'policyTypes':"
      "['Egress'],'ingress':[{'from':[{'podSelector':{'matchLabels':{'pod':'nope'}}}]}],"
      "'egress':[{}]}}"},
     {{TCP, 80, ALL}}},
    {"default policyTypes: Egress too when egress rules exist",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'egress':[{'to':"
      "[{'namespaceSelector':{'matchLabels':{'ns':'y'}}}]}]}}"},
     {{TCP, 80,
       "...XXX... ...XXX... ...XXX... ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX "
       "...XXXXXX"}}},
    {"invalid policy: rejected, its pods stay isolated, other policies in force",
     {"{'metadata':{'name':'ok','namespace':'x'},'spec':{'podSelector':{},'ingress':[{"
      "'from':[{'podSelector':{'matchLabels':{'pod':'b'}}}]}]}}",
      "{'metadata':{'name':'bad','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'from':[{'ipBlock':{'cidr':'10.0.0.0/33'}}]}]}}"},
     {{TCP, 80,
       "...XXXXXX XXXXXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX ...XXXXXX "
       "...XXXXXX"}},
     {},
     "netpol x/bad: rejected, its pods stay isolated: spec.ingress[0].from[0].ipBlock.cidr: "},
    {"unsupported protocol: rejected, fails closed",
     {"{'metadata':{'name':'icmp','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'ingress':[{'ports':[{'protocol':'ICMP'}]}]}}"},
     {{TCP, 80,
       ".XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX .XXXXXXXX "
       ".XXXXXXXX"}},
     {},
     "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\""},
    {"unreadable podSelector isolates the whole namespace",
     {"{'metadata':{'name':'bad','namespace':'y'},'spec':{'podSelector':{'matchExpressions':"
      "[{'key':'pod','operator':'Bogus'}]},'ingress':[{}]}}"},
     {{TCP, 80,
       "XXX...XXX XXX...XXX XXX...XXX XXX...XXX XXX...XXX XXX...XXX XXX...XXX XXX...XXX "
       "XXX...XXX"}},
     {},
     "spec.podSelector.matchExpressions[0].operator: Unsupported value"},
    {"a connection needs the sender's egress and the receiver's ingress",
     {"{'metadata':{'name':'e','namespace':'x'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'a'}},'policyTypes':['Egress'],'egress':[{'to':[{'namespaceSelector':"
      "{'matchLabels':{'ns':'y'}},'podSelector':{'matchLabels':{'pod':'b'}}}]}]}}",
      "{'metadata':{'name':'i','namespace':'y'},'spec':{'podSelector':{'matchLabels':"
      "{'pod':'b'}},'ingress':[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'z'}}}]}]"
      "}}"},
     {{TCP, 80,
       "......... XXXX.XXXX XXXX.XXXX XXXX.XXXX XXXX.XXXX XXXX.XXXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}}},
    {"namespaceSelector {}: every pod, no outside address",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{'from':"
      "[{'namespaceSelector':{}}]}]}}"},
     {{TCP, 80, ALL}},
     {{"x/a", ING, "8.8.8.8", TCP, 80, false}, {"x/a", ING, "10.0.9.9", TCP, 80, false}}},
    {"the node's own addresses are always allowed",
     {"{'metadata':{'name':'deny','namespace':'x'},'spec':{'podSelector':{},'policyTypes':"
      "['Ingress','Egress']}}"},
     {},
     {{"x/a", ING, "192.168.0.1", TCP, 10250, true},
      {"x/a", ING, "192.168.0.2", TCP, 10250, false}}},
    {"IPv6 ipBlock does not match IPv4 pods; 0.0.0.0/0 does not match IPv6",
     {"{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':[{'from':"
      "[{'ipBlock':{'cidr':'::/0'}}]},{'from':[{'ipBlock':{'cidr':'0.0.0.0/0','except':["
      "'10.0.2.0/24']}}],'ports':[{'port':81}]}]}}"},
     {{TCP, 80, NO_INTO_X},
      {TCP, 81,
       "XXXXXXXXX XXXXXXXXX XXXXXXXXX ...XXXXXX ...XXXXXX ...XXXXXX XXXXXXXXX XXXXXXXXX "
       "XXXXXXXXX"}},
     {{"x/a", ING, "fd00::1", UDP, 5, true}, {"x/a", ING, "::ffff:8.8.8.8", UDP, 5, false}}},
};

static const char *const pod_names[9] = {"x/a", "x/b", "x/c", "y/a", "y/b",
					 "y/c", "z/a", "z/b", "z/c"};

static void run_case(void **state)
{
	const struct tcase *tc = *state;
	struct topo t;
	char why[256];
	int bad = 0;

	topo_init(&t, "n1");
	topo_e2e(&t);
	for (int i = 0; i < 4 && tc->pols[i]; i++)
		topo_policy(&t, tc->pols[i]);
	topo_sync(&t);
	assert_int_equal(t.store.violations, 0);
	for (int c = 0; c < 5 && tc->checks[c].m; c++) {
		const struct mcheck *mc = &tc->checks[c];

		for (int from = 0; from < 9; from++)
			for (int to = 0; to < 9; to++) {
				bool want = mc->m[from * 10 + to] == 'X';
				bool got = topo_conn(&t, pod_names[from], pod_names[to], mc->proto,
						     mc->port, false);
				bool ref = topo_conn(&t, pod_names[from], pod_names[to], mc->proto,
						     mc->port, true);

				if (from == to)
					continue;
				if (got != want || ref != want) {
					print_error("%s: %s -> %s %d/%d: want %d, compiled %d, "
						    "reference %d\n",
						    tc->name, pod_names[from], pod_names[to],
						    mc->proto, mc->port, want, got, ref);
					bad++;
				}
			}
	}
	for (int k = 0; k < 4 && tc->probes[k].ep; k++) {
		const struct probe *pr = &tc->probes[k];
		bool got = topo_probe(&t, pr->ep, pr->dir, pr->addr, pr->proto, pr->port, false);
		bool ref = topo_probe(&t, pr->ep, pr->dir, pr->addr, pr->proto, pr->port, true);

		if (got != pr->want || (ref != pr->want && strcmp(pr->addr, "192.168.0.1"))) {
			print_error(
			    "%s: probe %s %s %s %d/%d: want %d, compiled %d, reference %d\n",
			    tc->name, pr->ep, pr->dir == ING ? "from" : "to", pr->addr, pr->proto,
			    pr->port, pr->want, got, ref);
			bad++;
		}
	}
	if (tc->err) {
		bool found = false;
		const char *e;

		for (size_t i = 0; (e = sl_policy_error(t.p, i)); i++)
			found |= strstr(e, tc->err) != NULL;
		if (!found) {
			print_error("%s: no error containing '%s' (first: %s)\n", tc->name, tc->err,
				    sl_policy_error(t.p, 0));
			bad++;
		}
	}
	assert_true(topo_check_full(&t, why, sizeof(why)));
	topo_fini(&t);
	assert_int_equal(bad, 0);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];
	size_t n = sizeof(cases) / sizeof(cases[0]);
	int failed;

	for (size_t i = 0; i < n; i++) {
		struct CMUnitTest t = {cases[i].name, run_case, NULL, NULL, (void *)&cases[i]};

		tests[i] = t;
	}
	failed = _cmocka_run_group_tests("netpol e2e topology", tests, n, NULL, NULL);
	printf("%zu passed, %d failed\n", n - (size_t)failed, failed);
	return failed ? 1 : 0;
}
