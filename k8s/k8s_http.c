// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_http.c - one HTTP request to the API server: the curl handle (TLS, token, timeouts) and
 * the synchronous calls (request, get, paginated list). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_internal.h"
#include "k8s_stream.h"
#include "log.h"

int sl_k8s_buf_append(struct sl_k8s_buf *b, const char *data, size_t n)
{
	size_t cap;
	char *tmp;

	if (b->overflow || b->len + n + 1 > b->max) {
		b->overflow = true;
		return -EMSGSIZE;
	}
	if (b->len + n + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 16384; cap < b->len + n + 1;)
			cap *= 2;
		tmp = realloc(b->p, cap);
		if (!tmp)
			return -ENOMEM;
		b->p = tmp;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void sl_k8s_buf_reset(struct sl_k8s_buf *b)
{
	b->len = 0;
	b->overflow = false;
}

void sl_k8s_buf_free(struct sl_k8s_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->overflow = false;
}

int sl_k8s_status_errno(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 0:
		return -EIO;
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 410:
		return -ESTALE;
	case 400:
	case 422:
		return -EINVAL;
	case 429:
		return -EAGAIN;
	default:
		return status >= 500 ? -EAGAIN : -EPROTO;
	}
}

const char *sl_k8s_status_message(const cJSON *resp)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "message");

	return cJSON_IsString(m) ? m->valuestring : "";
}

int sl_k8s_query_add(char *q, size_t n, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t len = strlen(q);
	int r;

	if (!esc)
		return -ENOMEM;
	r = snprintf(q + len, n - len, "%s%s=%s", len ? "&" : "", key, esc);
	curl_free(esc);
	if (r < 0 || (size_t)r >= n - len) {
		q[len] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

CURL *sl_k8s_easy_new(struct sl_k8s_client *c, CURL *reuse, const char *path_query, bool watch,
		      struct curl_slist **hdrs, char *errbuf)
{
	struct sl_k8s_config *cfg = c->cfg;
	bool tls = !strncmp(cfg->server, "https://", 8);
	struct curl_slist *h = NULL, *t;
	char *url = NULL, *auth = NULL;
	CURL *e;

	*hdrs = NULL;
	e = reuse;
	if (e)
		curl_easy_reset(e);
	else
		e = curl_easy_init();
	if (!e)
		return NULL;
	if (asprintf(&url, "%s%s", cfg->server, path_query) < 0)
		goto fail;
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* gzip if the server offers it */
	if (errbuf) {
		errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	}
	/* a watch lasts timeoutSeconds; silence is caught by the stall timer */
	if (!watch)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->o.request_timeout_ms);
	if (tls) {
		if (cfg->insecure) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		} else {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
		}
		if (cfg->ca_file)
			curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
		if (cfg->ca_data.data) {
			struct curl_blob b = {cfg->ca_data.data, cfg->ca_data.len, CURL_BLOB_COPY};

			curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
		}
		if (cfg->cert_file)
			curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert_file);
		if (cfg->cert_data.data) {
			struct curl_blob b = {cfg->cert_data.data, cfg->cert_data.len,
					      CURL_BLOB_COPY};

			curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
			curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		}
		if (cfg->key_file)
			curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key_file);
		if (cfg->key_data.data) {
			struct curl_blob b = {cfg->key_data.data, cfg->key_data.len,
					      CURL_BLOB_COPY};

			curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
			curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		}
		/* credentials only over TLS, as client-go does */
		if (sl_k8s_token_header(&cfg->token, sl_k8s_now_ms(), c->o.token_period_ms, &auth))
			goto fail;
	}
	h = curl_slist_append(h, "Accept: application/json");
	if (!h)
		goto fail;
	if (auth) {
		t = curl_slist_append(h, auth);
		explicit_bzero(auth, strlen(auth));
		free(auth);
		auth = NULL;
		if (!t)
			goto fail;
		h = t;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	*hdrs = h;
	return e;
fail:
	free(auth);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return NULL;
}

static size_t body_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	return sl_k8s_buf_append(ud, data, size * nmemb) ? 0 : size * nmemb;
}

