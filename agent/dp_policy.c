// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dp_policy.c - apply a policy change in three phases (add, flip, delete): see dp_policy.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "dp_policy.h"
#include "log.h"

static const void *span_key(const struct sl_dp_span *s, size_t i)
{
	return (const char *)s->base + i * s->stride + s->key_off;
}

static const void *span_val(const struct sl_dp_span *s, size_t i)
{
	return (const char *)s->base + i * s->stride + s->val_off;
}

/* An entry phase 1 created, to remove if a later one fails. */
struct added {
	int fd;
	const void *key;
};

static void rollback(struct added *a, size_t n)
{
	while (n--)
		bpf_map_delete_elem(a[n].fd, a[n].key);
}

/*
 * Add the entries of s to fd. One that already exists is rewritten (a compiler re-sending an
 * entry it sent before, e.g. after a failed apply) but not recorded for rollback.
 */
static int add_span(int fd, const char *map, const struct sl_dp_span *s, struct added *a,
		    size_t *na)
{
	for (size_t i = 0; i < s->n; i++) {
		const void *k = span_key(s, i), *v = span_val(s, i);

		if (!bpf_map_update_elem(fd, k, v, BPF_NOEXIST)) {
			a[(*na)++] = (struct added){fd, k};
			continue;
		}
		if (errno == EEXIST && !bpf_map_update_elem(fd, k, v, BPF_ANY))
			continue;
		pr_err("%s: add entry %zu of %zu: %s", map, i + 1, s->n, strerror(errno));
		return -errno;
	}
	return 0;
}

static int del_span(int fd, const char *map, const struct sl_dp_span *s, size_t *deleted)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!bpf_map_delete_elem(fd, span_key(s, i))) {
			(*deleted)++;
		} else if (errno != ENOENT) {
			pr_err("%s: delete entry %zu of %zu: %s", map, i + 1, s->n,
			       strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int flip_eps(int fd, const struct sl_dp_policy_update *u, struct sl_dp_apply_stats *st)
{
	size_t i;

	for (i = 0; i < u->n_eps; i++) {
		const struct sl_dp_ep_flip *f = &u->eps[i];
		struct sl_endpoint ep;

		if (u->flip) {
			int err = u->flip(u->flip_ctx, f);

			if (err == -ENOENT) {
				st->missing_eps++;
				continue;
			}
			if (err) {
				errno = -err;
				goto fail;
			}
			st->flipped++;
			continue;
		}
		if (bpf_map_lookup_elem(fd, &f->addr, &ep)) {
			if (errno != ENOENT)
				goto fail;
			st->missing_eps++;
			continue;
		}
		ep.pol[SL_DIR_EGRESS] = f->pol[SL_DIR_EGRESS];
		ep.pol[SL_DIR_INGRESS] = f->pol[SL_DIR_INGRESS];
		ep.identity = f->identity;
		ep.flags =
		    (ep.flags & ~SL_EP_F_POLICY_INVALID) | (f->flags & SL_EP_F_POLICY_INVALID);
		if (bpf_map_update_elem(fd, &f->addr, &ep, BPF_EXIST)) {
			if (errno != ENOENT)
				goto fail;
			st->missing_eps++;
			continue;
		}
		st->flipped++;
	}
	return 0;
fail:
	pr_err("sl_endpoints: flip endpoint %zu of %zu: %s", i + 1, u->n_eps, strerror(errno));
	return -errno;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int sl_dp_sync(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int inner, outer, err = 0;
	__u32 key = 0;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_sync_in", 4, 4, 1, NULL);
	if (inner < 0) {
		err = -errno;
		pr_err("sl_dp_sync: create inner map: %s", strerror(-err));
		return err;
	}
	opts.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "sl_sync", 4, 4, 1, &opts);
	if (outer < 0) {
		err = -errno;
		pr_err("sl_dp_sync: create map-in-map: %s", strerror(-err));
		goto out;
	}
	/* The kernel waits for an RCU grace period after a map-in-map update from user space
	 * (kernel/bpf/syscall.c: maybe_wait_bpf_programs), and tc programs run under RCU. */
	if (bpf_map_update_elem(outer, &key, &inner, BPF_ANY)) {
		err = -errno;
		pr_err("sl_dp_sync: map-in-map update: %s", strerror(-err));
	}
	close(outer);
out:
	close(inner);
	return err;
}

int sl_dp_policy_apply(const struct sl_dp_maps *m, const struct sl_dp_policy_update *u,
		       struct sl_dp_apply_stats *stats)
{
	struct sl_dp_apply_stats st = {0};
	size_t n_add = u->ports_add.n + u->cidr_add.n + u->peer_add.n, na = 0;
	size_t n_del = u->peer_del.n + u->cidr_del.n + u->ports_del.n;
	struct added *a = NULL;
	double t;
	int err;

	/* phase 1: add */
	if (n_add) {
		a = calloc(n_add, sizeof(*a));
		if (!a) {
			pr_err("policy apply: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
	}
	err = add_span(m->ports, "sl_ports", &u->ports_add, a, &na);
	if (!err)
		err = add_span(m->cidr, "sl_cidr", &u->cidr_add, a, &na);
	if (!err)
		err = add_span(m->peer, "sl_peer", &u->peer_add, a, &na);
	if (err) {
		rollback(a, na);
		goto out;
	}
	st.added = na;

	/* phase 2: flip */
	for (size_t i = 0; i < u->ident_set.n; i++) {
		if (bpf_map_update_elem(m->ident, span_key(&u->ident_set, i),
					span_val(&u->ident_set, i), BPF_ANY)) {
			err = -errno;
			pr_err("sl_ident: set entry %zu of %zu: %s", i + 1, u->ident_set.n,
			       strerror(-err));
			goto out;
		}
	}
	err = del_span(m->ident, "sl_ident", &u->ident_del, &st.deleted);
	if (!err)
		err = flip_eps(m->endpoints, u, &st);
	if (err)
		goto out;

	/* phase 3: delete what no packet can reference any more */
	if (n_del) {
		t = now_ms();
		err = sl_dp_sync();
		st.grace_ms = now_ms() - t;
		if (err)
			goto out;
	}
	err = del_span(m->peer, "sl_peer", &u->peer_del, &st.deleted);
	if (!err)
		err = del_span(m->cidr, "sl_cidr", &u->cidr_del, &st.deleted);
	if (!err)
		err = del_span(m->ports, "sl_ports", &u->ports_del, &st.deleted);
out:
	free(a);
	if (stats)
		*stats = st;
	return err;
}
