// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_k8s_kapi.c - the k8s/ client against the Kubernetes-API test server (e2e/kapi), started
 * by the test on 127.0.0.1 with an ephemeral port: paginated list, watch events, bookmarks,
 * forced 410 (event and HTTP) -> relist + diff, dropped watches -> reconnect, a silent
 * (paused) watch -> reconnect, restart, an oversized event, TLS + rotating token (401). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "k8s.h"
#include "k8s_internal.h"
#include "log.h"

#define UA	    "sluice-k8s-test"
#define TOKEN_A	    "tokA-9f3b1c2d4e5f"
#define TOKEN_B	    "tokB-0a1b2c3d4e5f"
#define ADMIN_TOKEN "admin-7c6b5a4d3e2f"

struct kapi {
	pid_t pid;
	char kubeconfig[512];
};

static char dir[] = "/tmp/slt-k8s-kapi-XXXXXX";
static struct kapi srv_plain, srv_tls;
static char *logbuf;
static size_t loglen;
static FILE *logf_;

static void put(const char *path, const char *content)
{
	char tmp[600];
	FILE *f;

	/* rename: readers never see a half-written token */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

/* Starts e2e/kapi; it writes a kubeconfig for itself. tls: self-signed CA + tokens from
 * token_file. 0, -ENOENT if kapi is not there, -1 if it did not start. */
static int kapi_start(struct kapi *k, const char *name, bool tls, const char *token_file)
{
	const char *src = getenv("SL_SOURCE_ROOT");
	char kapi[512], ready[600];
	int pfd[2];
	pid_t pid;

	snprintf(kapi, sizeof(kapi), "%s/e2e/kapi/kapi.py", src ? src : SL_SOURCE_ROOT);
	if (access(kapi, R_OK))
		return -ENOENT;
	snprintf(k->kubeconfig, sizeof(k->kubeconfig), "%s/%s.kubeconfig", dir, name);
	snprintf(ready, sizeof(ready), "%s/%s.ready", dir, name);
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char tlsdir[600];
		const char *argv[24];
		int n = 0;

		close(pfd[0]);
		dup2(pfd[1], 1);
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
		argv[n++] = "python3";
		argv[n++] = kapi;
		argv[n++] = "--listen";
		argv[n++] = "127.0.0.1:0";
		argv[n++] = "--kubeconfig-out";
		argv[n++] = k->kubeconfig;
		argv[n++] = "--bookmark-interval";
		argv[n++] = "0.3";
		if (tls) {
			snprintf(tlsdir, sizeof(tlsdir), "%s/%s-tls", dir, name);
			argv[n++] = "--tls-self-signed";
			argv[n++] = tlsdir;
			argv[n++] = "--token"; /* the admin's, first: it goes into the kubeconfig */
			argv[n++] = ADMIN_TOKEN;
			argv[n++] = "--token-file";
			argv[n++] = token_file;
		}
		argv[n] = NULL;
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	k->pid = pid;
	/* ready when it printed its URL (its first line) */
	{
		char line[512];
		FILE *f = fdopen(pfd[0], "r");

		if (!f || !fgets(line, sizeof(line), f)) {
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
	}
	return access(k->kubeconfig, R_OK) ? -1 : 0;
}

static void kapi_stop(struct kapi *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGTERM);
		waitpid(k->pid, NULL, 0);
		k->pid = 0;
	}
}

/* ---------------------------------------------------------------------------------------- */

struct rec {
	char log[16384];
	int adds, updates, deletes, synced;
};

static void note(struct rec *r, const char *what, const cJSON *o)
{
	const cJSON *md = cJSON_GetObjectItem(o, "metadata");
	const cJSON *name = cJSON_GetObjectItem(md, "name");
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%s %s;", what,
		 cJSON_IsString(name) ? name->valuestring : "?");
}

static void on_add(struct sl_k8s_informer *inf, const cJSON *o, void *ud)
{
	struct rec *r = ud;

	(void)inf;
	r->adds++;
	note(r, "add", o);
}

static void on_update(struct sl_k8s_informer *inf, const cJSON *old, const cJSON *o, void *ud)
{
	struct rec *r = ud;

	(void)inf;
	(void)old;
	r->updates++;
	note(r, "update", o);
}

