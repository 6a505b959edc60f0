// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_informer.c - the reflector of one collection: paginated list, then watch from the list's
 * resourceVersion with bookmarks; 410 -> relist and diff; reconnect with backoff; a silent
 * watch is a dead watch. Driven by the client's loop (k8s_loop.c).
 *
 * States: LISTING (a page request in flight) -> WATCHING (one watch in flight) -> back to
 * WATCHING when the stream ends normally, to LISTING on 410; on failure WAITING (a backoff)
 * and then whichever step failed (a failed watch is retried as a watch, without relisting,
 * unless events may have been lost). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_backoff.h"
#include "k8s_cache.h"
#include "k8s_internal.h"
#include "k8s_stream.h"
#include "log.h"

enum state { ST_STOPPED, ST_LISTING, ST_WATCHING, ST_WAITING };
enum step { DO_LIST, DO_WATCH };
enum abort_reason { AB_NONE, AB_GONE, AB_ERROR_EVENT, AB_BAD_EVENT, AB_TOO_BIG, AB_NOMEM };

#define ERR_BODY_MAX 65536 /* the Status of a failed watch */

struct sl_k8s_informer {
	struct sl_k8s_client *c;
	struct sl_k8s_informer *next;
	char *path, *label, *field;
	struct sl_k8s_informer_ops ops;
	void *ud;
	struct sl_k8s_cache *cache;
	char *rv;
	bool synced;
	enum state state;
	enum step after_wait;
	int64_t wake_ms;
	/* the transfer in flight */
	CURL *easy;
	CURL *spare; /* the last transfer's handle, reset for the next one */
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	struct sl_k8s_buf body;
	long status;
	/* listing */
	cJSON *pending;
	char *cont, *list_rv;
	bool nolimit;
	/* watching */
	struct sl_k8s_linebuf lb;
	int64_t watch_start_ms, last_rx_ms;
	bool open; /* the watch's 200 arrived */
	enum abort_reason abort;
	char abort_msg[256];
	struct sl_k8s_backoff bo;
	struct sl_k8s_informer_stats st;
};

static void begin_list(struct sl_k8s_informer *inf);
static void begin_watch(struct sl_k8s_informer *inf);

struct sl_k8s_informer *sl_k8s_informer_next(const struct sl_k8s_informer *inf)
{
	return inf->next;
}

