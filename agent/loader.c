// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * loader.c - the datapath object: bpffs mounted, skeleton loaded with maps reused from their
 * pins, programs pinned. The only user of the skeleton.
 *
 * Restart rules: a map that is pinned is adopted, never re-created (libbpf's pin_root_path
 * reuse), and nothing is ever detached, so traffic keeps flowing while the agent is down.
 * Program pins are replaced atomically (pin under a temporary name, rename(2) over the old).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_abi.h" /* before the skeleton: its rodata uses struct sl_cfg */
#include "datapath.skel.h"
#include "fsutil.h"
#include "loader.h"
#include "log.h"
#include "migrate.h"

#define SYS_BPF "/sys/fs/bpf"

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/* A mount we make here is invisible to the host when our mount namespace is not init's. */
static bool private_mount_ns(void)
{
	struct stat self, init;

	return !stat("/proc/self/ns/mnt", &self) && !stat("/proc/1/ns/mnt", &init) &&
	       self.st_ino != init.st_ino;
}

/* Mount a bpffs on dir unless one is there, holding a lock on dir's parent so two agents
 * starting together do not stack two mounts (the second would hide the first's pins). */
static int mount_bpffs(const char *dir)
{
	char parent[PATH_MAX];
	int fd, err = 0;

	snprintf(parent, sizeof(parent), "%s", dir);
	fd = open(dirname(parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: open: %s", parent, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		pr_err("%s: lock: %s", parent, strerror(errno));
		goto out;
	}
	if (on_bpffs(dir))
		goto out;
	if (mount("bpf", dir, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700")) {
		err = -errno;
		pr_err("%s: mount bpffs: %s", dir, strerror(errno));
		goto out;
	}
	pr_info("%s: mounted bpffs", dir);
	if (private_mount_ns())
		pr_warn("%s: this bpffs lives in the agent's own mount namespace (ip netns exec?): "
			"nobody else sees its pins and they vanish when the agent exits; mount "
			"bpffs there beforehand, or start the agent with nsenter --net",
			dir);
out:
	close(fd); /* drops the lock */
	return err;
}

int sl_bpffs_ensure(const char *root)
{
	size_t n = strlen(SYS_BPF);
	int err;

	if (!strncmp(root, SYS_BPF, n) && (root[n] == '/' || !root[n]) && !on_bpffs(SYS_BPF)) {
		err = mount_bpffs(SYS_BPF);
		if (err)
			return err;
	}
	err = sl_mkdir_p(root, 0700);
	if (err)
		return err;
	if (!on_bpffs(root))
		return mount_bpffs(root);
	return 0;
}

/* Pin prog at <dir>/<name>, replacing an existing pin atomically. */
static int pin_program(struct bpf_program *prog, const char *dir)
{
	const char *name = bpf_program__name(prog);
	char tmp[PATH_MAX], path[PATH_MAX];
	int err;

	snprintf(tmp, sizeof(tmp), "%s/%s__new", dir, name); /* bpffs names allow no dots */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(tmp); /* left by a crash between pin and rename */
	err = bpf_program__pin(prog, tmp);
	if (err) {
		pr_err("%s: pin: %s", tmp, strerror(-err));
		return err;
	}
	if (rename(tmp, path)) {
		err = -errno;
		pr_err("%s: rename to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return err;
	}
	return 0;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

int sl_datapath_load(struct sl_datapath *dp, const char *root, bool policy, bool fib)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->endpoints_fd = dp->counters_fd = dp->from_pod_fd = dp->to_pod_fd = dp->lock_fd = -1;
	snprintf(dp->root, sizeof(dp->root), "%s", root);
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s/v%d", root, SL_ABI_VERSION);

	err = sl_bpffs_ensure(root);
	if (err)
		return err;
	if (mkdir(dp->pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("%s: mkdir: %s", dp->pin_dir, strerror(errno));
		return err;
	}

	/* One agent per pin dir: a second one would replace the pins and reconcile away the
	 * first one's endpoints. The lock lives as long as the process. */
	dp->lock_fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->lock_fd < 0 || flock(dp->lock_fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (errno == EWOULDBLOCK)
			pr_err("%s: another sluice-agent is using this --bpffs", dp->pin_dir);
		else
			pr_err("%s: lock: %s", dp->pin_dir, strerror(errno));
		return err;
	}

	oo.pin_root_path = dp->pin_dir;
	dp->skel = datapath_bpf__open_opts(&oo);
	if (!dp->skel) {
		err = -errno;
		pr_err("datapath: open: %s", strerror(errno));
		return err;
	}
#ifdef SL_CFG_POLICY
	/* Load-time configuration: the verifier prunes what is off. */
	if (!policy)
		dp->skel->rodata->sl_cfg.flags &= ~SL_CFG_POLICY;
#else
	(void)policy;
#endif
	if (fib) /* --cross-node-forwarding fib */
		dp->skel->rodata->sl_cfg.flags |= SL_CFG_FIB;
	bpf_object__for_each_map (map, dp->skel->obj) {
		if (!bpf_map__pin_path(map))
			continue; /* not pinned by name: internal (.rodata, .bss) */
		dp->maps_total++;
		if (!access(bpf_map__pin_path(map), F_OK)) {
			dp->maps_reused++;
			pr_debug("%s: reusing pinned map", bpf_map__pin_path(map));
		}
	}
	err = datapath_bpf__load(dp->skel);
	if (err) {
		pr_err("datapath: load (maps under %s): %s", dp->pin_dir, strerror(-err));
		goto fail;
	}
	bpf_object__for_each_program (prog, dp->skel->obj) {
		err = pin_program(prog, dp->pin_dir);
		if (err)
			goto fail;
	}
	dp->from_pod_fd = bpf_program__fd(dp->skel->progs.sl_from_pod);
	dp->to_pod_fd = bpf_program__fd(dp->skel->progs.sl_to_pod);
	dp->endpoints_fd = map_fd(dp->skel->obj, "sl_endpoints");
	dp->counters_fd = map_fd(dp->skel->obj, "sl_counters");
	if (dp->endpoints_fd < 0) {
		snprintf(path, sizeof(path), "%s/sl_endpoints", dp->pin_dir);
		pr_err("datapath: the object has no map sl_endpoints (%s)", path);
		err = -ENOENT;
		goto fail;
	}
	err = sl_migrate_older(dp); /* an older ABI version's pins: carry them over */
	if (err)
		goto fail;
	pr_info("datapath: loaded, pins under %s (%d of %d maps reused)", dp->pin_dir,
		dp->maps_reused, dp->maps_total);
	return 0;
fail:
	datapath_bpf__destroy(dp->skel);
	dp->skel = NULL;
	return err;
}

struct bpf_object *sl_datapath_obj(const struct sl_datapath *dp)
{
	return dp->skel ? dp->skel->obj : NULL;
}

void sl_datapath_close(struct sl_datapath *dp)
{
	/* Destroying the skeleton closes fds only: no links are held, pins keep everything. */
	datapath_bpf__destroy(dp->skel);
	dp->skel = NULL;
}