static void on_delete(struct sl_k8s_informer *inf, const cJSON *o, void *ud)
{
	struct rec *r = ud;

	(void)inf;
	r->deletes++;
	note(r, "delete", o);
}

static void on_synced(struct sl_k8s_informer *inf, void *ud)
{
	struct rec *r = ud;

	(void)inf;
	r->synced++;
}

static const struct sl_k8s_informer_ops rec_ops = {on_add, on_update, on_delete, on_synced, NULL};

static const struct sl_k8s_client_opts fast = {
    .page_limit = 7,
    .watch_timeout_s = 30,
    .stall_timeout_ms = 1500,
    .backoff_initial_ms = 50,
    .backoff_max_ms = 400,
    .min_watch_ms = 50,
    .request_timeout_ms = 10000,
    .user_agent = UA,
};

/* Dispatch until cond holds; false after ms. */
#define RUN_UNTIL(c, ms, cond)                            \
	({                                                \
		int64_t end_ = sl_k8s_now_ms() + (ms);    \
		while (!(cond) && sl_k8s_now_ms() < end_) \
			sl_k8s_client_run((c), 50);       \
		(cond);                                   \
	})

static struct sl_k8s_client *client_for(struct kapi *k, const struct sl_k8s_client_opts *o)
{
	struct sl_k8s_config *cfg;

	assert_int_equal(sl_k8s_config_from_kubeconfig(k->kubeconfig, NULL, &cfg), 0);
	return sl_k8s_client_new(cfg, o);
}

static void fault(struct sl_k8s_client *admin, const char *body)
{
	long st;

	assert_int_equal(sl_k8s_request(admin, "POST", "/_kapi/fault", body, NULL, &st, NULL), 0);
	assert_int_equal(st, 200);
}

/* The informer's watch is established: kapi registers a watcher before it answers. */
#define WAIT_WATCHING(c, inf) assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_watching(inf)))

static int state_int(struct sl_k8s_client *admin, const char *key)
{
	cJSON *st;
	int v;

	assert_int_equal(sl_k8s_get(admin, "/_kapi/state", &st), 0);
	v = cJSON_GetObjectItem(st, key)->valueint;
	cJSON_Delete(st);
	return v;
}

static void pod(struct sl_k8s_client *c, const char *ns, const char *name, const char *labels)
{
	char path[256], body[1024];
	long st;

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
		 "\"labels\":{%s}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
		 name, labels ? labels : "");
	assert_int_equal(sl_k8s_request(c, "POST", path, body, NULL, &st, NULL), 0);
	assert_int_equal(st, 201);
}

static void pod_annotated(struct sl_k8s_client *c, const char *ns, const char *name,
			  const char *note)
{
	char path[256], *body;
	long st;

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
	assert_true(
	    asprintf(&body,
		     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
		     "\"annotations\":{\"note\":\"%s\"}},\"spec\":{\"containers\":"
		     "[{\"name\":\"c\",\"image\":\"x\"}]}}",
		     name, note) > 0);
	assert_int_equal(sl_k8s_request(c, "POST", path, body, NULL, &st, NULL), 0);
	assert_int_equal(st, 201);
	free(body);
}

static void relabel(struct sl_k8s_client *c, const char *ns, const char *name, const char *v)
{
	char path[256], body[256];

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	snprintf(body, sizeof(body), "{\"metadata\":{\"labels\":{\"v\":\"%s\"}}}", v);
	assert_int_equal(
	    sl_k8s_request(c, "PATCH", path, body, "application/merge-patch+json", NULL, NULL), 0);
}

static void delete_pod(struct sl_k8s_client *c, const char *ns, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	assert_int_equal(sl_k8s_request(c, "DELETE", path, NULL, NULL, NULL, NULL), 0);
}

static void make_ns(struct sl_k8s_client *c, const char *ns)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}",
		 ns);
	assert_int_equal(sl_k8s_request(c, "POST", "/api/v1/namespaces", body, NULL, NULL, NULL),
			 0);
}

/* ---------------------------------------------------------------------------------------- */

