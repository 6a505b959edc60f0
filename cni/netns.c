// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * netns.c - entering a container's network namespace without leaving ours: the work runs on
 * a short-lived thread that calls setns() (a namespace is per task, so only that thread
 * moves), and the process itself never changes namespace. Sockets created there stay bound
 * to that namespace, which is how veth.c talks netlink to the pod from the host side.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>

#include "cni.h"
#include "log.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

int sl_netns_open(const char *path)
{
	struct statfs sfs;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* /run/netns/x (nsfs bind mount) or /proc/PID/ns/net (procfs symlink to nsfs) */
	if (fstatfs(fd, &sfs) < 0) {
		err = -errno;
		goto fail;
	}
	if (sfs.f_type != NSFS_MAGIC && sfs.f_type != PROC_SUPER_MAGIC) {
		err = -EINVAL;
		goto fail;
	}
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		err = -EINVAL;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

struct ns_job {
	int nsfd;
	int (*fn)(void *);
	void *arg;
	int ret;
};

static void *ns_thread(void *p)
{
	struct ns_job *j = p;

	if (setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->ret = -errno;
		pr_err("netns: setns: %s", strerror(errno));
		return NULL;
	}
	j->ret = j->fn(j->arg);
	return NULL; /* the thread ends here, and its namespace with it */
}

int sl_netns_run(int nsfd, int (*fn)(void *), void *arg)
{
	struct ns_job j = {.nsfd = nsfd, .fn = fn, .arg = arg};
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, ns_thread, &j);
	if (err) {
		pr_err("netns: thread: %s", strerror(err));
		return -err;
	}
	pthread_join(t, NULL);
	return j.ret;
}
