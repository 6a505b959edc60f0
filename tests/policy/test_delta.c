// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_delta.c - the compiler's output contract: identities dedupe pods, entries do not grow
 * with the pods a selector matches, the three phases of a delta, copy on write of policy sets,
 * the rule table and "default deny" reverse maps, capacities failing closed with an error,
 * endpoint removal and the node's own addresses.
 */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "topo.h"

static void add_pod(struct topo *t, const char *ns, const char *name, const char *labels,
		    const char *ip, const char *node, const char *ports)
{
	char b[1024];

	snprintf(b, sizeof(b),
		 "{'metadata':{'name':'%s','namespace':'%s','labels':%s},'spec':{'nodeName':'%s',"
		 "'containers':[{'name':'c','ports':%s}]},'status':{'phase':'Running','podIPs':[{"
		 "'ip':'%s'}]}}",
		 name, ns, labels, node, ports ? ports : "[]", ip);
	topo_pod(t, b);
}

static struct sl_ep_update ep(struct topo *t, const char *ns, const char *name)
{
	struct sl_ep_update u;

	assert_int_equal(sl_policy_endpoint(t->p, ns, name, &u), 0);
	return u;
}

static void test_identity_dedupe_and_scale(void **state)
{
	struct sl_policy_stats s1, s2;
	struct topo t;
	char ip[32], name[32];

	(void)state;
	topo_init(&t, "n1");
	topo_ns(&t, "{'metadata':{'name':'x','labels':{'ns':'x'}}}");
	topo_ns(&t, "{'metadata':{'name':'y','labels':{'ns':'y'}}}");
	add_pod(&t, "x", "server", "{'app':'db'}", "10.0.0.1", "n1", NULL);
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':"
		    "[{'from':[{'namespaceSelector':{'matchLabels':{'ns':'y'}}}],'ports':[{'port':"
		    "80},{'port':443},{'port':8000,'endPort':8100}]}]}}");
	for (int i = 0; i < 50; i++) {
		snprintf(ip, sizeof(ip), "10.1.0.%d", i + 1);
		snprintf(name, sizeof(name), "web-%d", i);
		add_pod(&t, "y", name, "{'app':'web'}", ip, "n2", NULL);
	}
	topo_sync(&t);
	sl_policy_get_stats(t.p, &s1);
	assert_int_equal(s1.identities, 2); /* x/db and y/web */
	assert_int_equal(s1.peer, 1);	    /* one identity matched, not 50 pods */
	for (int i = 50; i < 200; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200, i % 200 + 1);
		snprintf(name, sizeof(name), "web-%d", i);
		add_pod(&t, "y", name, "{'app':'web'}", ip, "n2", NULL);
	}
	topo_sync(&t);
	sl_policy_get_stats(t.p, &s2);
	assert_int_equal(s2.peer, s1.peer);   /* independent of the pods a selector matches */
	assert_int_equal(s2.ports, s1.ports); /* and of the ports x pods product */
	assert_int_equal(s2.ident, s1.ident + 150);
	assert_true(s1.ports <= 2 + 10); /* 80, 443 and 8000-8100 as a few prefixes */
	topo_fini(&t);
}

