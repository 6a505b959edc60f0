// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc_attach.c - attach a program to a link's clsact hook with replace semantics. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "sl_abi.h"
#include "tc_attach.h"

static const char *hook_name(enum bpf_tc_attach_point where)
{
	return where == BPF_TC_INGRESS ? "ingress" : "egress";
}

int sl_tc_attach(int ifindex, enum bpf_tc_attach_point where, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	__u32 id = 0;
	int err;

	/* The agent re-attaches to veths that have their clsact already: create it only when
	 * there is none, since libbpf logs a kernel warning for an existing one. */
	if (sl_tc_query(ifindex, where, &id) < 0 || !id) {
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST) {
			pr_err("ifindex %d: create clsact: %s", ifindex, strerror(-err));
			return err;
		}
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_err("ifindex %d: tc %s attach: %s", ifindex, hook_name(where), strerror(-err));
	return err;
}

int sl_tc_query(int ifindex, enum bpf_tc_attach_point where, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO);
	int err = bpf_tc_query(&hook, &opts);

	*prog_id = 0;
	if (err == -ENOENT || err == -EINVAL)
		return 0; /* no clsact, or no such filter */
	if (err)
		return err;
	*prog_id = opts.prog_id;
	return 0;
}
