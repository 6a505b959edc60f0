// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_loop.c - the client's event loop: one curl multi handle whose sockets and timers live in
 * one epoll fd (plus a timerfd), dispatched from the caller's thread. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "k8s_internal.h"
#include "log.h"

int64_t sl_k8s_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t sl_k8s_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct sl_k8s_client *c = userp;
	struct epoll_event ev = {.data.fd = s};

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL); /* may be closed already: fine */
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) && errno == ENOENT &&
	    epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev)) {
		pr_err("k8s: epoll add fd %d: %s", s, strerror(errno));
		return -1;
	}
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct sl_k8s_client *c = userp;

	(void)m;
	c->curl_deadline = timeout_ms < 0 ? -1 : sl_k8s_now_ms() + timeout_ms;
	sl_k8s_arm_timer(c);
	return 0;
}

void sl_k8s_arm_timer(struct sl_k8s_client *c)
{
	struct itimerspec its = {0};
	int64_t d = c->curl_deadline, t;

	for (struct sl_k8s_informer *i = c->informers; i; i = sl_k8s_informer_next(i)) {
		t = sl_k8s_informer_deadline(i);
		if (t >= 0 && (d < 0 || t < d))
			d = t;
	}
	if (d >= 0) {
		if (d < 1)
			d = 1;
		its.it_value.tv_sec = d / 1000;
		its.it_value.tv_nsec = (d % 1000) * 1000000 + 1; /* never all-zero (= disarm) */
	}
	timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

struct sl_k8s_client *sl_k8s_client_new(struct sl_k8s_config *cfg,
					const struct sl_k8s_client_opts *opts)
{
	static const struct sl_k8s_client_opts none;
	struct epoll_event ev = {.events = EPOLLIN};
	struct sl_k8s_client *c;
	int err;

	if (!opts)
		opts = &none;
	err = curl_global_init(CURL_GLOBAL_DEFAULT); /* refcounted; thread-safe since 7.84 */
	if (err) {
		sl_k8s_config_free(cfg);
		errno = ENOMEM;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		sl_k8s_config_free(cfg);
		curl_global_cleanup();
		errno = ENOMEM;
		return NULL;
	}
	c->cfg = cfg;
	c->epfd = c->tfd = -1;
	c->curl_deadline = -1;
	c->o = *opts;
#define DEF(f, v)                   \
	do {                        \
		if (!c->o.f)        \
			c->o.f = v; \
	} while (0)
	DEF(page_limit, 500);
	DEF(stall_timeout_ms, 120000);
	DEF(backoff_initial_ms, 800);
	DEF(backoff_max_ms, 30000);
	DEF(min_watch_ms, 1000);
	DEF(connect_timeout_ms, 10000);
	DEF(request_timeout_ms, 60000);
	DEF(max_event_bytes, 16u << 20);
	DEF(max_body_bytes, 256u << 20);
	DEF(token_period_ms, 60000);
#undef DEF
	snprintf(c->user_agent, sizeof(c->user_agent), "%s",
		 opts->user_agent ? opts->user_agent : "sluice/" SL_VERSION);
	c->rng = (uint64_t)sl_k8s_now_ms() * 6364136223846793005ull ^ (uint64_t)getpid();
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->epfd < 0 || c->tfd < 0)
		goto fail_errno;
	ev.data.fd = c->tfd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tfd, &ev))
		goto fail_errno;
	c->multi = curl_multi_init();
	if (!c->multi) {
		errno = ENOMEM;
		goto fail;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
fail_errno:
	err = errno;
	pr_err("k8s: client: epoll/timerfd: %s", strerror(err));
	errno = err;
fail:
	err = errno;
	sl_k8s_client_free(c);
	errno = err;
	return NULL;
}

void sl_k8s_client_free(struct sl_k8s_client *c)
{
	if (!c)
		return;
	while (c->informers)
		sl_k8s_informer_free(c->informers);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->tfd >= 0)
		close(c->tfd);
	sl_k8s_config_free(c->cfg);
	free(c);
	curl_global_cleanup();
}

int sl_k8s_client_fd(const struct sl_k8s_client *c)
{
	return c->epfd;
}

void sl_k8s_client_kick(struct sl_k8s_client *c)
{
	int running;

	if (c->curl_deadline >= 0 && c->curl_deadline <= sl_k8s_now_ms()) {
		c->curl_deadline = -1;
		curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

static void reap(struct sl_k8s_client *c)
{
	struct sl_k8s_informer *inf;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		inf = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&inf);
		if (inf)
			sl_k8s_informer_done(inf, m->easy_handle, m->data.result);
	}
}

int sl_k8s_client_dispatch(struct sl_k8s_client *c)
{
	struct epoll_event evs[32];
	uint64_t ticks;
	int64_t now;
	int n, running, rounds = 0;

	if (c->in_callback)
		return -EBUSY;
	c->in_callback++;
	do {
		n = epoll_wait(c->epfd, evs, 32, 0);
		if (n < 0 && errno != EINTR) {
			c->in_callback--;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, flags = 0;

			if (fd == c->tfd) {
				if (read(c->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					pr_warn("k8s: timerfd read: %s", strerror(errno));
				continue;
			}
			if (evs[i].events & EPOLLIN)
				flags |= CURL_CSELECT_IN;
			if (evs[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(c->multi, fd, flags, &running);
		}
		/* curl's own timeouts (often "0 ms": do it now), then completions */
		for (int k = 0;
		     k < 8 && c->curl_deadline >= 0 && c->curl_deadline <= sl_k8s_now_ms(); k++) {
			c->curl_deadline = -1;
			curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		reap(c);
		now = sl_k8s_now_ms();
		for (struct sl_k8s_informer *i = c->informers, *next; i; i = next) {
			next = sl_k8s_informer_next(i);
			sl_k8s_informer_tick(i, now);
		}
		reap(c);
	} while (n == 32 && ++rounds < 16);
	c->in_callback--;
	sl_k8s_arm_timer(c);
	return 0;
}

int sl_k8s_client_run(struct sl_k8s_client *c, int timeout_ms)
{
	struct pollfd p = {.fd = c->epfd, .events = POLLIN};

	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return sl_k8s_client_dispatch(c);
}
