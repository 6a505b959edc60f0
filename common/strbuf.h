/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* strbuf.h - a growing text buffer for answers built with printf (metrics, HTTP bodies). */
#ifndef SL_STRBUF_H
#define SL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialise. On ENOMEM it stops growing and sets oom; the caller answers with an error
 * and frees s. */
struct sl_strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

void sl_strbuf_printf(struct sl_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
