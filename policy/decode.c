// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * decode.c - Kubernetes JSON (Pod, Namespace, NetworkPolicy v1, Node) into the model, with the
 * API server's defaults and validation. Errors name the field path the way kube-apiserver does:
 * "spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: ...". Every error found is
 * reported (joined by "; "), not just the first.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_model.h"

struct dctx {
	struct sl_err *err;
	int n_err;
	bool oom;
	char path[256];
	size_t plen;
};

static void __attribute__((format(printf, 2, 3))) fail(struct dctx *c, const char *fmt, ...)
{
	size_t used = strlen(c->err->msg);
	size_t room = sizeof(c->err->msg) - used;
	va_list ap;
	int n;

	if (c->n_err++ && room > 2) {
		memcpy(c->err->msg + used, "; ", 3);
		used += 2;
		room -= 2;
	}
	n = snprintf(c->err->msg + used, room, "%s: ", c->plen ? c->path : "<object>");
	if (n < 0 || (size_t)n >= room)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err->msg + used + n, room - n, fmt, ap);
	va_end(ap);
}

/* Push ".name" or "[i]" onto the path; returns the length to pop back to. */
static size_t push(struct dctx *c, const char *name, int idx)
{
	size_t old = c->plen;
	int n;

	if (name)
		n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", name);
	else
		n = snprintf(c->path + old, sizeof(c->path) - old, "[%d]", idx);
	if (n > 0 && old + n < sizeof(c->path))
		c->plen = old + n;
	return old;
}

static void pop(struct dctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = 0;
}

static char *xstrdup(struct dctx *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		c->oom = true;
	return d;
}

static void *xcalloc(struct dctx *c, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		c->oom = true;
	return p;
}

/* Object member name that must pass is (what it must be, for the error), or be absent or null
 * (NULL, no error). */
static const cJSON *get_typed(struct dctx *c, const cJSON *j, const char *name,
			      cJSON_bool (*is)(const cJSON *), const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	size_t o;

	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!is(v)) {
		o = push(c, name, 0);
		fail(c, "Invalid value: must be %s", what);
		pop(c, o);
		return NULL;
	}
	return v;
}

static const cJSON *get_obj(struct dctx *c, const cJSON *j, const char *name)
{
	return get_typed(c, j, name, cJSON_IsObject, "an object");
}

static const cJSON *get_arr(struct dctx *c, const cJSON *j, const char *name)
{
	return get_typed(c, j, name, cJSON_IsArray, "a list");
}

static const char *get_str(struct dctx *c, const cJSON *j, const char *name)
{
	const cJSON *v = get_typed(c, j, name, cJSON_IsString, "a string");

	return v ? v->valuestring : NULL;
}

/* A whole number small enough to convert (cJSON keeps numbers as doubles). */
static bool is_integral(double d)
{
	return d > -1e15 && d < 1e15 && d == (double)(long long)d;
}

/* A JSON integer in [lo, hi]; -1 if absent; -2 (after an error) if invalid. */
static long get_int(struct dctx *c, const cJSON *j, const char *name, long lo, long hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	size_t o;
	long r = -2;

	if (!v || cJSON_IsNull(v))
		return -1;
	o = push(c, name, 0);
	if (!cJSON_IsNumber(v) || !is_integral(v->valuedouble))
		fail(c, "Invalid value: must be an integer");
	else if (v->valuedouble < lo || v->valuedouble > hi)
		fail(c, "Invalid value: %.0f: must be between %ld and %ld, inclusive",
		     v->valuedouble, lo, hi);
	else
		r = (long)v->valuedouble;
	pop(c, o);
	return r;
}

/* --- label and name syntax (k8s.io/apimachinery/pkg/util/validation) --- */

static bool is_alnum(char ch)
{
	return isascii((unsigned char)ch) && isalnum((unsigned char)ch);
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters */
static bool is_label_value_syntax(const char *s, size_t n)
{
	if (n > 63)
		return false;
	if (!n)
		return true;
	if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* DNS-1123 subdomain: lowercase alnum, '-' and '.', alnum at both ends, at most 253 */
static bool is_dns_subdomain(const char *s, size_t n)
{
	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool an = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!an && ch != '-' && ch != '.')
			return false;
		if (!an && (i == 0 || i == n - 1))
			return false;
		if (ch == '.' && (s[i - 1] == '.' || s[i - 1] == '-' || s[i + 1] == '-'))
			return false;
	}
	return true;
}

