// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * main.c - the CNI protocol only: environment and stdin in, result or error JSON out.
 * sl_cni_run() takes everything through struct cni_args, so tests can call it in-process;
 * main() just fills that struct from the real environment and stdin.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "log.h"

extern char **environ;

enum { NEED_ID = 1, NEED_NETNS = 2, NEED_PATH = 4, NEED_IPAM = 8 };

static const struct {
	const char *name;
	int (*fn)(const struct cni_args *a, struct sl_conf *c, struct cni_error *e);
	int needs;
	int min_ver; /* first spec version with this verb */
} cmds[] = {
    {"ADD", cmd_add, NEED_ID | NEED_NETNS | NEED_PATH | NEED_IPAM, 0},
    {"DEL", cmd_del, NEED_ID | NEED_PATH | NEED_IPAM, 0}, /* DEL may come after the netns is gone */
    {"CHECK", cmd_check, NEED_ID | NEED_NETNS | NEED_PATH | NEED_IPAM, 400},
    {"GC", cmd_gc, NEED_PATH | NEED_IPAM, 10100},
    {"STATUS", cmd_status, NEED_PATH, 10100},
};

/* VERSION: env other than CNI_COMMAND is ignored (libcni probes with dummy values). */
static int do_version(const struct cni_args *a)
{
	const char *ver = SL_CNI_VERSION_MAX;
	cJSON *in = NULL, *out, *v, *list;
	char *s;

	if (a->stdin_data && a->stdin_len)
		in = cJSON_ParseWithLength(a->stdin_data, a->stdin_len);
	v = cJSON_GetObjectItemCaseSensitive(in, "cniVersion");
	if (cJSON_IsString(v) && v->valuestring[0])
		ver = v->valuestring;
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "cniVersion", ver);
	list = cJSON_AddArrayToObject(out, "supportedVersions");
	for (int i = 0; sl_supported_versions[i]; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(sl_supported_versions[i]));
	s = cJSON_PrintUnformatted(out);
	fprintf(a->out, "%s\n", s);
	fflush(a->out);
	cJSON_free(s);
	cJSON_Delete(out);
	cJSON_Delete(in);
	return 0;
}

static int check_env(const struct cni_args *a, int needs, struct cni_error *e)
{
	char missing[128] = "";

	if ((needs & NEED_ID) && !a->container_id)
		strcat(missing, " CNI_CONTAINERID");
	if ((needs & NEED_ID) && !a->ifname)
		strcat(missing, " CNI_IFNAME");
	if ((needs & NEED_NETNS) && !a->netns)
		strcat(missing, " CNI_NETNS");
	if ((needs & NEED_PATH) && !a->path)
		strcat(missing, " CNI_PATH");
	if (missing[0])
		return cni_err(e, -EINVAL, CNI_ERR_ENV, "required environment variables missing:%s",
			       missing);
	if (needs & NEED_ID) {
		if (sl_validate_container_id(a->container_id, e) ||
		    sl_validate_ifname(a->ifname, e))
			return -EINVAL;
	}
	return 0;
}

/* The cniVersion to echo in an error, when the config got far enough to have one. */
static const char *guess_version(const struct cni_args *a, const struct sl_conf *c)
{
	static char buf[16];
	cJSON *in, *v;

	if (c->cni_version)
		return c->cni_version;
	in = a->stdin_data ? cJSON_ParseWithLength(a->stdin_data, a->stdin_len) : NULL;
	v = cJSON_GetObjectItemCaseSensitive(in, "cniVersion");
	snprintf(buf, sizeof(buf), "%s",
		 cJSON_IsString(v) && sl_version_supported(v->valuestring) ? v->valuestring
									   : SL_CNI_VERSION_MAX);
	cJSON_Delete(in);
	return buf;
}

int sl_cni_run(const struct cni_args *a)
{
	struct cni_error e = {0};
	struct sl_conf c = {0};
	FILE *log = NULL;
	int i, n = sizeof(cmds) / sizeof(cmds[0]), err;

	if (!a->command) {
		cni_err(&e, -EINVAL, CNI_ERR_ENV,
			"required environment variables missing: CNI_COMMAND");
		goto fail;
	}
	if (!strcmp(a->command, "VERSION"))
		return do_version(a);
	for (i = 0; i < n && strcmp(a->command, cmds[i].name); i++)
		;
	if (i == n) {
		cni_err(
		    &e, -EINVAL, CNI_ERR_ENV,
		    "CNI_COMMAND \"%.32s\": unknown (want ADD, DEL, CHECK, GC, STATUS or VERSION)",
		    a->command);
		goto fail;
	}
	if (sl_conf_parse(a->stdin_data, a->stdin_len, cmds[i].needs & NEED_IPAM, &c, &e))
		goto fail;
	if (c.log_file[0]) {
		log = fopen(c.log_file, "ae");
		if (log)
			sl_log_set_stream(log);
		/* else: keep logging to stderr, which the runtime keeps; ADD still works */
	}
	pr_debug("%s container=%s ifname=%s netns=%s", a->command, a->container_id ?: "",
		 a->ifname ?: "", a->netns ?: "");
	if (c.ver < cmds[i].min_ver) {
		cni_err(&e, -EINVAL, CNI_ERR_VERSION, "%s: not supported by cniVersion %s",
			a->command, c.cni_version);
		goto fail;
	}
	if (check_env(a, cmds[i].needs, &e))
		goto fail;
	err = cmds[i].fn(a, &c, &e);
	if (err)
		goto fail;
	sl_conf_free(&c);
	sl_log_set_stream(NULL);
	if (log)
		fclose(log);
	return 0;
fail:
	cni_err_print(a->out, guess_version(a, &c), &e);
	pr_err("%s %s/%s failed: code %d: %s", a->command ?: "(none)", a->container_id ?: "",
	       a->ifname ?: "", e.code, e.msg);
	sl_conf_free(&c);
	sl_log_set_stream(NULL);
	if (log)
		fclose(log);
	return 1;
}

#ifndef SL_CNI_NO_MAIN /* tests/cni/test_unit.c links this file and has its own main() */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL; /* runtimes set all six, possibly empty: empty = absent */
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 8192, n = 0, r;
	char *buf = malloc(cap + 1), *nb;

	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			if (cap >= (64u << 20))
				break;
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
	}
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

int main(void)
{
	struct cni_args a = {
	    .command = env("CNI_COMMAND"),
	    .container_id = env("CNI_CONTAINERID"),
	    .netns = env("CNI_NETNS"),
	    .ifname = env("CNI_IFNAME"),
	    .args = env("CNI_ARGS"),
	    .path = env("CNI_PATH"),
	    .out = stdout,
	    .environ = environ,
	};
	char *data;
	int rc;

	sl_log_set_stream(stderr); /* never stdout: it carries the result */
	data = isatty(STDIN_FILENO) ? NULL : read_all(stdin, &a.stdin_len);
	a.stdin_data = data;
	rc = sl_cni_run(&a);
	free(data);
	return rc;
}
#endif
