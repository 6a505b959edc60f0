// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* sysctl.c - the node's kernel settings the datapath needs, in the agent's network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sysctl.h"

int sl_sysctl_set(const char *key, const char *value)
{
	char path[PATH_MAX];
	size_t n = strlen(value);
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	/* Already so: no write. In a non-privileged container /proc/sys is read-only, and
	 * the node usually has ip_forward=1 already (kubeadm's preflight requires it). */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char cur[64];
		ssize_t got = read(fd, cur, sizeof(cur) - 1);

		close(fd);
		if (got > 0 && (size_t)got >= n && !strncmp(cur, value, n) &&
		    (got == (ssize_t)n || cur[n] == '\n')) {
			pr_debug("sysctl %s=%s already", key, value);
			return 0;
		}
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("sysctl %s: open: %s", key, strerror(errno));
		return err;
	}
	if (write(fd, value, n) != (ssize_t)n) {
		err = errno ? -errno : -EIO;
		pr_err("sysctl %s=%s: write: %s", key, value, strerror(-err));
	} else {
		pr_debug("sysctl %s=%s", key, value);
	}
	close(fd);
	return err;
}

int sl_sysctl_apply(void)
{
	return sl_sysctl_set("net.ipv4.ip_forward", "1");
}