static bool is_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	const char *name = slash ? slash + 1 : s;

	if (slash && !is_dns_subdomain(s, (size_t)(slash - s)))
		return false;
	return *name && is_label_value_syntax(name, strlen(name));
}

static bool is_label_value(const char *s)
{
	return is_label_value_syntax(s, strlen(s));
}

/* IANA_SVC_NAME: at most 15, [a-z0-9-], at least one letter, no '-' at the ends nor "--" */
static bool is_port_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (!n || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	}
	return letter;
}

static int parse_proto(struct dctx *c, const char *s)
{
	if (!s || !strcmp(s, "TCP"))
		return IPPROTO_TCP;
	if (!strcmp(s, "UDP"))
		return IPPROTO_UDP;
	if (!strcmp(s, "SCTP"))
		return IPPROTO_SCTP;
	fail(c, "Unsupported value: \"%.40s\": supported values: \"TCP\", \"UDP\", \"SCTP\"", s);
	return -1;
}

/* --- labels and selectors --- */

static void decode_labels(struct dctx *c, const cJSON *j, struct sl_labels *l)
{
	const cJSON *it;
	size_t o;

	l->n = 0;
	l->v = xcalloc(c, cJSON_GetArraySize(j), sizeof(*l->v));
	if (!l->v)
		return;
	cJSON_ArrayForEach (it, j) {
		o = push(c, it->string, 0);
		if (!is_label_key(it->string))
			fail(c, "Invalid value: \"%.80s\": not a valid label key", it->string);
		else if (!cJSON_IsString(it))
			fail(c, "Invalid value: must be a string");
		else if (!is_label_value(it->valuestring))
			fail(c, "Invalid value: \"%.80s\": not a valid label value",
			     it->valuestring);
		else {
			l->v[l->n].key = xstrdup(c, it->string);
			l->v[l->n].value = xstrdup(c, it->valuestring);
			l->n++;
		}
		pop(c, o);
	}
	if (sl_labels_sort(l))
		fail(c, "Invalid value: duplicate label key");
}

