// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lock.c - the one lock of the plugin, <stateDir>/cni.lock: ADD and DEL hold it shared (they
 * touch disjoint veths, and IPAM and the agent serialise themselves), GC exclusive, so that GC
 * never reaps an attachment whose ADD is still in flight. Held until the process exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"
#include "log.h"

int sl_lock(const struct sl_conf *c, bool exclusive, struct cni_error *e)
{
	char path[PATH_MAX];
	int fd;

	if (mkdir(c->state_dir, 0700) && errno != EEXIST)
		return cni_err(e, -errno, SL_ERR_INTERNAL, "stateDir %s: mkdir: %s", c->state_dir,
			       strerror(errno));
	snprintf(path, sizeof(path), "%s/cni.lock", c->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cni_err(e, -errno, SL_ERR_INTERNAL, "%s: open: %s", path, strerror(errno));
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			close(fd);
			return cni_err(e, -errno, SL_ERR_INTERNAL, "%s: flock: %s", path,
				       strerror(errno));
		}
	}
	return 0; /* fd intentionally kept open: the lock lasts as long as the command */
}
