// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_stream.c - the watch stream: bytes -> newline-delimited events, bounded, incremental.
 * kube-apiserver writes each event as one line of compact JSON (Go's encoder never emits raw
 * newlines inside a document), but chunk boundaries are not event boundaries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_stream.h"

#define IDLE_CAP 65536 /* keep at most this much allocated between large events */

void sl_k8s_linebuf_init(struct sl_k8s_linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void sl_k8s_linebuf_reset(struct sl_k8s_linebuf *lb)
{
	lb->len = 0;
	if (lb->cap > IDLE_CAP) {
		free(lb->buf);
		lb->buf = NULL;
		lb->cap = 0;
	}
}

void sl_k8s_linebuf_free(struct sl_k8s_linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

static int append(struct sl_k8s_linebuf *lb, const char *data, size_t n)
{
	size_t need = lb->len + n, cap;
	char *tmp;

	if (need > lb->max) {
		sl_k8s_linebuf_reset(lb);
		return -EMSGSIZE;
	}
	if (need > lb->cap) {
		for (cap = lb->cap ? lb->cap : 4096; cap < need;)
			cap *= 2;
		if (cap > lb->max)
			cap = lb->max;
		tmp = realloc(lb->buf, cap);
		if (!tmp)
			return -ENOMEM;
		lb->buf = tmp;
		lb->cap = cap;
	}
	memcpy(lb->buf + lb->len, data, n);
	lb->len = need;
	return 0;
}

static int emit(const char *line, size_t len, sl_k8s_line_fn fn, void *ud)
{
	if (len && line[len - 1] == '\r')
		len--;
	if (!len)
		return 0;
	return fn(line, len, ud);
}

int sl_k8s_linebuf_feed(struct sl_k8s_linebuf *lb, const char *data, size_t n, sl_k8s_line_fn fn,
			void *ud)
{
	const char *nl;
	int err;

	while (n) {
		nl = memchr(data, '\n', n);
		if (!nl)
			return append(lb, data, n);
		if (lb->len) { /* the end of a line begun in an earlier call */
			err = append(lb, data, (size_t)(nl - data));
			if (err)
				return err;
			err = emit(lb->buf, lb->len, fn, ud);
			sl_k8s_linebuf_reset(lb);
		} else { /* a whole line in this call: no copy */
			if ((size_t)(nl - data) > lb->max)
				return -EMSGSIZE;
			err = emit(data, (size_t)(nl - data), fn, ud);
		}
		if (err)
			return err;
		n -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	return 0;
}

static const char *const type_names[] = {
    [SL_K8S_ADDED] = "ADDED",	    [SL_K8S_MODIFIED] = "MODIFIED", [SL_K8S_DELETED] = "DELETED",
    [SL_K8S_BOOKMARK] = "BOOKMARK", [SL_K8S_ERROR] = "ERROR",
};

int sl_k8s_event_decode(const char *line, size_t len, enum sl_k8s_event_type *type, cJSON **root,
			cJSON **obj, int *code)
{
	cJSON *ev = cJSON_ParseWithLength(line, len), *t, *o, *c;

	*root = NULL;
	*obj = NULL;
	*code = 0;
	if (!ev)
		return -EBADMSG;
	t = cJSON_GetObjectItemCaseSensitive(ev, "type");
	o = cJSON_GetObjectItemCaseSensitive(ev, "object");
	if (!cJSON_IsString(t) || !cJSON_IsObject(o))
		goto bad;
	for (unsigned i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcmp(t->valuestring, type_names[i]))
			continue;
		*type = (enum sl_k8s_event_type)i;
		if (i == SL_K8S_ERROR) {
			c = cJSON_GetObjectItemCaseSensitive(o, "code");
			*code = cJSON_IsNumber(c) ? c->valueint : 0;
		}
		*root = ev;
		*obj = o;
		return 0;
	}
bad:
	cJSON_Delete(ev);
	return -EBADMSG;
}

const char *sl_k8s_obj_rv(const cJSON *obj)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");

	return cJSON_IsString(rv) ? rv->valuestring : NULL;
}