static void get_and_paginated_list(void **state)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast);
	char name[32], *rv;
	cJSON *items, *obj;

	(void)state;
	make_ns(c, "pages");
	for (int i = 0; i < 23; i++) {
		snprintf(name, sizeof(name), "p%02d", i);
		pod(c, "pages", name, "\"app\":\"pg\"");
	}
	assert_int_equal(sl_k8s_list(c, "/api/v1/namespaces/pages/pods", NULL, &items, &rv), 0);
	assert_int_equal(cJSON_GetArraySize(items), 23);
	assert_non_null(rv);
	free(rv);
	cJSON_Delete(items);
	assert_int_equal(sl_k8s_list(c, "/api/v1/pods", "labelSelector=app%3Dpg", &items, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(items), 23);
	cJSON_Delete(items);

	assert_int_equal(sl_k8s_get(c, "/api/v1/namespaces/pages/pods/p03", &obj), 0);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "name")->valuestring, "p03");
	cJSON_Delete(obj);
	assert_int_equal(sl_k8s_get(c, "/api/v1/namespaces/pages/pods/absent", &obj), -ENOENT);
	assert_null(obj);
	sl_k8s_client_free(c);
}

static void informer_list_and_watch(void **state)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	struct rec r = {0};
	char name[32];

	(void)state;
	make_ns(c, "w");
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "pre%d", i);
		pod(admin, "w", name, NULL);
	}
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces/w/pods", NULL, NULL, &rec_ops, &r);
	assert_non_null(inf);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	sl_k8s_informer_stats(inf, &st);
	assert_int_equal(st.lists, 1);
	assert_int_equal(st.pages, 2); /* 10 pods at 7 a page */
	assert_int_equal(sl_k8s_informer_count(inf), 10);
	assert_int_equal(r.adds, 10);
	assert_int_equal(r.synced, 1);
	assert_non_null(sl_k8s_informer_get(inf, "w", "pre3"));

	WAIT_WATCHING(c, inf);
	pod(admin, "w", "live", "\"v\":\"1\"");
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "add live;")));
	relabel(admin, "w", "live", "2");
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "update live;")));
	assert_string_equal(
	    cJSON_GetObjectItem(
		cJSON_GetObjectItem(
		    cJSON_GetObjectItem(sl_k8s_informer_get(inf, "w", "live"), "metadata"),
		    "labels"),
		"v")
		->valuestring,
	    "2");
	delete_pod(admin, "w", "live");
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "delete live;")));
	assert_null(sl_k8s_informer_get(inf, "w", "live"));

	/* bookmarks (every 0.3 s here) move the resourceVersion without events */
	sl_k8s_informer_stats(inf, &st);
	assert_true(RUN_UNTIL(c, 5000, (sl_k8s_informer_stats(inf, &st), st.bookmarks >= 2)));
	assert_int_equal(r.adds, 11);
	assert_int_equal(st.lists, 1);
	assert_int_equal(st.failures, 0);
	sl_k8s_client_free(c); /* frees the informer too */
	sl_k8s_client_free(admin);
}

/* Changes the informer cannot see as events, then a 410: the relist diff must report them. */
static void gone_relist_diff(bool http)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	const char *ns = http ? "gone-http" : "gone-ev";
	char path[128], body[256];
	struct rec r = {0};

	make_ns(admin, ns);
	pod(admin, ns, "kept", NULL);
	pod(admin, ns, "changed", NULL);
	pod(admin, ns, "removed", NULL);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
	inf = sl_k8s_informer_new(c, path, NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	WAIT_WATCHING(c, inf);
	r.log[0] = '\0';

	/* the next watch request gets a 410; end the current watch while the client is not
	 * looking, and change things before it comes back */
	snprintf(body, sizeof(body), "{\"action\":\"gone\",\"count\":1,\"watches\":false,%s}",
		 http ? "\"http\":true" : "\"http\":false");
	fault(admin, body);
	fault(admin, "{\"action\":\"drop-watches\"}");
	assert_true(RUN_UNTIL(admin, 5000, state_int(admin, "watches") == 0));
	pod(admin, ns, "new", NULL);
	relabel(admin, ns, "changed", "x");
	delete_pod(admin, ns, "removed");

	assert_true(RUN_UNTIL(c, 8000, r.synced == 2));
	sl_k8s_informer_stats(inf, &st);
	assert_int_equal(st.gone, 1);
	assert_int_equal(st.lists, 2);
	assert_non_null(strstr(r.log, "delete removed;"));
	assert_non_null(strstr(r.log, "update changed;"));
	assert_non_null(strstr(r.log, "add new;"));
	assert_null(strstr(r.log, "kept"));
	assert_int_equal(sl_k8s_informer_count(inf), 3);
	/* and it watches again */
	pod(admin, ns, "after", NULL);
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "add after;")));
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

