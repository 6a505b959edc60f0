// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_k8s_cache.c - unit tests of the informer store and of the diff against a relist. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "k8s_cache.h"

static cJSON *obj(const char *ns, const char *name, const char *rv)
{
	char buf[256];

	if (ns)
		snprintf(buf, sizeof(buf),
			 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"resourceVersion\":"
			 "\"%s\"}}",
			 ns, name, rv);
	else
		snprintf(buf, sizeof(buf),
			 "{\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"%s\"}}", name, rv);
	return cJSON_Parse(buf);
}

static cJSON *list(int n, ...)
{
	cJSON *a = cJSON_CreateArray();
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *ns = va_arg(ap, const char *);
		const char *name = va_arg(ap, const char *);
		const char *rv = va_arg(ap, const char *);

		cJSON_AddItemToArray(a, obj(ns, name, rv));
	}
	va_end(ap);
	return a;
}

struct log {
	char s[2048];
};

static void say(struct log *l, const char *what, const cJSON *o)
{
	char *k = sl_k8s_obj_key(o);
	size_t n = strlen(l->s);

	snprintf(l->s + n, sizeof(l->s) - n, "%s%s %s", n ? "," : "", what, k);
	free(k);
}

static void on_add(const cJSON *o, void *ud)
{
	say(ud, "add", o);
}

static void on_update(const cJSON *old, const cJSON *o, void *ud)
{
	const cJSON *a =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(old, "metadata"), "resourceVersion");
	const cJSON *b = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "resourceVersion");

	assert_string_not_equal(a->valuestring, b->valuestring);
	say(ud, "update", o);
}

static void on_del(const cJSON *o, void *ud)
{
	say(ud, "del", o);
}

static const struct sl_k8s_diff_ops ops = {on_add, on_update, on_del};

static void keys(void **state)
{
	cJSON *o = obj("ns", "p", "1");
	char *k;

	(void)state;
	k = sl_k8s_obj_key(o);
	assert_string_equal(k, "ns/p");
	free(k);
	cJSON_Delete(o);
	o = obj(NULL, "node-1", "1");
	k = sl_k8s_obj_key(o);
	assert_string_equal(k, "node-1");
	free(k);
	cJSON_Delete(o);
	o = cJSON_Parse("{\"metadata\":{}}");
	assert_null(sl_k8s_obj_key(o));
	cJSON_Delete(o);
}

static void put_get_take(void **state)
{
	struct sl_k8s_cache *c = sl_k8s_cache_new();
	cJSON *old;

	(void)state;
	assert_int_equal(sl_k8s_cache_put(c, obj("a", "x", "1"), &old), 0);
	assert_null(old);
	assert_int_equal(sl_k8s_cache_put(c, obj("a", "x", "2"), &old), 0);
	assert_non_null(old);
	cJSON_Delete(old);
	assert_int_equal(sl_k8s_cache_count(c), 1);
	assert_non_null(sl_k8s_cache_get(c, "a/x"));
	assert_null(sl_k8s_cache_get(c, "b/x"));
	assert_int_equal(sl_k8s_cache_put(c, cJSON_Parse("{}"), NULL), -EINVAL);
	old = sl_k8s_cache_take(c, "a/x");
	assert_non_null(old);
	cJSON_Delete(old);
	assert_null(sl_k8s_cache_take(c, "a/x"));
	assert_int_equal(sl_k8s_cache_count(c), 0);
	sl_k8s_cache_free(c);
}

static void many_objects_grow(void **state)
{
	struct sl_k8s_cache *c = sl_k8s_cache_new();
	char name[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(sl_k8s_cache_put(c, obj("ns", name, "1"), NULL), 0);
	}
	assert_int_equal(sl_k8s_cache_count(c), 5000);
	for (int i = 0; i < 5000; i += 97) {
		snprintf(name, sizeof(name), "ns/p%d", i);
		assert_non_null(sl_k8s_cache_get(c, name));
	}
	sl_k8s_cache_free(c);
}

static void relist_diff(void **state)
{
	struct sl_k8s_cache *c = sl_k8s_cache_new();
	struct log l = {""};

	(void)state;
	/* the first list: all adds */
	assert_int_equal(
	    sl_k8s_cache_replace(
		c, list(3, "a", "kept", "1", "a", "changed", "2", "b", "gone", "3"), &ops, &l),
	    0);
	assert_non_null(strstr(l.s, "add a/kept"));
	assert_non_null(strstr(l.s, "add a/changed"));
	assert_non_null(strstr(l.s, "add b/gone"));
	assert_int_equal(sl_k8s_cache_count(c), 3);

	/* the relist after a 410: unchanged -> nothing, changed -> update, gone -> delete,
	 * new -> add; deletes come first */
	l.s[0] = '\0';
	assert_int_equal(
	    sl_k8s_cache_replace(
		c, list(3, "a", "kept", "1", "a", "changed", "9", "c", "new", "10"), &ops, &l),
	    0);
	assert_int_equal(strncmp(l.s, "del b/gone,", 11), 0);
	assert_non_null(strstr(l.s, "update a/changed"));
	assert_non_null(strstr(l.s, "add c/new"));
	assert_null(strstr(l.s, "kept"));
	assert_int_equal(sl_k8s_cache_count(c), 3);
	assert_null(sl_k8s_cache_get(c, "b/gone"));
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(sl_k8s_cache_get(c, "a/changed"), "metadata"),
				"resourceVersion")
		->valuestring,
	    "9");

	/* an empty relist deletes everything; NULL ops are fine */
	l.s[0] = '\0';
	assert_int_equal(sl_k8s_cache_replace(c, cJSON_CreateArray(), &ops, &l), 0);
	assert_int_equal(sl_k8s_cache_count(c), 0);
	assert_non_null(strstr(l.s, "del a/kept"));
	assert_int_equal(sl_k8s_cache_replace(c, list(1, NULL, "n1", "1"), NULL, NULL), 0);
	assert_non_null(sl_k8s_cache_get(c, "n1"));
	sl_k8s_cache_free(c);
}

static void relist_skips_nameless_and_dups(void **state)
{
	struct sl_k8s_cache *c = sl_k8s_cache_new();
	struct log l = {""};
	cJSON *items = list(2, "a", "x", "1", "a", "x", "2");

	(void)state;
	cJSON_AddItemToArray(items, cJSON_Parse("{\"metadata\":{}}"));
	assert_int_equal(sl_k8s_cache_replace(c, items, &ops, &l), 0);
	assert_string_equal(l.s, "add a/x");
	assert_int_equal(sl_k8s_cache_count(c), 1);
	sl_k8s_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keys),
	    cmocka_unit_test(put_get_take),
	    cmocka_unit_test(many_objects_grow),
	    cmocka_unit_test(relist_diff),
	    cmocka_unit_test(relist_skips_nameless_and_dups),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	int total = (int)(sizeof(tests) / sizeof(tests[0]));

	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