static void test_new_identity_phases(void **state)
{
	struct topo t;
	struct sl_delta d;

	(void)state;
	topo_init(&t, "n1");
	add_pod(&t, "x", "server", "{'app':'db'}", "10.0.0.1", "n1", NULL);
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':"
		    "[{'from':[{'podSelector':{'matchLabels':{'app':'web'}}}]}]}}");
	topo_sync(&t);
	add_pod(&t, "x", "web-1", "{'app':'web'}", "10.0.0.2", "n2", NULL);
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	/* phase 1: the new identity's entry in the existing set; phase 2: its address */
	assert_int_equal(d.peer_add.n, 1);
	assert_int_equal(d.ident_set.n, 1);
	assert_int_equal(d.peer_add.v[0].k.identity, d.ident_set.v[0].v.id);
	assert_int_equal(d.eps.n, 0); /* the endpoint's set did not change */
	assert_int_equal(d.peer_del.n + d.cidr_del.n + d.ports_del.n + d.ident_del.n, 0);
	store_apply(&t.store, &d, 0);
	sl_delta_free(&d);
	/* a second pod of that identity: only its address */
	add_pod(&t, "x", "web-2", "{'app':'web'}", "10.0.0.3", "n2", NULL);
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(sl_delta_size(&d), 1);
	assert_int_equal(d.ident_set.n, 1);
	store_apply(&t.store, &d, 0);
	sl_delta_free(&d);
	/* both gone: address deletes in phase 2, the identity's entry in phase 3 */
	topo_del(&t, 0, "x", "web-1");
	topo_del(&t, 0, "x", "web-2");
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(d.ident_del.n, 2);
	assert_int_equal(d.peer_del.n, 1);
	assert_int_equal(d.peer_add.n + d.cidr_add.n + d.ports_add.n, 0);
	store_apply(&t.store, &d, 0);
	sl_delta_free(&d);
	assert_int_equal(t.store.violations, 0);
	topo_fini(&t);
}

static void test_policy_update_is_copy_on_write(void **state)
{
	struct sl_ep_update before, after;
	struct sl_policy_stats st;
	struct sl_delta d;
	struct topo t;
	char why[256];

	(void)state;
	topo_init(&t, "n1");
	topo_e2e(&t);
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':"
		    "[{'from':[{'ipBlock':{'cidr':'10.0.0.0/16'}}],'ports':[{'port':80}]}]}}");
	topo_sync(&t);
	before = ep(&t, "x", "a");
	assert_int_not_equal(before.pol[SL_DIR_INGRESS], 0);
	assert_int_equal(before.pol[SL_DIR_EGRESS], 0);
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':"
		    "[{'from':[{'ipBlock':{'cidr':'10.0.0.0/16'}}],'ports':[{'port':81}]}]}}");
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	after = ep(&t, "x", "a");
	assert_int_not_equal(after.pol[SL_DIR_INGRESS], before.pol[SL_DIR_INGRESS]);
	assert_int_equal(d.eps.n, 3); /* x/a, x/b, x/c flip to the new set */
	/* every added entry belongs to the new set, every deleted one to the old set */
	for (size_t i = 0; i < d.cidr_add.n; i++)
		assert_int_equal(d.cidr_add.v[i].k.pol, after.pol[SL_DIR_INGRESS]);
	for (size_t i = 0; i < d.cidr_del.n; i++)
		assert_int_equal(d.cidr_del.v[i].pol, before.pol[SL_DIR_INGRESS]);
	assert_true(d.cidr_add.n > 0 && d.cidr_del.n > 0);
	store_apply(&t.store, &d, 0);
	sl_delta_free(&d);
	sl_policy_get_stats(t.p, &st);
	assert_int_equal(st.inplace_updates, 0);
	assert_true(topo_check_full(&t, why, sizeof(why)));
	topo_fini(&t);
}

