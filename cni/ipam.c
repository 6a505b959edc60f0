// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ipam.c - delegation to the IPAM plugin (SPEC.md §4): the binary named by ipam.type, found in
 * CNI_PATH, run with our environment (CNI_COMMAND and the attachment's identifiers) and the
 * complete config on stdin, at the highest spec version its VERSION lists. Its errors are
 * passed on with their code; its stderr is ours.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_proto.h" /* sl_now_ms */
#include "cni.h"
#include "log.h"

static int find_plugin(const struct cni_args *a, const char *type, char *out, size_t size,
		       struct cni_error *e)
{
	const char *p = a->path, *end;
	struct stat st;

	while (p && *p) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end > p) {
			snprintf(out, size, "%.*s/%s", (int)(end - p), p, type);
			if (!stat(out, &st) && S_ISREG(st.st_mode) && !access(out, X_OK))
				return 0;
		}
		p = *end ? end + 1 : end;
	}
	return cni_err(e, -ENOENT, CNI_ERR_CONFIG,
		       "ipam.type \"%s\": no such plugin in CNI_PATH \"%.300s\"", type,
		       a->path ? a->path : "");
}

/* Our env minus CNI_*, plus the CNI_* of this call. Caller frees the array (not strings). */
static char **make_env(const struct cni_args *a, const char *cmd, const struct sl_ipam_call *call,
		       char (*bufs)[4160])
{
	const char *vals[6][2] = {
	    {"CNI_COMMAND", cmd},
	    {"CNI_CONTAINERID", call->container_id ? call->container_id : a->container_id},
	    {"CNI_NETNS", call->netns ? call->netns : a->netns},
	    {"CNI_IFNAME", call->ifname ? call->ifname : a->ifname},
	    {"CNI_ARGS", a->args},
	    {"CNI_PATH", a->path},
	};
	size_t n = 0, i, k = 0;
	char **env;

	for (i = 0; a->environ && a->environ[i]; i++)
		n++;
	env = calloc(n + 7, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; a->environ && a->environ[i]; i++)
		if (strncmp(a->environ[i], "CNI_", 4))
			env[k++] = a->environ[i];
	for (i = 0; i < 6; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "%s=%s", vals[i][0],
			 vals[i][1] ? vals[i][1] : "");
		env[k++] = bufs[i];
	}
	return env;
}

/* Start path with env and stdin; its stdout is read by collect(). */
static int spawn(const char *path, char **env, const char *in, struct sl_ipam_job *j)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {(char *)path, NULL};
	int infd, pipefd[2], err;

	j->deadline = sl_now_ms() + SL_IPAM_TIMEOUT_MS;
	infd = memfd_create("sluice-ipam-stdin", MFD_CLOEXEC);
	if (infd < 0)
		return -errno;
	if (write(infd, in, strlen(in)) != (ssize_t)strlen(in) || lseek(infd, 0, SEEK_SET)) {
		close(infd);
		return -EIO;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		close(infd);
		return -errno;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, infd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	err = -posix_spawn(&j->pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(infd);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		return err;
	}
	j->fd = pipefd[0];
	return 0;
}

/* The started plugin's stdout into *out (malloc'd) and its wait status; it is killed after
 * its deadline. */
static int collect(struct sl_ipam_job *j, char **out, int *status)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	int err = 0;
	ssize_t n;

	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		struct pollfd p = {.fd = j->fd, .events = POLLIN};
		long long left = j->deadline - sl_now_ms();

		/* past the deadline, what it has written already is still read */
		if (poll(&p, 1, left > 0 ? (int)left : 0) == 0) {
			kill(j->pid, SIGKILL); /* a hung IPAM plugin must not hang the runtime */
			err = -ETIMEDOUT;
			break;
		}
		n = read(j->fd, buf + len, cap - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(j->fd);
	j->fd = -1;
	while (waitpid(j->pid, status, 0) < 0 && errno == EINTR)
		;
	j->pid = 0;
	if (err) {
		free(buf);
		return err;
	}
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	*out = buf;
	return buf ? 0 : -ENOMEM;
}

static int exec_start(const struct cni_args *a, const struct sl_conf *c, const char *cmd,
		      const struct sl_ipam_call *call, const char *in, struct sl_ipam_job *j,
		      struct cni_error *e)
{
	char path[PATH_MAX], bufs[6][4160], **env;
	int err;

	j->cmd = cmd;
	j->type = c->ipam_type;
	err = find_plugin(a, c->ipam_type, path, sizeof(path), e);
	if (err)
		return err;
	env = make_env(a, cmd, call, bufs);
	if (!env)
		return cni_err(e, -ENOMEM, SL_ERR_INTERNAL, "ipam: out of memory");
	err = spawn(path, env, in, j);
	free(env);
	if (err)
		return cni_err(e, err, SL_ERR_IPAM, "ipam %s: %s: exec %s: %s", c->ipam_type, cmd,
			       path, strerror(-err));
	return 0;
}

