// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dp_maps.c - open the datapath's maps by name, from a loaded object or from bpffs pins. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp_maps.h"
#include "log.h"
#include "sl_abi.h"

static const struct {
	const char *name;
	size_t off;
} maps[] = {
    {"sl_endpoints", offsetof(struct sl_dp_maps, endpoints)},
    {"sl_counters", offsetof(struct sl_dp_maps, counters)},
    {"sl_ident", offsetof(struct sl_dp_maps, ident)},
    {"sl_peer", offsetof(struct sl_dp_maps, peer)},
    {"sl_cidr", offsetof(struct sl_dp_maps, cidr)},
    {"sl_ports", offsetof(struct sl_dp_maps, ports)},
    {"sl_rule_stats", offsetof(struct sl_dp_maps, rule_stats)},
    {"sl_ct", offsetof(struct sl_dp_maps, ct)},
    {"sl_frag", offsetof(struct sl_dp_maps, frag)},
    {"sl_events", offsetof(struct sl_dp_maps, events)},
    {"sl_ev_rate", offsetof(struct sl_dp_maps, ev_rate)},
    {"sl_ev_stats", offsetof(struct sl_dp_maps, ev_stats)},
};

#define NMAPS (sizeof(maps) / sizeof(maps[0]))

static int *slot(struct sl_dp_maps *m, size_t i)
{
	return (int *)((char *)m + maps[i].off);
}

size_t sl_dp_maps_count(void)
{
	return NMAPS;
}

const char *sl_dp_map_name(size_t i)
{
	return i < NMAPS ? maps[i].name : NULL;
}

int *sl_dp_map_fd(struct sl_dp_maps *m, size_t i)
{
	return i < NMAPS ? slot(m, i) : NULL;
}

void sl_dp_maps_init(struct sl_dp_maps *m)
{
	for (size_t i = 0; i < NMAPS; i++)
		*slot(m, i) = -1;
}

void sl_dp_maps_close(struct sl_dp_maps *m)
{
	for (size_t i = 0; i < NMAPS; i++) {
		if (*slot(m, i) >= 0)
			close(*slot(m, i));
		*slot(m, i) = -1;
	}
}

int sl_dp_maps_from_obj(struct sl_dp_maps *m, struct bpf_object *obj)
{
	int err;

	sl_dp_maps_init(m);
	for (size_t i = 0; i < NMAPS; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, maps[i].name);
		int fd = map ? bpf_map__fd(map) : -1;

		if (fd < 0) {
			err = -ENOENT;
			pr_err("%s: find map in object: %s", maps[i].name, strerror(-err));
			goto fail;
		}
		*slot(m, i) = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (*slot(m, i) < 0) {
			err = -errno;
			pr_err("%s: dup fd: %s", maps[i].name, strerror(-err));
			goto fail;
		}
	}
	return 0;
fail:
	sl_dp_maps_close(m);
	return err;
}

int sl_dp_maps_open_pinned(struct sl_dp_maps *m, const char *dir)
{
	char path[PATH_MAX];
	int err;

	sl_dp_maps_init(m);
	for (size_t i = 0; i < NMAPS; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, maps[i].name) >= (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			pr_err("%s: pin path: %s", dir, strerror(-err));
			goto fail;
		}
		*slot(m, i) = bpf_obj_get(path);
		if (*slot(m, i) < 0) {
			err = -errno;
			pr_err("%s: open pinned map: %s", path, strerror(-err));
			goto fail;
		}
	}
	return 0;
fail:
	sl_dp_maps_close(m);
	return err;
}

int sl_dp_rule_stats_reset(const struct sl_dp_maps *m)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info), n, count;
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct sl_counter *zero = NULL;
	__u32 *keys = NULL;

	if (ncpu < 0)
		return ncpu;
	if (bpf_obj_get_info_by_fd(m->rule_stats, &info, &len)) {
		err = -errno;
		goto out;
	}
	n = info.max_entries;
	keys = malloc(n * sizeof(*keys));
	zero = calloc((size_t)n * ncpu, sizeof(*zero));
	if (!keys || !zero) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; i < n; i++)
		keys[i] = i;
	count = n;
	if (!bpf_map_update_batch(m->rule_stats, keys, zero, &count, &opts))
		goto out;
	/* no batch operations for this map here: one by one */
	for (__u32 i = 0; i < n && !err; i++)
		if (bpf_map_update_elem(m->rule_stats, &keys[i], zero, BPF_ANY))
			err = -errno;
out:
	if (err)
		pr_err("sl_rule_stats: reset: %s", strerror(-err));
	free(keys);
	free(zero);
	return err;
}