static void test_rule_table_and_default_deny(void **state)
{
	struct sl_ep_update u;
	const struct sl_rule_info *ri;
	const struct sl_netpol *np;
	enum sl_dir dir;
	struct topo t;
	__u32 rule = 0;

	(void)state;
	topo_init(&t, "n1");
	topo_e2e(&t);
	topo_policy(&t, "{'metadata':{'name':'deny','namespace':'x'},'spec':{'podSelector':{}}}");
	topo_policy(&t,
		    "{'metadata':{'name':'web','namespace':'x'},'spec':{'podSelector':{"
		    "'matchLabels':{'pod':'a'}},'ingress':[{'from':[{'podSelector':{}}]},{'ports':"
		    "[{'port':81}]}]}}");
	topo_sync(&t);
	u = ep(&t, "x", "a");
	/* the policies selecting x/a for ingress: what a drop with rule 0 is explained by */
	np = sl_policy_set_policy(t.p, u.pol[SL_DIR_INGRESS], 0, &dir);
	assert_non_null(np);
	assert_int_equal(dir, SL_DIR_INGRESS);
	assert_non_null(sl_policy_set_policy(t.p, u.pol[SL_DIR_INGRESS], 1, NULL));
	assert_null(sl_policy_set_policy(t.p, u.pol[SL_DIR_INGRESS], 2, NULL));
	/* the rule that allows port 81 from outside is web's ingress[1] */
	for (size_t i = 0; i < t.store.n_ports; i++)
		if (t.store.ports[i].k.proto == IPPROTO_TCP && ntohs(t.store.ports[i].k.port) == 81)
			rule = t.store.ports[i].v.rule;
	assert_int_not_equal(rule, 0);
	ri = sl_policy_rule(t.p, rule);
	assert_non_null(ri);
	assert_string_equal(ri->ns, "x");
	assert_string_equal(ri->name, "web");
	assert_int_equal(ri->dir, SL_DIR_INGRESS);
	assert_int_equal(ri->index, 1);
	assert_null(sl_policy_rule(t.p, 0));
	{
		const char *ns;
		const struct sl_labels *l;

		assert_true(sl_policy_identity(t.p, u.identity, &ns, &l));
		assert_string_equal(ns, "x");
		assert_string_equal(sl_labels_get(l, "pod"), "a");
	}
	topo_fini(&t);
}

static void test_capacity_fails_closed(void **state)
{
	struct sl_policy_config cfg = {.node = "n1", .max_peer = 4};
	struct sl_policy_stats st;
	struct sl_ep_update u;
	struct topo t;
	const char *e;
	bool found = false;

	(void)state;
	topo_init_cfg(&t, &cfg);
	topo_e2e(&t); /* 10 identities: pods a, b, c, d are labelled apart */
	topo_policy(&t,
		    "{'metadata':{'name':'all','namespace':'x'},'spec':{'podSelector':{"
		    "'matchLabels':{'pod':'a'}},'ingress':[{'from':[{'namespaceSelector':{}}]}]}}");
	topo_sync(&t);
	u = ep(&t, "x", "a");
	assert_true(u.flags & SL_EP_F_POLICY_INVALID);
	assert_false(ep(&t, "x", "b").flags & SL_EP_F_POLICY_INVALID);
	sl_policy_get_stats(t.p, &st);
	assert_int_equal(st.peer, 0); /* nothing partial */
	assert_int_equal(st.overflows, 1);
	for (size_t i = 0; (e = sl_policy_error(t.p, i)); i++)
		found |= strstr(e, "pod x/a: ingress policy needs") && strstr(e, "failing closed");
	assert_true(found);
	assert_false(topo_probe(&t, "x/a", SL_DIR_INGRESS, "10.0.1.2", IPPROTO_TCP, 80, false));
	/* a policy that fits: recovers */
	topo_policy(&t,
		    "{'metadata':{'name':'all','namespace':'x'},'spec':{'podSelector':{"
		    "'matchLabels':{'pod':'a'}},'ingress':[{'from':[{'podSelector':{'matchLabels'"
		    ":{'pod':'b'}}}]}]}}");
	topo_sync(&t);
	assert_false(ep(&t, "x", "a").flags & SL_EP_F_POLICY_INVALID);
	assert_true(topo_probe(&t, "x/a", SL_DIR_INGRESS, "10.0.1.2", IPPROTO_TCP, 80, false));
	assert_int_equal(t.store.violations, 0);
	topo_fini(&t);

	/* sl_ident full: addresses left out (world), an error, and in again once there is room */
	cfg.max_peer = 0;
	cfg.max_ident = 8;
	topo_init_cfg(&t, &cfg);
	topo_e2e(&t); /* 10 pod addresses and the node's */
	topo_sync(&t);
	sl_policy_get_stats(t.p, &st);
	assert_int_equal(st.ident, 8);
	assert_int_equal(st.ident_overflows, 3);
	found = false;
	for (size_t i = 0; (e = sl_policy_error(t.p, i)); i++)
		found |= strstr(e, "sl_ident full") != NULL;
	assert_true(found);
	topo_del(&t, 0, "z", "a");
	topo_del(&t, 0, "z", "b");
	topo_del(&t, 0, "z", "c");
	topo_sync(&t);
	sl_policy_get_stats(t.p, &st);
	assert_int_equal(st.ident, 8);
	assert_int_equal(st.ident_overflows, 0);
	assert_int_equal(t.store.violations, 0);
	topo_fini(&t);

	/* per-set limit */
	cfg.max_ident = 0;
	cfg.max_peer = 0;
	cfg.max_set_entries = 2;
	topo_init_cfg(&t, &cfg);
	topo_e2e(&t);
	topo_policy(&t, "{'metadata':{'name':'all','namespace':'y'},'spec':{'podSelector':{},"
			"'policyTypes':['Egress'],'egress':[{'to':[{'podSelector':{}}]}]}}");
	topo_sync(&t);
	assert_true(ep(&t, "y", "b").flags & SL_EP_F_POLICY_INVALID);
	assert_false(topo_probe(&t, "y/b", SL_DIR_EGRESS, "10.0.2.1", IPPROTO_TCP, 80, false));
	topo_fini(&t);
}

