// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* log.c - the one logger: one line per message, "ts= level= msg=". */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "log.h"

static enum sl_log_level cur_level = SL_LOG_INFO;
static FILE *stream;

static const char *const names[] = {"error", "warn", "info", "debug"};

void sl_log_set_level(enum sl_log_level level)
{
	cur_level = level;
}

enum sl_log_level sl_log_get_level(void)
{
	return cur_level;
}

int sl_log_parse_level(const char *s, enum sl_log_level *out)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum sl_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void sl_log_set_stream(FILE *f)
{
	stream = f;
}

static void vlog(enum sl_log_level level, const char *fmt, va_list ap)
{
	FILE *f = stream ? stream : stderr;
	char msg[2048], ts[40];
	struct timespec now;
	struct tm tm;
	size_t n;

	if (level > cur_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n') /* libbpf ends its lines with \n; we add one */
		msg[--n] = '\0';
	for (size_t i = 0; i < n; i++) /* one message, one line */
		if (msg[i] == '\n')
			msg[i] = ' ';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "ts=%s.%03ldZ level=%s pid=%d msg=\"%s\"\n", ts, now.tv_nsec / 1000000,
		names[level], (int)getpid(), msg);
	fflush(f);
}

void sl_log(enum sl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum sl_log_level l = level == LIBBPF_WARN   ? SL_LOG_WARN
			      : level == LIBBPF_INFO ? SL_LOG_DEBUG
						     : SL_LOG_DEBUG;

	vlog(l, fmt, ap);
	return 0;
}

void sl_log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
