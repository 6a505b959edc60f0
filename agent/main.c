// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * main.c - sluice-agent: flags, the mode, start-up order, signals.
 *
 * Start-up: lock the state dir, serve the health endpoints, sysctls, load the datapath
 * (reusing pins; one agent per pin dir), recover and reconcile endpoints, serve the socket,
 * start the mode, write the conflist, ready. SIGTERM/SIGINT: stop serving and exit 0, leaving pins,
 * programs, map entries and the conflist in place, so pods keep their traffic across a restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent.h"
#include "agent_proto.h"
#include "api.h"
#include "cleanup.h"
#include "conflist.h"
#include "ct_gc.h"
#include "endpoints.h"
#include "fsutil.h"
#include "http.h"
#include "log.h"
#include "sysctl.h"

#define EXIT_USAGE 2

static struct sl_agent agent = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Kubernetes mode is agent/k8s_*.c's (issue 5): linked in through agent_k8s_srcs in
 * agent/meson.build, it defines sl_mode_kubernetes; until then, say so plainly. */
extern const struct sl_mode_ops sl_mode_kubernetes __attribute__((weak));

#define SA_TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"

static const struct sl_mode_ops *pick_mode(const struct sl_config *c)
{
	if (sl_config_mode(c) == SL_MODE_STANDALONE)
		return &sl_mode_standalone;
	if (&sl_mode_kubernetes) {
		/* Fail as a usage error, before anything is created, when the source is absent. */
		const char *src = c->kubeconfig ?: SA_TOKEN;

		if (!access(src, R_OK))
			return &sl_mode_kubernetes;
		fprintf(stderr, "sluice-agent: %s: %s: %s\n",
			c->kubeconfig ? "--kubeconfig"
				      : "KUBERNETES_SERVICE_HOST (in-cluster token)",
			src, strerror(errno));
		return NULL;
	}
	fprintf(stderr,
		"sluice-agent: %s: Kubernetes mode is not available yet (it arrives with issue "
		"5); run standalone without --kubeconfig and KUBERNETES_SERVICE_HOST, with "
		"--pod-cidr\n",
		c->kubeconfig ? "--kubeconfig" : "KUBERNETES_SERVICE_HOST");
	return NULL;
}

/* One agent per state dir: the lock lives as long as the process. */
static int lock_state_dir(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/agent.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_err("%s: open: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		if (errno == EWOULDBLOCK)
			pr_err("%s: another sluice-agent is running with --state-dir %s", path,
			       dir);
		else
			pr_err("%s: lock: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	return fd; /* kept open: closing it would drop the lock */
}

int sl_agent_set_ready(struct sl_agent *a)
{
	int err = sl_conflist_write(a->cfg, a->conflist_path, sizeof(a->conflist_path));

	if (err)
		return err;
	atomic_store(&a->ready, true);
	pr_info("ready: node %s, %s mode, pod CIDR %s, %zu endpoints, conflist %s", a->cfg->node,
		a->mode->name, a->cfg->pod_cidr_str, sl_eps_count(a), a->conflist_path);
	return 0;
}

static int run(struct sl_agent *a, const sigset_t *sigs)
{
	int sig, err;

	err = sl_mkdir_p(a->cfg->state_dir, 0700);
	if (err)
		return err;
	err = lock_state_dir(a->cfg->state_dir);
	if (err < 0)
		return err;
	snprintf(a->state_path, sizeof(a->state_path), "%s/%s", a->cfg->state_dir, SL_STATE_FILE);
	snprintf(a->sock_path, sizeof(a->sock_path), "%s/%s", a->cfg->state_dir,
		 SL_AGENT_SOCK_NAME);

	/* Health first: a taken port fails before the datapath is touched; /readyz says 503
	 * until the end of start-up. */
	err = sl_http_start(a);
	if (err)
		return err;
	err = sl_sysctl_apply();
	if (err)
		goto out_http;
	err = sl_datapath_load(&a->dp, a->cfg->bpffs, a->mode != &sl_mode_standalone,
			       a->cfg->xnode_fwd == SL_XNODE_FIB);
	if (err)
		goto out_http;
	err = sl_eps_start(a);
	if (err)
		goto out_dp;
	err = sl_api_start(a);
	if (err)
		goto out_dp;
	sl_ct_gc_start(a); /* agent/ct_gc.c: failing to start it is logged, not fatal */
	if (a->mode->start) {
		err = a->mode->start(a);
		if (err)
			goto out_api;
	}
	if (!a->mode->ready_later) {
		err = sl_agent_set_ready(a);
		if (err)
			goto out_mode;
	}

	for (;;) {
		if (sigwait(sigs, &sig))
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	pr_info("signal %d: stopping; pins, programs, endpoints and the conflist stay", sig);
	atomic_store(&a->stopping, true);
	err = 0;
out_mode:
	if (a->mode->stop)
		a->mode->stop(a);
out_api:
	sl_ct_gc_stop();
	sl_api_stop(a);
out_dp:
	sl_datapath_close(&a->dp);
out_http:
	sl_http_stop();
	return err;
}

int main(int argc, char **argv)
{
	static struct sl_config cfg;
	char why[512];
	sigset_t sigs;
	int err;

	if (sl_config_parse(&cfg, argc, argv, why, sizeof(why))) {
		fprintf(stderr, "sluice-agent: %s\n", why);
		return EXIT_USAGE;
	}
	if (cfg.help) {
		sl_config_usage(stdout, "sluice-agent");
		return 0;
	}
	if (cfg.subcommand && !strcmp(cfg.subcommand, "cleanup")) {
		sl_log_set_level(cfg.log_level);
		sl_log_route_libbpf();
		return sl_cleanup(&cfg) ? 1 : 0;
	}
	if (cfg.subcommand) {
		fprintf(stderr, "sluice-agent: '%s': unknown subcommand (see --help)\n",
			cfg.subcommand);
		return EXIT_USAGE;
	}
	sl_log_set_level(cfg.log_level);
	sl_log_route_libbpf();
	/* No fastbins: a list page parsed and trimmed frees hundreds of thousands of small
	 * chunks, and with fastbins every later allocation of a KiB or more (curl's, the caches')
	 * stops to consolidate them all: a third of the start-up CPU at 10,000 pods
	 * (bench/agent-scale). Without them a chunk is merged as it is freed. */
	mallopt(M_MXFAST, 0);
	agent.cfg = &cfg;
	agent.mode = pick_mode(&cfg);
	if (!agent.mode)
		return EXIT_USAGE;

	/* Signals are taken by sigwait() in this thread only; every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = run(&agent, &sigs);
	if (err) {
		pr_err("sluice-agent: exiting: %s", strerror(-err));
		return 1;
	}
	return 0;
}