static void test_endpoint_lifecycle(void **state)
{
	struct sl_delta d;
	struct topo t;

	(void)state;
	topo_init(&t, "n1");
	add_pod(&t, "x", "a", "{'pod':'a'}", "10.0.0.1", "n1", NULL);
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(d.eps.n, 1);
	assert_false(d.eps.v[0].removed);
	assert_int_equal(d.eps.v[0].pol[0] | d.eps.v[0].pol[1], 0); /* open */
	assert_true(d.eps.v[0].identity >= SL_IDENTITY_FIRST);
	sl_delta_free(&d);
	topo_del(&t, 0, "x", "a");
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(d.eps.n, 1);
	assert_true(d.eps.v[0].removed);
	assert_string_equal(d.eps.v[0].name, "a");
	assert_int_equal(d.ident_del.n, 1);
	sl_delta_free(&d);
	/* CNI ADD before the API server has the address */
	topo_pod(&t, "{'metadata':{'name':'e','namespace':'x','labels':{'pod':'e'}},'spec':{"
		     "'nodeName':'n1'},'status':{'phase':'Pending'}}");
	{
		struct sl_addr a;

		sl_addr_parse("10.0.0.9", &a);
		assert_int_equal(sl_policy_set_pod_ips(t.p, "x", "e", &a, 1), 0);
		assert_int_equal(sl_policy_set_pod_ips(t.p, "x", "nope", &a, 1), -ENOENT);
	}
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(d.eps.n, 1);
	assert_int_equal(d.ident_set.n, 1);
	assert_int_equal(d.ident_set.v[0].v.id, d.eps.v[0].identity);
	sl_delta_free(&d);
	topo_del(&t, 0, "x", "e");
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	sl_delta_free(&d);
	/* a pod on another node, or finished, is no endpoint here */
	add_pod(&t, "x", "b", "{'pod':'b'}", "10.0.0.2", "n2", NULL);
	topo_pod(&t, "{'metadata':{'name':'c','namespace':'x'},'spec':{'nodeName':'n1'},"
		     "'status':{'phase':'Succeeded','podIPs':[{'ip':'10.0.0.3'}]}}");
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(d.eps.n, 0);
	assert_int_equal(d.ident_set.n, 1); /* only b's address: c has finished */
	sl_delta_free(&d);
	topo_fini(&t);
}

