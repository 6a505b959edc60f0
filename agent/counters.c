// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* counters.c - read sl_counters (per-CPU) summed over CPUs: for sluicectl and metrics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"

int sl_counters_read(int fd, struct sl_counter out[SL_COUNTERS_MAX])
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct sl_counter *vals;
	int ncpu, err = 0;

	memset(out, 0, sizeof(struct sl_counter) * SL_COUNTERS_MAX);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != 4 ||
	    info.value_size != sizeof(struct sl_counter))
		return -EPROTO; /* not the map we know */
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < SL_COUNTERS_MAX && i < info.max_entries; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			out[i].packets += vals[c].packets;
			out[i].bytes += vals[c].bytes;
		}
	}
	free(vals);
	return err;
}
