// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mode_kubernetes.c - Kubernetes mode: informers on Pods, Namespaces, NetworkPolicies and Nodes
 * feed the policy compiler on one thread (the loop); right after each dispatch batch the delta
 * goes to the maps (sync.c); local endpoints are answered once their policy is applied.
 *
 * The loop thread owns the client, the compiler and the table of CNI-registered pod addresses.
 * API threads talk to it through messages (endpoint registration, a Pod fetched by a direct
 * GET, a CNI DEL), a wake eventfd, and a condition variable on which they wait until the
 * model change they caused has been applied (applied_seq >= their seq).
 *
 * Start-up: the compiler numbers its ids above what the pinned maps hold (sl_sync_floor), the
 * first apply after every informer has listed is a diff against the maps (no flush), then the
 * agent becomes ready (conflist, /readyz). Until then endpoints keep their pinned words.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <netlink/socket.h>

#include "agent.h"
#include "agent_proto.h" /* sl_now_ms */
#include "dp_maps.h"
#include "k8s.h"
#include "k8s_mode.h"
#include "log.h"
#include "metrics.h"
#include "routes_k8s.h"
#include "sync.h"

#define EP_WAIT_MS     10000 /* endpoint_add's bounded wait (the CNI gives up at 15 s) */
#define GET_TIMEOUT_MS 5000  /* direct GETs and list pages */

enum kind { K_PODS, K_NAMESPACES, K_NETPOLS, K_NODES, K_MAX };

static const struct {
	const char *name; /* digest kind */
	const char *path;
} kinds[K_MAX] = {
    [K_PODS] = {"pods", "/api/v1/pods"},
    [K_NAMESPACES] = {"namespaces", "/api/v1/namespaces"},
    [K_NETPOLS] = {"networkpolicies", "/apis/networking.k8s.io/v1/networkpolicies"},
    [K_NODES] = {"nodes", "/api/v1/nodes"},
};

enum msg_type { M_REG, M_INJECT, M_UNREG, M_QUERY };
enum msg_result { R_PENDING, R_FOUND, R_NOT_FOUND, R_FAIL };

/* A request from an API thread. M_UNREG is heap-allocated and freed by the loop; the others
 * live on the waiter's stack until done. */
struct msg {
	struct msg *next;
	enum msg_type type;
	const char *ns, *pod;
	uint32_t ip;
	cJSON *obj; /* M_INJECT: the Pod from the GET (consumed) */
	char *own;  /* M_UNREG: the copy ns and pod point into */
	bool done;
	enum msg_result result;
	uint64_t seq; /* applied once applied_seq >= seq */
	char why[256];
	/* M_QUERY: sluicectl's question (agent.h with_model), run on the loop thread */
	int (*fn)(const struct sl_policy *p, void *ctx);
	void *ctx;
	int ret;
};

/* A pod address the CNI registered (the loop's own table). */
struct cni_ip {
	char *ns, *pod;
	uint32_t ip;
	bool injected; /* the compiler has the Pod from a GET, not from the informer */
};

static struct km {
	struct sl_agent *a;
	struct sl_k8s_client *c;
	struct sl_k8s_informer *inf[K_MAX];
	struct sl_policy *pol;
	struct sl_sync *sync;
	struct sl_dp_maps maps;
	struct sl_node *local;	    /* our own addresses, merged into our Node */
	struct nl_sock *addr_watch; /* says when they change */
	int wake, ep;
	pthread_t thread;
	bool started, thread_running;

	/* loop thread only */
	struct cni_ip *cni;
	size_t n_cni, cap_cni;
	uint64_t seq; /* model changes so far */
	bool dirty, initial_done, have_delta, oom;
	struct sl_delta delta;
	uint64_t delta_seq;
	uint64_t sum, delta_sum; /* the caches' digest (k8s_mode.h): now, and at delta_seq */
	char **extra_errs;	 /* decode failures the compiler never saw */
	size_t n_extra;

	/* under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msg *q, **qtail;
	uint64_t applied_seq;
	bool synced, stop;
	char digest[17];
	char **errs;
	size_t n_errs;

	pthread_mutex_t get_mu; /* one synchronous request at a time */
} g = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER,
       .get_mu = PTHREAD_MUTEX_INITIALIZER,
       .wake = -1,
       .ep = -1};

