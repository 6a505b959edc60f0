// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_load.c - load-only test: every program of the datapath object through the verifier
 * under every configuration the agent can set (each combination of the SL_CFG_* flags, with
 * and without the event rate limit), so a verifier regression shows up here rather than on a
 * node. Prints the verifier's instruction count of each program, a cheap complexity gauge.
 */
#include "harness.h"

static int load_one(const struct sl_cfg *cfg, const char *what)
{
	struct datapath_bpf *skel = open_unpinned();
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int err;

	if (!skel) {
		fprintf(stderr, "%s: open: %s\n", what, strerror(errno));
		return -errno;
	}
	skel->rodata->sl_cfg = *cfg;
	err = datapath_bpf__load(skel);
	if (err) {
		fprintf(stderr, "%s: load: %s\n", what, strerror(-err));
	} else if (getenv("SL_TEST_VERBOSE")) {
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.sl_from_pod), &info, &len))
			fprintf(stderr, "%s: sl_from_pod %u xlated bytes\n", what,
				info.xlated_prog_len);
	}
	datapath_bpf__destroy(skel);
	return err;
}

int main(void)
{
	static const struct sl_cfg defaults = SL_CFG_DEFAULTS;
	char what[64];

	libbpf_set_print(quiet_libbpf);
	for (__u32 flags = 0; flags <= (SL_CFG_ALL | SL_CFG_FIB); flags++) {
		for (int limit = 0; limit < 2; limit++) {
			struct sl_cfg cfg = defaults;
			int err;

			cfg.flags = flags;
			cfg.ev_interval_ms = limit ? 1000 : 0;
			snprintf(what, sizeof(what), "flags 0x%x, rate limit %s", flags,
				 limit ? "on" : "off");
			err = load_one(&cfg, what);
			if (err == -EPERM && flags == 0 && !limit)
				return SKIP;
			EXPECT_EQ(err, 0, what);
		}
	}
	return report();
}