static int set_str(char **dst, const char *src)
{
	char *s = NULL;

	if (src && !(s = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static void end_transfer(struct sl_k8s_informer *inf)
{
	if (inf->easy) {
		curl_multi_remove_handle(inf->c->multi, inf->easy);
		/* kept for the next request (a list is many pages): see sl_k8s_buf_reset below */
		curl_easy_cleanup(inf->spare);
		inf->spare = inf->easy;
		inf->easy = NULL;
	}
	curl_slist_free_all(inf->hdrs);
	inf->hdrs = NULL;
	/* Kept from page to page of a list (freed once it is done): freeing a page-sized block
	 * makes glibc consolidate every small chunk the page's trimmed objects freed. */
	sl_k8s_buf_reset(&inf->body);
	sl_k8s_linebuf_reset(&inf->lb);
	inf->status = 0;
	inf->open = false;
}

static void schedule(struct sl_k8s_informer *inf, enum step step, unsigned delay_ms)
{
	inf->state = ST_WAITING;
	inf->after_wait = step;
	inf->wake_ms = sl_k8s_now_ms() + delay_ms;
}

static void fail(struct sl_k8s_informer *inf, enum step step, const char *why)
{
	unsigned delay = sl_k8s_backoff_next(&inf->bo);

	end_transfer(inf);
	sl_k8s_buf_free(&inf->body);
	inf->st.failures++;
	pr_warn("k8s: %s %s: %s; %s in %u ms", inf->state == ST_LISTING ? "list" : "watch",
		inf->path, why, step == DO_LIST ? "listing again" : "watching again", delay);
	schedule(inf, step, delay);
}

static void add_selectors(struct sl_k8s_informer *inf, char *q, size_t n)
{
	if (inf->label)
		sl_k8s_query_add(q, n, "labelSelector", inf->label);
	if (inf->field)
		sl_k8s_query_add(q, n, "fieldSelector", inf->field);
}

static size_t list_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sl_k8s_informer *inf = ud;

	return sl_k8s_buf_append(&inf->body, data, size * nmemb) ? 0 : size * nmemb;
}

static void apply_upsert(struct sl_k8s_informer *inf, cJSON *obj)
{
	cJSON *old = NULL;

	if (inf->ops.transform)
		inf->ops.transform(obj, inf->ud);
	if (sl_k8s_cache_put(inf->cache, obj, &old)) {
		pr_warn("k8s: watch %s: object without metadata.name ignored", inf->path);
		return;
	}
	if (old && inf->ops.on_update)
		inf->ops.on_update(inf, old, obj, inf->ud);
	else if (!old && inf->ops.on_add)
		inf->ops.on_add(inf, obj, inf->ud);
	cJSON_Delete(old);
}

static void apply_delete(struct sl_k8s_informer *inf, const cJSON *obj)
{
	char *key = sl_k8s_obj_key(obj);
	cJSON *old = key ? sl_k8s_cache_take(inf->cache, key) : NULL;

	free(key);
	if (old && inf->ops.on_delete)
		inf->ops.on_delete(inf, old, inf->ud);
	cJSON_Delete(old);
}

static int on_line(const char *line, size_t len, void *ud)
{
	struct sl_k8s_informer *inf = ud;
	enum sl_k8s_event_type type;
	cJSON *root, *obj;
	const char *rv;
	int code, err = 0;

	if (sl_k8s_event_decode(line, len, &type, &root, &obj, &code)) {
		inf->abort = AB_BAD_EVENT;
		snprintf(inf->abort_msg, sizeof(inf->abort_msg), "undecodable event (%zu bytes)",
			 len);
		return -EBADMSG;
	}
	rv = sl_k8s_obj_rv(obj);
	if (type != SL_K8S_ERROR && rv && set_str(&inf->rv, rv)) {
		err = -ENOMEM;
		inf->abort = AB_NOMEM;
		goto out;
	}
	inf->st.events++;
	switch (type) {
	case SL_K8S_BOOKMARK:
		inf->st.bookmarks++;
		break;
	case SL_K8S_ERROR:
		inf->abort = code == 410 ? AB_GONE : AB_ERROR_EVENT;
		snprintf(inf->abort_msg, sizeof(inf->abort_msg), "ERROR event %d: %s", code,
			 sl_k8s_status_message(obj));
		err = -EPIPE;
		break;
	case SL_K8S_ADDED:
	case SL_K8S_MODIFIED:
		apply_upsert(inf, cJSON_DetachItemViaPointer(root, obj));
		break;
	case SL_K8S_DELETED:
		apply_delete(inf, obj);
		break;
	}
out:
	cJSON_Delete(root);
	return err;
}

static size_t watch_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sl_k8s_informer *inf = ud;
	size_t n = size * nmemb;
	int err;

	inf->last_rx_ms = sl_k8s_now_ms();
	if (!inf->status)
		curl_easy_getinfo(inf->easy, CURLINFO_RESPONSE_CODE, &inf->status);
	if (inf->status != 200) { /* a Status object: keep its start for the message */
		sl_k8s_buf_append(&inf->body, data, n);
		return n;
	}
	err = sl_k8s_linebuf_feed(&inf->lb, data, n, on_line, inf);
	if (!err)
		return n;
	if (err == -EMSGSIZE) {
		inf->abort = AB_TOO_BIG;
		snprintf(inf->abort_msg, sizeof(inf->abort_msg),
			 "an event exceeds the %zu-byte limit", inf->c->o.max_event_bytes);
	} else if (err == -ENOMEM) {
		inf->abort = AB_NOMEM;
		snprintf(inf->abort_msg, sizeof(inf->abort_msg), "out of memory");
	}
	return 0; /* aborts the transfer; sl_k8s_informer_done() reads inf->abort */
}

/* The end of the headers: the watch is established (the server registered it). */
static size_t watch_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sl_k8s_informer *inf = ud;
	size_t n = size * nmemb;
	long status = 0;

	if (n <= 2 && (data[0] == '\r' || data[0] == '\n')) {
		curl_easy_getinfo(inf->easy, CURLINFO_RESPONSE_CODE, &status);
		inf->open = status == 200;
		inf->last_rx_ms = sl_k8s_now_ms();
	}
	return n;
}