static const char *jstr(const cJSON *o, const char *path1, const char *path2)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, path1);

	if (path2)
		v = cJSON_GetObjectItemCaseSensitive(v, path2);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void model_changed(void)
{
	g.seq++;
	g.dirty = true;
}

static void note_oom(int err)
{
	if (err == -ENOMEM && !g.oom) {
		g.oom = true;
		pr_err("policy: compiler out of memory: policy no longer follows the API; restart "
		       "the agent");
	}
}

/* ---------------------------------------------------------------- CNI addresses */

static struct cni_ip *cni_find(const char *ns, const char *pod)
{
	for (size_t i = 0; i < g.n_cni; i++)
		if (!strcmp(g.cni[i].ns, ns) && !strcmp(g.cni[i].pod, pod))
			return &g.cni[i];
	return NULL;
}

static struct cni_ip *cni_set(const char *ns, const char *pod, uint32_t ip)
{
	struct cni_ip *c = cni_find(ns, pod);

	if (c) {
		c->ip = ip;
		return c;
	}
	if (g.n_cni == g.cap_cni) {
		size_t cap = g.cap_cni ? g.cap_cni * 2 : 16;
		struct cni_ip *n = realloc(g.cni, cap * sizeof(*n));

		if (!n)
			return NULL;
		g.cni = n;
		g.cap_cni = cap;
	}
	c = &g.cni[g.n_cni];
	*c = (struct cni_ip){.ns = strdup(ns), .pod = strdup(pod), .ip = ip};
	if (!c->ns || !c->pod) {
		free(c->ns);
		free(c->pod);
		return NULL;
	}
	g.n_cni++;
	return c;
}

static void cni_drop(struct cni_ip *c)
{
	free(c->ns);
	free(c->pod);
	*c = g.cni[--g.n_cni];
}

/* ---------------------------------------------------------------- model updates */

/* An informer's ud is its kind's digest name. */
static void trim(cJSON *obj, void *ud)
{
	sl_k8s_mode_trim(ud, obj);
}

/* Decode a Pod, add the address the CNI gave it (status.podIP comes later), upsert it. */
static void pod_upsert(const cJSON *obj)
{
	struct sl_pod *pod;
	struct sl_err e;
	struct cni_ip *c;
	int err;

	if (sl_decode_pod(obj, &pod, &e)) {
		pr_warn("pod %s/%s: %s (ignored)", jstr(obj, "metadata", "namespace") ?: "?",
			jstr(obj, "metadata", "name") ?: "?", e.msg);
		return;
	}
	c = cni_find(pod->ns, pod->name);
	if (c) {
		struct sl_addr a = {.w = {0, 0, htonl(0xffff), c->ip}};
		bool have = false;

		for (size_t i = 0; i < pod->n_ips; i++)
			have |= !memcmp(&pod->ips[i], &a, sizeof(a));
		if (!have) {
			struct sl_addr *v = realloc(pod->ips, (pod->n_ips + 1) * sizeof(*v));

			if (v) {
				v[pod->n_ips++] = a;
				pod->ips = v;
			}
		}
	}
	err = sl_policy_upsert_pod(g.pol, pod);
	note_oom(err);
	model_changed();
}

static void extra_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void extra_err(const char *fmt, ...)
{
	char **v = realloc(g.extra_errs, (g.n_extra + 1) * sizeof(*v));
	va_list ap;

	if (!v)
		return;
	g.extra_errs = v;
	va_start(ap, fmt);
	if (vasprintf(&v[g.n_extra], fmt, ap) >= 0)
		g.n_extra++;
	va_end(ap);
}

static void extra_err_clear(const char *prefix)
{
	for (size_t i = 0; i < g.n_extra;) {
		if (!strncmp(g.extra_errs[i], prefix, strlen(prefix))) {
			free(g.extra_errs[i]);
			g.extra_errs[i] = g.extra_errs[--g.n_extra];
		} else {
			i++;
		}
	}
}