static void decode_selector(struct dctx *c, const cJSON *j, struct sl_selector *s)
{
	const cJSON *ml = get_obj(c, j, "matchLabels");
	const cJSON *me = get_arr(c, j, "matchExpressions");
	const cJSON *it;
	size_t o, o2;
	int i = 0;

	s->n = 0;
	s->reqs = xcalloc(c, cJSON_GetArraySize(ml) + cJSON_GetArraySize(me), sizeof(*s->reqs));
	if (!s->reqs)
		return;
	o = push(c, "matchLabels", 0);
	cJSON_ArrayForEach (it, ml) {
		struct sl_sel_req *r = &s->reqs[s->n];

		o2 = push(c, it->string, 0);
		if (!is_label_key(it->string))
			fail(c, "Invalid value: \"%.80s\": not a valid label key", it->string);
		else if (!cJSON_IsString(it))
			fail(c, "Invalid value: must be a string");
		else if (!is_label_value(it->valuestring))
			fail(c, "Invalid value: \"%.80s\": not a valid label value",
			     it->valuestring);
		else {
			r->key = xstrdup(c, it->string);
			r->op = SL_SEL_IN;
			r->values = xcalloc(c, 1, sizeof(char *));
			if (r->values) {
				r->values[0] = xstrdup(c, it->valuestring);
				r->n_values = 1;
			}
			s->n++;
		}
		pop(c, o2);
	}
	pop(c, o);
	o = push(c, "matchExpressions", 0);
	cJSON_ArrayForEach (it, me) {
		struct sl_sel_req *r = &s->reqs[s->n];
		const cJSON *vals, *v;
		const char *key, *op;
		size_t o3;
		int k = 0;

		o2 = push(c, NULL, i++);
		if (!cJSON_IsObject(it)) {
			fail(c, "Invalid value: must be an object");
			pop(c, o2);
			continue;
		}
		key = get_str(c, it, "key");
		op = get_str(c, it, "operator");
		vals = get_arr(c, it, "values");
		o3 = push(c, "key", 0);
		if (!key)
			fail(c, "Required value");
		else if (!is_label_key(key))
			fail(c, "Invalid value: \"%.80s\": not a valid label key", key);
		pop(c, o3);
		o3 = push(c, "operator", 0);
		if (!op)
			fail(c, "Required value");
		else if (!strcmp(op, "In"))
			r->op = SL_SEL_IN;
		else if (!strcmp(op, "NotIn"))
			r->op = SL_SEL_NOT_IN;
		else if (!strcmp(op, "Exists"))
			r->op = SL_SEL_EXISTS;
		else if (!strcmp(op, "DoesNotExist"))
			r->op = SL_SEL_DOES_NOT_EXIST;
		else {
			fail(c,
			     "Unsupported value: \"%.40s\": supported values: \"In\", \"NotIn\", "
			     "\"Exists\", \"DoesNotExist\"",
			     op);
			op = NULL;
		}
		pop(c, o3);
		o3 = push(c, "values", 0);
		if (op && (r->op == SL_SEL_IN || r->op == SL_SEL_NOT_IN) &&
		    !cJSON_GetArraySize(vals))
			fail(
			    c,
			    "Required value: must be specified when `operator` is 'In' or 'NotIn'");
		else if (op && (r->op == SL_SEL_EXISTS || r->op == SL_SEL_DOES_NOT_EXIST) &&
			 cJSON_GetArraySize(vals))
			fail(c, "Forbidden: may not be specified when `operator` is 'Exists' or "
				"'DoesNotExist'");
		r->values = xcalloc(c, cJSON_GetArraySize(vals), sizeof(char *));
		cJSON_ArrayForEach (v, vals) {
			size_t o4 = push(c, NULL, k++);

			if (!cJSON_IsString(v))
				fail(c, "Invalid value: must be a string");
			else if (!is_label_value(v->valuestring))
				fail(c, "Invalid value: \"%.80s\": not a valid label value",
				     v->valuestring);
			else if (r->values)
				r->values[r->n_values++] = xstrdup(c, v->valuestring);
			pop(c, o4);
		}
		pop(c, o3);
		if (key && op)
			r->key = xstrdup(c, key);
		else {
			for (size_t x = 0; x < r->n_values; x++)
				free(r->values[x]);
			free(r->values);
			memset(r, 0, sizeof(*r));
			pop(c, o2);
			continue;
		}
		s->n++;
		pop(c, o2);
	}
	pop(c, o);
}

/* --- NetworkPolicy --- */

static void decode_cidr(struct dctx *c, const char *s, struct sl_prefix *p)
{
	if (!s)
		fail(c, "Required value");
	else if (sl_prefix_parse(s, p))
		fail(c, "Invalid value: \"%.60s\": must be a valid CIDR", s);
	else
		return;
	memset(p, 0, sizeof(*p));
}

static void decode_peer(struct dctx *c, const cJSON *j, struct sl_peer *p)
{
	const cJSON *ps, *ns, *ib, *exc, *it;
	int e0 = c->n_err, k = 0;
	size_t o, o2;

	if (!cJSON_IsObject(j)) {
		fail(c, "Invalid value: must be an object");
		return;
	}
	ps = get_obj(c, j, "podSelector");
	ns = get_obj(c, j, "namespaceSelector");
	ib = get_obj(c, j, "ipBlock");
	if (!ps && !ns && !ib) {
		fail(c, "Required value: must specify a peer");
		return;
	}
	if (ib && (ps || ns)) {
		fail(c, "Forbidden: may not specify both ipBlock and another peer");
		return;
	}
	if (!ib) {
		p->kind = SL_PEER_SELECTOR;
		if (ps) {
			o = push(c, "podSelector", 0);
			p->has_pod_sel = true;
			decode_selector(c, ps, &p->pod_sel);
			pop(c, o);
		}
		if (ns) {
			o = push(c, "namespaceSelector", 0);
			p->has_ns_sel = true;
			decode_selector(c, ns, &p->ns_sel);
			pop(c, o);
		}
		return;
	}
	p->kind = SL_PEER_IPBLOCK;
	o = push(c, "ipBlock", 0);
	o2 = push(c, "cidr", 0);
	decode_cidr(c, get_str(c, ib, "cidr"), &p->cidr);
	pop(c, o2);
	exc = get_arr(c, ib, "except");
	p->except = xcalloc(c, cJSON_GetArraySize(exc), sizeof(*p->except));
	o2 = push(c, "except", 0);
	cJSON_ArrayForEach (it, exc) {
		size_t o3 = push(c, NULL, k++);
		struct sl_prefix e;
		int before = c->n_err;

		decode_cidr(c, cJSON_IsString(it) ? it->valuestring : NULL, &e);
		if (before == c->n_err && c->n_err == e0 &&
		    (e.v6 != p->cidr.v6 || !sl_prefix_contains(&p->cidr, &e) ||
		     e.len <= p->cidr.len))
			fail(c, "Invalid value: \"%.60s\": must be a strict subset of `cidr`",
			     it->valuestring);
		else if (p->except)
			p->except[p->n_except++] = e;
		pop(c, o3);
	}
	pop(c, o2);
	pop(c, o);
}

