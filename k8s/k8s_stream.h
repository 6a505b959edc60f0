/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* k8s_stream.h - the watch stream: bytes -> newline-delimited events, bounded, incremental. */
#ifndef SL_K8S_STREAM_H
#define SL_K8S_STREAM_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Bytes of a line not yet terminated. Grows geometrically up to max, shrinks back when idle. */
struct sl_k8s_linebuf {
	char *buf;
	size_t len, cap, max;
};

/* Called once per complete non-empty line (without its "\n" or "\r\n"). A negative return
 * stops the feed and is returned by sl_k8s_linebuf_feed(). */
typedef int (*sl_k8s_line_fn)(const char *line, size_t len, void *ud);

void sl_k8s_linebuf_init(struct sl_k8s_linebuf *lb, size_t max);
void sl_k8s_linebuf_reset(struct sl_k8s_linebuf *lb);
void sl_k8s_linebuf_free(struct sl_k8s_linebuf *lb);
/* Feed n bytes (any split: an event may span calls, a call may hold many events).
 * 0, -EMSGSIZE when a line exceeds max (the buffer is reset), -ENOMEM, or fn's error. */
int sl_k8s_linebuf_feed(struct sl_k8s_linebuf *lb, const char *data, size_t n, sl_k8s_line_fn fn,
			void *ud);

enum sl_k8s_event_type {
	SL_K8S_ADDED,
	SL_K8S_MODIFIED,
	SL_K8S_DELETED,
	SL_K8S_BOOKMARK,
	SL_K8S_ERROR,
};

/* Decodes {"type":T,"object":{...}}. *root is the parsed event (caller frees it); *obj points
 * inside it. For ERROR, *code gets object.code (0 if absent). 0 or -EBADMSG. */
int sl_k8s_event_decode(const char *line, size_t len, enum sl_k8s_event_type *type, cJSON **root,
			cJSON **obj, int *code);
/* metadata.resourceVersion of an object, or NULL. */
const char *sl_k8s_obj_rv(const cJSON *obj);

#endif