static void netpol_upsert(const cJSON *obj)
{
	const char *ns = jstr(obj, "metadata", "namespace") ?: "?";
	const char *name = jstr(obj, "metadata", "name") ?: "?";
	struct sl_netpol *np;
	struct sl_err e;
	char prefix[600];

	snprintf(prefix, sizeof(prefix), "netpol %s/%s: ", ns, name);
	extra_err_clear(prefix);
	if (sl_decode_netpol(obj, &np, &e)) {
		pr_err("networkpolicy %s/%s: %s: not enforced (unreadable)", ns, name, e.msg);
		extra_err("netpol %s/%s: %s", ns, name, e.msg);
		return;
	}
	if (!np->valid)
		pr_err("networkpolicy %s/%s: invalid: %s: the pods it selects are isolated with no "
		       "rules until it is fixed",
		       ns, name, np->error ?: "?");
	note_oom(sl_policy_upsert_netpol(g.pol, np));
	model_changed();
}

static void ns_upsert(const cJSON *obj)
{
	struct sl_namespace *n;
	struct sl_err e;

	if (sl_decode_namespace(obj, &n, &e)) {
		pr_warn("namespace %s: %s (ignored)", jstr(obj, "metadata", "name") ?: "?", e.msg);
		return;
	}
	note_oom(sl_policy_upsert_namespace(g.pol, n));
	model_changed();
}

/* Our Node (obj NULL: none) with the netns addresses merged in. */
static void node_upsert(const cJSON *obj)
{
	struct sl_node *n = NULL;
	struct sl_err e;

	if (obj && sl_decode_node(obj, &n, &e)) {
		pr_warn("node %s: %s (using the interface addresses only)", g.a->cfg->node, e.msg);
		n = NULL;
	}
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n || !(n->name = strdup(g.a->cfg->node))) {
			free(n);
			note_oom(-ENOMEM);
			return;
		}
	}
	for (size_t i = 0; g.local && i < g.local->n_addrs; i++) {
		bool have = false;

		for (size_t j = 0; j < n->n_addrs; j++)
			have |= !memcmp(&n->addrs[j], &g.local->addrs[i], sizeof(struct sl_addr));
		if (!have) {
			struct sl_addr *v = realloc(n->addrs, (n->n_addrs + 1) * sizeof(*v));

			if (!v)
				break;
			v[n->n_addrs++] = g.local->addrs[i];
			n->addrs = v;
		}
	}
	note_oom(sl_policy_upsert_node(g.pol, n));
	model_changed();
}

/* An address of this netns came or went: our Node again, with the addresses of now (read
 * whole first: on a failure the ones we had stay). */
static void local_addrs_changed(void)
{
	struct sl_node now = {.name = g.local->name};
	size_t before = g.local->n_addrs;

	if (sl_k8s_mode_node_addrs(&now)) {
		free(now.addrs);
		return;
	}
	if (now.n_addrs == before &&
	    !memcmp(now.addrs, g.local->addrs, before * sizeof(*now.addrs))) {
		free(now.addrs); /* a flag changed (e.g. no longer tentative), not the set */
		return;
	}
	free(g.local->addrs);
	g.local->addrs = now.addrs;
	g.local->n_addrs = now.n_addrs;
	pr_info("node %s: interface addresses changed (%zu, were %zu): host identity updated",
		g.a->cfg->node, g.local->n_addrs, before);
	node_upsert(g.inf[K_NODES] ? sl_k8s_informer_get(g.inf[K_NODES], NULL, g.a->cfg->node)
				   : NULL);
}

static enum kind inf_kind(const struct sl_k8s_informer *inf)
{
	for (int k = 0; k < K_MAX; k++)
		if (g.inf[k] == inf)
			return k;
	return K_MAX;
}

static void on_upsert(struct sl_k8s_informer *inf, const cJSON *obj)
{
	const char *name = jstr(obj, "metadata", "name");

	switch (inf_kind(inf)) {
	case K_PODS:
		pod_upsert(obj);
		break;
	case K_NAMESPACES:
		ns_upsert(obj);
		break;
	case K_NETPOLS:
		netpol_upsert(obj);
		break;
	case K_NODES:
		sl_routes_k8s_changed(); /* routes to other nodes' pods (issue 6) */
		if (name && !strcmp(name, g.a->cfg->node))
			node_upsert(obj);
		else
			model_changed(); /* no policy change, but the digest follows (wait-synced)
					  */
		break;
	default:
		break;
	}
}

/* The digest of an object of inf's kind: the caches' digest is their sum, kept as they change. */
static uint64_t obj_digest(const struct sl_k8s_informer *inf, const cJSON *obj)
{
	enum kind k = inf_kind(inf);

	return k < K_MAX ? sl_k8s_mode_obj_digest(kinds[k].name, obj) : 0;
}

