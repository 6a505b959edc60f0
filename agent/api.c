// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * api.c - the local API server on <state-dir>/agent.sock (protocol: common/agent_proto.h).
 *
 * One accept thread; one short-lived worker thread per connection (at most
 * SL_API_MAX_CLIENTS), so a slow client only holds its own thread until its deadline.
 * Workers serialise on a->lock only for the registry's work, never while doing I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_proto.h"
#include "api.h"
#include "ctl_ops.h"
#include "endpoints.h"
#include "log.h"

static struct {
	struct sl_agent *a;
	int listen_fd;
	int wake[2]; /* pipe: tells the accept thread to stop */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int active; /* workers in flight */
} srv = {.listen_fd = -1,
	 .wake = {-1, -1},
	 .lock = PTHREAD_MUTEX_INITIALIZER,
	 .idle = PTHREAD_COND_INITIALIZER};

cJSON *sl_api_ok(void)
{
	cJSON *r = cJSON_CreateObject();

	if (r && !cJSON_AddTrueToObject(r, "ok")) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

cJSON *sl_api_err(int code, const char *fmt, ...)
{
	cJSON *r = cJSON_CreateObject();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r || !cJSON_AddFalseToObject(r, "ok") || !cJSON_AddNumberToObject(r, "code", code) ||
	    !cJSON_AddStringToObject(r, "error", msg)) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

static cJSON *op_status(struct sl_agent *a, const cJSON *req)
{
	cJSON *r = sl_api_ok();
	bool ok = r;

	(void)req;
	ok = ok && cJSON_AddBoolToObject(r, "ready", atomic_load(&a->ready));
	ok = ok && cJSON_AddStringToObject(r, "node", a->cfg->node);
	ok = ok && cJSON_AddStringToObject(r, "mode", a->mode->name);
	ok = ok && cJSON_AddNumberToObject(r, "abi", SL_ABI_VERSION);
	ok = ok && cJSON_AddStringToObject(r, "bpffs", a->dp.pin_dir);
	ok = ok && cJSON_AddNumberToObject(r, "endpoints", (double)sl_eps_count(a));
	ok = ok && cJSON_AddStringToObject(r, "version", SL_VERSION);
	ok = ok && cJSON_AddStringToObject(r, "podCIDR", a->cfg->pod_cidr_str);
	ok = ok && cJSON_AddNumberToObject(r, "pid", getpid());
	ok = ok && (!a->mode->status || !a->mode->status(a, r));
	if (!ok) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

static const struct {
	const char *name;
	cJSON *(*fn)(struct sl_agent *a, const cJSON *req);
} ops[] = {
    {"status", op_status},	  {"endpoint_add", sl_eps_add},	  {"endpoint_del", sl_eps_del},
    {"endpoint_get", sl_eps_get}, {"endpoint_list", sl_eps_list},
    /* sluicectl's questions to the compiler model (agent/ctl_ops.c) */
    {"names", sl_ctl_op_names},	  {"explain", sl_ctl_op_explain},
};

static cJSON *dispatch(struct sl_agent *a, const char *line)
{
	cJSON *req = cJSON_Parse(line), *resp;
	const cJSON *op;

	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return sl_api_err(SL_AGENT_CODE_INVALID, "request: not a JSON object");
	}
	op = cJSON_GetObjectItemCaseSensitive(req, "op");
	if (!cJSON_IsString(op)) {
		cJSON_Delete(req);
		return sl_api_err(SL_AGENT_CODE_INVALID, "op: %s",
				  op ? "must be a string" : "missing");
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strcmp(op->valuestring, ops[i].name)) {
			resp = ops[i].fn(a, req);
			cJSON_Delete(req);
			return resp;
		}
	}
	resp = sl_api_err(SL_AGENT_CODE_INVALID,
			  "op: unknown operation '%.64s' (status, endpoint_add, endpoint_del, "
			  "endpoint_get, endpoint_list, names, explain)",
			  op->valuestring);
	cJSON_Delete(req);
	return resp;
}

static void reply(int fd, cJSON *resp)
{
	char *out;

	if (!resp)
		resp = sl_api_err(SL_AGENT_CODE_INTERNAL, "out of memory");
	out = resp ? cJSON_PrintUnformatted(resp) : NULL;
	if (out && sl_proto_write_line(fd, out, sl_now_ms() + SL_API_TIMEOUT_MS))
		pr_debug("api: client went away before its answer");
	free(out);
	cJSON_Delete(resp);
}

