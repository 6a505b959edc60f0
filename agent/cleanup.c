// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cleanup.c - `sluice-agent cleanup`: remove from this node what Sluice added, and only that.
 *
 * Ownership tests, so another CNI's files survive: a conflist is ours when it is
 * 10-sluice.conflist and one of its plugins has type "sluice"; a tc filter when it sits at our
 * handle and priority and runs a program named sl_*; a route when its rtm_protocol is
 * SL_RTPROT; a pin when it is named sl_* inside <bpffs>/v<N>/; a state file when it has one
 * of the names the agent writes. The conflist goes first, so no new pod is wired while the
 * rest goes away. Nothing is unmounted: a bpffs may be shared with others.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "conflist.h"
#include "fsutil.h"
#include "log.h"
#include "routes.h"
#include "sl_abi.h"
#include "state.h"
#include "tc_attach.h"

struct tally {
	int removed;
	int err; /* first failure */
};

static void fail(struct tally *t, int err)
{
	if (!t->err)
		t->err = err;
}

/* -EBUSY when someone holds an flock on path (a running agent); 0 otherwise. */
static int busy(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK)
		err = -EBUSY;
	close(fd);
	return err;
}

/* "v" followed by digits only: a pin dir of some ABI version. */
static bool is_pin_dir_name(const char *s)
{
	if (s[0] != 'v' || !s[1])
		return false;
	for (s++; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int check_no_agent(const struct sl_config *c)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/agent.lock", c->state_dir);
	if (busy(path, false)) {
		pr_err("cleanup: %s: a sluice-agent is running with --state-dir %s: stop it first "
		       "(kubectl -n kube-system delete daemonset sluice)",
		       path, c->state_dir);
		return -EBUSY;
	}
	d = opendir(c->bpffs);
	if (!d)
		return 0;
	while (!err && (de = readdir(d))) {
		if (!is_pin_dir_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->bpffs, de->d_name);
		err = busy(path, true);
		if (err)
			pr_err("cleanup: %s: a sluice-agent is using these pins: stop it first",
			       path);
	}
	closedir(d);
	return err;
}

/* 1. The conflist, only when it is ours. */
static void remove_conflist(const struct sl_config *c, struct tally *t)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	const cJSON *plugins, *p;
	bool ours = false;
	cJSON *o;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", c->cni_conf_dir, SL_CONFLIST_NAME);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", c->cni_conf_dir, SL_CONFLIST_NAME);
	if (!unlink(tmp))
		t->removed++;
	s = sl_read_file(path, 1 << 20, NULL);
	if (!s) {
		if (errno != ENOENT) {
			pr_err("cleanup: %s: read: %s", path, strerror(errno));
			fail(t, -errno);
		}
		return;
	}
	o = cJSON_Parse(s);
	free(s);
	plugins = cJSON_GetObjectItemCaseSensitive(o, "plugins");
	cJSON_ArrayForEach (p, plugins) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");

		if (cJSON_IsString(type) && !strcmp(type->valuestring, "sluice"))
			ours = true;
	}
	cJSON_Delete(o);
	if (!ours) {
		pr_warn("cleanup: %s: no plugin of type \"sluice\" in it: not ours, left alone",
			path);
		return;
	}
	if (unlink(path) && errno != ENOENT) {
		pr_err("cleanup: %s: remove: %s", path, strerror(errno));
		fail(t, -errno);
		return;
	}
	pr_info("cleanup: removed %s", path);
	t->removed++;
}

/* Our filter at ifindex/where, if its program is one of ours (named sl_*). */
static int remove_filter(int ifindex, const char *ifname, enum bpf_tc_attach_point where,
			 struct tally *t)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIO);
	const char *hook_name = where == BPF_TC_INGRESS ? "ingress" : "egress";
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id;
	int fd, err;

	err = sl_tc_query(ifindex, where, &id);
	if (err || !id)
		return err;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		err = -errno;
		/* EPERM: GET_FD_BY_ID needs CAP_SYS_ADMIN (see manifests/sluice.yaml). */
		pr_err("cleanup: %s: tc %s: program %u: open: %s", ifname, hook_name, id,
		       strerror(errno));
		return err;
	}
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err) {
		pr_err("cleanup: %s: tc %s: program %u: info: %s", ifname, hook_name, id,
		       strerror(-err));
		return err;
	}
	if (strncmp(info.name, "sl_", 3)) {
		pr_warn("cleanup: %s: tc %s: filter at our handle runs '%s': not ours, left alone",
			ifname, hook_name, info.name);
		return 0;
	}
	err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT) {
		pr_err("cleanup: %s: tc %s: detach %s: %s", ifname, hook_name, info.name,
		       strerror(-err));
		return err;
	}
	pr_info("cleanup: %s: tc %s: detached %s (program %u)", ifname, hook_name, info.name, id);
	t->removed++;
	return 0;
}

/* Does ifindex have a clsact qdisc? (Querying a link without one makes libbpf log a kernel
 * error per link.) On a dump failure: assume yes, the query then tells. */
static bool has_clsact(struct nl_cache *qdiscs, int ifindex)
{
	struct nl_object *obj;

	if (!qdiscs)
		return true;
	for (obj = nl_cache_get_first(qdiscs); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_tc *tc = (struct rtnl_tc *)obj;
		const char *kind = rtnl_tc_get_kind(tc);

		if (rtnl_tc_get_ifindex(tc) == ifindex && kind && !strcmp(kind, "clsact"))
			return true;
	}
	return false;
}

/* 2. Our tc filters on every link of this network namespace. The clsact qdisc stays: other
 * filters may share it, and it goes with the veth when the pod goes. */