static void on_add(struct sl_k8s_informer *inf, const cJSON *obj, void *ud)
{
	(void)ud;
	g.sum += obj_digest(inf, obj);
	on_upsert(inf, obj);
}

static void on_update(struct sl_k8s_informer *inf, const cJSON *old, const cJSON *obj, void *ud)
{
	(void)ud;
	g.sum += obj_digest(inf, obj) - obj_digest(inf, old);
	on_upsert(inf, obj);
}

static void on_delete(struct sl_k8s_informer *inf, const cJSON *obj, void *ud)
{
	const char *ns = jstr(obj, "metadata", "namespace") ?: "";
	const char *name = jstr(obj, "metadata", "name");
	struct cni_ip *c;
	char prefix[600];

	(void)ud;
	g.sum -= obj_digest(inf, obj);
	if (!name)
		return;
	switch (inf_kind(inf)) {
	case K_PODS:
		/* Its endpoint (if any) stays until the CNI DEL, denied all (sync.c). */
		c = cni_find(ns, name);
		if (c)
			c->injected = false;
		note_oom(sl_policy_delete_pod(g.pol, ns, name));
		break;
	case K_NAMESPACES:
		note_oom(sl_policy_delete_namespace(g.pol, name));
		break;
	case K_NETPOLS:
		snprintf(prefix, sizeof(prefix), "netpol %s/%s: ", ns, name);
		extra_err_clear(prefix);
		note_oom(sl_policy_delete_netpol(g.pol, ns, name));
		break;
	case K_NODES:
		sl_routes_k8s_changed();
		if (strcmp(name, g.a->cfg->node))
			break; /* its route goes; the digest follows (model_changed) */
		node_upsert(NULL);
		break;
	default:
		return;
	}
	model_changed();
}

/* ---------------------------------------------------------------- messages from API threads */

static void submit(struct msg *m)
{
	uint64_t one = 1;

	pthread_mutex_lock(&g.mu);
	m->next = NULL;
	*g.qtail = m;
	g.qtail = &m->next;
	pthread_mutex_unlock(&g.mu);
	if (write(g.wake, &one, sizeof(one)) < 0)
		pr_warn("kubernetes: wake the loop: %s", strerror(errno));
}

/* A registered or injected pod: into the model, and is it ours? */
static enum msg_result pod_lookup(struct msg *m, const cJSON *obj)
{
	const char *node = jstr(obj, "spec", "nodeName");

	pod_upsert(obj);
	m->seq = g.seq;
	if (!node || strcmp(node, g.a->cfg->node)) {
		snprintf(m->why, sizeof(m->why),
			 "pod %s/%s is scheduled to %s%s, not to this node %s", m->ns, m->pod,
			 node ? "node " : "", node ?: "no node", g.a->cfg->node);
		return R_FAIL;
	}
	return R_FOUND;
}

static void handle(struct msg *m)
{
	const cJSON *obj = sl_k8s_informer_get(g.inf[K_PODS], m->ns, m->pod);
	struct cni_ip *c;

	switch (m->type) {
	case M_REG:
	case M_INJECT:
		c = cni_set(m->ns, m->pod, m->ip);
		if (!c) {
			snprintf(m->why, sizeof(m->why), "out of memory");
			m->result = R_FAIL;
		} else if (obj) {
			m->result = pod_lookup(m, obj);
		} else if (m->type == M_INJECT && m->obj) {
			c->injected = true;
			m->result = pod_lookup(m, m->obj);
		} else {
			m->result = R_NOT_FOUND;
		}
		cJSON_Delete(m->obj);
		m->obj = NULL;
		break;
	case M_UNREG:
		c = cni_find(m->ns, m->pod);
		if (!c || c->ip != m->ip)
			break;
		if (c->injected && !obj) {
			note_oom(sl_policy_delete_pod(g.pol, m->ns, m->pod));
			model_changed();
		}
		cni_drop(c);
		if (obj)
			pod_upsert(obj); /* without the CNI's address */
		break;
	case M_QUERY: /* handle_msgs() runs these */
		break;
	}
}