/* The started plugin's answer: its JSON output in *res_out (may be NULL), or its error. */
static int exec_finish(struct sl_ipam_job *j, cJSON **res_out, struct cni_error *e)
{
	const cJSON *code, *msg, *details;
	cJSON *res = NULL;
	char *out = NULL;
	int err, status = 0;

	*res_out = NULL;
	err = collect(j, &out, &status);
	if (err == -ETIMEDOUT)
		return cni_err(e, err, CNI_ERR_TRY_AGAIN,
			       "ipam %s: %s: no answer within %d s, killed: try again later",
			       j->type, j->cmd, SL_IPAM_TIMEOUT_MS / 1000);
	if (err)
		return cni_err(e, err, SL_ERR_IPAM, "ipam %s: %s: %s", j->type, j->cmd,
			       strerror(-err));
	res = out[0] ? cJSON_Parse(out) : NULL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		free(out);
		*res_out = res;
		return 0;
	}
	code = cJSON_GetObjectItemCaseSensitive(res, "code");
	msg = cJSON_GetObjectItemCaseSensitive(res, "msg");
	details = cJSON_GetObjectItemCaseSensitive(res, "details");
	if (cJSON_IsNumber(code) && code->valueint > 0) {
		err = cni_err(e, -EREMOTEIO, code->valueint, "ipam %s: %s: %s", j->type, j->cmd,
			      cJSON_IsString(msg) ? msg->valuestring : "failed");
		if (cJSON_IsString(details) && details->valuestring[0])
			cni_err_details(e, "%s", details->valuestring);
	} else {
		err =
		    cni_err(e, -EREMOTEIO, SL_ERR_IPAM,
			    "ipam %s: %s: exited with status %d: %.200s", j->type, j->cmd,
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out);
	}
	cJSON_Delete(res);
	free(out);
	return err;
}

static int exec_plugin(const struct cni_args *a, const struct sl_conf *c, const char *cmd,
		       const struct sl_ipam_call *call, const char *in, cJSON **res_out,
		       struct cni_error *e)
{
	struct sl_ipam_job j = {.fd = -1};
	int err = exec_start(a, c, cmd, call, in, &j, e);

	return err ? err : exec_finish(&j, res_out, e);
}

