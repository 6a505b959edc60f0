// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * migrate.c - upgrade across an ABI change: an agent of ABI N that finds pins of an older
 * version M (<bpffs>/vM/) carries their state into its own maps (<bpffs>/vN/), moves the
 * endpoints' veths onto its programs, and removes the old pins. Conntrack and policy stay in
 * force throughout:
 *
 *   1. our maps are loaded empty under vN (sl_datapath_load) while the old programs keep
 *      running on the veths with the old maps;
 *   2. every entry of every old map is copied into ours, converted (below): endpoints,
 *      identities, policy sets, portsets, conntrack, counters;
 *   3. each tc filter running an old sl_from_pod/sl_to_pod is replaced by ours in place
 *      (BPF_TC_F_REPLACE: no packet sees an empty hook), so a packet meets either the old
 *      program with the old maps or the new program with complete new maps;
 *   4. the hash maps are copied again without overwriting (BPF_NOEXIST): the flows the old
 *      programs created between 2 and 3 join the new conntrack;
 *   5. the old pins are removed: the old programs and maps go with their last reference.
 *
 * Conversion is driven by BTF (every pinned map carries its key and value types): a field of
 * the new struct takes the same-named field of the old one, recursively through structs,
 * unions and arrays; integers and enums of another width are zero-extended or truncated
 * (little-endian), other types are copied when their sizes agree; a field the old layout
 * lacks stays zero, one the new layout dropped is gone. Byte-order types (__be16, ...) must
 * keep their width across versions; a change of meaning, not just of layout, needs its own
 * converter here. Maps without BTF are copied as they are when their sizes agree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sl_abi.h" /* before the skeleton: its rodata uses struct sl_cfg */
#include "datapath.skel.h"
#include "log.h"
#include "migrate.h"
#include "tc_attach.h"

#define LOCK_WAIT_MS 30000 /* a rolling update's old pod may still be exiting */

/* One map's layout as the kernel knows it. */
struct layout {
	struct bpf_map_info info;
	struct btf *btf; /* NULL: the map has no BTF */
};

/* Copy len bytes from src + s to dst + d. */
struct op {
	__u32 s, d, len;
};

struct plan {
	struct op *v;
	size_t n, cap;
	__u32 src_size, dst_size;
	bool identity; /* same size, one op copying everything: memcpy */
};

/* The per-CPU value stride: the kernel rounds values up to 8 bytes. */
static __u32 stride(__u32 size)
{
	return (size + 7) & ~7u;
}

static bool is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool is_hash(__u32 type)
{
	return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH ||
	       type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int plan_add(struct plan *p, __u32 s, __u32 d, __u32 len)
{
	struct op *last = p->n ? &p->v[p->n - 1] : NULL;

	if (!len || s + len > p->src_size || d + len > p->dst_size)
		return 0; /* out of bounds: a bad BTF; leave the bytes zero */
	if (last && last->s + last->len == s && last->d + last->len == d) {
		last->len += len;
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct op *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct op){s, d, len};
	return 0;
}

static bool is_scalar(const struct btf_type *t)
{
	return btf_is_int(t) || btf_is_any_enum(t) || btf_is_ptr(t);
}

/* Plan the copy of old type oid at byte s into new type nid at byte d. */
static int plan_type(struct plan *p, const struct btf *ob, __u32 oid, __u32 s, const struct btf *nb,
		     __u32 nid, __u32 d, int depth)
{
	const struct btf_type *ot, *nt;
	__s64 osz, nsz;
	int err = 0;

	if (depth > 16)
		return 0;
	oid = (__u32)btf__resolve_type(ob, oid);
	nid = (__u32)btf__resolve_type(nb, nid);
	ot = btf__type_by_id(ob, oid);
	nt = btf__type_by_id(nb, nid);
	osz = btf__resolve_size(ob, oid);
	nsz = btf__resolve_size(nb, nid);
	if (!ot || !nt || osz < 0 || nsz < 0)
		return 0;

	if (btf_is_composite(ot) && btf_is_composite(nt)) {
		const struct btf_member *nm = btf_members(nt);

		for (int i = 0; i < btf_vlen(nt) && !err; i++) {
			const char *name = btf__name_by_offset(nb, nm[i].name_off);
			const struct btf_member *om = btf_members(ot);

			if (!name || !name[0] || btf_member_bitfield_size(nt, i))
				continue; /* anonymous members and bitfields: none in sl_abi.h */
			for (int j = 0; j < btf_vlen(ot); j++) {
				const char *oname = btf__name_by_offset(ob, om[j].name_off);

				if (!oname || strcmp(oname, name) ||
				    btf_member_bitfield_size(ot, j))
					continue;
				err = plan_type(
				    p, ob, om[j].type, s + btf_member_bit_offset(ot, j) / 8, nb,
				    nm[i].type, d + btf_member_bit_offset(nt, i) / 8, depth + 1);
				break;
			}
		}
		return err;
	}
	if (btf_is_array(ot) && btf_is_array(nt)) {
		const struct btf_array *oa = btf_array(ot), *na = btf_array(nt);
		__s64 oe = btf__resolve_size(ob, oa->type), ne = btf__resolve_size(nb, na->type);
		__u32 n = oa->nelems < na->nelems ? oa->nelems : na->nelems;

		if (oe <= 0 || ne <= 0)
			return 0;
		for (__u32 i = 0; i < n && !err; i++)
			err = plan_type(p, ob, oa->type, s + i * (__u32)oe, nb, na->type,
					d + i * (__u32)ne, depth + 1);
		return err;
	}
	if (is_scalar(ot) && is_scalar(nt))
		return plan_add(p, s, d, (__u32)(osz < nsz ? osz : nsz)); /* little-endian */
	if (osz == nsz)
		return plan_add(p, s, d, (__u32)osz);
	return 0;
}

static int plan_build(struct plan *p, const struct layout *o, __u32 oid, __u32 osize,
		      const struct layout *n, __u32 nid, __u32 nsize, const char *what)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->src_size = osize;
	p->dst_size = nsize;
	if (o->btf && n->btf && oid && nid) {
		err = plan_type(p, o->btf, oid, 0, n->btf, nid, 0, 0);
		if (err)
			return err;
	} else if (osize == nsize) {
		err = plan_add(p, 0, 0, osize);
		if (err)
			return err;
	} else {
		pr_err("%s: no BTF and the size changed (%u -> %u): cannot convert", what, osize,
		       nsize);
		return -ENOTSUP;
	}
	p->identity =
	    osize == nsize && p->n == 1 && !p->v[0].s && !p->v[0].d && p->v[0].len == osize;
	return 0;
}

