/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* k8s.h - the Kubernetes API client's public interface: configuration, requests, informers.
 *
 * Threading model: the client owns ONE libcurl multi handle and no thread. Everything
 * asynchronous (informers: paginated list, then watch, relist on 410, reconnect with
 * backoff, stall detection) is driven by the caller's event loop:
 *
 *	int fd = sl_k8s_client_fd(c);		// an epoll fd: readable when there is work
 *	... add fd to your poll/epoll set ...
 *	on POLLIN (or at least every few seconds):  sl_k8s_client_dispatch(c);
 *
 * sl_k8s_client_dispatch() never blocks; every informer callback runs inside it, in the
 * caller's thread, so the caches need no locks. sl_k8s_client_run(c, ms) = poll + dispatch,
 * for simple loops and tests. Callbacks must not free the client, create, start or free
 * informers (those calls return -EBUSY or are ignored there); they may read any informer's
 * cache and call the synchronous requests.
 *
 * The synchronous calls (sl_k8s_request, sl_k8s_get, sl_k8s_list) block the calling thread
 * up to the request timeout. They use their own curl handle, so they may also be called from
 * another thread while a loop dispatches (the token source is locked); nothing else is
 * thread-safe.
 *
 * Errors: 0 or -errno. HTTP statuses map to: 401 -EACCES, 403 -EPERM, 404 -ENOENT,
 * 409 -EEXIST, 410 -ESTALE, 400/422 -EINVAL, 429/5xx -EAGAIN, transport -EIO/-ETIMEDOUT.
 * Tokens never reach a log line.
 */
#ifndef SL_K8S_H
#define SL_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

struct sl_k8s_config;
struct sl_k8s_client;
struct sl_k8s_informer;

#define SL_K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Parse a kubeconfig file (one file; no $KUBECONFIG merging). context NULL = current-context.
 * Supported: clusters[].cluster.{server, certificate-authority(-data),
 * insecure-skip-tls-verify}, users[].user.{token, tokenFile, client-certificate(-data),
 * client-key(-data)}; relative paths are resolved against the kubeconfig's directory.
 * exec, auth-provider and username/password are rejected. Errors are logged naming the file
 * and the key. */
int sl_k8s_config_from_kubeconfig(const char *path, const char *context,
				  struct sl_k8s_config **out);
/* In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, sa_dir/token (re-read
 * at most every 60 s and after a 401), sa_dir/ca.crt. sa_dir NULL = SL_K8S_SA_DIR.
 * -ENOENT when the variables are not set. */
int sl_k8s_config_in_cluster(const char *sa_dir, struct sl_k8s_config **out);
/* kubeconfig if non-NULL, else in-cluster if KUBERNETES_SERVICE_HOST is set, else -ENOENT
 * (standalone), without logging an error for that last case. */
int sl_k8s_config_load(const char *kubeconfig, struct sl_k8s_config **out);
const char *sl_k8s_config_server(const struct sl_k8s_config *cfg);
void sl_k8s_config_free(struct sl_k8s_config *cfg);

struct sl_k8s_client_opts {
	unsigned page_limit;	     /* list page size; 0 = 500 */
	unsigned watch_timeout_s;    /* watch timeoutSeconds; 0 = random in [300, 600] */
	unsigned stall_timeout_ms;   /* no byte on a watch for this long = reconnect; 0 = 120 s */
	unsigned backoff_initial_ms; /* 0 = 800 */
	unsigned backoff_max_ms;     /* 0 = 30 s */
	unsigned min_watch_ms;	     /* a watch shorter than this counts as a failure; 0 = 1 s */
	unsigned connect_timeout_ms; /* 0 = 10 s */
	unsigned request_timeout_ms; /* lists, gets; 0 = 60 s */
	size_t max_event_bytes;	     /* one watch event; 0 = 16 MiB */
	size_t max_body_bytes;	     /* one response (a list page); 0 = 256 MiB */
	unsigned token_period_ms;    /* token file re-read period; 0 = 60 s */
	const char *user_agent;	     /* NULL = "sluice/<version>" */
};

/* Takes ownership of cfg (freed even on failure). opts may be NULL. NULL + errno on error. */
struct sl_k8s_client *sl_k8s_client_new(struct sl_k8s_config *cfg,
					const struct sl_k8s_client_opts *opts);
/* Frees the informers still attached, then the client. */
void sl_k8s_client_free(struct sl_k8s_client *c);
/* The one fd to poll for readability. */
int sl_k8s_client_fd(const struct sl_k8s_client *c);
/* Do all pending work without blocking: socket I/O, timers, callbacks. 0 or -errno. */
int sl_k8s_client_dispatch(struct sl_k8s_client *c);
/* Wait up to timeout_ms (-1 = forever) for work, then dispatch. */
int sl_k8s_client_run(struct sl_k8s_client *c, int timeout_ms);