static void start_transfer(struct sl_k8s_informer *inf, bool watch)
{
	struct sl_k8s_client *c = inf->c;
	char q[4096] = "", pq[5120];

	if (watch) {
		unsigned t = c->o.watch_timeout_s;

		if (!t) /* client-go: random in [5, 10] min, so that agents do not re-watch together
			 */
			t = 300 + (unsigned)(sl_k8s_rand(&c->rng) % 301);
		snprintf(q, sizeof(q), "watch=true&allowWatchBookmarks=true&timeoutSeconds=%u", t);
		if (inf->rv)
			sl_k8s_query_add(q, sizeof(q), "resourceVersion", inf->rv);
	} else {
		if (!inf->nolimit)
			snprintf(q, sizeof(q), "limit=%u", c->o.page_limit);
		if (inf->cont)
			sl_k8s_query_add(q, sizeof(q), "continue", inf->cont);
	}
	add_selectors(inf, q, sizeof(q));
	snprintf(pq, sizeof(pq), "%s%s%s", inf->path, q[0] ? "?" : "", q);
	inf->body.max = watch ? ERR_BODY_MAX : c->o.max_body_bytes;
	inf->status = 0;
	inf->easy = sl_k8s_easy_new(c, inf->spare, pq, watch, &inf->hdrs, inf->errbuf);
	inf->spare = NULL;
	if (!inf->easy) {
		fail(inf, watch ? DO_WATCH : DO_LIST, "cannot set up the request");
		return;
	}
	curl_easy_setopt(inf->easy, CURLOPT_WRITEFUNCTION, watch ? watch_write : list_write);
	curl_easy_setopt(inf->easy, CURLOPT_WRITEDATA, inf);
	if (watch) {
		curl_easy_setopt(inf->easy, CURLOPT_HEADERFUNCTION, watch_header);
		curl_easy_setopt(inf->easy, CURLOPT_HEADERDATA, inf);
	}
	curl_easy_setopt(inf->easy, CURLOPT_PRIVATE, (char *)inf);
	if (curl_multi_add_handle(c->multi, inf->easy) != CURLM_OK) {
		curl_easy_cleanup(inf->easy);
		inf->easy = NULL;
		fail(inf, watch ? DO_WATCH : DO_LIST, "cannot start the request");
	}
}

static void begin_list(struct sl_k8s_informer *inf)
{
	cJSON_Delete(inf->pending);
	inf->pending = cJSON_CreateArray();
	free(inf->cont);
	free(inf->list_rv);
	inf->cont = inf->list_rv = NULL;
	if (!inf->pending) {
		fail(inf, DO_LIST, "out of memory");
		return;
	}
	inf->state = ST_LISTING;
	start_transfer(inf, false);
}

static void begin_watch(struct sl_k8s_informer *inf)
{
	inf->state = ST_WATCHING;
	inf->abort = AB_NONE;
	inf->abort_msg[0] = '\0';
	inf->watch_start_ms = inf->last_rx_ms = sl_k8s_now_ms();
	inf->st.watches++;
	start_transfer(inf, true);
}

static void diff_add(const cJSON *obj, void *ud)
{
	struct sl_k8s_informer *inf = ud;

	if (inf->ops.on_add)
		inf->ops.on_add(inf, obj, inf->ud);
}

