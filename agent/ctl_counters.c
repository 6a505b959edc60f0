// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_counters.c - sluicectl counters: the datapath's per-CPU counters by reason and direction
 * (sl_counters), summed over CPUs, read from the pins (works with the agent down).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "counters.h"
#include "ctl.h"
#include "reasons.h"

int ctl_do_counters(int argc, char **argv)
{
	struct sl_counter c[SL_COUNTERS_MAX], lost = {0}, limited = {0};
	char path[PATH_MAX], **pos;
	cJSON *arr;
	int fd, err, npos, rc;

	rc = ctl_getopt(argc, argv, "counters", "[--all]", NULL, NULL, NULL, NULL, &pos, &npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos)
		return ctl_usage("counters", "unexpected argument '%s'", pos[0]);
	ctl_pin_path(path, sizeof(path), "sl_counters");
	fd = bpf_obj_get(path);
	if (fd < 0)
		return ctl_fail("counters", "%s: %s", path, strerror(errno));
	err = sl_counters_read(fd, c);
	close(fd);
	if (err)
		return ctl_fail("counters", "%s: read: %s", path, strerror(-err));
	ctl_pin_path(path, sizeof(path), "sl_ev_stats");
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		ctl_percpu_sum(fd, SL_EV_STAT_LOST, &lost);
		ctl_percpu_sum(fd, SL_EV_STAT_LIMITED, &limited);
		close(fd);
	}
	arr = cJSON_CreateArray();
	if (!ctl_machine())
		printf("%-22s %-9s %14s %16s\n", "REASON", "DIRECTION", "PACKETS", "BYTES");
	for (unsigned r = 0; r < __SL_REASON_MAX; r++) {
		for (unsigned d = 0; d < SL_DIR_MAX; d++) {
			struct sl_counter *v = &c[SL_COUNTER_IDX(r, d)];
			const char *name = sl_reason_name(r);
			char unnamed[16];
			cJSON *e;

			if (!name) {
				if (!v->packets)
					continue;
				snprintf(unnamed, sizeof(unnamed), "reason_%u", r);
				name = unnamed;
			}
			if (ctl_machine()) {
				e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "reason", name);
				cJSON_AddStringToObject(e, "direction", sl_dir_name(d));
				cJSON_AddBoolToObject(e, "drop", SL_REASON_IS_DROP(r));
				cJSON_AddNumberToObject(e, "packets", (double)v->packets);
				cJSON_AddNumberToObject(e, "bytes", (double)v->bytes);
				cJSON_AddItemToArray(arr, e);
			} else if (v->packets || ctl.all) {
				printf(
				    "%s%-22s %-9s %14llu %16llu%s\n",
				    SL_REASON_IS_DROP(r) && v->packets ? ctl_col("\033[31m") : "",
				    name, sl_dir_name(d), (unsigned long long)v->packets,
				    (unsigned long long)v->bytes,
				    SL_REASON_IS_DROP(r) && v->packets ? ctl_col("\033[0m") : "");
			}
		}
	}
	if (ctl_machine())
		ctl_emit(arr);
	else if (lost.packets || limited.packets || ctl.all)
		printf("events: %llu lost (ring buffer full), %llu rate-limited\n",
		       (unsigned long long)lost.packets, (unsigned long long)limited.packets);
	cJSON_Delete(arr);
	return CTL_OK;
}
