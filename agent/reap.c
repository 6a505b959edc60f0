// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * reap.c - phase 3 of policy changes on a thread of its own: see reap.h.
 *
 * Keys wait in two batches. `next` collects what sl_reap_queue() hands over; the thread takes
 * it as `wait`, waits for a grace period (sl_dp_sync()), then deletes what is still live in
 * `wait`. A grace period that starts after a key was queued covers it, because the queue
 * comes after the flip. sl_reap_cancel() marks a key dead in both batches; the deletions run
 * under the same lock, so a cancelled key is never deleted afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "btab.h"
#include "log.h"
#include "reap.h"

#define RETRY_MS 1000

enum { R_PEER, R_CIDR, R_PORTS, R_MAX };

static const char *const map_names[R_MAX] = {"sl_peer", "sl_cidr", "sl_ports"};

/* One batch: a set of keys per map; the value byte says whether the key is live. */
struct batch {
	struct btab t[R_MAX];
	size_t live;
};

struct sl_reap {
	const struct sl_dp_maps *m;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* work queued, stop, or a batch done */
	struct batch next, wait;
	bool stop;
	struct sl_reap_stats st;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int map_fd(const struct sl_reap *r, int i)
{
	return i == R_PEER ? r->m->peer : i == R_CIDR ? r->m->cidr : r->m->ports;
}

static int batch_init(struct batch *b)
{
	static const size_t klen[R_MAX] = {sizeof(struct sl_peer_key), sizeof(struct sl_cidr_key),
					   sizeof(struct sl_ports_key)};
	int err = 0;

	for (int i = 0; i < R_MAX && !err; i++)
		err = bt_init(&b->t[i], klen[i], 1);
	b->live = 0;
	return err;
}

static void batch_free(struct batch *b)
{
	for (int i = 0; i < R_MAX; i++)
		bt_free(&b->t[i]);
}

/* Mark k live in b. 0 or -ENOMEM. */
static int batch_put(struct batch *b, int i, const void *k)
{
	static const unsigned char live = 1;
	unsigned char *v = bt_get(&b->t[i], k);
	int err;

	if (v) {
		b->live += !*v;
		*v = 1;
		return 0;
	}
	err = bt_put(&b->t[i], k, &live);
	if (!err)
		b->live++;
	return err;
}

static void batch_cancel(struct batch *b, int i, const void *k)
{
	unsigned char *v = bt_get(&b->t[i], k);

	if (v && *v) {
		*v = 0;
		b->live--;
	}
}

static const void *span_key(const struct sl_dp_span *s, size_t j)
{
	return (const char *)s->base + j * s->stride + s->key_off;
}

/*
 * Under r->mu: delete what is live in wait (after its grace period). A key whose deletion
 * fails goes back to next. Returns the number of failures.
 */
static size_t reap_wait(struct sl_reap *r)
{
	size_t failed = 0;
	int err = 0;

	for (int i = 0; i < R_MAX; i++) {
		bt_for_each(&r->wait.t[i], e)
		{
			if (!e[1 + r->wait.t[i].klen])
				continue;
			if (!bpf_map_delete_elem(map_fd(r, i), e + 1)) {
				r->st.deleted++;
			} else if (errno != ENOENT) {
				err = errno;
				failed++;
				if (batch_put(&r->next, i, e + 1))
					pr_err("%s: a stale entry stays: %s", map_names[i],
					       strerror(ENOMEM));
			}
		}
		bt_clear(&r->wait.t[i]);
	}
	r->wait.live = 0;
	if (failed)
		pr_err("policy sync: deleting %zu stale entries failed (%s): retrying in 1 s",
		       failed, strerror(err));
	return failed;
}

/* Under r->mu: the keys live in wait back to next (no grace period). Returns true. */
static bool requeue_wait(struct sl_reap *r)
{
	for (int i = 0; i < R_MAX; i++) {
		bt_for_each(&r->wait.t[i], e)
		{
			if (e[1 + r->wait.t[i].klen] && batch_put(&r->next, i, e + 1))
				pr_err("%s: a stale entry stays: %s", map_names[i],
				       strerror(ENOMEM));
		}
		bt_clear(&r->wait.t[i]);
	}
	r->wait.live = 0;
	return true;
}

static void timed_wait(struct sl_reap *r, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* r->cv's clock: a wall clock step does not count */
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

static void *run(void *arg)
{
	struct sl_reap *r = arg;
	bool retry = false;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct batch t;
		double t0;
		int err;

		while (!r->next.live && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (!r->next.live)
			break;
		t = r->wait; /* empty */
		r->wait = r->next;
		r->next = t;
		pthread_mutex_unlock(&r->mu);
		t0 = now_ms();
		err = sl_dp_sync();
		pthread_mutex_lock(&r->mu);
		r->st.last_grace_ms = now_ms() - t0;
		r->st.graces++;
		retry = err ? requeue_wait(r) : reap_wait(r) > 0; /* sl_dp_sync() logged */
		pthread_cond_broadcast(&r->cv);
		if (retry && r->stop)
			break; /* failed at stop: logged, the entries stay */
		if (retry)
			timed_wait(r, RETRY_MS);
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct sl_reap *sl_reap_new(const struct sl_dp_maps *m)
{
	struct sl_reap *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int err = -ENOMEM;

	if (!r)
		goto fail;
	r->m = m;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (batch_init(&r->next) || batch_init(&r->wait))
		goto fail_free;
	err = -pthread_create(&r->thread, NULL, run, r);
	if (err)
		goto fail_free;
	return r;
fail_free:
	batch_free(&r->next);
	batch_free(&r->wait);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
fail:
	pr_err("policy sync: start the stale-entry reaper: %s", strerror(-err));
	errno = -err;
	return NULL;
}

void sl_reap_free(struct sl_reap *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	batch_free(&r->next);
	batch_free(&r->wait);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void sl_reap_cancel(struct sl_reap *r, const struct sl_dp_policy_update *u)
{
	const struct sl_dp_span *s[R_MAX] = {&u->peer_add, &u->cidr_add, &u->ports_add};

	pthread_mutex_lock(&r->mu);
	for (int i = 0; i < R_MAX; i++) {
		for (size_t j = 0; (r->next.live || r->wait.live) && j < s[i]->n; j++) {
			batch_cancel(&r->next, i, span_key(s[i], j));
			batch_cancel(&r->wait, i, span_key(s[i], j));
		}
	}
	pthread_mutex_unlock(&r->mu);
}

int sl_reap_queue(struct sl_reap *r, const struct sl_dp_policy_update *u)
{
	const struct sl_dp_span *s[R_MAX] = {&u->peer_del, &u->cidr_del, &u->ports_del};
	int err = 0;

	pthread_mutex_lock(&r->mu);
	for (int i = 0; i < R_MAX && !err; i++)
		for (size_t j = 0; j < s[i]->n && !err; j++)
			err = batch_put(&r->next, i, span_key(s[i], j));
	if (r->next.live)
		pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (err)
		pr_err("policy sync: queue stale entries: %s", strerror(-err));
	return err;
}

int sl_reap_drain(struct sl_reap *r, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	int err = 0;

	pthread_mutex_lock(&r->mu);
	while (r->next.live || r->wait.live) {
		double left = end - now_ms();

		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		timed_wait(r, left < 1 ? 1 : (int)left);
	}
	pthread_mutex_unlock(&r->mu);
	return err;
}

void sl_reap_stats(struct sl_reap *r, struct sl_reap_stats *st)
{
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	st->queued = r->next.live + r->wait.live;
	pthread_mutex_unlock(&r->mu);
}