static void decode_port(struct dctx *c, const cJSON *j, struct sl_port_spec *ps)
{
	const cJSON *port;
	long end;
	int proto;
	size_t o;

	if (!cJSON_IsObject(j)) {
		fail(c, "Invalid value: must be an object");
		return;
	}
	o = push(c, "protocol", 0);
	proto = parse_proto(c, get_str(c, j, "protocol"));
	pop(c, o);
	ps->proto = proto < 0 ? IPPROTO_TCP : (uint8_t)proto;
	port = cJSON_GetObjectItemCaseSensitive(j, "port");
	end = get_int(c, j, "endPort", 1, 65535);
	o = push(c, "port", 0);
	if (port && !cJSON_IsNull(port)) {
		ps->has_port = true;
		if (cJSON_IsString(port)) {
			if (!is_port_name(port->valuestring))
				fail(c,
				     "Invalid value: \"%.40s\": must be a valid port name "
				     "(IANA_SVC_NAME)",
				     port->valuestring);
			else
				ps->name = xstrdup(c, port->valuestring);
		} else if (!cJSON_IsNumber(port) || !is_integral(port->valuedouble)) {
			fail(c, "Invalid value: must be an integer or a port name");
		} else if (port->valuedouble < 1 || port->valuedouble > 65535) {
			fail(c, "Invalid value: %.0f: must be between 1 and 65535, inclusive",
			     port->valuedouble);
		} else {
			ps->port = ps->end_port = (uint16_t)port->valuedouble;
		}
	}
	pop(c, o);
	if (end == -1)
		return;
	o = push(c, "endPort", 0);
	if (!ps->has_port)
		fail(c, "Required value: may not be specified when `port` is not specified");
	else if (port && cJSON_IsString(port))
		fail(c, "Invalid value: may not be specified when `port` is non-numeric");
	else if (end >= 0 && ps->port && end < ps->port)
		fail(c, "Invalid value: %ld: must be greater than or equal to `port`", end);
	else if (end >= 0)
		ps->end_port = (uint16_t)end;
	pop(c, o);
}

static void decode_rule(struct dctx *c, const cJSON *j, int dir, struct sl_rule *r)
{
	const char *peers_name = dir == SL_DIR_INGRESS ? "from" : "to";
	const cJSON *ports, *peers, *it;
	size_t o, o2;
	int k;

	if (!cJSON_IsObject(j)) {
		fail(c, "Invalid value: must be an object");
		return;
	}
	ports = get_arr(c, j, "ports");
	peers = get_arr(c, j, peers_name);
	r->ports = xcalloc(c, cJSON_GetArraySize(ports), sizeof(*r->ports));
	r->peers = xcalloc(c, cJSON_GetArraySize(peers), sizeof(*r->peers));
	if (!r->ports || !r->peers)
		return;
	o = push(c, "ports", 0);
	k = 0;
	cJSON_ArrayForEach (it, ports) {
		o2 = push(c, NULL, k++);
		decode_port(c, it, &r->ports[r->n_ports++]);
		pop(c, o2);
	}
	pop(c, o);
	o = push(c, peers_name, 0);
	k = 0;
	cJSON_ArrayForEach (it, peers) {
		o2 = push(c, NULL, k++);
		decode_peer(c, it, &r->peers[r->n_peers++]);
		pop(c, o2);
	}
	pop(c, o);
}

