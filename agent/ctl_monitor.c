// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctl_monitor.c - sluicectl monitor: live drop and verdict events from the pinned ring buffer
 * (sl_events), each decoded to pods, addresses, ports, protocol, verdict, reason and the
 * NetworkPolicy rule that decided it (or, for a default deny, the policies selecting the pod).
 *
 * A BPF ring buffer has one consumer position: two readers would split the events between
 * them, so one monitor runs at a time per node (a lock file in the state dir says so).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_proto.h"
#include "ctl.h"
#include "reasons.h"

enum {
	OPT_POD = 300,
	OPT_NS,
	OPT_VERDICT,
	OPT_TYPE,
	OPT_REASON,
	OPT_COUNT,
	OPT_TIMEOUT,
	OPT_BACKLOG
};

struct mon {
	const char *pod, *ns, *verdict, *type, *reason;
	long count, seen;
	double timeout;
	bool backlog, skipping, done;
	struct sl_dp_maps m;
	struct ctl_names n;
	struct ctl_ids idents, rules, sets;
	long long names_ms; /* when names were last loaded */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int opt_cb(int o, const char *arg, void *ctx)
{
	struct mon *m = ctx;
	char *end;

	switch (o) {
	case OPT_POD:
		if (!strchr(arg, '/'))
			return ctl_usage("monitor", "--pod: '%s' is not NAMESPACE/POD", arg);
		m->pod = arg;
		return 0;
	case 'n':
	case OPT_NS:
		m->ns = arg;
		return 0;
	case OPT_VERDICT:
		if (strcmp(arg, "drop") && strcmp(arg, "allow"))
			return ctl_usage("monitor", "--verdict: '%s' is not drop or allow", arg);
		m->verdict = arg;
		return 0;
	case OPT_TYPE:
		if (strcmp(arg, "drop") && strcmp(arg, "verdict"))
			return ctl_usage("monitor", "--type: '%s' is not drop or verdict", arg);
		m->type = arg;
		return 0;
	case OPT_REASON:
		for (unsigned r = 0; r < __SL_REASON_MAX; r++)
			if (sl_reason_name(r) && !strcmp(sl_reason_name(r), arg)) {
				m->reason = arg;
				return 0;
			}
		return ctl_usage("monitor", "--reason: '%s' is not a reason (see counters --all)",
				 arg);
	case OPT_COUNT:
		errno = 0;
		m->count = strtol(arg, &end, 10);
		if (errno || *end || end == arg || m->count < 1)
			return ctl_usage("monitor", "--count: '%s' is not a positive number", arg);
		return 0;
	case OPT_TIMEOUT:
		errno = 0;
		m->timeout = strtod(arg, &end);
		if (errno || *end || end == arg || m->timeout <= 0)
			return ctl_usage("monitor",
					 "--timeout: '%s' is not a positive number of "
					 "seconds",
					 arg);
		return 0;
	case OPT_BACKLOG:
		m->backlog = true;
		return 0;
	}
	return CTL_USAGE;
}

static void refresh_names(struct mon *m, bool force)
{
	long long now = sl_now_ms();

	if (!force && now - m->names_ms < 500)
		return;
	ctl_names_free(&m->n);
	ctl_names_load(&m->n, &m->idents, &m->rules, &m->sets);
	m->names_ms = now;
}

static void wall_time(__u64 ts_ns, char *buf, size_t len, char *iso, size_t ilen)
{
	struct timespec mono, real;
	struct tm tm;
	double ago;
	time_t sec;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	ago = (double)mono.tv_sec + mono.tv_nsec / 1e9 - (double)ts_ns / 1e9;
	if (ago < 0)
		ago = 0;
	{
		double t = (double)real.tv_sec + real.tv_nsec / 1e9 - ago;

		sec = (time_t)t;
		ms = (long)((t - (double)sec) * 1000);
	}
	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	gmtime_r(&sec, &tm);
	snprintf(iso, ilen, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static bool ns_of(const char *pod, const char *ns)
{
	size_t l = strlen(ns);

	return pod && !strncmp(pod, ns, l) && pod[l] == '/';
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct mon *m = ctx;
	const struct sl_event *e = data;
	char sa[64], da[64], sp[300], dp[300], pb[16], tbuf[32], iso[40], why[600], rb[300],
	    ib[300];
	const char *spod, *dpod, *verdict, *pname;
	bool drop, unknown, fresh;
	cJSON *o;

	if (m->skipping || size < sizeof(*e))
		return 0;
	drop = SL_REASON_IS_DROP(e->reason);
	verdict = drop ? "drop" : "allow";
	/* Names of ids first seen now: ask the agent again (at most twice a second). */
	unknown =
	    (e->rule && !ctl_rule(&m->n, e->rule)) || (e->pol && !ctl_set(&m->n, e->pol)) ||
	    (e->peer_identity >= SL_IDENTITY_FIRST && !ctl_ident(&m->n, e->peer_identity)) ||
	    !ctl_pod_of(&m->n, e->dir == SL_DIR_EGRESS ? &e->saddr : &e->daddr, sp, sizeof(sp));
	fresh = ctl_ids_add(&m->rules, e->rule);
	fresh |= ctl_ids_add(&m->sets, e->pol);
	fresh |= ctl_ids_add(&m->idents, e->peer_identity);
	if (unknown) /* ids never asked about: now; others (new pods): twice a second */
		refresh_names(m, fresh);
	spod = ctl_pod_of(&m->n, &e->saddr, sp, sizeof(sp));
	dpod = ctl_pod_of(&m->n, &e->daddr, dp, sizeof(dp));
	if (m->verdict && strcmp(m->verdict, verdict))
		return 0;
	if (m->type && strcmp(m->type, e->type == SL_EV_DROP ? "drop" : "verdict"))
		return 0;
	if (m->reason && strcmp(m->reason, sl_reason_name(e->reason) ?: ""))
		return 0;
	if (m->pod && !(spod && !strcmp(spod, m->pod)) && !(dpod && !strcmp(dpod, m->pod)))
		return 0;
	if (m->ns && !ns_of(spod, m->ns) && !ns_of(dpod, m->ns))
		return 0;

	wall_time(e->ts_ns, tbuf, sizeof(tbuf), iso, sizeof(iso));
	ctl_addr_str(&e->saddr, sa, sizeof(sa));
	ctl_addr_str(&e->daddr, da, sizeof(da));
	if (e->rule)
		snprintf(why, sizeof(why), "allowed by %s",
			 ctl_rule_str(&m->n, e->rule, rb, sizeof(rb)));
	else if (e->reason == SL_DROP_POLICY || e->reason == SL_DROP_UNKNOWN_L4)
		snprintf(why, sizeof(why), "default deny: %s selected by %s, no rule allows %s",
			 (e->dir == SL_DIR_EGRESS ? spod : dpod) ?: "the pod",
			 ctl_set_str(&m->n, e->pol, rb, sizeof(rb)),
			 ctl_ident_str(&m->n, e->peer_identity, ib, sizeof(ib)));
	else
		snprintf(why, sizeof(why), "%s", sl_reason_help(e->reason));

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "time", iso);
	cJSON_AddStringToObject(o, "type", e->type == SL_EV_DROP ? "drop" : "verdict");
	cJSON_AddStringToObject(o, "verdict", verdict);
	cJSON_AddStringToObject(o, "reason", sl_reason_name(e->reason) ?: "?");
	cJSON_AddStringToObject(o, "direction", sl_dir_name(e->dir));
	pname = ctl_proto_name(e->proto, pb, sizeof(pb));
	cJSON_AddStringToObject(o, "protocol", pname);
	cJSON_AddStringToObject(o, "src", sa);
	cJSON_AddNumberToObject(o, "sport", ntohs(e->sport));
	if (spod)
		cJSON_AddStringToObject(o, "srcPod", spod);
	cJSON_AddStringToObject(o, "dst", da);
	cJSON_AddNumberToObject(o, "dport", ntohs(e->dport));
	if (dpod)
		cJSON_AddStringToObject(o, "dstPod", dpod);
	cJSON_AddNumberToObject(o, "endpoint", e->ep_id);
	cJSON_AddNumberToObject(o, "peerIdentity", e->peer_identity);
	cJSON_AddStringToObject(o, "peer", ctl_ident_str(&m->n, e->peer_identity, ib, sizeof(ib)));
	cJSON_AddNumberToObject(o, "policySet", e->pol);
	cJSON_AddNumberToObject(o, "rule", e->rule);
	if (e->rule && ctl_rule(&m->n, e->rule))
		cJSON_AddItemToObject(o, "policy", cJSON_Duplicate(ctl_rule(&m->n, e->rule), 1));
	if (e->pol && ctl_set(&m->n, e->pol))
		cJSON_AddItemToObject(
		    o, "selectedBy",
		    cJSON_Duplicate(cJSON_GetObjectItem(ctl_set(&m->n, e->pol), "policies"), 1));
	cJSON_AddNumberToObject(o, "bytes", e->len);
	cJSON_AddStringToObject(o, "why", why);

	if (ctl.fmt == CTL_JSON) {
		char *s = cJSON_PrintUnformatted(o);

		if (s)
			puts(s);
		free(s);
	} else if (ctl.fmt == CTL_YAML) {
		puts("---");
		ctl_yaml(stdout, o);
	} else {
		char src[400], dst[400];

		snprintf(src, sizeof(src), "%s:%u%s%s%s", sa, ntohs(e->sport), spod ? " (" : "",
			 spod ?: "", spod ? ")" : "");
		snprintf(dst, sizeof(dst), "%s:%u%s%s%s", da, ntohs(e->dport), dpod ? " (" : "",
			 dpod ?: "", dpod ? ")" : "");
		printf("%s %s%-5s%s %-7s %-4s %s -> %s %s: %s\n", tbuf,
		       ctl_col(drop ? "\033[1;31m" : "\033[32m"), drop ? "DROP" : "ALLOW",
		       ctl_col("\033[0m"), sl_dir_name(e->dir), pname, src, dst,
		       sl_reason_name(e->reason) ?: "?", why);
	}
	cJSON_Delete(o);
	fflush(stdout);
	if (m->count && ++m->seen >= m->count) {
		m->done = true;
		return -EINTR; /* this record is consumed; the rest wait */
	}
	return 0;
}

int ctl_do_monitor(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"pod", required_argument, NULL, OPT_POD},
	    {"namespace", required_argument, NULL, OPT_NS},
	    {"verdict", required_argument, NULL, OPT_VERDICT},
	    {"type", required_argument, NULL, OPT_TYPE},
	    {"reason", required_argument, NULL, OPT_REASON},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"backlog", no_argument, NULL, OPT_BACKLOG},
	    {0},
	};
	struct mon m = {0};
	struct ring_buffer *rb = NULL;
	struct sl_counter lost0 = {0}, lost;
	char lock[PATH_MAX], path[PATH_MAX], **pos;
	long long deadline = 0, next_stats = 0;
	int npos, rc, lfd = -1, err;

	rc = ctl_getopt(argc, argv, "monitor",
			"[--pod NS/POD] [-n NS] [--verdict drop|allow] [--type drop|verdict] "
			"[--reason NAME] [--count N] [--timeout S] [--backlog]",
			"n:", lo, opt_cb, &m, &pos, &npos);
	if (rc)
		return rc < 0 ? CTL_OK : rc;
	if (npos)
		return ctl_usage("monitor", "unexpected argument '%s'", pos[0]);
	rc = ctl_maps_open(&m.m, "monitor");
	if (rc)
		return rc;
	snprintf(lock, sizeof(lock), "%s/monitor.lock", ctl.state_dir);
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB)) {
		rc = ctl_fail("monitor",
			      "another sluicectl monitor is reading this node's events "
			      "(%s): a ring buffer has one reader",
			      lock);
		goto out;
	}
	refresh_names(&m, true);
	rb = ring_buffer__new(m.m.events, on_event, &m, NULL);
	if (!rb) {
		rc = ctl_fail("monitor", "sl_events: ring buffer: %s", strerror(errno));
		goto out;
	}
	if (!m.backlog) { /* live: what waits from before we started is skipped */
		m.skipping = true;
		ring_buffer__consume(rb);
		m.skipping = false;
	}
	ctl_percpu_sum(m.m.ev_stats, SL_EV_STAT_LOST, &lost0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctl_pin_path(path, sizeof(path), "sl_events");
	fprintf(stderr, "sluicectl monitor: reading %s%s\n", path,
		m.n.why[0] ? " (names may be missing: see the note)" : "");
	ctl_names_note(&m.n);
	if (m.timeout)
		deadline = sl_now_ms() + (long long)(m.timeout * 1000);
	while (!stop && !m.done) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			rc = ctl_fail("monitor", "sl_events: poll: %s", strerror(-err));
			goto out;
		}
		if (deadline && sl_now_ms() >= deadline)
			break;
		if (sl_now_ms() >= next_stats) {
			next_stats = sl_now_ms() + 1000;
			if (!ctl_percpu_sum(m.m.ev_stats, SL_EV_STAT_LOST, &lost) &&
			    lost.packets > lost0.packets) {
				fprintf(stderr,
					"sluicectl monitor: %llu events lost (ring buffer "
					"full)\n",
					(unsigned long long)(lost.packets - lost0.packets));
				lost0 = lost;
			}
		}
	}
	rc = CTL_OK;
out:
	ring_buffer__free(rb);
	if (lfd >= 0)
		close(lfd);
	ctl_names_free(&m.n);
	ctl_ids_free(&m.idents);
	ctl_ids_free(&m.rules);
	ctl_ids_free(&m.sets);
	sl_dp_maps_close(&m.m);
	return rc;
}
