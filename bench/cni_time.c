/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cni_time.c - time CNI ADD as a container runtime sees it: exec the plugin with the CNI_*
 * environment and the network config on stdin, read its result, wait for it to exit. The
 * clock runs from just before the spawn to just after the exit, as a runtime's would. After
 * each timed ADD an untimed DEL releases the attachment, so the pod netns is reused.
 *
 *   sl-bench-cni-time -p PLUGIN -c CONF -n NETNS [-i IFNAME] [-P CNI_PATH] [-k COUNT] [-x ID]
 *
 * Prints one line per ADD: its latency in microseconds. Exits 1 on the first failed command,
 * with the plugin's output on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define OUT_MAX (64 * 1024)

struct run {
	const char *plugin;
	const char *netns;
	const char *ifname;
	const char *cni_path;
	const char *id_prefix;
	char *conf;
	size_t conf_len;
	long count;
};

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0, cap = 4096;
	char *b, *nb;

	if (!f)
		return -errno;
	b = malloc(cap);
	while (b) {
		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		nb = realloc(b, cap);
		if (!nb)
			free(b);
		b = nb;
	}
	fclose(f);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*len = n;
	return 0;
}

/*
 * Run the plugin once: config on stdin, result into out (NUL-terminated). Returns the plugin's
 * exit status (0 = success), or -errno if it could not be run.
 */
static int exec_plugin(const struct run *r, const char *cmd, const char *id, long i, char *out)
{
	char v_cmd[64], v_id[256], v_netns[512], v_if[64], v_path[1024], v_args[1024];
	char *argv[] = {(char *)r->plugin, NULL};
	int in_pipe[2], out_pipe[2], status, err;
	posix_spawn_file_actions_t fa;
	size_t n_env = 0, n = 0, k;
	char **envp;
	ssize_t got;
	pid_t pid;

	while (environ[n_env])
		n_env++;
	envp = calloc(n_env + 7, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (k = 0; k < n_env; k++) {
		if (strncmp(environ[k], "CNI_", 4))
			envp[n++] = environ[k];
	}
	snprintf(v_cmd, sizeof(v_cmd), "CNI_COMMAND=%s", cmd);
	snprintf(v_id, sizeof(v_id), "CNI_CONTAINERID=%s", id);
	snprintf(v_netns, sizeof(v_netns), "CNI_NETNS=%s", r->netns);
	snprintf(v_if, sizeof(v_if), "CNI_IFNAME=%s", r->ifname);
	snprintf(v_path, sizeof(v_path), "CNI_PATH=%s", r->cni_path);
	/* What containerd and CRI-O pass for a Kubernetes pod. */
	snprintf(v_args, sizeof(v_args),
		 "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod-%ld;"
		 "K8S_POD_INFRA_CONTAINER_ID=%s",
		 i, id);
	envp[n++] = v_cmd;
	envp[n++] = v_id;
	envp[n++] = v_netns;
	envp[n++] = v_if;
	envp[n++] = v_path;
	envp[n++] = v_args;

	if (pipe2(in_pipe, O_CLOEXEC)) {
		free(envp);
		return -errno;
	}
	if (pipe2(out_pipe, O_CLOEXEC)) {
		err = -errno;
		close(in_pipe[0]);
		close(in_pipe[1]);
		free(envp);
		return err;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
	err = -posix_spawn(&pid, r->plugin, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(in_pipe[0]);
	close(out_pipe[1]);
	if (err) {
		close(in_pipe[1]);
		close(out_pipe[0]);
		fprintf(stderr, "%s: spawn: %s\n", r->plugin, strerror(-err));
		return err;
	}
	/* The config is far smaller than a pipe's buffer: this write never blocks. */
	if (write(in_pipe[1], r->conf, r->conf_len) != (ssize_t)r->conf_len)
		fprintf(stderr, "%s: write config: %s\n", r->plugin, strerror(errno));
	close(in_pipe[1]);
	n = 0;
	while ((got = read(out_pipe[0], out + n, OUT_MAX - 1 - n)) > 0)
		n += got;
	out[n] = '\0';
	close(out_pipe[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(const struct run *r)
{
	char id[200], *out;
	long long t0, t1;
	int st, err = 0;
	long i;

	out = malloc(OUT_MAX);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < r->count && !err; i++) {
		snprintf(id, sizeof(id), "%s%08lx", r->id_prefix, i);
		t0 = now_us();
		st = exec_plugin(r, "ADD", id, i, out);
		t1 = now_us();
		if (st) {
			fprintf(stderr, "%s: ADD %s: exit %d: %s\n", r->plugin, id, st, out);
			err = -EIO;
		} else {
			printf("%lld\n", t1 - t0);
			fflush(stdout);
		}
		/* Always DEL, also after a failed ADD: DEL is idempotent and cleans up. */
		st = exec_plugin(r, "DEL", id, i, out);
		if (st) {
			fprintf(stderr, "%s: DEL %s: exit %d: %s\n", r->plugin, id, st, out);
			err = -EIO;
		}
	}
	free(out);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sl-bench-cni-time -p PLUGIN -c CONF -n NETNS [-i IFNAME] [-P CNI_PATH]\n"
		   "                         [-k COUNT] [-x ID_PREFIX]\n");
}

int main(int argc, char **argv)
{
	struct run r = {
	    .ifname = "eth0",
	    .cni_path = "/usr/lib/cni",
	    .id_prefix = "slbench",
	    .count = 10,
	};
	const char *conf_path = NULL;
	char *end;
	int opt, err;

	while ((opt = getopt(argc, argv, "p:c:n:i:P:k:x:h")) != -1) {
		switch (opt) {
		case 'p':
			r.plugin = optarg;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'n':
			r.netns = optarg;
			break;
		case 'i':
			r.ifname = optarg;
			break;
		case 'P':
			r.cni_path = optarg;
			break;
		case 'k':
			r.count = strtol(optarg, &end, 10);
			if (*end || r.count < 1 || r.count > 100000) {
				fprintf(stderr, "-k: expected a count in [1, 100000], got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'x':
			r.id_prefix = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !r.plugin || !conf_path || !r.netns) {
		usage(stderr);
		return 2;
	}
	if (access(r.plugin, X_OK)) {
		fprintf(stderr, "%s: not executable: %s\n", r.plugin, strerror(errno));
		return 2;
	}
	err = read_file(conf_path, &r.conf, &r.conf_len);
	if (err) {
		fprintf(stderr, "%s: read: %s\n", conf_path, strerror(-err));
		return 2;
	}
	err = run(&r);
	free(r.conf);
	return err ? 1 : 0;
}