static void test_node_addresses_are_host(void **state)
{
	struct sl_delta d;
	struct topo t;

	(void)state;
	topo_init(&t, "n1");
	topo_node(&t, "{'metadata':{'name':'n2'},'status':{'addresses':[{'type':'InternalIP',"
		      "'address':'192.168.0.2'}]}}");
	topo_node(&t, "{'metadata':{'name':'n1'},'status':{'addresses':[{'type':'InternalIP',"
		      "'address':'192.168.0.1'},{'type':'ExternalIP','address':'1.2.3.4'}]}}");
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(d.ident_set.n, 2); /* only this node's */
	assert_int_equal(d.ident_set.v[0].v.id, SL_IDENTITY_HOST);
	sl_delta_free(&d);
	sl_policy_delete_node(t.p, "n1");
	assert_int_equal(sl_policy_take_delta(t.p, &d), 0);
	assert_int_equal(d.ident_del.n, 2);
	sl_delta_free(&d);
	topo_fini(&t);
}

static void test_named_ports_split_identities(void **state)
{
	struct sl_policy_stats st;
	struct topo t;

	(void)state;
	topo_init(&t, "n1");
	add_pod(&t, "x", "client", "{'app':'client'}", "10.0.0.1", "n1", NULL);
	add_pod(&t, "x", "s1", "{'app':'srv'}", "10.0.0.2", "n2",
		"[{'name':'http','containerPort':80}]");
	add_pod(&t, "x", "s2", "{'app':'srv'}", "10.0.0.3", "n2",
		"[{'name':'http','containerPort':8080}]");
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{'matchLabels'"
		    ":{'app':'client'}},'policyTypes':['Egress'],'egress':[{'to':[{'podSelector':"
		    "{'matchLabels':{'app':'srv'}}}],'ports':[{'port':'http'}]}]}}");
	topo_sync(&t);
	sl_policy_get_stats(t.p, &st);
	assert_int_equal(st.identities, 3);
	assert_true(topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.0.2", IPPROTO_TCP, 80, false));
	assert_false(
	    topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.0.2", IPPROTO_TCP, 8080, false));
	assert_true(
	    topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.0.3", IPPROTO_TCP, 8080, false));
	assert_false(topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.0.3", IPPROTO_TCP, 80, false));
	topo_fini(&t);
}

static void test_restart_numbering(void **state)
{
	struct sl_policy_config cfg = {
	    .node = "n1", .first_ident = 5000, .first_set = 70, .first_portset = 900};
	struct sl_ep_update u;
	struct topo t;

	(void)state;
	topo_init_cfg(&t, &cfg);
	topo_e2e(&t);
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':"
		    "[{'ports':[{'port':80}]}]}}");
	topo_sync(&t);
	u = ep(&t, "x", "a");
	assert_true(u.identity >= 5000);
	assert_true(u.pol[SL_DIR_INGRESS] >= 70);
	for (size_t i = 0; i < t.store.n_ports; i++)
		assert_true(ntohl(t.store.ports[i].k.portset) >= 900);
	topo_fini(&t);
}

/* property test, PROPERTY_SEED=5 cluster 3218: an ipBlock that is exactly a pod's /32 and
 * that pod's own /128 (named ports) are one prefix: the pod's must be the one kept */
static void test_named_port_on_exact_block(void **state)
{
	struct topo t;

	(void)state;
	topo_init(&t, "n1");
	add_pod(&t, "x", "client", "{'app':'client'}", "10.0.0.1", "n1", NULL);
	add_pod(&t, "z", "srv", "{'app':'srv'}", "10.0.3.5", "n2",
		"[{'name':'metrics','containerPort':81},{'name':'b','containerPort':82},"
		"{'name':'c','containerPort':83}]");
	for (int i = 0; i < 8; i++) { /* other policies' prefixes around it */
		char b[512];

		snprintf(b, sizeof(b),
			 "{'metadata':{'name':'p%d','namespace':'x'},'spec':{'podSelector':{},"
			 "'policyTypes':['Egress'],'egress':[{'ports':[{'port':'metrics'},{'port':"
			 "%d}],'to':[{'ipBlock':{'cidr':'10.0.3.%d/32'}}]}]}}",
			 i, 9000 + i, 5 + (i % 2));
		topo_policy(&t, b);
	}
	topo_sync(&t);
	assert_true(topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.3.5", IPPROTO_TCP, 81, false));
	assert_true(
	    topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.3.5", IPPROTO_TCP, 9002, false));
	assert_false(topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.3.5", IPPROTO_TCP, 82, false));
	assert_false(topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.3.6", IPPROTO_TCP, 81, false));
	assert_true(
	    topo_probe(&t, "x/client", SL_DIR_EGRESS, "10.0.3.6", IPPROTO_TCP, 9001, false));
	topo_fini(&t);
}

static void test_full_port_range(void **state)
{
	struct sl_policy_stats st;
	struct topo t;

	(void)state;
	topo_init(&t, "n1");
	add_pod(&t, "x", "a", "{'pod':'a'}", "10.0.0.1", "n1", NULL);
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':"
		    "[{'ports':[{'protocol':'UDP','port':1,'endPort':65535}]}]}}");
	topo_sync(&t);
	sl_policy_get_stats(t.p, &st);
	assert_int_equal(st.ports, 16); /* 1-65535 is 16 prefixes */
	assert_true(topo_probe(&t, "x/a", SL_DIR_INGRESS, "8.8.8.8", IPPROTO_UDP, 65535, false));
	assert_true(topo_probe(&t, "x/a", SL_DIR_INGRESS, "8.8.8.8", IPPROTO_UDP, 1, false));
	assert_false(topo_probe(&t, "x/a", SL_DIR_INGRESS, "8.8.8.8", IPPROTO_UDP, 0, false));
	assert_false(topo_probe(&t, "x/a", SL_DIR_INGRESS, "8.8.8.8", IPPROTO_TCP, 53, false));
	topo_fini(&t);
}

static void test_namespace_relabel(void **state)
{
	struct topo t;
	char why[256];

	(void)state;
	topo_init(&t, "n1");
	t.check_phases = 1;
	topo_e2e(&t);
	topo_policy(&t,
		    "{'metadata':{'name':'p','namespace':'x'},'spec':{'podSelector':{},'ingress':"
		    "[{'from':[{'namespaceSelector':{'matchLabels':{'team':'blue'}}}]}]}}");
	topo_sync(&t);
	assert_false(topo_conn(&t, "y/a", "x/a", IPPROTO_TCP, 80, false));
	topo_ns(&t, "{'metadata':{'name':'y','labels':{'ns':'y','team':'blue'}}}");
	topo_sync(&t);
	assert_true(topo_conn(&t, "y/a", "x/a", IPPROTO_TCP, 80, false));
	assert_false(topo_conn(&t, "z/a", "x/a", IPPROTO_TCP, 80, false));
	topo_del(&t, 1, "", "y");
	topo_sync(&t);
	assert_false(topo_conn(&t, "y/a", "x/a", IPPROTO_TCP, 80, false));
	if (t.failures)
		print_error("%s\n", t.first_failure);
	assert_int_equal(t.failures, 0);
	assert_true(topo_check_full(&t, why, sizeof(why)));
	topo_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity_dedupe_and_scale),
	    cmocka_unit_test(test_new_identity_phases),
	    cmocka_unit_test(test_policy_update_is_copy_on_write),
	    cmocka_unit_test(test_rule_table_and_default_deny),
	    cmocka_unit_test(test_capacity_fails_closed),
	    cmocka_unit_test(test_endpoint_lifecycle),
	    cmocka_unit_test(test_node_addresses_are_host),
	    cmocka_unit_test(test_named_ports_split_identities),
	    cmocka_unit_test(test_full_port_range),
	    cmocka_unit_test(test_named_port_on_exact_block),
	    cmocka_unit_test(test_restart_numbering),
	    cmocka_unit_test(test_namespace_relabel),
	};
	size_t n = sizeof(tests) / sizeof(tests[0]);
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("%zu passed, %d failed\n", n - (size_t)failed, failed);
	return failed ? 1 : 0;
}