static void remove_filters(struct tally *t)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *qdiscs = NULL;
	int err;

	if (!ifs) {
		pr_err("cleanup: list links: %s", strerror(errno));
		fail(t, -errno);
		nl_socket_free(sk);
		return;
	}
	if (sk && (nl_connect(sk, NETLINK_ROUTE) || rtnl_qdisc_alloc_cache(sk, &qdiscs)))
		qdiscs = NULL;
	for (i = ifs; i->if_index; i++) {
		if (!has_clsact(qdiscs, (int)i->if_index))
			continue;
		err = remove_filter((int)i->if_index, i->if_name, BPF_TC_INGRESS, t);
		if (err)
			fail(t, err);
		err = remove_filter((int)i->if_index, i->if_name, BPF_TC_EGRESS, t);
		if (err)
			fail(t, err);
	}
	if_freenameindex(ifs);
	nl_cache_free(qdiscs);
	nl_socket_free(sk);
}

/* 3. Routes the agent added, all tables, both families: marked by their protocol. */
static void remove_routes(struct tally *t)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	char dst[128];
	int err;

	if (!sk) {
		fail(t, -ENOMEM);
		return;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &cache);
	if (err) {
		pr_err("cleanup: routes: dump: %s", nl_geterror(err));
		fail(t, -EIO);
		goto out;
	}
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_route *r = (struct rtnl_route *)obj;

		if (rtnl_route_get_protocol(r) != SL_RTPROT)
			continue;
		nl_addr2str(rtnl_route_get_dst(r), dst, sizeof(dst));
		err = rtnl_route_delete(sk, r, 0);
		if (err && err != -NLE_OBJ_NOTFOUND) {
			pr_err("cleanup: route %s (table %u): delete: %s", dst,
			       rtnl_route_get_table(r), nl_geterror(err));
			fail(t, -EIO);
			continue;
		}
		pr_info("cleanup: removed route %s (table %u, proto %d)", dst,
			rtnl_route_get_table(r), SL_RTPROT);
		t->removed++;
	}
out:
	nl_cache_free(cache);
	nl_socket_free(sk);
}

/* Remove the sl_* entries of dir, then dir itself when that left it empty. */
static void remove_pin_dir(const char *dir, struct tally *t)
{
	char path[PATH_MAX];
	struct dirent *de;
	int left = 0;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno != ENOENT) {
			pr_err("cleanup: %s: open: %s", dir, strerror(errno));
			fail(t, -errno);
		}
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strncmp(de->d_name, "sl_", 3)) {
			left++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && errno != ENOENT) {
			pr_err("cleanup: %s: remove: %s", path, strerror(errno));
			fail(t, -errno);
			left++;
			continue;
		}
		t->removed++;
	}
	closedir(d);
	if (left) {
		pr_warn("cleanup: %s: %d entries that are not ours left in place", dir, left);
		return;
	}
	if (rmdir(dir) && errno != ENOENT) {
		pr_err("cleanup: %s: remove: %s", dir, strerror(errno));
		fail(t, -errno);
		return;
	}
	pr_info("cleanup: removed pins under %s", dir);
}

/* 4. Pins of every ABI version under --bpffs, then --bpffs itself when empty. */
static void remove_pins(const struct sl_config *c, struct tally *t)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st, up;
	DIR *d = opendir(c->bpffs);

	if (!d) {
		if (errno != ENOENT) {
			pr_err("cleanup: %s: open: %s", c->bpffs, strerror(errno));
			fail(t, -errno);
		}
		return;
	}
	while ((de = readdir(d))) {
		if (!is_pin_dir_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->bpffs, de->d_name);
		remove_pin_dir(path, t);
	}
	closedir(d);
	/* The root goes only when empty, not a mount point, and never /sys/fs/bpf itself. */
	snprintf(path, sizeof(path), "%s/..", c->bpffs);
	if (strcmp(c->bpffs, "/sys/fs/bpf") && !stat(c->bpffs, &st) && !stat(path, &up) &&
	    st.st_dev == up.st_dev && !rmdir(c->bpffs))
		pr_info("cleanup: removed %s", c->bpffs);
}

/* 5. The state dir's files (the names the agent writes), then the dir when empty. */
static void remove_state(const struct sl_config *c, struct tally *t)
{
	static const char *const names[] = {
	    SL_AGENT_SOCK_NAME, SL_STATE_FILE,	"." SL_STATE_FILE ".tmp",
	    "agent.lock",	"monitor.lock", /* sluicectl monitor's */
	};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, names[i]);
		if (!unlink(path)) {
			t->removed++;
			continue;
		}
		if (errno != ENOENT) {
			pr_err("cleanup: %s: remove: %s", path, strerror(errno));
			fail(t, -errno);
		}
	}
	if (!rmdir(c->state_dir))
		pr_info("cleanup: removed %s", c->state_dir);
	else if (errno == ENOTEMPTY || errno == EEXIST)
		pr_warn("cleanup: %s: files that are not ours left in place", c->state_dir);
}

int sl_cleanup(const struct sl_config *c)
{
	struct tally t = {};
	int err;

	err = check_no_agent(c);
	if (err)
		return err;
	remove_conflist(c, &t);
	remove_filters(&t);
	remove_routes(&t);
	remove_pins(c, &t);
	remove_state(c, &t);
	if (t.err) {
		pr_err("cleanup: incomplete (%d things removed): %s; run it again once fixed",
		       t.removed, strerror(-t.err));
		return t.err;
	}
	if (t.removed)
		pr_info("cleanup: done, %d things removed", t.removed);
	else
		pr_info("cleanup: nothing of Sluice's was left on this node");
	return 0;
}