static void diff_update(const cJSON *old, const cJSON *obj, void *ud)
{
	struct sl_k8s_informer *inf = ud;

	if (inf->ops.on_update)
		inf->ops.on_update(inf, old, obj, inf->ud);
}

static void diff_del(const cJSON *obj, void *ud)
{
	struct sl_k8s_informer *inf = ud;

	if (inf->ops.on_delete)
		inf->ops.on_delete(inf, obj, inf->ud);
}

static void finish_list(struct sl_k8s_informer *inf)
{
	static const struct sl_k8s_diff_ops diff = {diff_add, diff_update, diff_del};

	sl_k8s_buf_free(&inf->body);
	if (sl_k8s_cache_replace(inf->cache, inf->pending, &diff, inf)) {
		inf->pending = NULL;
		fail(inf, DO_LIST, "out of memory");
		return;
	}
	inf->pending = NULL;
	free(inf->rv);
	inf->rv = inf->list_rv;
	inf->list_rv = NULL;
	inf->nolimit = false;
	inf->synced = true;
	inf->st.lists++;
	pr_debug("k8s: list %s: %zu objects at resourceVersion %s", inf->path,
		 sl_k8s_cache_count(inf->cache), inf->rv ? inf->rv : "(none)");
	if (inf->ops.on_synced)
		inf->ops.on_synced(inf, inf->ud);
	begin_watch(inf);
}

static void list_done(struct sl_k8s_informer *inf, CURLcode res)
{
	const cJSON *md, *items, *ctok, *lrv;
	char why[400];
	cJSON *page, *it;
	long status = 0;

	if (res != CURLE_OK) {
		snprintf(why, sizeof(why), "%s",
			 inf->body.overflow ? "list page exceeds the body limit"
			 : inf->errbuf[0]   ? inf->errbuf
					    : curl_easy_strerror(res));
		fail(inf, DO_LIST, why);
		return;
	}
	curl_easy_getinfo(inf->easy, CURLINFO_RESPONSE_CODE, &status);
	page = inf->body.len ? cJSON_ParseWithLength(inf->body.p, inf->body.len) : NULL;
	if (status != 200) {
		if (status == 410 && inf->cont && !inf->nolimit) {
			/* continue token expired: list again in one piece */
			cJSON_Delete(page);
			end_transfer(inf);
			inf->nolimit = true;
			inf->st.gone++;
			pr_info("k8s: list %s: continue token expired; listing without a limit",
				inf->path);
			begin_list(inf);
			return;
		}
		if (status == 401)
			sl_k8s_token_invalidate(&inf->c->cfg->token);
		snprintf(why, sizeof(why), "HTTP %ld: %s", status, sl_k8s_status_message(page));
		cJSON_Delete(page);
		fail(inf, DO_LIST, why);
		return;
	}
	md = cJSON_GetObjectItemCaseSensitive(page, "metadata");
	items = cJSON_GetObjectItemCaseSensitive(page, "items");
	ctok = cJSON_GetObjectItemCaseSensitive(md, "continue");
	lrv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
	if (!page || (items && !cJSON_IsArray(items) && !cJSON_IsNull(items)) ||
	    !cJSON_IsString(lrv)) {
		cJSON_Delete(page);
		fail(inf, DO_LIST, "answer is not a list with a resourceVersion");
		return;
	}
	if ((!inf->list_rv && set_str(&inf->list_rv, lrv->valuestring)) ||
	    set_str(&inf->cont,
		    cJSON_IsString(ctok) && ctok->valuestring[0] ? ctok->valuestring : NULL)) {
		cJSON_Delete(page);
		fail(inf, DO_LIST, "out of memory");
		return;
	}
	inf->st.pages++;
	end_transfer(inf);
	if (inf->cont) {
		/* the next page is asked for now: the server prepares it while this one is
		 * trimmed */
		start_transfer(inf, false);
		sl_k8s_client_kick(inf->c);
	}
	/* trimmed page by page: a list of everything is never held whole */
	while (cJSON_IsArray(items) && (it = cJSON_DetachItemFromArray((cJSON *)items, 0))) {
		if (inf->ops.transform)
			inf->ops.transform(it, inf->ud);
		cJSON_AddItemToArray(inf->pending, it);
	}
	cJSON_Delete(page);
	if (!inf->cont)
		finish_list(inf);
}