static void gone_event_relist(void **state)
{
	(void)state;
	gone_relist_diff(false);
}

static void gone_http_relist(void **state)
{
	(void)state;
	gone_relist_diff(true);
}

/* A 410 delivered on a live watch (ERROR event mid-stream). */
static void gone_on_live_watch(void **state)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	struct rec r = {0};

	(void)state;
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	assert_non_null(sl_k8s_informer_get(inf, NULL, "kube-system"));
	WAIT_WATCHING(c, inf);
	fault(admin, "{\"action\":\"gone\",\"count\":0}");
	assert_true(RUN_UNTIL(c, 8000, r.synced == 2));
	sl_k8s_informer_stats(inf, &st);
	assert_int_equal(st.gone, 1);
	assert_int_equal(r.adds, (int)sl_k8s_informer_count(inf)); /* nothing changed: no diff */
	make_ns(admin, "after-gone");
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "add after-gone;")));
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

static void dropped_watch_reconnects(void **state)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	struct rec r = {0};

	(void)state;
	make_ns(admin, "drop");
	inf = sl_k8s_informer_new(c, "/api/v1/pods", NULL, "metadata.namespace=drop", &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	WAIT_WATCHING(c, inf);
	fault(admin, "{\"action\":\"drop-watches\",\"abrupt\":true}");
	assert_true(RUN_UNTIL(c, 5000, (sl_k8s_informer_stats(inf, &st), st.watches >= 2)));
	WAIT_WATCHING(c, inf);
	pod(admin, "drop", "seen", NULL);
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "add seen;")));
	sl_k8s_informer_stats(inf, &st);
	assert_int_equal(st.lists, 1); /* a reconnect, not a relist */
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

static void stalled_watch_detected(void **state)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	struct rec r = {0};

	(void)state;
	make_ns(admin, "stall");
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces/stall/pods", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	WAIT_WATCHING(c, inf);
	/* the server stops writing to our watches: not even bookmarks */
	fault(admin, "{\"action\":\"pause\",\"user_agent\":\"" UA "\"}");
	assert_true(RUN_UNTIL(c, 6000, (sl_k8s_informer_stats(inf, &st), st.stalls >= 1)));
	fault(admin, "{\"action\":\"resume\"}");
	pod(admin, "stall", "after-stall", NULL);
	assert_true(RUN_UNTIL(c, 8000, strstr(r.log, "add after-stall;")));
	sl_k8s_informer_stats(inf, &st);
	assert_int_equal(st.lists, 1);
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