static void plan_apply(const struct plan *p, const void *src, void *dst)
{
	if (p->identity) {
		memcpy(dst, src, p->src_size);
		return;
	}
	memset(dst, 0, p->dst_size);
	for (size_t i = 0; i < p->n; i++)
		memcpy((char *)dst + p->v[i].d, (const char *)src + p->v[i].s, p->v[i].len);
}

static int layout_get(int fd, struct layout *l, const char *what)
{
	__u32 len = sizeof(l->info);
	int err;

	memset(l, 0, sizeof(*l));
	err = bpf_obj_get_info_by_fd(fd, &l->info, &len);
	if (err) {
		pr_err("%s: map info: %s", what, strerror(-err));
		return err;
	}
	if (l->info.btf_id) {
		l->btf = btf__load_from_kernel_by_id(l->info.btf_id);
		if (!l->btf) /* EPERM without CAP_SYS_ADMIN: see manifests/sluice.yaml */
			pr_warn("%s: BTF %u: %s; copying only if the sizes agree", what,
				l->info.btf_id, strerror(errno));
	}
	return 0;
}

/* One map, old -> new. flags: BPF_ANY, or BPF_NOEXIST for the catch-up pass. */
struct map_copy {
	const char *name;
	int ofd, nfd;
	struct layout o, n;
	struct plan key, val;
	int ncpu;
	size_t copied, full;
};

static int copy_entries(struct map_copy *m, __u64 flags)
{
	__u32 ovs = m->o.info.value_size, nvs = m->n.info.value_size;
	int ncpu = is_percpu(m->o.info.type) ? m->ncpu : 1;
	size_t olen = is_percpu(m->o.info.type) ? stride(ovs) * (size_t)ncpu : ovs;
	size_t nlen = is_percpu(m->n.info.type) ? stride(nvs) * (size_t)ncpu : nvs;
	void *ok = calloc(1, m->o.info.key_size), *prev = NULL, *nk = calloc(1, m->n.info.key_size);
	void *ov = calloc(1, olen), *nv = calloc(1, nlen);
	size_t guard = (size_t)m->o.info.max_entries * 2 + 16;
	int err = 0;

	if (!ok || !nk || !ov || !nv) {
		err = -ENOMEM;
		goto out;
	}
	m->copied = m->full = 0;
	while (guard-- && !bpf_map_get_next_key(m->ofd, prev, ok)) {
		prev = ok;
		if (bpf_map_lookup_elem(m->ofd, ok, ov))
			continue; /* gone meanwhile (LRU eviction, conntrack GC) */
		plan_apply(&m->key, ok, nk);
		if (is_percpu(m->o.info.type) && is_percpu(m->n.info.type)) {
			for (int c = 0; c < ncpu; c++)
				plan_apply(&m->val, (char *)ov + (size_t)c * stride(ovs),
					   (char *)nv + (size_t)c * stride(nvs));
		} else {
			plan_apply(&m->val, ov, nv);
		}
		if (!bpf_map_update_elem(m->nfd, nk, nv, flags)) {
			m->copied++;
			continue;
		}
		if (errno == EEXIST)
			continue;
		if (errno == E2BIG || errno == ENOMEM) {
			m->full++; /* the new map is smaller: like an eviction */
			continue;
		}
		err = -errno;
		pr_err("%s: copy an entry into the new map: %s", m->name, strerror(errno));
		break;
	}
out:
	free(ok);
	free(nk);
	free(ov);
	free(nv);
	return err;
}