static void watch_done(struct sl_k8s_informer *inf, CURLcode res)
{
	int64_t dur = sl_k8s_now_ms() - inf->watch_start_ms;
	bool short_lived = dur < (int64_t)inf->c->o.min_watch_ms;
	char why[512];
	cJSON *st;
	long status = 0;

	curl_easy_getinfo(inf->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && !short_lived)
		sl_k8s_backoff_reset(&inf->bo); /* a healthy watch: failures start over */
	if (inf->abort == AB_GONE || status == 410) {
		inf->st.gone++;
		pr_info("k8s: watch %s: resourceVersion %s expired (410); relisting", inf->path,
			inf->rv ? inf->rv : "");
		if (short_lived) {
			fail(inf, DO_LIST, "watch expired right after it started");
		} else {
			end_transfer(inf);
			begin_list(inf);
		}
		return;
	}
	if (inf->abort != AB_NONE) { /* events may be lost: relist */
		fail(inf, DO_LIST, inf->abort_msg);
		return;
	}
	if (res != CURLE_OK) {
		snprintf(why, sizeof(why), "%s",
			 inf->errbuf[0] ? inf->errbuf : curl_easy_strerror(res));
		fail(inf, DO_WATCH, why);
		return;
	}
	if (status == 200) { /* timeoutSeconds reached or the server closed: watch on */
		if (short_lived) {
			snprintf(why, sizeof(why), "stream ended after %lld ms", (long long)dur);
			fail(inf, DO_WATCH, why);
		} else {
			end_transfer(inf);
			begin_watch(inf);
		}
		return;
	}
	st = inf->body.len ? cJSON_ParseWithLength(inf->body.p, inf->body.len) : NULL;
	snprintf(why, sizeof(why), "HTTP %ld: %s", status, sl_k8s_status_message(st));
	cJSON_Delete(st);
	if (status == 401)
		sl_k8s_token_invalidate(&inf->c->cfg->token);
	/* transient: the same watch again; anything else: start from a list */
	fail(inf, status == 401 || status == 429 || status >= 500 ? DO_WATCH : DO_LIST, why);
}

void sl_k8s_informer_done(struct sl_k8s_informer *inf, CURL *easy, CURLcode res)
{
	if (easy != inf->easy)
		return;
	if (inf->state == ST_LISTING)
		list_done(inf, res);
	else if (inf->state == ST_WATCHING)
		watch_done(inf, res);
}

int64_t sl_k8s_informer_deadline(const struct sl_k8s_informer *inf)
{
	if (inf->state == ST_WAITING)
		return inf->wake_ms;
	if (inf->state == ST_WATCHING)
		return inf->last_rx_ms + inf->c->o.stall_timeout_ms;
	return -1;
}

void sl_k8s_informer_tick(struct sl_k8s_informer *inf, int64_t now)
{
	char why[128];

	if (inf->state == ST_WAITING && now >= inf->wake_ms) {
		if (inf->after_wait == DO_LIST)
			begin_list(inf);
		else
			begin_watch(inf);
	} else if (inf->state == ST_WATCHING &&
		   now - inf->last_rx_ms >= (int64_t)inf->c->o.stall_timeout_ms) {
		inf->st.stalls++;
		if (now - inf->watch_start_ms >= (int64_t)inf->c->o.min_watch_ms)
			sl_k8s_backoff_reset(&inf->bo);
		snprintf(why, sizeof(why), "no data for %u ms (stalled)",
			 inf->c->o.stall_timeout_ms);
		fail(inf, DO_WATCH, why);
	}
}

