/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* k8s_internal.h - structures shared by the k8s/ files (not for users of the library). */
#ifndef SL_K8S_INTERNAL_H
#define SL_K8S_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "k8s.h"

/* A bearer token: a fixed value, a file re-read at most every period_ms and after a 401,
 * or both (the value is used until the first re-read of the file). */
struct sl_k8s_token {
	pthread_mutex_t lock;
	char *value; /* current token or NULL (no authentication) */
	char *file;  /* refresh source or NULL */
	int64_t read_ms;
	bool stale; /* a 401 asked for a re-read */
};

int sl_k8s_token_init(struct sl_k8s_token *t, const char *value, const char *file);
void sl_k8s_token_fini(struct sl_k8s_token *t);
/* "Authorization: Bearer ..." (malloc'd) or NULL when there is no token; re-reads the file
 * when the cached value is older than period_ms or marked stale. 0 or -errno (-ENOMEM). */
int sl_k8s_token_header(struct sl_k8s_token *t, int64_t now_ms, unsigned period_ms, char **hdr);
/* After a 401: the next sl_k8s_token_header() re-reads the file. */
void sl_k8s_token_invalidate(struct sl_k8s_token *t);

struct sl_k8s_blob {
	void *data;
	size_t len;
};

struct sl_k8s_config {
	char *source; /* for messages: "kubeconfig /path" or "in-cluster" */
	char *server; /* scheme://host[:port][/prefix], no trailing '/' */
	char *ca_file, *cert_file, *key_file;
	struct sl_k8s_blob ca_data, cert_data, key_data; /* PEM */
	bool insecure;
	struct sl_k8s_token token;
};

/* A response body with a hard cap. */
struct sl_k8s_buf {
	char *p;
	size_t len, cap, max;
	bool overflow;
};

int sl_k8s_buf_append(struct sl_k8s_buf *b, const char *data, size_t n);
void sl_k8s_buf_free(struct sl_k8s_buf *b);
/* Empty, keeping the memory. */
void sl_k8s_buf_reset(struct sl_k8s_buf *b);

struct sl_k8s_client {
	struct sl_k8s_config *cfg;
	struct sl_k8s_client_opts o; /* defaults filled in */
	char user_agent[64];
	CURLM *multi;
	int epfd, tfd;
	int64_t curl_deadline; /* -1: none */
	struct sl_k8s_informer *informers;
	unsigned in_callback; /* > 0 while user callbacks may run */
	uint64_t rng;
};

/* Reads a whole small file (<= 4 MiB), NUL-terminated; *len (may be NULL) excludes the NUL. */
int sl_k8s_read_small_file(const char *path, char **out, size_t *len);
int64_t sl_k8s_now_ms(void);
uint64_t sl_k8s_rand(uint64_t *state);

/* A curl easy handle set up for the client's server, TLS and authentication: url is
 * server + path_query. *hdrs receives the header list to free after the transfer. reuse: a
 * handle of an earlier transfer to reset and set up again (NULL: a new one); on failure it
 * is cleaned up too. */
CURL *sl_k8s_easy_new(struct sl_k8s_client *c, CURL *reuse, const char *path_query, bool watch,
		      struct curl_slist **hdrs, char *errbuf);
/* Run curl's due timeouts now (a request just added goes out), from inside a dispatch but not
 * from a curl callback. Transfers' write callbacks may run. */
void sl_k8s_client_kick(struct sl_k8s_client *c);
/* HTTP status -> -errno (see k8s.h). */
int sl_k8s_status_errno(long status);
/* Status.message of an error answer, or "" (never NULL). */
const char *sl_k8s_status_message(const cJSON *resp);
/* Appends "&key=<escaped value>" (or "key=..." when q is empty) to q (capacity n);
 * -ENAMETOOLONG if it does not fit. */
int sl_k8s_query_add(char *q, size_t n, const char *key, const char *value);

/* Informer internals used by the loop (k8s_loop.c). */
void sl_k8s_informer_done(struct sl_k8s_informer *inf, CURL *easy, CURLcode res);
int64_t sl_k8s_informer_deadline(const struct sl_k8s_informer *inf);
void sl_k8s_informer_tick(struct sl_k8s_informer *inf, int64_t now);
struct sl_k8s_informer *sl_k8s_informer_next(const struct sl_k8s_informer *inf);
/* Re-arms the timerfd for the earliest of curl's and the informers' deadlines. */
void sl_k8s_arm_timer(struct sl_k8s_client *c);

#endif