static void handle_msgs(void)
{
	struct msg *q, *next;

	pthread_mutex_lock(&g.mu);
	q = g.q;
	g.q = NULL;
	g.qtail = &g.q;
	pthread_mutex_unlock(&g.mu);
	for (; q; q = next) {
		next = q->next;
		if (q->type == M_QUERY) /* the model is the maps' only with nothing left to apply */
			q->ret = g.dirty || g.have_delta || !g.initial_done ? -EAGAIN
									    : q->fn(g.pol, q->ctx);
		else
			handle(q);
		if (q->type == M_UNREG) {
			free(q->own);
			free(q);
			continue;
		}
		pthread_mutex_lock(&g.mu);
		q->done = true;
		pthread_cond_broadcast(&g.cv);
		pthread_mutex_unlock(&g.mu);
	}
}

/* Wait until m is handled and, if it changed the model, applied. 0, -ETIMEDOUT, -ESHUTDOWN. */
static int wait_msg(struct msg *m, long long deadline)
{
	struct timespec ts;
	int err = 0;

	pthread_mutex_lock(&g.mu);
	while (!g.stop && !(m->done && (m->result != R_FOUND || g.applied_seq >= m->seq))) {
		long long left = deadline - sl_now_ms();

		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g.cv, &g.mu, &ts);
	}
	if (g.stop)
		err = -ESHUTDOWN;
	pthread_mutex_unlock(&g.mu);
	return err;
}

static void unregister(const char *ns, const char *pod, uint32_t ip)
{
	struct msg *m = calloc(1, sizeof(*m));
	size_t nl = strlen(ns);

	if (!m || !(m->own = malloc(nl + strlen(pod) + 2))) {
		free(m);
		pr_err("pod %s/%s: forget its CNI address: %s", ns, pod, strerror(ENOMEM));
		return;
	}
	strcpy(m->own, ns);
	strcpy(m->own + nl + 1, pod);
	m->type = M_UNREG;
	m->ns = m->own;
	m->pod = m->own + nl + 1;
	m->ip = ip;
	submit(m);
}

/* ---------------------------------------------------------------- applying */

static bool all_synced(void)
{
	for (int k = 0; k < K_MAX; k++)
		if (!sl_k8s_informer_synced(g.inf[k]))
			return false;
	return true;
}

static void publish(void)
{
	const char *e;
	char **errs = NULL;
	size_t n = 0;

	for (size_t i = 0;; i++) {
		char **v;

		e = i < g.n_extra ? g.extra_errs[i] : sl_policy_error(g.pol, i - g.n_extra);
		if (!e)
			break;
		v = realloc(errs, (n + 1) * sizeof(*v));
		if (!v)
			break;
		errs = v;
		if ((errs[n] = strdup(e)))
			n++;
	}
	pthread_mutex_lock(&g.mu);
	g.applied_seq = g.delta_seq;
	g.synced = true;
	snprintf(g.digest, sizeof(g.digest), "%016" PRIx64, g.delta_sum);
	for (size_t i = 0; i < g.n_errs; i++)
		free(g.errs[i]);
	free(g.errs);
	g.errs = errs;
	g.n_errs = n;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
}

/* Take the compiler's delta (unless a failed one is pending) and apply it. */
static int apply(void)
{
	struct sl_sync_stats st;
	int err;

	if (g.oom)
		return -ENOMEM;
	if (!g.have_delta) {
		if (!g.dirty && g.initial_done)
			return 0;
		err = sl_policy_take_delta(g.pol, &g.delta);
		if (err) {
			note_oom(err);
			return err;
		}
		g.have_delta = true;
		g.delta_seq = g.seq;
		g.delta_sum = g.sum;
		g.dirty = false;
	}
	err = sl_sync_apply(g.sync, &g.delta, !g.initial_done, &st);
	sl_metrics_policy_apply(st.ms / 1000.0, !err);
	if (err) {
		pr_err("policy sync: apply failed (%s): retrying in 1 s", strerror(-err));
		return err;
	}
	if (!g.initial_done || sl_delta_size(&g.delta))
		pr_debug("policy sync: %zu changes applied in %.2f ms (flipped at %.2f ms): %zu "
			 "added, %zu flipped, %zu deleted, %zu stale to delete after a grace "
			 "period",
			 sl_delta_size(&g.delta), st.ms, st.flip_ms, st.added, st.flipped,
			 st.deleted, st.reaped);
	sl_delta_free(&g.delta);
	g.have_delta = false;
	publish();
	if (!g.initial_done) {
		g.initial_done = true;
		/* Rule references are numbered afresh by this agent's compiler: counters a
		 * previous agent left in the pinned sl_rule_stats would be credited to other
		 * rules. Reset once the maps hold this agent's numbering. */
		if (g.a->dp.maps_reused && !sl_dp_rule_stats_reset(&g.maps))
			pr_info("kubernetes: per-rule counters reset (rule references are this "
				"agent's)");
		pr_info(
		    "policy sync: initial state applied in %.1f ms (%zu added, %zu flipped, %zu "
		    "deleted, %zu bridged)",
		    st.ms, st.added, st.flipped, st.deleted, st.bridged);
		/* No --pod-cidr: the conflist's range from our Node (cfg is main's, not const). */
		sl_routes_k8s_adopt_pod_cidr(g.inf[K_NODES], (struct sl_config *)g.a->cfg);
		err = sl_agent_set_ready(g.a);
		if (err)
			pr_err("kubernetes mode: not ready: conflist: %s", strerror(-err));
	}
	return 0;
}

