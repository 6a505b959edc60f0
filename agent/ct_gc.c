// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ct_gc.c - the agent's conntrack garbage collector: every SL_CT_GC_INTERVAL_S, expired flows
 * leave sl_ct (so the LRU never evicts live ones), and the run is counted for /metrics.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ct_gc.h"
#include "dp_ct.h"
#include "log.h"
#include "metrics.h"

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, stop;
	int fd;
} gc = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static void *loop(void *arg)
{
	struct sl_dp_ct_stats st;
	struct timespec until;

	(void)arg;
	pthread_mutex_lock(&gc.mu);
	while (!gc.stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SL_CT_GC_INTERVAL_S;
		while (!gc.stop && pthread_cond_timedwait(&gc.cv, &gc.mu, &until) != ETIMEDOUT)
			;
		if (gc.stop)
			break;
		pthread_mutex_unlock(&gc.mu);
		memset(&st, 0, sizeof(st));
		if (!sl_dp_ct_gc(gc.fd, 0, &st)) {
			sl_metrics_ct_gc(st.deleted);
			if (st.deleted)
				pr_debug("conntrack gc: %zu of %zu entries expired and deleted",
					 st.deleted, st.seen);
		}
		pthread_mutex_lock(&gc.mu);
	}
	pthread_mutex_unlock(&gc.mu);
	return NULL;
}

int sl_ct_gc_start(struct sl_agent *a)
{
	pthread_condattr_t ca;
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/sl_ct", a->dp.pin_dir);
	gc.fd = bpf_obj_get(path);
	if (gc.fd < 0) {
		err = -errno;
		pr_warn("%s: open for conntrack gc: %s (no gc)", path, strerror(-err));
		return err;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&gc.cv, &ca);
	pthread_condattr_destroy(&ca);
	gc.stop = false;
	err = -pthread_create(&gc.thread, NULL, loop, NULL);
	if (err) {
		pr_warn("conntrack gc: thread: %s (no gc)", strerror(-err));
		close(gc.fd);
		gc.fd = -1;
		return err;
	}
	gc.running = true;
	return 0;
}

void sl_ct_gc_stop(void)
{
	if (!gc.running)
		return;
	pthread_mutex_lock(&gc.mu);
	gc.stop = true;
	pthread_cond_signal(&gc.cv);
	pthread_mutex_unlock(&gc.mu);
	pthread_join(gc.thread, NULL);
	close(gc.fd);
	gc.fd = -1;
	gc.running = false;
}
