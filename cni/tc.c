// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc.c - attaching the agent's pinned programs to a host veth (tc ingress = sl_from_pod,
 * tc egress = sl_to_pod; handle SL_TC_HANDLE, prio SL_TC_PRIO, replace semantics) and
 * checking that they are still there. The CNI binary never loads a program: the agent
 * loads and pins them once under <bpffs>/v<SL_ABI_VERSION>/.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cni.h"
#include "log.h"
#include "sl_abi.h"

static const struct {
	const char *prog;
	enum bpf_tc_attach_point where;
	const char *hook;
} progs[] = {
    {"sl_from_pod", BPF_TC_INGRESS, "ingress"},
    {"sl_to_pod", BPF_TC_EGRESS, "egress"},
};

static int pin_get(const char *bpffs, const char *prog, struct cni_error *e)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/v%d/%s", bpffs, SL_ABI_VERSION, prog);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = -errno;
		if (fd == -ENOENT)
			return cni_err(e, fd, CNI_ERR_TRY_AGAIN,
				       "%s: not pinned: try again later (is sluice-agent running "
				       "with --bpffs %s?)",
				       path, bpffs);
		return cni_err(e, fd, SL_ERR_DATAPATH, "%s: open pin: %s", path, strerror(-fd));
	}
	return fd;
}

int sl_tc_attach_pinned(const char *bpffs, int ifindex, struct cni_error *e)
{
	int fds[2] = {-1, -1}, err = 0;

	for (int i = 0; i < 2 && !err; i++) {
		fds[i] = pin_get(bpffs, progs[i].prog, e);
		if (fds[i] < 0)
			err = fds[i];
	}
	if (!err) { /* one clsact serves both directions: created once */
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);

		err = bpf_tc_hook_create(&hook);
		if (err == -EEXIST)
			err = 0;
		if (err)
			cni_err(e, err, SL_ERR_DATAPATH, "ifindex %d: create clsact: %s", ifindex,
				strerror(-err));
	}
	for (int i = 0; i < 2 && !err; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = progs[i].where);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO,
			    .prog_fd = fds[i], .flags = BPF_TC_F_REPLACE);

		err = bpf_tc_attach(&hook, &opts);
		if (err)
			cni_err(e, err, SL_ERR_DATAPATH, "ifindex %d: tc %s attach %s: %s", ifindex,
				progs[i].hook, progs[i].prog, strerror(-err));
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return err;
}

static int prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

int sl_tc_check(const char *bpffs, int ifindex, const char *ifname, struct cni_error *e)
{
	struct bpf_prog_info info, pinned;
	int err = 0, fd;

	for (int i = 0; i < 2 && !err; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = progs[i].where);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO);

		err = bpf_tc_query(&hook, &opts);
		if (err)
			return cni_err(e, -ENOENT, SL_ERR_DRIFT,
				       "host veth %s: no tc %s filter handle 0x%x prio %d (%s): %s",
				       ifname, progs[i].hook, SL_TC_HANDLE, SL_TC_PRIO,
				       progs[i].prog, strerror(-err));
		fd = bpf_prog_get_fd_by_id(opts.prog_id);
		err = fd < 0 ? -errno : prog_info(fd, &info);
		if (fd >= 0)
			close(fd);
		if (err)
			return cni_err(e, err, SL_ERR_INTERNAL,
				       "host veth %s: tc %s program %u: %s", ifname, progs[i].hook,
				       opts.prog_id, strerror(-err));
		if (strcmp(info.name, progs[i].prog))
			return cni_err(e, -ENOENT, SL_ERR_DRIFT,
				       "host veth %s: tc %s runs program \"%s\", want %s", ifname,
				       progs[i].hook, info.name, progs[i].prog);
		/* The agent keeps its pins across restarts; a different id means a stale attach. */
		fd = pin_get(bpffs, progs[i].prog, e);
		if (fd < 0)
			return fd;
		err = prog_info(fd, &pinned);
		close(fd);
		if (!err && pinned.id != info.id)
			return cni_err(e, -ENOENT, SL_ERR_DRIFT,
				       "host veth %s: tc %s runs %s id %u, the pinned one is id %u",
				       ifname, progs[i].hook, progs[i].prog, info.id, pinned.id);
	}
	return err;
}