static void map_copy_free(struct map_copy *m)
{
	if (m->ofd >= 0)
		close(m->ofd);
	btf__free(m->o.btf);
	btf__free(m->n.btf);
	free(m->key.v);
	free(m->val.v);
}

/* Copy every map of ours that the old dir also has; *out gets the prepared copies (for the
 * catch-up pass), *nout their number. */
static int copy_maps(struct sl_datapath *dp, const char *old_dir, struct map_copy **out,
		     size_t *nout)
{
	struct map_copy *v = NULL;
	struct bpf_map *map;
	char path[PATH_MAX];
	size_t n = 0;
	int err = 0, ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	bpf_object__for_each_map (map, dp->skel->obj) {
		struct map_copy *m, *nv;

		if (!bpf_map__pin_path(map) || bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
			continue; /* internal maps; the event ring holds nothing to keep */
		snprintf(path, sizeof(path), "%s/%s", old_dir, bpf_map__name(map));
		if (access(path, F_OK))
			continue; /* new in this version: stays empty */
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			err = -ENOMEM;
			break;
		}
		v = nv;
		m = &v[n++];
		memset(m, 0, sizeof(*m));
		m->name = bpf_map__name(map);
		m->nfd = bpf_map__fd(map);
		m->ncpu = ncpu;
		m->ofd = bpf_obj_get(path);
		if (m->ofd < 0) {
			err = -errno;
			pr_err("%s: open pin: %s", path, strerror(errno));
			break;
		}
		err = layout_get(m->ofd, &m->o, path);
		if (!err)
			err = layout_get(m->nfd, &m->n, m->name);
		if (err)
			break;
		if (is_percpu(m->o.info.type) != is_percpu(m->n.info.type)) {
			pr_warn("%s: changed between per-CPU and shared values: not copied",
				m->name);
			continue;
		}
		err = plan_build(&m->key, &m->o, m->o.info.btf_key_type_id, m->o.info.key_size,
				 &m->n, m->n.info.btf_key_type_id, m->n.info.key_size, m->name);
		if (!err)
			err = plan_build(&m->val, &m->o, m->o.info.btf_value_type_id,
					 m->o.info.value_size, &m->n, m->n.info.btf_value_type_id,
					 m->n.info.value_size, m->name);
		if (!err)
			err = copy_entries(m, BPF_ANY);
		if (err)
			break;
		pr_info("%s: %zu entries migrated (key %u -> %u bytes, value %u -> %u bytes%s)%s",
			m->name, m->copied, m->o.info.key_size, m->n.info.key_size,
			m->o.info.value_size, m->n.info.value_size,
			m->key.identity && m->val.identity ? ", same layout" : ", converted",
			m->full ? ": some did not fit the new map" : "");
	}
	*out = v;
	*nout = n;
	return err;
}

static int prog_id_of(int fd, __u32 *id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(fd, &info, &len);

	if (err)
		return err;
	*id = info.id;
	if (name)
		memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	return 0;
}

