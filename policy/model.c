// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* model.c - the model's value helpers: labels, selector matching, addresses and prefixes,
 * and freeing/copying decoded objects. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_model.h"

const char *sl_labels_get(const struct sl_labels *l, const char *key)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(l->v[mid].key, key);

		if (!c)
			return l->v[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sl_label *)a)->key, ((const struct sl_label *)b)->key);
}

int sl_labels_sort(struct sl_labels *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), label_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (!strcmp(l->v[i - 1].key, l->v[i].key))
			return -EINVAL;
	return 0;
}

void sl_labels_free(struct sl_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int sl_labels_copy(struct sl_labels *dst, const struct sl_labels *src)
{
	dst->n = 0;
	dst->v = calloc(src->n ? src->n : 1, sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i].key = strdup(src->v[i].key);
		dst->v[i].value = strdup(src->v[i].value);
		dst->n++;
		if (!dst->v[i].key || !dst->v[i].value) {
			sl_labels_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

static bool req_matches(const struct sl_sel_req *r, const struct sl_labels *l)
{
	const char *v = sl_labels_get(l, r->key);

	switch (r->op) {
	case SL_SEL_EXISTS:
		return v;
	case SL_SEL_DOES_NOT_EXIST:
		return !v;
	case SL_SEL_IN:
	case SL_SEL_NOT_IN:
		if (!v)
			return r->op == SL_SEL_NOT_IN;
		for (size_t i = 0; i < r->n_values; i++)
			if (!strcmp(r->values[i], v))
				return r->op == SL_SEL_IN;
		return r->op == SL_SEL_NOT_IN;
	}
	return false;
}

bool sl_selector_matches(const struct sl_selector *s, const struct sl_labels *l)
{
	for (size_t i = 0; i < s->n; i++)
		if (!req_matches(&s->reqs[i], l))
			return false;
	return true;
}

void sl_selector_free(struct sl_selector *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		for (size_t j = 0; j < s->reqs[i].n_values; j++)
			free(s->reqs[i].values[j]);
		free(s->reqs[i].values);
	}
	free(s->reqs);
	s->reqs = NULL;
	s->n = 0;
}

int sl_addr_parse(const char *s, struct sl_addr *a)
{
	struct in_addr v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a->w[2] = htonl(0xffff);
		a->w[3] = v4.s_addr;
		return 0;
	}
	if (strchr(s, ':') && inet_pton(AF_INET6, s, a->w) == 1)
		return 0;
	return -EINVAL;
}

bool sl_addr_is_v4(const struct sl_addr *a)
{
	return !a->w[0] && !a->w[1] && a->w[2] == htonl(0xffff);
}

const char *sl_addr_str(const struct sl_addr *a, char *buf, size_t len)
{
	if (sl_addr_is_v4(a))
		return inet_ntop(AF_INET, &a->w[3], buf, len);
	return inet_ntop(AF_INET6, a->w, buf, len);
}

static void prefix_mask(struct sl_addr *a, unsigned len)
{
	uint8_t *b = (uint8_t *)a->w;

	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = len > i * 8 ? len - i * 8 : 0;

		if (keep < 8)
			b[i] &= (uint8_t)(0xff00 >> keep);
	}
}

int sl_prefix_parse(const char *s, struct sl_prefix *p)
{
	char buf[64], *slash, *end;
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = 0;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || errno || (slash[1] == '0' && slash[2]) || slash[1] == '+' || slash[1] == '-')
		return -EINVAL;
	if (sl_addr_parse(buf, &p->addr))
		return -EINVAL;
	p->v6 = !!strchr(buf, ':');
	if (len > (p->v6 ? 128u : 32u))
		return -EINVAL;
	p->len = (uint8_t)(p->v6 ? len : len + 96);
	prefix_mask(&p->addr, p->len);
	return 0;
}

bool sl_prefix_has_addr(const struct sl_prefix *p, const struct sl_addr *a)
{
	struct sl_addr m = *a;

	prefix_mask(&m, p->len);
	return !memcmp(&m, &p->addr, sizeof(m));
}

bool sl_prefix_contains(const struct sl_prefix *outer, const struct sl_prefix *inner)
{
	return outer->len <= inner->len && sl_prefix_has_addr(outer, &inner->addr);
}

void sl_pod_free(struct sl_pod *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->node);
	sl_labels_free(&p->labels);
	free(p->ips);
	for (size_t i = 0; i < p->n_cports; i++)
		free(p->cports[i].name);
	free(p->cports);
	free(p);
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

struct sl_pod *sl_pod_dup(const struct sl_pod *p)
{
	struct sl_pod *d = calloc(1, sizeof(*d));
	bool fail = false;

	if (!d)
		return NULL;
	d->ns = dup_or_null(p->ns, &fail);
	d->name = dup_or_null(p->name, &fail);
	d->uid = dup_or_null(p->uid, &fail);
	d->node = dup_or_null(p->node, &fail);
	d->phase = p->phase;
	d->host_network = p->host_network;
	if (sl_labels_copy(&d->labels, &p->labels))
		fail = true;
	d->ips = calloc(p->n_ips ? p->n_ips : 1, sizeof(*d->ips));
	d->cports = calloc(p->n_cports ? p->n_cports : 1, sizeof(*d->cports));
	if (!d->ips || !d->cports) {
		sl_pod_free(d);
		return NULL;
	}
	memcpy(d->ips, p->ips, p->n_ips * sizeof(*d->ips));
	d->n_ips = p->n_ips;
	for (size_t i = 0; i < p->n_cports; i++) {
		d->cports[i] = p->cports[i];
		d->cports[i].name = dup_or_null(p->cports[i].name, &fail);
	}
	d->n_cports = p->n_cports;
	if (fail) {
		sl_pod_free(d);
		return NULL;
	}
	return d;
}

void sl_namespace_free(struct sl_namespace *n)
{
	if (!n)
		return;
	free(n->name);
	sl_labels_free(&n->labels);
	free(n);
}

static void rule_free(struct sl_rule *r)
{
	for (size_t i = 0; i < r->n_peers; i++) {
		sl_selector_free(&r->peers[i].pod_sel);
		sl_selector_free(&r->peers[i].ns_sel);
		free(r->peers[i].except);
	}
	free(r->peers);
	for (size_t i = 0; i < r->n_ports; i++)
		free(r->ports[i].name);
	free(r->ports);
}

void sl_netpol_free(struct sl_netpol *np)
{
	if (!np)
		return;
	free(np->ns);
	free(np->name);
	free(np->uid);
	free(np->error);
	sl_selector_free(&np->pod_sel);
	for (int d = 0; d < SL_DIR_MAX; d++) {
		for (size_t i = 0; i < np->n_rules[d]; i++)
			rule_free(&np->rules[d][i]);
		free(np->rules[d]);
	}
	free(np);
}

void sl_node_free(struct sl_node *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->addrs);
	free(n->pod_cidrs);
	free(n);
}
