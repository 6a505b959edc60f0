// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_k8s_backoff.c - unit tests of the reconnect schedule: growth, jitter, cap, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "k8s_backoff.h"

static void doubles_within_jitter(void **state)
{
	struct sl_k8s_backoff b;
	unsigned base = 800;

	(void)state;
	sl_k8s_backoff_init(&b, 800, 30000, 42);
	for (int i = 0; i < 6; i++, base *= 2) {
		unsigned d = sl_k8s_backoff_next(&b);

		assert_in_range(d, base / 2, base);
	}
	/* 800 * 64 > 30000: capped from now on, still jittered, never above the cap */
	for (int i = 0; i < 1000; i++)
		assert_in_range(sl_k8s_backoff_next(&b), 15000, 30000);
}

static void jitter_spreads(void **state)
{
	struct sl_k8s_backoff a, b;
	int differ = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		sl_k8s_backoff_init(&a, 1000, 1000, 1 + i);
		sl_k8s_backoff_init(&b, 1000, 1000, 1000 + i);
		differ += sl_k8s_backoff_next(&a) != sl_k8s_backoff_next(&b);
	}
	assert_true(differ >= 15); /* two agents rarely pick the same delay */
}

static void reset_starts_over(void **state)
{
	struct sl_k8s_backoff b;

	(void)state;
	sl_k8s_backoff_init(&b, 100, 10000, 7);
	for (int i = 0; i < 20; i++)
		sl_k8s_backoff_next(&b);
	assert_in_range(sl_k8s_backoff_next(&b), 5000, 10000);
	sl_k8s_backoff_reset(&b);
	assert_in_range(sl_k8s_backoff_next(&b), 50, 100);
	assert_in_range(sl_k8s_backoff_next(&b), 100, 200);
}

static void degenerate_settings(void **state)
{
	struct sl_k8s_backoff b;

	(void)state;
	sl_k8s_backoff_init(&b, 0, 0, 0); /* never a zero delay: no busy loop */
	for (int i = 0; i < 100; i++)
		assert_in_range(sl_k8s_backoff_next(&b), 1, 1);
	sl_k8s_backoff_init(&b, 4000000000u, 4000000000u, 3); /* no overflow at huge values */
	for (int i = 0; i < 100; i++)
		assert_in_range(sl_k8s_backoff_next(&b), 2000000000u, 4000000000u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(doubles_within_jitter),
	    cmocka_unit_test(jitter_spreads),
	    cmocka_unit_test(reset_starts_over),
	    cmocka_unit_test(degenerate_settings),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	int total = (int)(sizeof(tests) / sizeof(tests[0]));

	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