/* Watch reconnects and relists for /metrics (agent/metrics.c), from the informers' stats. */
static void watch_stats(void)
{
	struct sl_k8s_informer_stats s;

	for (int k = 0; k < K_MAX; k++) {
		if (!g.inf[k])
			continue;
		sl_k8s_informer_stats(g.inf[k], &s);
		sl_metrics_watch_stats(kinds[k].name, s.lists, s.watches);
	}
}

static void *loop(void *arg)
{
	struct epoll_event ev[4];
	bool retry = false;

	(void)arg;
	for (;;) {
		int n = epoll_wait(g.ep, ev, 4, retry ? 1000 : 2000);
		uint64_t v;
		int routes_err;

		if (n < 0 && errno != EINTR) {
			pr_err("kubernetes: epoll_wait: %s", strerror(errno));
			break;
		}
		pthread_mutex_lock(&g.mu);
		bool stop = g.stop;
		pthread_mutex_unlock(&g.mu);
		if (stop)
			break;
		if (read(g.wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pr_warn("kubernetes: wake fd: %s", strerror(errno));
		sl_k8s_client_dispatch(g.c);
		watch_stats();
		handle_msgs();
		if (g.addr_watch && sl_k8s_mode_addr_changed(g.addr_watch))
			local_addrs_changed();
		/* Routes first: apply()'s publish (digest, readiness) then covers them too. */
		routes_err = sl_routes_k8s_apply(g.inf[K_NODES], g.a->cfg->node);
		if (all_synced())
			retry = apply() != 0;
		if (routes_err)
			retry = true; /* logged; again in a second */
	}
	return NULL;
}

/* ---------------------------------------------------------------- mode hooks */

static void deny_all(struct sl_endpoint *val)
{
	val->pol[SL_DIR_EGRESS] = 0;
	val->pol[SL_DIR_INGRESS] = 0;
	val->identity = SL_IDENTITY_WORLD;
	val->flags |= SL_EP_F_POLICY_INVALID;
}

static int k8s_endpoint_policy(struct sl_agent *a, const struct sl_ep *ep, struct sl_endpoint *val)
{
	long long deadline = sl_now_ms() + EP_WAIT_MS;
	struct msg m = {.type = M_REG};
	char path[600];
	cJSON *obj = NULL;
	int err;

	(void)a;
	if (!g.started) {
		/* Reconcile at start-up rewriting a missing entry: closed until the first sync. */
		deny_all(val);
		return 0;
	}
	if (!ep->k8s_namespace || !*ep->k8s_namespace || !ep->pod || !*ep->pod) {
		pr_err("endpoint %s: no Kubernetes namespace/pod given: cannot know its policy",
		       ep->container_id);
		return -EAGAIN;
	}
	m.ns = ep->k8s_namespace;
	m.pod = ep->pod;
	m.ip = ep->ip;
	submit(&m);
	err = wait_msg(&m, deadline);
	if (!err && m.result == R_NOT_FOUND) {
		/* Not in the cache yet: ask the API server directly (this thread may block). */
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", m.ns, m.pod);
		pthread_mutex_lock(&g.get_mu);
		err = sl_k8s_get(g.c, path, &obj);
		pthread_mutex_unlock(&g.get_mu);
		if (err) {
			snprintf(m.why, sizeof(m.why), "pod %s/%s: %s", m.ns, m.pod,
				 err == -ENOENT ? "no such Pod in the API" : strerror(-err));
			m.result = R_FAIL;
		} else {
			m = (struct msg){
			    .type = M_INJECT, .ns = m.ns, .pod = m.pod, .ip = m.ip, .obj = obj};
			submit(&m);
			err = wait_msg(&m, deadline);
		}
	}
	if (!err && m.result == R_NOT_FOUND) {
		snprintf(m.why, sizeof(m.why), "pod %s/%s: no such Pod in the API", m.ns, m.pod);
		m.result = R_FAIL;
	}
	if (err)
		snprintf(m.why, sizeof(m.why), "pod %s/%s: policy not applied within %d ms: %s",
			 m.ns, m.pod, EP_WAIT_MS, strerror(-err));
	else if (m.result == R_FOUND && sl_sync_ep_value(g.sync, m.ns, m.pod, val))
		snprintf(m.why, sizeof(m.why),
			 "pod %s/%s is not an endpoint of this node (finished, or hostNetwork)",
			 m.ns, m.pod);
	else if (m.result == R_FOUND)
		return 0;
	pr_err("endpoint %s: %s: refused (try again)", ep->container_id, m.why);
	unregister(ep->k8s_namespace, ep->pod, ep->ip);
	return -EAGAIN;
}

static void k8s_endpoint_refresh(struct sl_agent *a, const struct sl_ep *ep,
				 struct sl_endpoint *val)
{
	(void)a;
	if (g.started)
		sl_sync_ep_value(g.sync, ep->k8s_namespace, ep->pod, val);
}

static void k8s_endpoint_removed(struct sl_agent *a, const struct sl_ep *ep)
{
	(void)a;
	if (g.started && ep->k8s_namespace && *ep->k8s_namespace && ep->pod && *ep->pod)
		unregister(ep->k8s_namespace, ep->pod, ep->ip);
}

static int k8s_status(struct sl_agent *a, cJSON *r)
{
	cJSON *errs;
	bool ok;

	(void)a;
	pthread_mutex_lock(&g.mu);
	ok = cJSON_AddBoolToObject(r, "synced", g.synced) &&
	     cJSON_AddStringToObject(r, "digest", g.digest) &&
	     (errs = cJSON_AddArrayToObject(r, "errors"));
	for (size_t i = 0; ok && i < g.n_errs; i++) {
		cJSON *s = cJSON_CreateString(g.errs[i]);

		ok = s && cJSON_AddItemToArray(errs, s);
	}
	pthread_mutex_unlock(&g.mu);
	return ok ? 0 : -ENOMEM;
}

static const struct sl_k8s_informer_ops inf_ops = {
    .on_add = on_add,
    .on_update = on_update,
    .on_delete = on_delete,
    .transform = trim,
};

static int k8s_start(struct sl_agent *a)
{
	struct sl_k8s_client_opts opts = {.request_timeout_ms = GET_TIMEOUT_MS,
					  .connect_timeout_ms = 3000};
	struct sl_policy_config pc = {.node = a->cfg->node};
	struct epoll_event ev = {.events = EPOLLIN};
	struct sl_k8s_config *kc;
	struct sl_sync_floor f;
	int err;

	g.a = a;
	g.qtail = &g.q;
	sl_dp_maps_init(&g.maps);
	err = sl_k8s_config_load(a->cfg->kubeconfig, &kc);
	if (err) {
		pr_err("kubernetes: %s: cannot load the configuration: %s",
		       a->cfg->kubeconfig ?: "in-cluster", strerror(-err));
		return err;
	}
	g.c = sl_k8s_client_new(kc, &opts);
	if (!g.c) {
		err = -errno;
		pr_err("kubernetes: client: %s", strerror(errno));
		return err;
	}
	err = sl_dp_maps_from_obj(&g.maps, sl_datapath_obj(&a->dp));
	if (err)
		return err;
	err = sl_sync_floor(&g.maps, &f);
	if (err)
		return err;
	pc.first_ident = f.ident;
	pc.first_set = f.set;
	pc.first_portset = f.portset;
	g.pol = sl_policy_new(&pc);
	g.sync = sl_sync_new(a, &g.maps);
	g.local = calloc(1, sizeof(*g.local));
	if (!g.pol || !g.sync || !g.local || !(g.local->name = strdup(a->cfg->node)))
		return -ENOMEM;
	g.addr_watch = sl_k8s_mode_addr_watch(); /* first: no change between read and watch */
	sl_k8s_mode_node_addrs(g.local);
	pr_info("kubernetes: API server %s; ids above the pinned maps' (identity %u, set %u, "
		"portset %u); %zu node addresses",
		sl_k8s_config_server(kc), f.ident, f.set, f.portset, g.local->n_addrs);
	node_upsert(NULL); /* the interface addresses count before the Node object is seen */

	/* Recovered endpoints: their addresses are known before the Pods' status says so. */
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->eps.n; i++) {
		const struct sl_ep *ep = a->eps.v[i];

		if (ep->k8s_namespace && *ep->k8s_namespace && ep->pod && *ep->pod)
			cni_set(ep->k8s_namespace, ep->pod, ep->ip);
	}
	pthread_mutex_unlock(&a->lock);

	for (int k = 0; k < K_MAX; k++) {
		g.inf[k] = sl_k8s_informer_new(g.c, kinds[k].path, NULL, NULL, &inf_ops,
					       (void *)kinds[k].name);
		if (!g.inf[k])
			return -errno;
		err = sl_k8s_informer_start(g.inf[k]);
		if (err)
			return err;
	}
	g.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	if (g.wake < 0 || g.ep < 0)
		return -errno;
	ev.data.fd = g.wake;
	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, g.wake, &ev))
		return -errno;
	ev.data.fd = sl_k8s_client_fd(g.c);
	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	if (g.addr_watch) {
		ev.data.fd = nl_socket_get_fd(g.addr_watch);
		if (epoll_ctl(g.ep, EPOLL_CTL_ADD, ev.data.fd, &ev))
			return -errno;
	}
	g.started = true;
	err = -pthread_create(&g.thread, NULL, loop, NULL);
	if (err) {
		pr_err("kubernetes: thread: %s", strerror(-err));
		return err;
	}
	g.thread_running = true;
	return 0;
}