/* VERSION answers are cached per binary (inode, size, mtime): ADD latency matters. */
static int cache_path(const struct sl_conf *c, const char *bin, char *out, size_t size, char *key,
		      size_t ksize)
{
	struct stat st;

	if (stat(bin, &st))
		return -errno;
	snprintf(key, ksize, "%llu %lld %lld.%09ld", (unsigned long long)st.st_ino,
		 (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	snprintf(out, size, "%s/ipam-version-%s", c->state_dir, c->ipam_type);
	return 0;
}

int sl_ipam_version(const struct cni_args *a, const struct sl_conf *c, int *ver,
		    struct cni_error *e)
{
	char bin[PATH_MAX], cpath[PATH_MAX], key[96], line[160], in[64], tmp[PATH_MAX + 16];
	struct sl_ipam_call call = {0};
	const cJSON *list, *it;
	cJSON *res = NULL;
	int best = -1, v, fd, err;
	FILE *f;

	err = find_plugin(a, c->ipam_type, bin, sizeof(bin), e);
	if (err)
		return err;
	if (!cache_path(c, bin, cpath, sizeof(cpath), key, sizeof(key)) &&
	    (f = fopen(cpath, "re"))) {
		if (fgets(line, sizeof(line), f) && !strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ' ' && sscanf(line + strlen(key) + 1, "%d", &v) == 1) {
			fclose(f);
			*ver = v;
			return 0;
		}
		fclose(f);
	}

	snprintf(in, sizeof(in), "{\"cniVersion\":\"%s\"}", c->cni_version);
	err = exec_plugin(a, c, "VERSION", &call, in, &res, e);
	if (err)
		return err;
	list = cJSON_GetObjectItemCaseSensitive(res, "supportedVersions");
	cJSON_ArrayForEach (it, list) {
		if (cJSON_IsString(it) && sl_version_supported(it->valuestring) &&
		    (v = sl_version_parse(it->valuestring)) > best)
			best = v;
	}
	cJSON_Delete(res);
	if (best < 0)
		return cni_err(e, -EPROTONOSUPPORT, CNI_ERR_VERSION,
			       "ipam %s: supports none of the versions 0.3.1, 0.4.0, 1.0.0, 1.1.0",
			       c->ipam_type);
	*ver = best;
	/* best effort cache, written atomically; absent stateDir just means no cache */
	snprintf(tmp, sizeof(tmp), "%s.%d", cpath, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "%s %d\n", key, best);
		close(fd);
		if (rename(tmp, cpath))
			unlink(tmp);
	}
	return 0;
}

static void version_str(int v, char out[16])
{
	snprintf(out, 16, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
}

static int parse_result(const struct sl_conf *c, const cJSON *res, struct sl_ipam_result *r,
			struct cni_error *e)
{
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(res, "ips"), *it, *addr, *dst, *dns;
	struct in_addr ia;
	char buf[48], *slash;

	cJSON_ArrayForEach (it, ips) {
		addr = cJSON_GetObjectItemCaseSensitive(it, "address");
		if (!cJSON_IsString(addr) || strlen(addr->valuestring) >= sizeof(buf))
			continue;
		snprintf(buf, sizeof(buf), "%s", addr->valuestring);
		slash = strchr(buf, '/');
		if (!slash)
			continue;
		*slash = '\0';
		if (inet_pton(AF_INET, buf, &ia) != 1)
			continue; /* IPv6: not supported yet, ignored */
		snprintf(r->ip, sizeof(r->ip), "%s", buf);
		r->prefix = atoi(slash + 1);
		break;
	}
	if (!r->ip[0])
		return cni_err(e, -EADDRNOTAVAIL, SL_ERR_IPAM, "ipam %s: returned no IPv4 address",
			       c->ipam_type);
	cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(res, "routes")) {
		dst = cJSON_GetObjectItemCaseSensitive(it, "dst");
		if (!cJSON_IsString(dst) || strchr(dst->valuestring, ':') ||
		    strlen(dst->valuestring) >= sizeof(r->routes[0].dst))
			continue;
		if (r->nroutes == (int)(sizeof(r->routes) / sizeof(r->routes[0])))
			return cni_err(e, -E2BIG, SL_ERR_IPAM, "ipam %s: more than %d routes",
				       c->ipam_type, r->nroutes);
		snprintf(r->routes[r->nroutes++].dst, sizeof(r->routes[0].dst), "%s",
			 dst->valuestring);
	}
	dns = cJSON_GetObjectItemCaseSensitive(res, "dns");
	if (cJSON_IsObject(dns))
		r->dns = cJSON_Duplicate(dns, true);
	return 0;
}

int sl_ipam_start(const struct cni_args *a, const struct sl_conf *c,
		  const struct sl_ipam_call *call, struct sl_ipam_job *j, struct cni_error *e)
{
	cJSON *conf;
	char ver[16], *in;
	int v, err;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	err = sl_ipam_version(a, c, &v, e);
	if (err)
		return err;
	version_str(v, ver);
	conf = cJSON_Duplicate(call->conf ? call->conf : c->root, true);
	if (!conf)
		return cni_err(e, -ENOMEM, SL_ERR_INTERNAL, "ipam: out of memory");
	cJSON_ReplaceItemInObjectCaseSensitive(conf, "cniVersion", cJSON_CreateString(ver));
	if (v != c->ver) /* our prevResult is in the runtime's version, not the plugin's */
		cJSON_DeleteItemFromObjectCaseSensitive(conf, "prevResult");
	in = cJSON_PrintUnformatted(conf);
	cJSON_Delete(conf);
	if (!in)
		return cni_err(e, -ENOMEM, SL_ERR_INTERNAL, "ipam: out of memory");
	pr_debug("ipam %s: %s (version %s)", c->ipam_type, call->cmd, ver);
	err = exec_start(a, c, call->cmd, call, in, j, e);
	cJSON_free(in);
	return err;
}

int sl_ipam_finish(struct sl_ipam_job *j, const struct sl_conf *c, struct sl_ipam_result *res,
		   struct cni_error *e)
{
	cJSON *out = NULL;
	int err;

	err = exec_finish(j, &out, e);
	if (!err && res && !strcmp(j->cmd, "ADD")) {
		memset(res, 0, sizeof(*res));
		res->reserved = true; /* it said yes: whatever it printed, DEL must follow */
		if (!out)
			err = cni_err(e, -EPROTO, SL_ERR_IPAM, "ipam %s: ADD: output is not JSON",
				      c->ipam_type);
		else
			err = parse_result(c, out, res, e);
	}
	cJSON_Delete(out);
	return err;
}

int sl_ipam_exec(const struct cni_args *a, const struct sl_conf *c, const struct sl_ipam_call *call,
		 struct sl_ipam_result *res, struct cni_error *e)
{
	struct sl_ipam_job j;
	int err = sl_ipam_start(a, c, call, &j, e);

	return err ? err : sl_ipam_finish(&j, c, res, e);
}

void sl_ipam_result_free(struct sl_ipam_result *r)
{
	cJSON_Delete(r->dns);
	r->dns = NULL;
}
