// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dp_ct.c - conntrack garbage collection and flushes. The walk deletes the previous key only
 * after the next one was fetched, so deleting never restarts the iteration; an entry is
 * re-read just before its deletion, so a flow refreshed meanwhile survives.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "dp_ct.h"
#include "log.h"

__u64 sl_dp_ct_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

typedef int (*ct_pred)(const struct sl_ct_key *k, const struct sl_ct_val *v, const void *arg);

static int expired(const struct sl_ct_key *k, const struct sl_ct_val *v, const void *arg)
{
	(void)k;
	return v->expires_ns < *(const __u64 *)arg;
}

static int has_addr(const struct sl_ct_key *k, const struct sl_ct_val *v, const void *arg)
{
	(void)v;
	return !memcmp(&k->saddr, arg, sizeof(k->saddr)) ||
	       !memcmp(&k->daddr, arg, sizeof(k->daddr));
}

/* Delete key if pred still holds for its current value. */
static int del_if(int fd, const struct sl_ct_key *key, ct_pred pred, const void *arg,
		  struct sl_dp_ct_stats *st)
{
	struct sl_ct_val v;

	if (bpf_map_lookup_elem(fd, key, &v) || !pred(key, &v, arg))
		return 0;
	if (!bpf_map_delete_elem(fd, key)) {
		st->deleted++;
		return 0;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int walk(int fd, ct_pred pred, const void *arg, struct sl_dp_ct_stats *stats,
		const char *what)
{
	struct sl_dp_ct_stats st = {0};
	struct sl_ct_key prev, key;
	int have_prev = 0, prev_match = 0, err = 0;
	struct sl_ct_val v;

	while (!bpf_map_get_next_key(fd, have_prev ? &prev : NULL, &key)) {
		if (have_prev && prev_match && (err = del_if(fd, &prev, pred, arg, &st)))
			break;
		prev = key;
		have_prev = 1;
		prev_match = 0;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue; /* gone meanwhile */
		st.seen++;
		prev_match = pred(&key, &v, arg);
		st.expired += prev_match;
	}
	if (!err && errno != ENOENT)
		err = -errno;
	if (!err && have_prev && prev_match)
		err = del_if(fd, &prev, pred, arg, &st);
	if (err)
		pr_err("sl_ct: %s: %s", what, strerror(-err));
	if (stats)
		*stats = st;
	return err;
}

int sl_dp_ct_gc(int ct_fd, __u64 now_ns, struct sl_dp_ct_stats *stats)
{
	__u64 now = now_ns ? now_ns : sl_dp_ct_now();

	return walk(ct_fd, expired, &now, stats, "gc");
}

int sl_dp_ct_flush_addr(int ct_fd, const struct sl_addr *addr, struct sl_dp_ct_stats *stats)
{
	return walk(ct_fd, has_addr, addr, stats, "flush address");
}