static void k8s_stop(struct sl_agent *a)
{
	uint64_t one = 1;

	(void)a;
	pthread_mutex_lock(&g.mu);
	g.stop = true;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
	if (g.thread_running) {
		if (write(g.wake, &one, sizeof(one)) < 0)
			pr_warn("kubernetes: wake the loop: %s", strerror(errno));
		pthread_join(g.thread, NULL);
		g.thread_running = false;
	}
	if (g.sync && sl_sync_drain(g.sync, 2000)) /* the stale entries still queued */
		pr_warn("kubernetes: stale policy entries left for the next start to delete");
	/* The compiler, the sync table and the maps stay: API workers may still read them
	 * until the process exits. The client and its informers go (their sockets). */
	pthread_mutex_lock(&g.get_mu);
	for (int k = 0; k < K_MAX; k++)
		if (g.inf[k])
			sl_k8s_informer_free(g.inf[k]);
	memset(g.inf, 0, sizeof(g.inf));
	pthread_mutex_unlock(&g.get_mu);
	nl_socket_free(g.addr_watch);
	g.addr_watch = NULL;
}

/* sluicectl's questions (agent.h with_model, agent/ctl_ops.c): fn runs on the loop thread
 * between batches; -EAGAIN while a change waits to be applied. */
static int k8s_with_model(struct sl_agent *a, int (*fn)(const struct sl_policy *p, void *ctx),
			  void *ctx)
{
	struct msg m = {.type = M_QUERY, .fn = fn, .ctx = ctx, .result = R_NOT_FOUND};
	int err;

	(void)a;
	if (!g.started)
		return -EAGAIN;
	submit(&m);
	err = wait_msg(&m, sl_now_ms() + EP_WAIT_MS);
	return err ? err : m.ret;
}

const struct sl_mode_ops sl_mode_kubernetes = {
    .name = "kubernetes",
    .start = k8s_start,
    .endpoint_policy = k8s_endpoint_policy,
    .endpoint_removed = k8s_endpoint_removed,
    .stop = k8s_stop,
    .endpoint_refresh = k8s_endpoint_refresh,
    .status = k8s_status,
    .ready_later = true,
    .with_model = k8s_with_model,
};
