// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_policy.c - libFuzzer target for the policy decoder and compiler. The input is lines;
 * the first byte of a line says what the rest is: P pod, N namespace, X NetworkPolicy,
 * D node (JSON), p/n/x/d delete "ns/name" (or "name"), T take a delta. Every delta is
 * applied to a store as the datapath's maps; at the end the store must equal the compiler's
 * snapshot and no applied operation may have been inconsistent (add of an existing key,
 * delete of a missing one, an entry before its portset, a value changed in place).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void take(struct sl_policy *p, struct store *s)
{
	struct sl_delta d;

	if (sl_policy_take_delta(p, &d))
		abort();
	store_apply(s, &d, 0);
	sl_delta_free(&d);
}

static void line(struct sl_policy *p, struct store *s, char kind, char *arg)
{
	struct sl_err err;
	char *slash = strchr(arg, '/');
	const char *ns = "", *name = arg;

	if (slash) {
		*slash = 0;
		ns = arg;
		name = slash + 1;
	}
	switch (kind) {
	case 'P': {
		struct sl_pod *o;

		if (slash)
			*slash = '/';
		if (!sl_decode_pod_str(arg, &o, &err) && sl_policy_upsert_pod(p, o))
			abort();
		break;
	}
	case 'N': {
		struct sl_namespace *o;

		if (slash)
			*slash = '/';
		if (!sl_decode_namespace_str(arg, &o, &err) && sl_policy_upsert_namespace(p, o))
			abort();
		break;
	}
	case 'X': {
		struct sl_netpol *o;

		if (slash)
			*slash = '/';
		if (!sl_decode_netpol_str(arg, &o, &err) && sl_policy_upsert_netpol(p, o))
			abort();
		break;
	}
	case 'D': {
		struct sl_node *o;

		if (slash)
			*slash = '/';
		if (!sl_decode_node_str(arg, &o, &err) && sl_policy_upsert_node(p, o))
			abort();
		break;
	}
	case 'p':
		sl_policy_delete_pod(p, ns, name);
		break;
	case 'n':
		sl_policy_delete_namespace(p, name);
		break;
	case 'x':
		sl_policy_delete_netpol(p, ns, name);
		break;
	case 'd':
		sl_policy_delete_node(p, name);
		break;
	case 'T':
		take(p, s);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_policy_config cfg = {.node = "n1",
				       .max_peer = 64,
				       .max_cidr = 64,
				       .max_ports = 256,
				       .max_ident = 64,
				       .max_rules = 64};
	struct sl_policy *p;
	struct store s, snap;
	struct sl_delta d;
	struct sl_policy_stats st;
	char *buf, *cur, *nl, why[256];
	const char *e;

	if (size > 1 << 16)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	p = sl_policy_new(&cfg);
	if (!p)
		abort();
	store_init(&s);
	store_init(&snap);
	for (cur = buf; cur && *cur; cur = nl) {
		nl = strchr(cur, '\n');
		if (nl)
			*nl++ = 0;
		if (*cur)
			line(p, &s, cur[0], cur + 1);
	}
	take(p, &s);
	for (size_t i = 0; (e = sl_policy_error(p, i)); i++)
		if (!*e)
			abort();
	if (sl_policy_snapshot(p, &d))
		abort();
	store_apply(&snap, &d, 0);
	sl_delta_free(&d);
	sl_policy_get_stats(p, &st);
	if (s.violations || st.inplace_updates || !store_equal(&s, &snap, why, sizeof(why))) {
		fprintf(stderr, "inconsistent: %s %s\n", s.last_violation, why);
		abort();
	}
	store_fini(&s);
	store_fini(&snap);
	sl_policy_free(p);
	free(buf);
	return 0;
}
