/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sl_check.h - what the C tests without cmocka share: checks counted into the closing
 * "N passed, N failed" line, and a shell runner for the ip/tc set-up of root tests.
 * Header-only: each test binary gets its own counters.
 */
#ifndef SL_CHECK_H
#define SL_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int passed, failed;

#define EXPECT(cond, what)                                                            \
	do {                                                                          \
		if (cond) {                                                           \
			passed++;                                                     \
		} else {                                                              \
			failed++;                                                     \
			fprintf(stderr, "FAIL %s:%d %s\n", __FILE__, __LINE__, what); \
		}                                                                     \
	} while (0)

#define EXPECT_EQ(got, want, what)                                                                 \
	do {                                                                                       \
		long long g_ = (got), w_ = (want);                                                 \
		if (g_ == w_) {                                                                    \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			fprintf(stderr, "FAIL %s:%d %s: got %lld want %lld\n", __FILE__, __LINE__, \
				what, g_, w_);                                                     \
		}                                                                                  \
	} while (0)

/* The closing line; the exit status. */
static inline int report(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* Run a shell command; its exit status (a failure is printed unless SL_TEST_QUIET_SH). */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc && !getenv("SL_TEST_QUIET_SH"))
		fprintf(stderr, "command exited %d: %s\n", rc, cmd);
	return rc;
}

#endif /* SL_CHECK_H */