static void oversized_event_relists(void **state)
{
	struct sl_k8s_client_opts o = fast;
	struct sl_k8s_client *c, *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	char big[6000];
	struct rec r = {0};

	(void)state;
	o.max_event_bytes = 4096;
	c = client_for(&srv_plain, &o);
	make_ns(admin, "big");
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces/big/pods", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	WAIT_WATCHING(c, inf);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	pod_annotated(admin, "big", "huge", big);
	/* the event exceeds the bound: the watch is dropped and the list brings the object */
	assert_true(RUN_UNTIL(c, 8000, strstr(r.log, "add huge;")));
	sl_k8s_informer_stats(inf, &st);
	assert_int_equal(st.lists, 2);
	assert_true(st.failures >= 1);
	assert_non_null(strstr(logbuf ? (fflush(logf_), logbuf) : "", "4096-byte limit"));
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

static void server_restart(void **state)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	struct rec r = {0};

	(void)state;
	make_ns(admin, "restart");
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces/restart/pods", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	WAIT_WATCHING(c, inf);
	fault(admin, "{\"action\":\"restart\",\"down_seconds\":0.3}");
	assert_true(RUN_UNTIL(c, 8000, (sl_k8s_informer_stats(inf, &st), st.failures >= 1)));
	WAIT_WATCHING(c, inf); /* the client came back by itself */
	pod(admin, "restart", "back", NULL);
	assert_true(RUN_UNTIL(c, 8000, strstr(r.log, "add back;")));
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

/* TLS, a CA from the kubeconfig, a token file that rotates: 401 -> re-read -> go on. */
static void tls_token_rotation(void **state)
{
	char tokfile[600];
	struct sl_k8s_client *c, *admin;
	struct sl_k8s_config *cfg;
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	struct rec r = {0};
	cJSON *obj;
	long status;

	(void)state;
	snprintf(tokfile, sizeof(tokfile), "%s/client-token", dir);
	put(tokfile, TOKEN_A "\n");
	/* the client reads the same file the server trusts: rotate it once for both */
	assert_int_equal(sl_k8s_config_from_kubeconfig(srv_tls.kubeconfig, NULL, &cfg), 0);
	assert_int_equal(strncmp(sl_k8s_config_server(cfg), "https://", 8), 0);
	sl_k8s_token_fini(&cfg->token);
	pthread_mutex_init(&cfg->token.lock, NULL);
	assert_int_equal(sl_k8s_token_init(&cfg->token, NULL, tokfile), 0);
	c = sl_k8s_client_new(cfg, &fast);
	assert_non_null(c);
	admin = client_for(&srv_tls, NULL);

	/* no token: 401 */
	assert_int_equal(sl_k8s_config_from_kubeconfig(srv_tls.kubeconfig, NULL, &cfg), 0);
	sl_k8s_token_fini(&cfg->token);
	pthread_mutex_init(&cfg->token.lock, NULL);
	{
		struct sl_k8s_client *anon = sl_k8s_client_new(cfg, &fast);

		assert_int_equal(
		    sl_k8s_request(anon, "GET", "/api/v1/namespaces", NULL, NULL, &status, NULL),
		    -EACCES);
		assert_int_equal(status, 401);
		sl_k8s_client_free(anon);
	}

	inf = sl_k8s_informer_new(c, "/api/v1/namespaces", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	WAIT_WATCHING(c, inf);

	/* rotate: the server now only knows B; the next watch request must re-read */
	put(tokfile, TOKEN_B "\n");
	fault(admin, "{\"action\":\"drop-watches\"}");
	assert_true(RUN_UNTIL(c, 5000, (sl_k8s_informer_stats(inf, &st), st.failures >= 1)));
	make_ns(admin, "rotated");
	assert_true(RUN_UNTIL(c, 8000, strstr(r.log, "add rotated;")));
	/* the synchronous path retries once after a 401 too (this client read B already;
	 * rotate again) */
	put(tokfile, TOKEN_A "\n");
	assert_int_equal(sl_k8s_get(c, "/api/v1/namespaces/rotated", &obj), 0);
	cJSON_Delete(obj);
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

/* timeoutSeconds ends a watch cleanly: watch again from the same point, no relist, no failure */
static void watch_timeout_rewatches(void **state)
{
	struct sl_k8s_client_opts o = fast;
	struct sl_k8s_client *c, *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer_stats st;
	struct sl_k8s_informer *inf;
	struct rec r = {0};

	(void)state;
	o.watch_timeout_s = 1;
	c = client_for(&srv_plain, &o);
	make_ns(admin, "tmo");
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces/tmo/pods", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, (sl_k8s_informer_stats(inf, &st), st.watches >= 3)));
	sl_k8s_informer_stats(inf, &st);
	assert_int_equal(st.lists, 1);
	assert_int_equal(st.failures, 0);
	WAIT_WATCHING(c, inf);
	pod(admin, "tmo", "still-seen", NULL);
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "add still-seen;")));
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

/* Idle with a watch open (bookmarks every 0.3 s): the loop sleeps; a busy loop would wake
 * thousands of times. Also a burst of events (several per chunk) all arrive. */
static void idle_loop_sleeps_and_burst(void **state)
{
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer *inf;
	struct rec r = {0};
	int64_t end;
	int wakeups = 0;
	char name[32];

	(void)state;
	make_ns(admin, "idle");
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces/idle/pods", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	WAIT_WATCHING(c, inf);
	for (end = sl_k8s_now_ms() + 1000; sl_k8s_now_ms() < end; wakeups++)
		assert_int_equal(sl_k8s_client_run(c, 1000), 0);
	print_message("idle: %d wakeups in 1 s\n", wakeups);
	assert_in_range(wakeups, 1, 40);

	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "burst%d", i);
		pod(admin, "idle", name, NULL);
	}
	assert_true(RUN_UNTIL(c, 8000, r.adds == 60));
	assert_int_equal(sl_k8s_informer_count(inf), 60);
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