static void *worker(void *arg)
{
	int fd = (int)(long)arg;
	char *line;

	line = sl_proto_read_line(fd, sl_now_ms() + SL_API_TIMEOUT_MS);
	if (line) {
		reply(fd, dispatch(srv.a, line));
		free(line);
	} else if (errno == EMSGSIZE) {
		reply(fd, sl_api_err(SL_AGENT_CODE_INVALID, "request: larger than %d bytes",
				     SL_AGENT_MAX_MSG));
	} else {
		pr_debug("api: read request: %s", strerror(errno));
	}
	close(fd);
	pthread_mutex_lock(&srv.lock);
	if (--srv.active == 0)
		pthread_cond_broadcast(&srv.idle);
	pthread_mutex_unlock(&srv.lock);
	return NULL;
}

/* Only root or our own user talks to us (the socket's mode says so too). */
static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	return cr.uid == 0 || cr.uid == geteuid();
}

/* An answer from the accept thread: never blocks (a client that does not read loses it). */
static void busy_answer(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		pr_debug("api: immediate answer: %s", strerror(errno));
	close(fd);
}

static void *accept_loop(void *arg)
{
	struct pollfd p[2] = {{.fd = srv.listen_fd, .events = POLLIN},
			      {.fd = srv.wake[0], .events = POLLIN}};
	pthread_attr_t attr;
	pthread_t t;
	int fd;

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("api: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				pr_warn("api: accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				poll(NULL, 0, 100); /* let workers release fds */
			continue;
		}
		if (!peer_allowed(fd)) {
			busy_answer(fd,
				    "{\"ok\":false,\"code\":7,\"error\":\"permission denied\"}\n");
			continue;
		}
		pthread_mutex_lock(&srv.lock);
		if (srv.active >= SL_API_MAX_CLIENTS) {
			pthread_mutex_unlock(&srv.lock);
			busy_answer(fd, "{\"ok\":false,\"code\":11,\"error\":\"agent busy, try "
					"again\"}\n");
			continue;
		}
		srv.active++;
		pthread_mutex_unlock(&srv.lock);
		if (pthread_create(&t, &attr, worker, (void *)(long)fd)) {
			pr_warn("api: no thread for a client: %s", strerror(errno));
			close(fd);
			pthread_mutex_lock(&srv.lock);
			srv.active--;
			pthread_mutex_unlock(&srv.lock);
		}
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

int sl_api_start(struct sl_agent *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old_umask;
	int err;

	srv.a = a;
	if (strlen(a->sock_path) >= sizeof(sa.sun_path)) {
		pr_err("%s: socket path too long", a->sock_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, a->sock_path);
	srv.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv.listen_fd < 0) {
		err = -errno;
		pr_err("api: socket: %s", strerror(errno));
		return err;
	}
	/* The agent lock (main.c) is held: a socket file here is a dead agent's. */
	if (unlink(a->sock_path) && errno != ENOENT) {
		err = -errno;
		pr_err("%s: unlink stale socket: %s", a->sock_path, strerror(errno));
		goto fail;
	}
	old_umask = umask(0177); /* born 0600: no window where others may connect */
	err = bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_umask);
	if (err) {
		pr_err("%s: bind: %s", a->sock_path, strerror(-err));
		goto fail;
	}
	if (chmod(a->sock_path, 0600) || listen(srv.listen_fd, 128)) {
		err = -errno;
		pr_err("%s: listen: %s", a->sock_path, strerror(errno));
		goto fail;
	}
	if (pipe2(srv.wake, O_CLOEXEC)) {
		err = -errno;
		pr_err("api: pipe: %s", strerror(errno));
		goto fail;
	}
	err = -pthread_create(&srv.thread, NULL, accept_loop, NULL);
	if (err) {
		pr_err("api: thread: %s", strerror(-err));
		goto fail;
	}
	srv.running = true;
	pr_info("api: serving %s", a->sock_path);
	return 0;
fail:
	close(srv.listen_fd);
	srv.listen_fd = -1;
	return err;
}

void sl_api_stop(struct sl_agent *a)
{
	struct timespec until;
	(void)a;

	if (!srv.running)
		return;
	if (write(srv.wake[1], "x", 1) < 0)
		pr_warn("api: wake: %s", strerror(errno));
	pthread_join(srv.thread, NULL);
	close(srv.listen_fd);
	srv.listen_fd = -1;
	/* Requests in flight finish (each is bounded by its deadlines); the socket file stays
	 * so that clients get ECONNREFUSED, not ENOENT, until the next agent binds it. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2 * SL_API_TIMEOUT_MS / 1000 + 1;
	pthread_mutex_lock(&srv.lock);
	while (srv.active > 0)
		if (pthread_cond_timedwait(&srv.idle, &srv.lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&srv.lock);
	srv.running = false;
}
