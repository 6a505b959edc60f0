// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * routes_unit.c - agent/routes.c and agent/routes_k8s.c in a private network namespace
 * (unshare: nothing to clean up, it dies with the process): routes to other nodes' pod ranges
 * are added, follow a changed InternalIP, go with their node, stale ones of an earlier run are
 * removed, and routes that are not ours (same prefix at metric 0 or at the sandbox's fallback
 * metric, other prefixes, the kernel's) are never touched. Also Node object decoding.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "routes.h"
#include "routes_k8s.h"
#include "sl_check.h"

/* The main table, one route per line, as `ip -4 route show` prints it. */
static char table[8192];

static void read_table(void)
{
	FILE *f = popen("ip -4 route show table main", "r");
	size_t n = f ? fread(table, 1, sizeof(table) - 1, f) : 0;

	table[n] = '\0';
	if (f)
		pclose(f);
}

/* Is there a line starting with want (a full route up to its end, trailing space ignored)? */
static int has_route(const char *want)
{
	const char *p = table;
	size_t n = strlen(want);

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && !strncmp(p, want, n))
			return 1;
		p = eol ? eol + 1 : NULL;
	}
	return 0;
}

static int count_ours(void)
{
	int n = 0;

	for (const char *p = table; (p = strstr(p, "proto 92")); p++)
		n++;
	return n;
}

static struct sl_node_route node(const char *name, const char *cidr, int len, const char *ip)
{
	struct sl_node_route r = {.pod_cidr_len = (uint8_t)len};

	snprintf(r.name, sizeof(r.name), "%s", name);
	inet_pton(AF_INET, cidr, &r.pod_cidr);
	inet_pton(AF_INET, ip, &r.node_ip);
	return r;
}

#define R2	  "10.244.2.0/24 via 10.77.0.2 dev v0 proto 92"
#define R3	  "10.244.3.0/24 via 10.77.0.3 dev v0 proto 92"
#define R33	  "10.244.3.0/24 via 10.77.0.33 dev v0 proto 92"
#define FALLBACK2 "10.244.2.0/24 via 10.77.0.2 dev v0 proto static metric 1000"
#define FOREIGN9  "10.244.9.0/24 via 10.77.0.9 dev v0 proto static"
#define KERNEL	  "10.77.0.0/24 dev v0 proto kernel scope link src 10.77.0.1"

static void test_sync(void)
{
	struct sl_node_route n[6];
	int err;

	/* What an earlier run and others left: a stale route of ours, an administrator's route,
	 * the sandbox's fallback under ours. */
	sh("ip route add 10.244.7.0/24 via 10.77.0.7 proto 92");
	sh("ip route add 10.244.9.0/24 via 10.77.0.9 proto static");
	sh("ip route add 10.244.2.0/24 via 10.77.0.2 proto static metric 1000");

	n[0] = node("n1", "10.244.1.0", 24, "10.77.0.1");
	n[1] = node("n2", "10.244.2.0", 24, "10.77.0.2");
	n[2] = node("n3", "10.244.3.0", 24, "10.77.0.3");
	err = sl_routes_sync(n, 3, "n1");
	read_table();
	EXPECT(err == 0, "first sync succeeds");
	EXPECT(has_route(R2), "route to n2's pods via n2");
	EXPECT(has_route(R3), "route to n3's pods via n3");
	EXPECT(!strstr(table, "10.244.1.0/24"), "no route to our own pod range");
	EXPECT(!strstr(table, "10.244.7.0/24"), "stale route of an earlier run removed");
	EXPECT(has_route(FOREIGN9), "an administrator's route untouched");
	EXPECT(has_route(FALLBACK2), "the fallback route at metric 1000 untouched");
	EXPECT(has_route(KERNEL), "the kernel's route untouched");
	EXPECT(count_ours() == 2, "exactly two routes of ours");

	err = sl_routes_sync(n, 3, "n1");
	read_table();
	EXPECT(err == 0 && has_route(R2) && has_route(R3) && count_ours() == 2,
	       "same nodes again: nothing changes");

	n[2] = node("n3", "10.244.3.0", 24, "10.77.0.33");
	err = sl_routes_sync(n, 3, "n1");
	read_table();
	EXPECT(err == 0 && has_route(R33) && !has_route(R3),
	       "changed InternalIP: next hop follows");
	EXPECT(count_ours() == 2, "still exactly two routes of ours");

	err = sl_routes_sync(n + 1, 1, "n1"); /* n3 deleted; self absent from the list */
	read_table();
	EXPECT(err == 0 && has_route(R2) && !strstr(table, "10.244.3.0/24"),
	       "deleted node: route gone");

	err = sl_routes_sync(n, 1, "n1"); /* n2 deleted too */
	read_table();
	EXPECT(err == 0 && count_ours() == 0, "every other node deleted: no route of ours left");
	EXPECT(has_route(FALLBACK2), "fallback still there after ours went");

	/* A node whose range another route holds at metric 0: refused, others still done. */
	n[0] = node("n9", "10.244.9.0", 24, "10.77.0.99");
	n[1] = node("n2", "10.244.2.0", 24, "10.77.0.2");
	err = sl_routes_sync(n, 2, "n1");
	read_table();
	EXPECT(err == -EEXIST, "conflict with a route not ours is reported");
	EXPECT(has_route(FOREIGN9), "the route not ours is not taken over");
	EXPECT(has_route(R2), "the other node is routed despite the conflict");

	/* Two nodes claiming one range: the first wins. Unreachable next hop: an error, the rest
	 * still done. Garbage prefix length: skipped. */
	n[0] = node("n4", "10.244.4.0", 24, "10.77.0.4");
	n[1] = node("n5", "10.244.4.0", 24, "10.77.0.5");
	n[2] = node("n6", "10.244.6.0", 24, "192.0.2.1");
	n[3] = node("n2", "10.244.2.0", 24, "10.77.0.2");
	n[4] = node("n8", "10.244.8.0", 0, "10.77.0.8");
	err = sl_routes_sync(n, 5, "n1");
	read_table();
	EXPECT(err != 0, "unreachable next hop is reported");
	EXPECT(has_route("10.244.4.0/24 via 10.77.0.4 dev v0 proto 92"),
	       "first claim of a range wins");
	EXPECT(!strstr(table, "10.77.0.5"), "second claim of the same range ignored");
	EXPECT(has_route(R2), "others routed despite the failure");
	EXPECT(!strstr(table, "10.244.8.0"), "node with no usable range skipped");
	EXPECT(count_ours() == 2, "two routes of ours");

	err = sl_routes_flush();
	read_table();
	EXPECT(err == 0 && count_ours() == 0, "flush removes every route of ours");
	EXPECT(has_route(FOREIGN9) && has_route(FALLBACK2) && has_route(KERNEL),
	       "flush leaves every other route");
}

