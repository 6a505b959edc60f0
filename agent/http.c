// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* http.c - /healthz, /readyz and /metrics on --metrics-addr, served by libmicrohttpd. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "http.h"
#include "strbuf.h"
#include "log.h"
#include "metrics.h"

static struct MHD_Daemon *daemon_;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct sl_agent *a = cls;
	struct MHD_Response *resp;
	struct sl_strbuf b = {};
	unsigned int status = MHD_HTTP_OK;
	const char *ctype = "text/plain; charset=utf-8";
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		sl_strbuf_printf(&b, "method not allowed\n");
	} else if (*upload_size) {
		status = MHD_HTTP_BAD_REQUEST;
		sl_strbuf_printf(&b, "no body expected\n");
	} else if (!strcmp(url, "/healthz")) {
		sl_strbuf_printf(&b, "ok\n");
	} else if (!strcmp(url, "/readyz")) {
		if (atomic_load(&a->ready)) {
			sl_strbuf_printf(&b, "ready\n");
		} else {
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			sl_strbuf_printf(&b, "not ready\n");
		}
	} else if (!strcmp(url, "/metrics")) {
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		b.s = sl_metrics_render(a, &b.len); /* agent/metrics.c */
		b.cap = b.len + 1;
		b.oom = !b.s;
	} else {
		status = MHD_HTTP_NOT_FOUND;
		sl_strbuf_printf(&b, "not found (try /healthz, /readyz, /metrics)\n");
	}
	if (b.oom) {
		free(b.s);
		return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(b.len, b.s, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(b.s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int sl_http_start(struct sl_agent *a)
{
	char host[128];
	uint16_t port;
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	const struct sockaddr *sa;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;

	if (!a->cfg->metrics_addr[0])
		return 0;
	if (sl_parse_listen_addr(a->cfg->metrics_addr, host, sizeof(host), &port))
		return -EINVAL; /* checked by the flag parser */
	if (!host[0]) {
		/* All addresses: dual stack when the netns has IPv6, IPv4 otherwise. */
		s6.sin6_port = htons(port);
		s6.sin6_addr = in6addr_any;
		daemon_ = MHD_start_daemon(flags | MHD_USE_DUAL_STACK, port, NULL, NULL, answer, a,
					   MHD_OPTION_SOCK_ADDR, &s6, MHD_OPTION_CONNECTION_TIMEOUT,
					   10u, MHD_OPTION_END);
		s4.sin_port = htons(port);
		sa = (const struct sockaddr *)&s4;
	} else if (inet_pton(AF_INET, host, &s4.sin_addr) == 1) {
		s4.sin_port = htons(port);
		sa = (const struct sockaddr *)&s4;
	} else {
		inet_pton(AF_INET6, host, &s6.sin6_addr);
		s6.sin6_port = htons(port);
		sa = (const struct sockaddr *)&s6;
		flags |= MHD_USE_IPv6;
	}
	if (!daemon_)
		daemon_ = MHD_start_daemon(flags, port, NULL, NULL, answer, a, MHD_OPTION_SOCK_ADDR,
					   sa, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!daemon_) {
		int err = errno ? -errno : -EADDRINUSE;

		pr_err("metrics: listen on %s: %s", a->cfg->metrics_addr, strerror(-err));
		return err;
	}
	pr_info("metrics: serving /healthz /readyz /metrics on %s", a->cfg->metrics_addr);
	return 0;
}

void sl_http_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