static int curl_errno(CURLcode r)
{
	switch (r) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_WRITE_ERROR:
		return -EMSGSIZE;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int request_once(struct sl_k8s_client *c, const char *method, const char *path,
			const char *body, const char *content_type, long *status,
			struct sl_k8s_buf *out)
{
	char errbuf[CURL_ERROR_SIZE], ct[128];
	struct curl_slist *h, *t;
	CURLcode r;
	CURL *e;
	int err = 0;

	*status = 0;
	e = sl_k8s_easy_new(c, NULL, path, false, &h, errbuf);
	if (!e)
		return -ENOMEM;
	if (body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 content_type ? content_type : "application/json");
		t = curl_slist_append(h, ct);
		if (!t) {
			err = -ENOMEM;
			goto out;
		}
		h = t;
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	r = curl_easy_perform(e);
	if (r != CURLE_OK) {
		err = out->overflow ? -EMSGSIZE : curl_errno(r);
		pr_err("k8s: %s %s%s: %s", method, c->cfg->server, path,
		       out->overflow ? "response too large"
		       : errbuf[0]   ? errbuf
				     : curl_easy_strerror(r));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return err;
}

int sl_k8s_request(struct sl_k8s_client *c, const char *method, const char *path, const char *body,
		   const char *content_type, long *status, cJSON **resp)
{
	struct sl_k8s_buf out = {.max = c->o.max_body_bytes};
	cJSON *json = NULL;
	long st = 0;
	int err;

	if (resp)
		*resp = NULL;
	err = request_once(c, method, path, body, content_type, &st, &out);
	if (!err && st == 401 && c->cfg->token.file) { /* the token may have rotated */
		sl_k8s_token_invalidate(&c->cfg->token);
		sl_k8s_buf_free(&out);
		out.max = c->o.max_body_bytes;
		err = request_once(c, method, path, body, content_type, &st, &out);
	}
	if (status)
		*status = st;
	if (err)
		goto out;
	if (st == 401)
		sl_k8s_token_invalidate(&c->cfg->token);
	if (out.len) {
		json = cJSON_ParseWithLength(out.p, out.len);
		if (!json && st >= 200 && st < 300) {
			pr_err("k8s: %s %s: answer is not JSON", method, path);
			err = -EBADMSG;
			goto out;
		}
	}
	err = sl_k8s_status_errno(st);
	if (err && st != 404)
		pr_err("k8s: %s %s: HTTP %ld: %s", method, path, st,
		       json ? sl_k8s_status_message(json) : "");
	if (resp) {
		*resp = json;
		json = NULL;
	}
out:
	cJSON_Delete(json);
	sl_k8s_buf_free(&out);
	return err;
}

int sl_k8s_get(struct sl_k8s_client *c, const char *path, cJSON **obj)
{
	cJSON *resp;
	int err;

	*obj = NULL;
	err = sl_k8s_request(c, "GET", path, NULL, NULL, NULL, &resp);
	if (err) {
		cJSON_Delete(resp);
		return err;
	}
	*obj = resp;
	return 0;
}

int sl_k8s_list(struct sl_k8s_client *c, const char *path, const char *selector, cJSON **items,
		char **rv)
{
	char *cont = NULL, *first_rv = NULL, pq[4096];
	cJSON *all = cJSON_CreateArray(), *page = NULL, *it;
	bool limit = true;
	long st;
	int err;

	*items = NULL;
	if (rv)
		*rv = NULL;
	if (!all)
		return -ENOMEM;
	for (;;) {
		const cJSON *md, *ctok, *lrv, *arr;
		char q[3072] = "";

		if (limit)
			snprintf(q, sizeof(q), "limit=%u", c->o.page_limit);
		if (cont && (err = sl_k8s_query_add(q, sizeof(q), "continue", cont)))
			goto out;
		if (snprintf(pq, sizeof(pq), "%s%s%s%s%s", path, q[0] || selector ? "?" : "", q,
			     q[0] && selector ? "&" : "",
			     selector ? selector : "") >= (int)sizeof(pq)) {
			err = -ENAMETOOLONG;
			goto out;
		}
		err = sl_k8s_request(c, "GET", pq, NULL, NULL, &st, &page);
		if (err == -ESTALE && cont && limit) {
			/* the continue token expired: one full list without paging */
			pr_warn("k8s: list %s: continue token expired, listing without a limit",
				path);
			cJSON_Delete(page);
			page = NULL;
			cJSON_Delete(all);
			all = cJSON_CreateArray();
			free(cont);
			free(first_rv);
			cont = first_rv = NULL;
			limit = false;
			if (!all) {
				err = -ENOMEM;
				goto out;
			}
			continue;
		}
		if (err)
			goto out;
		md = cJSON_GetObjectItemCaseSensitive(page, "metadata");
		arr = cJSON_GetObjectItemCaseSensitive(page, "items");
		if (!cJSON_IsArray(arr) && !cJSON_IsNull(arr) && arr) {
			pr_err("k8s: list %s: items is not an array", path);
			err = -EBADMSG;
			goto out;
		}
		lrv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
		if (!first_rv && cJSON_IsString(lrv) && !(first_rv = strdup(lrv->valuestring))) {
			err = -ENOMEM;
			goto out;
		}
		while (cJSON_IsArray(arr) && (it = cJSON_DetachItemFromArray((cJSON *)arr, 0)))
			cJSON_AddItemToArray(all, it);
		ctok = cJSON_GetObjectItemCaseSensitive(md, "continue");
		free(cont);
		cont = NULL;
		if (cJSON_IsString(ctok) && ctok->valuestring[0] &&
		    !(cont = strdup(ctok->valuestring))) {
			err = -ENOMEM;
			goto out;
		}
		cJSON_Delete(page);
		page = NULL;
		if (!cont)
			break;
	}
	*items = all;
	all = NULL;
	if (rv) {
		*rv = first_rv;
		first_rv = NULL;
	}
out:
	cJSON_Delete(page);
	cJSON_Delete(all);
	free(cont);
	free(first_rv);
	return err;
}