static int decode(const char *json, struct sl_node_route *r)
{
	cJSON *o = cJSON_Parse(json);
	int err = o ? sl_node_route_decode(o, r) : -99;

	cJSON_Delete(o);
	return err;
}

static void test_decode(void)
{
	struct sl_node_route r;
	char a[INET_ADDRSTRLEN];

	EXPECT(
	    decode("{\"metadata\":{\"name\":\"node-2\"},\"spec\":{\"podCIDR\":\"10.244.2.0/24\"},"
		   "\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"node-2\"},"
		   "{\"type\":\"InternalIP\",\"address\":\"10.200.0.2\"}]}}",
		   &r) == 0,
	    "decode a Node");
	EXPECT(!strcmp(r.name, "node-2"), "decoded name");
	EXPECT(r.pod_cidr_len == 24 &&
		   !strcmp(inet_ntop(AF_INET, &r.pod_cidr, a, sizeof(a)), "10.244.2.0"),
	       "decoded podCIDR");
	EXPECT(!strcmp(inet_ntop(AF_INET, &r.node_ip, a, sizeof(a)), "10.200.0.2"),
	       "decoded InternalIP (not the Hostname)");

	EXPECT(
	    decode("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[\"fd00::/64\","
		   "\"10.1.2.3/16\"]},\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
		   "\"address\":\"fd00::1\"},{\"type\":\"InternalIP\",\"address\":\"10.0.0.9\"}]}}",
		   &r) == 0,
	    "dual-stack Node: the IPv4 range and address");
	EXPECT(r.pod_cidr_len == 16 &&
		   !strcmp(inet_ntop(AF_INET, &r.pod_cidr, a, sizeof(a)), "10.1.0.0"),
	       "host bits of a podCIDR cleared");
	EXPECT(!strcmp(inet_ntop(AF_INET, &r.node_ip, a, sizeof(a)), "10.0.0.9"),
	       "IPv4 InternalIP chosen");

	EXPECT(decode("{\"metadata\":{\"name\":\"n\"},\"spec\":{},\"status\":{\"addresses\":"
		      "[{\"type\":\"InternalIP\",\"address\":\"10.0.0.9\"}]}}",
		      &r) == -ENOENT,
	       "no podCIDR yet: -ENOENT");
	EXPECT(
	    decode(
		"{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.0.0.0/24\"},"
		"\"status\":{\"addresses\":[{\"type\":\"ExternalIP\",\"address\":\"1.2.3.4\"}]}}",
		&r) == -ENOENT,
	    "no InternalIP: -ENOENT");
	EXPECT(decode("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.0.0.0/40\"}}",
		      &r) == -EINVAL,
	       "bad prefix length: -EINVAL");
	EXPECT(decode("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"ten/8\"}}", &r) ==
		   -EINVAL,
	       "bad address: -EINVAL");
	EXPECT(decode("{\"spec\":{\"podCIDR\":\"10.0.0.0/8\"}}", &r) == -EINVAL,
	       "no name: -EINVAL");
}

int main(void)
{
	sl_log_set_level(getenv("SL_TEST_VERBOSE") ? SL_LOG_DEBUG : SL_LOG_ERR);
	test_decode();
	if (geteuid()) {
		printf("%d passed, %d failed (netns part skipped: needs root)\n", passed, failed);
		return failed ? 1 : 77;
	}
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	if (sh("ip link set lo up && ip link add v0 type veth peer name v1 && ip link set v0 up && "
	       "ip link set v1 up && ip addr add 10.77.0.1/24 dev v0"))
		return 1;
	test_sync();
	return report();
}