static void free_rules(struct sl_netpol *np)
{
	struct sl_netpol tmp = {0};

	memcpy(tmp.rules, np->rules, sizeof(tmp.rules));
	memcpy(tmp.n_rules, np->n_rules, sizeof(tmp.n_rules));
	memset(np->rules, 0, sizeof(np->rules));
	memset(np->n_rules, 0, sizeof(np->n_rules));
	for (int d = 0; d < SL_DIR_MAX; d++) {
		for (size_t i = 0; i < tmp.n_rules[d]; i++) {
			struct sl_rule *r = &tmp.rules[d][i];

			for (size_t p = 0; p < r->n_peers; p++) {
				sl_selector_free(&r->peers[p].pod_sel);
				sl_selector_free(&r->peers[p].ns_sel);
				free(r->peers[p].except);
			}
			free(r->peers);
			for (size_t p = 0; p < r->n_ports; p++)
				free(r->ports[p].name);
			free(r->ports);
		}
		free(tmp.rules[d]);
	}
}

static int decode_meta(struct dctx *c, const cJSON *j, bool namespaced, char **ns, char **name,
		       char **uid)
{
	const cJSON *md;
	const char *s;
	size_t o;

	if (!cJSON_IsObject(j)) {
		fail(c, "Invalid value: must be an object");
		return -EINVAL;
	}
	o = push(c, "metadata", 0);
	md = get_obj(c, j, "metadata");
	s = md ? get_str(c, md, "name") : NULL;
	if (!s || !*s) {
		size_t o2 = push(c, "name", 0);

		fail(c, "Required value");
		pop(c, o2);
	} else {
		*name = xstrdup(c, s);
	}
	if (namespaced) {
		s = md ? get_str(c, md, "namespace") : NULL;
		if (!s || !*s) {
			size_t o2 = push(c, "namespace", 0);

			fail(c, "Required value");
			pop(c, o2);
		} else {
			*ns = xstrdup(c, s);
		}
	}
	s = md ? get_str(c, md, "uid") : NULL;
	if (s && uid)
		*uid = xstrdup(c, s);
	pop(c, o);
	return c->n_err || c->oom ? -EINVAL : 0;
}

static int finish(struct dctx *c)
{
	if (c->oom) {
		snprintf(c->err->msg, sizeof(c->err->msg), "out of memory");
		return -ENOMEM;
	}
	return c->n_err ? -EINVAL : 0;
}