/* Step 3: every filter of ours running an sl_from_pod/sl_to_pod other than ours gets ours. */
static int move_filters(struct sl_datapath *dp, int *moved)
{
	static const struct {
		enum bpf_tc_attach_point where;
		const char *prog;
	} hooks[] = {{BPF_TC_INGRESS, "sl_from_pod"}, {BPF_TC_EGRESS, "sl_to_pod"}};
	struct if_nameindex *ifs = if_nameindex(), *i;
	int fds[2] = {dp->from_pod_fd, dp->to_pod_fd}, err = 0, first = 0;
	__u32 ours[2];

	if (!ifs) {
		pr_err("migrate: list links: %s", strerror(errno));
		return -errno;
	}
	for (int h = 0; h < 2 && !err; h++)
		err = prog_id_of(fds[h], &ours[h], NULL);
	for (i = ifs; !err && i->if_index; i++) {
		for (int h = 0; h < 2; h++) {
			char name[BPF_OBJ_NAME_LEN];
			__u32 id;
			int fd;

			if (sl_tc_query((int)i->if_index, hooks[h].where, &id) || !id ||
			    id == ours[h])
				continue;
			fd = bpf_prog_get_fd_by_id(id);
			if (fd < 0) {
				pr_err("migrate: %s: program %u: open: %s", i->if_name, id,
				       strerror(errno));
				first = first ?: -errno;
				continue;
			}
			err = prog_id_of(fd, &id, name);
			close(fd);
			if (err || strcmp(name, hooks[h].prog)) {
				err = 0;
				continue; /* not ours */
			}
			err = sl_tc_attach((int)i->if_index, hooks[h].where, fds[h]);
			if (err) {
				first = first ?: err;
				err = 0;
				continue;
			}
			(*moved)++;
		}
	}
	if_freenameindex(ifs);
	return err ?: first;
}

static int remove_old_pins(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "sl_", 3))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && errno != ENOENT) {
			err = err ?: -errno;
			pr_err("%s: remove: %s", path, strerror(errno));
		}
	}
	closedir(d);
	if (!err && rmdir(dir) && errno != ENOENT) {
		err = -errno;
		pr_err("%s: remove: %s (entries that are not ours?)", dir, strerror(errno));
	}
	return err;
}

/* Hold old_dir's lock (its agent is gone): waits up to LOCK_WAIT_MS. fd or -errno. */
static int lock_old(const char *dir)
{
	struct timespec step = {0, 100 * 1000 * 1000};
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), waited = 0;

	if (fd < 0) {
		pr_err("%s: open: %s", dir, strerror(errno));
		return -errno;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS) {
			int err = errno == EWOULDBLOCK ? -EBUSY : -errno;

			pr_err("%s: the agent of that ABI version is still running: stop it first",
			       dir);
			close(fd);
			return err;
		}
		if (!waited)
			pr_info("%s: waiting for the agent of that ABI version to exit", dir);
		nanosleep(&step, NULL);
		waited += 100;
	}
	return fd;
}

static int migrate_one(struct sl_datapath *dp, const char *old_dir)
{
	struct map_copy *maps = NULL;
	size_t n = 0, late = 0;
	int lock, err, moved = 0;

	lock = lock_old(old_dir);
	if (lock < 0)
		return lock;
	pr_info("migrate: %s -> %s", old_dir, dp->pin_dir);
	err = copy_maps(dp, old_dir, &maps, &n);
	if (err)
		goto out;
	err = move_filters(dp, &moved);
	if (err) {
		pr_err("migrate: %d filters moved, some not: %s keeps its pins for the next try",
		       moved, old_dir);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_hash(maps[i].o.info.type) || !maps[i].val.dst_size)
			continue;
		err = copy_entries(&maps[i], BPF_NOEXIST);
		if (err)
			goto out;
		late += maps[i].copied;
	}
	err = remove_old_pins(old_dir);
	if (!err)
		pr_info("migrate: done: %zu maps carried over, %d filters moved to the new "
			"programs, %zu entries created meanwhile caught up, %s removed",
			n, moved, late, old_dir);
out:
	for (size_t i = 0; i < n; i++)
		map_copy_free(&maps[i]);
	free(maps);
	close(lock);
	return err;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int sl_migrate_older(struct sl_datapath *dp)
{
	int vers[64], nv = 0, err = 0;
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dp->root);

	if (!d) {
		pr_err("%s: open: %s", dp->root, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) && nv < 64) {
		char *end;
		long v;

		if (de->d_name[0] != 'v' || !de->d_name[1])
			continue;
		v = strtol(de->d_name + 1, &end, 10);
		if (*end || v <= 0 || v == SL_ABI_VERSION)
			continue;
		if (v > SL_ABI_VERSION) {
			pr_warn("%s/%s: pins of a newer ABI version (downgrade?): left alone; "
				"`sluice-agent cleanup` removes them",
				dp->root, de->d_name);
			continue;
		}
		vers[nv++] = (int)v;
	}
	closedir(d);
	/* Oldest first, so the newest old state is copied last and wins. */
	qsort(vers, (size_t)nv, sizeof(vers[0]), cmp_int);
	for (int i = 0; i < nv && !err; i++) {
		snprintf(dir, sizeof(dir), "%s/v%d", dp->root, vers[i]);
		err = migrate_one(dp, dir);
	}
	return err;
}