struct sl_k8s_informer *sl_k8s_informer_new(struct sl_k8s_client *c, const char *path,
					    const char *label_selector, const char *field_selector,
					    const struct sl_k8s_informer_ops *ops, void *ud)
{
	struct sl_k8s_informer *inf;

	if (!path || path[0] != '/' || strchr(path, '?')) {
		pr_err("k8s: informer: path \"%s\" is not a collection path", path ? path : "");
		errno = EINVAL;
		return NULL;
	}
	inf = calloc(1, sizeof(*inf));
	if (!inf)
		return NULL;
	inf->c = c;
	inf->ud = ud;
	if (ops)
		inf->ops = *ops;
	inf->cache = sl_k8s_cache_new();
	if (!inf->cache || set_str(&inf->path, path) || set_str(&inf->label, label_selector) ||
	    set_str(&inf->field, field_selector)) {
		sl_k8s_cache_free(inf->cache);
		free(inf->path);
		free(inf->label);
		free(inf->field);
		free(inf);
		errno = ENOMEM;
		return NULL;
	}
	sl_k8s_linebuf_init(&inf->lb, c->o.max_event_bytes);
	sl_k8s_backoff_init(&inf->bo, c->o.backoff_initial_ms, c->o.backoff_max_ms,
			    sl_k8s_rand(&c->rng));
	inf->next = c->informers;
	c->informers = inf;
	return inf;
}

int sl_k8s_informer_start(struct sl_k8s_informer *inf)
{
	if (inf->state != ST_STOPPED)
		return -EALREADY;
	/* the loop begins the list: safe even when called from a callback */
	schedule(inf, DO_LIST, 0);
	if (!inf->c->in_callback)
		sl_k8s_arm_timer(inf->c);
	return 0;
}

void sl_k8s_informer_free(struct sl_k8s_informer *inf)
{
	struct sl_k8s_informer **pp;

	if (!inf)
		return;
	end_transfer(inf);
	curl_easy_cleanup(inf->spare);
	sl_k8s_buf_free(&inf->body);
	for (pp = &inf->c->informers; *pp; pp = &(*pp)->next) {
		if (*pp == inf) {
			*pp = inf->next;
			break;
		}
	}
	sl_k8s_cache_free(inf->cache);
	sl_k8s_linebuf_free(&inf->lb);
	cJSON_Delete(inf->pending);
	free(inf->cont);
	free(inf->list_rv);
	free(inf->rv);
	free(inf->path);
	free(inf->label);
	free(inf->field);
	free(inf);
}

bool sl_k8s_informer_synced(const struct sl_k8s_informer *inf)
{
	return inf->synced;
}

bool sl_k8s_informer_watching(const struct sl_k8s_informer *inf)
{
	return inf->state == ST_WATCHING && inf->open;
}

const cJSON *sl_k8s_informer_get(const struct sl_k8s_informer *inf, const char *ns,
				 const char *name)
{
	char *key = sl_k8s_key(ns, name);
	const cJSON *obj;

	if (!key)
		return NULL;
	obj = sl_k8s_cache_get(inf->cache, key);
	free(key);
	return obj;
}

size_t sl_k8s_informer_count(const struct sl_k8s_informer *inf)
{
	return sl_k8s_cache_count(inf->cache);
}

void sl_k8s_informer_foreach(const struct sl_k8s_informer *inf,
			     void (*fn)(const cJSON *obj, void *arg), void *arg)
{
	sl_k8s_cache_foreach(inf->cache, fn, arg);
}

const char *sl_k8s_informer_rv(const struct sl_k8s_informer *inf)
{
	return inf->rv;
}

const char *sl_k8s_informer_path(const struct sl_k8s_informer *inf)
{
	return inf->path;
}

void sl_k8s_informer_stats(const struct sl_k8s_informer *inf, struct sl_k8s_informer_stats *st)
{
	*st = inf->st;
}