struct chain {
	struct sl_k8s_client *c;
	struct sl_k8s_informer *pods;
	struct rec pod_rec;
};

static void start_pods_on_synced(struct sl_k8s_informer *inf, void *ud)
{
	struct chain *ch = ud;

	(void)inf;
	if (ch->pods)
		return;
	/* from inside a callback: allowed, the start is deferred to the loop */
	ch->pods = sl_k8s_informer_new(ch->c, "/api/v1/pods", NULL, NULL, &rec_ops, &ch->pod_rec);
	assert_non_null(ch->pods);
	assert_int_equal(sl_k8s_informer_start(ch->pods), 0);
}

static void informer_started_from_callback(void **state)
{
	static const struct sl_k8s_informer_ops ns_ops = {.on_synced = start_pods_on_synced};
	struct chain ch = {0};
	struct sl_k8s_informer *ns;

	(void)state;
	ch.c = client_for(&srv_plain, &fast);
	ns = sl_k8s_informer_new(ch.c, "/api/v1/namespaces", NULL, NULL, &ns_ops, &ch);
	assert_int_equal(sl_k8s_informer_start(ns), 0);
	assert_int_equal(sl_k8s_informer_start(ns), -EALREADY);
	assert_true(RUN_UNTIL(ch.c, 5000, ch.pods && sl_k8s_informer_synced(ch.pods)));
	assert_true(sl_k8s_informer_count(ch.pods) > 0);
	sl_k8s_informer_free(ch.pods); /* explicitly, before the client */
	sl_k8s_client_free(ch.c);
}

/* In-cluster configuration against the TLS server: env + a service-account directory. */
static void in_cluster_config(void **state)
{
	char sa[600], path[700], *port, *pem;
	struct sl_k8s_config *cfg, *kc;
	struct sl_k8s_client *c;
	struct sl_k8s_informer *inf;
	struct rec r = {0};
	FILE *f;

	(void)state;
	assert_int_equal(sl_k8s_config_from_kubeconfig(srv_tls.kubeconfig, NULL, &kc), 0);
	port = strrchr(kc->server, ':') + 1;
	snprintf(sa, sizeof(sa), "%s/sa", dir);
	assert_int_equal(mkdir(sa, 0700), 0);
	snprintf(path, sizeof(path), "%s/ca.crt", sa);
	f = fopen(path, "w");
	assert_non_null(f);
	pem = strndup(kc->ca_data.data, kc->ca_data.len);
	fputs(pem, f);
	fclose(f);
	free(pem);
	snprintf(path, sizeof(path), "%s/token", sa);
	put(path, ADMIN_TOKEN "\n");
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	assert_int_equal(sl_k8s_config_in_cluster(sa, &cfg), 0);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_string_equal(sl_k8s_config_server(cfg), kc->server);
	sl_k8s_config_free(kc);
	c = sl_k8s_client_new(cfg, &fast);
	inf = sl_k8s_informer_new(c, "/api/v1/namespaces", NULL, NULL, &rec_ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	assert_non_null(sl_k8s_informer_get(inf, NULL, "kube-node-lease"));
	sl_k8s_client_free(c);
}

static void drop_spec(cJSON *obj, void *ud)
{
	(void)ud;
	cJSON_DeleteItemFromObject(obj, "spec");
}

/* A label selector (objects leaving it arrive as DELETED) and a transform (trims what is
 * cached, in lists and in watch events alike). */
static void selector_and_transform(void **state)
{
	struct sl_k8s_informer_ops ops = rec_ops;
	struct sl_k8s_client *c = client_for(&srv_plain, &fast),
			     *admin = client_for(&srv_plain, NULL);
	struct sl_k8s_informer *inf;
	struct rec r = {0};

	(void)state;
	ops.transform = drop_spec;
	make_ns(admin, "sel");
	pod(admin, "sel", "in1", "\"v\":\"in\"");
	pod(admin, "sel", "out1", "\"v\":\"out\"");
	inf = sl_k8s_informer_new(c, "/api/v1/pods", "v=in", "metadata.namespace=sel", &ops, &r);
	assert_int_equal(sl_k8s_informer_start(inf), 0);
	assert_true(RUN_UNTIL(c, 5000, sl_k8s_informer_synced(inf)));
	assert_int_equal(sl_k8s_informer_count(inf), 1);
	assert_null(cJSON_GetObjectItem(sl_k8s_informer_get(inf, "sel", "in1"), "spec"));
	WAIT_WATCHING(c, inf);
	relabel(admin, "sel", "out1", "in");
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "add out1;")));
	assert_null(cJSON_GetObjectItem(sl_k8s_informer_get(inf, "sel", "out1"), "spec"));
	relabel(admin, "sel", "in1", "out");
	assert_true(RUN_UNTIL(c, 5000, strstr(r.log, "delete in1;")));
	assert_int_equal(sl_k8s_informer_count(inf), 1);
	sl_k8s_client_free(c);
	sl_k8s_client_free(admin);
}

