// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* agent_client.c - framing of the agent's local API and the client call (see agent_proto.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent_proto.h"

long long sl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long left;
	int n;

	for (;;) {
		left = deadline_ms - sl_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

char *sl_proto_read_line(int fd, long long deadline_ms)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int err;

	if (!buf)
		return NULL;
	for (;;) {
		err = wait_fd(fd, POLLIN, deadline_ms);
		if (err)
			goto fail;
		if (len + 1 >= cap) {
			if (cap >= SL_AGENT_MAX_MSG) {
				err = -EMSGSIZE;
				goto fail;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err = -errno;
			goto fail;
		}
		if (n == 0) {
			err = -EPROTO; /* closed before the end of the message */
			goto fail;
		}
		len += (size_t)n;
		buf[len] = '\0';
		char *nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
fail:
	free(buf);
	errno = -err;
	return NULL;
}

int sl_proto_write_line(int fd, const char *buf, long long deadline_ms)
{
	size_t len = strlen(buf), off = 0;
	ssize_t n;
	int err;

	while (off <= len) {
		err = wait_fd(fd, POLLOUT, deadline_ms);
		if (err)
			return err;
		if (off == len)
			n = send(fd, "\n", 1, MSG_NOSIGNAL);
		else
			n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		off += (size_t)n;
		if (off == len + 1)
			break;
	}
	return 0;
}

int sl_agent_call(const char *sock_path, const cJSON *req, cJSON **resp, int timeout_ms)
{
	long long deadline = sl_now_ms() + timeout_ms;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *out = NULL, *in = NULL;
	int fd, err;

	*resp = NULL;
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			err = -errno;
			goto out;
		}
		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			goto out;
	}
	out = cJSON_PrintUnformatted(req);
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	err = sl_proto_write_line(fd, out, deadline);
	if (err)
		goto out;
	in = sl_proto_read_line(fd, deadline);
	if (!in) {
		err = -errno;
		goto out;
	}
	*resp = cJSON_Parse(in);
	if (!*resp || !cJSON_IsObject(*resp) || !cJSON_IsBool(cJSON_GetObjectItem(*resp, "ok"))) {
		cJSON_Delete(*resp);
		*resp = NULL;
		err = -EPROTO;
	}
out:
	free(out);
	free(in);
	close(fd);
	return err;
}