/* Synchronous request. path starts with '/' and may carry a query. body may be NULL;
 * content_type NULL = application/json. *status gets the HTTP status (0 on transport error),
 * *resp the parsed JSON answer if any (also on HTTP errors: the Status object). Either out
 * pointer may be NULL. Retries once after re-reading the token on a 401. */
int sl_k8s_request(struct sl_k8s_client *c, const char *method, const char *path, const char *body,
		   const char *content_type, long *status, cJSON **resp);
/* GET one object (e.g. "/api/v1/namespaces/NS/pods/NAME"). -ENOENT if absent, not logged. */
int sl_k8s_get(struct sl_k8s_client *c, const char *path, cJSON **obj);
/* Paginated LIST (limit/continue) of a collection path. selector: extra query, already
 * URL-encoded (e.g. "labelSelector=app%3Dweb"), or NULL. *items gets a cJSON array of every
 * item, *rv (may be NULL) the list's resourceVersion (malloc'd). An expired continue token
 * restarts the list once without a limit. */
int sl_k8s_list(struct sl_k8s_client *c, const char *path, const char *selector, cJSON **items,
		char **rv);

/* Informer callbacks. Objects belong to the informer and live only during the call (use
 * cJSON_Duplicate to keep one). on_update's old and on_delete's obj are the cached objects
 * (as transformed), so what on_add/on_update saw is what on_update/on_delete see again;
 * a DELETED event's own copy of the object is not passed on. */
struct sl_k8s_informer_ops {
	void (*on_add)(struct sl_k8s_informer *inf, const cJSON *obj, void *ud);
	void (*on_update)(struct sl_k8s_informer *inf, const cJSON *old, const cJSON *obj,
			  void *ud);
	void (*on_delete)(struct sl_k8s_informer *inf, const cJSON *obj, void *ud);
	/* After every complete (re)list, once its difference has been delivered. */
	void (*on_synced)(struct sl_k8s_informer *inf, void *ud);
	/* Optional: trim or rewrite an object in place before it is cached (e.g. drop
	 * metadata.managedFields). */
	void (*transform)(cJSON *obj, void *ud);
};

struct sl_k8s_informer_stats {
	unsigned lists;	   /* complete lists (the first one included) */
	unsigned pages;	   /* list pages received */
	unsigned watches;  /* watch requests made */
	unsigned gone;	   /* 410s seen (HTTP or ERROR event) */
	unsigned stalls;   /* watches aborted for silence */
	unsigned failures; /* failed requests (each followed by a backoff) */
	unsigned events;   /* watch events applied (bookmarks included) */
	unsigned bookmarks;
};

/* An informer on a collection path ("/api/v1/pods", "/api/v1/namespaces",
 * "/apis/networking.k8s.io/v1/networkpolicies", "/api/v1/nodes"). label_selector and
 * field_selector (raw, not encoded) may be NULL. Created stopped. */
struct sl_k8s_informer *sl_k8s_informer_new(struct sl_k8s_client *c, const char *path,
					    const char *label_selector, const char *field_selector,
					    const struct sl_k8s_informer_ops *ops, void *ud);
/* List, then watch, forever (until freed). 0 or -errno. */
int sl_k8s_informer_start(struct sl_k8s_informer *inf);
/* Stops it (aborting its transfer), detaches it from the client and frees the cache. */
void sl_k8s_informer_free(struct sl_k8s_informer *inf);
/* True once the first list has been delivered. */
bool sl_k8s_informer_synced(const struct sl_k8s_informer *inf);
/* True while a watch stream is established (its HTTP 200 arrived) and not yet ended. */
bool sl_k8s_informer_watching(const struct sl_k8s_informer *inf);
/* ns NULL or "" for cluster-scoped objects. NULL if absent. */
const cJSON *sl_k8s_informer_get(const struct sl_k8s_informer *inf, const char *ns,
				 const char *name);
size_t sl_k8s_informer_count(const struct sl_k8s_informer *inf);
void sl_k8s_informer_foreach(const struct sl_k8s_informer *inf,
			     void (*fn)(const cJSON *obj, void *arg), void *arg);
/* The resourceVersion the next watch starts from (NULL before the first list). */
const char *sl_k8s_informer_rv(const struct sl_k8s_informer *inf);
const char *sl_k8s_informer_path(const struct sl_k8s_informer *inf);
void sl_k8s_informer_stats(const struct sl_k8s_informer *inf, struct sl_k8s_informer_stats *st);

#endif