static void tls_wrong_ca_refused(void **state)
{
	struct sl_k8s_client *c;
	struct sl_k8s_config *cfg;
	long status;

	(void)state;
	/* the plain server's kubeconfig has no CA: point the TLS server's URL at the system CAs */
	assert_int_equal(sl_k8s_config_from_kubeconfig(srv_tls.kubeconfig, NULL, &cfg), 0);
	free(cfg->ca_file);
	cfg->ca_file = NULL;
	free(cfg->ca_data.data);
	cfg->ca_data.data = NULL;
	c = sl_k8s_client_new(cfg, &fast);
	assert_int_equal(sl_k8s_request(c, "GET", "/version", NULL, NULL, &status, NULL), -EIO);
	assert_int_equal(status, 0);
	sl_k8s_client_free(c);
}

/* ---------------------------------------------------------------------------------------- */

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
	int rc = 0;

	(void)state;
	sl_log_set_stream(NULL);
	fclose(logf_);
	if (logbuf &&
	    (strstr(logbuf, TOKEN_A) || strstr(logbuf, TOKEN_B) || strstr(logbuf, ADMIN_TOKEN))) {
		fprintf(stderr, "a token reached the log:\n%s\n", logbuf);
		rc = -1;
	}
	if (getenv("SL_K8S_TEST_VERBOSE") && logbuf)
		fputs(logbuf, stderr);
	free(logbuf);
	logbuf = NULL;
	return rc;
}

static void cleanup(void)
{
	char cmd[600];

	kapi_stop(&srv_plain);
	kapi_stop(&srv_tls);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

#define T(f) cmocka_unit_test_setup_teardown(f, log_setup, log_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(get_and_paginated_list),
	    T(informer_list_and_watch),
	    T(gone_event_relist),
	    T(gone_http_relist),
	    T(gone_on_live_watch),
	    T(dropped_watch_reconnects),
	    T(stalled_watch_detected),
	    T(oversized_event_relists),
	    T(server_restart),
	    T(tls_token_rotation),
	    T(tls_wrong_ca_refused),
	    T(watch_timeout_rewatches),
	    T(idle_loop_sleeps_and_burst),
	    T(informer_started_from_callback),
	    T(in_cluster_config),
	    T(selector_and_transform),
	};
	int err, failed, total = (int)(sizeof(tests) / sizeof(tests[0]));
	char tokfile[600];

	if (!mkdtemp(dir))
		return 1;
	atexit(cleanup);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	snprintf(tokfile, sizeof(tokfile), "%s/client-token", dir);
	put(tokfile, TOKEN_A "\n");
	err = kapi_start(&srv_plain, "plain", false, NULL);
	if (!err)
		err = kapi_start(&srv_tls, "tls", true, tokfile);
	if (err == -ENOENT) {
		fprintf(stderr, "e2e/kapi/kapi.py not found: skipped\n");
		printf("0 passed, 0 failed\n");
		return 77;
	}
	if (err) {
		fprintf(stderr, "e2e/kapi did not start\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
