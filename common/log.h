/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* log.h - the one logger: one line per message, "ts= level= msg=", to a chosen stream. */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdio.h>

enum sl_log_level { SL_LOG_ERR = 0, SL_LOG_WARN = 1, SL_LOG_INFO = 2, SL_LOG_DEBUG = 3 };

void sl_log_set_level(enum sl_log_level level);
enum sl_log_level sl_log_get_level(void);
/* Parse "error|warn|info|debug"; 0 or -EINVAL. */
int sl_log_parse_level(const char *s, enum sl_log_level *out);
/* Log to this stream (default stderr). The logger does not own it. */
void sl_log_set_stream(FILE *f);
/* Route libbpf's messages (verifier output included) into this logger. */
void sl_log_route_libbpf(void);

void sl_log(enum sl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)   sl_log(SL_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  sl_log(SL_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  sl_log(SL_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)

#endif
