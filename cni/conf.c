// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * conf.c - the request config and the runtime's identifiers: parsed and validated, with an
 * error naming the field. Keys beside the standard ones (DESIGN.md): stateDir, bpffs, logFile,
 * mtu. Unknown keys are ignored (and passed through to the IPAM plugin untouched).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agent_proto.h"
#include "cni.h"

#define DEFAULT_STATE_DIR "/run/sluice"
#define DEFAULT_BPFFS	  "/sys/fs/bpf/sluice"

const char *const sl_supported_versions[] = {"0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL};

int sl_version_parse(const char *s)
{
	unsigned a, b, c;
	int n = 0;

	if (!s || sscanf(s, "%3u.%3u.%3u%n", &a, &b, &c, &n) != 3 || s[n] || b > 99 || c > 99)
		return -1;
	return (int)(a * 10000 + b * 100 + c);
}

bool sl_version_supported(const char *s)
{
	for (int i = 0; s && sl_supported_versions[i]; i++)
		if (!strcmp(s, sl_supported_versions[i]))
			return true;
	return false;
}

/* libcni pkg/utils: ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ */
static bool valid_id(const char *s)
{
	if (!s || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

int sl_validate_container_id(const char *id, struct cni_error *e)
{
	if (!id)
		return cni_err(e, -EINVAL, CNI_ERR_ENV, "CNI_CONTAINERID: missing");
	if (!valid_id(id))
		return cni_err(e, -EINVAL, CNI_ERR_ENV,
			       "CNI_CONTAINERID \"%.64s\": invalid characters (want "
			       "[a-zA-Z0-9][a-zA-Z0-9_.-]*)",
			       id);
	return 0;
}

/* libcni pkg/utils ValidateInterfaceName: <= 15 chars, not . or .., no / : or whitespace. */
int sl_validate_ifname(const char *name, struct cni_error *e)
{
	if (!name)
		return cni_err(e, -EINVAL, CNI_ERR_ENV, "CNI_IFNAME: missing");
	if (strlen(name) > 15)
		return cni_err(e, -EINVAL, CNI_ERR_ENV,
			       "CNI_IFNAME \"%.64s\": longer than 15 characters", name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return cni_err(e, -EINVAL, CNI_ERR_ENV, "CNI_IFNAME \"%s\": not a valid name",
			       name);
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			return cni_err(e, -EINVAL, CNI_ERR_ENV,
				       "CNI_IFNAME \"%s\": contains an invalid character", name);
	return 0;
}

int sl_cni_arg(const char *args, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = args, *end;

	while (p && *p) {
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = (size_t)(end - p) - klen - 1;

			if (n >= size)
				return -ENAMETOOLONG;
			memcpy(buf, p + klen + 1, n);
			buf[n] = '\0';
			return 0;
		}
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}

const cJSON *sl_runtime_config(const struct sl_conf *c, const char *key)
{
	const cJSON *it;

	if (!cJSON_IsObject(c->runtime_config))
		return NULL;
	cJSON_ArrayForEach (it, c->runtime_config)
		if (it->string && !strcasecmp(it->string, key))
			return it;
	return NULL;
}

static int get_path(const cJSON *root, const char *key, const char *def, char *out, size_t size,
		    struct cni_error *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	const char *s = def;

	if (v) {
		if (!cJSON_IsString(v) || !v->valuestring[0])
			return cni_err(e, -EINVAL, CNI_ERR_CONFIG, "%s: must be a non-empty string",
				       key);
		s = v->valuestring;
		if (s[0] != '/')
			return cni_err(e, -EINVAL, CNI_ERR_CONFIG,
				       "%s \"%.200s\": must be an absolute path", key, s);
	}
	if (!s) {
		out[0] = '\0';
		return 0;
	}
	if (strlen(s) >= size - 64) /* room for the names we append */
		return cni_err(e, -ENAMETOOLONG, CNI_ERR_CONFIG, "%s \"%.200s\": path too long",
			       key, s);
	snprintf(out, size, "%s", s);
	return 0;
}

/* A non-empty list under a capability we do not implement is an unsupported field (code 2):
 * silently ignoring a port mapping or a bandwidth limit would be worse than failing. */
static int reject_capability(const struct sl_conf *c, const char *key, struct cni_error *e)
{
	const cJSON *v = sl_runtime_config(c, key);
	char *s;

	if (!v || cJSON_IsNull(v) || (cJSON_IsArray(v) && !cJSON_GetArraySize(v)) ||
	    (cJSON_IsObject(v) && !v->child))
		return 0;
	s = cJSON_PrintUnformatted(v);
	cni_err(e, -EOPNOTSUPP, CNI_ERR_UNSUPPORTED,
		"runtimeConfig.%s %.200s: not supported by sluice", key, s ? s : "");
	cJSON_free(s);
	return -EOPNOTSUPP;
}

static int parse_ipam(struct sl_conf *c, bool need_ipam, struct cni_error *e)
{
	const cJSON *t;
	const char *s;

	c->ipam = cJSON_GetObjectItemCaseSensitive(c->root, "ipam");
	if (!c->ipam) {
		if (need_ipam)
			return cni_err(e, -EINVAL, CNI_ERR_CONFIG,
				       "ipam: missing (sluice needs an IPAM plugin, e.g. "
				       "{\"type\": \"host-local\", ...})");
		return 0;
	}
	if (!cJSON_IsObject(c->ipam))
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG, "ipam: must be an object");
	t = cJSON_GetObjectItemCaseSensitive(c->ipam, "type");
	if (!cJSON_IsString(t) || !t->valuestring[0])
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG, "ipam.type: missing or not a string");
	s = t->valuestring;
	if (strchr(s, '/'))
		return cni_err(e, -EINVAL, CNI_ERR_UNSUPPORTED,
			       "ipam.type \"%.200s\": paths are not supported, name a plugin in "
			       "CNI_PATH",
			       s);
	if (!valid_id(s))
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG,
			       "ipam.type \"%.200s\": not a valid plugin name", s);
	c->ipam_type = s;
	return 0;
}

int sl_conf_parse(const char *data, size_t len, bool need_ipam, struct sl_conf *c,
		  struct cni_error *e)
{
	const cJSON *v;
	const char *end = NULL;
	int err;

	memset(c, 0, sizeof(*c));
	if (!data || !len)
		return cni_err(e, -EINVAL, CNI_ERR_DECODE, "config: empty (stdin had no JSON)");
	c->root = cJSON_ParseWithLengthOpts(data, len, &end, false);
	if (!c->root) {
		end = cJSON_GetErrorPtr();
		return cni_err(e, -EINVAL, CNI_ERR_DECODE, "config: invalid JSON near byte %ld",
			       end ? (long)(end - data) : 0L);
	}
	if (!cJSON_IsObject(c->root))
		return cni_err(e, -EINVAL, CNI_ERR_DECODE, "config: not a JSON object");

	v = cJSON_GetObjectItemCaseSensitive(c->root, "cniVersion");
	if (v && !cJSON_IsString(v))
		return cni_err(e, -EINVAL, CNI_ERR_DECODE, "cniVersion: must be a string");
	if (!v)
		return cni_err(e, -EINVAL, CNI_ERR_VERSION,
			       "cniVersion: missing (supported: 0.3.1, 0.4.0, 1.0.0, 1.1.0)");
	if (!sl_version_supported(v->valuestring))
		return cni_err(e, -EINVAL, CNI_ERR_VERSION,
			       "cniVersion \"%.32s\": not supported (supported: 0.3.1, 0.4.0, "
			       "1.0.0, 1.1.0)",
			       v->valuestring);
	c->cni_version = v->valuestring;
	c->ver = sl_version_parse(c->cni_version);

	v = cJSON_GetObjectItemCaseSensitive(c->root, "name");
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG, "name: missing or not a string");
	if (!valid_id(v->valuestring))
		return cni_err(
		    e, -EINVAL, CNI_ERR_CONFIG,
		    "name \"%.64s\": invalid characters (want [a-zA-Z0-9][a-zA-Z0-9_.-]*)",
		    v->valuestring);
	c->name = v->valuestring;
	v = cJSON_GetObjectItemCaseSensitive(c->root, "type");
	if (v && !cJSON_IsString(v))
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG, "type: must be a string");

	err =
	    get_path(c->root, "stateDir", DEFAULT_STATE_DIR, c->state_dir, sizeof(c->state_dir), e);
	err = err ?: get_path(c->root, "bpffs", DEFAULT_BPFFS, c->bpffs, sizeof(c->bpffs), e);
	err = err ?: get_path(c->root, "logFile", NULL, c->log_file, sizeof(c->log_file), e);
	if (err)
		return err;
	if (snprintf(c->sock_path, sizeof(c->sock_path), "%s/%s", c->state_dir,
		     SL_AGENT_SOCK_NAME) >= 108) /* sizeof(sun_path) */
		return cni_err(e, -ENAMETOOLONG, CNI_ERR_CONFIG,
			       "stateDir \"%s\": too long for a Unix socket path", c->state_dir);

	v = cJSON_GetObjectItemCaseSensitive(c->root, "mtu");
	if (v) {
		/* range first: casting an out-of-range double to int is undefined (fuzzer) */
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 68 && v->valuedouble <= 65535) ||
		    v->valuedouble != (double)(int)v->valuedouble)
			return cni_err(e, -EINVAL, CNI_ERR_CONFIG,
				       "mtu: must be an integer from 68 to 65535");
		c->mtu = (int)v->valuedouble;
	}

	v = cJSON_GetObjectItemCaseSensitive(c->root, "runtimeConfig");
	if (v && !cJSON_IsObject(v) && !cJSON_IsNull(v))
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG, "runtimeConfig: must be an object");
	c->runtime_config = v;
	err = reject_capability(c, "portMappings", e);
	err = err ?: reject_capability(c, "bandwidth", e);
	if (err)
		return err;

	v = cJSON_GetObjectItemCaseSensitive(c->root, "prevResult");
	if (v && !cJSON_IsObject(v) && !cJSON_IsNull(v))
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG, "prevResult: must be an object");
	c->prev_result = cJSON_IsObject(v) ? v : NULL;

	v = cJSON_GetObjectItemCaseSensitive(c->root, "cni.dev/valid-attachments");
	if (v && !cJSON_IsArray(v))
		return cni_err(e, -EINVAL, CNI_ERR_CONFIG,
			       "cni.dev/valid-attachments: must be an array");
	c->valid_attachments = v;

	return parse_ipam(c, need_ipam, e);
}

void sl_conf_free(struct sl_conf *c)
{
	cJSON_Delete(c->root);
	c->root = NULL;
}
