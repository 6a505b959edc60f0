// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_k8s_stream.c - unit tests of the watch-stream parser: byte-by-byte feeds, many events
 * per chunk, CRLF, the line bound, event decoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "k8s_stream.h"

struct seen {
	int n;
	char lines[16][256];
};

static int collect(const char *line, size_t len, void *ud)
{
	struct seen *s = ud;

	assert_true(len < sizeof(s->lines[0]));
	memcpy(s->lines[s->n], line, len);
	s->lines[s->n][len] = '\0';
	s->n++;
	return 0;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"6\"}}}\r\n"
    "\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"7\"}}}\n";

static void check_three(const struct seen *s)
{
	assert_int_equal(s->n, 3);
	assert_non_null(strstr(s->lines[0], "ADDED"));
	assert_non_null(strstr(s->lines[1], "BOOKMARK"));
	assert_int_equal(s->lines[1][strlen(s->lines[1]) - 1], '}'); /* \r stripped */
	assert_non_null(strstr(s->lines[2], "DELETED"));
}

static void byte_by_byte(void **state)
{
	struct sl_k8s_linebuf lb;
	struct seen s = {0};

	(void)state;
	sl_k8s_linebuf_init(&lb, 1024);
	for (size_t i = 0; i < sizeof(stream) - 1; i++)
		assert_int_equal(sl_k8s_linebuf_feed(&lb, stream + i, 1, collect, &s), 0);
	check_three(&s);
	assert_int_equal(lb.len, 0);
	sl_k8s_linebuf_free(&lb);
}

static void all_in_one_chunk(void **state)
{
	struct sl_k8s_linebuf lb;
	struct seen s = {0};

	(void)state;
	sl_k8s_linebuf_init(&lb, 1024);
	assert_int_equal(sl_k8s_linebuf_feed(&lb, stream, sizeof(stream) - 1, collect, &s), 0);
	check_three(&s);
	assert_null(lb.buf); /* whole lines are parsed in place: nothing copied */
	sl_k8s_linebuf_free(&lb);
}

static void every_split_point(void **state)
{
	(void)state;
	for (size_t cut = 1; cut < sizeof(stream) - 1; cut++) {
		struct sl_k8s_linebuf lb;
		struct seen s = {0};

		sl_k8s_linebuf_init(&lb, 1024);
		assert_int_equal(sl_k8s_linebuf_feed(&lb, stream, cut, collect, &s), 0);
		assert_int_equal(
		    sl_k8s_linebuf_feed(&lb, stream + cut, sizeof(stream) - 1 - cut, collect, &s),
		    0);
		check_three(&s);
		sl_k8s_linebuf_free(&lb);
	}
}

static void line_bound(void **state)
{
	struct sl_k8s_linebuf lb;
	struct seen s = {0};
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	sl_k8s_linebuf_init(&lb, 64);
	/* split across calls */
	assert_int_equal(sl_k8s_linebuf_feed(&lb, big, 60, collect, &s), 0);
	assert_int_equal(sl_k8s_linebuf_feed(&lb, big, 10, collect, &s), -EMSGSIZE);
	assert_int_equal(lb.len, 0);
	/* in one call */
	big[99] = '\n';
	assert_int_equal(sl_k8s_linebuf_feed(&lb, big, 100, collect, &s), -EMSGSIZE);
	/* exactly at the bound is fine, and the buffer is usable again */
	memset(big, 'y', 64);
	big[64] = '\n';
	assert_int_equal(sl_k8s_linebuf_feed(&lb, big, 30, collect, &s), 0);
	assert_int_equal(sl_k8s_linebuf_feed(&lb, big + 30, 35, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(strlen(s.lines[0]), 64);
	sl_k8s_linebuf_free(&lb);
}

static int stop_at_second(const char *line, size_t len, void *ud)
{
	int *n = ud;

	(void)line;
	(void)len;
	return ++*n == 2 ? -EPIPE : 0;
}

static void callback_error_stops(void **state)
{
	struct sl_k8s_linebuf lb;
	int n = 0;

	(void)state;
	sl_k8s_linebuf_init(&lb, 1024);
	assert_int_equal(sl_k8s_linebuf_feed(&lb, "a\nb\nc\n", 6, stop_at_second, &n), -EPIPE);
	assert_int_equal(n, 2);
	sl_k8s_linebuf_free(&lb);
}

static void decode(void **state)
{
	enum sl_k8s_event_type t;
	cJSON *root, *obj;
	const char *l;
	int code;

	(void)state;
	l = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p\",\"resourceVersion\":"
	    "\"9\"}}}";
	assert_int_equal(sl_k8s_event_decode(l, strlen(l), &t, &root, &obj, &code), 0);
	assert_int_equal(t, SL_K8S_MODIFIED);
	assert_string_equal(sl_k8s_obj_rv(obj), "9");
	cJSON_Delete(root);
	l = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
	    "\"Expired\"}}";
	assert_int_equal(sl_k8s_event_decode(l, strlen(l), &t, &root, &obj, &code), 0);
	assert_int_equal(t, SL_K8S_ERROR);
	assert_int_equal(code, 410);
	cJSON_Delete(root);
	l = "{\"type\":\"ADDED\",\"object\":{}}trailing"; /* only the length given is parsed */
	assert_int_equal(sl_k8s_event_decode(l, 29, &t, &root, &obj, &code), 0);
	assert_int_equal(t, SL_K8S_ADDED);
	assert_null(sl_k8s_obj_rv(obj));
	cJSON_Delete(root);
	l = "{\"type\":\"ADDED\",\"object\":{\"a\":";
	assert_int_equal(sl_k8s_event_decode(l, strlen(l), &t, &root, &obj, &code), -EBADMSG);
	l = "{\"type\":\"RENAMED\",\"object\":{}}";
	assert_int_equal(sl_k8s_event_decode(l, strlen(l), &t, &root, &obj, &code), -EBADMSG);
	l = "{\"type\":\"ADDED\",\"object\":[]}";
	assert_int_equal(sl_k8s_event_decode(l, strlen(l), &t, &root, &obj, &code), -EBADMSG);
	assert_null(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(byte_by_byte),	    cmocka_unit_test(all_in_one_chunk),
	    cmocka_unit_test(every_split_point),    cmocka_unit_test(line_bound),
	    cmocka_unit_test(callback_error_stops), cmocka_unit_test(decode),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	int total = (int)(sizeof(tests) / sizeof(tests[0]));

	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
