// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_token.c - the bearer token source: fixed, or a rotating file re-read at most every period
 * and right after a 401 (bound service-account tokens rotate). Never logs a token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_internal.h"
#include "log.h"

static void wipe_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* The file's content, trimmed. 0 or -errno (logged, without the content). */
static int read_token(const char *file, char **out)
{
	char *buf, *start, *end;
	int err;

	err = sl_k8s_read_small_file(file, &buf, NULL);
	if (err) {
		pr_err("token file %s: read: %s", file, strerror(-err));
		return err;
	}
	for (start = buf; *start == ' ' || *start == '\n' || *start == '\r' || *start == '\t';)
		start++;
	end = start + strlen(start);
	while (end > start &&
	       (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\r' || end[-1] == '\t'))
		end--;
	*end = '\0';
	if (start == end) {
		pr_err("token file %s: empty", file);
		wipe_free(buf);
		return -ENODATA;
	}
	for (char *p = start; p < end; p++) {
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
			pr_err("token file %s: not a token (contains whitespace or control bytes)",
			       file);
			wipe_free(buf);
			return -EINVAL;
		}
	}
	memmove(buf, start, (size_t)(end - start) + 1);
	*out = buf;
	return 0;
}

int sl_k8s_token_init(struct sl_k8s_token *t, const char *value, const char *file)
{
	int err;

	if (file) {
		t->file = strdup(file);
		if (!t->file)
			return -ENOMEM;
	}
	t->read_ms = sl_k8s_now_ms();
	if (value) {
		t->value = strdup(value);
		return t->value ? 0 : -ENOMEM;
	}
	if (file) {
		err = read_token(file, &t->value);
		if (err)
			return err;
	}
	return 0;
}

void sl_k8s_token_fini(struct sl_k8s_token *t)
{
	wipe_free(t->value);
	free(t->file);
	t->value = t->file = NULL;
	pthread_mutex_destroy(&t->lock);
}

int sl_k8s_token_header(struct sl_k8s_token *t, int64_t now_ms, unsigned period_ms, char **hdr)
{
	char *fresh;
	int err = 0;

	*hdr = NULL;
	pthread_mutex_lock(&t->lock);
	if (t->file && (t->stale || now_ms - t->read_ms >= (int64_t)period_ms)) {
		/* on failure keep the old token; the next try is a period away (or a 401) */
		t->read_ms = now_ms;
		t->stale = false;
		if (!read_token(t->file, &fresh)) {
			wipe_free(t->value);
			t->value = fresh;
		}
	}
	if (t->value && asprintf(hdr, "Authorization: Bearer %s", t->value) < 0) {
		*hdr = NULL;
		err = -ENOMEM;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

void sl_k8s_token_invalidate(struct sl_k8s_token *t)
{
	pthread_mutex_lock(&t->lock);
	t->stale = true;
	pthread_mutex_unlock(&t->lock);
}