int sl_decode_netpol(const cJSON *j, struct sl_netpol **out, struct sl_err *err)
{
	struct dctx c = {.err = err};
	const cJSON *spec, *ps, *pt, *it;
	bool has_types = false;
	size_t o, o2;
	int e0, k;

	err->msg[0] = 0;
	*out = NULL;
	struct sl_netpol *np = calloc(1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	if (decode_meta(&c, j, true, &np->ns, &np->name, &np->uid)) {
		sl_netpol_free(np);
		return finish(&c) ? finish(&c) : -EINVAL;
	}
	e0 = c.n_err;
	o = push(&c, "spec", 0);
	spec = get_obj(&c, j, "spec");
	if (!spec && c.n_err == e0)
		fail(&c, "Required value");
	/* podSelector: absent decodes as {} (every pod of the namespace), like the API server. */
	ps = spec ? get_obj(&c, spec, "podSelector") : NULL;
	if (ps) {
		int before = c.n_err;

		o2 = push(&c, "podSelector", 0);
		decode_selector(&c, ps, &np->pod_sel);
		pop(&c, o2);
		/* An unreadable podSelector selects every pod of the namespace: fail closed. */
		if (c.n_err != before)
			sl_selector_free(&np->pod_sel);
	}
	pt = spec ? get_arr(&c, spec, "policyTypes") : NULL;
	k = 0;
	o2 = push(&c, "policyTypes", 0);
	cJSON_ArrayForEach (it, pt) {
		size_t o3 = push(&c, NULL, k++);

		if (cJSON_IsString(it) && !strcmp(it->valuestring, "Ingress"))
			np->types[SL_DIR_INGRESS] = true;
		else if (cJSON_IsString(it) && !strcmp(it->valuestring, "Egress"))
			np->types[SL_DIR_EGRESS] = true;
		else {
			fail(&c,
			     "Unsupported value: \"%.40s\": supported values: \"Ingress\", "
			     "\"Egress\"",
			     cJSON_IsString(it) ? it->valuestring : "?");
			/* unreadable: isolate both directions */
			np->types[SL_DIR_INGRESS] = np->types[SL_DIR_EGRESS] = true;
		}
		has_types = true;
		pop(&c, o3);
	}
	pop(&c, o2);
	for (int i = 0; i < SL_DIR_MAX && spec; i++) {
		int d = i == 0 ? SL_DIR_INGRESS : SL_DIR_EGRESS; /* the API server's order */
		const char *name = d == SL_DIR_INGRESS ? "ingress" : "egress";
		const cJSON *rules = get_arr(&c, spec, name);

		if (d == SL_DIR_EGRESS && !has_types && cJSON_GetArraySize(rules))
			np->types[SL_DIR_EGRESS] = true;
		np->rules[d] = xcalloc(&c, cJSON_GetArraySize(rules), sizeof(*np->rules[d]));
		if (!np->rules[d])
			break;
		o2 = push(&c, name, 0);
		k = 0;
		cJSON_ArrayForEach (it, rules) {
			size_t o3 = push(&c, NULL, k++);

			decode_rule(&c, it, d, &np->rules[d][np->n_rules[d]++]);
			pop(&c, o3);
		}
		pop(&c, o2);
	}
	if (!has_types)
		np->types[SL_DIR_INGRESS] = true;
	if (!spec)
		np->types[SL_DIR_INGRESS] = np->types[SL_DIR_EGRESS] = true;
	pop(&c, o);
	if (c.oom) {
		sl_netpol_free(np);
		return finish(&c);
	}
	np->valid = c.n_err == 0;
	if (!np->valid) {
		free_rules(np);
		np->error = strdup(err->msg);
		if (!np->error) {
			sl_netpol_free(np);
			return -ENOMEM;
		}
	}
	*out = np;
	return 0;
}

/* --- Pod, Namespace, Node --- */

static void add_ip(struct dctx *c, struct sl_pod *p, const char *s)
{
	struct sl_addr a;

	if (!s)
		return;
	if (sl_addr_parse(s, &a)) {
		fail(c, "Invalid value: \"%.60s\": not an IP address", s);
		return;
	}
	for (size_t i = 0; i < p->n_ips; i++)
		if (!memcmp(&p->ips[i], &a, sizeof(a)))
			return;
	p->ips[p->n_ips++] = a;
}

static void decode_containers(struct dctx *c, const cJSON *spec, const char *field,
			      struct sl_pod *p)
{
	const cJSON *cs = get_arr(c, spec, field), *ct, *pt;
	size_t o = push(c, field, 0);
	int i = 0;

	cJSON_ArrayForEach (ct, cs) {
		size_t o2 = push(c, NULL, i++), o3;
		const cJSON *ports = cJSON_IsObject(ct) ? get_arr(c, ct, "ports") : NULL;
		void *nv;
		int k = 0;

		nv = realloc(p->cports,
			     (p->n_cports + cJSON_GetArraySize(ports) + 1) * sizeof(*p->cports));
		if (!nv) {
			c->oom = true;
			pop(c, o2);
			break;
		}
		p->cports = nv;
		o3 = push(c, "ports", 0);
		cJSON_ArrayForEach (pt, ports) {
			size_t o4 = push(c, NULL, k++), o5;
			struct sl_cport cp = {0};
			const char *name = cJSON_IsObject(pt) ? get_str(c, pt, "name") : NULL;
			long port =
			    cJSON_IsObject(pt) ? get_int(c, pt, "containerPort", 1, 65535) : -2;
			int proto;

			o5 = push(c, "protocol", 0);
			proto =
			    parse_proto(c, cJSON_IsObject(pt) ? get_str(c, pt, "protocol") : NULL);
			pop(c, o5);
			if (port == -1) {
				o5 = push(c, "containerPort", 0);
				fail(c, "Required value");
				pop(c, o5);
			}
			if (name && !is_port_name(name)) {
				o5 = push(c, "name", 0);
				fail(c, "Invalid value: \"%.40s\": must be a valid port name",
				     name);
				pop(c, o5);
			} else if (port > 0 && proto > 0) {
				cp.name = name && *name ? xstrdup(c, name) : NULL;
				cp.port = (uint16_t)port;
				cp.proto = (uint8_t)proto;
				p->cports[p->n_cports++] = cp;
			}
			pop(c, o4);
		}
		pop(c, o3);
		pop(c, o2);
	}
	pop(c, o);
}

int sl_decode_pod(const cJSON *j, struct sl_pod **out, struct sl_err *err)
{
	struct dctx c = {.err = err};
	const cJSON *md, *spec, *st, *ips, *it, *hn, *labels;
	const char *s;
	size_t o;
	int k = 0;

	err->msg[0] = 0;
	*out = NULL;
	struct sl_pod *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (decode_meta(&c, j, true, &p->ns, &p->name, &p->uid))
		goto out;
	md = get_obj(&c, j, "metadata");
	labels = get_obj(&c, md, "labels");
	o = push(&c, "metadata", 0);
	push(&c, "labels", 0);
	decode_labels(&c, labels, &p->labels);
	pop(&c, o);
	o = push(&c, "spec", 0);
	spec = get_obj(&c, j, "spec");
	s = spec ? get_str(&c, spec, "nodeName") : NULL;
	if (s && *s)
		p->node = xstrdup(&c, s);
	hn = spec ? cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork") : NULL;
	p->host_network = cJSON_IsTrue(hn);
	if (spec) {
		decode_containers(&c, spec, "containers", p);
		decode_containers(&c, spec, "initContainers", p);
	}
	pop(&c, o);
	o = push(&c, "status", 0);
	st = get_obj(&c, j, "status");
	s = st ? get_str(&c, st, "phase") : NULL;
	p->phase = !s || !strcmp(s, "Pending") ? SL_PHASE_PENDING
		   : !strcmp(s, "Running")     ? SL_PHASE_RUNNING
		   : !strcmp(s, "Succeeded")   ? SL_PHASE_SUCCEEDED
		   : !strcmp(s, "Failed")      ? SL_PHASE_FAILED
					       : SL_PHASE_UNKNOWN;
	ips = st ? get_arr(&c, st, "podIPs") : NULL;
	p->ips = xcalloc(&c, cJSON_GetArraySize(ips) + 1, sizeof(*p->ips));
	if (p->ips) {
		size_t o2 = push(&c, "podIPs", 0);

		cJSON_ArrayForEach (it, ips) {
			size_t o3 = push(&c, NULL, k++), o4;

			o4 = push(&c, "ip", 0);
			add_ip(&c, p, cJSON_IsObject(it) ? get_str(&c, it, "ip") : NULL);
			pop(&c, o4);
			pop(&c, o3);
		}
		pop(&c, o2);
		if (!p->n_ips && st) {
			o2 = push(&c, "podIP", 0);
			s = get_str(&c, st, "podIP");
			if (s && *s)
				add_ip(&c, p, s);
			pop(&c, o2);
		}
	}
	pop(&c, o);
out:
	if (finish(&c)) {
		sl_pod_free(p);
		return finish(&c);
	}
	*out = p;
	return 0;
}

int sl_decode_namespace(const cJSON *j, struct sl_namespace **out, struct sl_err *err)
{
	struct dctx c = {.err = err};
	const cJSON *md;
	size_t o;

	err->msg[0] = 0;
	*out = NULL;
	struct sl_namespace *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (decode_meta(&c, j, false, NULL, &n->name, NULL))
		goto out;
	md = get_obj(&c, j, "metadata");
	o = push(&c, "metadata", 0);
	push(&c, "labels", 0);
	decode_labels(&c, get_obj(&c, md, "labels"), &n->labels);
	pop(&c, o);
	/* The API server always sets this label (immutably) to the namespace's name. */
	if (!c.n_err && !c.oom && !sl_labels_get(&n->labels, "kubernetes.io/metadata.name")) {
		void *nv = realloc(n->labels.v, (n->labels.n + 1) * sizeof(*n->labels.v));

		if (!nv) {
			c.oom = true;
			goto out;
		}
		n->labels.v = nv;
		n->labels.v[n->labels.n].key = xstrdup(&c, "kubernetes.io/metadata.name");
		n->labels.v[n->labels.n].value = xstrdup(&c, n->name);
		n->labels.n++;
		sl_labels_sort(&n->labels);
	}
out:
	if (finish(&c)) {
		sl_namespace_free(n);
		return finish(&c);
	}
	*out = n;
	return 0;
}

int sl_decode_node(const cJSON *j, struct sl_node **out, struct sl_err *err)
{
	struct dctx c = {.err = err};
	const cJSON *spec, *st, *cidrs, *addrs, *it;
	const char *s;
	size_t o, o2;
	int k = 0;

	err->msg[0] = 0;
	*out = NULL;
	struct sl_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (decode_meta(&c, j, false, NULL, &n->name, NULL))
		goto out;
	o = push(&c, "spec", 0);
	spec = get_obj(&c, j, "spec");
	cidrs = spec ? get_arr(&c, spec, "podCIDRs") : NULL;
	n->pod_cidrs = xcalloc(&c, cJSON_GetArraySize(cidrs) + 1, sizeof(*n->pod_cidrs));
	o2 = push(&c, "podCIDRs", 0);
	cJSON_ArrayForEach (it, cidrs) {
		size_t o3 = push(&c, NULL, k++);

		if (n->pod_cidrs)
			decode_cidr(&c, cJSON_IsString(it) ? it->valuestring : NULL,
				    &n->pod_cidrs[n->n_pod_cidrs++]);
		pop(&c, o3);
	}
	pop(&c, o2);
	s = spec ? get_str(&c, spec, "podCIDR") : NULL;
	if (s && *s && !n->n_pod_cidrs && n->pod_cidrs) {
		o2 = push(&c, "podCIDR", 0);
		decode_cidr(&c, s, &n->pod_cidrs[n->n_pod_cidrs++]);
		pop(&c, o2);
	}
	pop(&c, o);
	o = push(&c, "status", 0);
	st = get_obj(&c, j, "status");
	addrs = st ? get_arr(&c, st, "addresses") : NULL;
	n->addrs = xcalloc(&c, cJSON_GetArraySize(addrs) + 1, sizeof(*n->addrs));
	o2 = push(&c, "addresses", 0);
	k = 0;
	cJSON_ArrayForEach (it, addrs) {
		size_t o3 = push(&c, NULL, k++);
		const char *type = cJSON_IsObject(it) ? get_str(&c, it, "type") : NULL;
		const char *addr = cJSON_IsObject(it) ? get_str(&c, it, "address") : NULL;

		if (n->addrs && type && addr &&
		    (!strcmp(type, "InternalIP") || !strcmp(type, "ExternalIP"))) {
			if (sl_addr_parse(addr, &n->addrs[n->n_addrs]))
				fail(&c, "Invalid value: \"%.60s\": not an IP address", addr);
			else
				n->n_addrs++;
		}
		pop(&c, o3);
	}
	pop(&c, o2);
	pop(&c, o);
out:
	if (finish(&c)) {
		sl_node_free(n);
		return finish(&c);
	}
	*out = n;
	return 0;
}

#define DECODE_STR(kind, type)                                                            \
	int sl_decode_##kind##_str(const char *s, struct type **out, struct sl_err *err)  \
	{                                                                                 \
		cJSON *j = cJSON_Parse(s);                                                \
		int r;                                                                    \
                                                                                          \
		*out = NULL;                                                              \
		if (!j) {                                                                 \
			snprintf(err->msg, sizeof(err->msg), "<object>: not valid JSON"); \
			return -EINVAL;                                                   \
		}                                                                         \
		r = sl_decode_##kind(j, out, err);                                        \
		cJSON_Delete(j);                                                          \
		return r;                                                                 \
	}

DECODE_STR(pod, sl_pod)
DECODE_STR(namespace, sl_namespace)
DECODE_STR(netpol, sl_netpol)
DECODE_STR(node, sl_node)
